/* The stat family, for rules that hide paths (errno = "ENOENT"): a path
 * hidden from reads must not show through stat, lstat, statx or access
 * either. Nothing else about these calls is decided, and a policy without
 * such rules costs one load and a branch per call. Includes the pre-2.33
 * __xstat entry points that older binaries still bind to. */
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide.h"
#include "real.h"

/* With AT_EMPTY_PATH and "" the file is DIRFD itself. */
static int hidden(const char *op, int dirfd, const char *path, bool empty)
{
	struct tg_req req = { .kind = TG_REQ_HIDDEN,
			      .op = op,
			      .dirfd = dirfd,
			      .path = path,
			      .flags = -1,
			      .classes = TG_BIT(TG_READ),
			      .mode = -1,
			      .on_fd = empty && path && !*path };
	return path ? tg_check(&req) : 0;
}

#define HIDE(op, dirfd, path, empty) \
	do { \
		int r_ = hidden(op, dirfd, path, empty); \
		if (r_ < 0) \
			return tg_fail(-r_); \
	} while (0)

int stat(const char *path, struct stat *st)
{
	HIDE("stat", AT_FDCWD, path, false);
	return REAL(stat)(path, st);
}

int stat64(const char *path, struct stat64 *st)
{
	HIDE("stat64", AT_FDCWD, path, false);
	return REAL(stat64)(path, st);
}

int lstat(const char *path, struct stat *st)
{
	HIDE("lstat", AT_FDCWD, path, false);
	return REAL(lstat)(path, st);
}

int lstat64(const char *path, struct stat64 *st)
{
	HIDE("lstat64", AT_FDCWD, path, false);
	return REAL(lstat64)(path, st);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	HIDE("fstatat", dirfd, path, flags & AT_EMPTY_PATH);
	return REAL(fstatat)(dirfd, path, st, flags);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	HIDE("fstatat64", dirfd, path, flags & AT_EMPTY_PATH);
	return REAL(fstatat64)(dirfd, path, st, flags);
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *st)
{
	HIDE("statx", dirfd, path, flags & AT_EMPTY_PATH);
	return REAL(statx)(dirfd, path, flags, mask, st);
}

int access(const char *path, int mode)
{
	HIDE("access", AT_FDCWD, path, false);
	return REAL(access)(path, mode);
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
	HIDE("faccessat", dirfd, path, flags & AT_EMPTY_PATH);
	return REAL(faccessat)(dirfd, path, mode, flags);
}

int __xstat(int ver, const char *path, struct stat *st)
{
	HIDE("__xstat", AT_FDCWD, path, false);
	return REAL(__xstat)(ver, path, st);
}

int __xstat64(int ver, const char *path, struct stat64 *st)
{
	HIDE("__xstat64", AT_FDCWD, path, false);
	return REAL(__xstat64)(ver, path, st);
}

int __lxstat(int ver, const char *path, struct stat *st)
{
	HIDE("__lxstat", AT_FDCWD, path, false);
	return REAL(__lxstat)(ver, path, st);
}

int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	HIDE("__lxstat64", AT_FDCWD, path, false);
	return REAL(__lxstat64)(ver, path, st);
}

int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	HIDE("__fxstatat", dirfd, path, flags & AT_EMPTY_PATH);
	return REAL(__fxstatat)(ver, dirfd, path, st, flags);
}

int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
	HIDE("__fxstatat64", dirfd, path, flags & AT_EMPTY_PATH);
	return REAL(__fxstatat64)(ver, dirfd, path, st, flags);
}

int euidaccess(const char *path, int mode)
{
	HIDE("euidaccess", AT_FDCWD, path, false);
	return REAL(euidaccess)(path, mode);
}

int eaccess(const char *path, int mode)
{
	HIDE("eaccess", AT_FDCWD, path, false);
	return REAL(eaccess)(path, mode);
}
