/* The loader's shared state and its diagnostics, for the files that make
 * up the loader: load.c (files, profiles, the walk of the top-level keys),
 * load-keys.c (one function per top-level key), rule.c (rules and their
 * patterns) and compile.c (patterns into the index's alternatives). Nothing
 * outside the loader includes this file. */
#ifndef TG_LOAD_INTERNAL_H
#define TG_LOAD_INTERNAL_H

#include <libconfig.h>

#include "policy-internal.h"
#include "tg-sha256.h"

#define TG_MAX_PROFILE_DEPTH 8
#define TG_MAX_ERRORS        50

struct loader {
	struct tg_policy *p;
	struct tg_vars *vars;
	const struct tg_load_opts *o;
	int errors;
	struct tg_sha256 sha;
	const char *loaded[64]; /* profile names already loaded */
	size_t nloaded;
	bool pdefault[TG_NCLASS];
	unsigned pdefault_set;
	struct tg_strmap ids;   /* rule ids so far (keys borrowed from the rules) */
	struct tg_strmap canon; /* folders resolved so far (real_folder; keys and values owned) */
};

/* One source being read: its name in messages and records. */
struct source {
	const char *display; /* as messages show it */
	const char *record;  /* as records and explain show it */
	const char *dir;     /* folder for NAME.cfg profiles, or NULL */
	bool is_profile;
};

/* Reports "FILE:LINE: message" (LINE 0: "FILE: message") through the
 * caller's callback; errors past TG_MAX_ERRORS are counted, not shown. */
void tg_report(struct loader *L, enum tg_diag_level lvl, const char *file, int line,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static inline int tg_line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

#define ERR(L, src, s, ...) tg_report(L, TG_DIAG_ERROR, (src)->display, tg_line_of(s), __VA_ARGS__)
#define WARN(L, src, s, ...) \
	tg_report(L, TG_DIAG_WARNING, (src)->display, tg_line_of(s), __VA_ARGS__)

/* " (did you mean "x"?)", naming the closest of CANDS to WORD, or "". */
const char *tg_hint(char *buf, size_t n, const char *word, const char *const *cands);
/* Reports every key of GROUP that ALLOWED (NULL-terminated) does not name;
 * WHAT prefixes the message ("rule: "). FOUND (NULL, or one slot per
 * allowed key) gets each allowed key's setting, or NULL: one pass over the
 * group instead of a libconfig lookup per key. */
void tg_check_keys(struct loader *L, const struct source *src, config_setting_t *group,
		   const char *const *allowed, const char *what, config_setting_t **found);
/* The string S holds, or NULL after reporting that WHAT must be one. */
const char *tg_get_string(struct loader *L, const struct source *src, config_setting_t *s,
			  const char *what);
/* The number of elements of S, a single value counting as a list of one;
 * -1 when S is a group or another scalar. tg_elem(S, i) is element I. */
int tg_list_length(const config_setting_t *s);
config_setting_t *tg_elem(config_setting_t *s, int i);
/* Files PATH among the policy's files (once); false when out of memory. */
bool tg_add_file(struct tg_policy *p, const char *path);

/* A top-level key (load-keys.c): NAME, whether only the job's policy may
 * set it (a profile that does is refused), the function that reads its
 * setting S of the source SRC at profile depth DEPTH, and the error when
 * it is missing (NULL: it is optional). The walk calls them in table
 * order, which is the order they depend on one another in: vars before
 * what expands variables, profiles before defaults and rules. The table
 * ends with a NULL name. */
struct tg_top_key {
	const char *name;
	bool job_only;
	void (*parse)(struct loader *L, const struct source *src, config_setting_t *s, int depth);
	const char *missing;
};
extern const struct tg_top_key tg_top_keys[];

/* Loads profile NAME, named by setting E of FROM (load.c). */
void tg_load_profile(struct loader *L, const struct source *from, config_setting_t *e,
		     const char *name, int depth);
/* Reads the rule S (rule.c). */
void tg_parse_rule(struct loader *L, const struct source *src, config_setting_t *s);

/* Compiles the brace-free alternative ALT of PATTERN for RULE into the
 * policy's alternatives (compile.c). Returns 0, -ENOMEM, or -EINVAL with
 * the reason in ERR. */
int tg_add_alternative(struct tg_policy *p, const struct tg_rule *rule, const char *pattern,
		       const char *alt, unsigned prefix, unsigned wildcards, char *err,
		       size_t errsz);
/* ALT with its literal folders resolved to their real path
 * ("/var/run/secrets/x*" -> "/run/secrets/x*"), malloc'd; NULL when it is
 * canonical already or cannot be resolved (warned about: S is the setting
 * it came from). */
char *tg_canonical_alternative(struct loader *L, const struct source *src, config_setting_t *s,
			       const char *alt);
/* The guard's own protection of PATH (escaped) and SUFFIX, which no rule
 * lifts. Returns 0 or -ENOMEM. */
int tg_add_builtin(struct tg_policy *p, const char *path, const char *suffix);
/* Warns about same patterns one rule allows and another denies. */
void tg_warn_conflicts(struct loader *L);

#endif
