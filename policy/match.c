/* The matcher: which rule decides an access.
 *
 * Every pattern alternative is filed under its anchor, the literal folder
 * prefix before its first wildcard ("/usr/lib/python3*" under "/usr/lib/").
 * A lookup walks the path once, hashing as it goes, and at each '/' probes
 * the index for the anchor ending there; only the alternatives filed under
 * the path's own folder prefixes are tried. The cost grows with the depth
 * of the path and the rules that share its folders, not with the size of
 * the policy. No allocation, no system call, no lock: the policy is
 * immutable once compiled. index.c builds the index this file walks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

static bool has_parent(const struct tg_policy *p, uint64_t h)
{
	h |= 1;
	for (size_t k = h & (p->nparents - 1);; k = (k + 1) & (p->nparents - 1)) {
		if (p->parents[k] == h)
			return true;
		if (!p->parents[k])
			return false;
	}
}

/* The slot for the key of N bytes hashed to H: PATH[0..N), or with
 * VIRTUAL the whole of PATH (N - 1 bytes) and a slash after it. */
static const struct tg_slot *probe(const struct tg_policy *p, uint64_t h, const char *path,
				   size_t n, bool virtual)
{
	size_t mask = p->nslots - 1;

	for (size_t k = h & mask;; k = (k + 1) & mask) {
		const struct tg_slot *s = &p->slots[k];
		if (!s->key)
			return NULL;
		if (s->hash == h && s->keylen == n &&
		    (virtual ? s->key[n - 1] == '/' && memcmp(s->key, path, n - 1) == 0
			     : memcmp(s->key, path, n) == 0))
			return s;
	}
}

/* True when A is more specific than B for class C, by POLICY.md's order:
 * longer prefix, fewer wildcards, deny, stronger on_deny, smaller id. */
static bool beats(const struct tg_pat *a, const struct tg_pat *b, enum tg_class c)
{
	if (!b)
		return true;
	if (a->rule == b->rule) /* two patterns of one rule; a tie goes to the first filed,
				 * so that the order they are met in never matters */
		return a->prefix != b->prefix ? a->prefix > b->prefix : a < b;
	if (a->prefix != b->prefix)
		return a->prefix > b->prefix;
	if (a->wildcards != b->wildcards)
		return a->wildcards < b->wildcards;
	bool ad = a->rule->deny & TG_BIT(c), bd = b->rule->deny & TG_BIT(c);
	if (ad != bd)
		return ad;
	if (ad && a->rule->on_deny != b->rule->on_deny)
		return a->rule->on_deny > b->rule->on_deny;
	return strcmp(a->rule->id, b->rule->id) < 0;
}

typedef void (*visit_fn)(const struct tg_pat *t, void *ud);

/* Calls FN for the alternatives in slot S that match PATH; AT_END when the
 * slot's key is PATH itself and a slash. A path or a tree is decided by
 * the key alone. */
static void visit(const struct tg_policy *p, const struct tg_slot *s, const char *path, size_t len,
		  bool at_end, visit_fn fn, void *ud)
{
	for (uint32_t k = 0; k < s->count; k++) {
		const struct tg_pat *t = &p->pats[p->order[s->first + k]];
		switch (t->kind) {
		case TG_PAT_EXACT:
			if (at_end)
				fn(t, ud);
			break;
		case TG_PAT_TREE:
			fn(t, ud);
			break;
		default:
			if (t->litlen <= len &&
			    (t->litlen <= t->anchor || memcmp(t->lit + t->anchor, path + t->anchor,
							      t->litlen - t->anchor) == 0) &&
			    tg_glob_match(t->glob, path, len))
				fn(t, ud);
		}
	}
}

/* Calls FN for every alternative that matches PATH: one probe of the index
 * at each slash of the path, and one for the path itself and a slash. */
static bool has_keylen(const struct tg_policy *p, size_t n)
{
	return n / 64 < sizeof(p->keylens) / sizeof(p->keylens[0]) &&
	       (p->keylens[n / 64] >> (n % 64) & 1);
}

static void each_match(const struct tg_policy *p, const char *path, size_t len, visit_fn fn,
		       void *ud)
{
	uint64_t h = TG_HASH_INIT;
	size_t hashed = 0;
	const struct tg_slot *s;

	if (!p->nslots || len == 0 || path[0] != '/')
		return;
	/* Probe at each slash where some key ends (most folders of most paths
	 * are skipped), hashing the path only as far as a probe needs. */
	for (const char *c = path; c; c = memchr(c + 1, '/', path + len - c - 1)) {
		size_t n = c - path + 1;
		if (!has_keylen(p, n))
			continue;
		h = tg_hash_step(h, path + hashed, n - hashed);
		hashed = n;
		if ((s = probe(p, h, path, n, false)))
			visit(p, s, path, len, false, fn, ud);
	}
	if (path[len - 1] == '/' || !has_keylen(p, len + 1))
		return; /* the root, or no key as long as the path and a slash */
	h = tg_hash_step(h, path + hashed, len - hashed);
	h = tg_hash_step(h, "/", 1);
	if ((s = probe(p, h, path, len + 1, true)))
		visit(p, s, path, len, true, fn, ud);
}

