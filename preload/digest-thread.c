/* The digest thread: files read under an audited rule are hashed off the
 * program's thread. At a file's first open the program's thread takes a
 * descriptor of it (a duplicate moved above the descriptors programs use,
 * or a read-only reopen through /proc/self/fd for one opened write-only)
 * and queues it with the file's identity; one thread, created at the
 * first such open, hashes the queue in order, checks that the file did not
 * change meanwhile (size and mtime before and after), and keeps the
 * digest in the cache. The record of the file (aggregate.c) is written at
 * the first close after its digest is known, or at exit, where the
 * program's thread waits for what is still queued (TG_DIGEST_WAIT_MS in
 * all) and says "unfinished" of the rest. A full queue (64 files) hashes
 * on the program's thread, as does a process whose thread cannot be had
 * (its own seccomp filter, or no thread left). The thread blocks every
 * signal, is named "tg-digest", makes only system calls and the hashing
 * (no stdio, no heap); a fork child has none, and drops the queue it
 * copied: a file it opens is queued again in it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "digest-internal.h"
#include "real.h"

#define JOBS         64
#define WAIT_STEP_NS 1000000LL /* how often a waiter looks */
#define FD_BASE      900       /* as the log's descriptor (start.c) */

enum { FREE, QUEUED, RUNNING, DONE };

struct job {
	_Atomic int state;
	int fd;
	unsigned long seq; /* the oldest DONE job is reused first */
	struct tg_file_facts facts;
};

static struct job jobs[JOBS];
static atomic_flag lock = ATOMIC_FLAG_INIT;
static _Atomic uint32_t work; /* bumped at each job queued: the thread's futex */
static _Atomic int started;   /* 0 none, 1 running, -1 cannot be had */
static atomic_flag starting = ATOMIC_FLAG_INIT;
static unsigned long next_seq;
static int fd_base = -1;

static bool take(void)
{
	for (long spins = 0; atomic_flag_test_and_set_explicit(&lock, memory_order_acquire);)
		if (++spins > 1000000)
			return false;
	return true;
}

