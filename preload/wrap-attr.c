/* Attributes (class chmod, "Set Attributes"): chmod, fchmod, fchmodat,
 * lchmod, chown, fchown, lchown, fchownat (a chmod may not add bits beyond
 * the create_mode of the place, nor set-id bits there), the times utime,
 * utimes, lutimes, utimensat, futimesat, futimens, futimes, and the
 * extended-attribute writers setxattr, lsetxattr, fsetxattr, removexattr,
 * lremovexattr, fremovexattr.
 *
 * The l* forms and AT_SYMLINK_NOFOLLOW act on a symlink itself, and are
 * decided on the link, not on what it points to; the f* forms and
 * AT_EMPTY_PATH on the file behind the descriptor. chmod and fchmodat
 * act on what was decided: the file is held first (see chmod_held). */
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include <errno.h>
#include <limits.h>
#include <sys/syscall.h>

#include "decide.h"
#include "protect-errno.h"
#include "real.h"
#include "resolve.h"

#define CHMOD TG_BIT(TG_CHMOD)

/* The object of an attribute call: (DIRFD, PATH), or descriptor DIRFD
 * itself when ON_FD. */
static int attr(enum tg_req_kind kind, const char *op, int dirfd, const char *path, bool on_fd,
		bool nofollow, int mode)
{
	struct tg_req req = { .kind = kind, .op = op, .dirfd = dirfd, .path = on_fd ? NULL : path,
			      .flags = -1, .classes = CHMOD, .mode = mode, .nofollow = nofollow,
			      .on_fd = on_fd };
	return tg_check(&req);
}

/* chmod and chown: TO is the new mode (-1 for chown). */
#define CHMOD_CHECK(op, dirfd, path, on_fd, nofollow, to)                                 \
	do {                                                                              \
		int r_ = attr(TG_REQ_CHMOD, op, dirfd, path, on_fd, nofollow, to);        \
		if (r_ < 0)                                                               \
			return tg_fail(-r_);                                              \
	} while (0)

#define ATTR(op, dirfd, path, nofollow)                                                   \
	do {                                                                              \
		int r_ = attr(TG_REQ_PATH, op, dirfd, path, false, nofollow, -1);         \
		if (r_ < 0)                                                               \
			return tg_fail(-r_);                                              \
	} while (0)

#define FD_ATTR(op, fd)                                                                   \
	do {                                                                              \
		int r_ = attr(TG_REQ_PATH, op, fd, NULL, true, false, -1);                \
		if (r_ < 0)                                                               \
			return tg_fail(-r_);                                              \
	} while (0)

/* In its own frame: the buffer is gone before the decision runs. */
static __attribute__((noinline)) bool has_name(int fd)
{
	char buf[PATH_MAX];
	return tg_fd_path(fd, buf, sizeof(buf)) > 0;
}

/* chmod by name, acting on what was decided: the file is held by an
 * O_PATH descriptor (opened as chmod walks the name, through symlinks),
 * decided as the file behind it, and changed through /proc/self/fd/N, so
 * a symlink flipped between the decision and the change cannot redirect
 * it (the race that emptied .bashrc with truncate works on chmod too).
 * Returns 0 or -errno when done, 1 when the file cannot be held (no
 * /proc, the program's own seccomp filter, an empty or NULL name): the
 * caller then decides and acts by name. */
static int chmod_held(const char *op, int dirfd, const char *path, mode_t mode)
{
	char proc[TG_PROC_FD_MAX];

	if (!path || !*path || tg_frozen())
		return 1;
	int fd = tg_sys(SYS_openat, dirfd, path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno; /* chmod fails the same way (ENOENT, ELOOP, EACCES) */
	int r = 1;
	/* The descriptor's name must be readable (/proc), or the decision
	 * would find nothing to decide. */
	if (has_name(fd)) {
		struct tg_req req = { .kind = TG_REQ_CHMOD, .op = op, .dirfd = fd, .path = path,
				      .flags = -1, .classes = CHMOD, .mode = mode & 07777,
				      .on_fd = true };
		r = tg_check(&req);
		if (r == 0) {
			tg_proc_fd(proc, fd);
			r = REAL(fchmodat)(AT_FDCWD, proc, mode, 0) == 0 ? 0 : -errno;
		}
	}
	TG_PROTECT_ERRNO;
	tg_sys(SYS_close, fd);
	return r;
}

static bool empty_path(const char *path, int flags)
{
	return (flags & AT_EMPTY_PATH) && path && !*path;
}

int chmod(const char *path, mode_t mode)
{
	int held = chmod_held("chmod", AT_FDCWD, path, mode);
	if (held <= 0)
		return held < 0 ? tg_fail(-held) : 0;
	CHMOD_CHECK("chmod", AT_FDCWD, path, false, false, mode & 07777);
	return REAL(chmod)(path, mode);
}

int fchmod(int fd, mode_t mode)
{
	CHMOD_CHECK("fchmod", fd, NULL, true, false, mode & 07777);
	return REAL(fchmod)(fd, mode);
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	if (!(flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))) {
		int held = chmod_held("fchmodat", dirfd, path, mode);
		if (held <= 0)
			return held < 0 ? tg_fail(-held) : 0;
	}
	CHMOD_CHECK("fchmodat", dirfd, path, empty_path(path, flags),
		    flags & AT_SYMLINK_NOFOLLOW, mode & 07777);
	return REAL(fchmodat)(dirfd, path, mode, flags);
}

