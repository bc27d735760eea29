/* Path patterns: compile once, match without allocation.
 *
 * Syntax (trainguard.conf(5)):
 *   *        any run of characters except '/'
 *   ?        one character except '/'
 *   [abc] [a-z] [!a-z]   one character (never '/') in / not in the set;
 *            [^a-z] is [!a-z]; a ']' right after '[' or '[!' is a member;
 *            '\' escapes inside too; '*', '?', '{', ',' and '}' are members
 *   {a,b}    alternation, may nest; expanded at load by tg_glob_braces()
 *   **       any run of characters including '/' (so is any longer run)
 *   X/<**>   (a trailing slash-star-star) matches X itself and everything
 *            beneath it; a slash-star-star-slash in the middle also matches
 *            a single slash ("a/<**>/b" matches "a/b"). Put differently: a
 *            slash-star-star before a '/' or at the end may be left out, so
 *            "/<**>/<**>" means what "/<**>" means.
 *   \c       the character c literally
 * Wildcards match dot-files. Patterns handed to tg_glob_compile() contain no
 * braces: tg_glob_braces() expands them first. */
#ifndef TG_GLOB_H
#define TG_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Longest pattern (after variable expansion) the compiler accepts. */
#define TG_GLOB_MAX 4096
/* Most alternatives one pattern may expand to. */
#define TG_GLOB_MAX_ALTERNATIVES 256

struct tg_glob;

/* Compiles the brace-free PATTERN. On success stores a new glob (owned by
 * the caller, free with tg_glob_free) in *RET and returns 0; *RET is left
 * alone on failure. Returns -ENOMEM, or -EINVAL with a one-line reason
 * ("unterminated '['") in ERR (capacity ERRSZ; ERR may be NULL) for: an
 * empty pattern, one longer than TG_GLOB_MAX, an unterminated '[', a
 * reversed range ("[z-a]"), a class that matches no character ("[/]"), a
 * lone '\' at the end, an unescaped '{' or '}'. A relative pattern is
 * accepted: absoluteness is the loader's rule. */
int tg_glob_compile(const char *pattern, struct tg_glob **ret, char *err, size_t errsz);

/* True when the whole of PATH (LEN bytes, normalized, absolute) matches.
 * No allocation, no system call, bounded stack (about 1.3 KiB); time
 * O(len * pattern). A NULL G or PATH matches nothing. */
bool tg_glob_match(const struct tg_glob *g, const char *path, size_t len);

void tg_glob_free(struct tg_glob *g);

/* The bytes G takes: it is one block, with no pointer out of it. */
size_t tg_glob_size(const struct tg_glob *g);
/* Copies G into MEM (tg_glob_size bytes, aligned for a pointer) and
 * returns the copy, which points into MEM only; G stays G's. */
struct tg_glob *tg_glob_copy(const struct tg_glob *g, void *mem);

/* The literal part of a compiled glob: the characters before its first
 * wildcard, with escapes removed and without the '/' of a trailing slash-star-star
 * ("/x/y/<**>" -> "/x/y", "/a/<**>/b" -> "/a/", "/<**>" -> ""). Every path
 * the glob matches starts with it. NUL-terminated, owned by G. */
const char *tg_glob_literal(const struct tg_glob *g, size_t *len);

/* Specificity of PATTERN (variables expanded, braces not yet expanded), as
 * POLICY.md defines it: *prefix = number of characters before the first
 * wildcard character ('*', '?', '[', '{'), where a trailing slash-star-star counts as
 * wildcard including its slash; *wildcards = number of wildcard characters
 * ("**" counts as one, "[...]" as one, "{" as one). Characters are counted
 * with escapes removed, so for a brace-free pattern *prefix is the length of
 * tg_glob_literal(); "/<**>/<**>" counts as "/<**>" there too. */
void tg_glob_specificity(const char *pattern, unsigned *prefix, unsigned *wildcards);

/* Calls FN once for each alternative of PATTERN after brace expansion, in
 * order ("a{b,c{d,e}}" -> "ab", "acd", "ace"; "{a,b}{c,d}" -> "ac", "ad",
 * "bc", "bd"); a pattern without braces yields itself, "{}" yields "" and
 * "{a}" yields "a". Escapes are kept in the alternatives ("\{", "\," stay
 * for tg_glob_compile), and braces inside "[...]" are class members.
 * Stops and returns FN's value when FN returns non-zero.
 * Returns 0, or -EINVAL for unbalanced braces, or -E2BIG when the pattern
 * would yield more than TG_GLOB_MAX_ALTERNATIVES alternatives or one longer
 * than TG_GLOB_MAX, or -ENOMEM; these are found before FN is first called.
 * Nesting depth is not limited and costs no stack. */
int tg_glob_braces(const char *pattern, int (*fn)(const char *alt, void *ud), void *ud);

/* The number of leading bytes of PATTERN (N bytes, as written: escapes and
 * braces not yet removed or expanded) that are literal path bytes, which
 * every path the pattern matches starts with: everything before the first
 * byte the lexer reads as other than itself. That is '*', '?' and '['
 * (wildcards), '{' and '}' (a '{' starts alternatives, so what follows it
 * is not one path, and a '}' only closes one), and '\' (from an escape on,
 * the written bytes are no longer the path's bytes). ']' and ',' are
 * themselves outside a class and a group. "/data/ep*.pt" -> 8 ("/data/ep"),
 * "/a/{b,c}" -> 3, "/a/\*" -> 3. The one definition of a literal prefix
 * for every caller: the loader, `trainguard check` and the walkers of the
 * guard. */
size_t tg_glob_literal_prefix(const char *pattern, size_t n);

/* Writes into OUT (room for 2 * N + 1 bytes) the N bytes of S with every
 * byte the pattern language reads specially escaped ('*', '?', '[', ']',
 * '{', '}', '\'), so that the result, as a pattern, matches S alone.
 * Returns the length written, without the NUL. */
size_t tg_glob_escape(const char *s, size_t n, char *out);

/* How the brace-free, compiled pattern ALT (LEN bytes) splits into a folder
 * part and a last name, for the memo of verdicts by folder: LEN is ALT
 * less its trailing slash-star-stars (TREE when there were some), ALT[0,
 * SLASH) the folder part (empty: the root), ALT[SLASH + 1, LEN) the last
 * name, which is "*" when NAME_ANY and has no wildcard or escape when
 * NAME_LITERAL. */
struct tg_glob_parts {
	size_t len, slash;
	bool tree, name_any, name_literal;
};
/* Fills RET and returns true when ALT splits so; false when it does not:
 * it is relative or the root, its last name holds a "**", or a class
 * names '/'. RET->len and RET->tree are set either way. */
bool tg_glob_split(const char *alt, size_t len, struct tg_glob_parts *ret);

#endif