static void give(void)
{
	atomic_flag_clear_explicit(&lock, memory_order_release);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool same_file(const struct tg_file_facts *a, const struct tg_file_facts *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

/* Hashes job J's file; its outcome in J->facts. False when J->fd is not
 * the file's any more (a program that closed the guard's descriptor and
 * opened another on its number): not the thread's to close. */
static bool hash_job(struct job *j)
{
	struct tg_file_facts now;
	struct stat st;

	j->facts.timing = "unreadable";
	if (tg_sys(SYS_fstat, j->fd, &st) != 0)
		return false;
	tg_digest_facts(&st, &now);
	if (now.dev != j->facts.dev || now.ino != j->facts.ino)
		return false;
	j->facts.timing = "changed";
	if (!same_file(&now, &j->facts))
		return true;
	int r = tg_digest_hash_fd(j->fd, j->facts.size, j->facts.sha256);
	if (r < 0) {
		j->facts.timing = r == -ESTALE ? "changed" : "unreadable";
		return true;
	}
	if (tg_sys(SYS_fstat, j->fd, &st) != 0)
		return true;
	tg_digest_facts(&st, &now);
	if (!same_file(&now, &j->facts))
		return true;
	j->facts.hashed = true;
	j->facts.timing = "thread";
	tg_digest_remember(&j->facts);
	return true;
}

static struct job *claim(void)
{
	struct job *got = NULL;

	if (!take())
		return NULL;
	for (size_t i = 0; i < JOBS; i++) {
		struct job *j = &jobs[i];
		if (atomic_load(&j->state) == QUEUED && (!got || j->seq < got->seq))
			got = j;
	}
	if (got)
		atomic_store(&got->state, RUNNING);
	give();
	return got;
}

static void *run(void *arg)
{
	(void)arg;
	tg_sys(SYS_prctl, PR_SET_NAME, "tg-digest", 0, 0, 0);
	for (;;) {
		uint32_t seen = atomic_load(&work);
		struct job *j = claim();
		if (!j) {
			tg_sys(SYS_futex, &work, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
			continue;
		}
		if (hash_job(j))
			tg_sys(SYS_close, j->fd);
		j->fd = -1;
		atomic_store(&j->state, DONE);
	}
	return NULL;
}

/* The thread, created once, with every signal blocked (it inherits the
 * mask it is created with). False when there is none. */
static bool have_thread(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	struct rlimit rl;

	int s = atomic_load(&started);
	if (s)
		return s > 0;
	if (tg_frozen() || atomic_flag_test_and_set(&starting))
		return false; /* another thread is creating it: hash here this once */
	fd_base = FD_BASE;
	if (tg_sys(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0 && rl.rlim_cur < 1024)
		fd_base = (int)(rl.rlim_cur / 2);
	sigfillset(&all);
	tg_sys(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, _NSIG / 8);
	int r = pthread_attr_init(&attr);
	if (r == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 1024 * 1024);
		r = pthread_create(&t, &attr, run, NULL);
		pthread_attr_destroy(&attr);
	}
	tg_sys(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, _NSIG / 8);
	atomic_store(&started, r == 0 ? 1 : -1);
	atomic_flag_clear(&starting);
	return r == 0;
}

/* A descriptor of FD's file for the thread, above the program's, or -1. */
static int job_fd(int fd, bool through_proc, const struct tg_file_facts *facts)
{
	struct stat st;
	int src = fd;

	if (through_proc) {
		src = tg_digest_reopen(fd);
		if (src < 0)
			return -1;
	}
	int h = (int)tg_sys(SYS_fcntl, src, F_DUPFD_CLOEXEC, fd_base);
	if (through_proc)
		tg_sys(SYS_close, src);
	if (h < 0)
		return -1;
	if (through_proc && (tg_sys(SYS_fstat, h, &st) != 0 || st.st_dev != facts->dev ||
			     st.st_ino != facts->ino)) {
		tg_sys(SYS_close, h);
		return -1;
	}
	return h;
}

/* The job of FACTS' file still queued or running, or a free one, or the
 * oldest done; ALREADY says it was the file's own. Under the lock. */
static struct job *slot_for(const struct tg_file_facts *facts, bool *already)
{
	struct job *free_one = NULL, *oldest = NULL;

	*already = false;
	for (size_t i = 0; i < JOBS; i++) {
		struct job *j = &jobs[i];
		int st = atomic_load(&j->state);
		if ((st == QUEUED || st == RUNNING) && same_file(&j->facts, facts)) {
			*already = true;
			return j;
		}
		if (st == FREE && !free_one)
			free_one = j;
		if (st == DONE && (!oldest || j->seq < oldest->seq))
			oldest = j;
	}
	return free_one ? free_one : oldest;
}

void tg_digest_read(int fd, bool through_proc, struct tg_file_facts *facts)
{
	bool already;

	if (!tg_digest_wanted(facts))
		return;
	if (tg_digest_lookup(facts)) {
		facts->hashed = true;
		facts->timing = "at_open";
		return;
	}
	if (!have_thread() || !take())
		goto here;
	struct job *j = slot_for(facts, &already);
	if (!j) {
		give();
		goto here; /* the queue is full */
	}
	if (!already) {
		int h = job_fd(fd, through_proc, facts);
		if (h < 0) {
			give();
			goto here;
		}
		j->fd = h;
		j->seq = ++next_seq;
		j->facts = *facts;
		j->facts.hashed = false;
		j->facts.pending = false;
		atomic_store(&j->state, QUEUED);
	}
	give();
	if (!already) {
		atomic_fetch_add(&work, 1);
		tg_sys(SYS_futex, &work, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	facts->pending = true;
	facts->timing = "thread";
	return;
here:
	tg_digest_fd(fd, through_proc, "at_open", facts);
}

/* FACTS' outcome if its file's job is done or its digest known: true. */
static bool outcome(struct tg_file_facts *facts)
{
	bool done = false, found = false;

	if (!take())
		return false;
	for (size_t i = 0; i < JOBS && !found; i++) {
		struct job *j = &jobs[i];
		int st = atomic_load(&j->state);
		if (st == FREE || !same_file(&j->facts, facts))
			continue;
		if (st == DONE) {
			found = done = true;
			facts->hashed = j->facts.hashed;
			facts->timing = j->facts.timing;
			memcpy(facts->sha256, j->facts.sha256, TG_SHA256_LEN);
		} else {
			found = true;
		}
	}
	give();
	if (!found && tg_digest_lookup(facts)) {
		facts->hashed = true;
		facts->timing = "thread";
		done = true;
	} else if (!found) {
		facts->timing = "unfinished"; /* its job was dropped (a fork child) */
		done = true;
	}
	if (done)
		facts->pending = false;
	return done;
}

long long tg_digest_deadline(void)
{
	return now_ns() + TG_DIGEST_WAIT_MS * 1000000LL;
}

bool tg_digest_settle(struct tg_file_facts *facts, long long deadline)
{
	struct timespec step = { 0, WAIT_STEP_NS };

	if (!facts->pending)
		return true;
	for (;;) {
		if (outcome(facts))
			return true;
		if (!deadline)
			return false;
		if (now_ns() >= deadline)
			break;
		tg_sys(SYS_nanosleep, &step, NULL);
	}
	facts->pending = false;
	facts->timing = "unfinished";
	return true;
}

void tg_digest_thread_after_fork(void)
{
	atomic_flag_clear(&lock);
	atomic_flag_clear(&starting);
	atomic_store(&started, 0);
	for (size_t i = 0; i < JOBS; i++) {
		struct job *j = &jobs[i];
		int st = atomic_load(&j->state);
		if (st == QUEUED || st == RUNNING) {
			tg_sys(SYS_close, j->fd);
			j->fd = -1;
			atomic_store(&j->state, FREE);
		}
	}
}
