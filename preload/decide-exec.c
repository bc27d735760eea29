/* The exec decision: class exec on the program file, what the file is
 * (exec-inspect.c: a child the guard cannot follow is recorded, and
 * refused under exec_unguarded = "deny"), a script's interpreter
 * decided as an exec too, and the program the dynamic loader is asked to
 * run ("ld-linux-x86-64.so.2 /tmp/miner") decided as the exec it is. The
 * file is read with raw system calls and never executed.
 *
 * With an act (act.h), the program is held (O_PATH) and decided as the
 * object held, named by /proc; the wrapper then runs the descriptor, so a
 * symlink flipped after the decision changes nothing. Where the kernel
 * would name the process after the descriptor's number (before Linux
 * 6.14), for posix_spawn (the child is libc's) and for a script (its
 * interpreter must open it by a name), the call runs a name instead: the
 * caller's path when it reached the program without a symlink, else the
 * real path decided on. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "act.h"
#include "decide-internal.h"
#include "exec-inspect.h"
#include "real.h"
#include "resolve.h"
#include "settings.h"
#include "tg-path.h"

/* Inspects the program file PATH, reading its head into HEAD
 * (TG_EXEC_HEAD bytes); *SCRIPT says it starts with "#!". */
static const char *inspect(const char *path, unsigned char *head, char *interp, size_t cap,
			   bool *script)
{
	struct stat st;
	long n = 0;

	interp[0] = '\0';
	*script = false;
	if (tg_sys(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	bool setid = (st.st_mode & S_ISUID) || ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP));
	bool caps = !setid && tg_sys(SYS_getxattr, path, "security.capability", NULL, 0) > 0;
	if (!setid && !caps) {
		int fd = tg_sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return NULL;
		n = tg_sys(SYS_read, fd, head, TG_EXEC_HEAD);
		tg_sys(SYS_close, fd);
	}
	*script = n >= 2 && head[0] == '#' && head[1] == '!';
	return tg_exec_inspect(st.st_mode, caps, head, n > 0 ? (size_t)n : 0, interp, cap);
}

/* Holds the program at (DIRFD, PATH) (O_PATH, through symlinks as the kernel
 * follows them) and names it by /proc into REAL (PATH_MAX bytes, its
 * length into *N): the name a child can run it by. Returns the descriptor, -errno when there is no
 * program to hold (the exec's own answer), or TG_ACT_BY_NAME when it
 * cannot be named (no /proc). */
static int hold(int dirfd, const char *path, char *real, int *n)
{
	long fd = tg_sys(SYS_openat, dirfd, path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	*n = tg_fd_path((int)fd, real, PATH_MAX);
	if (*n <= 0) {
		tg_sys(SYS_close, fd);
		return TG_ACT_BY_NAME;
	}
	return (int)fd;
}

/* Decides the exec of REQ's program file and, for a script, of its
 * interpreter. Sets *NEXT to the index in REQ->argv of the program the
 * dynamic loader is asked to run, when the file is the loader. */
static int check_one(struct tg_req *req, char *abs, char *b, int *next)
{
	/* A "#!" line is at most 256 bytes to the kernel. */
	char interp[256], proc[TG_PROC_FD_MAX];
	struct tg_decided d = { .path = abs };
	struct tg_act *act = req->act;
	int n = tg_absolute(req->dirfd, req->path, abs, PATH_MAX), r, fd = TG_ACT_BY_NAME, rn = 0;
	bool script, as_named = true;

	*next = 0;
	if (n < 0)
		return tg_undecidable(n, req->path);
	req->classes = TG_BIT(TG_EXEC);
	tg_decide(tg_set.policy, abs, n, req->classes, &d.v);
	if (act && act->real && !tg_frozen())
		fd = hold(req->dirfd, req->path, act->real, &rn);
	if (fd >= 0) {
		/* Decided on the object held. */
		as_named = rn == n && memcmp(act->real, abs, n) == 0;
		memcpy(abs, act->real, rn + 1);
		n = tg_proc_self(abs, rn);
		tg_decide(tg_set.policy, abs, n, req->classes, &d.v);
		act->exec_fd = fd;
		act->exec_path = as_named ? req->path : act->real;
	} else {
		tg_decide_real(req, abs, n, &d.v);
	}
	r = tg_conclude(req, &d);
	if (r < 0)
		return r;
	if (fd < 0 && fd != TG_ACT_BY_NAME)
		return fd; /* nothing there to run: the kernel's answer */
	*next = tg_exec_loader_target(abs, req->argv);
	if (fd >= 0)
		tg_proc_fd(proc, fd);
	/* Runs the descriptor where the process is then named after the
	 * program; a script is run by a name its interpreter can open. */
	if (act && fd >= 0)
		act->exec_by_fd = !req->spawns && tg_act_exec_fd_named();
	if (*next)
		return 0; /* the loader, run as a program, loads the guard as usual */
	d.unguarded = inspect(fd >= 0 ? proc : abs, (unsigned char *)b, interp, sizeof(interp),
			      &script);
	if (act && script)
		act->exec_by_fd = false;
	if (d.unguarded) {
		/* The loader drops LD_PRELOAD for this child (or cannot load
		 * it): say so, and refuse it where the policy asks. */
		if (tg_policy_deny_unguarded(tg_set.policy)) {
			d.v.allow = false;
			d.v.err = EACCES;
			d.v.on_deny = TG_ON_DENY_ERROR;
		}
		d.v.audit = true;
		return tg_conclude(req, &d);
	}
	if (interp[0] != '/')
		return 0;
	/* A script runs its interpreter: decided as an exec too. */
	int in = tg_path_normalize(NULL, 0, interp, b, PATH_MAX);
	if (in <= 0)
		return 0;
	struct tg_req ireq = *req;
	struct tg_decided id = { .path = b };
	ireq.path = interp;
	ireq.act = NULL;
	tg_decide(tg_set.policy, b, in, ireq.classes, &id.v);
	tg_decide_real(&ireq, b, in, &id.v);
	return tg_conclude(&ireq, &id);
}

/* How many loaders may run one another ("ld.so ld.so prog") before the
 * chain is refused rather than followed. */
#define LOADER_DEPTH 4

int tg_check_exec(struct tg_req *req, char *abs, char *b)
{
	struct tg_req sub = *req;

	for (int depth = 0;; depth++) {
		int next, r = check_one(&sub, abs, b, &next);
		if (r < 0 || !next)
			return r;
		if (depth == LOADER_DEPTH)
			return -EACCES;
		/* "ld.so /tmp/miner": the miner is what runs, decided as the
		 * exec it is. */
		sub.path = sub.argv[next];
		sub.dirfd = AT_FDCWD;
		sub.argv += next;
		sub.act = NULL; /* the loader opens it by name itself */
	}
}
