/* Table-driven tests of the pattern compiler, matcher, specificity and
 * brace expansion, speaking TAP.
 *
 * The match table pins the semantics trainguard.conf(5) promises (what '*',
 * '**', classes and escapes do at '/' and at dot-files); the other tables
 * pin the numbers rule ranking depends on and the exact order and limits of
 * brace expansion. The pathological cases check the time bound: a
 * backtracking matcher would not finish them. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "tg-glob.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct tg_glob *compile(const char *pattern)
{
	struct tg_glob *g = NULL;
	char err[128];

	if (tg_glob_compile(pattern, &g, err, sizeof(err)) < 0) {
		printf("# '%s' does not compile: %s\n", pattern, err);
		return NULL;
	}
	return g;
}

/* ---- Matching --------------------------------------------------------- */

struct match_case {
	const char *pattern;
	const char *path;
	bool want;
};

static const struct match_case match_cases[] = {
	/* Literals. */
	{ "/a/b", "/a/b", true },
	{ "/a/b", "/a/bc", false },
	{ "/a/b", "/a", false },
	{ "/a/b", "/a/b/c", false },
	{ "/a/b", "/A/B", false },
	/* '*': any run without '/'. */
	{ "/a/*", "/a/b", true },
	{ "/a/*", "/a/", true },
	{ "/a/*", "/a", false },
	{ "/a/*", "/a/b/c", false },
	{ "/a/*.py", "/a/x.py", true },
	{ "/a/*.py", "/a/.py", true },
	{ "/a/*.py", "/a/x.pyc", false },
	{ "/a/*.py", "/a/b/x.py", false },
	{ "/a/*/c", "/a/b/c", true },
	{ "/a/*/c", "/a/b/d/c", false },
	{ "/a*", "/abc", true },
	{ "/a*", "/a", true },
	{ "/*", "/etc", true },
	{ "/*", "/etc/passwd", false },
	{ "/proc/*/environ", "/proc/123/environ", true },
	{ "/proc/*/environ", "/proc/self/task/1/environ", false },
	{ "/a/*b*c", "/a/xxbyyc", true },
	{ "/a/*b*c", "/a/xxbyy/c", false },
	/* '?': one byte, never '/'. */
	{ "/a/?", "/a/b", true },
	{ "/a/?", "/a/bc", false },
	{ "/a/?", "/a/", false },
	{ "/a?b", "/a/b", false },
	{ "/a/??", "/a/xy", true },
	{ "/a/?", "/a/\xc3", true },
	/* Classes and ranges. */
	{ "/a/[abc]", "/a/b", true },
	{ "/a/[abc]", "/a/d", false },
	{ "/a/[a-c]x", "/a/cx", true },
	{ "/a/[a-c]x", "/a/dx", false },
	{ "/a/[0-9][0-9]", "/a/42", true },
	{ "/a/[0-9][0-9]", "/a/4x", false },
	{ "/a/[a-cx-z]", "/a/y", true },
	{ "/a/[a-cx-z]", "/a/m", false },
	{ "/a/[a-]", "/a/-", true },
	{ "/a/[-a]", "/a/-", true },
	{ "/a/[]]", "/a/]", true },
	{ "/a/[]a]", "/a/a", true },
	{ "/a/[\\]]", "/a/]", true },
	{ "/a/[*?]", "/a/*", true },
	{ "/a/[*?]", "/a/x", false },
	{ "/a/[{]", "/a/{", true },
	{ "/a/[,}]", "/a/}", true },
	{ "/a/[a/]", "/a/a", true },
	/* Negation, '!' and '^'; never '/'. */
	{ "/a/[!a-c]", "/a/d", true },
	{ "/a/[!a-c]", "/a/a", false },
	{ "/a/[^a-c]", "/a/d", true },
	{ "/a/[^a-c]", "/a/b", false },
	{ "/a[!x]b", "/a/b", false },
	{ "/a[^x]b", "/a/b", false },
	{ "/a/[!]]", "/a/x", true },
	{ "/a/[!]]", "/a/]", false },
	{ "/a/[^]]", "/a/x", true },
	{ "/a/[^]]", "/a/]", false },
	/* Escapes. */
	{ "/a/\\*", "/a/*", true },
	{ "/a/\\*", "/a/b", false },
	{ "/a/\\?", "/a/?", true },
	{ "/a/\\?", "/a/x", false },
	{ "/a/\\[x]", "/a/[x]", true },
	{ "/a/\\\\", "/a/\\", true },
	{ "/a/\\{b,c\\}", "/a/{b,c}", true },
	{ "/a\\b", "/ab", true },
	{ "/a/\\*\\*", "/a/**", true },
	{ "/a/\\*\\*", "/a/b/c", false },
	/* Dot-files are matched by wildcards. */
	{ "/h/*", "/h/.ssh", true },
	{ "/h/**", "/h/.ssh/id_rsa", true },
	{ "/h/?ssh", "/h/.ssh", true },
	{ "/h/[.]x", "/h/.x", true },
	{ "/h/.*", "/h/.bashrc", true },
	/* A trailing slash-star-star: X itself and everything beneath. */
	{ "/x/y/**", "/x/y", true },
	{ "/x/y/**", "/x/y/z", true },
	{ "/x/y/**", "/x/y/z/w", true },
	{ "/x/y/**", "/x/y/", true },
	{ "/x/y/**", "/x/yz", false },
	{ "/x/y/**", "/x/yz/w", false },
	{ "/x/y/**", "/x", false },
	{ "/**", "/", true },
	{ "/**", "/anything/at/all", true },
	{ "/a/***", "/a", true },
	{ "/a/***", "/a/b/c", true },
	{ "/usr/lib/python3*/**", "/usr/lib/python3.11/site-packages/x.pth", true },
	{ "/usr/lib/python3*/**", "/usr/lib/python3", true },
	{ "/usr/lib/python3*/**", "/usr/lib/python2.7/x", false },
	{ "/h/*/**", "/h/u", true },
	{ "/h/*/**", "/h/u/.ssh/k", true },
	{ "/h/*/**", "/h", false },
	/* A slash-star-star-slash in the middle also matches one slash. */
	{ "/a/**/b", "/a/b", true },
	{ "/a/**/b", "/a/x/b", true },
	{ "/a/**/b", "/a/x/y/b", true },
	{ "/a/**/b", "/a/xb", false },
	{ "/a/**/b", "/ab", false },
	{ "/a/**/b", "/a/b/c", false },
	{ "/a/**/b", "/a/x/bb", false },
	{ "/**/*.pth", "/a.pth", true },
	{ "/**/*.pth", "/usr/lib/p/site.pth", true },
	{ "/**/*.pth", "/usr/lib/p/site.pthx", false },
	{ "/**/.git/**", "/src/.git", true },
	{ "/**/.git/**", "/.git/config", true },
	{ "/**/.git/**", "/src/.gitx", false },
	{ "/a/**/b/**/c", "/a/b/c", true },
	{ "/a/**/b/**/c", "/a/x/b/y/z/c", true },
	{ "/a/**/b/**/c", "/a/x/c", false },
	/* '**' elsewhere: any run including '/'. */
	{ "**/*.pth", "/usr/lib/site.pth", true },
	{ "**/*.pth", "/x.pth", true },
	{ "**", "/", true },
	{ "/a/**b", "/a/x/yb", true },
	{ "/a/**b", "/a/b", true },
	{ "/a/**b", "/ab", false },
	{ "/a**", "/abc/d", true },
	{ "/a**", "/b", false },
	{ "/a/**.py", "/a/b/c.py", true },
	{ "/a/**.py", "/a.py", false },
	{ "/**/**", "/", true },
	{ "/**/**", "/a/b", true },
	/* Repeated slash-star-stars act as one (a fuzzer finding). */
	{ "/**/**", "", true },
	{ "/a/**/**", "/a", true },
	{ "/a/**/**", "/a/b/c", true },
	{ "/a/**/**", "/ab", false },
	{ "/a/**/**/**/b", "/a/b", true },
	{ "/a/**/**/b", "/a/x/y/b", true },
	{ "/a/**/**/b", "/ab", false },
	/* The literal tail is checked without giving away a skippable '/'. */
	{ "/a/*/b", "/a//b", true },
	{ "/a*/b", "/a/b", true },
	{ "/a*a", "/a", false },
	{ "/a*a", "/aa", true },
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Patterns that a backtracking matcher takes exponential time on. */
static void pathological_cases(void)
{
	static char path[8192], pattern[TG_GLOB_MAX + 1];
	struct {
		const char *pattern;
		char last;
		bool want;
	} cases[] = {
		{ "/*a*a*a*a*a*a*a*a*b", 'a', false },
		{ "/*a*a*a*a*a*a*a*a*b", 'b', true },
		{ "/**a**a**a**a**a**a**a**a**b", 'a', false },
		{ "/**a**a**a**a**a**a**a**a**b", 'b', true },
		{ "/*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?b", 'a', false },
		{ "/[a]*[a]*[a]*[a]*[a]*[a]*[a]*b", 'a', false },
		/* No literal tail: the automaton reads every byte. */
		{ "/*a*a*a*a*a*a*a*a*b*", 'a', false },
		{ "/*a*a*a*a*a*a*a*a*b*", 'b', true },
		{ "/**a**a**a**a**a**a**a**a**b**", 'a', false },
		{ "/**a**a**a**a**a**a**a**a**b**", 'b', true },
		{ "/*a*a*a*a*a*a*a*a*b?", 'a', false },
		{ "/[!b]*[a]*[a]*[a]*[a]*[a]*[a]*b*", 'a', false },
	};
	size_t n = 4000;

	path[0] = '/';
	memset(path + 1, 'a', n - 1);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tg_glob *g = compile(cases[i].pattern);
		struct timespec t0;
		bool got = !cases[i].want;

		path[n - 1] = cases[i].last;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (g)
			got = tg_glob_match(g, path, n);
		double s = seconds_since(&t0);
		ok(g && got == cases[i].want && s < 1.0,
		   "pathological '%s' on %zu bytes ending in '%c': %s in %.4fs", cases[i].pattern,
		   n, cases[i].last, got ? "match" : "no match", s);
		tg_glob_free(g);
	}

	/* The largest pattern against a long path: 4096 tokens x 8000 bytes. */
	pattern[0] = '/';
	for (size_t i = 1; i < TG_GLOB_MAX; i++)
		pattern[i] = i % 2 ? '*' : '?';
	pattern[TG_GLOB_MAX] = '\0';
	memset(path + 1, 'a', sizeof(path) - 2);
	struct tg_glob *g = compile(pattern);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool got = g && tg_glob_match(g, path, sizeof(path) - 1);
	bool got2 = g && tg_glob_match(g, path, 1000);
	double s = seconds_since(&t0);
	ok(g && got && !got2 && s < 5.0, "%d-byte pattern of '*?' on 8191 and 1000 bytes in %.3fs",
	   TG_GLOB_MAX, s);
	tg_glob_free(g);
}

