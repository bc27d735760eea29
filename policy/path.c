/* Lexical path normalization for the hook path and the policy loader.
 *
 * Every decision is taken on the absolute, lexically normalized form of the
 * path the program passed, so "/data/./x", "/data//x" and "/tmp/../data/x"
 * all meet the rules for "/data/x". This runs on every intercepted call, on
 * small thread stacks and possibly inside a signal handler or a vfork child:
 * it allocates nothing, makes no system call and writes only into the
 * caller's buffer. The output is built as a stack of components in OUT, so
 * ".." is a pop and no second buffer is needed. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tg-path.h"

/* Appends the components of S (N bytes) to the normalized path OUT[0..*LEN).
 * OUT holds the root as the empty string while we work, so that every
 * component is appended as "/name" and popping one is a scan back to its
 * slash. CAP counts the terminating NUL, which must always fit. */
static int append_components(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && s[i] == '/')
			i++;
		if (i == n)
			break;
		const char *c = s + i;
		const char *slash = memchr(c, '/', n - i);
		size_t clen = slash ? (size_t)(slash - c) : n - i;

		i += clen;
		if (clen == 1 && c[0] == '.')
			continue;
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			/* Lexical: ".." of the root is the root, as the kernel does. */
			while (*len > 0 && out[*len - 1] != '/')
				(*len)--;
			if (*len > 0)
				(*len)--;
			continue;
		}
		if (clen > cap || *len + 1 + clen + 1 > cap)
			return -ENAMETOOLONG;
		out[*len] = '/';
		memcpy(out + *len + 1, c, clen);
		*len += 1 + clen;
	}
	return 0;
}

/* Whether the slash at P[J] of a path of N bytes starts an acceptable
 * component: not empty, ".", ".." (P[N - 1] is not a slash). */
static inline bool good_after_slash(const char *p, size_t j, size_t n)
{
	char c = p[j + 1];

	if (c == '/')
		return false;
	return !(c == '.' && (j + 2 == n || p[j + 2] == '/' ||
			      (p[j + 2] == '.' && (j + 3 == n || p[j + 3] == '/'))));
}

/* A mask with the high bit of each byte of the eight at P that is a slash
 * (and maybe of a byte after one: callers look at each). */
static inline uint64_t slashes(const char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t w;

	memcpy(&w, p, 8);
	w ^= ones * '/';
	return (w - ones) & ~w & highs;
}

size_t tg_path_rel_normal(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || p[0] == '/' || p[n - 1] == '/')
		return 0;
	if (p[0] == '.' && (n == 1 || p[1] == '/' || (p[1] == '.' && (n == 2 || p[2] == '/'))))
		return 0;
	if (n < 8) {
		for (size_t j = 0; j < n; j++)
			if (p[j] == '/' && !good_after_slash(p, j, n))
				return 0;
		return n;
	}
	/* Eight bytes at a time: only the slashes need a look. The last,
	 * partial word is the last eight bytes, its bytes seen before masked
	 * off. */
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t m = slashes(p + i);
		while (m) {
			size_t j = i + (__builtin_ctzll(m) >> 3);
			m &= m - 1;
			if (p[j] == '/' && !good_after_slash(p, j, n))
				return 0;
		}
	}
	if (i < n) {
		uint64_t m = slashes(p + n - 8) & (~0ULL << (8 * (8 - (n - i))));
		while (m) {
			size_t j = n - 8 + (__builtin_ctzll(m) >> 3);
			m &= m - 1;
			if (p[j] == '/' && !good_after_slash(p, j, n))
				return 0;
		}
	}
	return n;
}

size_t tg_path_is_normal(const char *p)
{
	if (p[0] != '/')
		return 0;
	if (p[1] == '\0')
		return 1;
	size_t n = tg_path_rel_normal(p + 1);
	return n ? n + 1 : 0;
}

int tg_path_normalize(const char *base, size_t base_len, const char *path, char *out, size_t outsz)
{
	/* The length is returned as an int: never let it reach INT_MAX. */
	size_t cap = outsz > INT_MAX ? INT_MAX : outsz;
	size_t len = 0;
	int r;

	if (!out || !path || !path[0]) {
		r = -EINVAL;
		goto fail;
	}
	if (path[0] != '/') {
		/* BASE need not be NUL-terminated, but a NUL in it would end the
		 * string we hand back early: it ends BASE. */
		size_t blen = base ? strnlen(base, base_len) : 0;

		if (blen == 0 || base[0] != '/') {
			r = -EINVAL;
			goto fail;
		}
		r = append_components(out, cap, &len, base, blen);
		if (r < 0)
			goto fail;
	}
	r = append_components(out, cap, &len, path, strlen(path));
	if (r < 0)
		goto fail;
	if (len == 0) {
		if (cap < 2) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		out[len++] = '/';
	}
	out[len] = '\0';
	return (int)len;
fail:
	/* Never leave a half-built path that a careless caller could use. */
	if (out && outsz > 0)
		out[0] = '\0';
	return r;
}

size_t tg_path_parent_len(const char *p, size_t len)
{
	while (len > 0 && p[len - 1] != '/')
		len--;
	/* "/a" -> "/", and "/" stays "/": the slash is only dropped when a
	 * component remains before it. */
	if (len > 1)
		len--;
	return len;
}
