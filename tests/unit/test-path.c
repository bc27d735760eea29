/* Table-driven tests of the lexical path normalizer, speaking TAP.
 *
 * Every case asserts the exact return value and the exact output, that a
 * result normalizes to itself, and that nothing is written past OUTSZ: the
 * guard hands the normalizer stack buffers, so an overrun there is a hole. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tg-path.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* BASE_LEN for "the whole of BASE". */
#define WHOLE  ((size_t)-1)
#define CANARY 'Z'
/* OUTSZ for a zero-byte buffer (0 in the table means PATH_MAX). */
#define OUTSZ_ZERO ((size_t)-1)

struct norm_case {
	const char *desc;
	const char *base;
	size_t base_len; /* WHOLE: strlen(base) */
	const char *path;
	size_t outsz;    /* 0 in the table means PATH_MAX */
	int ret;         /* expected length or -errno */
	const char *out; /* expected output on success */
};

static const struct norm_case norm_cases[] = {
	{ "root", NULL, 0, "/", 0, 1, "/" },
	{ "double slash is root", NULL, 0, "//", 0, 1, "/" },
	{ "triple slash is root", NULL, 0, "///", 0, 1, "/" },
	{ "one component", NULL, 0, "/a", 0, 2, "/a" },
	{ "trailing slash dropped", NULL, 0, "/a/", 0, 2, "/a" },
	{ "many trailing slashes dropped", NULL, 0, "/a///", 0, 2, "/a" },
	{ "inner // collapsed", NULL, 0, "/a//b", 0, 4, "/a/b" },
	{ "leading // collapsed", NULL, 0, "//a//b//", 0, 4, "/a/b" },
	{ "/./ collapsed", NULL, 0, "/a/./b", 0, 4, "/a/b" },
	{ "trailing /. dropped", NULL, 0, "/a/b/.", 0, 4, "/a/b" },
	{ "runs of ./", NULL, 0, "/a/././././b/./", 0, 4, "/a/b" },
	{ "/. is root", NULL, 0, "/.", 0, 1, "/" },
	{ "/./ is root", NULL, 0, "/./", 0, 1, "/" },
	{ "trailing .. pops", NULL, 0, "/a/b/..", 0, 2, "/a" },
	{ ".. twice to root", NULL, 0, "/a/b/../..", 0, 1, "/" },
	{ ".. at root stays root", NULL, 0, "/..", 0, 1, "/" },
	{ "many .. at root", NULL, 0, "/../../..", 0, 1, "/" },
	{ ".. above root then name", NULL, 0, "/../a", 0, 2, "/a" },
	{ ".. past root mid-path", NULL, 0, "/a/../../b", 0, 2, "/b" },
	{ "pop two, push one", NULL, 0, "/a/b/c/../../d", 0, 4, "/a/d" },
	{ "lexical .. (symlinks ignored)", NULL, 0, "/tmp/w/../f", 0, 6, "/tmp/f" },
	{ "... is a name", NULL, 0, "/...", 0, 4, "/..." },
	{ "dot-names kept", NULL, 0, "/.a/..b/a./a..", 0, 14, "/.a/..b/a./a.." },
	{ ".. after dot-dir", NULL, 0, "/a/.hidden/..", 0, 2, "/a" },
	{ "spaces and tabs are bytes", NULL, 0, "/a b/c\td", 0, 8, "/a b/c\td" },
	{ "non-ASCII bytes kept", NULL, 0, "/d\xc3\xa9j\xc3\xa0/x", 0, 9, "/d\xc3\xa9j\xc3\xa0/x" },
	{ "backslash is a byte", NULL, 0, "/a\\/..", 0, 1, "/" },
	{ "absolute path ignores base", "/x/y", WHOLE, "/a", 0, 2, "/a" },
	{ "absolute path ignores a relative base", "x", WHOLE, "/a", 0, 2, "/a" },
	{ "relative name joined", "/home/u", WHOLE, "x", 0, 9, "/home/u/x" },
	{ "relative . is base", "/home/u", WHOLE, ".", 0, 7, "/home/u" },
	{ "relative .. is parent of base", "/home/u", WHOLE, "..", 0, 5, "/home" },
	{ "relative .. beyond root", "/home/u", WHOLE, "../../../x", 0, 2, "/x" },
	{ "relative under root base", "/", WHOLE, "a", 0, 2, "/a" },
	{ "base and path with trailing slashes", "/home/u/", WHOLE, "a/", 0, 9, "/home/u/a" },
	{ "unnormalized base", "//home/./u/../v/", WHOLE, "a", 0, 9, "/home/v/a" },
	{ "relative with . and ..", "/r", WHOLE, "a/./b/../c", 0, 6, "/r/a/c" },
	{ "relative .. pops into base", "/a", WHOLE, "x/../..", 0, 1, "/" },
	{ "base_len honoured (no NUL)", "/home/u", 5, "a", 0, 7, "/home/a" },
	{ "NUL inside base_len ends base", "/a\0/b", 5, "c", 0, 4, "/a/c" },
	{ "relative with NULL base", NULL, 0, "a", 0, -EINVAL, NULL },
	{ "relative with empty base", "/x", 0, "a", 0, -EINVAL, NULL },
	{ "relative with relative base", "home", WHOLE, "a", 0, -EINVAL, NULL },
	{ "relative with base starting with NUL", "\0/x", 3, "a", 0, -EINVAL, NULL },
	{ "empty path", NULL, 0, "", 0, -EINVAL, NULL },
	{ "empty path with base", "/x", WHOLE, "", 0, -EINVAL, NULL },
	{ "NULL path", "/x", WHOLE, NULL, 0, -EINVAL, NULL },
	{ "root in outsz 2", NULL, 0, "/", 2, 1, "/" },
	{ "root in outsz 1", NULL, 0, "/", 1, -ENAMETOOLONG, NULL },
	{ "root in outsz 0", NULL, 0, "/", OUTSZ_ZERO, -ENAMETOOLONG, NULL },
	{ "exact fit: 4 bytes + NUL in 5", NULL, 0, "/abc", 5, 4, "/abc" },
	{ "one byte short", NULL, 0, "/abc", 4, -ENAMETOOLONG, NULL },
	{ "trailing slash needs no room", NULL, 0, "/abc/", 5, 4, "/abc" },
	{ "collapsed input fits", NULL, 0, "//a/./b/../c//", 5, 4, "/a/c" },
	{ "an intermediate that does not fit", NULL, 0, "/abcdef/..", 4, -ENAMETOOLONG, NULL },
	{ "joined result exact fit", "/ab", WHOLE, "cd", 7, 6, "/ab/cd" },
	{ "joined result one short", "/ab", WHOLE, "cd", 6, -ENAMETOOLONG, NULL },
	{ "base alone too long", "/abcdef", WHOLE, "..", 5, -ENAMETOOLONG, NULL },
};

