/* Attributes and size: chmod, fchmod, fchmodat, lchmod, chown, fchown,
 * lchown, fchownat (class chmod; a chmod may not add bits beyond the
 * create_mode of the place, nor set-id bits there), truncate, truncate64
 * (class write). */
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"

int chmod(const char *path, mode_t mode)
{
	int r = tg_check_chmod("chmod", AT_FDCWD, path, -1, mode & 07777);
	return r < 0 ? tg_fail(-r) : REAL(chmod)(path, mode);
}

int fchmod(int fd, mode_t mode)
{
	int r = tg_check_chmod("fchmod", AT_FDCWD, NULL, fd, mode & 07777);
	return r < 0 ? tg_fail(-r) : REAL(fchmod)(fd, mode);
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	int r = tg_check_chmod("fchmodat", dirfd, path, -1, mode & 07777);
	return r < 0 ? tg_fail(-r) : REAL(fchmodat)(dirfd, path, mode, flags);
}

int lchmod(const char *path, mode_t mode)
{
	int r = tg_check_chmod("lchmod", AT_FDCWD, path, -1, mode & 07777);
	return r < 0 ? tg_fail(-r) : REAL(lchmod)(path, mode);
}

int chown(const char *path, uid_t uid, gid_t gid)
{
	int r = tg_check_chmod("chown", AT_FDCWD, path, -1, -1);
	return r < 0 ? tg_fail(-r) : REAL(chown)(path, uid, gid);
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	int r = tg_check_chmod("fchown", AT_FDCWD, NULL, fd, -1);
	return r < 0 ? tg_fail(-r) : REAL(fchown)(fd, uid, gid);
}

int lchown(const char *path, uid_t uid, gid_t gid)
{
	int r = tg_check_chmod("lchown", AT_FDCWD, path, -1, -1);
	return r < 0 ? tg_fail(-r) : REAL(lchown)(path, uid, gid);
}

int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	int r = (flags & AT_EMPTY_PATH) && path && !*path
			? tg_check_chmod("fchownat", AT_FDCWD, NULL, dirfd, -1)
			: tg_check_chmod("fchownat", dirfd, path, -1, -1);
	return r < 0 ? tg_fail(-r) : REAL(fchownat)(dirfd, path, uid, gid, flags);
}

static int check_write(const char *op, const char *path)
{
	struct tg_call c = { .op = op, .dirfd = AT_FDCWD, .path = path, .flags = -1,
			     .classes = TG_BIT(TG_WRITE), .mode = -1 };
	return tg_check(&c);
}

int truncate(const char *path, off_t len)
{
	int r = check_write("truncate", path);
	return r < 0 ? tg_fail(-r) : REAL(truncate)(path, len);
}

int truncate64(const char *path, off64_t len)
{
	int r = check_write("truncate64", path);
	return r < 0 ? tg_fail(-r) : REAL(truncate64)(path, len);
}