/* ---- Compile errors --------------------------------------------------- */

struct error_case {
	const char *pattern;
	const char *reason; /* a substring of the message */
};

static const struct error_case error_cases[] = {
	{ "", "empty pattern" },
	{ "/a/[bc", "unterminated '['" },
	{ "/a/[", "unterminated '['" },
	{ "/a/[]", "unterminated '['" },
	{ "/a/[!]", "unterminated '['" },
	{ "/a/[b\\]", "unterminated '['" },
	{ "/a/{b,c}", "unexpanded '{'" },
	{ "/a/b}", "unexpanded '}'" },
	{ "/a/\\", "lone '\\'" },
	{ "/a/[z-a]", "reversed range" },
	{ "/a[/]b", "matches no character" },
	{ "/a[!\x01-\xff]", "matches no character" },
};

static void compile_errors(void)
{
	static char big[TG_GLOB_MAX + 2];

	for (size_t i = 0; i < ARRAY_SIZE(error_cases); i++) {
		const struct error_case *c = &error_cases[i];
		struct tg_glob *g = (struct tg_glob *)&g; /* must stay untouched */
		char err[128] = "";
		int r = tg_glob_compile(c->pattern, &g, err, sizeof(err));

		ok(r == -EINVAL && strstr(err, c->reason) && g == (struct tg_glob *)&g,
		   "compile '%s' fails: %s", c->pattern, err);
	}

	struct tg_glob *g = NULL;
	ok(tg_glob_compile(NULL, &g, NULL, 0) == -EINVAL && !g,
	   "compile NULL fails, no err buffer");
	char tiny[8];
	ok(tg_glob_compile("/a/[", &g, tiny, sizeof(tiny)) == -EINVAL && strlen(tiny) == 7,
	   "a short err buffer is truncated and terminated");

	/* TG_GLOB_MAX bytes compile, one more does not. */
	big[0] = '/';
	memset(big + 1, 'x', TG_GLOB_MAX - 1);
	big[TG_GLOB_MAX] = '\0';
	g = NULL;
	int r = tg_glob_compile(big, &g, NULL, 0);
	ok(r == 0 && tg_glob_match(g, big, TG_GLOB_MAX), "a %d-byte pattern compiles and matches",
	   TG_GLOB_MAX);
	tg_glob_free(g);
	big[TG_GLOB_MAX] = 'x';
	big[TG_GLOB_MAX + 1] = '\0';
	char err[128] = "";
	g = NULL;
	r = tg_glob_compile(big, &g, err, sizeof(err));
	ok(r == -EINVAL && strstr(err, "longer than 4096") && !g, "a %d-byte pattern fails: %s",
	   TG_GLOB_MAX + 1, err);

	/* A relative pattern is the loader's business, not the glob's. */
	g = compile("a/*");
	ok(g && tg_glob_match(g, "a/b", 3), "a relative pattern compiles");
	tg_glob_free(g);
	tg_glob_free(NULL);
}