int lchmod(const char *path, mode_t mode)
{
	CHMOD_CHECK("lchmod", AT_FDCWD, path, false, true, mode & 07777);
	return REAL(lchmod)(path, mode);
}

int chown(const char *path, uid_t uid, gid_t gid)
{
	CHMOD_CHECK("chown", AT_FDCWD, path, false, false, -1);
	return REAL(chown)(path, uid, gid);
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	CHMOD_CHECK("fchown", fd, NULL, true, false, -1);
	return REAL(fchown)(fd, uid, gid);
}

int lchown(const char *path, uid_t uid, gid_t gid)
{
	CHMOD_CHECK("lchown", AT_FDCWD, path, false, true, -1);
	return REAL(lchown)(path, uid, gid);
}

int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	CHMOD_CHECK("fchownat", dirfd, path, empty_path(path, flags),
		    flags & AT_SYMLINK_NOFOLLOW, -1);
	return REAL(fchownat)(dirfd, path, uid, gid, flags);
}

int utime(const char *path, const struct utimbuf *t)
{
	ATTR("utime", AT_FDCWD, path, false);
	return REAL(utime)(path, t);
}

int utimes(const char *path, const struct timeval t[2])
{
	ATTR("utimes", AT_FDCWD, path, false);
	return REAL(utimes)(path, t);
}

int lutimes(const char *path, const struct timeval t[2])
{
	ATTR("lutimes", AT_FDCWD, path, true);
	return REAL(lutimes)(path, t);
}

int utimensat(int dirfd, const char *path, const struct timespec t[2], int flags)
{
	if (!path) /* futimens(dirfd) in disguise */
		FD_ATTR("utimensat", dirfd);
	else
		ATTR("utimensat", dirfd, path, flags & AT_SYMLINK_NOFOLLOW);
	return REAL(utimensat)(dirfd, path, t, flags);
}

int futimesat(int dirfd, const char *path, const struct timeval t[2])
{
	if (!path)
		FD_ATTR("futimesat", dirfd);
	else
		ATTR("futimesat", dirfd, path, false);
	return REAL(futimesat)(dirfd, path, t);
}

int futimens(int fd, const struct timespec t[2])
{
	FD_ATTR("futimens", fd);
	return REAL(futimens)(fd, t);
}

int futimes(int fd, const struct timeval t[2])
{
	FD_ATTR("futimes", fd);
	return REAL(futimes)(fd, t);
}

int setxattr(const char *path, const char *name, const void *v, size_t n, int flags)
{
	ATTR("setxattr", AT_FDCWD, path, false);
	return REAL(setxattr)(path, name, v, n, flags);
}

int lsetxattr(const char *path, const char *name, const void *v, size_t n, int flags)
{
	ATTR("lsetxattr", AT_FDCWD, path, true);
	return REAL(lsetxattr)(path, name, v, n, flags);
}

int fsetxattr(int fd, const char *name, const void *v, size_t n, int flags)
{
	FD_ATTR("fsetxattr", fd);
	return REAL(fsetxattr)(fd, name, v, n, flags);
}

int removexattr(const char *path, const char *name)
{
	ATTR("removexattr", AT_FDCWD, path, false);
	return REAL(removexattr)(path, name);
}

int lremovexattr(const char *path, const char *name)
{
	ATTR("lremovexattr", AT_FDCWD, path, true);
	return REAL(lremovexattr)(path, name);
}

int fremovexattr(int fd, const char *name)
{
	FD_ATTR("fremovexattr", fd);
	return REAL(fremovexattr)(fd, name);
}
