/* Namespace changes: unlink, unlinkat, remove, rmdir, mkdir, mkdirat,
 * rename, renameat, renameat2. A rename is decided on both ends (see
 * decide-refer.c); the deletes and renames are made from the folders
 * decided on (act.h); a mkdir may have its mode narrowed by create_mode.
 * Refused, each first gets the kernel's own answer when it has one: a
 * mkdir of an existing folder EEXIST (mkdir -p /etc), an unlink, rmdir or
 * rename of a missing name ENOENT, without a record (enum
 * tg_kernel_first). */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act.h"
#include "aggregate.h"
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

/* Decides the delete of (DIRFD, PATH) and holds the folder of the name in
 * ACT (released on a refusal); the call is then made relative to it
 * (act.h). */
static int check_delete(const char *op, int dirfd, const char *path, struct tg_act *act)
{
	struct tg_req req = {
		.kind = TG_REQ_PATH,
		.op = op,
		.dirfd = dirfd,
		.path = path,
		.flags = -1,
		.classes = DELETE,
		.mode = -1,
		.act = act,
		.nofollow = true,
		.kernel_first = TG_FIRST_MISSING,
	};
	tg_act_init(act, dirfd, path, AT_FDCWD, NULL);
	int r = tg_check(&req);
	if (r < 0)
		tg_act_release(act);
	return r;
}

/* unlink, unlinkat (AT_REMOVEDIR too) and rmdir: one unlinkat from the
 * folder held. */
static int unlink_held(const char *op, int dirfd, const char *path, int flags)
{
	struct tg_act act;
	int r = check_delete(op, dirfd, path, &act);

	if (r < 0)
		return tg_fail(-r);
	r = REAL(unlinkat)(act.from.dirfd, act.from.name, flags);
	tg_act_release(&act);
	return r;
}

int unlink(const char *path)
{
	return unlink_held("unlink", AT_FDCWD, path, 0);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	return unlink_held("unlinkat", dirfd, path, flags);
}

/* remove is libc's unlink, then rmdir when the name is a folder (EISDIR),
 * both from the one folder held: the second call cannot be redirected
 * either, and errno is the one the last call gave. */
int remove(const char *path)
{
	struct tg_act act;
	int r = check_delete("remove", AT_FDCWD, path, &act);

	if (r < 0)
		return tg_fail(-r);
	r = REAL(unlinkat)(act.from.dirfd, act.from.name, 0);
	if (r < 0 && errno == EISDIR)
		r = REAL(unlinkat)(act.from.dirfd, act.from.name, AT_REMOVEDIR);
	tg_act_release(&act);
	return r;
}

int rmdir(const char *path)
{
	return unlink_held("rmdir", AT_FDCWD, path, AT_REMOVEDIR);
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

/* Decides the rename and holds the folders of both names in ACT; the
 * rename is then made relative to them (act.h). */
static int check_rename(const char *op, int olddirfd, const char *oldpath, int newdirfd,
			const char *newpath, unsigned flags, struct tg_act *act)
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
			      .act = act,
			      .nofollow = true,
			      .kernel_first = TG_FIRST_MISSING };
	tg_agg_rename(olddirfd, oldpath); /* an audited file's record, before it moves */
	tg_act_init(act, olddirfd, oldpath, newdirfd, newpath);
	int r = tg_check(&req);
	if (r < 0)
		tg_act_release(act);
	return r;
}

static int rename_held(const char *op, int olddirfd, const char *oldpath, int newdirfd,
		       const char *newpath, unsigned flags)
{
	struct tg_act act;
	int r = check_rename(op, olddirfd, oldpath, newdirfd, newpath, flags, &act);

	if (r < 0)
		return tg_fail(-r);
	if (flags)
		r = REAL(renameat2)(act.from.dirfd, act.from.name, act.to.dirfd, act.to.name,
				    flags);
	else
		r = REAL(renameat)(act.from.dirfd, act.from.name, act.to.dirfd, act.to.name);
	tg_act_release(&act);
	return r;
}

int rename(const char *oldpath, const char *newpath)
{
	return rename_held("rename", AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	return rename_held("renameat", olddirfd, oldpath, newdirfd, newpath, 0);
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned int flags)
{
	return rename_held("renameat2", olddirfd, oldpath, newdirfd, newpath, flags);
}
