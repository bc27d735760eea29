/* The open where openat2 is missing (kernels before 5.6, gVisor, container
 * seccomp profiles that lack it): the parent-directory fallback.
 *
 * Without RESOLVE_NO_SYMLINKS the kernel cannot be asked to refuse a
 * symlink on the way, and resolving a path then opening it by path leaves
 * a window in which a swapped link redirects the open. So the folder is
 * opened first (O_PATH|O_DIRECTORY: the kernel walks it as the program's
 * own open would), /proc names that descriptor (the real folder), the
 * decision is made on that folder and the last name, and the file is
 * opened from the descriptor with O_NOFOLLOW: the folder decided on is the
 * one held, and the last name cannot be a link. A link there (ELOOP) is
 * read from the same descriptor and its target opened the same way.
 *
 * A folder opened again and again (every shard of a dataset folder) is
 * held: a few O_PATH descriptors per thread, keyed by the folder as the
 * program writes it. A held folder is checked on each use by one readlink
 * of its /proc name: it must still be that very path, which then has no
 * symlink (a folder's /proc name is its chain of real entries), so the
 * decision stands and the open is one openat from it; one system call
 * more than the program's own open. Held descriptors are marked in the
 * descriptor table: a program that closes or replaces one (close, dup2,
 * close_range) clears the mark and the guard forgets it without closing
 * what is no longer its own. A vfork child (its memory is its parent's)
 * uses what is held but stores nothing. The same kept folders, with or
 * without openat2, are what unlink, rename, link and symlink act from
 * (act.c: tg_held_folder, tg_held_keep). */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "aggregate.h"
#include "fdtable.h"
#include "links.h"
#include "open-parent.h"
#include "paths.h"
#include "real.h"
#include "resolve.h"
#include "self.h"
#include "settings.h"

#define HELD_SLOTS 4
#define HELD_MAX   200 /* longer folders are opened per call */
#define MAX_HOPS   40

/* A held folder: the descriptor and the folder's path, with a trailing
 * slash (the memo's form; the root is "/"). */
struct held {
	int fd; /* 0: empty (the guard never holds descriptor 0) */
	unsigned len;
	char dir[HELD_MAX];
	char proc[TG_PROC_FD_MAX]; /* its /proc name, made once */
};

#define TG_TLS __thread __attribute__((tls_model("initial-exec")))
static TG_TLS struct held held[HELD_SLOTS];
static TG_TLS unsigned held_next;
static TG_TLS bool held_keyed;

static pthread_key_t held_key;
static pthread_once_t held_once = PTHREAD_ONCE_INIT;

static bool still_held(int fd)
{
	return fd > 0 && (unsigned)fd < TG_FD_MAX &&
	       atomic_load_explicit(&tg_fds[fd], memory_order_relaxed) == TG_FD_HELD;
}

static void release(struct held *h)
{
	if (still_held(h->fd)) {
		tg_fd_set(h->fd, TG_FD_UNKNOWN);
		tg_sys(SYS_close, h->fd);
	}
	h->fd = 0;
}

/* A thread's held folders are closed when it exits. */
static void held_exit(void *unused)
{
	(void)unused;
	for (int i = 0; i < HELD_SLOTS; i++)
		release(&held[i]);
}

static void held_key_make(void)
{
	if (pthread_key_create(&held_key, held_exit) != 0)
		held_key = (pthread_key_t)-1;
}

/* The folder whose real path is DIR (LEN bytes, trailing slash), held by
 * FD, is kept, in a slot other than BUSY's (a descriptor the call in
 * progress acts from, or -1). Returns true when the slot took FD (the
 * caller must not close it). */
static bool hold(int fd, const char *dir, size_t len, int busy)
{
	if (len >= HELD_MAX || (unsigned)fd >= TG_FD_MAX || fd == 0 || tg_self_foreign())
		return false;
	if (!held_keyed) {
		pthread_once(&held_once, held_key_make);
		if (held_key == (pthread_key_t)-1 || pthread_setspecific(held_key, held) != 0)
			return false;
		held_keyed = true;
	}
	struct held *h = &held[held_next++ % HELD_SLOTS];
	if (busy > 0 && h->fd == busy)
		h = &held[held_next++ % HELD_SLOTS];
	release(h);
	memcpy(h->dir, dir, len);
	h->len = (unsigned)len;
	tg_proc_fd(h->proc, fd);
	tg_fd_set(fd, TG_FD_HELD);
	h->fd = fd;
	return true;
}

/* The real path of the folder behind FD into OUT (PATH_MAX bytes), with a
 * trailing slash: its length, 0 when /proc cannot name it, or -errno. */
