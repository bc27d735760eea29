/* Metadata changes and walks: utime, utimes, utimensat, futimesat,
 * lutimes, futimens, futimes and the extended-attribute writers setxattr,
 * lsetxattr, fsetxattr, removexattr, lremovexattr, fremovexattr (class
 * chmod: Set Attributes), and the folder walkers glob, glob64, nftw,
 * nftw64, ftw, ftw64, fts_open, fts64_open, which open folders through
 * libc internals no wrapper sees (class list on the folder they start in). */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <utime.h>

#include "guard.h"

static int attr(const char *op, int dirfd, const char *path, bool nofollow)
{
	struct tg_call c = { .op = op, .dirfd = dirfd, .path = path, .flags = -1,
			     .classes = TG_BIT(TG_CHMOD), .mode = -1, .nofollow = nofollow };
	return tg_check(&c);
}

#define ATTR(op, dirfd, path, nofollow)                              \
	do {                                                         \
		int r_ = attr(op, dirfd, path, nofollow);            \
		if (r_ < 0)                                          \
			return tg_fail(-r_);                         \
	} while (0)

#define FD_ATTR(op, fd)                                                         \
	do {                                                                    \
		int r_ = tg_check_fd(op, fd, TG_BIT(TG_CHMOD), NULL);           \
		if (r_ < 0)                                                     \
			return tg_fail(-r_);                                    \
	} while (0)

int utime(const char *path, const struct utimbuf *t)
{
	ATTR("utime", AT_FDCWD, path, false);
	return REAL(utime)(path, t);
}

int utimes(const char *path, const struct timeval t[2])
{
	ATTR("utimes", AT_FDCWD, path, false);
	return REAL(utimes)(path, t);
}

int lutimes(const char *path, const struct timeval t[2])
{
	ATTR("lutimes", AT_FDCWD, path, true);
	return REAL(lutimes)(path, t);
}

int utimensat(int dirfd, const char *path, const struct timespec t[2], int flags)
{
	if (!path) /* futimens(dirfd) in disguise */
		FD_ATTR("utimensat", dirfd);
	else
		ATTR("utimensat", dirfd, path, flags & AT_SYMLINK_NOFOLLOW);
	return REAL(utimensat)(dirfd, path, t, flags);
}

int futimesat(int dirfd, const char *path, const struct timeval t[2])
{
	if (!path)
		FD_ATTR("futimesat", dirfd);
	else
		ATTR("futimesat", dirfd, path, false);
	return REAL(futimesat)(dirfd, path, t);
}

int futimens(int fd, const struct timespec t[2])
{
	FD_ATTR("futimens", fd);
	return REAL(futimens)(fd, t);
}

int futimes(int fd, const struct timeval t[2])
{
	FD_ATTR("futimes", fd);
	return REAL(futimes)(fd, t);
}

int setxattr(const char *path, const char *name, const void *v, size_t n, int flags)
{
	ATTR("setxattr", AT_FDCWD, path, false);
	return REAL(setxattr)(path, name, v, n, flags);
}

int lsetxattr(const char *path, const char *name, const void *v, size_t n, int flags)
{
	ATTR("lsetxattr", AT_FDCWD, path, true);
	return REAL(lsetxattr)(path, name, v, n, flags);
}

int fsetxattr(int fd, const char *name, const void *v, size_t n, int flags)
{
	FD_ATTR("fsetxattr", fd);
	return REAL(fsetxattr)(fd, name, v, n, flags);
}

int removexattr(const char *path, const char *name)
{
	ATTR("removexattr", AT_FDCWD, path, false);
	return REAL(removexattr)(path, name);
}

int lremovexattr(const char *path, const char *name)
{
	ATTR("lremovexattr", AT_FDCWD, path, true);
	return REAL(lremovexattr)(path, name);
}

int fremovexattr(int fd, const char *name)
{
	FD_ATTR("fremovexattr", fd);
	return REAL(fremovexattr)(fd, name);
}

/* The folder a walk starts in: PATH itself, or for a glob pattern the
 * folder before its first wildcard ("/data/ep*.pt" -> "/data"). */
static int list_root(const char *op, const char *path, bool pattern)
{
	char dir[PATH_MAX];
	const char *p = path;

	if (!path)
		return 0;
	if (pattern) {
		size_t w = strcspn(path, "*?[");
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
	struct tg_call c = { .op = op, .dirfd = AT_FDCWD, .path = p, .flags = -1,
			     .classes = TG_BIT(TG_LIST), .mode = -1 };
	return tg_check(&c);
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