/* Runs one normalization into a buffer of OUTSZ bytes followed by canaries;
 * returns true when the return value, the output, the canaries and the
 * idempotence all check out, and explains the first mismatch on stdout as
 * a TAP comment. */
static bool check_norm(const char *base, size_t base_len, const char *path, size_t outsz, int want,
		       const char *want_out)
{
	static char buf[PATH_MAX * 4 + 64];
	size_t room = outsz < sizeof(buf) - 64 ? outsz : sizeof(buf) - 64;
	int r;

	memset(buf, CANARY, room + 64);
	r = tg_path_normalize(base, base_len, path, buf, outsz);
	if (r != want) {
		printf("# got %d, want %d\n", r, want);
		return false;
	}
	for (size_t i = room; i < room + 64; i++)
		if (buf[i] != CANARY) {
			printf("# wrote past outsz at %zu\n", i);
			return false;
		}
	if (r < 0) {
		if (outsz > 0 && buf[0] != '\0') {
			printf("# failure left '%.20s' in out\n", buf);
			return false;
		}
		return true;
	}
	if (strlen(buf) != (size_t)r || (want_out && strcmp(buf, want_out) != 0)) {
		printf("# got '%s'\n", buf);
		return false;
	}
	/* Normalizing a normalized path is the identity. */
	static char again[PATH_MAX * 4 + 64];
	int r2 = tg_path_normalize(NULL, 0, buf, again, sizeof(again));
	if (r2 != r || strcmp(again, buf) != 0) {
		printf("# not idempotent: '%s'\n", again);
		return false;
	}
	return true;
}

