/* Fuzzes the lexical path normalizer.
 *
 * Input: a base (any bytes, NUL included), a '\n', then the path (cut at
 * its first NUL, as a C string would be). The result must be a normalized
 * absolute path: it starts with '/', has no "//", no "." or ".." component
 * and no trailing '/' unless it is the root, normalizing it again changes
 * nothing, and the buffer is never written past OUTSZ. Without an oracle
 * for the answer itself, the checks compare the normalizer with itself
 * through identities that hold by definition (joining first or normalizing
 * the base first gives the same path; the parent of the result is
 * the result with "/.." appended). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "tg-path.h"

#define CANARY 0x5a

static void check_normalized(const char *p, int len)
{
	FUZZ_CHECK(len >= 1 && strlen(p) == (size_t)len);
	FUZZ_CHECK(p[0] == '/');
	FUZZ_CHECK(len == 1 || p[len - 1] != '/');
	FUZZ_CHECK(!strstr(p, "//"));
	FUZZ_CHECK(!strstr(p, "/./"));
	FUZZ_CHECK(!strstr(p, "/../"));
	FUZZ_CHECK(!(len >= 2 && strcmp(p + len - 2, "/.") == 0));
	FUZZ_CHECK(!(len >= 3 && strcmp(p + len - 3, "/..") == 0));
}

/* Normalizes into a buffer with OUTSZ usable bytes and canaries after them. */
static int normalize(const char *base, size_t base_len, const char *path, char *out, size_t outsz)
{
	memset(out + outsz, CANARY, 16);
	int r = tg_path_normalize(base, base_len, path, out, outsz);
	for (size_t i = 0; i < 16; i++)
		FUZZ_CHECK((unsigned char)out[outsz + i] == CANARY);
	if (r >= 0)
		FUZZ_CHECK((size_t)r < outsz);
	else
		FUZZ_CHECK(r == -EINVAL || r == -ENAMETOOLONG);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[PATH_MAX + 16], again[PATH_MAX + 16], joined[3 * PATH_MAX],
		nbase[PATH_MAX + 16], small[PATH_MAX + 16];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t blen = nl ? (size_t)(nl - data) : 0;
	size_t off = nl ? blen + 1 : 0;
	int r;

	if (size - off >= PATH_MAX * 2)
		return 0;
	/* The base is passed by length, with no terminating NUL to lean on. */
	char *base = malloc(blen ? blen : 1);
	char *path = malloc(size - off + 1);
	if (!base || !path)
		goto out;
	memcpy(base, data, blen);
	memcpy(path, data + off, size - off);
	path[size - off] = '\0';

	r = normalize(blen ? base : NULL, blen, path, out, PATH_MAX);
	if (!path[0]) {
		FUZZ_CHECK(r == -EINVAL);
		goto out;
	}
	size_t bl = strnlen(base, blen);
	if (path[0] != '/' && (bl == 0 || base[0] != '/')) {
		FUZZ_CHECK(r == -EINVAL);
		goto out;
	}
	if (r == -ENAMETOOLONG) {
		/* Too long for PATH_MAX bytes means too long for fewer. */
		FUZZ_CHECK(normalize(base, blen, path, small, PATH_MAX / 2) == -ENAMETOOLONG);
		goto out;
	}
	FUZZ_CHECK(r > 0);
	check_normalized(out, r);

	/* Idempotent, and a normalized absolute path ignores any base. */
	FUZZ_CHECK(normalize(NULL, 0, out, again, PATH_MAX) == r && strcmp(again, out) == 0);
	FUZZ_CHECK(normalize(base, blen, out, again, PATH_MAX) == r && strcmp(again, out) == 0);

	/* The result needs r + 1 bytes; so may an intermediate, unless no ".."
	 * ever shortens the path. */
	int rs = normalize(base, blen, path, small, (size_t)r + 1);
	FUZZ_CHECK((rs == r && strcmp(small, out) == 0) || rs == -ENAMETOOLONG);
	if (!memmem(base, bl, "..", 2) && !strstr(path, ".."))
		FUZZ_CHECK(rs == r);
	FUZZ_CHECK(normalize(base, blen, path, small, (size_t)r) == -ENAMETOOLONG);

	if (path[0] != '/') {
		/* Normalizing the base first, or joining the two strings first,
		 * gives the same path. */
		memcpy(joined, base, bl);
		joined[bl] = '/';
		strcpy(joined + bl + 1, path);
		FUZZ_CHECK(normalize(NULL, 0, joined, again, PATH_MAX) == r &&
			   strcmp(again, out) == 0);
		int nb = normalize(base, blen, ".", nbase, PATH_MAX);
		if (nb > 0)
			FUZZ_CHECK(normalize(nbase, (size_t)nb, path, again, PATH_MAX) == r &&
				   strcmp(again, out) == 0);
	}

	/* The parent: "/.." appended, a prefix of the path, normalized. */
	size_t pl = tg_path_parent_len(out, (size_t)r);
	FUZZ_CHECK(pl >= 1 && pl <= (size_t)r && (pl < (size_t)r || r == 1));
	memcpy(joined, out, (size_t)r);
	strcpy(joined + r, "/..");
	FUZZ_CHECK(normalize(NULL, 0, joined, again, PATH_MAX) == (int)pl &&
		   memcmp(again, out, pl) == 0);
out:
	free(base);
	free(path);
	return 0;
}
