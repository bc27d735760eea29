/* Brace expansion: "{a,b}" alternatives, expanded once at load into the
 * brace-free patterns the compiler takes (tg_glob_braces in tg-glob.h).
 *
 * A pattern is parsed into its groups and their alternatives, the number
 * and length of the strings it yields are counted (saturating) before any
 * is produced, and an odometer over the groups produces them one at a
 * time into one buffer. Nothing recurses: braces may nest as deep as the
 * pattern is long. Reads the pattern with the shared lexer (glob-lex.h), so
 * a brace inside "[...]" or escaped is no brace here either. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glob-lex.h"
#include "tg-glob.h"

#define NONE SIZE_MAX
/* Counts and lengths saturate here, past both limits, so they cannot
 * overflow however many groups a pattern nests. */
#define SAT ((size_t)TG_GLOB_MAX + 1)

struct group {
	size_t open, close;  /* indices of its '{' and '}' */
	size_t parent;       /* enclosing group, or NONE */
	size_t parent_alt;   /* alternative of PARENT it sits in, or NONE */
	size_t first_alt;    /* head of its list of alternatives */
	size_t nalt, choice; /* alternatives; the one being produced */
};

struct alt {
	size_t start; /* first byte after its '{' or ',' */
	size_t next;  /* next alternative of the same group, or NONE */
	size_t count; /* strings it yields */
	size_t len;   /* length of its longest string */
};

static size_t sat_add(size_t a, size_t b)
{
	return a + b > SAT ? SAT : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
	return a * b > SAT ? SAT : a * b;
}

