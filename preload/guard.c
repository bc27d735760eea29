/* The guard core: start-up, the decision for one call, the log, and what
 * children inherit.
 *
 * Start-up (the constructor, or the first wrapped call if another
 * library's constructor gets there first) reads the TRAINGUARD_* settings
 * once, loads and compiles the policy, opens the log and saves everything a
 * child must inherit, so a program that clears its environment cannot
 * change what its children run under. A policy or log that cannot be
 * loaded stops the program before main() with exit status 126.
 *
 * After start-up the guard never stops the program on its own error: a
 * record it cannot build becomes a minimal line, a log it cannot write
 * falls back to stderr, and the call is decided as the policy says. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "event.h"
#include "fdtable.h"
#include "guard.h"
#include "ocsf.h"
#include "paths.h"
#include "resolve.h"
#include "tg-config.h"
#include "tg-env.h"
#include "tg-path.h"

struct tg_real tg_real;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

enum state { UNINIT, STARTING, ACTIVE, DISABLED };
static _Atomic int state = UNINIT;

/* Set on the thread that starts the guard: libconfig's fopen and the other
 * file I/O of start-up pass straight through. Deciding itself makes no
 * call that could come back into a wrapper (its system calls are raw, its
 * buffers are per call or per nesting level), so a signal handler that
 * opens a file while its thread is inside the guard gets a full decision,
 * not a free pass. */
static __thread int depth __attribute__((tls_model("initial-exec")));

/* Everything decided at start; read-only afterwards. */
static struct {
	struct tg_policy *policy;
	enum tg_mode mode;
	bool log_allowed;
	bool hides; /* some rule answers ENOENT: the stat family is checked */
	_Atomic int logfd;
	struct tg_proc proc;
	const char *self_path; /* this library, absolute */
	/* "NAME=value" strings every child gets, and how many. */
	char *child_env[10];
	size_t nchild_env;
} g = { .logfd = -1 };

static atomic_ulong dropped;

/* This process and thread, cached (see emit). */
static _Atomic pid_t self_pid, parent_pid;
static __thread pid_t self_tid __attribute__((tls_model("initial-exec")));

/* Set once the program installs a seccomp filter of its own: from then on
 * the guard makes no system call beyond the one the program asked for
 * (no openat2, no resolution), since the filter may kill for any other. */
_Atomic bool tg_syscalls_frozen;

static void after_fork_child(void)
{
	atomic_store(&self_pid, (pid_t)tg_sys(SYS_getpid));
	atomic_store(&parent_pid, (pid_t)tg_sys(SYS_getppid));
	self_tid = (pid_t)tg_sys(SYS_gettid);
}

/* The fork child's hooks: the caches, then a new hash chain linked to the
 * parent's (chain.h). */
static void fork_child(void)
{
	after_fork_child();
	tg_chain_fork_child(atomic_load(&self_pid));
}

static void resolve_all(void)
{
#define X(name, family) tg_real.name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);
	TG_WRAPPERS(X)
#undef X
}

void tg_resolve(void)
{
	pthread_once(&resolve_once, resolve_all);
}

pid_t tg_pid(void)
{
	pid_t pid = atomic_load_explicit(&self_pid, memory_order_relaxed);
	return pid ? pid : (pid_t)tg_sys(SYS_getpid);
}

int tg_fail(int err)
{
	errno = err;
	return -1;
}

/* ---- writing records ---------------------------------------------------- */

/* True when all N bytes reached FD. */
static bool write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = tg_sys(SYS_write, fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			atomic_fetch_add(&dropped, 1);
			/* Never lose a violation silently: stderr is the last resort. */
			if (fd != STDERR_FILENO)
				write_all(STDERR_FILENO, buf, n);
			return false;
		}
		buf += w;
		n -= w;
	}
	return true;
}

/* A line buffer per thread and nesting level (a signal handler may log
 * while its thread is logging), mapped on first use. */
#define LINE_LEVELS 4
static __thread char *lines[LINE_LEVELS] __attribute__((tls_model("initial-exec")));
static __thread int line_level __attribute__((tls_model("initial-exec")));