static int folder_of(int fd, char *out)
{
	char proc[TG_PROC_FD_MAX];

	tg_proc_fd(proc, fd);
	long n = tg_sys(SYS_readlink, proc, out, PATH_MAX - 2);
	if (n < 0)
		return -errno;
	if (n == 0 || out[0] != '/')
		return 0;
	if (n > 1)
		out[n++] = '/';
	out[n] = '\0';
	return (int)n;
}

/* The held folder for the absolute folder PARENT (PLEN bytes, written by
 * the program, no trailing slash; "" for the root), checked: its slot, or
 * NULL. */
static const struct held *held_find(const char *parent, size_t plen)
{
	size_t want = plen + 1;

	for (int i = 0; i < HELD_SLOTS; i++) {
		const struct held *h = &held[i];
		if (h->len != want || !still_held(h->fd) || memcmp(h->dir, parent, plen) != 0)
			continue;
		/* Still at that path? Then the path reaches it through real
		 * entries only, and what was decided there holds. */
		char now[HELD_MAX];
		long n = tg_sys(SYS_readlink, h->proc, now, sizeof(now));
		if (n == (long)(plen ? plen : 1) && memcmp(now, plen ? parent : "/", n) == 0)
			return h;
		/* Moved or replaced: opened afresh. The slot goes now, or the
		 * next lookup would meet it first again (not in a vfork child,
		 * whose memory is its parent's). */
		if (!tg_self_foreign())
			release((struct held *)h);
		return NULL;
	}
	return NULL;
}

/* One name: not empty, ".", ".." (then the program's open walks on). */
static bool is_name(const char *s)
{
	return s[0] && !(s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2])));
}

/* Where one try opens from: the folder's descriptor and real path. */
struct parent {
	int fd; /* the folder held, opened for this call (OWNED), or DIRFD */
	bool owned;
	const char *dir; /* its real path with a trailing slash */
	size_t dlen;
};

/* The folder of PATH (from DIRFD), whose last name starts at LAST, into P:
 * held, opened now, or DIRFD itself for a plain name. BUF (PATH_MAX bytes)
 * may receive the folder's path. Returns 0, 1 when the guard cannot name
 * the folder (the program's open decides), or -errno (the kernel's answer
 * for the folder: ENOENT, ENOTDIR, EACCES). */