/* ---- Literal prefix --------------------------------------------------- */

struct literal_case {
	const char *pattern;
	const char *literal;
};

static const struct literal_case literal_cases[] = {
	{ "/x/y", "/x/y" },
	{ "/x/y/**", "/x/y" },
	{ "/x/y/***", "/x/y" },
	{ "/a/**/b", "/a/" },
	{ "/a/b*", "/a/b" },
	{ "/a/b?", "/a/b" },
	{ "/a/[bc]", "/a/" },
	{ "/a\\*b/*", "/a*b/" },
	{ "/a\\\\b", "/a\\b" },
	{ "/*", "/" },
	{ "/**", "" },
	{ "**/x", "" },
	{ "/usr/lib/python3*/**", "/usr/lib/python3" },
	{ "/a/**b", "/a/" },
	{ "/x/y/**/z/**", "/x/y/" },
	{ "/a/**/**", "/a" },
	{ "/x/**/**/y", "/x/" },
	{ "/**/**", "" },
};

/* ---- Specificity ------------------------------------------------------ */

struct spec_case {
	const char *pattern;
	unsigned prefix, wildcards;
};

static const struct spec_case spec_cases[] = {
	{ "/x/y/**", 4, 1 },
	{ "/x/y", 4, 0 },
	{ "/usr/lib/python3*/**", 16, 2 },
	{ "/a/{b,c}", 3, 1 },
	{ "/a/{b,{c,d}}*", 3, 3 },
	{ "/a/*/b/**", 3, 2 },
	{ "/**", 0, 1 },
	{ "/*", 1, 1 },
	{ "/a/[bc]/?", 3, 2 },
	{ "/a/[*?{]", 3, 1 },
	{ "/a\\*b", 4, 0 },
	{ "/a/**/b", 3, 1 },
	{ "/x/y/**/z", 5, 1 },
	{ "/a/***", 2, 1 },
	{ "/a/**/**", 2, 1 },
	{ "/x/**/**/y", 3, 1 },
	{ "/x/**/**/**", 2, 1 },
	{ "/a/**b", 3, 1 },
	{ "/a/b**", 4, 1 },
	{ "/a/[", 3, 1 },
	{ "/a}", 3, 0 },
	{ "/a/\\", 4, 0 },
	{ "", 0, 0 },
};

