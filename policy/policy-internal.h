/* The layout of a compiled policy and the library's internal interfaces,
 * shared by the loader (load*.c, rule.c, compile.c), the variable expander
 * (vars.c), the matcher (match.c, memo.c), the word tables (names.c) and
 * the allocator (pool.c). Nothing outside policy/ includes this file. */
#ifndef TG_POLICY_INTERNAL_H
#define TG_POLICY_INTERNAL_H

#include <stdarg.h>
#include <string.h>

#include "tg-glob.h"
#include "tg-policy.h"

/* Specificity given to the guard's own protections: above any pattern. */
#define TG_PREFIX_BUILTIN 0x7fffffffu

/* Bump allocator (pool.c): everything a policy owns lives until
 * tg_policy_free. Memory comes zeroed; NULL when out of memory. */
struct tg_pool {
	struct tg_chunk *head;
	struct tg_region *region; /* where chunks come from (NULL: malloc) */
};
void *tg_pool_alloc(struct tg_pool *pool, size_t n);
char *tg_pool_strdup(struct tg_pool *pool, const char *s);
char *tg_pool_strndup(struct tg_pool *pool, const char *s, size_t n);
void tg_pool_free(struct tg_pool *pool);

/* The region a policy is loaded into when it may be handed to children
 * (region.c): one reserved range of addresses the policy's memory is
 * carved from, so that a copy mapped at the same address is the same graph
 * of pointers. Its first TG_REGION_HEAD bytes are the caller's. */
#define TG_REGION_HEAD TG_POLICY_HEAD
struct tg_region;
/* A new region, or NULL. tg_region_free unmaps it. */
struct tg_region *tg_region_new(void);
void tg_region_free(struct tg_region *r);
/* Allocation for what a policy keeps, from R (NULL: malloc, calloc,
 * realloc, free). Memory comes zeroed from tg_mem_alloc; what R cannot hold
 * spills to malloc (R is then not handed on); freeing a block of R does
 * nothing (the region goes as a whole). */
void *tg_mem_alloc(struct tg_region *r, size_t n);
void *tg_mem_realloc(struct tg_region *r, void *old, size_t n);
void tg_mem_free(struct tg_region *r, void *p);
/* N bytes from R that are never reallocated nor freed alone (the pool's):
 * no size is kept before them. NULL when R is NULL, closed or full. */
void *tg_mem_alloc_raw(struct tg_region *r, size_t n);

/* The file PATH as a NUL-terminated string (malloc'd), its length in
 * *LEN; NULL and errno on failure (load.c). */
char *tg_slurp(const char *path, size_t *len);

/* An open-addressing map from strings (pool.c), for the loader's
 * bookkeeping. The caller fills an empty entry (KEY NULL) it is handed and
 * counts it in N. */
struct tg_strent {
	const char *key; /* NULL: empty */
	char *val;
	int err;
};
struct tg_strmap {
	struct tg_strent *e;
	size_t n, cap; /* CAP a power of two */
};
/* The entry for KEY: the one holding it, or the empty one where it goes.
 * NULL when the map cannot grow. */
