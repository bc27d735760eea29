/* Compilation: a rule's expanded patterns into the alternatives the index
 * is built from (match.c builds it), each compiled to a glob and sorted by
 * how the index can decide it: an exact path, a tree, or a glob to run.
 *
 * Also the guard's own protections (the policy's files, the log, the
 * library: patterns no rule can lift), the resolving of literal folders
 * through symlinks ("/var/run" is "/run") so that a rule catches the path
 * the guard sees, and the warning about equally specific rules that
 * disagree. Everything is allocated from the policy's pool. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load-internal.h"

/* Compiles PATTERN into *RET as tg_glob_compile does, into the policy's
 * region when it has one (a glob is one block: it moves by a copy). */
static int compile_glob(struct tg_policy *p, const char *pattern, struct tg_glob **ret, char *err,
			size_t errsz)
{
	struct tg_glob *g;
	int r = tg_glob_compile(pattern, &g, err, errsz);

	if (r < 0 || !p->region) {
		if (r == 0)
			*ret = g;
		return r;
	}
	void *mem = tg_mem_alloc(p->region, tg_glob_size(g));
	if (!mem) {
		tg_glob_free(g);
		return -ENOMEM;
	}
	*ret = tg_glob_copy(g, mem);
	tg_glob_free(g);
	return 0;
}

/* Frees a glob compile_glob made. */
static void free_glob(struct tg_policy *p, struct tg_glob *g)
{
	if (!p->region)
		tg_glob_free(g);
	else
		tg_mem_free(p->region, g);
}

static struct tg_pat *new_pat(struct tg_policy *p)
{
	if (p->npats == p->cappats) {
		size_t cap = p->cappats ? p->cappats * 2 : 64;
		struct tg_pat *a = tg_mem_realloc(p->region, p->pats, cap * sizeof(*a));
		if (!a)
			return NULL;
		p->pats = a;
		p->cappats = cap;
	}
	struct tg_pat *t = &p->pats[p->npats++];
	memset(t, 0, sizeof(*t));
	return t;
}

/* Fills T's view of one folder's entries (see tg_children_alike) from the
 * glob alternative ALT (LEN bytes): a folder part compiled into T->dirglob
 * and a last name without "**". Anything else leaves T opaque. */
static int split_glob(struct tg_policy *p, struct tg_pat *t, const char *alt, size_t len)
{
	struct tg_glob_parts parts;
	char part[TG_GLOB_MAX + 1];

	t->opaque = true;
	bool split = tg_glob_split(alt, len, &parts);
	t->tree = parts.tree;
	if (!split)
		return 0;
	const char *name = alt + parts.slash + 1;
	size_t nlen = parts.len - parts.slash - 1;
	t->name_any = parts.name_any;
	t->nlast = -1;
	if (parts.name_literal) {
		t->namelen = nlen;
		t->ntest = NAME_LIT;
		if (!(t->name = tg_pool_strndup(&p->pool, name, nlen)))
			return -ENOMEM;
		t->nlast = nlen ? (unsigned char)name[nlen - 1] : -1;
	} else {
		/* "*.pt": a suffix, compared without the glob. */
		if (nlen > 1 && name[0] == '*' && name[1] != '*' && !memchr(name, '\\', nlen) &&
		    tg_glob_literal_prefix(name + 1, nlen - 1) == nlen - 1) {
			t->ntest = NAME_SUFFIX;
			t->namelen = nlen - 1;
			if (!(t->name = tg_pool_strndup(&p->pool, name + 1, nlen - 1)))
				return -ENOMEM;
			if (t->namelen <= 8) {
				char w[8] = { 0 }, m[8] = { 0 };
				memcpy(w + 8 - t->namelen, t->name, t->namelen);
				memset(m + 8 - t->namelen, 0xff, t->namelen);
				memcpy(&t->tailword, w, 8);
				memcpy(&t->tailmask, m, 8);
			}
		}
		/* A name ending in a plain byte ends every name it matches. */
		if (!strchr("*?]}\\", name[nlen - 1]) && !(nlen > 1 && name[nlen - 2] == '\\'))
			t->nlast = (unsigned char)name[nlen - 1];
		memcpy(part, name, nlen);
		part[nlen] = '\0';
		if (compile_glob(p, part, &t->nameglob, NULL, 0) < 0)
			return 0;
	}
	if (parts.slash > 0) {
		memcpy(part, alt, parts.slash);
		part[parts.slash] = '\0';
		if (compile_glob(p, part, &t->dirglob, NULL, 0) < 0)
			return 0; /* not splittable: stays opaque */
	}
	t->opaque = false;
	return 0;
}

/* Files T under its index key: a path or a tree under its literal and a
 * slash, which alone decides it; a glob under its literal up to the last
 * slash, where the glob runs. */