static char *line_buffer(void)
{
	int l = line_level;

	if (l >= LINE_LEVELS)
		return NULL;
	if (!lines[l]) {
		void *m = mmap(NULL, TG_EVENT_MAX, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		lines[l] = m;
	}
	return lines[l];
}

/* A record when jansson could not build one: still one OCSF line. */
static int fallback_line(char *buf, size_t cap, const struct tg_event *ev)
{
	struct timespec ts;
	char path[512];
	size_t o = 0;

	for (const unsigned char *s = (const unsigned char *)(ev->path ? ev->path : "?");
	     *s && o + 4 < sizeof(path); s++) {
		if (*s < 0x20 || *s >= 0x7f || *s == '"' || *s == '\\' || *s == '%') {
			snprintf(path + o, 4, "%%%02X", *s);
			o += 3;
		} else {
			path[o++] = *s;
		}
	}
	path[o] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	/* An Event Log Activity of activity Other: the log itself failed. */
	return snprintf(buf, cap,
			"{\"activity_id\":%d,\"activity_name\":\"" TG_OCSF_OTHER_NAME "\","
			"\"category_uid\":%d,\"class_uid\":%d,\"log_name\":\"" TG_OCSF_LOG_NAME "\","
			"\"message\":\"trainguard could not build the record of %s %s (decision %d)\","
			"\"metadata\":{\"product\":{\"name\":\"" TG_OCSF_PRODUCT "\"},"
			"\"version\":\"" TG_OCSF_VERSION "\"},\"severity_id\":%d,\"time\":%lld,"
			"\"type_uid\":%lld,\"unmapped\":{\"trainguard\":{" TG_CHAIN_SLOT "}}}\n",
			TG_OCSF_OTHER, TG_OCSF_CATEGORY, TG_OCSF_EVENT_LOG_ACTIVITY, ev->op, path,
			(int)ev->decision, TG_OCSF_SEVERITY_HIGH,
			(long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
			TG_OCSF_TYPE_UID(TG_OCSF_EVENT_LOG_ACTIVITY, TG_OCSF_OTHER));
}

static void emit(struct tg_event *ev)
{
	char *buf = line_buffer();
	int n;

	if (!buf) {
		atomic_fetch_add(&dropped, 1);
		return;
	}
	line_level++;
	/* Per record, a copy: threads log at once. The ids come from caches a
	 * fork refreshes, so a record costs no system call a program's own
	 * seccomp filter could refuse. */
	struct tg_proc proc = g.proc;
	proc.pid = atomic_load_explicit(&self_pid, memory_order_relaxed);
	proc.ppid = atomic_load_explicit(&parent_pid, memory_order_relaxed);
	if (!self_tid)
		self_tid = tg_sys(SYS_gettid);
	proc.tid = self_tid;
	proc.chain_slot = true; /* chain: see below */
	n = tg_event_format(ev, &proc, buf, TG_EVENT_MAX);
	if (n < 0)
		n = fallback_line(buf, TG_EVENT_MAX, ev);
	if (n > 0) {
		/* ---- chain (preload/chain.h): seal the final line, write it,
		 * commit. The chain lock is held from seal to commit: only
		 * around this write. The pid must be the kernel's (a vfork
		 * child shares our caches); when the program's seccomp filter
		 * froze our system calls, the cache is all we may use. */
		struct tg_chain_tx tx;
		size_t len = (size_t)n;
		pid_t real = atomic_load(&tg_syscalls_frozen) ? proc.pid
							       : (pid_t)tg_sys(SYS_getpid);
		tg_chain_seal(buf, &len, TG_EVENT_MAX, real, &tx);
		int fd = atomic_load_explicit(&g.logfd, memory_order_relaxed);
		bool ok = write_all(fd >= 0 ? fd : STDERR_FILENO, buf, len);
		tg_chain_commit(&tx, ok);
		/* ---- end chain */
	}
	line_level--;
}

/* ---- deciding ------------------------------------------------------------ */

static void tg_start(void);

static __attribute__((noinline)) bool enter_slow(void)
{
	if (state == UNINIT)
		tg_start();
	return state == ACTIVE;
}

/* True when the guard is started and this thread is not inside it. */
static inline bool enter(void)
{
	if (depth)
		return false;
	return __builtin_expect(state == ACTIVE, 1) || enter_slow();
}

bool tg_enter(void)
{
	return enter();
}

/* The absolute, normalized path of (DIRFD, PATH). */
static int absolute(int dirfd, const char *path, char *out, size_t cap)
{
	char base[PATH_MAX];
	int n;

	if (path[0] == '/') {
		size_t len = tg_path_is_normal(path); /* the common case: copy it */
		if (len && len < cap) {
			memcpy(out, path, len + 1);
			return (int)len;
		}
		return tg_path_normalize(NULL, 0, path, out, cap);
	}
	n = dirfd == AT_FDCWD ? tg_cwd(base, sizeof(base)) : tg_dirfd_path(dirfd, base, sizeof(base));
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOTDIR;
	/* The common case: a plain name joined to its (real, so normalized)
	 * folder needs only copying. */
	size_t rl = tg_path_rel_normal(path);
	if (rl && (size_t)n + 1 + rl < cap) {
		size_t at = n == 1 ? 0 : (size_t)n; /* the root ends in its slash */
		memcpy(out, base, at);
		out[at] = '/';
		memcpy(out + at + 1, path, rl + 1);
		return (int)(at + 1 + rl);
	}
	return tg_path_normalize(base, n, path, out, cap);
}

/* The path of the file behind descriptor FD. Returns its length, 0 when
 * FD is not a file in the tree (a pipe, a socket, an anonymous inode), or
 * -errno (-EBADF). " (deleted)" is kept: such a file has no name to decide. */
static int fd_path(int fd, char *out, size_t cap)
{
	char proc[TG_PROC_FD_MAX];
	ssize_t n;

	tg_proc_fd(proc, fd);
	n = readlink(proc, out, cap - 1);
	if (n < 0)
		return errno == ENOENT ? -EBADF : -errno;
	out[n] = '\0';
	if (n == 0 || out[0] != '/')
		return 0;
	return n;
}

/* Learn mode logs each distinct access once: a fixed, lock-free set of
 * hashes of (path, classes); a full set simply logs again. */
#define LEARN_SLOTS 65536
static _Atomic uint64_t *learned;

static uint64_t learn_hash(const char *path, size_t n, unsigned classes)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ classes;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)path[i]) * 0x100000001b3ULL;
	return h | 1;
}

/* True when (PATH, CLASSES) was logged already: learn mode's fast path. */
static bool learned_already(const char *path, size_t n, unsigned classes)
{
	if (!learned)
		return false;
	uint64_t h = learn_hash(path, n, classes);
	for (size_t k = 0; k < 64; k++) {
		uint64_t cur = atomic_load_explicit(&learned[(h + k) & (LEARN_SLOTS - 1)],
						    memory_order_relaxed);
		if (cur == h)
			return true;
		if (cur == 0)
			return false;
	}
	return false;
}

static bool learn_first(const char *path, size_t n, unsigned classes)
{
	if (!learned)
		return true;
	uint64_t h = learn_hash(path, n, classes);
	for (size_t k = 0; k < 64; k++) {
		_Atomic uint64_t *slot = &learned[(h + k) & (LEARN_SLOTS - 1)];
		uint64_t cur = atomic_load_explicit(slot, memory_order_relaxed);
		if (cur == h)
			return false;
		if (cur == 0 && atomic_compare_exchange_strong(slot, &cur, h))
			return true;
		if (cur == h)
			return false;
	}
	return true;
}

/* create_mode for a folder keeps the search bit of each class that keeps
 * read: "0640" -> 0750. */
static int dir_mask(int mask)
{
	return mask | ((mask & 0444) >> 2);
}

/* The end of every decision: record, kill, and the verdict. */
static int conclude(struct tg_call *c, const char *path, const char *path2,
		    const struct tg_verdict *v, int err_override, char *const *argv,
		    const char *unguarded)
{
	/* The common case leaves at once: allowed, nothing to narrow or record. */
	if (v->allow && g.mode == TG_ENFORCE && !v->audit && !g.log_allowed &&
	    (v->create_mode < 0 || c->mode < 0))
		return 0;

	struct tg_event ev = {
		.op = c->op,
		.flags = c->flags,
		.dirfd = c->dirfd,
		.path = path,
		.path_requested = c->path,
		.path2 = path2,
		.classes = c->classes,
		.verdict = v,
		.mode = g.mode,
		.mode_requested = -1,
		.mode_applied = -1,
		.argv = argv,
		.unguarded = unguarded,
	};
	bool log = false;

	if (!v->allow && g.mode == TG_ENFORCE) {
		ev.decision = TG_DEC_DENY;
		ev.err = err_override ? err_override : v->err;
		if (v->on_deny != TG_ON_DENY_QUIET)
			emit(&ev);
		if (v->on_deny == TG_ON_DENY_KILL)
			tg_sys(SYS_kill, atomic_load(&self_pid), SIGKILL);
		return -ev.err;
	}

	if (g.mode == TG_ENFORCE && v->create_mode >= 0 && c->mode >= 0) {
		int mask = c->is_dir ? dir_mask(v->create_mode) : v->create_mode;
		int narrowed = c->mode & mask;
		if (narrowed != c->mode) {
			ev.mode_requested = c->mode;
			ev.mode_applied = narrowed;
			c->mode = narrowed;
			log = v->audit || g.log_allowed;
		}
	}
	if (g.mode == TG_LEARN) {
		ev.decision = TG_DEC_LEARN;
		log = learn_first(path, strlen(path), c->classes);
	} else if (!v->allow) {
		ev.decision = TG_DEC_WOULD_DENY;
		ev.err = err_override ? err_override : v->err;
		log = v->on_deny != TG_ON_DENY_QUIET;
	} else {
		ev.decision = TG_DEC_ALLOW;
		log = log || v->audit || g.log_allowed;
	}
	if (log)
		emit(&ev);
	return 0;
}

