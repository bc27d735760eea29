/* The descriptor table (see fdtable.h): its entries, the reset of a
 * range, and the classification of a descriptor the guard never saw. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "decide.h"
#include "fdtable.h"
#include "protect-errno.h"
#include "real.h"
#include "settings.h"

_Atomic uint8_t tg_fds[TG_FD_MAX];

void tg_fd_forget_range(unsigned lo, unsigned hi)
{
	unsigned end = hi < TG_FD_MAX - 1 ? hi : TG_FD_MAX - 1;

	for (unsigned fd = lo; fd <= end;) {
		/* A whole aligned word of unknown entries is skipped at once
		 * (the table is bytes; a word load races only with stores of
		 * other entries, which a reset never needs to see). */
		if (fd % 8 == 0 && fd + 7 <= end) {
			uint64_t w;
			memcpy(&w, (const void *)&tg_fds[fd], sizeof(w));
			if (!w) {
				fd += 8;
				continue;
			}
		}
		if (atomic_load_explicit(&tg_fds[fd], memory_order_relaxed) != TG_FD_UNKNOWN)
			atomic_store_explicit(&tg_fds[fd], TG_FD_UNKNOWN, memory_order_relaxed);
		fd++;
	}
	tg_dirfd_forget_range(lo, hi);
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
	struct tg_req req = { .kind = TG_REQ_FD_WRITE,
			      .op = op,
			      .dirfd = fd,
			      .flags = -1,
			      .classes = TG_BIT(TG_WRITE),
			      .mode = -1 };
	r = tg_check(&req);
	if (req.fd_state != TG_REQ_FD_NONE)
		tg_fd_set(fd, req.fd_state == TG_REQ_FD_DENY ? TG_FD_DENY : TG_FD_PASS);
	return r;
}