static int set_key(struct tg_policy *p, struct tg_pat *t)
{
	if (t->kind != TG_PAT_GLOB) {
		char *key = tg_pool_alloc(&p->pool, t->litlen + 2);
		if (!key)
			return -ENOMEM;
		memcpy(key, t->lit, t->litlen);
		key[t->litlen] = '/';
		t->key = key;
		t->anchor = t->litlen + 1;
		return 0;
	}
	/* Every path starts with "/", the shortest key (the pool's: a
	 * policy handed to a child points at nothing of the library). */
	t->key = t->litlen ? t->lit : tg_pool_strdup(&p->pool, "/");
	if (!t->key)
		return -ENOMEM;
	t->anchor = 1;
	for (size_t i = t->litlen; i > 0; i--)
		if (t->lit[i - 1] == '/') {
			t->anchor = i;
			break;
		}
	return 0;
}

int tg_add_alternative(struct tg_policy *p, const struct tg_rule *rule, const char *pattern,
		       const char *alt, unsigned prefix, unsigned wildcards, char *err,
		       size_t errsz)
{
	struct tg_glob *g;
	int r = compile_glob(p, alt, &g, err, errsz);
	if (r < 0)
		return r;
	struct tg_pat *t = new_pat(p);
	if (!t) {
		free_glob(p, g);
		return -ENOMEM;
	}
	size_t altlen = strlen(alt);
	size_t plain = tg_glob_literal_prefix(alt, altlen);
	t->glob = g;
	t->lit = tg_glob_literal(g, &t->litlen);
	if (plain == altlen && altlen == t->litlen)
		t->kind = TG_PAT_EXACT;
	else if (plain == t->litlen + 1 && altlen == t->litlen + 3 &&
		 strcmp(alt + t->litlen, "/**") == 0)
		t->kind = TG_PAT_TREE;
	else
		t->kind = TG_PAT_GLOB;
	t->rule = rule;
	t->pattern = pattern;
	t->prefix = prefix;
	t->wildcards = wildcards;
	r = set_key(p, t);
	if (r < 0)
		return r;
	return t->kind == TG_PAT_GLOB ? split_glob(p, t, alt, altlen) : 0;
}

/* The real path of the folder PREFIX, from that of its parent folder
 * (PVAL, or PERR when the parent did not resolve), as realpath(PREFIX)
 * would find it: a missing or unreadable parent fails the same way, a
 * plain folder is its parent's real path and its name, and a symbolic
 * link is left to realpath. One readlink per folder, where realpath asks
 * once per component of every folder it is given. Stores the real path
 * (malloc'd) in *RET_VAL and returns 0, or returns the errno. */
static int resolve_step(const char *pval, int perr, const char *prefix, char **ret_val)
{
	const char *name = strrchr(prefix, '/') + 1;
	size_t pl;
	char *cand, c;

	*ret_val = NULL;
	if (perr)
		return perr;
	pl = strcmp(pval, "/") == 0 ? 0 : strlen(pval);
	if (!(cand = malloc(pl + strlen(name) + 2)))
		return ENOMEM;
	memcpy(cand, pval, pl);
	cand[pl] = '/';
	strcpy(cand + pl + 1, name);
	if (readlink(cand, &c, 1) < 0) {
		int e = errno;
		if (e == EINVAL) { /* there, and no symbolic link */
			*ret_val = cand;
			return 0;
		}
		free(cand);
		return e;
	}
	/* A link: resolved from the folder it sits in, which is real. */
	char *real = realpath(cand, NULL);
	int e = errno;
	free(cand);
	if (!real)
		return e;
	*ret_val = real;
	return 0;
}

/* realpath(FOLDER), remembered for the load with every folder above it:
 * the rules of a policy share their folders, and a realpath is a system
 * call per component. Returns the real path (owned by L), or NULL with
 * errno. */
static const char *real_folder(struct loader *L, const char *folder)
{
	struct tg_strent *e = tg_strmap_slot(&L->canon, folder);

	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	if (e->key) {
		errno = e->err;
		return e->val;
	}
	/* From the root down, each folder on the way resolved once. */
	char *walk = strdup(folder);
	const char *pval = "/";
	int perr = 0;
	if (!walk) {
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 1;; i++) {
		char c = walk[i];
		if (c != '/' && c != '\0')
			continue;
		walk[i] = '\0';
		e = tg_strmap_slot(&L->canon, walk);
		if (e && !e->key) {
			if ((e->key = strdup(walk))) {
				e->err = resolve_step(pval, perr, walk, &e->val);
				L->canon.n++;
			}
		}
		if (!e || !e->key) {
			free(walk);
			errno = ENOMEM;
			return NULL;
		}
		pval = e->val;
		perr = e->err;
		walk[i] = c;
		if (!c)
			break;
	}
	free(walk);
	errno = perr;
	return pval;
}

