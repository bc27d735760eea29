/* Namespace changes: unlink, unlinkat, remove, rmdir, mkdir, mkdirat,
 * rename, renameat, renameat2. A rename is decided on both ends (see
 * decide-refer.c); a mkdir may have its mode narrowed by create_mode.
 * Refused, each first gets the kernel's own answer when it has one: a
 * mkdir of an existing folder EEXIST (mkdir -p /etc), an unlink, rmdir or
 * rename of a missing name ENOENT, without a record (enum
 * tg_kernel_first). */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide.h"
#include "real.h"

static int check(const char *op, int dirfd, const char *path, unsigned classes, int *mode,
		 enum tg_kernel_first first)
{
	struct tg_req req = {
		.kind = TG_REQ_PATH,
		.op = op,
		.dirfd = dirfd,
		.path = path,
		.flags = -1,
		.classes = classes,
		.mode = mode ? *mode : -1,
		.is_dir = mode != NULL,
		.nofollow = true, /* each acts on a last-component link itself */
		.kernel_first = first,
	};
	int r = tg_check(&req);
	if (r == 0 && mode)
		*mode = req.mode;
	return r;
}

#define DELETE TG_BIT(TG_DELETE)
#define CREATE TG_BIT(TG_CREATE)

/* unlink acts from the folder decided on when the guard holds it. */
int unlink(const char *path)
{
	struct tg_req req = {
		.kind = TG_REQ_PATH,
		.op = "unlink",
		.dirfd = AT_FDCWD,
		.path = path,
		.flags = -1,
		.classes = DELETE,
		.mode = -1,
		.nofollow = true,
		.kernel_first = TG_FIRST_MISSING,
		.want_parent = true,
	};
	int r = tg_check(&req);
	if (r < 0)
		return tg_fail(-r);
	if (req.parent_fd > 0)
		return REAL(unlinkat)(req.parent_fd, strrchr(path, '/') + 1, 0);
	return REAL(unlink)(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	int r = check("unlinkat", dirfd, path, DELETE, NULL, TG_FIRST_MISSING);
	return r < 0 ? tg_fail(-r) : REAL(unlinkat)(dirfd, path, flags);
}

int remove(const char *path)
{
	int r = check("remove", AT_FDCWD, path, DELETE, NULL, TG_FIRST_MISSING);
	return r < 0 ? tg_fail(-r) : REAL(remove)(path);
}

int rmdir(const char *path)
{
	int r = check("rmdir", AT_FDCWD, path, DELETE, NULL, TG_FIRST_MISSING);
	return r < 0 ? tg_fail(-r) : REAL(rmdir)(path);
}

int mkdir(const char *path, mode_t mode)
{
	int m = mode & 07777;
	int r = check("mkdir", AT_FDCWD, path, CREATE, &m, TG_FIRST_EXISTS);
	return r < 0 ? tg_fail(-r) : REAL(mkdir)(path, m);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	int m = mode & 07777;
	int r = check("mkdirat", dirfd, path, CREATE, &m, TG_FIRST_EXISTS);
	return r < 0 ? tg_fail(-r) : REAL(mkdirat)(dirfd, path, m);
}

static int check_rename(const char *op, int olddirfd, const char *oldpath, int newdirfd,
			const char *newpath, unsigned flags)
{
	struct tg_req req = { .kind = TG_REQ_RENAME,
			      .op = op,
			      .dirfd = olddirfd,
			      .path = oldpath,
			      .dirfd2 = newdirfd,
			      .path2 = newpath,
			      .flags = -1,
			      .at_flags = flags,
			      .mode = -1,
			      .nofollow = true,
			      .kernel_first = TG_FIRST_MISSING };
	return tg_check(&req);
}

/* rename acts from the folders decided on when the guard holds them. */
int rename(const char *oldpath, const char *newpath)
{
	struct tg_req req = { .kind = TG_REQ_RENAME,
			      .op = "rename",
			      .dirfd = AT_FDCWD,
			      .path = oldpath,
			      .dirfd2 = AT_FDCWD,
			      .path2 = newpath,
			      .flags = -1,
			      .mode = -1,
			      .nofollow = true,
			      .kernel_first = TG_FIRST_MISSING,
			      .want_parent = true };
	int r = tg_check(&req);
	if (r < 0)
		return tg_fail(-r);
	if (!req.parent_fd && !req.parent_fd2)
		return REAL(rename)(oldpath, newpath);
	return REAL(renameat)(req.parent_fd ? req.parent_fd : AT_FDCWD,
			      req.parent_fd ? strrchr(oldpath, '/') + 1 : oldpath,
			      req.parent_fd2 ? req.parent_fd2 : AT_FDCWD,
			      req.parent_fd2 ? strrchr(newpath, '/') + 1 : newpath);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	int r = check_rename("renameat", olddirfd, oldpath, newdirfd, newpath, 0);
	return r < 0 ? tg_fail(-r) : REAL(renameat)(olddirfd, oldpath, newdirfd, newpath);
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned int flags)
{
	int r = check_rename("renameat2", olddirfd, oldpath, newdirfd, newpath, flags);
	return r < 0 ? tg_fail(-r) : REAL(renameat2)(olddirfd, oldpath, newdirfd, newpath, flags);
}