static int parent_open(int dirfd, const char *path, const char *last, char *buf, struct parent *p)
{
	size_t plen = last - path; /* with its slash */
	int n;

	*p = (struct parent){ .fd = dirfd };
	if (plen == 0) {
		/* A plain name: DIRFD's folder (or the working directory's),
		 * which the guard knows already. */
		n = dirfd == AT_FDCWD ? tg_cwd(buf, PATH_MAX - 1)
				      : tg_dirfd_path(dirfd, buf, PATH_MAX - 1);
		if (n <= 0)
			return n < 0 ? n : 1;
		if (n > 1)
			buf[n++] = '/';
		buf[n] = '\0';
		p->dir = buf;
		p->dlen = (size_t)n;
		return 0;
	}
	if (path[0] == '/') {
		const struct held *h = held_find(path, plen - 1);
		if (h) {
			p->fd = h->fd;
			p->dir = h->dir;
			p->dlen = h->len;
			return 0;
		}
	}
	if (plen >= PATH_MAX)
		return -ENAMETOOLONG;
	/* The folder as the program wrote it, walked by the kernel. */
	memcpy(buf, path, plen);
	buf[plen] = '\0';
	long fd = tg_sys(SYS_openat, dirfd, buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = folder_of((int)fd, buf);
	if (n <= 0) {
		tg_sys(SYS_close, fd);
		return n < 0 ? n : 1;
	}
	p->fd = (int)fd;
	p->dir = buf;
	p->dlen = (size_t)n;
	/* Held only when the program names it by its real path: then the
	 * check on each use (the /proc name is that path) proves the path
	 * still leads there. */
	bool same = path[0] == '/' && (size_t)n == plen && memcmp(buf, path, plen) == 0;
	p->owned = !(same && hold((int)fd, buf, (size_t)n, -1));
	if (!same && path[0] == '/')
		tg_links_learn(path); /* a symlinked folder: kept by its text (links.c) */
	return 0;
}

static void parent_done(struct parent *p)
{
	if (p->owned)
		tg_sys(SYS_close, p->fd);
	p->owned = false;
}

/* The decision on P's entry LAST, as policies name it, into NAMED
 * (PATH_MAX bytes): its length, or -ENAMETOOLONG. */
static int decide_entry(const struct tg_req *req, const struct parent *p, const char *last,
			char *named, struct tg_verdict *v)
{
	size_t ll = strlen(last);

	if (p->dlen + ll >= PATH_MAX)
		return -ENAMETOOLONG;
	if (p->dir != named)
		memcpy(named, p->dir, p->dlen);
	memcpy(named + p->dlen, last, ll + 1);
	int n = tg_proc_self(named, (int)(p->dlen + ll));
	if (n == (int)(p->dlen + ll) &&
	    tg_decide_memo_in(tg_set.policy, p->dir, p->dlen, last, ll, req->classes, v))
		return n;
	tg_decide(tg_set.policy, named, (size_t)n, req->classes, v);
	return n;
}

static bool is_folder(int dirfd, const char *name)
{
	struct stat st;
	return tg_sys(SYS_newfstatat, dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

int tg_open_parent(struct tg_req *req, char *named, int *ret_fd)
{
	char next[PATH_MAX];
	const char *path = req->path;
	int dirfd = req->dirfd, flags = req->flags, asked = req->mode;
	/* Does the program's open follow a link in the last place? */
	bool follow = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));

	if ((flags & O_PATH) || (flags & O_TMPFILE) == O_TMPFILE)
		return 1; /* no object to open at a name (O_TMPFILE) or O_PATH's own rules */
	if (path[0] == '/' && atomic_load_explicit(&tg_links_used, memory_order_relaxed)) {
		/* Below a symlinked folder the guard keeps: the folder the link
		 * names now (one readlink), whose own folder is then held. */
		size_t len = strlen(path);
		int ln;
		if (len < PATH_MAX && tg_links_open(path, len, next, &ln) == 0)
			path = next;
	}
	for (int hop = 0; hop < MAX_HOPS; hop++) {
		const char *slash = strrchr(path, '/');
		const char *last = slash ? slash + 1 : path;
		struct parent p;
		struct tg_decided d = { .path = named };

		if (!is_name(last))
			return 1; /* "dir/", "x/..": the folder itself, as before */
		int r = parent_open(dirfd, path, last, named, &p);
		if (r != 0)
			return r;
		int n = decide_entry(req, &p, last, named, &d.v);
		if (n < 0) {
			parent_done(&p);
			return n;
		}
		/* What refuses or records is decided on the link's target when
		 * the last name is a link the open follows: look first. */
		long tl = -1;
		if (follow && !tg_records_nothing(&d.v))
			tl = tg_sys(SYS_readlinkat, p.fd, last, next, sizeof(next) - 1);
		if (tl < 0) {
			if (!d.v.allow && (flags & O_ACCMODE) != O_RDONLY && !(flags & O_CREAT) &&
			    is_folder(p.fd, last)) {
				parent_done(&p);
				return -EISDIR; /* the kernel's answer whatever the policy says */
			}
			req->mode = asked;
			r = tg_conclude(req, &d);
			if (r < 0) {
				parent_done(&p);
				return r;
			}
			mode_t mode = req->mode < 0 ? 0 : (mode_t)(req->mode & 07777);
			long fd = tg_sys(SYS_openat, p.fd, last, flags | O_NOFOLLOW, mode);
			int e = fd < 0 ? errno : 0;
			if (fd >= 0 && (flags & O_DIRECTORY))
				tg_dirfd_remember((int)fd, named, (size_t)n);
			if (fd >= 0 || e != ELOOP || !follow) {
				if (req->audit_later)
					tg_agg_opened(req, &d, fd >= 0 ? (int)fd : -e);
				parent_done(&p);
				if (fd < 0)
					return -e;
				*ret_fd = (int)fd;
				return 0;
			}
			/* ELOOP: the last name is a link the program follows. */
			tl = tg_sys(SYS_readlinkat, p.fd, last, next, sizeof(next) - 1);
		}
		if (tl <= 0) {
			parent_done(&p);
			return tl == 0 ? -ENOENT : -errno;
		}
		next[tl] = '\0';
		if (next[0] != '/') {
			if (strncmp(p.dir, "/proc/", 6) == 0) {
				parent_done(&p);
				return 1; /* a magic link to a pipe or socket: nothing to name */
			}
			/* Relative to the link's folder, held or opened: from it. */
			if (p.dlen + (size_t)tl >= sizeof(next)) {
				parent_done(&p);
				return -ENAMETOOLONG;
			}
			memmove(next + p.dlen, next, (size_t)tl + 1);
			memcpy(next, p.dir, p.dlen);
		}
		parent_done(&p);
		path = next;
		dirfd = AT_FDCWD;
	}
	return -ELOOP;
}

int tg_held_folder(const char *path, size_t plen)
{
	if (plen + 1 >= HELD_MAX)
		return 0;
	const struct held *h = held_find(path, plen);
	return h ? h->fd : 0;
}

bool tg_held_keep(int fd, const char *path, size_t plen, int busy)
{
	char dir[HELD_MAX];

	if (plen + 1 >= HELD_MAX)
		return false;
	memcpy(dir, path, plen);
	dir[plen] = '/';
	return hold(fd, dir, plen + 1, busy);
}