/* The group whose '{' is at index I; groups are numbered in text order. */
static size_t group_at(const struct group *gr, size_t ng, size_t i)
{
	size_t lo = 0, hi = ng;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (gr[mid].open < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Writes into BUF the string that the current choices select, and lists in
 * VISITED the groups it went through, in text order. No recursion: a
 * pattern may nest braces as deep as it is long. */
static size_t render(const char *p, size_t n, const struct group *gr, size_t ng,
		     const struct alt *al, char *buf, size_t *visited, size_t *nvisited)
{
	size_t i = 0, out = 0, cur = NONE;
	struct lexeme l;

	*nvisited = 0;
	while (i < n) {
		size_t next = tg_lex(p, n, i, &l);

		if (l.kind == L_BRACE && l.c == '{') {
			size_t g = group_at(gr, ng, i), a = gr[g].first_alt;

			for (size_t k = 0; k < gr[g].choice; k++)
				a = al[a].next;
			visited[(*nvisited)++] = g;
			cur = g;
			i = al[a].start;
			continue;
		}
		if (cur != NONE &&
		    ((l.kind == L_BRACE && l.c == '}') || (l.kind == L_LIT && p[i] == ','))) {
			i = gr[cur].close + 1;
			cur = gr[cur].parent;
			continue;
		}
		/* The counting pass bounds OUT; this only guards against a bug. */
		if (out + (next - i) > TG_GLOB_MAX)
			return NONE;
		memcpy(buf + out, p + i, next - i);
		out += next - i;
		i = next;
	}
	buf[out] = '\0';
	return out;
}

/* The parsed pattern: groups and alternatives, the stacks of open groups
 * and of their alternatives being read, the list of visited groups and the
 * output buffer, in one block. */
struct braces {
	struct group *gr;
	struct alt *al;
	size_t ng, na;
	size_t *stack, *alt_stack, *visited;
	char *buf;
	size_t top_len; /* bytes outside every group */
};

/* Counts the groups and alternatives of P (N bytes) and allocates B for
 * them. Returns 0 or -ENOMEM; B->gr is the block to free. */
static int braces_alloc(const char *p, size_t n, struct braces *b)
{
	struct lexeme l;
	size_t ng = 0, na = 0;

	for (size_t i = 0; i < n;) {
		size_t next = tg_lex(p, n, i, &l);

		if (l.kind == L_BRACE && l.c == '{')
			ng++;
		else if (l.kind == L_LIT && p[i] == ',')
			na++;
		i = next;
	}
	na += ng;
	/* The output buffer, last, is written before it is read: only the
	 * bookkeeping needs zeroing (a 4 KiB memset per pattern otherwise). */
	size_t book = ng * sizeof(struct group) + na * sizeof(struct alt) + 3 * ng * sizeof(size_t);
	void *mem = malloc(book + TG_GLOB_MAX + 1);
	if (!mem)
		return -ENOMEM;
	memset(mem, 0, book);
	((char *)mem)[book] = '\0';
	b->ng = ng;
	b->na = na;
	b->gr = mem;
	b->al = (struct alt *)(b->gr + ng);
	b->stack = (size_t *)(b->al + na);
	b->alt_stack = b->stack + ng;
	b->visited = b->alt_stack + ng;
	b->buf = (char *)(b->visited + ng);
	b->top_len = 0;
	return 0;
}

/* Reads each group with its alternatives, each alternative with the
 * length of its own bytes (nested groups are added by braces_count).
 * Returns 0, or -EINVAL for unbalanced braces. */
static int braces_parse(const char *p, size_t n, struct braces *b)
{
	struct lexeme l;
	size_t g = 0, a = 0, depth = 0;
	size_t *stack = b->stack, *alt_stack = b->alt_stack;

	for (size_t i = 0; i < n;) {
		size_t next = tg_lex(p, n, i, &l);

		if (l.kind == L_BRACE && l.c == '{') {
			size_t parent = depth ? stack[depth - 1] : NONE;
			size_t pa = depth ? alt_stack[depth - 1] : NONE;

			b->gr[g] = (struct group){ i, 0, parent, pa, a, 1, 0 };
			b->al[a] = (struct alt){ next, NONE, 1, 0 };
			stack[depth] = g++;
			alt_stack[depth++] = a++;
		} else if (l.kind == L_BRACE) {
			if (!depth)
				return -EINVAL;
			b->gr[stack[--depth]].close = i;
		} else if (depth && l.kind == L_LIT && p[i] == ',') {
			b->al[alt_stack[depth - 1]].next = a;
			b->al[a] = (struct alt){ next, NONE, 1, 0 };
			alt_stack[depth - 1] = a++;
			b->gr[stack[depth - 1]].nalt++;
		} else if (depth) {
			size_t cur = alt_stack[depth - 1];

			b->al[cur].len = sat_add(b->al[cur].len, next - i);
		} else {
			b->top_len = sat_add(b->top_len, next - i);
		}
		i = next;
	}
	return depth ? -EINVAL : 0;
}

/* Counts the strings the pattern yields and the length of the longest,
 * bottom up: a group opens after its parent, so walking groups backwards
 * finishes every child before its parent. Returns 0, or -E2BIG past the
 * limits. */
static int braces_count(struct braces *b)
{
	struct group *gr = b->gr;
	struct alt *al = b->al;
	size_t top_count = 1, top_len = b->top_len;

	for (size_t k = b->ng; k-- > 0;) {
		size_t count = 0, len = 0;

		for (size_t x = gr[k].first_alt; x != NONE; x = al[x].next) {
			count = sat_add(count, al[x].count);
			if (al[x].len > len)
				len = al[x].len;
		}
		if (gr[k].parent_alt == NONE) {
			top_count = sat_mul(top_count, count);
			top_len = sat_add(top_len, len);
		} else {
			al[gr[k].parent_alt].count = sat_mul(al[gr[k].parent_alt].count, count);
			al[gr[k].parent_alt].len = sat_add(al[gr[k].parent_alt].len, len);
		}
	}
	if (top_count > TG_GLOB_MAX_ALTERNATIVES || top_len > TG_GLOB_MAX)
		return -E2BIG;
	return 0;
}

/* Calls FN on every string, an odometer over the groups met, in text
 * order: advance the last one that has an alternative left and restart
 * every group after it. */
static int braces_each(const char *p, size_t n, struct braces *b,
		       int (*fn)(const char *alt, void *ud), void *ud)
{
	struct group *gr = b->gr;

	for (;;) {
		size_t nv;

		if (render(p, n, gr, b->ng, b->al, b->buf, b->visited, &nv) == NONE)
			return -E2BIG;
		int r = fn(b->buf, ud);
		if (r)
			return r;
		while (nv > 0 && gr[b->visited[nv - 1]].choice + 1 == gr[b->visited[nv - 1]].nalt)
			nv--;
		if (nv == 0)
			return 0;
		gr[b->visited[nv - 1]].choice++;
		for (size_t k = b->visited[nv - 1] + 1; k < b->ng; k++)
			gr[k].choice = 0;
	}
}

int tg_glob_braces(const char *pattern, int (*fn)(const char *alt, void *ud), void *ud)
{
	struct braces b;
	size_t n;
	int r;

	if (!pattern || !fn)
		return -EINVAL;
	n = strlen(pattern);
	/* Most patterns have no braces: then the one string is the pattern,
	 * as render would copy it, with nothing to parse or allocate. */
	if (!strpbrk(pattern, "{}"))
		return n > TG_GLOB_MAX ? -E2BIG : fn(pattern, ud);
	r = braces_alloc(pattern, n, &b);
	if (r < 0)
		return r;
	r = braces_parse(pattern, n, &b);
	if (r == 0)
		r = braces_count(&b);
	if (r == 0)
		r = braces_each(pattern, n, &b, fn, ud);
	free(b.gr);
	return r;
}
