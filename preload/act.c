/* Acting on what was decided. A decision is made on a path; a call made
 * on the same path afterwards walks it again, and a symlink flipped in
 * between (a folder link turned from out/ to ~/.ssh, a program link from
 * /usr/bin/true to a dropped miner) takes the call somewhere the policy
 * never allowed. So the object is held while it is decided: an unlink,
 * rename or link holds the folders of its names and is made relative to
 * them (unlinkat, renameat, linkat, symlinkat on the last component); an
 * exec holds the program (decide-exec.c) and runs the descriptor.
 *
 * A folder is held the cheapest way that proves it is the one decided on.
 * A path the program writes absolute and normalized is decided as written,
 * and its folder is the one this thread keeps (open-parent.c): one
 * readlink of its /proc name shows it is still at that path, reached
 * through real entries only, where a probe would take an open and a
 * close; both names of a rename in one folder share that check. Any other
 * folder is opened for the call (O_PATH, with RESOLVE_NO_SYMLINKS, or
 * through a symlink opened and then named by /proc, which is what the
 * decision is then made on) and closed after it: the same open the probe
 * made anyway, kept. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "act.h"
#include "open-parent.h"
#include "real.h"
#include "resolve.h"

void tg_act_init(struct tg_act *act, int dirfd, const char *path, int dirfd2, const char *path2)
{
	act->from = (struct tg_act_end){ .dirfd = dirfd, .name = path, .path = path, .held = -1 };
	act->to = (struct tg_act_end){ .dirfd = dirfd2, .name = path2, .path = path2, .held = -1 };
	act->exec_fd = -1;
	act->exec_by_fd = false;
	act->exec_path = path;
	act->real = NULL;
}

void tg_act_release(struct tg_act *act)
{
	if ((act->from.held & act->to.held & act->exec_fd) < 0)
		return; /* nothing held (the folders kept are the thread's) */
	int e = errno;

	if (act->from.held >= 0)
		tg_sys(SYS_close, act->from.held);
	if (act->to.held >= 0)
		tg_sys(SYS_close, act->to.held);
	if (act->exec_fd >= 0)
		tg_sys(SYS_close, act->exec_fd);
	act->from.held = act->to.held = act->exec_fd = -1;
	errno = e;
}

/* The folder part of PATH (N bytes): its length into *RET_FOLDER (0: a
 * name in the starting folder, which then starts there) and the last
 * component's length into *RET_LEN, trailing slashes left out; false when
 * there is no last component to act on ("", ".", "..", "/"). */
static bool split(const char *path, size_t n, size_t *ret_folder, size_t *ret_len)
{
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *slash = memrchr(path, '/', n);
	size_t i = slash ? (size_t)(slash - path) + 1 : 0;
	size_t ln = n - i;
	if (ln == 0 || (ln == 1 && path[i] == '.') ||
	    (ln == 2 && path[i] == '.' && path[i + 1] == '.'))
		return false;
	*ret_folder = i;
	*ret_len = ln;
	return true;
}

/* Opens the folder PATH[0..I) of (DIRFD, PATH), in a frame of its own:
 * without following a symlink (NOFOLLOW, openat2) or following them. */
