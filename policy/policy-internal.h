/* The layout of a compiled policy, shared by the loader (load.c), the
 * variable expander (vars.c) and the matcher (match.c). Nothing outside
 * policy/ includes this file. */
#ifndef TG_POLICY_INTERNAL_H
#define TG_POLICY_INTERNAL_H

#include <stdarg.h>

#include "tg-glob.h"
#include "tg-policy.h"

/* Specificity given to the guard's own protections: above any pattern. */
#define TG_PREFIX_BUILTIN 0x7fffffffu

/* Bump allocator: everything a policy owns lives until tg_policy_free. */
struct tg_pool {
	struct tg_chunk *head;
};
void *tg_pool_alloc(struct tg_pool *pool, size_t n);
char *tg_pool_strdup(struct tg_pool *pool, const char *s);
char *tg_pool_strndup(struct tg_pool *pool, const char *s, size_t n);
void tg_pool_free(struct tg_pool *pool);

/* How an alternative matches: most patterns are a path or a tree, which
 * the index alone decides without running the glob. */
enum tg_pat_kind {
	TG_PAT_EXACT, /* "/a/b": exactly that path */
	TG_PAT_TREE,  /* "/a/b" + slash-star-star: that path and everything beneath */
	TG_PAT_GLOB,  /* anything else: the glob decides */
};

/* One brace-free alternative of one pattern of one rule. */
struct tg_pat {
	struct tg_glob *glob;
	const char *lit; /* literal prefix of the alternative */
	size_t litlen;
	enum tg_pat_kind kind;
	const char *key; /* the index key: LIT and a slash for a path or a tree,
			  * else LIT up to its last slash */
	size_t anchor;   /* length of KEY */
	const struct tg_rule *rule;
	const char *pattern; /* the rule's pattern as expanded (for records and explain) */
	unsigned prefix, wildcards; /* specificity of PATTERN */
};

/* Hash index from an anchor (a literal directory prefix ending in '/') to
 * the alternatives anchored there. */
struct tg_slot {
	uint64_t hash;
	const char *key;
	size_t keylen;
	uint32_t first, count; /* range in tg_policy.order */
};

struct tg_policy {
	struct tg_pool pool;
	struct tg_rule **rules; /* each allocated from the pool: patterns point at them */
	size_t nrules, caprules;
	struct tg_pat *pats;
	size_t npats, cappats;
	uint32_t *order;      /* pattern indices grouped by anchor */
	struct tg_slot *slots;
	size_t nslots;        /* power of two, or 0 */
	/* Bit N set when some key is N bytes long: a lookup probes only there. */
	uint64_t keylens[TG_GLOB_MAX / 64 + 2];

	bool defaults[TG_NCLASS];
	unsigned defaults_set; /* classes the policy itself set */
	enum tg_mode mode;
	bool lock_mode;
	const char *log_path;
	bool log_allowed;
	bool deny_unguarded;
	const char *source;
	char sha256[65];
	const char **files;
	size_t nfiles, capfiles;
	const char *frozen;
	struct tg_rule self_rule;
};

/* FNV-1a, the hash the index uses, continued from H over N bytes. */
static inline uint64_t tg_hash_step(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}
#define TG_HASH_INIT 0xcbf29ce484222325ULL

/* Builds the index after every pattern was added (match.c). */
int tg_policy_index(struct tg_policy *p);

/* Variable expansion (vars.c). */
struct tg_vars;
int tg_vars_new(struct tg_vars **ret, const char *frozen, const char *job_id);
void tg_vars_free(struct tg_vars *v);
/* Adds a policy variable NAME = VALUE (already expanded). */
int tg_vars_define(struct tg_vars *v, const char *name, const char *value);
/* Expands IN into a new string (malloc'd, caller frees) in *RET. On failure
 * writes a message into ERR and returns -EINVAL. */
int tg_vars_expand(struct tg_vars *v, const char *in, char **ret, char *err, size_t errsz);
/* The frozen form of every builtin and ENV variable looked up so far. */
char *tg_vars_frozen(struct tg_vars *v);

/* Edit distance for "did you mean" (names.c). Returns the closest of
 * CANDIDATES (NULL-terminated) within distance 2, or NULL. */
const char *tg_suggest(const char *word, const char *const *candidates);
int tg_errno_parse(const char *s);

#endif