/* ---- Brace expansion -------------------------------------------------- */

struct brace_case {
	const char *pattern;
	int ret;
	const char *alts; /* joined with '|' */
};

static const struct brace_case brace_cases[] = {
	{ "/a", 0, "/a" },
	{ "/a/{b,c}", 0, "/a/b|/a/c" },
	{ "a{b,c{d,e}}", 0, "ab|acd|ace" },
	{ "{a,b}{c,d}", 0, "ac|ad|bc|bd" },
	{ "{x{1,2},y}{a,b}", 0, "x1a|x1b|x2a|x2b|ya|yb" },
	{ "/{c,a,b}", 0, "/c|/a|/b" },
	{ "/a/{,b}", 0, "/a/|/a/b" },
	{ "/a{}", 0, "/a" },
	{ "/a{b}", 0, "/ab" },
	{ "/{a,b}/{c,d}/**", 0, "/a/c/**|/a/d/**|/b/c/**|/b/d/**" },
	{ "{{{{{{a}}}}}}", 0, "a" },
	{ "/{a,{b,{c,{d}}}}", 0, "/a|/b|/c|/d" },
	{ "/a,b", 0, "/a,b" },
	{ "/a\\{b,c\\}", 0, "/a\\{b,c\\}" },
	{ "/{a\\,b,c}", 0, "/a\\,b|/c" },
	{ "/{a\\},b}", 0, "/a\\}|/b" },
	{ "/a/[{,}]", 0, "/a/[{,}]" },
	{ "/{[,],x}", 0, "/[,]|/x" },
	{ "/{a,[}]}", 0, "/a|/[}]" },
	{ "/a/[", 0, "/a/[" },
	{ "/a\\", 0, "/a\\" },
	{ "", 0, "" },
	{ "/a/{b,c", -EINVAL, NULL },
	{ "/a/b}", -EINVAL, NULL },
	{ "/a/{b,{c}", -EINVAL, NULL },
	{ "}{", -EINVAL, NULL },
	{ "/{a,b}}", -EINVAL, NULL },
	{ "/a/[{]}", -EINVAL, NULL },
	{ "/{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}", 0, NULL },           /* 256 */
	{ "/{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}", -E2BIG, NULL }, /* 512 */
	{ "/{0,1,2,3,4,5,6,7,8,9}{0,1,2,3,4,5,6,7,8,9}{0,1,2,3,4,5,6,7,8,9}", -E2BIG, NULL },
	{ "/{a,{b,c}{d,e}{f,g}{h,i}{j,k}{l,m}{n,o}{p,q}}", -E2BIG, NULL }, /* 257 */
	{ "/{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,{p}}", 0, NULL },        /* 256 */
	{ "/{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,{p,q}}", -E2BIG, NULL }, /* 384 */
};

