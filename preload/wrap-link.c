/* New names: link, linkat (create at the new name, and the refer rule:
 * EXDEV when the new name's rule grants what the old one denies, so a
 * secret cannot be linked where it is readable), symlink, symlinkat
 * (create at the link), and nodes: mknod, mknodat, mkfifo, mkfifoat and
 * the pre-2.33 __xmknod, __xmknodat (create; create_mode narrows them). */
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act.h"
#include "decide.h"
#include "real.h"

/* A new name NEWPATH for OLDPATH: a hard link (HARD) or a symlink whose
 * text is OLDPATH. The folders of the names are held in ACT, and the call
 * is made relative to them (act.h). */
static int check_link(const char *op, int olddirfd, const char *oldpath, int newdirfd,
		      const char *newpath, bool hard, bool follow, struct tg_act *act)
{
	struct tg_req req = { .kind = hard ? TG_REQ_LINK : TG_REQ_SYMLINK,
			      .op = op,
			      .dirfd = olddirfd,
			      .path = oldpath,
			      .dirfd2 = newdirfd,
			      .path2 = newpath,
			      .flags = -1,
			      .mode = -1,
			      .act = act,
			      .follow_old = follow,
			      .on_fd = hard && olddirfd != AT_FDCWD && oldpath && !*oldpath };
	tg_act_init(act, olddirfd, oldpath, newdirfd, newpath);
	int r = tg_check(&req);
	if (r < 0)
		tg_act_release(act);
	return r;
}

static int link_held(const char *op, int olddirfd, const char *oldpath, int newdirfd,
		     const char *newpath, int flags)
{
	struct tg_act act;
	int r = check_link(op, olddirfd, oldpath, newdirfd, newpath, true,
			   flags & AT_SYMLINK_FOLLOW, &act);

	if (r < 0)
		return tg_fail(-r);
	r = REAL(linkat)(act.from.dirfd, act.from.name, act.to.dirfd, act.to.name, flags);
	tg_act_release(&act);
	return r;
}

int link(const char *oldpath, const char *newpath)
{
	return link_held("link", AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
	return link_held("linkat", olddirfd, oldpath, newdirfd, newpath, flags);
}

static int symlink_held(const char *op, const char *target, int newdirfd, const char *linkpath)
{
	struct tg_act act;
	int r = check_link(op, AT_FDCWD, target, newdirfd, linkpath, false, false, &act);

	if (r < 0)
		return tg_fail(-r);
	r = REAL(symlinkat)(target, act.to.dirfd, act.to.name);
	tg_act_release(&act);
	return r;
}

int symlink(const char *target, const char *linkpath)
{
	return symlink_held("symlink", target, AT_FDCWD, linkpath);
}

int symlinkat(const char *target, int newdirfd, const char *linkpath)
{
	return symlink_held("symlinkat", target, newdirfd, linkpath);
}

static int check_node(const char *op, int dirfd, const char *path, mode_t *mode)
{
	struct tg_req req = { .kind = TG_REQ_PATH,
			      .op = op,
			      .dirfd = dirfd,
			      .path = path,
			      .flags = -1,
			      .classes = TG_BIT(TG_CREATE),
			      .mode = *mode & 07777,
			      .nofollow = true };
	int r = tg_check(&req);
	if (r == 0)
		*mode = (*mode & ~07777) | (req.mode & 07777);
	return r;
}

int mknod(const char *path, mode_t mode, dev_t dev)
{
	int r = check_node("mknod", AT_FDCWD, path, &mode);
	return r < 0 ? tg_fail(-r) : REAL(mknod)(path, mode, dev);
}

int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	int r = check_node("mknodat", dirfd, path, &mode);
	return r < 0 ? tg_fail(-r) : REAL(mknodat)(dirfd, path, mode, dev);
}

int mkfifo(const char *path, mode_t mode)
{
	int r = check_node("mkfifo", AT_FDCWD, path, &mode);
	return r < 0 ? tg_fail(-r) : REAL(mkfifo)(path, mode);
}

int mkfifoat(int dirfd, const char *path, mode_t mode)
{
	int r = check_node("mkfifoat", dirfd, path, &mode);
	return r < 0 ? tg_fail(-r) : REAL(mkfifoat)(dirfd, path, mode);
}

int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev)
{
	int r = check_node("__xmknod", AT_FDCWD, path, &mode);
	return r < 0 ? tg_fail(-r) : REAL(__xmknod)(ver, path, mode, dev);
}

int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev)
{
	int r = check_node("__xmknodat", dirfd, path, &mode);
	return r < 0 ? tg_fail(-r) : REAL(__xmknodat)(ver, dirfd, path, mode, dev);
}
