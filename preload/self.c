/* The process identity and the fork hub (see self.h).
 *
 * One pthread_atfork handler for the whole library: it refreshes the ids
 * and calls each module's hook, so a reader finds here everything a fork
 * child redoes. A vfork child runs none of it, which is why the ids are
 * checked where they matter instead of trusted. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "aggregate.h"
#include "chain.h"
#include "fold.h"
#include "lifecycle.h"
#include "log.h"
#include "real.h"
#include "self.h"

static _Atomic pid_t cached_pid, cached_ppid;
static __thread pid_t cached_tid __attribute__((tls_model("initial-exec")));

static void refresh(void)
{
	atomic_store(&cached_pid, (pid_t)tg_sys(SYS_getpid));
	atomic_store(&cached_ppid, (pid_t)tg_sys(SYS_getppid));
	cached_tid = (pid_t)tg_sys(SYS_gettid);
}

/* The hub: every module's state a fork child must redo, in one place. */
static void after_fork_child(void)
{
	pid_t parent = atomic_load(&cached_pid);

	refresh();
	tg_paths_after_fork();
	/* A new hash chain, linked to the parent's last record. */
	tg_chain_fork_child(atomic_load(&cached_pid));
	/* The folded repeats and the counts are the parent's to write. */
	tg_fold_after_fork();
	tg_agg_after_fork();
	tg_log_after_fork();
	tg_life_after_fork(parent);
	/* The descriptor table and the learn set are copied with the memory
	 * and stay true; event records number themselves per pid. */
}

void tg_self_init(void)
{
	refresh();
	/* The chain's lock is taken across fork, so the child's copy of the
	 * chain is not one a thread was halfway through. */
	pthread_atfork(tg_chain_fork_prepare, tg_chain_fork_parent, after_fork_child);
}

pid_t tg_self_pid_cached(void)
{
	pid_t pid = atomic_load_explicit(&cached_pid, memory_order_relaxed);
	return pid ? pid : (pid_t)tg_sys(SYS_getpid);
}

void tg_self(struct tg_self *ret)
{
	pid_t pid = atomic_load_explicit(&cached_pid, memory_order_relaxed);
	pid_t now = pid && tg_frozen() ? pid : (pid_t)tg_sys(SYS_getpid);

	if (pid == now) {
		if (!cached_tid)
			cached_tid = (pid_t)tg_sys(SYS_gettid);
		*ret = (struct tg_self){ .pid = pid,
					 .ppid = atomic_load_explicit(&cached_ppid,
								      memory_order_relaxed),
					 .tid = cached_tid };
		return;
	}
	/* Not the cached process: nothing is stored (the memory may be the
	 * parent's); such a child has one thread, whose id is the pid. */
	*ret = (struct tg_self){
		.pid = now, .ppid = (pid_t)tg_sys(SYS_getppid), .tid = now, .foreign = pid != 0
	};
}

bool tg_self_foreign(void)
{
	pid_t pid = atomic_load_explicit(&cached_pid, memory_order_relaxed);
	return pid && !tg_frozen() && pid != (pid_t)tg_sys(SYS_getpid);
}
