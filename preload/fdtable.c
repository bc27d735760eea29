/* The descriptor table (see fdtable.h): its entries, the reset of a
 * range, and the classification of a descriptor the guard never saw. */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "decide.h"
#include "fdtable.h"
#include "paths.h"
#include "protect-errno.h"
#include "real.h"
#include "resolve.h"
#include "start.h"

_Atomic uint8_t tg_fds[TG_FD_MAX];
_Atomic unsigned tg_fd_end;

void tg_fd_forget(int fd)
{
	if ((unsigned)fd < TG_FD_MAX &&
	    atomic_load_explicit(&tg_fds[fd], memory_order_relaxed) != TG_FD_UNKNOWN)
		atomic_store_explicit(&tg_fds[fd], TG_FD_UNKNOWN, memory_order_relaxed);
	tg_dirfd_forget(fd);
}

void tg_fd_forget_range(unsigned lo, unsigned hi)
{
	unsigned end = atomic_load_explicit(&tg_fd_end, memory_order_relaxed), hi_asked = hi;

	if (hi >= end)
		hi = end - 1; /* end is at most TG_FD_MAX; 0 wraps to empty below */
	for (unsigned fd = lo; end && fd <= hi; fd++)
		if (atomic_load_explicit(&tg_fds[fd], memory_order_relaxed) != TG_FD_UNKNOWN)
			atomic_store_explicit(&tg_fds[fd], TG_FD_UNKNOWN, memory_order_relaxed);
	tg_dirfd_forget_range(lo, hi_asked);
}

int tg_fd_path(int fd, char *out, size_t cap)
{
	char proc[TG_PROC_FD_MAX];
	ssize_t n;

	tg_proc_fd(proc, fd);
	n = readlink(proc, out, cap - 1);
	if (n < 0)
		return errno == ENOENT ? -EBADF : -errno;
	out[n] = '\0';
	if (n == 0 || out[0] != '/')
		return 0;
	return n;
}

int tg_fd_classify(const char *op, int fd)
{
	TG_PROTECT_ERRNO;
	int r;

	if ((unsigned)fd >= TG_FD_MAX || !tg_enter())
		return 0;
	if (tg_frozen()) {
		/* Asking the kernel what FD is may be what the program's own
		 * filter kills for: let it through (SECURITY.md). */
		tg_fd_set(fd, TG_FD_PASS);
		return 0;
	}
	struct tg_req req = { .kind = TG_REQ_FD_WRITE, .op = op, .dirfd = fd, .flags = -1,
			      .classes = TG_BIT(TG_WRITE), .mode = -1 };
	r = tg_check(&req);
	if (req.fd_state != TG_FD_UNKNOWN)
		tg_fd_set(fd, req.fd_state);
	return r;
}