/* A name the guard cannot turn into a path gets the kernel's own answer
 * (ENOENT for "", EBADF for a bad dirfd); one that is only too long once
 * joined to its folder cannot be decided and is refused. */
static int undecidable(int n, const char *path)
{
	return (n == -ENAMETOOLONG && strnlen(path, PATH_MAX) < PATH_MAX) ? n : 0;
}

/* Decides C on the object the kernel will reach: the lexical path PATH (N
 * bytes) when the kernel meets no symlink on the way (one O_PATH probe),
 * else the real path, which then replaces PATH. Returns PATH's length. */
/* The slow half of decide_real, in its own frame: its buffer is paid only
 * when a symlink is on the way (the guard runs on 16 KiB clone stacks). */
static __attribute__((noinline)) int decide_resolved(struct tg_call *c, char *path, int n,
						     struct tg_verdict *v)
{
	char real[PATH_MAX];
	int rn = tg_real_path(c->dirfd, c->path, !c->nofollow, TG_LAST_LOOK, real, sizeof(real));

	if (rn <= 0 || (rn == n && memcmp(real, path, n) == 0))
		return n; /* a magic link, or an error the kernel will report itself */
	memcpy(path, real, rn + 1);
	rn = tg_proc_self(path, rn);
	tg_decide(g.policy, path, rn, c->classes, v);
	return rn;
}

static int decide_real(struct tg_call *c, char *path, int n, struct tg_verdict *v)
{
	tg_decide(g.policy, path, n, c->classes, v);
	if (c->dirfd != AT_FDCWD && c->path[0] == '\0')
		return n; /* the descriptor itself */
	if (atomic_load_explicit(&tg_syscalls_frozen, memory_order_relaxed))
		return n; /* no probe the program's filter could refuse */
	if (tg_symlink_free(c->dirfd, c->path, !c->nofollow) != 0)
		return n;
	return decide_resolved(c, path, n, v);
}

int tg_check(struct tg_call *c)
{
	char path[PATH_MAX];
	struct tg_verdict v;
	int saved = errno, n, r;

	if (!c->path || !tg_enter())
		return 0; /* NULL: the kernel answers EFAULT */
	n = absolute(c->dirfd, c->path, path, sizeof(path));
	if (n < 0) {
		r = undecidable(n, c->path);
	} else {
		decide_real(c, path, n, &v);
		r = conclude(c, path, NULL, &v, 0, NULL, NULL);
	}
	errno = saved;
	return r;
}

