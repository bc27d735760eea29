/* The warnings `trainguard check` adds to the loader's: allows that reopen
 * a secret, and allows and denies of different specificity where one wins
 * over the other on the same path.
 *
 * Two globs may overlap in ways no simple rule predicts, so this does not
 * reason about patterns: it decides sample paths, one or two per pattern
 * alternative of both policies (the pattern's literal part, and its
 * wildcards each replaced by one ordinary name), and reports what the
 * matcher itself says there. A sample of the allow or of the deny lands in
 * the overlap whenever one pattern lies inside the other, which is how
 * policies carve holes; overlaps of two unrelated wildcards can be missed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"
#include "tg-path.h"

struct samples {
	char **v;
	size_t n, cap;
};

static int add_sample(struct samples *s, const char *path)
{
	char norm[PATH_MAX];
	int n = tg_path_normalize(NULL, 0, path, norm, sizeof(norm));

	if (n < 0)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(norm)))
		return -ENOMEM;
	s->n++;
	return 0;
}

/* One instance of the brace-free ALT: each wildcard becomes "x", a class
 * its first member. Written to OUT (TG_GLOB_MAX + 1 bytes); the caller
 * checks the glob matches it. Also stores ALT less a trailing slash-star-star
 * in TREE when it has one (else TREE is empty). */
