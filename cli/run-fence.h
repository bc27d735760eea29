/* The kernel fence for `trainguard run`: chosen in the parent, installed
 * in the job's process after fork and before exec, so the loader and every
 * child are inside, and reported back to the parent for the summary. */
#ifndef TG_CLI_RUN_FENCE_H
#define TG_CLI_RUN_FENCE_H

#include <stdbool.h>

#include "tg-fence.h"
#include "tg-policy.h"

struct tg_run_fence {
	enum tg_fence_mode landlock, seccomp; /* --fence, else the policy's keys */
	bool mode_set;                        /* the job's mode differs from the policy's */
	enum tg_mode mode;
	const char *log;       /* the log file the guard writes; NULL: stderr */
	const char *guard_lib; /* libtrainguard.so, protected like the log */
	const char *collector; /* the collector's socket: the log is then not
				* writable in the job, the socket protected */
	const char *program;   /* the job's program (absolute), which the user chose:
			      * granted read and exec; NULL when not found */
	int report_fd;         /* the pipe's write end the job's process reports on */
};

/* In the job's process: installs both layers with P (borrowed), writes the
 * outcome to F->report_fd and sets TRAINGUARD_FENCE for the job. Prints
 * the reason and returns -errno when a layer in mode require could not be
 * installed: the job must not start. */
int tg_run_fence_install(struct tg_policy *p, const struct tg_run_fence *f);

/* In the parent: reads what the job's process reported on FD. Returns 0
 * with *RET filled, -ECANCELED when the fence failed (the job exits 126),
 * or -EIO when nothing came (the process died before). */
int tg_run_fence_result(int fd, struct tg_fence_report *ret);

#endif