struct collect {
	char buf[8192];
	size_t len;
	unsigned calls;
	unsigned stop_at; /* return non-zero on this call (1-based), 0: never */
};

static int collect(const char *alt, void *ud)
{
	struct collect *c = ud;
	int n = snprintf(c->buf + c->len, sizeof(c->buf) - c->len, "%s%s", c->calls ? "|" : "",
			 alt);

	if (n > 0)
		c->len += (size_t)n < sizeof(c->buf) - c->len ? (size_t)n : 0;
	c->calls++;
	return c->calls == c->stop_at ? 42 : 0;
}

static int count_only(const char *alt, void *ud)
{
	unsigned *n = ud;
	size_t len = strlen(alt);

	(*n)++;
	return len > TG_GLOB_MAX ? -1 : 0;
}

static void brace_extra(void)
{
	static char big[4 * TG_GLOB_MAX];
	struct collect c = { .stop_at = 2 };
	unsigned n = 0;
	int r;

	r = tg_glob_braces("/{a,b,c}", collect, &c);
	ok(r == 42 && c.calls == 2 && strcmp(c.buf, "/a|/b") == 0,
	   "braces stop at the callback's non-zero value");

	r = tg_glob_braces("/{a,b}}", count_only, &n);
	ok(r == -EINVAL && n == 0, "braces call nothing for an unbalanced pattern");
	n = 0;
	r = tg_glob_braces("/{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}", count_only, &n);
	ok(r == -E2BIG && n == 0, "braces call nothing when too many alternatives");
	ok(tg_glob_braces(NULL, count_only, &n) == -EINVAL, "braces refuse NULL");

	/* Lengths: a TG_GLOB_MAX alternative is fine, one byte more is not. */
	big[0] = '/';
	memset(big + 1, 'x', TG_GLOB_MAX - 1);
	big[TG_GLOB_MAX] = '\0';
	n = 0;
	r = tg_glob_braces(big, count_only, &n);
	ok(r == 0 && n == 1, "braces: a %d-byte pattern is one alternative", TG_GLOB_MAX);
	strcpy(big + TG_GLOB_MAX, "x");
	n = 0;
	r = tg_glob_braces(big, count_only, &n);
	ok(r == -E2BIG && n == 0, "braces: a %d-byte pattern is too long", TG_GLOB_MAX + 1);
	/* "/{<4094 x>,b}": the longest alternative decides, not the input. */
	big[0] = '/';
	big[1] = '{';
	memset(big + 2, 'x', TG_GLOB_MAX - 1);
	strcpy(big + 2 + TG_GLOB_MAX - 1, ",b}");
	n = 0;
	r = tg_glob_braces(big, count_only, &n);
	ok(r == 0 && n == 2, "braces: '/{%d x,b}' fits", TG_GLOB_MAX - 1);
	big[2 + TG_GLOB_MAX - 1] = 'x';
	strcpy(big + 2 + TG_GLOB_MAX, ",b}");
	n = 0;
	r = tg_glob_braces(big, count_only, &n);
	ok(r == -E2BIG && n == 0, "braces: '/{%d x,b}' is too long", TG_GLOB_MAX);
	/* An input longer than TG_GLOB_MAX whose alternatives are all short. */
	size_t k = 0;
	big[k++] = '{';
	for (int i = 0; i < 200; i++)
		k += (size_t)sprintf(big + k, "/%030d,", i);
	big[k - 1] = '}';
	big[k] = '\0';
	n = 0;
	r = tg_glob_braces(big, count_only, &n);
	ok(r == 0 && n == 200, "braces: a %zu-byte input with 200 short alternatives", k);

	/* Nesting as deep as the pattern is long must not exhaust the stack. */
	size_t depth = sizeof(big) / 2 - 2;
	memset(big, '{', depth);
	big[depth] = 'a';
	memset(big + depth + 1, '}', depth);
	big[2 * depth + 1] = '\0';
	c = (struct collect){ 0 };
	r = tg_glob_braces(big, collect, &c);
	ok(r == 0 && strcmp(c.buf, "a") == 0, "braces: %zu nested groups", depth);

	/* Each alternative compiles: expansion keeps escapes for the compiler. */
	c = (struct collect){ 0 };
	r = tg_glob_braces("/x/{a\\,b,c\\{d}/**", collect, &c);
	struct tg_glob *g1 = compile("/x/a\\,b/**"), *g2 = compile("/x/c\\{d/**");
	ok(r == 0 && strcmp(c.buf, "/x/a\\,b/**|/x/c\\{d/**") == 0 && g1 && g2 &&
		   tg_glob_match(g1, "/x/a,b/f", 8) && tg_glob_match(g2, "/x/c{d", 6),
	   "escaped comma and brace survive expansion and match literally");
	tg_glob_free(g1);
	tg_glob_free(g2);
}

