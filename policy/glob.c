/* Path patterns: the compiler and a matcher with a guaranteed time bound.
 *
 * A pattern is compiled into a row of tokens (a literal byte, '?', a class,
 * '*', '**'). Matching simulates the nondeterministic automaton whose states
 * are the positions between tokens, one bitset of live positions per input
 * byte, so the time is O(len * tokens) whatever the pattern: a backtracking
 * matcher takes exponential time on "*a*a*a*a*b" against "aaaa...", and the
 * guard must not hang a training job on a hostile file name. The bitsets
 * live on the stack at a fixed size (TG_GLOB_MAX bounds the tokens), which
 * keeps tg_glob_match() free of allocation and within a small, known stack
 * on the guard's 64 KiB thread stacks. Most policy patterns are a literal
 * path or a literal folder followed by a slash-star-star; those skip the
 * automaton, and every pattern compares its literal head and tail with
 * memcmp() first.
 *
 * The compiler reads pattern text with the lexer of glob-lex.h, the one
 * that specificity, brace expansion and the loader's questions about a
 * pattern's shape (glob-text.c, glob-braces.c) read it with. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob-lex.h"
#include "tg-glob.h"

/* ---- Compiler --------------------------------------------------------- */

enum tok_type { T_LIT, T_ANY, T_CLASS, T_STAR, T_STARSTAR };

/* On the '/' before a '**' that ends the pattern or is followed by '/': an
 * epsilon edge over the '/' and the '**'. It makes "X/<**>" match X and
 * "a/<**>/b" match "a/b". It sits on the '/', which consumes one byte and
 * has no loop, so the skip is only taken before the '**' has eaten bytes. */
#define F_SKIP2 1

struct tok {
	uint8_t type;
	uint8_t flags;
	uint8_t c;    /* T_LIT */
	uint16_t cls; /* T_CLASS: index into tg_glob.cls */
};

enum glob_kind {
	K_EXACT,   /* no wildcard: one memcmp */
	K_SUBTREE, /* literal X then a trailing slash-star-star */
	K_GENERAL, /* the automaton between a literal head and tail */
};

struct tg_glob {
	size_t size; /* bytes of the one block the glob is */
	enum glob_kind kind;
	size_t ntok;
	size_t nlit;   /* leading plain literal tokens, matched by memcmp() */
	size_t litlen; /* bytes of LIT: NLIT, plus a skippable '/' in the middle */
	size_t nsuf;   /* trailing plain literal tokens; SUF holds their bytes */
	/* Between head and tail, one '*' (STAR_ONE) or one '**' (STAR_TWO):
	 * no automaton needed ("*.pt", "config.*", "/a/<**>.bin"). */
	enum { STAR_NONE, STAR_ONE, STAR_TWO } star;
	const struct tok *tok;
	const uint8_t (*cls)[32];
	const char *lit;
	const char *suf;
};

/* One bit per automaton position: positions 0..ntok, ntok <= TG_GLOB_MAX. */
#define NFA_WORDS ((TG_GLOB_MAX + 1 + 63) / 64)

