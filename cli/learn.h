/* trainguard learn: what its files share. The log reader (learn-log.c)
 * turns records into one entry per distinct real path with the classes
 * used there; the drafter (learn-draft.c) generalizes the entries that
 * need a rule into patterns; learn-write.c writes the draft's text;
 * cmd-learn.c decides every access, checks the draft with the library and
 * runs the command; learn-tighten.c is --tighten. */
#ifndef TG_CLI_LEARN_H
#define TG_CLI_LEARN_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "tg-policy.h"

#define LEARN_MAX_PROCS 4 /* processes named per path */

/* One distinct real path of the logs. */
struct learn_path {
	char *path;
	unsigned used;         /* classes some record used on it */
	long count[TG_NCLASS]; /* accesses per class (record counts) */
	bool created, removed; /* a create; a delete without create (unlink, rename source) */
	int mode;              /* OR of the modes created here, or -1 when unknown */
	bool mode_unknown;     /* created at least once with no known mode */
	char *procs[LEARN_MAX_PROCS]; /* "python3.11 (pid 12: /usr/bin/python3 job.py)" */
	size_t nprocs;
	/* Filled by cmd-learn.c: */
	unsigned need;   /* classes the starting policy denies */
	unsigned secret; /* classes the secrets profile denies */
	const char *secret_rule[TG_NCLASS];
	/* What the records named for their decided class (for --tighten). */
	char *rule_seen;
	int rule_seen_class; /* or -1 */
};

/* Everything read from the logs. */
struct learn_log {
	struct learn_path **paths; /* sorted by path after tg_learn_log_finish */
	size_t n, cap;
	size_t records, decisions, skipped;
	size_t by_decision[4]; /* learn, allow, would_deny, deny */
	bool complete;         /* every allowed access is in the log (learn, log.allowed) */
	/* The job's values, from the records (NULL: not recorded). */
	char *job_id, *pwd;
	long long pwd_time;
	bool several_jobs;
	/* Records naming a rule written with "~/" (to infer HOME). */
	char **rule_patterns; /* pairs: rule id, expanded pattern */
	size_t nrule_patterns;
};

/* Reads the JSON-lines log FILE into L. Returns 0, or -errno with a
 * message printed. */
int tg_learn_log_read(struct learn_log *l, const char *file);
/* Sorts L's paths; call once after the last read. */
void tg_learn_log_finish(struct learn_log *l);
void tg_learn_log_free(struct learn_log *l);
/* The entry for PATH, or NULL. */
struct learn_path *tg_learn_log_find(const struct learn_log *l, const char *path);

/* The job's variable values, longest first when substituting. */
struct learn_vars {
	const char *home, *pwd, *tmpdir, *job_id;
};

/* One generalized pattern and what it covers. */
struct learn_pattern {
	char *real; /* the pattern on real paths (a folder pattern of "/a/b") */
	char *text; /* as written in the draft (with "${PWD}" for "/a") */
	unsigned classes;
	long count[TG_NCLASS];
	size_t npaths; /* distinct paths covered (the most of any class) */
	size_t covered[TG_NCLASS];
	char *procs[LEARN_MAX_PROCS];
	size_t nprocs;
	int mode;          /* create_mode to set, or -1 */
	bool mode_partial; /* some created path had no known mode */
};

struct learn_draft_opts {
	unsigned siblings; /* a folder with this many touched entries becomes a folder pattern */
	const struct learn_vars *vars;
	const char *const *keep; /* folders never generalized (lint found a secret under them) */
	size_t nkeep;
	const struct learn_log *all; /* where to look paths up (NULL: the log generalized) */
};

/* Generalizes the classes in NEED of L's paths into patterns (see the
 * top of learn-draft.c). Stores a new array in *RET (free with
 * tg_learn_patterns_free) and returns its length, or -ENOMEM. */
int tg_learn_generalize(const struct learn_log *l, const struct learn_draft_opts *o,
			struct learn_pattern **ret);
void tg_learn_patterns_free(struct learn_pattern *p, size_t n);

/* PATH written with the variables of V ("${PWD}/data"), and glob
 * characters escaped, as a new string; NULL on ENOMEM. */
char *tg_learn_substitute(const char *path, const struct learn_vars *v);

/* S as a libconfig string body (quotes and backslashes escaped), into a
 * new string; NULL on ENOMEM. */
char *tg_learn_cfg_quote(const char *s);

/* Adds NAME to the process list PROCS (N entries) when it is new. */
void tg_learn_add_proc(char **procs, size_t *n, const char *name);

/* One run of the command: its options and what it found. */
#define TG_LEARN_MAX_KEEP 256
struct learn {
	const char *base, *output, *tighten;
	const char *home_opt, *pwd_opt, *tmpdir_opt, *job_opt;
	unsigned siblings;
	bool no_disk;
	struct tg_overrides ov; /* the job's values, for every load */
	char *ov_args[8];
	size_t nov_args;
	struct learn_vars vars;
	char *home_inferred;
	struct learn_log log;
	char **logs;
	int nlogs;
	char *keep[TG_LEARN_MAX_KEEP];
	size_t nkeep;
};

/* Loads FILE (NULL: the embedded profile EMBEDDED) with the job's values;
 * NULL when it does not load (errors printed). (cmd-learn.c) */
struct tg_policy *tg_learn_load(struct learn *x, const char *file, const char *embedded,
				bool quiet_warnings);

/* The text of a draft without --base: profiles and defaults, the rules
 * list left to the caller. (learn-write.c) */
extern const char tg_learn_skeleton[];
/* The whole draft: the header comment, BASE_TEXT (NULL: the skeleton)
 * with EXEC_RULE (may be NULL) and the rules of PATS added, and the review
 * items, whose number goes to *RET_REVIEW. A new string; NULL on ENOMEM. */
char *tg_learn_render(struct learn *x, const char *base_text, const char *exec_rule,
		      const struct learn_pattern *pats, size_t n, size_t *ret_review);
/* The contents of the file PATH as a new string; NULL with errno set. */
char *tg_learn_read_text(const char *path);

/* --tighten: prints the rules of x->tighten that the logs show unused or
 * broader than used. Returns the exit status. (learn-tighten.c) */
int tg_learn_tighten(struct learn *x);

#endif