char *tg_canonical_alternative(struct loader *L, const struct source *src, config_setting_t *s,
			       const char *alt)
{
	size_t w = tg_glob_literal_prefix(alt, strlen(alt));
	size_t dir = 0;
	char buf[PATH_MAX];
	const char *real = NULL;

	/* /proc/self is this process at load time: the guard names every
	 * process's own entries /proc/self, so such patterns stay as written. */
	if (strncmp(alt, "/proc/", 6) == 0)
		return NULL;
	for (size_t i = 0; i < w; i++)
		if (alt[i] == '/')
			dir = i;
	if (dir == 0 || dir >= sizeof(buf))
		return NULL;
	/* Walk up to the longest folder that exists. */
	memcpy(buf, alt, dir);
	buf[dir] = '\0';
	size_t have = dir;
	while (have > 0) {
		if ((real = real_folder(L, buf)))
			break;
		if (errno == EACCES) {
			WARN(L, src, s,
			     "cannot read '%s' to canonicalize the pattern \"%s\": "
			     "it is matched as written",
			     buf, alt);
			return NULL;
		}
		while (have > 0 && buf[have] != '/')
			have--;
		buf[have] = '\0';
	}
	if (have == 0 || strcmp(real, buf) == 0)
		return NULL;
	size_t rl = strlen(real);
	if (strcmp(real, "/") == 0)
		rl = 0;
	char *out = malloc(rl + strlen(alt + have) + 1);
	if (!out)
		return NULL;
	memcpy(out, real, rl);
	strcpy(out + rl, alt + have);
	return out;
}

int tg_add_builtin(struct tg_policy *p, const char *path, const char *suffix)
{
	size_t n = strlen(path);
	char *esc = malloc(2 * n + strlen(suffix) + 1);
	char err[128];
	int r;

	if (!esc)
		return -ENOMEM;
	strcpy(esc + tg_glob_escape(path, n, esc), suffix);
	const char *pattern = tg_pool_strdup(&p->pool, esc);
	r = pattern ? tg_add_alternative(p, &p->self_rule, pattern, esc, TG_PREFIX_BUILTIN, 0, err,
					 sizeof(err))
		    : -ENOMEM;
	free(esc);
	return r;
}

int tg_policy_protect(struct tg_policy *p, const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = paths[i] ? tg_add_builtin(p, paths[i], "") : 0;
		if (r < 0)
			return r;
	}
	return tg_policy_index(p);
}

static int cmp_pattern(const void *a, const void *b)
{
	const struct tg_pat *x = *(const struct tg_pat *const *)a;
	const struct tg_pat *y = *(const struct tg_pat *const *)b;
	return strcmp(x->pattern, y->pattern);
}

/* Reports the clash of rules A and B on PATTERN, earlier rule first. */
static void warn_clash(struct loader *L, const struct tg_rule *a, const struct tg_rule *b,
		       const char *pattern, unsigned clash)
{
	char cls[64];

	if (a->line > b->line || (a->line == b->line && strcmp(a->source, b->source) > 0)) {
		const struct tg_rule *t = a;
		a = b;
		b = t;
	}
	tg_report(L, TG_DIAG_WARNING, a->source, a->line,
		  "rules \"%s\" and \"%s\" (%s:%d) are equally specific for \"%s\" and "
		  "disagree on %s: deny wins",
		  a->id, b->id, b->source, b->line, pattern,
		  tg_classes_str(clash, cls, sizeof(cls)));
}

/* Rules tie only when their patterns are equally specific; the ties worth a
 * warning are the same pattern allowed by one rule and denied by another.
 * Sorting by pattern finds them in O(n log n), even for 10,000 rules. */
void tg_warn_conflicts(struct loader *L)
{
	struct tg_policy *p = L->p;
	const struct tg_pat **v = malloc((p->npats + 1) * sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < p->npats; i++)
		v[i] = &p->pats[i];
	qsort(v, p->npats, sizeof(*v), cmp_pattern);
	for (size_t i = 0; i < p->npats; i++) {
		for (size_t j = i + 1; j < p->npats && strcmp(v[i]->pattern, v[j]->pattern) == 0;
		     j++) {
			const struct tg_rule *a = v[i]->rule, *b = v[j]->rule;
			unsigned clash = (a->allow & b->deny) | (a->deny & b->allow);
			if (a == b || !clash)
				continue;
			warn_clash(L, a, b, v[i]->pattern, clash);
			i = j; /* one warning per pattern */
			break;
		}
	}
	free(v);
}
