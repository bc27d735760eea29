/* The open path: an open decided once and made so that the kernel opens
 * the object decided on.
 *
 * The fast path answers the common case in a few dozen instructions: the
 * memo knows the folder, nothing is recorded, and the open is made with
 * openat2(RESOLVE_NO_SYMLINKS), so the lexical path decided on is the one
 * opened. Whatever it learned (the joined path, the verdict) is handed to
 * the general path, which decides on the real object when a record is due
 * or a symlink is on the way. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "aggregate.h"
#include "links.h"
#include "open.h"
#include "open-parent.h"
#include "paths.h"
#include "protect-errno.h"
#include "real.h"
#include "resolve.h"
#include "settings.h"

/* What one open learned so far. */
struct open_state {
	char *abs;    /* PATH_MAX bytes: (DIRFD, PATH) absolute, normalized */
	int n;        /* its length; 0 not made yet; -errno it cannot be */
	bool decided; /* V is the lexical verdict on ABS */
	bool loop;    /* the kernel met a symlink on the way */
	struct tg_verdict v;
};

static inline bool creates(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* An openat2 answer the program's own open would not give: flags openat2
 * refuses and open(2) ignores, or a symlink on the way. */
static inline bool openat2_balked(int fd)
{
	return fd == -ELOOP || fd == -EINVAL || fd == -E2BIG;
}

/* The memo's verdict for the plain NAME in the working directory or in the
 * folder behind DIRFD, read in place: no join, no copy. */
static inline bool in_place(int dirfd, const char *name, unsigned classes, struct tg_verdict *v)
{
	const char *dir;
	size_t dlen;
	unsigned gen;
	bool cwd = dirfd == AT_FDCWD;

	if (!(cwd ? tg_cwd_folder(&dir, &dlen, &gen) : tg_dirfd_folder(dirfd, &dir, &dlen, &gen)))
		return false;
	return tg_decide_memo_name(tg_set.policy, dir, dlen, name, classes, v) &&
	       (cwd ? tg_cwd_unchanged(gen) : tg_dirfd_unchanged(dirfd, gen));
}

/* An absolute path below a symlinked folder the guard knows (links.c):
 * decided on the folder the link names now plus the rest, and opened
 * there with RESOLVE_NO_SYMLINKS, so the path decided on is the real
 * object opened. One readlink more than the program's open, where the
 * resolver takes four. Returns as open_fast. */
static __attribute__((noinline)) int open_linked(struct tg_req *req, struct open_state *st,
						 size_t len, int *ret_fd)
{
	int n, flags = req->flags;

	if (tg_links_open(req->path, len, st->abs, &n) != 0)
		return 1;
	if (!tg_decide_memo(tg_set.policy, st->abs, (size_t)n, req->classes, &st->v))
		tg_decide(tg_set.policy, st->abs, (size_t)n, req->classes, &st->v);
	if (!tg_records_nothing(&st->v))
		return 1; /* decided and recorded by the general path */
	int mode = req->mode;
	if (mode >= 0 && st->v.create_mode >= 0 && tg_set.mode == TG_ENFORCE)
		mode &= st->v.create_mode;
	int fd = tg_openat2(AT_FDCWD, st->abs, flags, mode < 0 ? 0 : (mode_t)mode);
	if (fd == -ELOOP)
		tg_links_loop(st->abs, (size_t)n);
	if (fd < 0 && openat2_balked(fd))
		return 1;
	if (fd >= 0 && (flags & O_DIRECTORY))
		tg_dirfd_remember(fd, st->abs, (size_t)n);
	*ret_fd = fd;
	return fd < 0 ? fd : 0;
}

/* The common case: an absolute path, or a plain name in the working
 * directory or a directory descriptor's folder, in a folder the memo
 * knows, that leaves no record (or, learning, one already written).
 * Returns 0 with the descriptor, -errno, or 1 for the general path, with
 * what was learned in ST. */
static inline int open_fast(struct tg_req *req, struct open_state *st, int *ret_fd)
{
	const char *path = req->path, *at = path;
	int flags = req->flags, n;
	int how = atomic_load_explicit(&tg_openat2_state, memory_order_relaxed);

	if (tg_set.log_allowed || (flags & O_PATH) || how != 1 || tg_frozen())
		return 1;
	if (path[0] == '/') {
		size_t len = strlen(path);
		if (len >= PATH_MAX)
			return 1;
		if (atomic_load_explicit(&tg_links_used, memory_order_relaxed) &&
		    (n = open_linked(req, st, len, ret_fd)) != 1)
			return n;
		if (!tg_decide_memo(tg_set.policy, path, len, req->classes, &st->v))
			return 1;
		n = (int)len;
	} else if (!(flags & O_DIRECTORY) && tg_set.mode != TG_LEARN &&
		   in_place(req->dirfd, path, req->classes, &st->v)) {
		n = 0; /* no joined path: O_DIRECTORY, which needs one, is not here */
	} else {
		st->n = n = tg_absolute(req->dirfd, path, st->abs, PATH_MAX);
		if (n <= 0)
			return 1;
		at = st->abs;
		if (!tg_decide_memo(tg_set.policy, at, n, req->classes, &st->v))
			return 1;
	}
	st->decided = true;
	if (!tg_records_nothing(&st->v) &&
	    !(tg_set.mode == TG_LEARN && st->v.allow && !st->v.audit &&
	      tg_learned_already(at, n, req->classes)))
		return 1;
	int mode = req->mode;
	if (mode >= 0 && st->v.create_mode >= 0 && tg_set.mode == TG_ENFORCE)
		mode &= st->v.create_mode;
	int fd = tg_openat2(req->dirfd, path, flags, mode < 0 ? 0 : (mode_t)mode);
	if (fd >= 0 && (flags & O_DIRECTORY))
		tg_dirfd_remember(fd, at, n); /* no symlink met: AT is real */
	if (fd < 0 && openat2_balked(fd)) {
		st->loop = fd == -ELOOP && !(flags & O_NOFOLLOW);
		return 1;
	}
	*ret_fd = fd;
	return fd < 0 ? fd : 0;
}

/* PATH and REAL have the same folder (a link, if any, was the last name). */
static bool same_folder(const char *path, const char *real)
{
	const char *a = strrchr(path, '/'), *b = strrchr(real, '/');
	return a - path == b - real && memcmp(path, real, (size_t)(a - path)) == 0;
}

/* A symlink on the way: decided on the real object and opened exactly
 * there; a swap in between meets ELOOP again, and after a few tries the
 * call is refused. In its own frame: its buffer is paid only here. NAMED
 * (PATH_MAX bytes) is the caller's, free by now. */
static __attribute__((noinline)) int open_resolved(struct tg_req *req, char *named, int *ret_fd)
{
	char real[PATH_MAX];
	struct tg_decided d = { .path = named };
	int flags = req->flags, asked = req->mode, r = -ELOOP;

	/* First guess that the last component is no link, which saves reading
	 * it: the open refuses a link, and a guess that would refuse or record
	 * is not acted on; either way the path is then resolved in full. */
	bool excl = (flags & O_CREAT) && (flags & O_EXCL);
	bool guess = !excl && !(flags & O_NOFOLLOW);

	for (int tries = 0; tries < 3; tries++) {
		enum tg_last last = excl ? TG_LAST_EXCL : guess ? TG_LAST_GUESS : TG_LAST_LOOK;
		int n = tg_real_path(req->dirfd, req->path, !(flags & O_NOFOLLOW), last, real,
				     sizeof(real));
		if (n <= 0)
			return n == 0 ? 1 : n;
		/* Decided as policies name it, opened as the kernel does. */
		memcpy(named, real, n + 1);
		int nn = tg_proc_self(named, n);
		tg_decide(tg_set.policy, named, nn, req->classes, &d.v);
		if (guess && !tg_records_nothing(&d.v)) {
			guess = false;
			tries--;
			continue;
		}
		req->mode = asked;
		r = tg_conclude(req, &d);
		if (r < 0)
			return r;
		r = tg_openat2(AT_FDCWD, real, flags, req->mode < 0 ? 0 : (mode_t)req->mode);
		if (r == -ELOOP && guess) {
			guess = false;
			tries--;
			continue;
		}
		if (r != -ELOOP || (flags & O_NOFOLLOW))
			break;
	}
	if (req->audit_later)
		tg_agg_opened(req, &d, r);
	if (r >= 0) {
		*ret_fd = r;
		if (req->path[0] == '/' && !same_folder(req->path, real))
			tg_links_learn(req->path); /* a symlinked folder: the next open is cheap */
	}
	return r < 0 ? r : 0;
}

static bool is_folder(int dirfd, const char *path)
{
	struct stat st;
	return tg_sys(SYS_newfstatat, dirfd, path, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* The general path: decides with what the fast path learned (ST). */
static __attribute__((noinline)) int open_slow(struct tg_req *req, struct open_state *st,
					       int *ret_fd)
{
	const char *path = req->path;
	int flags = req->flags, n = st->n, fd, r;

	*req = (struct tg_req){
		.kind = TG_REQ_PATH,
		.op = req->op,
		.dirfd = req->dirfd,
		.path = path,
		.flags = flags,
		.mode = req->mode,
		.classes = req->classes,
		.nofollow = (flags & O_NOFOLLOW) || ((flags & O_CREAT) && (flags & O_EXCL)),
		.may_aggregate = !(flags & O_PATH),
	};
	if (st->loop)
		return open_resolved(req, st->abs, ret_fd);
	if (!tg_openat2_usable() && !tg_frozen()) {
		/* No openat2: opened from the folder's descriptor. */
		r = tg_open_parent(req, st->abs, ret_fd);
		if (r != 1)
			return r;
		n = 0; /* ABS was its scratch */
	}
	if (n == 0)
		n = tg_absolute(req->dirfd, path, st->abs, PATH_MAX);
	if (n < 0) {
		r = tg_undecidable(n, path);
		return r < 0 ? r : 1;
	}
	if (!st->decided)
		tg_decide(tg_set.policy, st->abs, n, req->classes, &st->v);
	/* The common case, an allowed access with nothing to record, is
	 * decided on the lexical path and opened so that the kernel refuses
	 * any symlink: then the decision was made on the very object opened.
	 * Anything that denies or records is decided on the real object
	 * first, so the record names it. */
	bool quiet = tg_records_nothing(&st->v);
	if (!quiet || !tg_openat2_usable())
		n = tg_decide_real(req, st->abs, n, &st->v); /* no open refuses symlinks */
	if (!st->v.allow && (flags & O_ACCMODE) != O_RDONLY && !creates(flags) &&
	    is_folder(req->dirfd, path))
		return -EISDIR; /* the kernel's answer whatever the policy says */
	struct tg_decided d = { .path = st->abs, .v = st->v };
	r = tg_conclude(req, &d);
	if (r < 0)
		return r;
	mode_t mode = req->mode < 0 ? 0 : (mode_t)req->mode;
	if ((flags & O_PATH) || !tg_openat2_usable() || !path[0]) {
		if (req->audit_later)
			tg_agg_opened(req, &d, -1); /* the program's own open: written now */
		return 1;
	}
	if (!quiet) {
		/* Decided and recorded on the real path: open exactly that (and
		 * remember a folder, which the next openat needs). A magic link
		 * or a swap meanwhile leaves it to the program's own open. */
		fd = tg_openat2(AT_FDCWD, st->abs, flags, mode);
		if (fd >= 0 && (flags & O_DIRECTORY))
			tg_dirfd_remember(fd, st->abs, n);
		if (req->audit_later)
			tg_agg_opened(req, &d, openat2_balked(fd) ? -1 : fd);
		if (fd < 0 && openat2_balked(fd))
			return 1;
		*ret_fd = fd;
		return fd < 0 ? fd : 0;
	}
	fd = tg_openat2(req->dirfd, path, flags, mode);
	if (fd >= 0 && (flags & O_DIRECTORY))
		tg_dirfd_remember(fd, st->abs, n); /* no symlink met: ABS is real */
	if (fd == -ELOOP)
		return open_resolved(req, st->abs, ret_fd);
	if (fd < 0 && openat2_balked(fd))
		return 1; /* flags openat2 refuses and open(2) ignores */
	*ret_fd = fd;
	return fd < 0 ? fd : 0;
}

/* Not split by partial inlining: its head alone would cost a second call. */
__attribute__((optimize("no-partial-inlining"))) int tg_open(struct tg_req *req, int *ret_fd)
{
	char abs[PATH_MAX];
	struct open_state st; /* its verdict is written before it is read */
	int r;

	if (!req->path || !tg_enter())
		return 1;
	st.abs = abs;
	st.n = 0;
	st.decided = st.loop = false;
	TG_PROTECT_ERRNO;
	req->classes = tg_open_classes(req->flags);
	r = open_fast(req, &st, ret_fd);
	if (r != 1)
		return r;
	return open_slow(req, &st, ret_fd);
}

bool tg_open_quiet(int dirfd, const char *path, unsigned classes, int mode)
{
	char abs[PATH_MAX];
	struct tg_verdict v;
	TG_PROTECT_ERRNO;
	int n;

	if (!path || !tg_enter() || tg_set.mode == TG_LEARN || tg_set.log_allowed)
		return false;
	if (path[0] != '/' || !tg_decide_memo(tg_set.policy, path, strlen(path), classes, &v)) {
		n = tg_absolute(dirfd, path, abs, sizeof(abs));
		if (n <= 0)
			return false;
		tg_decide(tg_set.policy, abs, n, classes, &v);
	}
	return tg_records_nothing(&v) &&
	       (v.create_mode < 0 || mode < 0 || tg_set.mode != TG_ENFORCE ||
		(mode & ~v.create_mode) == 0);
}
