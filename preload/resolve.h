/* The object the kernel really reaches (see resolve.c). */
#ifndef TG_RESOLVE_H
#define TG_RESOLVE_H

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "real.h"

/* True when openat2 works here (probed once). */
bool tg_openat2_usable(void);
/* 1 usable, 0 refused by the kernel or a seccomp profile, -1 not probed. */
extern _Atomic int tg_openat2_state;

/* openat2(DIRFD, PATH, FLAGS, MODE) with RESOLVE_NO_SYMLINKS: the fd, or
 * -errno (-ELOOP when a component is a symlink). Inline: the open of every
 * fast path. */
static inline int tg_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned)flags,
		.mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode & 07777) : 0,
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	long fd = tg_sys(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

/* 1 when the kernel meets no symlink walking (DIRFD, PATH) (its folder
 * only, unless FOLLOW_LAST), 0 when it does or cannot tell (no openat2),
 * -errno when the path cannot be walked at all. One O_PATH open and close;
 * never opens the object itself. */
int tg_symlink_free(int dirfd, const char *path, bool follow_last);

/* What tg_real_path does with the last component. */
enum tg_last {
	TG_LAST_LOOK,  /* read it as a link (follow it with FOLLOW_LAST) */
	TG_LAST_EXCL,  /* O_CREAT|O_EXCL: a link there is -EEXIST */
	TG_LAST_GUESS, /* take it as no link: the caller opens with
			* RESOLVE_NO_SYMLINKS and asks again on ELOOP */
};

/* The real path of (DIRFD, PATH) as the kernel resolves it, following the
 * last component when FOLLOW_LAST. Returns the length, 0 for a magic link that names no
 * path (a pipe behind /dev/stdin), or -errno: -EEXIST (TG_LAST_EXCL and
 * the last component is a symlink), -ELOOP for a loop. */
int tg_real_path(int dirfd, const char *path, bool follow_last, enum tg_last last, char *out,
		 size_t cap);

/* The path of the file behind descriptor FD into OUT (CAP bytes). Returns
 * its length, 0 when FD is not a file in the tree (a pipe, a socket, an
 * anonymous inode), or -errno (-EBADF). " (deleted)" is kept: such a file
 * has no name to decide. */
int tg_fd_path(int fd, char *out, size_t cap);

/* Rewrites "/proc/<this pid>..." in P (N bytes) as "/proc/self...", the
 * name policies use; returns the new length. */
int tg_proc_self(char *p, int n);

/* "/proc/self/fd/FD" into OUT (at least TG_PROC_FD_MAX bytes), without
 * the cost of snprintf. */
#define TG_PROC_FD_MAX 32
void tg_proc_fd(char *out, int fd);

#endif
