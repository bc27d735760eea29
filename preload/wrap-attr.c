/* Attributes (class chmod, "Set Attributes"): chmod, fchmod, fchmodat,
 * lchmod, chown, fchown, lchown, fchownat (a chmod is clamped to the
 * create_mode of the place, the call then applying the narrowed mode, and
 * refused for set-id bits there), the times utime,
 * utimes, lutimes, utimensat, futimesat, futimens, futimes, and the
 * extended-attribute writers setxattr, lsetxattr, fsetxattr, removexattr,
 * lremovexattr, fremovexattr (a POSIX ACL set through them is decided as
 * the chmod it amounts to).
 *
 * The l* forms and AT_SYMLINK_NOFOLLOW act on a symlink itself, and are
 * decided on the link, not on what it points to; the f* forms and
 * AT_EMPTY_PATH on the file behind the descriptor. chmod and fchmodat
 * act on what was decided: the file is held first (see chmod_held). */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>
#include <limits.h>
#include <sys/syscall.h>

#include "decide.h"
#include "protect-errno.h"
#include "real.h"
#include "resolve.h"

#define CHMOD TG_BIT(TG_CHMOD)

/* The object of an attribute call: (DIRFD, PATH), or descriptor DIRFD
 * itself when ON_FD. MODE: chmod's target in, the mode to apply out (NULL
 * for the others). */
static int attr(enum tg_req_kind kind, const char *op, int dirfd, const char *path, bool on_fd,
		bool nofollow, int *mode)
{
	struct tg_req req = { .kind = kind,
			      .op = op,
			      .dirfd = dirfd,
			      .path = on_fd ? NULL : path,
			      .flags = -1,
			      .classes = CHMOD,
			      .mode = mode ? *mode : -1,
			      .nofollow = nofollow,
			      .on_fd = on_fd };
	int r = tg_check(&req);

	if (r == 0 && mode)
		*mode = req.mode;
	return r;
}

/* chmod: TO (an int lvalue) is the new mode, clamped in place. */
#define CHMOD_CHECK(op, dirfd, path, on_fd, nofollow, to) \
	do { \
		int r_ = attr(TG_REQ_CHMOD, op, dirfd, path, on_fd, nofollow, &(to)); \
		if (r_ < 0) \
			return tg_fail(-r_); \
	} while (0)

/* chown: class chmod, no mode. */
#define CHOWN_CHECK(op, dirfd, path, on_fd, nofollow) \
	do { \
		int r_ = attr(TG_REQ_CHMOD, op, dirfd, path, on_fd, nofollow, NULL); \
		if (r_ < 0) \
			return tg_fail(-r_); \
	} while (0)

#define ATTR(op, dirfd, path, nofollow) \
	do { \
		int r_ = attr(TG_REQ_PATH, op, dirfd, path, false, nofollow, NULL); \
		if (r_ < 0) \
			return tg_fail(-r_); \
	} while (0)

#define FD_ATTR(op, fd) \
	do { \
		int r_ = attr(TG_REQ_PATH, op, fd, NULL, true, false, NULL); \
		if (r_ < 0) \
			return tg_fail(-r_); \
	} while (0)

/* A POSIX ACL written as an extended attribute is a chmod in disguise
 * (cp -p and setfacl set the mode this way): the mode it grants, its named
 * entries counted as group bits, is decided as a chmod to that mode. Where
 * that would be clamped the call gets EOPNOTSUPP, the answer of a file
 * system without ACLs, and the tools fall back to chmod, which is clamped
 * (cp -p does: its copies in /tmp stayed 0644 before this).
 * Returns the mode, or -1 when NAME is no ACL; a malformed value counts as
 * 0777 (the kernel refuses it anyway). */
static int acl_mode(const char *name, const void *value, size_t size)
{
	enum {
		USER_OBJ = 0x01,
		USER = 0x02,
		GROUP_OBJ = 0x04,
		GROUP = 0x08,
		MASK = 0x10,
		OTHER = 0x20
	};
	const unsigned char *v = value;
	int user = 0, group = 0, other = 0;

	if (!name || (strcmp(name, "system.posix_acl_access") != 0 &&
		      strcmp(name, "system.posix_acl_default") != 0))
		return -1;
	if (!v || size < 4 || (size - 4) % 8 != 0)
		return 0777;
	for (size_t at = 4; at < size; at += 8) {
		int tag = v[at] | v[at + 1] << 8, perm = (v[at + 2] | v[at + 3] << 8) & 7;
		if (tag == USER_OBJ)
			user |= perm;
		else if (tag == OTHER)
			other |= perm;
		else if (tag == USER || tag == GROUP || tag == GROUP_OBJ || tag == MASK)
			group |= perm;
		else
			return 0777;
	}
	return user << 6 | group << 3 | other;
}