static bool is_folder(int dirfd, const char *path)
{
	struct stat st;
	return tg_sys(SYS_newfstatat, dirfd, path, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* True when an access with verdict V leaves no record: allowed, no rule
 * asking for lineage, allowed accesses not logged, and not learning (audit
 * mode records only what enforce would refuse). */
static inline bool records_nothing(const struct tg_verdict *v)
{
	return v->allow && !v->audit && !g.log_allowed && g.mode != TG_LEARN;
}

/* The slow half of tg_open, in its own frame (its buffers are paid only
 * when a symlink is on the way). */
static __attribute__((noinline)) int open_resolved(struct tg_call *c, int dirfd, const char *path,
						   int flags, mode_t *mode, bool creat)
{
	char real[PATH_MAX], named[PATH_MAX];
	struct tg_verdict v;
	int r = -ELOOP;

	/* First guess that the last component is no link, which saves reading
	 * it: the open refuses a link, and a guess that would refuse or record
	 * is not acted on; either way the path is then resolved in full. */
	bool excl = (flags & O_CREAT) && (flags & O_EXCL);
	bool guess = !excl && !(flags & O_NOFOLLOW);

	for (int tries = 0; tries < 3; tries++) {
		enum tg_last last = excl ? TG_LAST_EXCL : guess ? TG_LAST_GUESS : TG_LAST_LOOK;
		int n = tg_real_path(dirfd, path, !(flags & O_NOFOLLOW), last, real, sizeof(real));
		if (n <= 0)
			return n == 0 ? TG_REAL : n;
		/* Decided as policies name it, opened as the kernel does. */
		memcpy(named, real, n + 1);
		int nn = tg_proc_self(named, n);
		tg_decide(g.policy, named, nn, c->classes, &v);
		if (guess && !records_nothing(&v)) {
			guess = false;
			tries--;
			continue;
		}
		c->mode = creat ? (int)(*mode & 07777) : -1;
		r = conclude(c, named, NULL, &v, 0, NULL, NULL);
		if (r < 0)
			return r;
		if (c->mode >= 0)
			*mode = c->mode;
		r = tg_openat2(AT_FDCWD, real, flags, *mode);
		if (r == -ELOOP && guess) {
			guess = false;
			tries--;
			continue;
		}
		if (r != -ELOOP || (flags & O_NOFOLLOW))
			return r;
	}
	return r;
}

/* The common case in as few instructions as can be: an open of an
 * absolute path, or of a plain name in the working directory or a
 * directory descriptor's folder, in a folder the memo knows, that leaves
 * no record (or, learning, one already written). Returns the fd or
 * -errno; TG_LOOP when a symlink is on the way; TG_SLOW when the general
 * path must decide (the memo does not know the folder, the kernel or the
 * program's seccomp filter refuses openat2, O_PATH, allowed accesses are
 * logged). */
#define TG_SLOW (TG_REAL - 1)
#define TG_LOOP (TG_REAL - 2) /* and a symlink is on the way */
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
	return tg_decide_memo_in(g.policy, dir, dlen, name, strlen(name), classes, v) &&
	       (cwd ? tg_cwd_unchanged(gen) : tg_dirfd_unchanged(dirfd, gen));
}

static inline int open_fast(int dirfd, const char *path, int flags, mode_t *mode, bool creat,
			    unsigned classes, char *abs)
{
	struct tg_verdict v;
	int how = atomic_load_explicit(&tg_openat2_state, memory_order_relaxed);
	const char *at = path;
	int n;

	if (g.log_allowed || (flags & O_PATH) || how != 1 ||
	    atomic_load_explicit(&tg_syscalls_frozen, memory_order_relaxed))
		return TG_SLOW;
	if (path[0] == '/') {
		size_t len = strlen(path);
		if (len >= PATH_MAX || !tg_decide_memo(g.policy, path, len, classes, &v))
			return TG_SLOW;
		n = (int)len;
	} else if (!(flags & O_DIRECTORY) && g.mode != TG_LEARN && in_place(dirfd, path, classes, &v)) {
		n = 0; /* no joined path: O_DIRECTORY, which needs one, is not here */
	} else if ((n = absolute(dirfd, path, abs, PATH_MAX)) > 0) {
		at = abs;
		if (!tg_decide_memo(g.policy, at, n, classes, &v))
			return TG_SLOW;
	} else {
		return TG_SLOW;
	}
	if (!records_nothing(&v) &&
	    !(g.mode == TG_LEARN && v.allow && !v.audit && learned_already(at, n, classes)))
		return TG_SLOW;
	if (creat && v.create_mode >= 0 && g.mode == TG_ENFORCE)
		*mode = *mode & 07777 & v.create_mode;
	int fd = tg_openat2(dirfd, path, flags, *mode);
	if (fd >= 0 && (flags & O_DIRECTORY))
		tg_dirfd_remember(fd, at, n); /* no symlink met: AT is real */
	if (fd >= 0 || (fd != -ELOOP && fd != -EINVAL && fd != -E2BIG))
		return fd;
	return fd == -ELOOP && !(flags & O_NOFOLLOW) ? TG_LOOP : TG_SLOW;
}

int tg_open(const char *op, int dirfd, const char *path, int flags, mode_t *mode)
{
	char abs[PATH_MAX];
	struct tg_verdict v;
	int saved, n, r;
	bool creat = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
	unsigned classes = tg_open_classes(flags);

	if (!path || !enter())
		return TG_REAL;
	saved = errno;
	mode_t asked = *mode;
	r = open_fast(dirfd, path, flags, mode, creat, classes, abs);
	if (r != TG_SLOW && r != TG_LOOP) {
		errno = saved;
		return r;
	}
	*mode = asked; /* narrowed again below, and recorded */

	struct tg_call c = {
		.op = op,
		.dirfd = dirfd,
		.path = path,
		.flags = flags,
		.classes = classes,
		.mode = creat ? (int)(*mode & 07777) : -1,
		.nofollow = (flags & O_NOFOLLOW) || ((flags & O_CREAT) && (flags & O_EXCL)),
	};
	if (r == TG_LOOP) {
		/* Decide on the real object and open exactly that. */
		r = open_resolved(&c, dirfd, path, flags, mode, creat);
		goto out;
	}
	n = absolute(dirfd, path, abs, sizeof(abs));
	if (n < 0) {
		r = undecidable(n, path);
		r = r < 0 ? r : TG_REAL;
		goto out;
	}
	tg_decide(g.policy, abs, n, c.classes, &v);
	/* The common case, an allowed access with nothing to record, is
	 * decided on the lexical path and opened so that the kernel refuses
	 * any symlink: then the decision was made on the very object opened.
	 * Anything that denies or records is decided on the real object
	 * first, so the record names it. */
	bool quiet = records_nothing(&v);
	if (!quiet || !tg_openat2_usable())
		n = decide_real(&c, abs, n, &v); /* no open to refuse symlinks */
	if (!v.allow && (flags & O_ACCMODE) != O_RDONLY && !(flags & O_CREAT) &&
	    (flags & O_TMPFILE) != O_TMPFILE && is_folder(dirfd, path)) {
		/* Opening a folder for writing fails with EISDIR whatever the
		 * policy says: give the kernel's answer; nothing was attempted. */
		r = -EISDIR;
		goto out;
	}
	r = conclude(&c, abs, NULL, &v, 0, NULL, NULL);
	if (r < 0)
		goto out;
	if (c.mode >= 0)
		*mode = c.mode;
	if ((flags & O_PATH) || !tg_openat2_usable() || !path[0]) {
		r = TG_REAL;
		goto out;
	}
	if (!quiet) {
		/* Decided and recorded on the real path ABS: open exactly that
		 * (and remember a folder, which the next openat needs). A magic
		 * link or a swap meanwhile leaves it to the program's own open. */
		int fd = tg_openat2(AT_FDCWD, abs, flags, *mode);
		if (fd >= 0 && (flags & O_DIRECTORY))
			tg_dirfd_remember(fd, abs, n);
		r = fd >= 0 || (fd != -ELOOP && fd != -EINVAL && fd != -E2BIG) ? fd : TG_REAL;
		goto out;
	}
	int fd = tg_openat2(dirfd, path, flags, *mode);
	if (fd >= 0 && (flags & O_DIRECTORY))
		tg_dirfd_remember(fd, abs, n); /* no symlink met: ABS is real */
	if (fd >= 0 || (fd != -ELOOP && fd != -EINVAL && fd != -E2BIG)) {
		errno = saved;
		return fd;
	}
	if (fd != -ELOOP) {
		errno = saved;
		return TG_REAL; /* flags openat2 refuses and open(2) ignores */
	}
	/* A symlink on the way: decide on the real object and open exactly
	 * that; a swap in between meets ELOOP again, and after a few tries
	 * the call is refused. */
	r = open_resolved(&c, dirfd, path, flags, mode, creat);
out:
	errno = saved;
	return r;
}

bool tg_quiet(int dirfd, const char *path, unsigned classes, int mode)
{
	char abs[PATH_MAX];
	struct tg_verdict v;
	int saved = errno, n;

	if (!path || !tg_enter() || g.mode == TG_LEARN || g.log_allowed)
		return false;
	if (path[0] != '/' || !tg_decide_memo(g.policy, path, strlen(path), classes, &v)) {
		n = absolute(dirfd, path, abs, sizeof(abs));
		errno = saved;
		if (n <= 0)
			return false;
		tg_decide(g.policy, abs, n, classes, &v);
	}
	return records_nothing(&v) && (v.create_mode < 0 || mode < 0 || g.mode != TG_ENFORCE ||
					(mode & ~v.create_mode) == 0);
}

/* The classes that decide whether a rename widens access. */
#define REFER_CLASSES (TG_BIT(TG_READ) | TG_BIT(TG_WRITE) | TG_BIT(TG_EXEC) | TG_BIT(TG_CHMOD))

static unsigned granted(const char *path, size_t n)
{
	unsigned mask = 0;
	struct tg_verdict v;

	for (unsigned c = 0; c < TG_NCLASS; c++) {
		if (!(REFER_CLASSES & TG_BIT(c)))
			continue;
		tg_decide(g.policy, path, n, TG_BIT(c), &v);
		if (v.allow)
			mask |= TG_BIT(c);
	}
	return mask;
}

/* Landlock's refer rule: a file moved or linked from FROM (N1 bytes) to
 * TO (N2) may not get more there than it had (a secret moved where it is
 * readable, a dataset file where it is writable): EXDEV, recorded on C.
 * mv and shutil.move then copy, and each half of the copy is decided on
 * its own. */
static int refer(struct tg_call *c, const char *to, int n2, const char *from, int n1)
{
	unsigned more = granted(to, n2) & ~granted(from, n1);
	struct tg_verdict v;

	if (!more)
		return 0;
	tg_decide(g.policy, from, n1, more & -more, &v);
	c->classes = more;
	return conclude(c, to, from, &v, EXDEV, NULL, NULL);
}

static bool exists(int dirfd, const char *path)
{
	struct stat st;
	return tg_sys(SYS_newfstatat, dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int tg_check_rename(const char *op, int olddirfd, const char *oldpath, int newdirfd,
		    const char *newpath, unsigned flags)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct tg_verdict v;
	int saved = errno, n1, n2, r = 0;

	if (!oldpath || !newpath || !tg_enter())
		return 0;
	n1 = absolute(olddirfd, oldpath, from, sizeof(from));
	n2 = absolute(newdirfd, newpath, to, sizeof(to));
	if (n1 < 0 || n2 < 0) {
		r = n1 < 0 ? undecidable(n1, oldpath) : undecidable(n2, newpath);
		goto out;
	}
	/* A NOREPLACE rename onto an existing name moves nothing: the kernel
	 * answers EEXIST, and nothing is decided (mv tries one into the
	 * destination folder first). */
	if ((flags & RENAME_NOREPLACE) && exists(newdirfd, newpath)) {
		r = -EEXIST;
		goto out;
	}
	struct tg_call src = { .op = op, .dirfd = olddirfd, .path = oldpath, .flags = -1,
			       .classes = TG_BIT(TG_DELETE), .mode = -1, .nofollow = true };
	n1 = decide_real(&src, from, n1, &v);
	r = conclude(&src, from, to, &v, 0, NULL, NULL);
	if (r < 0)
		goto out;
	struct tg_call dst = { .op = op, .dirfd = newdirfd, .path = newpath, .flags = -1,
			       .classes = TG_BIT(TG_CREATE), .mode = -1, .nofollow = true };
	if (!(flags & RENAME_NOREPLACE))
		dst.classes |= TG_BIT(TG_DELETE);
	n2 = decide_real(&dst, to, n2, &v);
	r = conclude(&dst, to, from, &v, 0, NULL, NULL);
	if (r < 0)
		goto out;
	if (flags & RENAME_EXCHANGE) {
		/* The old name receives the other file: both ends are both. */
		src.classes = TG_BIT(TG_CREATE) | TG_BIT(TG_DELETE);
		tg_decide(g.policy, from, n1, src.classes, &v);
		r = conclude(&src, from, to, &v, 0, NULL, NULL);
		if (r < 0)
			goto out;
	}
	r = refer(&dst, to, n2, from, n1);
	if (r == 0 && (flags & RENAME_EXCHANGE))
		r = refer(&src, from, n1, to, n2); /* an exchange moves both files */
out:
	errno = saved;
	return r;
}

/* What the program file at PATH is, read from its first bytes (exec is
 * never a hot path): why the guard cannot follow it into the child, and
 * the interpreter of a script (into INTERP, "" when none). Reads the file
 * with raw system calls and never executes anything. */
static const char *inspect_exec(const char *path, char *interp, size_t cap)
{
	unsigned char h[4096];
	struct stat st;
	long n;

	interp[0] = '\0';
	if (tg_sys(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	if (st.st_mode & S_ISUID)
		return "setuid";
	if ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP))
		return "setgid";
	if (tg_sys(SYS_getxattr, path, "security.capability", NULL, 0) > 0)
		return "capabilities";
	int fd = tg_sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	n = tg_sys(SYS_read, fd, h, sizeof(h));
	tg_sys(SYS_close, fd);
	if (n >= 2 && h[0] == '#' && h[1] == '!') {
		long i = 2, j;
		while (i < n && (h[i] == ' ' || h[i] == '\t'))
			i++;
		for (j = i; j < n && h[j] != ' ' && h[j] != '\t' && h[j] != '\n'; j++)
			;
		if ((size_t)(j - i) < cap) {
			memcpy(interp, h + i, j - i);
			interp[j - i] = '\0';
		}
		return NULL;
	}
	if (n < (long)sizeof(Elf64_Ehdr) || memcmp(h, ELFMAG, SELFMAG) != 0)
		return NULL;
	if (h[EI_CLASS] != ELFCLASS64)
		return "elf32";
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)h;
	if (e->e_phentsize != sizeof(Elf64_Phdr) ||
	    e->e_phoff + (uint64_t)e->e_phnum * sizeof(Elf64_Phdr) > (uint64_t)n)
		return NULL; /* headers beyond what was read: assume dynamic */
	for (unsigned i = 0; i < e->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(h + e->e_phoff) + i;
		if (ph->p_type == PT_INTERP)
			return NULL;
	}
	return "static";
}

int tg_check_exec(const char *op, const char *path, char *const argv[])
{
	char abs[PATH_MAX], interp[PATH_MAX];
	struct tg_verdict v;
	int saved = errno, n, r;

	if (!path || !tg_enter())
		return 0;
	n = absolute(AT_FDCWD, path, abs, sizeof(abs));
	if (n < 0) {
		r = undecidable(n, path);
		goto out;
	}
	struct tg_call c = { .op = op, .dirfd = AT_FDCWD, .path = path, .flags = -1,
			     .classes = TG_BIT(TG_EXEC), .mode = -1 };
	decide_real(&c, abs, n, &v);
	r = conclude(&c, abs, NULL, &v, 0, argv, NULL);
	if (r < 0)
		goto out;
	const char *why = inspect_exec(abs, interp, sizeof(interp));
	if (why) {
		/* The loader drops LD_PRELOAD for this child (or cannot load
		 * it): say so, and refuse it where the policy asks. */
		struct tg_verdict u = v;
		if (tg_policy_deny_unguarded(g.policy)) {
			u.allow = false;
			u.err = EACCES;
			u.on_deny = TG_ON_DENY_ERROR;
		}
		u.audit = true;
		r = conclude(&c, abs, NULL, &u, 0, argv, why);
	} else if (interp[0] == '/') {
		/* A script runs its interpreter: decided as an exec too. */
		char ip[PATH_MAX];
		int in = tg_path_normalize(NULL, 0, interp, ip, sizeof(ip));
		if (in > 0) {
			struct tg_call ic = c;
			ic.path = interp;
			decide_real(&ic, ip, in, &v);
			r = conclude(&ic, ip, NULL, &v, 0, argv, NULL);
		}
	}
out:
	errno = saved;
	return r;
}

int tg_check_fd(const char *op, int fd, unsigned classes, int *mode)
{
	char path[PATH_MAX];
	struct tg_verdict v;
	int saved = errno, n, r = 0;

	if (!tg_enter())
		return 0;
	n = fd_path(fd, path, sizeof(path));
	if (n > 0) {
		struct tg_call c = { .op = op, .dirfd = fd, .path = NULL, .flags = -1,
				     .classes = classes, .mode = mode ? *mode : -1 };
		tg_decide(g.policy, path, n, classes, &v);
		r = conclude(&c, path, NULL, &v, 0, NULL, NULL);
		if (r == 0 && mode)
			*mode = c.mode;
	}
	errno = saved;
	return r;
}

int tg_fd_classify(const char *op, int fd)
{
	char path[PATH_MAX];
	struct tg_verdict v;
	int saved = errno, n, r = 0;

	if ((unsigned)fd >= TG_FD_MAX || !tg_enter())
		return 0;
	if (atomic_load_explicit(&tg_syscalls_frozen, memory_order_relaxed)) {
		/* Asking the kernel what FD is may be what the program's own
		 * filter kills for: let it through (SECURITY.md). */
		atomic_store_explicit(&tg_fds[fd], TG_FD_PASS, memory_order_relaxed);
		return 0;
	}
	n = fd_path(fd, path, sizeof(path));
	if (n < 0) {
		r = 0; /* the kernel answers EBADF itself */
		goto out;
	}
	uint8_t verdict = TG_FD_PASS;
	if (n > 0) {
		tg_decide(g.policy, path, n, TG_BIT(TG_WRITE), &v);
		/* A descriptor the guard did not open was opened by someone the
		 * policy did not judge (the shell that started the job, a raw
		 * system call): only a rule that denies writing the file refuses
		 * it, not the default. */
		if (!v.allow && v.rule) {
			struct tg_call c = { .op = op, .dirfd = fd, .path = NULL, .flags = -1,
					     .classes = TG_BIT(TG_WRITE), .mode = -1 };
			r = conclude(&c, path, NULL, &v, 0, NULL, NULL);
			if (r < 0)
				verdict = TG_FD_DENY;
		}
	}
	atomic_store_explicit(&tg_fds[fd], verdict, memory_order_relaxed);
out:
	errno = saved;
	return r;
}

int tg_check_link(const char *op, int olddirfd, const char *oldpath, int newdirfd,
		  const char *newpath, bool hard, bool follow)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct tg_verdict v;
	int saved = errno, n2, r = 0;

	if (!newpath || !tg_enter())
		return 0;
	n2 = absolute(newdirfd, newpath, to, sizeof(to));
	if (n2 < 0) {
		r = undecidable(n2, newpath);
		goto out;
	}
	struct tg_call dst = { .op = op, .dirfd = newdirfd, .path = newpath, .flags = -1,
			       .classes = TG_BIT(TG_CREATE), .mode = -1, .nofollow = true };
	n2 = decide_real(&dst, to, n2, &v);
	r = conclude(&dst, to, hard ? NULL : oldpath, &v, 0, NULL, NULL);
	if (r < 0 || !hard || !oldpath)
		goto out;
	/* The file being linked, as the kernel finds it: through symlinked
	 * folders, and through a last symlink under AT_SYMLINK_FOLLOW. */
	int n1 = (olddirfd != AT_FDCWD && oldpath[0] == '\0')
			 ? fd_path(olddirfd, from, sizeof(from)) /* AT_EMPTY_PATH */
			 : tg_real_path(olddirfd, oldpath, follow, TG_LAST_LOOK, from, sizeof(from));
	if (n1 <= 0)
		goto out;
	n1 = tg_proc_self(from, n1);
	r = refer(&dst, to, n2, from, n1); /* a secret linked into the checkpoints */
out:
	errno = saved;
	return r;
}

