/* The exec decision: class exec on the program file, what the file is
 * (exec-inspect.c: a child the guard cannot follow is recorded, and
 * refused under exec_unguarded = "deny"), a script's interpreter
 * decided as an exec too, and the program the dynamic loader is asked to
 * run ("ld-linux-x86-64.so.2 /tmp/miner") decided as the exec it is. The file is read with raw system calls and
 * never executed. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "decide-internal.h"
#include "exec-inspect.h"
#include "real.h"
#include "settings.h"
#include "tg-path.h"

/* Inspects the program file PATH, reading its head into HEAD
 * (TG_EXEC_HEAD bytes). */
static const char *inspect(const char *path, unsigned char *head, char *interp, size_t cap)
{
	struct stat st;
	long n = 0;

	interp[0] = '\0';
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
	return tg_exec_inspect(st.st_mode, caps, head, n > 0 ? (size_t)n : 0, interp, cap);
}

/* Decides the exec of REQ's program file and, for a script, of its
 * interpreter. Sets *NEXT to the index in REQ->argv of the program the
 * dynamic loader is asked to run, when the file is the loader. */
static int check_one(struct tg_req *req, char *abs, char *b, int *next)
{
	/* A "#!" line is at most 256 bytes to the kernel. */
	char interp[256];
	struct tg_decided d = { .path = abs };
	int n = tg_absolute(AT_FDCWD, req->path, abs, PATH_MAX), r;

	*next = 0;
	if (n < 0)
		return tg_undecidable(n, req->path);
	req->dirfd = AT_FDCWD;
	req->classes = TG_BIT(TG_EXEC);
	tg_decide(tg_set.policy, abs, n, req->classes, &d.v);
	tg_decide_real(req, abs, n, &d.v);
	r = tg_conclude(req, &d);
	if (r < 0)
		return r;
	*next = tg_exec_loader_target(abs, req->argv);
	if (*next)
		return 0; /* the loader, run as a program, loads the guard as usual */
	d.unguarded = inspect(abs, (unsigned char *)b, interp, sizeof(interp));
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
		sub.argv += next;
	}
}