static void instantiate(const char *alt, char *out, char *tree)
{
	size_t o = 0, len = strlen(alt);

	tree[0] = '\0';
	if (len > 3 && strcmp(alt + len - 3, "/**") == 0 && alt[len - 4] != '\\') {
		memcpy(tree, alt, len - 3);
		tree[len - 3] = '\0';
	}
	for (size_t i = 0; i < len && o < TG_GLOB_MAX - 1; i++) {
		char c = alt[i];
		if (c == '\\' && i + 1 < len) {
			out[o++] = alt[++i];
		} else if (c == '*') {
			while (i + 1 < len && alt[i + 1] == '*')
				i++;
			out[o++] = 'x';
		} else if (c == '?') {
			out[o++] = 'x';
		} else if (c == '[') {
			size_t j = i + 1;
			bool neg = j < len && (alt[j] == '!' || alt[j] == '^');
			if (neg)
				j++;
			char first = j < len ? alt[j] : 'x';
			if (first == '\\' && j + 1 < len)
				first = alt[j + 1];
			if (j < len && alt[j] == ']')
				j++;
			while (j < len && alt[j] != ']')
				j += alt[j] == '\\' ? 2 : 1;
			out[o++] = neg ? (first == 'x' ? 'y' : 'x') : first;
			i = j;
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
}

static int on_alt(const char *alt, void *ud)
{
	struct samples *s = ud;
	char inst[TG_GLOB_MAX + 1], tree[TG_GLOB_MAX + 1];
	struct tg_glob *g = NULL;
	int r = 0;

	instantiate(alt, inst, tree);
	if (tg_glob_compile(alt, &g, NULL, 0) < 0)
		return 0;
	if (tg_glob_match(g, inst, strlen(inst)))
		r = add_sample(s, inst);
	if (r == 0 && tree[0])
		r = add_sample(s, tree);
	tg_glob_free(g);
	return r < 0 ? 1 : 0;
}

static int add_policy_samples(struct samples *s, const struct tg_policy *p)
{
	char buf[TG_GLOB_MAX + 3];

	for (size_t i = 0; i < p->nrules; i++) {
		const struct tg_rule *r = p->rules[i];
		for (size_t k = 0; k < r->npaths; k++)
			if (tg_glob_braces(r->paths[k], on_alt, s) == 1)
				return -ENOMEM;
	}
	/* The literal parts, canonical ones included ("/var/run" is "/run"). */
	for (size_t i = 0; i < p->npats; i++) {
		const struct tg_pat *t = &p->pats[i];
		if (t->litlen == 0 || t->litlen > TG_GLOB_MAX || t->rule == &p->self_rule)
			continue;
		memcpy(buf, t->lit, t->litlen);
		buf[t->litlen] = '\0';
		if (add_sample(s, buf) < 0)
			return -ENOMEM;
		if (t->kind == TG_PAT_TREE) {
			strcpy(buf + t->litlen, "/x");
			if (add_sample(s, buf) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A rule the user wrote: not a shipped profile's, not the guard's own. */
static bool users(const struct tg_rule *r)
{
	return strncmp(r->source, "profile:", 8) != 0 && strncmp(r->source, "embedded:", 9) != 0 &&
	       strcmp(r->id, TG_RULE_SELF) != 0;
}

static bool is_secret(const struct tg_rule *r)
{
	return strncmp(r->id, "secrets.", 8) == 0;
}

struct found {
	struct tg_lint l;
	char *path;
	size_t order; /* rule order of ALLOW, then DENY */
};

struct lint {
	const struct tg_policy *p;
	struct found *v;
	size_t n, cap;
	/* The matches of the current path and class, most specific first. */
	struct match {
		const struct tg_rule *r;
		const char *pattern;
		bool allow;
	} m[64];
	size_t nm;
	int err;
};

static size_t rule_index(const struct tg_policy *p, const struct tg_rule *r)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i] == r)
			return i;
	return p->nrules;
}

static size_t path_index(const struct tg_rule *r, const char *pattern)
{
	for (size_t k = 0; k < r->npaths; k++)
		if (strcmp(r->paths[k], pattern) == 0)
			return k;
	return 0;
}

static void note(struct lint *L, enum tg_lint_kind kind, const struct tg_rule *allow,
		 const char *apat, const struct tg_rule *deny, const char *dpat, enum tg_class c,
		 const char *path, size_t deny_order)
{
	for (size_t i = 0; i < L->n; i++) {
		struct found *f = &L->v[i];
		/* The secrets rule may be the policy's own or the profile's. */
		if (f->l.kind == kind && f->l.allow == allow &&
		    (f->l.deny == deny || strcmp(f->l.deny->id, deny->id) == 0)) {
			f->l.classes |= TG_BIT(c);
			return;
		}
	}
	if (L->n == L->cap) {
		size_t cap = L->cap ? 2 * L->cap : 16;
		struct found *v = realloc(L->v, cap * sizeof(*v));
		if (!v) {
			L->err = -ENOMEM;
			return;
		}
		L->v = v;
		L->cap = cap;
	}
	struct found *f = &L->v[L->n];
	if (!(f->path = strdup(path))) {
		L->err = -ENOMEM;
		return;
	}
	f->l = (struct tg_lint){
		.kind = kind,
		.allow = allow,
		.deny = deny,
		.allow_pattern = apat,
		.deny_pattern = dpat,
		.allow_index = path_index(allow, apat),
		.deny_index = path_index(deny, dpat),
		.classes = TG_BIT(c),
	};
	f->order = rule_index(L->p, allow) * (L->p->nrules + 2) + deny_order;
	L->n++;
}

static void collect(const struct tg_rule *r, const char *pattern, bool decides, bool allow,
		    void *ud)
{
	struct lint *L = ud;

	if (L->nm < sizeof(L->m) / sizeof(L->m[0]))
		L->m[L->nm++] = (struct match){ r, pattern, allow };
}

static bool same_specificity(const char *a, const char *b)
{
	unsigned pa, wa, pb, wb;

	tg_glob_specificity(a, &pa, &wa);
	tg_glob_specificity(b, &pb, &wb);
	return pa == pb && wa == wb;
}

/* An allow of the user's decides PATH for C: does it reopen a secret
 * (a losing secrets rule, or SECRETS deciding alone), or win over a less
 * specific deny? */
static void allow_wins(struct lint *L, const struct tg_policy *secrets, const char *path,
		       enum tg_class c)
{
	const struct match *d = &L->m[0];
	struct tg_verdict v;

	if (secrets) {
		tg_decide(secrets, path, strlen(path), TG_BIT(c), &v);
		if (!v.allow && v.rule && is_secret(v.rule))
			note(L, TG_LINT_SECRET, d->r, d->pattern, v.rule, v.pattern, c, path, 0);
	}
	for (size_t k = 1; k < L->nm; k++) {
		const struct match *o = &L->m[k];
		if (o->allow || !strcmp(o->r->id, TG_RULE_SELF))
			continue;
		if (is_secret(o->r))
			note(L, TG_LINT_SECRET, d->r, d->pattern, o->r, o->pattern, c, path, 0);
		else if (!same_specificity(d->pattern, o->pattern))
			note(L, TG_LINT_SHADOWS, d->r, d->pattern, o->r, o->pattern, c, path,
			     1 + rule_index(L->p, o->r));
	}
}

/* A deny decides PATH for C: which allows of the user's does it shadow?
 * (The secrets profile and the guard's own rule shadow by design.) */
static void deny_wins(struct lint *L, const char *path, enum tg_class c)
{
	const struct match *d = &L->m[0];

	if (is_secret(d->r) || !strcmp(d->r->id, TG_RULE_SELF))
		return;
	for (size_t k = 1; k < L->nm; k++) {
		const struct match *o = &L->m[k];
		if (o->allow && users(o->r) && !same_specificity(d->pattern, o->pattern))
			note(L, TG_LINT_SHADOWED, o->r, o->pattern, d->r, d->pattern, c, path,
			     1 + rule_index(L->p, d->r));
	}
}

/* The matches of PATH for C are in L->m, the decider first. */
static void examine(struct lint *L, const struct tg_policy *secrets, const char *path,
		    enum tg_class c)
{
	if (L->m[0].allow && users(L->m[0].r))
		allow_wins(L, secrets, path, c);
	else if (!L->m[0].allow)
		deny_wins(L, path, c);
}

static int cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return (int)x->l.kind - (int)y->l.kind;
}

int tg_policy_lint(const struct tg_policy *p, const struct tg_policy *secrets, tg_lint_fn fn,
		   void *ud)
{
	struct samples s = { 0 };
	struct lint L = { .p = p };
	int r = add_policy_samples(&s, p);

	if (r == 0 && secrets)
		r = add_policy_samples(&s, secrets);
	if (r < 0)
		goto out;
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), cmp_str);
	for (size_t i = 0; i < s.n && !L.err; i++) {
		if (i && strcmp(s.v[i], s.v[i - 1]) == 0)
			continue;
		for (unsigned c = 0; c < TG_NCLASS; c++) {
			L.nm = 0;
			tg_explain(p, s.v[i], strlen(s.v[i]), c, collect, &L);
			if (L.nm)
				examine(&L, secrets, s.v[i], c);
		}
	}
	r = L.err;
	if (r == 0) {
		if (L.n)
			qsort(L.v, L.n, sizeof(*L.v), cmp_found);
		for (size_t i = 0; i < L.n; i++) {
			L.v[i].l.path = L.v[i].path;
			fn(&L.v[i].l, ud);
		}
	}
out:
	for (size_t i = 0; i < L.n; i++)
		free(L.v[i].path);
	free(L.v);
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i]);
	free(s.v);
	return r;
}