int tg_check_hidden(const char *op, int dirfd, const char *path, bool empty_path)
{
	char abs[PATH_MAX];
	struct tg_verdict v;
	int saved = errno, n, r = 0;

	if (!path || !g.hides || !tg_enter())
		return 0;
	n = empty_path && path[0] == '\0' ? fd_path(dirfd, abs, sizeof(abs))
					  : absolute(dirfd, path, abs, sizeof(abs));
	if (n > 0) {
		struct tg_call c = { .op = op, .dirfd = dirfd, .path = path, .flags = -1,
				     .classes = TG_BIT(TG_READ), .mode = -1 };
		decide_real(&c, abs, n, &v);
		if (!v.allow && v.err == ENOENT)
			r = conclude(&c, abs, NULL, &v, 0, NULL, NULL);
	}
	errno = saved;
	return r;
}

int tg_check_chmod(const char *op, int dirfd, const char *path, int fd, int mode)
{
	char abs[PATH_MAX];
	struct tg_verdict v;
	int saved = errno, n, r = 0;

	if ((!path && fd < 0) || !tg_enter())
		return 0;
	n = path ? absolute(dirfd, path, abs, sizeof(abs)) : fd_path(fd, abs, sizeof(abs));
	if (n <= 0) {
		r = path ? undecidable(n, path) : 0;
		goto out;
	}
	struct tg_call c = { .op = op, .dirfd = path ? dirfd : fd, .path = path, .flags = -1,
			     .classes = TG_BIT(TG_CHMOD), .mode = -1 };
	if (path)
		n = decide_real(&c, abs, n, &v);
	else
		tg_decide(g.policy, abs, n, c.classes, &v);
	r = conclude(&c, abs, NULL, &v, 0, NULL, NULL);
	if (r < 0 || mode < 0)
		goto out;
	/* Where files are created with a mask, chmod may not add what the
	 * mask takes away, nor set-id bits (a dropped binary made executable
	 * for everyone, a checkpoint made world-readable). */
	struct tg_verdict cv;
	tg_decide(g.policy, abs, n, TG_BIT(TG_CREATE), &cv);
	if (cv.create_mode >= 0) {
		int extra = (mode & 0777 & ~dir_mask(cv.create_mode)) | (mode & 06000);
		if (extra) {
			struct tg_verdict d = cv;
			d.allow = false;
			d.cls = TG_CHMOD;
			d.denied = TG_BIT(TG_CHMOD);
			d.err = EPERM;
			d.on_deny = cv.rule ? cv.rule->on_deny : TG_ON_DENY_ERROR;
			c.mode = mode;
			r = conclude(&c, abs, NULL, &d, EPERM, NULL, NULL);
		}
	}
out:
	errno = saved;
	return r;
}

