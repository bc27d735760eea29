/* Folder walkers: glob, glob64, nftw, nftw64, ftw, ftw64, fts_open,
 * fts64_open, fts_read, fts64_read, fts_close, fts64_close. They open
 * folders through libc internals no wrapper sees, so each is decided as
 * class list on the folder it starts in. nftw with FTW_CHDIR and fts
 * without FTS_NOCHDIR change the working directory through libc
 * internals too: the guard's cache of it is dropped before each callback
 * runs, after each fts_read and when the walk ends, so a relative name is
 * never judged against the folder the walk started in. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <string.h>

#include "decide.h"
#include "paths.h"
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
	struct tg_req req = { .kind = TG_REQ_PATH,
			      .op = op,
			      .dirfd = AT_FDCWD,
			      .path = p,
			      .flags = -1,
			      .classes = TG_BIT(TG_LIST),
			      .mode = -1 };
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

/* The program's callback of this thread's walk with FTW_CHDIR (nftw's
 * callback takes no pointer of ours; a walk inside a callback saves and
 * restores the outer one). */
static __thread __nftw_func_t chdir_fn __attribute__((tls_model("initial-exec")));
static __thread __nftw64_func_t chdir_fn64 __attribute__((tls_model("initial-exec")));

static int chdir_shim(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	tg_cwd_changed(); /* libc moved into the entry's folder */
	return chdir_fn(path, st, type, ftw);
}

static int chdir_shim64(const char *path, const struct stat64 *st, int type, struct FTW *ftw)
{
	tg_cwd_changed();
	return chdir_fn64(path, st, type, ftw);
}

int nftw(const char *dir, __nftw_func_t fn, int fds, int flags)
{
	int r = list_root("nftw", dir, false);
	if (r < 0)
		return tg_fail(-r);
	if (!(flags & FTW_CHDIR) || !fn)
		return REAL(nftw)(dir, fn, fds, flags);
	__nftw_func_t outer = chdir_fn;
	chdir_fn = fn;
	r = REAL(nftw)(dir, chdir_shim, fds, flags);
	chdir_fn = outer;
	tg_cwd_changed();
	return r;
}

int nftw64(const char *dir, __nftw64_func_t fn, int fds, int flags)
{
	int r = list_root("nftw64", dir, false);
	if (r < 0)
		return tg_fail(-r);
	if (!(flags & FTW_CHDIR) || !fn)
		return REAL(nftw64)(dir, fn, fds, flags);
	__nftw64_func_t outer = chdir_fn64;
	chdir_fn64 = fn;
	r = REAL(nftw64)(dir, chdir_shim64, fds, flags);
	chdir_fn64 = outer;
	tg_cwd_changed();
	return r;
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

FTS64 *fts64_open(char *const *paths, int options, int (*cmp)(const FTSENT64 **, const FTSENT64 **))
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

/* fts moves the working directory on each step unless told not to. */
FTSENT *fts_read(FTS *fts)
{
	FTSENT *e = REAL(fts_read)(fts);
	if (fts && !(fts->fts_options & FTS_NOCHDIR))
		tg_cwd_changed();
	return e;
}

FTSENT64 *fts64_read(FTS64 *fts)
{
	FTSENT64 *e = REAL(fts64_read)(fts);
	if (fts && !(fts->fts_options & FTS_NOCHDIR))
		tg_cwd_changed();
	return e;
}

int fts_close(FTS *fts)
{
	int r = REAL(fts_close)(fts);
	tg_cwd_changed();
	return r;
}

int fts64_close(FTS64 *fts)
{
	int r = REAL(fts64_close)(fts);
	tg_cwd_changed();
	return r;
}