struct tg_strent *tg_strmap_slot(struct tg_strmap *m, const char *key);
/* Frees the map, and its keys and values when OWNED. */
void tg_strmap_free(struct tg_strmap *m, bool owned);

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
	const char *pattern;        /* the rule's pattern as expanded (for records and explain) */
	unsigned prefix, wildcards; /* specificity of PATTERN */
	/* How a glob treats the entries of one folder (see tg_children_alike):
	 * the alternative, less a trailing slash-star-star (TREE), is a folder
	 * part DIRGLOB (NULL: the root) and a last name, which is "*" when
	 * NAME_ANY. OPAQUE when it cannot be split so (a "**" in the last name). */
	struct tg_glob *dirglob;
	struct tg_glob *nameglob; /* the last name, when it has a wildcard */
	const char *name;         /* the last name, when it is literal (NAME_LIT), or what
				   * follows its one leading '*' (NAME_SUFFIX) */
	size_t namelen;
	enum { NAME_GLOB, NAME_LIT, NAME_SUFFIX } ntest;
	int nlast; /* the byte every name it matches ends with, or -1 */
	/* NAME_SUFFIX of at most 8 bytes: the last 8 bytes of a name of 8 or
	 * more, masked with TAILMASK, equal TAILWORD when it ends so. */
	uint64_t tailword, tailmask;
	bool opaque, tree, name_any;
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
	struct tg_region *region; /* NULL: the policy lives on the heap */
	struct tg_pool pool;
	struct tg_rule **rules; /* each allocated from the pool: patterns point at them */
	size_t nrules, caprules;
	struct tg_pat *pats;
	size_t npats, cappats;
	uint32_t *order; /* pattern indices grouped by anchor */
	struct tg_slot *slots;
	size_t nslots; /* power of two, or 0 */
	/* Bit N set when some key is N bytes long: a lookup probes only there. */
	uint64_t keylens[TG_GLOB_MAX / 64 + 2];
	/* Hashes (anchor_hash, low bit set) of the folders some key names an
	 * entry of: "/a/" for the key "/a/b/". A power-of-two open set. */
	uint64_t *parents;
	size_t nparents;
	/* The alternatives whose rule denies anything, by literal prefix
	 * (then index): what moving a folder away would take along. */
	uint32_t *denying;
	size_t ndenying;
	struct tg_memo *memo; /* verdicts by folder (memo.c); NULL: none */
	bool no_memo;         /* tg_policy_set_memo(p, false) */

	bool defaults[TG_NCLASS];
	unsigned defaults_set; /* classes the policy itself set */
	enum tg_mode mode;
	bool lock_mode;
	enum tg_fence_mode fence_landlock, fence_seccomp;
	const char *log_path;
	bool log_allowed;
	bool no_digests;      /* log.digests = "none" */
	long long digest_max; /* log.digest_max in bytes; 0: no limit */
	bool deny_unguarded;
	const char *source;
	char sha256[65];
	const char **files;
	size_t nfiles, capfiles;
	/* The sources SHA256 covers, in the order it read them: "f" and a
	 * file's real path, or "p" and the name of a shipped profile. */
	const char **hashed;
	size_t nhashed, caphashed;
	bool unhashed; /* a source was parsed without being hashed */
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

/* The hash of an index key of N bytes. */
static inline uint64_t tg_anchor_hash(const char *s, size_t n)
{
	return tg_hash_step(TG_HASH_INIT, s, n);
}

/* Builds the index after every pattern was added (index.c). */
int tg_policy_index(struct tg_policy *p);

/* Whether the policy decides every entry of PATH's folder by its last name
 * alone (match.c). PATH is normalized. Returns -1 when it does not: a key
 * names an entry of the folder, or a glob tells entries apart in a way
 * tg_children_alike cannot follow, or more than TG_MEMO_EXCEPT globs do.
 * Else returns the number of exceptions and their pattern indices in EXC:
 * globs that match the entries whose last name they name
 * (a ".git" tree anywhere, "*.bin" beneath /data) and no
 * other; every other pattern matches all the folder's entries or none. */
#define TG_MEMO_EXCEPT 16
int tg_children_alike(const struct tg_policy *p, const char *path, size_t len, uint32_t *exc);
/* True when entry NAME (NLEN bytes, not empty) of a folder is one the
 * glob of pattern index I names. On the memo's lookup, once per exception:
 * the last byte turns most names away, a literal name or a "*.ext" is a
 * memcmp, only other shapes run the glob. */
static inline bool tg_name_test(const struct tg_pat *t, const char *name, size_t nlen)
{
	switch (t->ntest) {
	case NAME_LIT:
		return t->namelen == nlen && memcmp(t->name, name, nlen) == 0;
	case NAME_SUFFIX:
		if (t->tailmask && nlen >= 8) {
			uint64_t w;
			memcpy(&w, name + nlen - 8, sizeof(w));
			return ((w ^ t->tailword) & t->tailmask) == 0;
		}
		return t->namelen <= nlen &&
		       memcmp(t->name, name + nlen - t->namelen, t->namelen) == 0;
	default:
		return tg_glob_match(t->nameglob, name, nlen);
	}
}

static inline bool tg_name_excepted(const struct tg_policy *p, uint32_t i, const char *name,
				    size_t nlen)
{
	const struct tg_pat *t = &p->pats[i];

	if (t->nlast >= 0 && (unsigned char)name[nlen - 1] != t->nlast)
		return false;
	return tg_name_test(t, name, nlen);
}

