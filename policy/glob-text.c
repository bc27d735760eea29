/* What the loader asks about a pattern's text, answered with the shared
 * lexer (glob-lex.h) so that no caller re-reads the pattern language on
 * its own: where its literal prefix ends, how specific it is (the rule
 * ranking of POLICY.md), whether it splits into a folder part and a last
 * name (for the memo of verdicts by folder), and how to escape a path so
 * that it matches only itself. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "glob-lex.h"
#include "tg-glob.h"

size_t tg_glob_literal_prefix(const char *pattern, size_t n)
{
	struct lexeme l;
	size_t i = 0;

	while (i < n) {
		size_t next = tg_lex(pattern, n, i, &l);
		if (l.kind != L_LIT || pattern[i] == '\\')
			break;
		i = next;
	}
	return i;
}

size_t tg_glob_escape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	/* ']' is itself outside a class; escaped all the same, so that a
	 * reader of the pattern needs no context to see the bytes are literal. */
	for (size_t i = 0; i < n; i++) {
		if (memchr("*?[]{}\\", s[i], 7))
			out[o++] = '\\';
		out[o++] = s[i];
	}
	out[o] = '\0';
	return o;
}

/* True when the lexeme L, read at P[I], is a '/' written as itself. */
static bool plain_slash(const char *p, size_t i, const struct lexeme *l)
{
	return l->kind == L_LIT && p[i] == '/';
}

/* True when the class body P[BODY, END) names '/' (unescaped). */
static bool class_has_slash(const char *p, size_t body, size_t end)
{
	for (size_t j = body; j < end; j++) {
		if (p[j] == '/')
			return true;
		if (p[j] == '\\')
			j++;
	}
	return false;
}

/* The length of P less its trailing slash-star-stars ("/a/<**>/<**>" -> "/a"),
 * or N when it has none. */
static size_t strip_trees(const char *p, size_t n)
{
	struct lexeme l, m;
	size_t cut = n;
	bool run = false;

	for (size_t i = 0; i < n;) {
		size_t next = tg_lex(p, n, i, &l);
		if (plain_slash(p, i, &l) && next < n) {
			size_t after = tg_lex(p, n, next, &m);
			if (m.kind == L_STARSTAR && after - next == 2) {
				if (!run)
					cut = i;
				run = true;
				i = after;
				continue;
			}
		}
		run = false;
		i = next;
	}
	return run ? cut : n;
}

bool tg_glob_split(const char *alt, size_t len, struct tg_glob_parts *ret)
{
	struct lexeme l;
	size_t slash = 0;
	bool starstar = false;

	ret->len = strip_trees(alt, len);
	ret->tree = ret->len < len;
	len = ret->len;
	for (size_t i = 0; i < len;) {
		size_t next = tg_lex(alt, len, i, &l);
		if (l.kind == L_CLASS && class_has_slash(alt, l.body, l.end))
			return false; /* '/' is never a member that matches */
		if (plain_slash(alt, i, &l)) {
			slash = i;
			starstar = false;
		} else if (l.kind == L_STARSTAR) {
			starstar = true; /* a "**" in the current name */
		}
		i = next;
	}
	if (len == 0 || alt[0] != '/' || starstar || slash + 1 >= len)
		return false;
	ret->slash = slash;
	ret->name_any = len - slash == 2 && alt[slash + 1] == '*';
	ret->name_literal = tg_glob_literal_prefix(alt + slash + 1, len - slash - 1) ==
			    len - slash - 1;
	return true;
}

/* When P[I] starts "/<**>/<**>", the index of its second slash: the first
 * slash-star-star adds nothing (the compiler drops it too). */
static size_t redundant_slash_starstar(const char *p, size_t n, size_t i)
{
	static const enum lex_kind want[4] = { L_LIT, L_STARSTAR, L_LIT, L_STARSTAR };
	struct lexeme l;
	size_t second = 0;

	for (int k = 0; k < 4; k++) {
		if (i >= n)
			return 0;
		i = tg_lex(p, n, i, &l);
		if (l.kind != want[k] || (l.kind == L_LIT && l.c != '/'))
			return 0;
		if (k == 1)
			second = i;
	}
	return second;
}

void tg_glob_specificity(const char *pattern, unsigned *prefix, unsigned *wildcards)
{
	size_t n = pattern ? strlen(pattern) : 0;
	unsigned pre = 0, wild = 0;
	int head = 1, slash = 0; /* still in the literal head; its last byte is '/' */
	struct lexeme l;

	for (size_t i = 0; i < n;) {
		size_t next, skip;

		while ((skip = redundant_slash_starstar(pattern, n, i)))
			i = skip;
		next = tg_lex(pattern, n, i, &l);
		/* A lone '\\' at the end and a '}' are bytes like any other here. */
		if (l.kind == L_LIT || l.kind == L_BAD_ESCAPE ||
		    (l.kind == L_BRACE && l.c == '}')) {
			pre += head;
			slash = l.kind == L_LIT && l.c == '/';
		} else {
			/* A trailing slash-star-star takes its slash with it. */
			if (head && l.kind == L_STARSTAR && next == n && slash)
				pre--;
			wild++;
			head = 0;
		}
		i = next;
	}
	if (prefix)
		*prefix = pre;
	if (wildcards)
		*wildcards = wild;
}
