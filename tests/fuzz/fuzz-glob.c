/* Fuzzes the pattern compiler, matcher, specificity, brace expansion and
 * the questions the loader asks of a pattern's text (literal prefix,
 * split into folder and last name, escape).
 *
 * Input: a pattern, a '\n', then the path to match (any bytes). The
 * pattern goes through tg_glob_braces() and every alternative through
 * tg_glob_compile() and tg_glob_match(). Small inputs are also checked
 * against the slow, obviously correct reference implementations below (a
 * memoized recursive matcher straight from trainguard.conf(5), and a
 * rewrite-the-first-group brace expander), so the fuzzer finds wrong
 * answers, not only crashes. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "tg-glob.h"

/* Inputs up to these sizes are compared with the references. */
#define REF_MAX        200
#define REF_BRACES_MAX 64

/* ---- Reference matcher ------------------------------------------------ */

static const char *rp, *rs;
static size_t rpn, rsn;
static signed char memo[REF_MAX + 1][REF_MAX + 1];

/* The byte written at P[I] when it stands for itself; false for '*', '?'
 * and '['. */
static bool ref_literal(size_t i, unsigned char *c, size_t *next)
{
	if (rp[i] == '\\' && i + 1 < rpn) {
		*c = (unsigned char)rp[i + 1];
		*next = i + 2;
		return true;
	}
	if (rp[i] == '*' || rp[i] == '?' || rp[i] == '[')
		return false;
	*c = (unsigned char)rp[i];
	*next = i + 1;
	return true;
}

static size_t ref_stars(size_t i)
{
	size_t k = 0;

	while (i + k < rpn && rp[i + k] == '*')
		k++;
	return k;
}

/* Does the class at P[I] accept C? Stores the index after it. */
static bool ref_class(size_t i, unsigned char c, size_t *next)
{
	size_t j = i + 1;
	bool neg = false, in = false, first = true;

	if (j < rpn && (rp[j] == '!' || rp[j] == '^')) {
		neg = true;
		j++;
	}
	for (;;) {
		FUZZ_CHECK(j < rpn); /* the compiler accepted it, so it closes */
		if (rp[j] == ']' && !first)
			break;
		first = false;
		unsigned char lo = (unsigned char)rp[j], hi;
		if (lo == '\\') {
			lo = (unsigned char)rp[j + 1];
			j++;
		}
		j++;
		hi = lo;
		if (rp[j] == '-' && j + 1 < rpn && rp[j + 1] != ']') {
			j++;
			hi = (unsigned char)rp[j];
			if (hi == '\\') {
				hi = (unsigned char)rp[j + 1];
				j++;
			}
			j++;
		}
		if (lo <= c && c <= hi)
			in = true;
	}
	*next = j + 1;
	return c != '/' && c != '\0' && in != neg;
}

static bool ref_match(size_t pi, size_t si)
{
	unsigned char c, c2;
	size_t next, next2, k;
	bool r = false;

	if (memo[pi][si])
		return memo[pi][si] > 0;
	if (pi == rpn) {
		r = si == rsn;
	} else if (ref_literal(pi, &c, &next)) {
		k = c == '/' ? ref_stars(next) : 0;
		/* "X/<**>" matches X and "a/<**>/b" matches "a/b": a slash-star-star
		 * that ends the pattern or comes before a '/' may be left out. */
		if (k >= 2 &&
		    (next + k == rpn || (ref_literal(next + k, &c2, &next2) && c2 == '/')))
			r = ref_match(next + k, si);
		if (!r)
			r = si < rsn && (unsigned char)rs[si] == c && ref_match(next, si + 1);
	} else if (rp[pi] == '*') {
		k = ref_stars(pi);
		for (size_t j = si; j <= rsn && !r; j++) {
			r = ref_match(pi + k, j);
			if (k == 1 && j < rsn && rs[j] == '/')
				break;
		}
	} else if (rp[pi] == '?') {
		r = si < rsn && rs[si] != '/' && ref_match(pi + 1, si + 1);
	} else {
		r = si < rsn && ref_class(pi, (unsigned char)rs[si], &next) &&
		    ref_match(next, si + 1);
	}
	memo[pi][si] = r ? 1 : -1;
	return r;
}

static bool reference_match(const char *pattern, const char *path, size_t len)
{
	rp = pattern;
	rpn = strlen(pattern);
	rs = path;
	rsn = len;
	for (size_t i = 0; i <= rpn; i++)
		memset(memo[i], 0, rsn + 1);
	return ref_match(0, 0);
}