#define N_EXTRA_PATHOLOGICAL 13
#define N_EXTRA_COMPILE      5
#define N_EXTRA_BRACES       11
#define N_EXTRA_MISC         3

/* ---- Pattern text: literal prefix, split, escape ------------------------- */

struct prefix_case {
	const char *pattern;
	size_t want;
};

/* The one literal-prefix rule: it stops at '*', '?', '[', '{', '}' and '\'. */
static const struct prefix_case prefix_cases[] = {
	{ "/x/y", 4 },  { "/data/ep*.pt", 8 }, { "/a/b?", 4 },  { "/a/[bc]", 3 }, { "/a/{b,c}", 3 },
	{ "/a/b}", 4 }, { "/a\\*b", 2 },       { "/a]b,c", 6 }, { "", 0 },        { "*", 0 },
	{ "/a/[b", 3 },
};

struct split_case {
	const char *alt;
	bool split, tree, name_any, name_literal;
	const char *dir, *name;
};

static const struct split_case split_cases[] = {
	{ "/a/b/*.pt", true, false, false, false, "/a/b", "*.pt" },
	{ "/a/*", true, false, true, false, "/a", "*" },
	{ "/a/*/x/**", true, true, false, true, "/a/*", "x" },
	{ "/a/*/x/**/**", true, true, false, true, "/a/*", "x" },
	{ "/*.cfg", true, false, false, false, "", "*.cfg" },
	{ "/a/**/b", true, false, false, true, "/a/**", "b" },
	{ "/a/**.pt", false, false, false, false, NULL, NULL },
	{ "/a/[/b]c", false, false, false, false, NULL, NULL },
	{ "/a/[\\/b]c", true, false, false, false, "/a", "[\\/b]c" },
	{ "/a\\/**", false, false, false, false, NULL, NULL },
	{ "/a/***", false, false, false, false, NULL, NULL },
	{ "/**", false, true, false, false, NULL, NULL },
	{ "a/*", false, false, false, false, NULL, NULL },
	{ "/a/x\\*", true, false, false, false, "/a", "x\\*" },
};