static char *repeat(char *dst, const char *unit, size_t times)
{
	size_t u = strlen(unit);

	for (size_t i = 0; i < times; i++)
		memcpy(dst + i * u, unit, u);
	dst[times * u] = '\0';
	return dst;
}

#define N_LONG 9
/* Inputs at PATH_MAX: the normalizer must handle them exactly at the edge. */
static void long_cases(void)
{
	static char path[PATH_MAX * 6], want[PATH_MAX * 2 + 16], base[PATH_MAX * 2];
	size_t n;

	/* "/" + 'a' * (PATH_MAX - 2): PATH_MAX - 1 bytes, fits with its NUL. */
	path[0] = '/';
	memset(path + 1, 'a', PATH_MAX - 2);
	path[PATH_MAX - 1] = '\0';
	ok(check_norm(NULL, 0, path, PATH_MAX, PATH_MAX - 1, path),
	   "PATH_MAX - 1 bytes fit in PATH_MAX");
	ok(check_norm(NULL, 0, path, PATH_MAX - 1, -ENAMETOOLONG, NULL),
	   "PATH_MAX - 1 bytes do not fit in PATH_MAX - 1");

	/* One more byte: PATH_MAX bytes need PATH_MAX + 1. */
	path[PATH_MAX - 1] = 'a';
	path[PATH_MAX] = '\0';
	ok(check_norm(NULL, 0, path, PATH_MAX, -ENAMETOOLONG, NULL),
	   "PATH_MAX bytes do not fit in PATH_MAX");
	ok(check_norm(NULL, 0, path, PATH_MAX + 1, PATH_MAX, path),
	   "PATH_MAX bytes fit in PATH_MAX + 1");

	/* Many short components: PATH_MAX/2 "/b" make a PATH_MAX-long result. */
	repeat(path, "/b", PATH_MAX / 2 - 1);
	ok(check_norm(NULL, 0, path, PATH_MAX, PATH_MAX - 2, path), "%d components fit",
	   PATH_MAX / 2 - 1);

	/* A long input that collapses to a short path. */
	n = strlen(repeat(path, "/./", PATH_MAX));
	strcpy(path + n, "x//");
	ok(check_norm(NULL, 0, path, PATH_MAX, 2, "/x"), "%zu-byte input collapsing to '/x'",
	   n + 3);
	repeat(path, "/a/..", PATH_MAX);
	/* Each intermediate "/a" needs 3 bytes. */
	ok(check_norm(NULL, 0, path, 3, 1, "/"), "%d x '/a/..' is root in outsz 3", PATH_MAX);

	/* A joined result exactly at the edge, then one past it. */
	base[0] = '/';
	memset(base + 1, 'b', PATH_MAX - 10);
	base[PATH_MAX - 9] = '\0';
	snprintf(want, sizeof(want), "%s/1234567", base);
	ok(check_norm(base, WHOLE, "1234567", PATH_MAX, PATH_MAX - 1, want),
	   "base + relative exactly PATH_MAX - 1");
	ok(check_norm(base, WHOLE, "12345678", PATH_MAX, -ENAMETOOLONG, NULL),
	   "base + relative one past PATH_MAX - 1");
}

struct parent_case {
	const char *path;
	size_t want;
};

static const struct parent_case parent_cases[] = {
	{ "/a/b", 2 }, { "/a", 1 },      { "/", 1 },        { "/a/b/c", 4 },
	{ "/abc", 1 }, { "/.a/b.c", 3 }, { "/abc/def", 4 },
};

#define N_EXTRA 4