/* The memo of verdicts by folder (memo.c). tg_memo_get looks for the
 * verdict of CLASSES on the entries of the folder PATH[0..DIRLEN) (DIRLEN
 * counts its last slash); tg_memo_put files one. Lock-free: entries are
 * guarded by sequence counters, a busy entry is a miss. */
struct tg_memo *tg_memo_new(void);
void tg_memo_free(struct tg_memo *m);
void tg_memo_clear(struct tg_memo *m);
struct tg_memo_hit {
	struct tg_verdict v; /* the verdict of an entry no exception names */
	/* ONE[i]: the verdict of an entry exception i alone names, the usual
	 * case (a shard "*.bin" is no "config.json"), so it costs a copy. */
	struct tg_verdict one[TG_MEMO_EXCEPT];
	unsigned nexc;
	uint32_t exc[TG_MEMO_EXCEPT]; /* as tg_children_alike gave them */
	/* The last byte of the names exception i matches in LAST[i], unless
	 * bit i of ANYLAST is set; LASTMASK has bit (byte % 64) of each. A
	 * name is tested against the exceptions only when its last byte is in
	 * LASTMASK, and then only against those its last byte allows. */
	uint8_t last[TG_MEMO_EXCEPT];
	uint32_t anylast;
	uint64_t lastmask;
	/* The most specific pattern of each class, the exceptions left out
	 * (NULL: none; the default decides): what V was concluded from. */
	const struct tg_pat *win[TG_NCLASS];
};
/* The verdict on CLASSES of a path that WIN's patterns and the NADD
 * patterns ADD (indices) match, and no other (match.c). */
void tg_verdict_with(const struct tg_policy *p, const struct tg_pat *const *win,
		     const uint32_t *add, unsigned nadd, unsigned classes, struct tg_verdict *ret);
/* The verdict filed for folder DIR (DIRLEN bytes, its last slash
 * included) and CLASSES, for its entry NAME (NLEN bytes): the folder's
 * verdict, or when some of the exceptions filed with it name NAME, the
 * folder's winners and those exceptions concluded. */
bool tg_memo_get(const struct tg_policy *p, const char *dir, size_t dirlen, const char *name,
		 size_t nlen, unsigned classes, struct tg_verdict *ret);
void tg_memo_put(struct tg_memo *m, const char *path, size_t dirlen, unsigned classes,
		 const struct tg_memo_hit *h);

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

/* The words of one enum of the policy language (names.c): WORD is
 * NULL-terminated, in the order messages list them; VALUE[i] is what
 * WORD[i] stands for. */
struct tg_words {
	const char *const *word;
	const int *value;
};
extern const struct tg_words tg_class_words;      /* "read".."list" -> TG_BIT(c); "all" -> TG_ALL */
extern const struct tg_words tg_mode_words;       /* "enforce", "audit", "learn" */
extern const struct tg_words tg_fence_mode_words; /* "auto", "require", "off" */
extern const struct tg_words tg_on_deny_words;    /* "error", "kill", "quiet" */
extern const struct tg_words tg_severity_words;   /* "informational" ... "critical" */
extern const struct tg_words tg_errno_words;      /* the errnos a rule may name */
extern const struct tg_words tg_decision_words;   /* "allow" -> true, "deny" -> false */
/* Stores the value of WORD in *RET and returns 0, or returns -EINVAL. */
int tg_words_parse(const struct tg_words *t, const char *word, int *ret);
/* The word for VALUE, or NULL. */
const char *tg_words_name(const struct tg_words *t, int value);
/* The words of T as a message lists them, "a, b" LAST_SEP "c", in BUF. */
const char *tg_words_list(const struct tg_words *t, const char *last_sep, char *buf, size_t n);
/* The errno a rule may name as S ("EROFS"), or -EINVAL. */
int tg_errno_parse(const char *s);

/* Edit distance for "did you mean" (names.c). Returns the closest of
 * CANDIDATES (NULL-terminated) within distance 2, the first of equally
 * close ones, or NULL. */
const char *tg_suggest(const char *word, const char *const *candidates);

#endif
