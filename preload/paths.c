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
#include "self.h"

static struct {
	atomic_flag lock;
	_Atomic unsigned gen;   /* bumped by every chdir */
	_Atomic unsigned have;  /* generation of BUF, stored after it; 0: none */
	size_t len;             /* of the path, without the slash after it */
	char buf[PATH_MAX + 1]; /* the path and a slash ("/" for the root) */
} cwd = { .lock = ATOMIC_FLAG_INIT, .gen = 1 };

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
		if (atomic_load_explicit(&cwd.have, memory_order_relaxed) == gen && cwd.len < cap) {
			memcpy(out, cwd.buf, cwd.len);
			out[cwd.len] = '\0';
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
		/* Never rewritten while valid: tg_cwd_folder readers rely on it. */
		if (atomic_load(&cwd.gen) == gen && atomic_load(&cwd.have) != gen &&
		    (size_t)n < sizeof(cwd.buf) - 1) {
			atomic_store_explicit(&cwd.have, 0, memory_order_relaxed);
			memcpy(cwd.buf, out, n);
			cwd.len = n;
			if (n > 1)
				cwd.buf[n++] = '/';
			cwd.buf[n] = '\0';
			atomic_store_explicit(&cwd.have, gen, memory_order_release);
		}
		unlock(&cwd.lock);
		n = (int)strlen(out);
	}
	return n;
}

bool tg_cwd_folder(const char **dir, size_t *len, unsigned *gen)
{
	unsigned g = atomic_load_explicit(&cwd.gen, memory_order_acquire);

	if (atomic_load_explicit(&cwd.have, memory_order_acquire) != g)
		return false;
	*dir = cwd.buf;
	*len = cwd.len > 1 ? cwd.len + 1 : 1;
	*gen = g;
	return true;
}

bool tg_cwd_unchanged(unsigned gen)
{
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&cwd.gen, memory_order_relaxed) == gen &&
	       atomic_load_explicit(&cwd.have, memory_order_relaxed) == gen;
}

void tg_cwd_changed(void)
{
	atomic_fetch_add_explicit(&cwd.gen, 1, memory_order_release);
}

struct tg_dirfd_slot tg_dirfd_slots[TG_DIR_SLOTS];

static struct tg_dirfd_slot *slot_of(int fd)
{
	return &tg_dirfd_slots[(unsigned)fd % TG_DIR_SLOTS];
}

_Atomic unsigned tg_dirfd_filled;

void tg_dirfd_remember(int fd, const char *path, size_t n)
{
	struct tg_dirfd_slot *s = slot_of(fd);

	if (fd < 0 || n >= sizeof(s->path) - 1 || !try_lock(&s->lock))
		return;
	atomic_fetch_add(&tg_dirfd_filled, 1); /* before the slot can be seen */
	atomic_fetch_add(&s->gen, 1);          /* odd: readers stay away */
	atomic_store(&s->fd, -1);
	memcpy(s->path, path, n);
	s->len = n;
	if (n > 1)
		s->path[n++] = '/';
	s->path[n] = '\0';
	s->dlen = n;
	atomic_store(&s->fd, fd + 1);
	atomic_fetch_add(&s->gen, 1);
	unlock(&s->lock);
}

void tg_dirfd_forget_slot(int fd)
{
	struct tg_dirfd_slot *s = slot_of(fd);
	int want = fd + 1;

	if (fd >= 0 && atomic_load_explicit(&s->fd, memory_order_relaxed) == want) {
		atomic_fetch_add(&s->gen, 2); /* keeps a writer's parity */
		if (atomic_compare_exchange_strong(&s->fd, &want, 0))
			atomic_fetch_sub(&tg_dirfd_filled, 1);
	}
}

void tg_dirfd_forget_range(unsigned lo, unsigned hi)
{
	for (int i = 0; i < TG_DIR_SLOTS; i++) {
		int fd = atomic_load_explicit(&tg_dirfd_slots[i].fd, memory_order_relaxed) - 1;
		if (fd >= 0 && (unsigned)fd >= lo && (unsigned)fd <= hi)
			tg_dirfd_forget(fd);
	}
}

bool tg_dirfd_folder(int fd, const char **dir, size_t *len, unsigned *gen)
{
	struct tg_dirfd_slot *s = slot_of(fd);
	unsigned g = atomic_load_explicit(&s->gen, memory_order_acquire);

	if (fd < 0 || (g & 1) || atomic_load_explicit(&s->fd, memory_order_acquire) != fd + 1)
		return false;
	*dir = s->path;
	*len = s->dlen;
	*gen = g;
	return true;
}

bool tg_dirfd_unchanged(int fd, unsigned gen)
{
	struct tg_dirfd_slot *s = slot_of(fd);

	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->gen, memory_order_relaxed) == gen &&
	       atomic_load_explicit(&s->fd, memory_order_relaxed) == fd + 1;
}

int tg_dirfd_path(int fd, char *out, size_t cap)
{
	struct tg_dirfd_slot *s = slot_of(fd);
	int n = -1;

	if (fd >= 0 && atomic_load_explicit(&s->fd, memory_order_relaxed) == fd + 1 &&
	    try_lock(&s->lock)) {
		if (atomic_load(&s->fd) == fd + 1 && s->len < cap) {
			memcpy(out, s->path, s->len);
			out[s->len] = '\0';
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

/* The fork hook (called by the hub in self.c): a child forked while
 * another thread held a lock must not inherit it. */
void tg_paths_after_fork(void)
{
	atomic_flag_clear(&cwd.lock);
	for (int i = 0; i < TG_DIR_SLOTS; i++) {
		atomic_flag_clear(&tg_dirfd_slots[i].lock);
		/* A write cut off by the fork: the slot is emptied, and its
		 * generation made even again, or a later write would look
		 * stable to tg_dirfd_folder while it runs. */
		unsigned g = atomic_load(&tg_dirfd_slots[i].gen);
		if (g & 1) {
			atomic_store(&tg_dirfd_slots[i].fd, 0);
			atomic_store(&tg_dirfd_slots[i].gen, g + 1);
		}
	}
}
