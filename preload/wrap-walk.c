/* Folder walkers: glob, glob64, nftw, nftw64, ftw, ftw64, fts_open,
 * fts64_open. They open folders through libc internals no wrapper sees,
 * so each is decided as class list on the folder it starts in. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <string.h>

#include "decide.h"
#include "real.h"
#include "tg-glob.h"

/* The folder a walk starts in: PATH itself, or for a glob pattern the
 * folder before its literal prefix ends ("/data/ep*.pt" -> "/data"; a
 * GLOB_BRACE "{a,b}" or an escape ends it too). */
static int list_root(const char *op, const char *path, bool pattern)
{
	char dir[PATH_MAX];
	const char *p = path;

	if (!path)
		return 0;
	if (pattern) {
		size_t w = tg_glob_literal_prefix(path, strlen(path));
		if (path[w]) {
			while (w > 0 && path[w - 1] != '/')
				w--;
			if (w >= sizeof(dir))
				return 0;
			memcpy(dir, path, w);
			dir[w] = '\0';
			p = w ? dir : ".";
		}
	}
	struct tg_req req = { .kind = TG_REQ_PATH, .op = op, .dirfd = AT_FDCWD, .path = p,
			      .flags = -1, .classes = TG_BIT(TG_LIST), .mode = -1 };
	return tg_check(&req);
}

int glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
	if (list_root("glob", pattern, true) < 0)
		return GLOB_ABORTED;
	return REAL(glob)(pattern, flags, errfunc, g);
}

int glob64(const char *pattern, int flags, int (*errfunc)(const char *, int), glob64_t *g)
{
	if (list_root("glob64", pattern, true) < 0)
		return GLOB_ABORTED;
	return REAL(glob64)(pattern, flags, errfunc, g);
}

int nftw(const char *dir, __nftw_func_t fn, int fds, int flags)
{
	int r = list_root("nftw", dir, false);
	return r < 0 ? tg_fail(-r) : REAL(nftw)(dir, fn, fds, flags);
}

int nftw64(const char *dir, __nftw64_func_t fn, int fds, int flags)
{
	int r = list_root("nftw64", dir, false);
	return r < 0 ? tg_fail(-r) : REAL(nftw64)(dir, fn, fds, flags);
}

int ftw(const char *dir, __ftw_func_t fn, int fds)
{
	int r = list_root("ftw", dir, false);
	return r < 0 ? tg_fail(-r) : REAL(ftw)(dir, fn, fds);
}

int ftw64(const char *dir, __ftw64_func_t fn, int fds)
{
	int r = list_root("ftw64", dir, false);
	return r < 0 ? tg_fail(-r) : REAL(ftw64)(dir, fn, fds);
}

FTS *fts_open(char *const *paths, int options, int (*cmp)(const FTSENT **, const FTSENT **))
{
	for (char *const *p = paths; p && *p; p++) {
		int r = list_root("fts_open", *p, false);
		if (r < 0) {
			errno = -r;
			return NULL;
		}
	}
	return REAL(fts_open)(paths, options, cmp);
}

FTS64 *fts64_open(char *const *paths, int options,
		  int (*cmp)(const FTSENT64 **, const FTSENT64 **))
{
	for (char *const *p = paths; p && *p; p++) {
		int r = list_root("fts64_open", *p, false);
		if (r < 0) {
			errno = -r;
			return NULL;
		}
	}
	return REAL(fts64_open)(paths, options, cmp);
}
