/* Descriptor bookkeeping: close, dup2, dup3, close_range, closefrom. They
 * keep the descriptor table true (a reused number is classified afresh)
 * and keep the guard's own log descriptor out of the program's way: a
 * close of it answers EBADF, as for any descriptor the program never
 * opened, and closefrom/close_range step around it. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "fdtable.h"
#include "guard.h"
#include "paths.h"

_Atomic uint8_t tg_fds[TG_FD_MAX];

void tg_fd_forget(unsigned lo, unsigned hi)
{
	if (hi >= TG_FD_MAX)
		hi = TG_FD_MAX - 1;
	for (unsigned fd = lo; fd <= hi && fd < TG_FD_MAX; fd++) {
		if (atomic_load_explicit(&tg_fds[fd], memory_order_relaxed) != TG_FD_UNKNOWN)
			atomic_store_explicit(&tg_fds[fd], TG_FD_UNKNOWN, memory_order_relaxed);
		tg_dirfd_forget((int)fd);
	}
}

int close(int fd)
{
	if (tg_is_log_fd(fd))
		return tg_fail(EBADF);
	tg_fd_set(fd, TG_FD_UNKNOWN);
	tg_dirfd_forget(fd);
	return REAL(close)(fd);
}

int dup2(int oldfd, int newfd)
{
	if (tg_is_log_fd(oldfd))
		return tg_fail(EBADF);
	tg_log_fd_vacate(newfd);
	int r = REAL(dup2)(oldfd, newfd);
	if (r >= 0) {
		tg_fd_set(r, TG_FD_UNKNOWN);
		tg_dirfd_forget(r);
	}
	return r;
}

int dup3(int oldfd, int newfd, int flags)
{
	if (tg_is_log_fd(oldfd))
		return tg_fail(EBADF);
	tg_log_fd_vacate(newfd);
	int r = REAL(dup3)(oldfd, newfd, flags);
	if (r >= 0) {
		tg_fd_set(r, TG_FD_UNKNOWN);
		tg_dirfd_forget(r);
	}
	return r;
}

/* Applies close_range to [LO, HI] minus the log descriptor. */
static int ranges(unsigned lo, unsigned hi, int flags)
{
	int logfd = -1, r = 0;

	for (unsigned fd = lo; fd <= hi && fd < TG_FD_MAX; fd++)
		if (tg_is_log_fd((int)fd)) {
			logfd = (int)fd;
			break;
		}
	if (logfd < 0 || (flags & CLOSE_RANGE_CLOEXEC)) {
		r = REAL(close_range)(lo, hi, flags);
	} else {
		if ((unsigned)logfd > lo)
			r = REAL(close_range)(lo, logfd - 1, flags);
		if (r == 0 && (unsigned)logfd < hi)
			r = REAL(close_range)(logfd + 1, hi, flags);
	}
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		tg_fd_forget(lo, hi);
	return r;
}

int close_range(unsigned int lo, unsigned int hi, int flags)
{
	return ranges(lo, hi, flags);
}

void closefrom(int lo)
{
	int e = errno;
	if (lo < 0)
		lo = 0;
	ranges((unsigned)lo, UINT_MAX, 0);
	errno = e;
}
