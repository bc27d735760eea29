/* The open family: open, open64, openat, openat64, the fortify __*_2
 * variants and creat. Each decodes its arguments, asks the guard for the
 * classes the flags ask for, and calls the real function with the mode a
 * create_mode may have narrowed. */
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

static int check(const char *op, int dirfd, const char *path, int flags, mode_t *mode)
{
	struct tg_call c = {
		.op = op,
		.dirfd = dirfd,
		.path = path,
		.flags = flags,
		.classes = tg_open_classes(flags),
		.mode = TAKES_MODE(flags) ? (int)(*mode & 07777) : -1,
	};
	int r = tg_check(&c);
	if (r == 0 && c.mode >= 0)
		*mode = c.mode;
	return r;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	int r = check("open", AT_FDCWD, path, flags, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(open)(path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	int r = check("open64", AT_FDCWD, path, flags, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(open64)(path, flags, mode));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	int r = check("openat", dirfd, path, flags, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(openat)(dirfd, path, flags, mode));
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	int r = check("openat64", dirfd, path, flags, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(openat64)(dirfd, path, flags, mode));
}

/* Fortify variants: called without a mode, so never with O_CREAT (glibc
 * aborts there itself). */
int __open_2(const char *path, int flags)
{
	mode_t mode = 0;
	int r = check("__open_2", AT_FDCWD, path, flags, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(__open_2)(path, flags));
}

int __open64_2(const char *path, int flags)
{
	mode_t mode = 0;
	int r = check("__open64_2", AT_FDCWD, path, flags, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(__open64_2)(path, flags));
}

int __openat_2(int dirfd, const char *path, int flags)
{
	mode_t mode = 0;
	int r = check("__openat_2", dirfd, path, flags, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(__openat_2)(dirfd, path, flags));
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	mode_t mode = 0;
	int r = check("__openat64_2", dirfd, path, flags, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(__openat64_2)(dirfd, path, flags));
}

int creat(const char *path, mode_t mode)
{
	int r = check("creat", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(creat)(path, mode));
}

int creat64(const char *path, mode_t mode)
{
	int r = check("creat64", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, &mode);
	return r < 0 ? tg_fail(-r) : opened(REAL(creat64)(path, mode));
}