static __attribute__((noinline)) long open_folder(int dirfd, const char *path, size_t i,
						  bool nofollow)
{
	char folder[PATH_MAX];
	int flags = O_PATH | O_DIRECTORY | O_CLOEXEC;

	if (i >= sizeof(folder)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(folder, path, i);
	folder[i] = '\0';
	if (nofollow)
		return tg_openat2(dirfd, folder, flags, 0);
	long fd = tg_sys(SYS_openat, dirfd, folder, flags);
	return fd < 0 ? -errno : fd;
}

/* The real path of folder FD joined to its entry NAME (LN bytes), into
 * OUT (PATH_MAX bytes), in a frame of its own: OUT, the path decided on,
 * is left as it was unless this succeeds. Returns the length, 0 when
 * /proc cannot name the folder, or -ENAMETOOLONG. */
static __attribute__((noinline)) int name_entry(int fd, const char *name, size_t ln, char *out)
{
	char real[PATH_MAX];
	int rn = tg_fd_path(fd, real, sizeof(real));

	if (rn <= 0)
		return 0;
	size_t sl = rn == 1 ? 0 : 1; /* the root ends in its slash */
	if ((size_t)rn + sl + ln >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, real, (size_t)rn);
	if (sl)
		out[rn] = '/';
	memcpy(out + rn + sl, name, ln);
	rn += (int)(sl + ln);
	out[rn] = '\0';
	return tg_proc_self(out, rn);
}

/* END acts from FD, the folder of its path's first I bytes: the thread's
 * (KEPT) or the act's own. */
static void act_from(struct tg_act_end *end, int fd, size_t i, bool kept)
{
	end->dirfd = fd;
	end->name = end->path + i;
	end->kept = kept;
	end->held = kept ? -1 : fd;
}

int tg_act_hold_folder(struct tg_act *act, struct tg_act_end *end, const char *lex, int n,
		       char *out)
{
	const struct tg_act_end *other = end == &act->from ? &act->to : &act->from;
	const char *path = end->path;
	int dirfd = end->dirfd;
	size_t i, ln;
	long fd;

	if (tg_frozen() || !path)
		return TG_ACT_BY_NAME;
	/* Decided as the program wrote it (LEX may be PATH itself): the
	 * folder (PLEN bytes, no trailing slash; 0 for the root) can be the
	 * one this thread keeps. */
	size_t len = lex == path && n >= 0 ? (size_t)n : strlen(path);
	bool keep = path[0] == '/' && n >= 0 && len == (size_t)n &&
		    (lex == path || memcmp(path, lex, len) == 0);
	if (!split(path, len, &i, &ln))
		return TG_ACT_BY_NAME;
	if (i == 0)
		return 0; /* the folder is DIRFD (or the working directory) itself */
	size_t plen = i - 1;
	/* Slots the other end uses stay while this call needs them. */
	int busy = other->kept ? other->dirfd : -1;
	if (keep) {
		if (other->kept && (size_t)(other->name - other->path) == i &&
		    memcmp(other->path, path, i) == 0) {
			/* Both names in one folder (a file renamed in place):
			 * checked once. */
			act_from(end, other->dirfd, i, true);
			return 0;
		}
		fd = tg_held_folder(path, plen);
		if (fd > 0) {
			act_from(end, (int)fd, i, true);
			return 0;
		}
	}
	if (tg_openat2_usable()) {
		fd = open_folder(dirfd, path, i, true);
		if (fd >= 0) {
			act_from(end, (int)fd, i, keep && tg_held_keep((int)fd, path, plen, busy));
			return 0;
		}
		if (fd != -ELOOP)
			return (int)fd;
	}
	/* A symlink on the way (or no openat2): the folder the kernel
	 * reaches, held, and named by /proc. */
	fd = open_folder(dirfd, path, i, false);
	if (fd < 0)
		return (int)fd;
	int rn = name_entry((int)fd, path + i, ln, out);
	if (rn <= 0) {
		tg_sys(SYS_close, fd);
		return rn == 0 ? TG_ACT_BY_NAME : rn;
	}
	if (keep && rn == n && memcmp(out, path, (size_t)n) == 0) {
		/* No openat2, and the folder's real path is the one written:
		 * no symlink on the way. */
		act_from(end, (int)fd, i, tg_held_keep((int)fd, path, plen, busy));
		return 0;
	}
	act_from(end, (int)fd, i, false);
	return rn;
}

bool tg_act_exec_fd_named(void)
{
	/* 1 yes, 0 no, -1 not asked yet. */
	static _Atomic int named = -1;
	int v = atomic_load_explicit(&named, memory_order_relaxed);

	if (v < 0) {
		struct utsname u;
		unsigned major = 0, minor = 0;
		const char *p;
		if (tg_sys(SYS_uname, &u) == 0) {
			for (p = u.release; *p >= '0' && *p <= '9'; p++)
				major = major * 10 + (unsigned)(*p - '0');
			if (*p == '.')
				for (p++; *p >= '0' && *p <= '9'; p++)
					minor = minor * 10 + (unsigned)(*p - '0');
		}
		v = major > 6 || (major == 6 && minor >= 14);
		/* A vfork child shares this cache with its parent: the same answer. */
		atomic_store_explicit(&named, v, memory_order_relaxed);
	}
	return v == 1;
}
