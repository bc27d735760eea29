/* Acting on what was decided. A decision is made on a path; a call made
 * on the same path afterwards walks it again, and a symlink flipped in
 * between (a folder link turned from out/ to ~/.ssh, a program link from
 * /usr/bin/true to a dropped miner) takes the call somewhere the policy
 * never allowed. So the object is held while it is decided: a rename or
 * link holds the folders of its two names (O_PATH, opened with
 * RESOLVE_NO_SYMLINKS, or, through a symlink, opened and then named by
 * /proc) and is made relative to them; an exec holds the program
 * (decide-exec.c) and runs the descriptor. In the common case the hold
 * replaces the probe the decision made anyway: the same open, kept. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "act.h"
#include "real.h"
#include "resolve.h"

void tg_act_init(struct tg_act *act, int dirfd, const char *path, int dirfd2, const char *path2)
{
	act->from = (struct tg_act_end){ .dirfd = dirfd, .name = path, .held = -1 };
	act->to = (struct tg_act_end){ .dirfd = dirfd2, .name = path2, .held = -1 };
	act->exec_fd = -1;
	act->exec_by_fd = false;
	act->exec_path = path;
	act->real = NULL;
}

void tg_act_release(struct tg_act *act)
{
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

/* The folder part of PATH: its length into *RET_FOLDER (0: a name in the
 * starting folder, which then starts there) and the last component's
 * length into *RET_LEN, trailing slashes left out; false when there is no
 * last component to act on ("", ".", "..", "/"). */
static bool split(const char *path, size_t *ret_folder, size_t *ret_len)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t i = n;
	while (i > 0 && path[i - 1] != '/')
		i--;
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

int tg_act_hold_folder(int dirfd, const char *path, char *out, struct tg_act_end *end)
{
	size_t i, ln;
	long fd;

	end->dirfd = dirfd;
	end->name = path;
	end->held = -1;
	if (tg_frozen() || !split(path, &i, &ln))
		return TG_ACT_BY_NAME;
	if (i == 0)
		return 0; /* the folder is DIRFD (or the working directory) itself */
	if (tg_openat2_usable()) {
		fd = open_folder(dirfd, path, i, true);
		if (fd >= 0) {
			end->dirfd = end->held = (int)fd;
			end->name = path + i;
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
	int n = tg_fd_path((int)fd, out, PATH_MAX);
	size_t sl = n == 1 ? 0 : 1; /* the root ends in its slash */
	if (n <= 0 || (size_t)n + sl + ln >= PATH_MAX) {
		tg_sys(SYS_close, fd);
		return n < 0 || n == 0 ? TG_ACT_BY_NAME : -ENAMETOOLONG;
	}
	if (sl)
		out[n] = '/';
	memcpy(out + n + sl, path + i, ln);
	n += (int)(sl + ln);
	out[n] = '\0';
	end->dirfd = end->held = (int)fd;
	end->name = path + i;
	return tg_proc_self(out, n);
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
