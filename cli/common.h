/* What every command of trainguard shares: the command table entry, exit
 * statuses, usage errors and loading a policy with messages for people.
 *
 * A command is one file, cmd-NAME.c, defining one `struct tg_command`;
 * main.c lists them. Only cli/ talks to people: messages go to stderr,
 * quote paths in single quotes and say what to do next. */
#ifndef TG_CLI_COMMON_H
#define TG_CLI_COMMON_H

#include <stdbool.h>
#include <stdio.h>

#include "tg-policy.h"

/* Exit statuses of trainguard itself (run passes the job's through). */
enum {
	TG_EXIT_INVALID = 1,    /* check: a policy is invalid; explain: denied */
	TG_EXIT_USAGE = 2,      /* check/explain/help: bad command line or policy */
	TG_EXIT_RUN_FAIL = 125, /* run: trainguard's own failure, bad usage */
	TG_EXIT_NO_START = 126, /* run: the guard could not start, or CMD not executable */
	TG_EXIT_NOT_FOUND = 127,
};

/* One command. RUN gets argv with the command name as argv[0]. USAGE is
 * the full text `trainguard help NAME` and `NAME --help` print; SYNOPSIS
 * its first lines, which `trainguard --help` lists. Both end in a newline
 * and say what trainguard(1) says. */
struct tg_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
	const char *usage;
};

extern const struct tg_command tg_cmd_run, tg_cmd_check, tg_cmd_explain, tg_cmd_doctor,
	tg_cmd_report, tg_cmd_verify, tg_cmd_learn, tg_cmd_lineage;

/* "trainguard: CMD: message" and a pointer to CMD's help, on stderr. */
void tg_usage_error(const struct tg_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* True when ARG asks for help ("--help" or "-h"). */
bool tg_is_help(const char *arg);

/* Loading a policy as the library does, with every message printed. */
struct tg_diag_count {
	bool warnings; /* print warnings and notes (else only errors) */
	int errors, nwarnings;
	/* Messages naming this file are shown naming DISPLAY instead: the
	 * temporary copy of a policy read from standard input. */
	const char *rename_from, *rename_from_real, *rename_to;
};
void tg_print_diag(enum tg_diag_level lvl, const char *msg, void *ud);

/* The load options run, check and explain share: FILE (NULL: the embedded
 * ml-default), the job's frozen variables when TRAINGUARD_VARS is set, the
 * job id JID and tg_print_diag into D. */
struct tg_load_opts tg_load_opts_for(const char *file, const char *jid, struct tg_diag_count *d);

/* Loads with tg_load_opts_for; NULL when the policy did not load (its
 * errors were printed). */
struct tg_policy *tg_load(const char *file, const char *jid, struct tg_diag_count *d);

/* Values given on the command line (--var NAME=VALUE, --env NAME=VALUE)
 * for the variables a policy expands: check and explain take them so a
 * policy that reads ${ENV:...} or ${HOME} can be checked anywhere. */
#define TG_MAX_OVERRIDES 64
struct tg_overrides {
	struct {
		char *name; /* "HOME", "ENV:DATA_ROOT" */
		const char *value;
	} v[TG_MAX_OVERRIDES];
	size_t n;
	const char *job_id; /* --var JOB_ID=... */
};
/* Parses ARG ("NAME=VALUE"; with ENV, NAME is an environment variable).
 * Prints a usage error for CMD and returns -EINVAL when it is not one. */
int tg_override_add(struct tg_overrides *o, const struct tg_command *cmd, const char *arg,
		    bool env);

void tg_overrides_free(struct tg_overrides *o);

/* Loads with OPTS (diag included) and the values of OV. Returns 0 with
 * the policy in *RET, or the loader's -errno (errors printed). When
 * RET_FROZEN is not NULL it receives the frozen variables the load used
 * (NULL: the environment; free it). */
int tg_load_overridden(const struct tg_load_opts *opts, const struct tg_overrides *ov,
		       struct tg_policy **ret, char **ret_frozen);

/* A rule's SOURCE file as the user named it, into OUT: the policy as
 * TYPED when SOURCE is its real path REAL (may be NULL), a file beside it
 * (an include, a local profile) under the folder name TYPED has, and
 * anything else ("profile:secrets") as it is. */
void tg_show_source(const char *typed, const char *real, const char *source, char *out, size_t cap);

/* S with every occurrence of FROM shown as TO, in BUF (CAP bytes; not
 * overlapping S): for messages naming a temporary file. Returns S when
 * FROM is NULL or absent or the result does not fit. */
const char *tg_rename_in(const char *s, const char *from, const char *to, char *buf, size_t cap);

#endif
