/* Which process and thread this is, and the one fork hub.
 *
 * The ids are cached at start and refreshed in a fork child by the hub,
 * which then calls every module's fork hook in one place. A vfork child
 * (Python's subprocess, posix_spawn) runs no atfork handler and shares the
 * parent's memory: it sees the parent's cache and must not write it, nor
 * any other shared table. So the rare paths that act on the process (a
 * kill, a record, close_range, an exec) ask tg_self(), which checks the
 * cache against the kernel; the hot path uses tg_self_pid_cached(). */
#ifndef TG_SELF_H
#define TG_SELF_H

#include <stdbool.h>
#include <sys/types.h>

struct tg_self {
	pid_t pid, ppid, tid;
	/* The cache is another process's: a vfork child, or a child made by
	 * a raw clone. It shares (or may share) the parent's memory, so it
	 * allocates, maps and clears nothing shared. */
	bool foreign;
};

/* The process, checked against the kernel (one getpid; none once the
 * program's own seccomp filter is in: then the cache is trusted). */
void tg_self(struct tg_self *ret);

/* True in a child whose memory may be its parent's (see struct tg_self). */
bool tg_self_foreign(void);

/* The cached pid, no system call (0 before start: then the kernel's). */
pid_t tg_self_pid_cached(void);

/* Fills the cache and registers the fork hub; once, at start. */
void tg_self_init(void);

/* The fork hooks the hub calls in a fork child, each module's own. */
void tg_paths_after_fork(void);

#endif