/* ---- the log's descriptor ------------------------------------------------ */

bool tg_is_log_fd(int fd)
{
	return fd >= 0 && fd == atomic_load_explicit(&g.logfd, memory_order_relaxed) &&
	       fd != STDERR_FILENO;
}

void tg_log_fd_vacate(int fd)
{
	int cur = atomic_load(&g.logfd);

	if (fd < 0 || fd != cur || fd == STDERR_FILENO)
		return;
	/* The program names our descriptor (dup2 onto it): move the log to a
	 * free number first, so no record ever lands in the program's file. */
	int moved = fcntl(cur, F_DUPFD_CLOEXEC, cur + 1);
	if (moved < 0)
		moved = fcntl(cur, F_DUPFD_CLOEXEC, 3);
	atomic_store(&g.logfd, moved >= 0 ? moved : STDERR_FILENO);
}

/* ---- children ------------------------------------------------------------ */

static bool is_ours(const char *entry)
{
	return strncmp(entry, "LD_PRELOAD=", 11) == 0 || strncmp(entry, "TRAINGUARD_", 11) == 0;
}

size_t tg_child_env_size(char *const envp[])
{
	size_t n = 0;

	if (envp)
		while (envp[n])
			n++;
	return n + g.nchild_env + 2; /* + TRAINGUARD_CHAIN and the NULL */
}