struct best {
	unsigned classes;
	const struct tg_pat **win; /* TG_NCLASS */
	/* Patterns to leave out (the memo's exceptions), as indices. */
	const uint32_t *skip;
	unsigned nskip;
	const struct tg_pat *pats;
};

static void keep(struct best *b, const struct tg_pat *t)
{
	unsigned named = (t->rule->allow | t->rule->deny) & b->classes;

	for (unsigned c = 0; named; c++, named >>= 1)
		if ((named & 1) && beats(t, b->win[c], c))
			b->win[c] = t;
}

static void keep_best(const struct tg_pat *t, void *ud)
{
	struct best *b = ud;

	for (unsigned i = 0; i < b->nskip; i++)
		if (t == &b->pats[b->skip[i]])
			return;
	keep(b, t);
}

/* How glob alternative T treats the entries of folder DIR (DLEN bytes, no
 * trailing slash, not the root): 1 all alike, 0 alike but for the names
 * its last name matches, -1 beyond telling. */
static int glob_alike(const struct tg_pat *t, const char *dir, size_t dlen)
{
	if (t->opaque)
		return -1;
	if (t->tree && tg_glob_match(t->glob, dir, dlen))
		return 1; /* DIR is beneath the tree, so is all it holds */
	if (!(t->dirglob ? tg_glob_match(t->dirglob, dir, dlen) : dlen == 0))
		return 1; /* no entry of DIR can match */
	return t->name_any ? 1 : 0;
}

int tg_children_alike(const struct tg_policy *p, const char *path, size_t len, uint32_t *exc)
{
	size_t dlen = len;
	int nexc = 0;

	while (dlen > 0 && path[dlen - 1] != '/')
		dlen--;
	if (dlen <= 1 || dlen == len || !p->nslots)
		return -1; /* the root's entries are where most keys are */
	uint64_t h = tg_anchor_hash(path, dlen);
	if (has_parent(p, h))
		return -1; /* some key names an entry of the folder */
	/* The keys that can match an entry are the folder's prefixes: the
	 * slashes of its path. Trees and exact paths there treat every entry
	 * alike; globs are asked. */
	h = TG_HASH_INIT;
	size_t hashed = 0;
	for (const char *c = path; c && c < path + dlen;
	     c = memchr(c + 1, '/', path + dlen - c - 1)) {
		size_t n = c - path + 1;
		if (!has_keylen(p, n))
			continue;
		h = tg_hash_step(h, path + hashed, n - hashed);
		hashed = n;
		const struct tg_slot *s = probe(p, h, path, n, false);
		for (uint32_t k = 0; s && k < s->count; k++) {
			uint32_t i = p->order[s->first + k];
			const struct tg_pat *t = &p->pats[i];
			if (t->kind != TG_PAT_GLOB)
				continue;
			int a = glob_alike(t, path, dlen - 1);
			if (a < 0)
				return -1;
			if (a > 0)
				continue;
			if (nexc == TG_MEMO_EXCEPT)
				return -1;
			exc[nexc++] = i;
		}
	}
	return nexc;
}

static void decide(const struct tg_policy *p, const char *path, size_t len, unsigned classes,
		   struct tg_verdict *ret);
static void conclude(const struct tg_policy *p, const struct tg_pat *const *win, unsigned classes,
		     struct tg_verdict *ret);

void tg_verdict_with(const struct tg_policy *p, const struct tg_pat *const *win,
		     const uint32_t *add, unsigned nadd, unsigned classes, struct tg_verdict *ret)
{
	const struct tg_pat *w[TG_NCLASS];
	struct best b = { .classes = classes, .win = w };

	memcpy(w, win, sizeof(w));
	for (unsigned i = 0; i < nadd; i++)
		keep(&b, &p->pats[add[i]]);
	conclude(p, w, classes, ret);
}

void tg_decide(const struct tg_policy *p, const char *path, size_t len, unsigned classes,
	       struct tg_verdict *ret)
{
	struct tg_memo_hit hit;
	size_t dlen = len;

	while (dlen > 0 && path[dlen - 1] != '/')
		dlen--;
	if (tg_memo_get(p, path, dlen, path + dlen, len - dlen, classes, ret))
		return;
	int n = p->memo ? tg_children_alike(p, path, len, hit.exc) : -1;
	if (n < 0) {
		decide(p, path, len, classes, ret);
		return;
	}
	/* The verdict of the folder's entries that no exception names (the
	 * rules but the exceptions), and the winners it came from: an entry an
	 * exception names is decided from them and the exceptions it meets,
	 * which is what the whole walk would find, beats() being a total
	 * order. */
	struct best b = {
		.classes = classes, .win = hit.win, .skip = hit.exc, .nskip = n, .pats = p->pats
	};
	uint32_t met[TG_MEMO_EXCEPT];
	unsigned nmet = 0;

