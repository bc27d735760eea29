/* Descriptor bookkeeping: close, dup2, dup3, close_range, closefrom. They
 * keep the descriptor table true (a reused number is classified afresh)
 * and keep the guard's own log descriptor out of the program's way: a
 * close of it answers EBADF, as for any descriptor the program never
 * opened, and closefrom/close_range step around it and around the
 * sealed policy file children inherit.
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
#include "handoff.h"
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

/* The guard's descriptors a ranged close steps around, ascending: the
 * log's, and the sealed policy file children inherit (handoff.c), so
 * that a program closing everything above 2 before an exec (Python's
 * subprocess does by default) still hands the policy to the child. */
static int kept_fds(int kept[2])
{
	unsigned long long dev, ino;
	int n = 0, logfd = tg_log_fd(), hfd = -1;

	if (logfd >= 0)
		kept[n++] = logfd;
	if (tg_handoff_entry(&hfd, &dev, &ino) && hfd >= 0 && hfd != logfd)
		kept[n++] = hfd;
	if (n == 2 && kept[0] > kept[1]) {
		int t = kept[0];
		kept[0] = kept[1];
		kept[1] = t;
	}
	return n;
}

/* Applies close_range to [LO, HI] minus the guard's descriptors. */
static int ranges(unsigned lo, unsigned hi, int flags)
{
	int kept[2], nkept = (flags & CLOSE_RANGE_CLOEXEC) || lo > hi ? 0 : kept_fds(kept), r = 0;
	unsigned from = lo;

	if (nkept == 0)
		r = REAL(close_range)(lo, hi, flags); /* its own errors (EINVAL) */
	else {
		for (int i = 0; i < nkept && r == 0; i++) {
			unsigned k = (unsigned)kept[i];
			if (k < from || k > hi)
				continue;
			if (k > from)
				r = REAL(close_range)(from, k - 1, flags);
			from = k + 1;
		}
		if (r == 0 && from <= hi)
			r = REAL(close_range)(from, hi, flags);
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