/* The child's chain link, per thread: a vfork child writes it in its
 * parent thread's copy, which that (suspended) thread does not read. */
static __thread char chain_env[TG_CHAIN_ENV_MAX] __attribute__((tls_model("initial-exec")));

/* True when the LD_PRELOAD entry E loads this library. */
static bool keeps_guard(const char *e)
{
	const char *lib = g.self_path;
	size_t n = lib ? strlen(lib) : 0;

	if (!n || strncmp(e, "LD_PRELOAD=", 11) != 0)
		return false;
	for (const char *s = e + 11; (s = strstr(s, lib)); s += n)
		if ((s == e + 11 || s[-1] == ':' || s[-1] == ' ') &&
		    (s[n] == '\0' || s[n] == ':' || s[n] == ' '))
			return true;
	return false;
}

char **tg_child_env(char *const envp[], char **buf, size_t cap)
{
	size_t n = 0;
	const char *preload = NULL;

	if (cap < tg_child_env_size(envp))
		return NULL;
	if (g.nchild_env == 0) {
		/* Not started (or running unguarded): the environment as given. */
		for (size_t i = 0; envp && envp[i]; i++)
			buf[n++] = envp[i];
		buf[n] = NULL;
		return buf;
	}
	for (size_t i = 0; envp && envp[i]; i++) {
		if (keeps_guard(envp[i]))
			preload = envp[i]; /* the child added a library beside ours */
		if (!is_ours(envp[i]))
			buf[n++] = envp[i];
	}
	for (size_t i = 0; i < g.nchild_env; i++) {
		if (preload && strncmp(g.child_env[i], "LD_PRELOAD=", 11) == 0)
			buf[n++] = (char *)preload;
		else
			buf[n++] = g.child_env[i];
	}
	if (tg_chain_env(chain_env, sizeof(chain_env)) > 0)
		buf[n++] = chain_env;
	buf[n] = NULL;
	return buf;
}

void tg_restore_environ(void)
{
	char name[64];

	for (size_t i = 0; i < g.nchild_env; i++) {
		const char *e = g.child_env[i], *eq = strchr(e, '=');
		size_t n = eq ? (size_t)(eq - e) : 0;
		if (!n || n >= sizeof(name))
			continue;
		memcpy(name, e, n);
		name[n] = '\0';
		const char *cur = getenv(name);
		if (cur && strcmp(cur, eq + 1) == 0)
			continue;
		if (cur && strcmp(name, TG_ENV_PRELOAD) == 0) {
			char entry[PATH_MAX * 2];
			snprintf(entry, sizeof(entry), "LD_PRELOAD=%s", cur);
			if (keeps_guard(entry))
				continue;
		}
		setenv(name, eq + 1, 1);
	}
	/* system and popen: the shell's chain links to this record. */
	if (tg_chain_env(chain_env, sizeof(chain_env)) > 0)
		setenv(TG_ENV_CHAIN, chain_env + sizeof(TG_ENV_CHAIN), 1);
}

/* ---- start-up ------------------------------------------------------------ */

struct diag_buf {
	char text[8192];
	size_t len;
};