	memset(hit.win, 0, sizeof(hit.win));
	each_match(p, path, len, keep_best, &b);
	conclude(p, hit.win, classes, &hit.v);
	hit.nexc = n;
	hit.anylast = 0;
	hit.lastmask = 0;
	for (int i = 0; i < n; i++) {
		int c = p->pats[hit.exc[i]].nlast;
		hit.last[i] = c < 0 ? 0 : (uint8_t)c;
		if (c < 0)
			hit.anylast |= 1u << i;
		else
			hit.lastmask |= 1ULL << (c & 63);
		tg_verdict_with(p, hit.win, &hit.exc[i], 1, classes, &hit.one[i]);
	}
	tg_memo_put(p->memo, path, dlen, classes, &hit);
	for (int i = 0; i < n; i++)
		if (tg_name_excepted(p, hit.exc[i], path + dlen, len - dlen))
			met[nmet++] = hit.exc[i];
	if (nmet)
		tg_verdict_with(p, hit.win, met, nmet, classes, ret);
	else
		*ret = hit.v;
}

static void decide(const struct tg_policy *p, const char *path, size_t len, unsigned classes,
		   struct tg_verdict *ret)
{
	const struct tg_pat *win[TG_NCLASS] = { 0 };
	struct best b = { .classes = classes, .win = win };

	each_match(p, path, len, keep_best, &b);
	conclude(p, win, classes, ret);
}

/* The verdict on CLASSES when WIN names the most specific pattern of each
 * class (NULL: the default decides). */
static void conclude(const struct tg_policy *p, const struct tg_pat *const *win, unsigned classes,
		     struct tg_verdict *ret)
{
	bool first = true;

	memset(ret, 0, sizeof(*ret));
	ret->allow = true;
	ret->create_mode = -1;
	ret->err = 0;
	for (unsigned c = 0; c < TG_NCLASS; c++) {
		if (!(classes & TG_BIT(c)))
			continue;
		const struct tg_pat *t = win[c];
		bool allow = t ? !(t->rule->deny & TG_BIT(c)) : p->defaults[c];
		if (t && t->rule->audit)
			ret->audit = true;
		if (allow) {
			if (c == TG_CREATE && t && t->rule->create_mode >= 0)
				ret->create_mode = t->rule->create_mode;
			if (first) {
				ret->cls = c;
				ret->rule = t ? t->rule : NULL;
				ret->pattern = t ? t->pattern : NULL;
				first = false;
			}
			continue;
		}
		ret->denied |= TG_BIT(c);
		enum tg_on_deny od = t ? t->rule->on_deny : TG_ON_DENY_ERROR;
		if (ret->allow) {
			/* The first denied class names the rule and the errno. */
			ret->allow = false;
			ret->cls = c;
			ret->rule = t ? t->rule : NULL;
			ret->pattern = t ? t->pattern : NULL;
			ret->err = t ? t->rule->err : EACCES;
			ret->on_deny = od;
		} else if (od > ret->on_deny) {
			ret->on_deny = od;
		}
		first = false;
	}
}

struct collect {
	enum tg_class c;
	const struct tg_pat **v;
	size_t n, cap;
};

static void collect(const struct tg_pat *t, void *ud)
{
	struct collect *k = ud;

	if (!((t->rule->allow | t->rule->deny) & TG_BIT(k->c)))
		return;
	for (size_t i = 0; i < k->n; i++)
		if (k->v[i]->rule == t->rule) {
			/* One line per rule: its most specific matching pattern. */
			if (beats(t, k->v[i], k->c))
				k->v[i] = t;
			return;
		}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		const struct tg_pat **v = realloc(k->v, cap * sizeof(*v));
		if (!v)
			return;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n++] = t;
}

void tg_explain(const struct tg_policy *p, const char *path, size_t len, enum tg_class c,
		tg_explain_fn fn, void *ud)
{
	struct collect k = { .c = c };

	each_match(p, path, len, collect, &k);
	/* Most specific first: a selection sort keeps beats() the only order. */
	for (size_t i = 0; i < k.n; i++) {
		size_t m = i;
		for (size_t j = i + 1; j < k.n; j++)
			if (beats(k.v[j], k.v[m], c))
				m = j;
		const struct tg_pat *t = k.v[m];
		k.v[m] = k.v[i];
		k.v[i] = t;
		fn(t->rule, t->pattern, i == 0, !(t->rule->deny & TG_BIT(c)), ud);
	}
	free(k.v);
}
