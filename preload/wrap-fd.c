/* Descriptor bookkeeping: close, dup2, dup3, close_range, closefrom. They
 * keep the descriptor table true (a reused number is classified afresh)
 * and keep the guard's own log descriptor out of the program's way: a
 * close of it answers EBADF, as for any descriptor the program never
 * opened, and closefrom/close_range step around it.
 *
 * A vfork child (Python's subprocess closes every descriptor above 2 and
 * dup2s its pipes onto 0-2) shares the table with its parent, whose
 * descriptors stay open: the ranged calls and dup2/dup3 there leave the
 * table alone (one getpid on these rare calls; see self.h). */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "aggregate.h"
#include "fdtable.h"
#include "log.h"
#include "protect-errno.h"
#include "real.h"
#include "self.h"

int close(int fd)
{
	if (tg_is_log_fd(fd))
		return tg_fail(EBADF);
	if (tg_agg_holds(fd)) {
		TG_PROTECT_ERRNO;
		tg_agg_close(fd); /* the record of an audited file, and its digest */
	}
	tg_fd_forget(fd);
	return REAL(close)(fd);
}

/* NEWFD now names another file: unknown again, unless this is a vfork
 * child, whose parent keeps its own NEWFD. */
static void replaced(int newfd)
{
	if (tg_agg_holds(newfd)) {
		TG_PROTECT_ERRNO;
		tg_agg_close(newfd); /* its file was closed by the call */
	}
	if ((unsigned)newfd < TG_FD_MAX &&
	    atomic_load_explicit(&tg_fds[newfd], memory_order_relaxed) == TG_FD_UNKNOWN) {
		tg_fd_forget(newfd); /* nothing to lose: no getpid */
		return;
	}
	TG_PROTECT_ERRNO;
	if (!tg_self_foreign())
		tg_fd_forget(newfd);
}

int dup2(int oldfd, int newfd)
{
	if (tg_is_log_fd(oldfd))
		return tg_fail(EBADF);
	tg_log_fd_vacate(newfd);
	int r = REAL(dup2)(oldfd, newfd);
	if (r >= 0)
		replaced(r);
	return r;
}

int dup3(int oldfd, int newfd, int flags)
{
	if (tg_is_log_fd(oldfd))
		return tg_fail(EBADF);
	tg_log_fd_vacate(newfd);
	int r = REAL(dup3)(oldfd, newfd, flags);
	if (r >= 0)
		replaced(r);
	return r;
}

/* Applies close_range to [LO, HI] minus the log descriptor. */
static int ranges(unsigned lo, unsigned hi, int flags)
{
	int logfd = tg_log_fd(), r = 0;

	if (logfd < 0 || (unsigned)logfd < lo || (unsigned)logfd > hi ||
	    (flags & CLOSE_RANGE_CLOEXEC)) {
		r = REAL(close_range)(lo, hi, flags);
	} else {
		if ((unsigned)logfd > lo)
			r = REAL(close_range)(lo, logfd - 1, flags);
		if (r == 0 && (unsigned)logfd < hi)
			r = REAL(close_range)(logfd + 1, hi, flags);
	}
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC)) {
		TG_PROTECT_ERRNO;
		if (!tg_self_foreign())
			tg_fd_forget_range(lo, hi);
	}
	return r;
}

int close_range(unsigned int lo, unsigned int hi, int flags)
{
	return ranges(lo, hi, flags);
}

void closefrom(int lo)
{
	TG_PROTECT_ERRNO;
	ranges(lo < 0 ? 0u : (unsigned)lo, UINT_MAX, 0);
}