static void collect_diag(enum tg_diag_level lvl, const char *msg, void *ud)
{
	struct diag_buf *d = ud;

	if (lvl == TG_DIAG_WARNING)
		return; /* warnings are `trainguard check`'s business */
	int n = snprintf(d->text + d->len, sizeof(d->text) - d->len, "trainguard: %s\n", msg);
	if (n > 0 && d->len + n < sizeof(d->text))
		d->len += n;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		write_all(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static char *dup_env(const char *name, const char *value)
{
	char *s;
	return asprintf(&s, "%s=%s", name, value) < 0 ? NULL : s;
}

static bool on_error_allow(void)
{
	const char *v = getenv(TG_ENV_ON_ERROR);
	return v && strcmp(v, "allow") == 0;
}

/* The guard could not start: stop the program before main, or, when asked
 * to, let it run unguarded and say so. */
static void fail_start(const char *what)
{
	if (on_error_allow()) {
		say("trainguard: %s; TRAINGUARD_ON_ERROR=allow: running UNGUARDED\n", what);
		state = DISABLED;
		return;
	}
	say("trainguard: %s; refusing to run unguarded (exit 126; set TRAINGUARD_ON_ERROR=allow "
	    "to run without the guard)\n", what);
	_exit(126);
}

static char *read_cmdline(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/cmdline", "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strdup(buf);
}

/* Moves FD above the descriptors programs use, close-on-exec. */
static int high_fd(int fd)
{
	struct rlimit rl;
	int base = 900;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
		base = rl.rlim_cur / 2;
	int h = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (h < 0)
		return fd;
	close(fd);
	return h;
}

/* Opens the log: --log (TRAINGUARD_LOG) beats the policy's log.path, then
 * stderr. Returns the destination children inherit, or NULL when the
 * program must not start. */
static const char *open_log(char *real)
{
	char msg[PATH_MAX + 256];
	const char *log = env_or(TG_ENV_LOG, NULL);

	if (!log)
		log = tg_policy_log_path(g.policy);
	if (log && strcmp(log, "stderr") != 0) {
		int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0) {
			g.logfd = high_fd(fd);
			if (!realpath(log, real))
				return log;
			return real; /* protected by start() */
		}
		snprintf(msg, sizeof(msg), "cannot open the log '%s': %s", log, strerror(errno));
		if (g.mode == TG_ENFORCE) {
			fail_start(msg);
			return NULL;
		}
		say("trainguard: %s; records go to stderr\n", msg);
	}
	int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
	g.logfd = fd >= 0 ? high_fd(fd) : STDERR_FILENO;
	return "stderr";
}

/* What every child inherits, whatever it does to its environment. */
static void save_child_env(const char *policy_path, const char *log, const char *jid)
{
	char real[PATH_MAX], entry[PATH_MAX * 2];
	const char *preload = env_or(TG_ENV_PRELOAD, "");
	char *list[10];
	size_t k = 0;

	if (g.self_path) {
		/* Libraries loaded before ours stay first (ASan must). */
		snprintf(entry, sizeof(entry), "LD_PRELOAD=%s", preload);
		if (keeps_guard(entry))
			list[k++] = strdup(entry);
		else if (!*preload)
			list[k++] = dup_env(TG_ENV_PRELOAD, g.self_path);
		else if (asprintf(&list[k++], "LD_PRELOAD=%s:%s", preload, g.self_path) < 0)
			list[k - 1] = NULL;
	}
	if (policy_path && realpath(policy_path, real))
		list[k++] = dup_env(TG_ENV_POLICY, real);
	list[k++] = dup_env(TG_ENV_MODE, tg_mode_name(g.mode));
	list[k++] = dup_env(TG_ENV_LOG, log);
	list[k++] = dup_env(TG_ENV_JOB_ID, jid);
	list[k++] = dup_env(TG_ENV_VARS, tg_policy_frozen_vars(g.policy));
	if (on_error_allow())
		list[k++] = dup_env(TG_ENV_ON_ERROR, "allow");
	const char *memo = env_or(TG_ENV_MEMO, NULL);
	if (memo && strcmp(memo, "off") == 0)
		list[k++] = dup_env(TG_ENV_MEMO, "off");
	for (size_t i = 0; i < k; i++)
		if (list[i])
			g.child_env[g.nchild_env++] = list[i];
}

static void process_facts(const char *jid)
{
	struct utsname u;
	struct timespec ts;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		g.proc.exe = strdup(exe);
	}
	g.proc.cmd_line = read_cmdline();
	const char *base = g.proc.exe ? strrchr(g.proc.exe, '/') : NULL;
	g.proc.name = base ? base + 1 : "?";
	g.proc.uid = getuid();
	g.proc.user = getenv("USER") ? strdup(getenv("USER")) : NULL;
	g.proc.hostname = uname(&u) == 0 ? strdup(u.nodename) : "localhost";
	g.proc.cwd = getcwd(NULL, 0);
	g.proc.job_id = strdup(jid);
	clock_gettime(CLOCK_REALTIME, &ts);
	g.proc.start_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	g.proc.policy_source = tg_policy_source(g.policy);
	g.proc.policy_sha256 = tg_policy_sha256(g.policy);
	g.proc.version = TG_VERSION;
	g.proc.pid = getpid();
	g.proc.ppid = getppid();
}

static void start(void)
{
	struct diag_buf diag = { 0 };
	char jid[256], real[PATH_MAX], logreal[PATH_MAX], msg[PATH_MAX + 256];
	Dl_info info;

	tg_resolve();
	tg_event_init();
	tg_job_id(jid, sizeof(jid), NULL);

	const char *policy_path = env_or(TG_ENV_POLICY, NULL);
	struct tg_load_opts o = {
		.path = policy_path,
		.frozen_vars = env_or(TG_ENV_VARS, NULL),
		.job_id = jid,
		.diag = collect_diag,
		.diag_ud = &diag,
		.errors_only = true,
	};
	if (tg_policy_load(&o, &g.policy) < 0) {
		if (diag.len)
			write_all(STDERR_FILENO, diag.text, diag.len);
		snprintf(msg, sizeof(msg), "the policy '%s' did not load",
			 policy_path ? policy_path : "embedded:ml-default");
		fail_start(msg);
		return;
	}

	g.mode = tg_policy_mode(g.policy);
	const char *mode_env = env_or(TG_ENV_MODE, NULL);
	if (mode_env) {
		enum tg_mode m;
		if (tg_mode_parse(mode_env, &m) < 0) {
			snprintf(msg, sizeof(msg),
				 "TRAINGUARD_MODE='%s' is not enforce, audit or learn", mode_env);
			fail_start(msg);
			return;
		}
		if (tg_policy_lock_mode(g.policy) && g.mode == TG_ENFORCE && m != TG_ENFORCE)
			say("trainguard: TRAINGUARD_MODE=%s refused: policy '%s' sets lock_mode, "
			    "the job runs in enforce mode\n", mode_env, tg_policy_source(g.policy));
		else
			g.mode = m;
	}
	g.log_allowed = tg_policy_log_allowed(g.policy);
	g.hides = tg_policy_hides(g.policy);

	const char *log = open_log(logreal);
	if (!log)
		return;

	/* The library by its absolute path: a child in another folder must
	 * still find it. */
	if (dladdr((void *)start, &info) && info.dli_fname && realpath(info.dli_fname, real))
		g.self_path = strdup(real);
	const char *mine[] = { log == logreal ? logreal : NULL, g.self_path };
	if (tg_policy_protect(g.policy, mine, 2) < 0) {
		fail_start("out of memory protecting the log and the library");
		return;
	}
	const char *memo = env_or(TG_ENV_MEMO, NULL);
	if (memo && strcmp(memo, "off") == 0)
		tg_policy_set_memo(g.policy, false);

	if (g.mode == TG_LEARN) {
		void *m = mmap(NULL, LEARN_SLOTS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		learned = m == MAP_FAILED ? NULL : m;
	}
	save_child_env(policy_path, log, jid);
	process_facts(jid);
	after_fork_child();
	tg_chain_start(getenv(TG_ENV_CHAIN), atomic_load(&self_pid));
	pthread_atfork(tg_chain_fork_prepare, tg_chain_fork_parent, fork_child);
	state = ACTIVE;
	/* The standard streams, classified now: later, a program's own
	 * seccomp filter may forbid asking. */
	for (int fd = 0; fd <= 2; fd++)
		tg_fd_classify("write", fd);
}

static void tg_start(void)
{
	int saved = errno;
	int expected = UNINIT;

	if (!atomic_compare_exchange_strong(&state, &expected, STARTING))
		return;
	depth++;
	start();
	depth--;
	if (state == STARTING)
		state = DISABLED;
	errno = saved;
}

__attribute__((constructor)) static void tg_constructor(void)
{
	tg_start();
}