int main(void)
{
	unsigned plan = ARRAY_SIZE(norm_cases) + N_LONG + ARRAY_SIZE(parent_cases) + N_EXTRA;

	printf("1..%u\n", plan);
	for (size_t i = 0; i < ARRAY_SIZE(norm_cases); i++) {
		const struct norm_case *c = &norm_cases[i];
		size_t blen = c->base_len == WHOLE ? strlen(c->base) : c->base_len;
		size_t outsz = c->outsz == 0 ? PATH_MAX : c->outsz == OUTSZ_ZERO ? 0 : c->outsz;

		ok(check_norm(c->base, blen, c->path, outsz, c->ret, c->out), "normalize: %s",
		   c->desc);
	}
	long_cases();
	for (size_t i = 0; i < ARRAY_SIZE(parent_cases); i++) {
		const struct parent_case *c = &parent_cases[i];
		size_t got = tg_path_parent_len(c->path, strlen(c->path));

		ok(got == c->want, "parent_len('%s') = %zu (got %zu)", c->path, c->want, got);
	}

	/* NULL OUT is refused, not dereferenced. */
	ok(tg_path_normalize(NULL, 0, "/a", NULL, 16) == -EINVAL, "normalize: NULL out");
	/* The parent of a normalized path is normalized and a prefix of it. */
	{
		static const char p[] = "/usr/lib/python3.11/site-packages";
		char out[64];
		size_t pl = tg_path_parent_len(p, strlen(p));
		int r = tg_path_normalize("/usr/lib/python3.11", 19, ".", out, sizeof(out));

		ok(r == (int)pl && memcmp(out, p, pl) == 0, "parent_len agrees with normalize");
	}

	/* The quick normality checks agree with normalizing, on every string
	 * of '/', '.' and 'a' up to 12 bytes and random ones up to 40 (the
	 * eight-byte scan has word edges to get wrong). */
	{
		static const char alpha[] = "/.a";
		unsigned bad_abs = 0, bad_rel = 0, total = 0;
		unsigned long long r = 88172645463325252ULL;
		for (unsigned k = 0; k < 400000; k++) {
			char p[48], out[128], want[128];
			size_t len;
			if (k < 265720) { /* 3^0 + ... + 3^11 strings, enumerated */
				unsigned v = k;
				len = 0;
				for (unsigned lim = 1, acc = 0; acc + lim <= v;
				     acc += lim, lim *= 3)
					len++;
				unsigned base = 0;
				for (size_t i = 0, lim = 1; i < len; i++, lim *= 3)
					base += lim;
				v -= base;
				for (size_t i = 0; i < len; i++, v /= 3)
					p[i] = alpha[v % 3];
			} else {
				r ^= r << 13, r ^= r >> 7, r ^= r << 17;
				len = 12 + r % 29;
				for (size_t i = 0; i < len; i++) {
					r ^= r << 13, r ^= r >> 7, r ^= r << 17;
					p[i] = alpha[r % 3];
				}
			}
			p[len] = '\0';
			total++;
			int nl = tg_path_normalize(NULL, 0, p, out, sizeof(out));
			bool normal = p[0] == '/' && nl == (int)len && strcmp(out, p) == 0;
			bad_abs += (tg_path_is_normal(p) != 0) != normal ||
				   (normal && tg_path_is_normal(p) != len);
			snprintf(want, sizeof(want), "/b/%s", p);
			nl = tg_path_normalize("/b", 2, p, out, sizeof(out));
			bool joins = len > 0 && p[0] != '/' && nl > 0 && strcmp(out, want) == 0;
			bad_rel += (tg_path_rel_normal(p) != 0) != joins ||
				   (joins && tg_path_rel_normal(p) != len);
		}
		ok(bad_abs == 0, "is_normal agrees with normalize on %u strings (%u differ)", total,
		   bad_abs);
		ok(bad_rel == 0, "rel_normal agrees with joining on %u strings (%u differ)", total,
		   bad_rel);
	}

	if (n_test != plan)
		printf("# ran %u tests, planned %u\n", n_test, plan);
	return n_failed || n_test != plan ? 1 : 0;
}