static void pattern_text(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(prefix_cases); i++) {
		const struct prefix_case *c = &prefix_cases[i];
		size_t got = tg_glob_literal_prefix(c->pattern, strlen(c->pattern));
		ok(got == c->want, "literal prefix of '%s' is %zu bytes (got %zu)", c->pattern,
		   c->want, got);
	}
	for (size_t i = 0; i < ARRAY_SIZE(split_cases); i++) {
		const struct split_case *c = &split_cases[i];
		struct tg_glob_parts t;
		bool got = tg_glob_split(c->alt, strlen(c->alt), &t);
		bool same = got == c->split && t.tree == c->tree;
		if (same && got)
			same = t.name_any == c->name_any && t.name_literal == c->name_literal &&
			       t.slash == strlen(c->dir) && strncmp(c->alt, c->dir, t.slash) == 0 &&
			       t.len - t.slash - 1 == strlen(c->name) &&
			       strncmp(c->alt + t.slash + 1, c->name, t.len - t.slash - 1) == 0;
		ok(same, "'%s' %s", c->alt,
		   c->split ? "splits into its folder part and last name" : "does not split");
	}
	static const char *const escape_cases[] = { "/a/b", "/x*y?[z]{a,b}\\", "" };
	for (size_t i = 0; i < ARRAY_SIZE(escape_cases); i++) {
		const char *in = escape_cases[i];
		char out[64];
		struct tg_glob *g;
		size_t n = tg_glob_escape(in, strlen(in), out);
		bool matches = *in && tg_glob_compile(out, &g, NULL, 0) == 0 &&
			       tg_glob_match(g, in, strlen(in)) &&
			       tg_glob_literal_prefix(out, n) <= n;
		if (*in && matches) {
			size_t lit;
			tg_glob_literal(g, &lit);
			matches = lit == strlen(in); /* nothing but literal bytes */
			tg_glob_free(g);
		}
		ok(n == strlen(out) && (*in ? matches : n == 0),
		   "'%s' escaped is '%s' and matches itself", in, out);
	}
}
#define N_PATTERN_TEXT (ARRAY_SIZE(prefix_cases) + ARRAY_SIZE(split_cases) + 3)

