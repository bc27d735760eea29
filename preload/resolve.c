/* The object the kernel really reaches.
 *
 * The guard decides on the lexically normalized path, which is the real
 * path exactly when no component the kernel walks is a symlink. The kernel
 * itself says whether that holds: openat2(RESOLVE_NO_SYMLINKS) fails with
 * ELOOP when a symlink is met. So the common case costs nothing extra for
 * an open (the program's own open is made with that flag), and an O_PATH
 * probe for the other calls; only a path through a symlink pays for
 * resolution, which walks the program's original string (so "w/../f" with
 * w a symlink resolves as the kernel would, not as the text reads): the
 * folder is opened with O_PATH and /proc names its descriptor (realpath(3)
 * when /proc does not answer); the target itself is never opened for I/O,
 * so FIFOs do not block and devices are not touched.
 *
 * Where openat2 is refused (kernels before 5.6, container seccomp profiles
 * that block it), every decision resolves the real path that way: slower,
 * as safe. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "resolve.h"
#include "self.h"

#define MAX_HOPS 40

_Atomic int tg_openat2_state = -1;

bool tg_openat2_usable(void)
{
	int s = atomic_load_explicit(&tg_openat2_state, memory_order_relaxed);

	if (tg_frozen())
		return false;
	if (s < 0) {
		struct open_how how = { .flags = O_PATH | O_CLOEXEC,
					.resolve = RESOLVE_NO_SYMLINKS };
		int fd = tg_sys(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
		s = fd >= 0;
		if (fd >= 0)
			tg_sys(SYS_close, fd);
		atomic_store(&tg_openat2_state, s);
	}
	return s == 1;
}

/* Splits PATH at its last component: the folder part (for openat) and
 * whether the last component names a real entry (not "", "." or ".."). */
static size_t folder_part(const char *path, bool *named)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t i = n;
	while (i > 0 && path[i - 1] != '/')
		i--;
	const char *last = path + i;
	size_t ln = n - i;
	*named = !(ln == 0 || (ln == 1 && last[0] == '.') ||
		   (ln == 2 && last[0] == '.' && last[1] == '.'));
	return i;
}

/* The folder part of PATH into a buffer of its own frame (16 KiB stacks). */
static __attribute__((noinline)) long probe_folder(int dirfd, const char *path, size_t i)
{
	char folder[PATH_MAX];
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };

	if (i >= sizeof(folder)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(folder, path, i);
	folder[i] = '\0';
	return tg_sys(SYS_openat2, dirfd, folder, &how, sizeof(how));
}

int tg_symlink_free(int dirfd, const char *path, bool follow_last)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
	bool named = false;
	size_t i = 0;
	long fd;

	if (!tg_openat2_usable())
		return 0;
	if (!follow_last) {
		i = folder_part(path, &named);
		if (named && i == 0)
			return 1; /* a name in DIRFD itself: nothing to walk */
	}
	if (named)
		fd = probe_folder(dirfd, path, i);
	else
		fd = tg_sys(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd >= 0) {
		tg_sys(SYS_close, fd);
		return 1;
	}
	if (errno == ELOOP)
		return 0;
	/* ENOENT for a name yet to be created, ENOTDIR, EACCES: every
	 * component walked so far was real, and the call gets the kernel's
	 * own answer. */
	return 1;
}