/* ---- Reference brace expansion ---------------------------------------- */

struct alts {
	char v[TG_GLOB_MAX_ALTERNATIVES + 1][REF_BRACES_MAX + 1];
	size_t n;
};

/* Index after the lexeme at S[I]: an escape pair, a whole class, or a byte. */
static size_t ref_skip(const char *s, size_t n, size_t i)
{
	if (s[i] == '\\')
		return i + 1 < n ? i + 2 : i + 1;
	if (s[i] != '[')
		return i + 1;
	size_t j = i + 1;
	if (j < n && (s[j] == '!' || s[j] == '^'))
		j++;
	if (j < n && s[j] == ']')
		j++;
	for (; j < n; j++) {
		if (s[j] == '\\')
			j++;
		else if (s[j] == ']')
			return j + 1;
	}
	return i + 1;
}

/* 0, or -EINVAL when '{' and '}' do not pair up. */
static int ref_balanced(const char *s)
{
	size_t n = strlen(s);
	long depth = 0;

	for (size_t i = 0; i < n; i = ref_skip(s, n, i)) {
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && --depth < 0)
			return -EINVAL;
	}
	return depth ? -EINVAL : 0;
}

/* Rewrites the first group of S into each of its alternatives, recursively:
 * the textbook definition. S is balanced. */
static int ref_expand(const char *s, struct alts *out)
{
	size_t n = strlen(s), open = n, close = n, i;
	size_t cut[REF_BRACES_MAX + 2], ncut = 0; /* '{', top-level ',', '}' */
	long depth = 0;

	for (i = 0; i < n; i = ref_skip(s, n, i))
		if (s[i] == '{') {
			open = i;
			break;
		}
	if (open == n) {
		if (out->n == TG_GLOB_MAX_ALTERNATIVES)
			return -E2BIG;
		memcpy(out->v[out->n++], s, n + 1);
		return 0;
	}
	for (i = open; i < n; i = ref_skip(s, n, i)) {
		if (s[i] == '{' && depth++ == 0)
			cut[ncut++] = i;
		else if (s[i] == ',' && depth == 1)
			cut[ncut++] = i;
		else if (s[i] == '}' && --depth == 0) {
			cut[ncut++] = close = i;
			break;
		}
	}
	FUZZ_CHECK(close < n);
	for (size_t k = 0; k + 1 < ncut; k++) {
		char buf[REF_BRACES_MAX + 1];
		size_t a = cut[k] + 1, b = cut[k + 1], len = open;

		memcpy(buf, s, open);
		memcpy(buf + len, s + a, b - a);
		len += b - a;
		memcpy(buf + len, s + close + 1, n - close - 1);
		len += n - close - 1;
		buf[len] = '\0';
		int r = ref_expand(buf, out);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- The target ------------------------------------------------------- */

struct ctx {
	const char *pattern;
	const char *path;
	size_t len;
	unsigned calls;
	struct alts *got; /* alternatives seen, when comparing */
};

static int on_alternative(const char *alt, void *ud)
{
	struct ctx *c = ud;
	struct tg_glob *g = NULL;
	char err[256] = "";
	size_t altlen = strlen(alt);

	c->calls++;
	FUZZ_CHECK(c->calls <= TG_GLOB_MAX_ALTERNATIVES);
	FUZZ_CHECK(altlen <= TG_GLOB_MAX);
	if (c->got && altlen <= REF_BRACES_MAX && c->got->n <= TG_GLOB_MAX_ALTERNATIVES)
		memcpy(c->got->v[c->got->n++], alt, altlen + 1);

	int r = tg_glob_compile(alt, &g, err, sizeof(err));
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL && err[0] && !g);
		/* Expansion leaves no brace that the compiler would refuse. */
		FUZZ_CHECK(!strstr(err, "unexpanded"));
		return 0;
	}
	FUZZ_CHECK(r == 0 && g);

	size_t litlen;
	const char *lit = tg_glob_literal(g, &litlen);
	unsigned prefix, wild;
	FUZZ_CHECK(strlen(lit) == litlen);
	tg_glob_specificity(alt, &prefix, &wild);
	FUZZ_CHECK(prefix == litlen);
	FUZZ_CHECK(wild > 0 || strchr(alt, '\\') || strcmp(lit, alt) == 0);

	bool m = tg_glob_match(g, c->path, c->len);
	/* Everything a glob matches starts with its literal. */
	if (m)
		FUZZ_CHECK(c->len >= litlen && memcmp(c->path, lit, litlen) == 0);
	/* The literal of a wildcard-free glob is the only thing it matches. */
	if (wild == 0)
		FUZZ_CHECK(tg_glob_match(g, lit, litlen) &&
			   m == (c->len == litlen && memcmp(c->path, lit, litlen) == 0));
	if (altlen <= REF_MAX && c->len <= REF_MAX)
		FUZZ_CHECK(m == reference_match(alt, c->path, c->len));

	/* The literal prefix as written: every match starts with it, or with
	 * it less a final '/' that a slash-star-star may leave out. */
	size_t lp = tg_glob_literal_prefix(alt, altlen);
	FUZZ_CHECK(lp <= altlen && lp <= litlen + 1);
	FUZZ_CHECK(memcmp(lit, alt, lp < litlen ? lp : litlen) == 0);
	if (m)
		FUZZ_CHECK((c->len >= lp && memcmp(c->path, alt, lp) == 0) ||
			   (lp > 0 && alt[lp - 1] == '/' && c->len >= lp - 1 &&
			    memcmp(c->path, alt, lp - 1) == 0));
	struct tg_glob_parts parts;
	if (tg_glob_split(alt, altlen, &parts)) {
		FUZZ_CHECK(alt[0] == '/' && alt[parts.slash] == '/');
		FUZZ_CHECK(parts.slash + 1 < parts.len && parts.len <= altlen);
		FUZZ_CHECK(parts.tree == (parts.len < altlen));
		size_t nlen = parts.len - parts.slash - 1;
		FUZZ_CHECK(!parts.name_literal ||
			   tg_glob_literal_prefix(alt + parts.slash + 1, nlen) == nlen);
	}
	tg_glob_free(g);
	return 0;
}