int main(void)
{
	unsigned plan = ARRAY_SIZE(match_cases) + ARRAY_SIZE(error_cases) +
			ARRAY_SIZE(literal_cases) + ARRAY_SIZE(spec_cases) +
			ARRAY_SIZE(brace_cases) + N_EXTRA_PATHOLOGICAL + N_EXTRA_COMPILE +
			N_EXTRA_BRACES + N_EXTRA_MISC + N_PATTERN_TEXT;
	printf("1..%u\n", plan);

	for (size_t i = 0; i < ARRAY_SIZE(match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		struct tg_glob *g = compile(c->pattern);
		bool got = g && tg_glob_match(g, c->path, strlen(c->path));

		ok(g && got == c->want, "'%s' %s '%s'", c->pattern,
		   c->want ? "matches" : "does not match", c->path);
		tg_glob_free(g);
	}
	pathological_cases();
	compile_errors();
	pattern_text();

	for (size_t i = 0; i < ARRAY_SIZE(literal_cases); i++) {
		const struct literal_case *c = &literal_cases[i];
		struct tg_glob *g = compile(c->pattern);
		size_t len = 0;
		const char *lit = g ? tg_glob_literal(g, &len) : NULL;

		ok(lit && len == strlen(c->literal) && strcmp(lit, c->literal) == 0,
		   "literal of '%s' is '%s' (got '%s')", c->pattern, c->literal, lit ? lit : "");
		tg_glob_free(g);
	}

	for (size_t i = 0; i < ARRAY_SIZE(spec_cases); i++) {
		const struct spec_case *c = &spec_cases[i];
		unsigned p = ~0u, w = ~0u;

		tg_glob_specificity(c->pattern, &p, &w);
		ok(p == c->prefix && w == c->wildcards,
		   "specificity of '%s' is prefix %u, %u wildcards (got %u, %u)", c->pattern,
		   c->prefix, c->wildcards, p, w);
	}

	for (size_t i = 0; i < ARRAY_SIZE(brace_cases); i++) {
		const struct brace_case *c = &brace_cases[i];
		struct collect col = { 0 };
		int r = tg_glob_braces(c->pattern, collect, &col);
		bool pass = r == c->ret;

		if (pass && c->alts)
			pass = strcmp(col.buf, c->alts) == 0;
		else if (pass && r == 0)
			pass = col.calls == TG_GLOB_MAX_ALTERNATIVES;
		else if (pass)
			pass = col.calls == 0;
		ok(pass, "braces '%.60s' -> %d '%.60s'", c->pattern, r, col.buf);
	}
	brace_extra();

	/* For every compilable pattern of the match table, the specificity
	 * prefix is the length of the literal: both name the same head. */
	bool same = true;
	for (size_t i = 0; i < ARRAY_SIZE(match_cases); i++) {
		struct tg_glob *g = compile(match_cases[i].pattern);
		size_t len;
		unsigned p, w;

		tg_glob_literal(g, &len);
		tg_glob_specificity(match_cases[i].pattern, &p, &w);
		if (p != len) {
			printf("# '%s': prefix %u, literal %zu\n", match_cases[i].pattern, p, len);
			same = false;
		}
		tg_glob_free(g);
	}
	ok(same, "specificity prefix == literal length over the match table");

	/* Every path a glob matches starts with its literal. */
	bool starts = true;
	for (size_t i = 0; i < ARRAY_SIZE(match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		struct tg_glob *g = compile(c->pattern);
		size_t len;
		const char *lit = tg_glob_literal(g, &len);

		if (tg_glob_match(g, c->path, strlen(c->path)) && strncmp(c->path, lit, len) != 0)
			starts = false;
		tg_glob_free(g);
	}
	ok(starts, "every match starts with the literal");

	/* A NULL glob or path matches nothing. */
	struct tg_glob *g = compile("/**");
	ok(g && !tg_glob_match(NULL, "/", 1) && !tg_glob_match(g, NULL, 0), "NULL matches nothing");
	tg_glob_free(g);

	if (n_test != plan)
		printf("# ran %u tests, planned %u\n", n_test, plan);
	return n_failed || n_test != plan ? 1 : 0;
}