void tg_proc_fd(char *out, int fd)
{
	char digits[12];
	int n = 0;
	unsigned u = fd < 0 ? 0u - (unsigned)fd : (unsigned)fd;

	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	memcpy(out, "/proc/self/fd/", 14);
	out += 14;
	if (fd < 0)
		*out++ = '-';
	while (n)
		*out++ = digits[--n];
	*out = '\0';
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

int tg_proc_self(char *out, int n)
{
	char pid[32];

	if (n < 7 || memcmp(out, "/proc/", 6) != 0 || out[6] < '0' || out[6] > '9')
		return n; /* the common case, without formatting a pid */
	int pl = snprintf(pid, sizeof(pid), "/proc/%d", (int)tg_self_pid_cached());

	if (n >= pl && memcmp(out, pid, pl) == 0 && (out[pl] == '/' || out[pl] == '\0')) {
		memmove(out + 10, out + pl, n - pl + 1);
		memcpy(out, "/proc/self", 10);
		return n - pl + 10;
	}
	return n;
}

/* realpath(P) as the kernel sees it, into OUT (PATH_MAX bytes): an O_PATH
 * open and the name /proc gives the descriptor, three system calls where
 * realpath(3) reads every component as a link. realpath(3) itself when
 * /proc has no answer. */
static char *real_of(const char *p, char *out)
{
	long fd = tg_sys(SYS_openat, AT_FDCWD, p, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	char proc[TG_PROC_FD_MAX];
	tg_proc_fd(proc, (int)fd);
	long n = tg_sys(SYS_readlink, proc, out, PATH_MAX - 1);
	tg_sys(SYS_close, fd);
	if (n <= 0 || out[0] != '/')
		return realpath(p, out);
	out[n] = '\0';
	return out;
}

/* The absolute form of (DIRFD, PATH) into RAW (PATH_MAX bytes), unresolved. */
static int start_path(int dirfd, const char *path, char *raw)
{
	size_t l, pl = strlen(path);

	if (path[0] == '/') {
		l = 0;
	} else if (dirfd == AT_FDCWD) {
		if (!getcwd(raw, PATH_MAX))
			return -errno;
		l = strlen(raw);
	} else {
		char proc[TG_PROC_FD_MAX];
		tg_proc_fd(proc, dirfd);
		ssize_t r = readlink(proc, raw, PATH_MAX - 1);
		if (r <= 0)
			return -EBADF;
		l = (size_t)r;
	}
	if (l + 1 + pl >= PATH_MAX)
		return -ENAMETOOLONG;
	if (l)
		raw[l++] = '/';
	memcpy(raw + l, path, pl + 1);
	return (int)(l + pl);
}

/* Works in two buffers, RAW (the path still to resolve) and OUT, on
 * purpose: the guard's stack budget (see meson.build) has no room for a
 * buffer per step. */
int tg_real_path(int dirfd, const char *path, bool follow_last, enum tg_last last, char *out,
		 size_t cap)
{
	char raw[PATH_MAX];
	int n = start_path(dirfd, path, raw);

	if (n < 0)
		return n;
	if (cap < PATH_MAX)
		return -ENAMETOOLONG;
	for (int hop = 0; hop < MAX_HOPS; hop++) {
		bool named;
		size_t i = folder_part(raw, &named);
		const char *name = raw + i;
		size_t nl = strlen(name);
		while (nl > 0 && name[nl - 1] == '/')
			nl--;
		if (!named) {
			if (!real_of(raw, out))
				return -errno;
			return (int)strlen(out);
		}
		/* The folder, in place: RAW up to its last slash. */
		char cut = raw[i];
		raw[i] = '\0';
		char *folder = real_of(raw, out);
		raw[i] = cut;
		if (!folder)
			return -errno;
		size_t rl = strlen(out);
		size_t sl = rl == 1 ? 0 : 1; /* the root ends in its slash */
		if (rl + sl + nl >= cap)
			return -ENAMETOOLONG;
		if (sl)
			out[rl] = '/';
		memmove(out + rl + sl, name, nl);
		out[rl + sl + nl] = '\0';
		n = (int)(rl + sl + nl);
		if (last == TG_LAST_GUESS && hop == 0)
			return n;
		/* The link's text goes where the next path is built: after the
		 * folder for a relative target. */
		memcpy(raw, out, rl + sl);
		ssize_t tl = readlink(out, raw + rl + sl, PATH_MAX - 1 - (rl + sl));
		if (tl < 0)
			return n; /* not a link, or not there yet */
		if (last == TG_LAST_EXCL)
			return -EEXIST; /* O_CREAT|O_EXCL never follows a link */
		if (!follow_last)
			return n;
		if ((size_t)tl >= PATH_MAX - 1 - (rl + sl))
			return -ENAMETOOLONG;
		char *target = raw + rl + sl;
		target[tl] = '\0';
		if (target[0] == '/') {
			memmove(raw, target, (size_t)tl + 1);
		} else if (strncmp(out, "/proc/", 6) == 0) {
			/* A magic link into a pipe, socket or anonymous inode
			 * (/dev/stdin, /proc/self/fd/N): nothing to name. */
			return 0;
		}
	}
	return -ELOOP;
}
