/* The one lexer of the pattern language, shared by every file that reads
 * pattern text: the compiler (glob.c), specificity and the loader's
 * questions about a pattern's shape (glob-text.c), and brace expansion
 * (glob-braces.c). Reading classes, escapes and stars in one place keeps
 * them agreeing on what a class, an escape and a brace are: inside "[...]"
 * every byte but the closing ']' is a member, and "\c" is c everywhere.
 * Static inline: it runs only while a policy loads, and there a call per
 * byte would show in the start-up time. Nothing outside policy/ includes
 * this file. */
#ifndef TG_GLOB_LEX_H
#define TG_GLOB_LEX_H

#include <stddef.h>

enum lex_kind {
	L_LIT,        /* one byte, maybe written escaped */
	L_ANY,        /* ? */
	L_CLASS,      /* [...], body in [body, end) */
	L_STAR,       /* * */
	L_STARSTAR,   /* a run of two or more '*' */
	L_BRACE,      /* { or }, not escaped, outside a class */
	L_BAD_CLASS,  /* '[' without its ']' */
	L_BAD_ESCAPE, /* '\' as the last byte */
};

struct lexeme {
	enum lex_kind kind;
	unsigned char c; /* L_LIT, L_BRACE */
	size_t body;     /* L_CLASS: first byte after '[' */
	size_t end;      /* L_CLASS: index of the closing ']' */
};

/* Index of the ']' closing the class opened at P[I], or 0 (never a valid
 * answer, as ']' comes after '[') when there is none. A ']' right after
 * "[" or "[!" is a member, as in POSIX, so "[]]" and "[!]a]" are classes. */
static inline size_t tg_lex_class_close(const char *p, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j < n && (p[j] == '!' || p[j] == '^'))
		j++;
	if (j < n && p[j] == ']')
		j++;
	while (j < n) {
		if (p[j] == '\\') {
			j += 2;
			continue;
		}
		if (p[j] == ']')
			return j;
		j++;
	}
	return 0;
}

/* Reads the lexeme at P[I] (I < N); returns the index after it. */
static inline size_t tg_lex(const char *p, size_t n, size_t i, struct lexeme *l)
{
	size_t j;

	l->c = (unsigned char)p[i];
	switch (p[i]) {
	case '\\':
		if (i + 1 == n) {
			l->kind = L_BAD_ESCAPE;
			return i + 1;
		}
		l->kind = L_LIT;
		l->c = (unsigned char)p[i + 1];
		return i + 2;
	case '*':
		for (j = i; j < n && p[j] == '*'; j++)
			;
		l->kind = j - i == 1 ? L_STAR : L_STARSTAR;
		return j;
	case '?':
		l->kind = L_ANY;
		return i + 1;
	case '[':
		j = tg_lex_class_close(p, n, i);
		if (!j) {
			l->kind = L_BAD_CLASS;
			return i + 1;
		}
		l->kind = L_CLASS;
		l->body = i + 1;
		l->end = j;
		return j + 1;
	case '{':
	case '}':
		l->kind = L_BRACE;
		return i + 1;
	default:
		l->kind = L_LIT;
		return i + 1;
	}
}

#endif
