/* Where relative paths start, without a system call per call.
 *
 * The working directory is cached and dropped by the chdir and fchdir
 * wrappers; folders opened with O_DIRECTORY are remembered by descriptor
 * and dropped by close, dup2, dup3, close_range and closefrom. Both caches
 * are guarded by try-locks: a thread (or a signal handler) that finds one
 * busy asks the kernel instead (getcwd, or readlink of /proc/self/fd/N), so
 * nothing here can deadlock. A chdir made by a raw system call is not
 * seen; SECURITY.md says so. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "resolve.h"

static struct {
	atomic_flag lock;
	_Atomic unsigned gen; /* bumped by every chdir */
	unsigned have;        /* generation of BUF, under LOCK */
	bool valid;
	size_t len;
	char buf[PATH_MAX];
} cwd = { .lock = ATOMIC_FLAG_INIT };

static bool try_lock(atomic_flag *l)
{
	return !atomic_flag_test_and_set_explicit(l, memory_order_acquire);
}

static void unlock(atomic_flag *l)
{
	atomic_flag_clear_explicit(l, memory_order_release);
}

int tg_cwd(char *out, size_t cap)
{
	unsigned gen = atomic_load_explicit(&cwd.gen, memory_order_acquire);
	int n = -1;

	if (try_lock(&cwd.lock)) {
		if (cwd.valid && cwd.have == gen && cwd.len < cap) {
			memcpy(out, cwd.buf, cwd.len + 1);
			n = (int)cwd.len;
		}
		unlock(&cwd.lock);
	}
	if (n >= 0)
		return n;
	if (!getcwd(out, cap))
		return -errno;
	n = (int)strlen(out);
	if (try_lock(&cwd.lock)) {
		if (atomic_load(&cwd.gen) == gen) {
			memcpy(cwd.buf, out, n + 1);
			cwd.len = n;
			cwd.have = gen;
			cwd.valid = true;
		}
		unlock(&cwd.lock);
	}
	return n;
}

void tg_cwd_changed(void)
{
	atomic_fetch_add_explicit(&cwd.gen, 1, memory_order_release);
}

#define DIR_SLOTS 64

static struct slot {
	atomic_flag lock;
	_Atomic int fd;
	size_t len;
	char path[PATH_MAX];
} slots[DIR_SLOTS];

static struct slot *slot_of(int fd)
{
	return &slots[(unsigned)fd % DIR_SLOTS];
}

void tg_dirfd_remember(int fd, const char *path, size_t n)
{
	struct slot *s = slot_of(fd);

	if (fd < 0 || n >= sizeof(s->path) || !try_lock(&s->lock))
		return;
	atomic_store(&s->fd, -1);
	memcpy(s->path, path, n + 1);
	s->len = n;
	atomic_store(&s->fd, fd + 1); /* 0 means empty: fd + 1 */
	unlock(&s->lock);
}

void tg_dirfd_forget(int fd)
{
	struct slot *s = slot_of(fd);

	if (fd >= 0 && atomic_load_explicit(&s->fd, memory_order_relaxed) == fd + 1)
		atomic_store(&s->fd, 0);
}

int tg_dirfd_path(int fd, char *out, size_t cap)
{
	struct slot *s = slot_of(fd);
	int n = -1;

	if (fd >= 0 && atomic_load_explicit(&s->fd, memory_order_relaxed) == fd + 1 &&
	    try_lock(&s->lock)) {
		if (atomic_load(&s->fd) == fd + 1 && s->len < cap) {
			memcpy(out, s->path, s->len + 1);
			n = (int)s->len;
		}
		unlock(&s->lock);
	}
	if (n >= 0)
		return n;
	char proc[TG_PROC_FD_MAX];
	tg_proc_fd(proc, fd);
	ssize_t l = readlink(proc, out, cap - 1);
	if (l < 0)
		return errno == ENOENT ? -EBADF : -errno;
	out[l] = '\0';
	if (l == 0 || out[0] != '/')
		return 0;
	return (int)l;
}

/* A child forked while another thread held a lock must not inherit it. */
static void after_fork(void)
{
	atomic_flag_clear(&cwd.lock);
	for (int i = 0; i < DIR_SLOTS; i++)
		atomic_flag_clear(&slots[i].lock);
}

__attribute__((constructor)) static void paths_init(void)
{
	pthread_atfork(NULL, NULL, after_fork);
}