static int fail(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err && errsz > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* One member of a class body at P[*J], escape removed. The lexer made sure
 * an escape inside a body always has its byte before the closing ']'. */
static unsigned char class_member(const char *p, size_t *j)
{
	if (p[*j] == '\\') {
		*j += 2;
		return (unsigned char)p[*j - 1];
	}
	return (unsigned char)p[(*j)++];
}

/* Fills SET from the class body P[BODY, END). A class that can match no
 * byte at all is refused: in a policy it would be a rule that silently
 * never applies. */
static int parse_class(const char *p, size_t body, size_t end, uint8_t set[32], char *err,
		       size_t errsz)
{
	size_t j = body;
	int neg = 0, any = 0;

	memset(set, 0, 32);
	if (j < end && (p[j] == '!' || p[j] == '^')) {
		neg = 1;
		j++;
	}
	while (j < end) {
		unsigned lo = class_member(p, &j), hi = lo;

		if (j + 1 < end && p[j] == '-') {
			j++;
			hi = class_member(p, &j);
			if (hi < lo)
				return fail(err, errsz, "reversed range '%c-%c' in '[...]'", lo,
					    hi);
		}
		for (unsigned c = lo; c <= hi; c++)
			set[c >> 3] |= (uint8_t)(1u << (c & 7));
	}
	for (unsigned k = 0; neg && k < 32; k++)
		set[k] = (uint8_t)~set[k];
	/* No path byte is NUL, and no class crosses a folder. */
	set[0] &= (uint8_t)~1u;
	set['/' >> 3] &= (uint8_t) ~(1u << ('/' & 7));
	for (unsigned k = 0; k < 32; k += 8) {
		uint64_t w;
		memcpy(&w, set + k, sizeof(w));
		any |= w != 0;
	}
	if (!any)
		return fail(err, errsz, "'[%.*s]' matches no character ('/' never matches)",
			    (int)(end - body), p + body);
	return 0;
}

static int plain_lit(const struct tok *t)
{
	return t->type == T_LIT && !t->flags;
}

static int is_slash(const struct tok *t)
{
	return t->type == T_LIT && t->c == '/';
}

/* Checks PATTERN (N bytes) and counts its tokens and classes, so that the
 * glob can be one block. */
static int check(const char *pattern, size_t n, size_t *ret_ntok, size_t *ret_nclass, char *err,
		 size_t errsz)
{
	struct lexeme l;
	size_t ntok = 0, nclass = 0;
	uint8_t set[32];

	for (size_t i = 0; i < n; ntok++) {
		size_t at = i;
		int r;

		i = tg_lex(pattern, n, i, &l);
		switch (l.kind) {
		case L_BAD_CLASS:
			return fail(err, errsz, "unterminated '[' at character %zu", at + 1);
		case L_BAD_ESCAPE:
			return fail(err, errsz, "pattern ends with a lone '\\'");
		case L_BRACE:
			return fail(err, errsz, "unexpanded '%c' at character %zu (write '\\%c')",
				    l.c, at + 1, l.c);
		case L_CLASS:
			r = parse_class(pattern, l.body, l.end, set, err, errsz);
			if (r < 0)
				return r;
			nclass++;
			break;
		default:
			break;
		}
	}
	*ret_ntok = ntok;
	*ret_nclass = nclass;
	return 0;
}

/* One token per lexeme of the checked PATTERN into TOK, classes into CLS. */
static void tokenize(const char *pattern, size_t n, struct tok *tok, uint8_t (*cls)[32])
{
	struct lexeme l;
	size_t k = 0, c = 0;

	for (size_t i = 0; i < n; k++) {
		i = tg_lex(pattern, n, i, &l);
		tok[k] = (struct tok){ .c = l.c };
		switch (l.kind) {
		case L_ANY:
			tok[k].type = T_ANY;
			break;
		case L_STAR:
			tok[k].type = T_STAR;
			break;
		case L_STARSTAR:
			tok[k].type = T_STARSTAR;
			break;
		case L_CLASS:
			parse_class(pattern, l.body, l.end, cls[c], NULL, 0);
			tok[k].type = T_CLASS;
			tok[k].cls = (uint16_t)c++;
			break;
		default:
			tok[k].type = T_LIT;
			break;
		}
	}
}

/* Makes every slash-star-star before a '/' or at the end optional (F_SKIP2
 * on its '/'); returns the new token count. "/<**>/<**>" matches what
 * "/<**>" matches, each slash-star-star being optional: keep one, so that
 * no skip lands on another skip and the literal head is exact. */
static size_t mark_skips(struct tok *tok, size_t ntok)
{
	size_t w = 0;

	for (size_t k = 0; k < ntok; k++) {
		if (k + 3 < ntok && is_slash(&tok[k]) && tok[k + 1].type == T_STARSTAR &&
		    is_slash(&tok[k + 2]) && tok[k + 3].type == T_STARSTAR) {
			k++;
			continue;
		}
		tok[w++] = tok[k];
	}
	for (size_t k = 1; k < w; k++)
		if (tok[k].type == T_STARSTAR && is_slash(&tok[k - 1]) &&
		    (k + 1 == w || is_slash(&tok[k + 1])))
			tok[k - 1].flags |= F_SKIP2;
	return w;
}

/* Sets G's literal head and tail (into LIT and SUF, NTOK + 1 bytes each)
 * and its kind, from its NTOK tokens. */
static void set_literals(struct tg_glob *g, const struct tok *tok, size_t ntok, char *lit,
			 char *suf)
{
	size_t nlit = 0, litlen, s = ntok, k;

	while (nlit < ntok && plain_lit(&tok[nlit]))
		nlit++;
	/* Every path "a/<**>/b" matches has the first '/', skipped or not: it
	 * belongs to the literal, unlike the '/' of a trailing slash-star-star. */
	litlen = nlit;
	if (nlit + 2 < ntok && (tok[nlit].flags & F_SKIP2))
		litlen++;
	while (s > nlit && plain_lit(&tok[s - 1]))
		s--;
	for (k = 0; k < litlen; k++)
		lit[k] = (char)tok[k].c;
	lit[litlen] = '\0';
	for (k = s; k < ntok; k++)
		suf[k - s] = (char)tok[k].c;
	suf[ntok - s] = '\0';

	g->ntok = ntok;
	g->nlit = nlit;
	g->litlen = litlen;
	g->nsuf = ntok - s;
	g->tok = tok;
	g->lit = lit;
	g->suf = suf;
	g->star = STAR_NONE;
	if (s == nlit + 1 && litlen == nlit)
		g->star = tok[nlit].type == T_STAR       ? STAR_ONE
			  : tok[nlit].type == T_STARSTAR ? STAR_TWO
							 : STAR_NONE;
	if (nlit == ntok)
		g->kind = K_EXACT;
	else if (nlit + 2 == ntok && (tok[nlit].flags & F_SKIP2) && tok[nlit].type == T_LIT)
		g->kind = K_SUBTREE;
	else
		g->kind = K_GENERAL;
}

int tg_glob_compile(const char *pattern, struct tg_glob **ret, char *err, size_t errsz)
{
	size_t n, ntok, nclass;
	int r;

	if (!ret)
		return fail(err, errsz, "nowhere to store the glob");
	if (!pattern || !pattern[0])
		return fail(err, errsz, "empty pattern");
	n = strnlen(pattern, TG_GLOB_MAX + 1);
	if (n > TG_GLOB_MAX)
		return fail(err, errsz, "pattern longer than %d characters", TG_GLOB_MAX);
	r = check(pattern, n, &ntok, &nclass, err, errsz);
	if (r < 0)
		return r;

	size_t size = sizeof(struct tg_glob) + ntok * sizeof(struct tok) + nclass * 32 +
		      2 * (ntok + 1);
	/* Zeroed: the unused tail of LIT and SUF is copied with the glob
	 * into a policy's region (tg_glob_copy), where stale heap words would
	 * look like pointers out of it. */
	struct tg_glob *g = calloc(1, size);
	if (!g)
		return -ENOMEM;
	g->size = size;
	struct tok *tok = (struct tok *)(g + 1);
	uint8_t(*cls)[32] = (uint8_t(*)[32])(tok + ntok);
	char *lit = (char *)(cls + nclass);
	char *suf = lit + ntok + 1;

	tokenize(pattern, n, tok, cls);
	g->cls = (const uint8_t(*)[32])cls;
	set_literals(g, tok, mark_skips(tok, ntok), lit, suf);
	*ret = g;
	return 0;
}

void tg_glob_free(struct tg_glob *g)
{
	free(g);
}

size_t tg_glob_size(const struct tg_glob *g)
{
	return g->size;
}

struct tg_glob *tg_glob_copy(const struct tg_glob *g, void *mem)
{
	struct tg_glob *c = mem;
	ptrdiff_t d = (char *)c - (const char *)g;

	memcpy(c, g, g->size);
	c->tok = (const struct tok *)((const char *)g->tok + d);
	c->cls = (const uint8_t(*)[32])((const char *)g->cls + d);
	c->lit = g->lit + d;
	c->suf = g->suf + d;
	return c;
}

const char *tg_glob_literal(const struct tg_glob *g, size_t *len)
{
	if (len)
		*len = g->litlen;
	return g->lit;
}

/* ---- Matcher ---------------------------------------------------------- */

#define BIT_SET(s, i)  ((s)[(i) >> 6] |= (uint64_t)1 << ((i)&63))
#define BIT_TEST(s, i) (((s)[(i) >> 6] >> ((i)&63)) & 1)

/* Adds to S every position reachable without input. Every epsilon edge
 * points forward, so one ascending sweep that also visits the bits it sets
 * reaches the closure. */
static void closure(const struct tok *t, size_t acc, uint64_t *s, size_t nw)
{
	for (size_t w = 0; w < nw; w++) {
		uint64_t done = 0, m;

		while ((m = s[w] & ~done)) {
			uint64_t bit = m & -m;
			size_t i = w * 64 + (size_t)__builtin_ctzll(m);

			done |= bit;
			if (i == acc)
				continue;
			if (t[i].type == T_STAR || t[i].type == T_STARSTAR)
				BIT_SET(s, i + 1);
			if (t[i].flags & F_SKIP2)
				BIT_SET(s, i + 2);
		}
	}
}

/* Runs the tokens T[0, ACC) over S[0, N); true when the whole of S brings
 * the automaton to ACC. */
static bool nfa_match(const struct tg_glob *g, const struct tok *t, size_t acc, const char *s,
		      size_t n)
{
	uint64_t a[NFA_WORDS], b[NFA_WORDS];
	uint64_t *cur = a, *next = b, *tmp;
	size_t nw = acc / 64 + 1;

	memset(cur, 0, nw * sizeof(*cur));
	cur[0] = 1;
	closure(t, acc, cur, nw);
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		uint64_t live = 0;

		memset(next, 0, nw * sizeof(*next));
		for (size_t w = 0; w < nw; w++) {
			for (uint64_t m = cur[w]; m; m &= m - 1) {
				size_t i = w * 64 + (size_t)__builtin_ctzll(m);
				const struct tok *x = &t[i];

				if (i == acc)
					continue;
				switch (x->type) {
				case T_LIT:
					if (c == x->c)
						BIT_SET(next, i + 1);
					break;
				case T_ANY:
					if (c != '/')
						BIT_SET(next, i + 1);
					break;
				case T_CLASS:
					if ((g->cls[x->cls][c >> 3] >> (c & 7)) & 1)
						BIT_SET(next, i + 1);
					break;
				case T_STAR:
					if (c != '/')
						BIT_SET(next, i);
					break;
				default:
					BIT_SET(next, i);
					break;
				}
			}
		}
		for (size_t w = 0; w < nw; w++)
			live |= next[w];
		if (!live)
			return false;
		closure(t, acc, next, nw);
		tmp = cur;
		cur = next;
		next = tmp;
	}
	return BIT_TEST(cur, acc);
}

bool tg_glob_match(const struct tg_glob *g, const char *path, size_t len)
{
	if (!g || !path)
		return false;
	if (len < g->litlen || memcmp(path, g->lit, g->litlen) != 0)
		return false;
	switch (g->kind) {
	case K_EXACT:
		return len == g->nlit;
	case K_SUBTREE:
		return len == g->nlit || path[g->nlit] == '/';
	default:
		break;
	}
	if (len - g->nlit < g->nsuf || memcmp(path + len - g->nsuf, g->suf, g->nsuf) != 0)
		return false;
	if (g->star == STAR_ONE)
		return !memchr(path + g->nlit, '/', len - g->nlit - g->nsuf);
	if (g->star == STAR_TWO)
		return true;
	return nfa_match(g, g->tok + g->nlit, g->ntok - g->nsuf - g->nlit, path + g->nlit,
			 len - g->nlit - g->nsuf);
}