/* A path escaped is a pattern that matches that path, literally. */
static void check_escape(const char *path, size_t len)
{
	static char esc[2 * TG_GLOB_MAX + 1];
	struct tg_glob *g;
	size_t litlen;

	if (len == 0 || len > TG_GLOB_MAX / 2 || memchr(path, '\0', len))
		return;
	size_t n = tg_glob_escape(path, len, esc);
	FUZZ_CHECK(n >= len && n <= 2 * len && esc[n] == '\0');
	FUZZ_CHECK(tg_glob_compile(esc, &g, NULL, 0) == 0);
	FUZZ_CHECK(tg_glob_match(g, path, len));
	const char *lit = tg_glob_literal(g, &litlen);
	FUZZ_CHECK(litlen == len && memcmp(lit, path, len) == 0);
	tg_glob_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct alts got, want;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - data) : size;
	char *pattern = malloc(plen + 1);

	if (!pattern)
		return 0;
	memcpy(pattern, data, plen);
	pattern[plen] = '\0';

	struct ctx c = { .pattern = pattern };
	size_t off = nl ? plen + 1 : size;
	c.len = size - off;
	/* A copy of exactly the path's size, so a read past it is caught. */
	char *path = malloc(c.len ? c.len : 1);
	if (!path) {
		free(pattern);
		return 0;
	}
	memcpy(path, data + off, c.len);
	c.path = path;

	unsigned prefix, wild;
	tg_glob_specificity(pattern, &prefix, &wild);
	FUZZ_CHECK(prefix <= strlen(pattern) && wild <= strlen(pattern));
	check_escape(path, c.len);

	bool compare = strlen(pattern) <= REF_BRACES_MAX;
	got.n = 0;
	c.got = compare ? &got : NULL;
	int r = tg_glob_braces(pattern, on_alternative, &c);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	if (r < 0)
		FUZZ_CHECK(c.calls == 0);

	if (compare) {
		want.n = 0;
		int rr = ref_balanced(pattern);
		if (rr == 0)
			rr = ref_expand(pattern, &want);
		FUZZ_CHECK(r == rr);
		if (r == 0) {
			FUZZ_CHECK(got.n == want.n);
			for (size_t i = 0; i < got.n; i++)
				FUZZ_CHECK(strcmp(got.v[i], want.v[i]) == 0);
		}
	}
	free(path);
	free(pattern);
	return 0;
}
