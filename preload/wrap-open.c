/* The open family: open, open64, openat, openat64, the fortify __*_2
 * variants, creat and glibc's exported aliases (__open, __open64 and
 * their _nocancel forms). Each decodes its arguments and hands them to
 * tg_open(), which decides and opens so that the kernel opens the object
 * decided on; the real function is called only when tg_open() says so. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

#include "fdtable.h"
#include "open.h"
#include "real.h"

/* The mode argument exists only with O_CREAT or O_TMPFILE. */
#define TAKES_MODE(flags) (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE)

#define MODE_ARG(flags, mode) \
	do { \
		if (TAKES_MODE(flags)) { \
			va_list ap; \
			va_start(ap, flags); \
			mode = va_arg(ap, mode_t); \
			va_end(ap); \
		} \
	} while (0)

/* A descriptor the guard opened needs no check on write. */
static inline int opened(int fd)
{
	tg_fd_set(fd, TG_FD_PASS);
	return fd;
}

/* Decides and opens; the real call CALL (with MODE narrowed) only when
 * tg_open() asks for it. */
#define OPEN(op_, dirfd_, path_, flags_, mode, call) \
	do { \
		struct tg_req req_; /* tg_open sets what it needs beyond these */ \
		req_.op = op_; \
		req_.dirfd = dirfd_; \
		req_.path = path_; \
		req_.flags = flags_; \
		req_.mode = TAKES_MODE(flags_) ? (int)(mode & 07777) : -1; \
		int fd_, r_ = tg_open(&req_, &fd_); \
		if (r_ == 1) { \
			if (req_.mode >= 0) \
				mode = (mode_t)req_.mode; \
			return opened(call); \
		} \
		return r_ < 0 ? tg_fail(-r_) : opened(fd_); \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	OPEN("open", AT_FDCWD, path, flags, mode, REAL(open)(path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	OPEN("open64", AT_FDCWD, path, flags, mode, REAL(open64)(path, flags, mode));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	OPEN("openat", dirfd, path, flags, mode, REAL(openat)(dirfd, path, flags, mode));
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	OPEN("openat64", dirfd, path, flags, mode, REAL(openat64)(dirfd, path, flags, mode));
}

/* Fortify variants: called without a mode, so never with O_CREAT (glibc
 * aborts there itself, and so does the real function called then). */
int __open_2(const char *path, int flags)
{
	mode_t mode = 0;
	if (TAKES_MODE(flags))
		return opened(REAL(__open_2)(path, flags));
	OPEN("__open_2", AT_FDCWD, path, flags, mode, REAL(__open_2)(path, flags));
}

int __open64_2(const char *path, int flags)
{
	mode_t mode = 0;
	if (TAKES_MODE(flags))
		return opened(REAL(__open64_2)(path, flags));
	OPEN("__open64_2", AT_FDCWD, path, flags, mode, REAL(__open64_2)(path, flags));
}

int __openat_2(int dirfd, const char *path, int flags)
{
	mode_t mode = 0;
	if (TAKES_MODE(flags))
		return opened(REAL(__openat_2)(dirfd, path, flags));
	OPEN("__openat_2", dirfd, path, flags, mode, REAL(__openat_2)(dirfd, path, flags));
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	mode_t mode = 0;
	if (TAKES_MODE(flags))
		return opened(REAL(__openat64_2)(dirfd, path, flags));
	OPEN("__openat64_2", dirfd, path, flags, mode, REAL(__openat64_2)(dirfd, path, flags));
}

/* glibc's exported aliases of open (dlsym finds them by name). */
int __open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	OPEN("__open", AT_FDCWD, path, flags, mode, REAL(__open)(path, flags, mode));
}

int __open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	OPEN("__open64", AT_FDCWD, path, flags, mode, REAL(__open64)(path, flags, mode));
}

int __open_nocancel(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	OPEN("__open_nocancel", AT_FDCWD, path, flags, mode,
	     REAL(__open_nocancel)(path, flags, mode));
}

int __open64_nocancel(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	OPEN("__open64_nocancel", AT_FDCWD, path, flags, mode,
	     REAL(__open64_nocancel)(path, flags, mode));
}

int creat(const char *path, mode_t mode)
{
	OPEN("creat", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, REAL(creat)(path, mode));
}

int creat64(const char *path, mode_t mode)
{
	OPEN("creat64", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode,
	     REAL(creat64)(path, mode));
}
