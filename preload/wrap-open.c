/* The open family: open, open64, openat, openat64, the fortify __*_2
 * variants and creat. Each decodes its arguments and hands them to
 * tg_open(), which decides and opens so that the kernel opens the object
 * decided on; the real function is called only when tg_open() says so. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

#include "fdtable.h"
#include "guard.h"

/* The mode argument exists only with O_CREAT or O_TMPFILE. */
#define TAKES_MODE(flags) (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE)

#define MODE_ARG(flags, mode)                        \
	do {                                         \
		if (TAKES_MODE(flags)) {             \
			va_list ap;                  \
			va_start(ap, flags);         \
			mode = va_arg(ap, mode_t);   \
			va_end(ap);                  \
		}                                    \
	} while (0)

/* A descriptor the guard opened needs no check on write. */
static inline int opened(int fd)
{
	tg_fd_set(fd, TG_FD_PASS);
	return fd;
}

/* The result of tg_open(), or the real call CALL when it asks for it. */
#define FINISH(r, call) ((r) == TG_REAL ? opened(call) : (r) < 0 ? tg_fail(-(r)) : opened(r))

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	int r = tg_open("open", AT_FDCWD, path, flags, &mode);
	return FINISH(r, REAL(open)(path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	int r = tg_open("open64", AT_FDCWD, path, flags, &mode);
	return FINISH(r, REAL(open64)(path, flags, mode));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	int r = tg_open("openat", dirfd, path, flags, &mode);
	return FINISH(r, REAL(openat)(dirfd, path, flags, mode));
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	int r = tg_open("openat64", dirfd, path, flags, &mode);
	return FINISH(r, REAL(openat64)(dirfd, path, flags, mode));
}

/* Fortify variants: called without a mode, so never with O_CREAT (glibc
 * aborts there itself, and so does the real function called then). */
int __open_2(const char *path, int flags)
{
	mode_t mode = 0;
	int r = TAKES_MODE(flags) ? TG_REAL : tg_open("__open_2", AT_FDCWD, path, flags, &mode);
	return FINISH(r, REAL(__open_2)(path, flags));
}

int __open64_2(const char *path, int flags)
{
	mode_t mode = 0;
	int r = TAKES_MODE(flags) ? TG_REAL : tg_open("__open64_2", AT_FDCWD, path, flags, &mode);
	return FINISH(r, REAL(__open64_2)(path, flags));
}

int __openat_2(int dirfd, const char *path, int flags)
{
	mode_t mode = 0;
	int r = TAKES_MODE(flags) ? TG_REAL : tg_open("__openat_2", dirfd, path, flags, &mode);
	return FINISH(r, REAL(__openat_2)(dirfd, path, flags));
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	mode_t mode = 0;
	int r = TAKES_MODE(flags) ? TG_REAL : tg_open("__openat64_2", dirfd, path, flags, &mode);
	return FINISH(r, REAL(__openat64_2)(dirfd, path, flags));
}

int creat(const char *path, mode_t mode)
{
	int r = tg_open("creat", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, &mode);
	return FINISH(r, REAL(creat)(path, mode));
}

int creat64(const char *path, mode_t mode)
{
	int r = tg_open("creat64", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, &mode);
	return FINISH(r, REAL(creat64)(path, mode));
}