/* An ACL setter on (DIRFD, PATH) or descriptor DIRFD: 0 to go on, or -1
 * with errno set. */
static int acl_check(const char *op, int dirfd, const char *path, bool on_fd, bool nofollow,
		     const char *name, const void *value, size_t size)
{
	int want = acl_mode(name, value, size), m = want;
	int r = attr(want < 0 ? TG_REQ_PATH : TG_REQ_CHMOD, op, dirfd, path, on_fd, nofollow,
		     want < 0 ? NULL : &m);

	if (r < 0)
		return tg_fail(-r);
	return m != want ? tg_fail(EOPNOTSUPP) : 0;
}

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
		struct tg_req req = { .kind = TG_REQ_CHMOD,
				      .op = op,
				      .dirfd = fd,
				      .path = path,
				      .flags = -1,
				      .classes = CHMOD,
				      .mode = mode & 07777,
				      .on_fd = true };
		r = tg_check(&req);
		if (r == 0) {
			/* req.mode: clamped to the place's create_mode */
			tg_proc_fd(proc, fd);
			r = REAL(fchmodat)(AT_FDCWD, proc, (mode_t)req.mode, 0) == 0 ? 0 : -errno;
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
	int m = mode & 07777;
	int held = chmod_held("chmod", AT_FDCWD, path, (mode_t)m);
	if (held <= 0)
		return held < 0 ? tg_fail(-held) : 0;
	CHMOD_CHECK("chmod", AT_FDCWD, path, false, false, m);
	return REAL(chmod)(path, m);
}

int fchmod(int fd, mode_t mode)
{
	int m = mode & 07777;
	CHMOD_CHECK("fchmod", fd, NULL, true, false, m);
	return REAL(fchmod)(fd, m);
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	int m = mode & 07777;
	if (!(flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))) {
		int held = chmod_held("fchmodat", dirfd, path, (mode_t)m);
		if (held <= 0)
			return held < 0 ? tg_fail(-held) : 0;
	}
	CHMOD_CHECK("fchmodat", dirfd, path, empty_path(path, flags), flags & AT_SYMLINK_NOFOLLOW,
		    m);
	return REAL(fchmodat)(dirfd, path, m, flags);
}

int lchmod(const char *path, mode_t mode)
{
	int m = mode & 07777;
	CHMOD_CHECK("lchmod", AT_FDCWD, path, false, true, m);
	return REAL(lchmod)(path, m);
}

int chown(const char *path, uid_t uid, gid_t gid)
{
	CHOWN_CHECK("chown", AT_FDCWD, path, false, false);
	return REAL(chown)(path, uid, gid);
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	CHOWN_CHECK("fchown", fd, NULL, true, false);
	return REAL(fchown)(fd, uid, gid);
}

int lchown(const char *path, uid_t uid, gid_t gid)
{
	CHOWN_CHECK("lchown", AT_FDCWD, path, false, true);
	return REAL(lchown)(path, uid, gid);
}

int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	CHOWN_CHECK("fchownat", dirfd, path, empty_path(path, flags), flags & AT_SYMLINK_NOFOLLOW);
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
	if (acl_check("setxattr", AT_FDCWD, path, false, false, name, v, n) < 0)
		return -1;
	return REAL(setxattr)(path, name, v, n, flags);
}

int lsetxattr(const char *path, const char *name, const void *v, size_t n, int flags)
{
	if (acl_check("lsetxattr", AT_FDCWD, path, false, true, name, v, n) < 0)
		return -1;
	return REAL(lsetxattr)(path, name, v, n, flags);
}

int fsetxattr(int fd, const char *name, const void *v, size_t n, int flags)
{
	if (acl_check("fsetxattr", fd, NULL, true, false, name, v, n) < 0)
		return -1;
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
