/* The decision (see decide.h): a request's paths made absolute and real,
 * decided on the policy, and concluded once: record, kill, narrowed mode.
 * Renames and links are in decide-refer.c, execs in decide-exec.c. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "decide-internal.h"
#include "lifecycle.h"
#include "log.h"
#include "paths.h"
#include "protect-errno.h"
#include "real.h"
#include "resolve.h"
#include "self.h"
#include "settings.h"
#include "tg-path.h"

int tg_absolute(int dirfd, const char *path, char *out, size_t cap)
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
	n = dirfd == AT_FDCWD ? tg_cwd(base, sizeof(base))
			      : tg_dirfd_path(dirfd, base, sizeof(base));
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

int tg_undecidable(int n, const char *path)
{
	return (n == -ENAMETOOLONG && strnlen(path, PATH_MAX) < PATH_MAX) ? n : 0;
}

/* ---- the learn set ---- */

/* Learn mode logs each distinct access once: a fixed, lock-free set of
 * hashes of (path, classes); a full set simply logs again. */
#define LEARN_SLOTS 65536
static _Atomic uint64_t *learned;

void tg_learn_init(void)
{
	void *m = mmap(NULL, LEARN_SLOTS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	learned = m == MAP_FAILED ? NULL : m;
}

static uint64_t learn_hash(const char *path, size_t n, unsigned classes)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ classes;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)path[i]) * 0x100000001b3ULL;
	return h | 1;
}

bool tg_learned_already(const char *path, size_t n, unsigned classes)
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

/* True when (PATH, CLASSES) is new, and remembers it. A vfork child
 * remembers nothing: the set is its parent's. */
static bool learn_first(const char *path, size_t n, unsigned classes)
{
	if (!learned)
		return true;
	if (tg_self_foreign())
		return !tg_learned_already(path, n, classes);
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

/* ---- chmod clamps, recorded once per path ---- */

/* A copying tool chmods every file it writes (tar, rsync -a, cp -p): one
 * record per path is enough, and a set too full to remember simply records
 * again. Fixed, lock-free, in the image: nothing mapped, nothing locked. */
#define CLAMP_SLOTS 1024
static _Atomic uint64_t clamped[CLAMP_SLOTS];

/* True when a clamp of PATH has not been recorded yet, and remembers it
 * (a vfork child only looks: the set is its parent's). */
static bool clamp_first(const char *path)
{
	uint64_t h = learn_hash(path, strlen(path), TG_BIT(TG_CHMOD));
	_Atomic uint64_t *slot = &clamped[h & (CLAMP_SLOTS - 1)];

	if (atomic_load_explicit(slot, memory_order_relaxed) == h)
		return false;
	if (!tg_self_foreign())
		atomic_store_explicit(slot, h, memory_order_relaxed);
	return true;
}

/* ---- the kernel's own answer ---- */

/* The errno the kernel gives REQ before any permission matters, or 0 (see
 * enum tg_kernel_first). Asked only of a refused call: its own frame, and
 * no system call at all on an allowed one. statx with no fields wanted is
 * fstatat(AT_SYMLINK_NOFOLLOW) with a layout fixed on every architecture. */
static __attribute__((noinline)) int kernel_first(const struct tg_req *req)
{
	struct statx stx;

	if (!req->path || tg_frozen())
		return 0; /* no probe the program's filter could refuse */
	long r = tg_sys(SYS_statx, req->dirfd, req->path, AT_SYMLINK_NOFOLLOW, 0U, &stx);
	if (req->kernel_first == TG_FIRST_EXISTS)
		return r == 0 ? EEXIST : 0;
	return r < 0 && (errno == ENOENT || errno == ENOTDIR) ? errno : 0;
}

/* ---- concluding ---- */

/* create_mode for a folder keeps the search bit of each class that keeps
 * read: "0640" -> 0750. */
static int dir_mask(int mask)
{
	return mask | ((mask & 0444) >> 2);
}

bool tg_records_nothing(const struct tg_verdict *v)
{
	return v->allow && !v->audit && !tg_set.log_allowed && tg_set.mode != TG_LEARN;
}

static void kill_self(void)
{
	struct tg_self self;

	tg_self(&self);
	tg_sys(SYS_kill, self.pid, SIGKILL);
}

int tg_conclude(struct tg_req *req, const struct tg_decided *d)
{
	const struct tg_verdict *v = &d->v;
	enum tg_mode mode = tg_set.mode;

	/* The common case leaves at once: allowed, nothing to narrow or record. */
	if (v->allow && mode == TG_ENFORCE && !v->audit && !tg_set.log_allowed &&
	    (v->create_mode < 0 || req->mode < 0))
		return 0;

	struct tg_event ev = {
		.op = req->op,
		.flags = req->flags,
		.dirfd = req->dirfd,
		.path = d->path,
		.path_requested = req->path,
		.path2 = d->path2,
		.classes = req->classes,
		.verdict = v,
		.mode = mode,
		.mode_requested = -1,
		.mode_applied = -1,
		.argv = req->argv,
		.unguarded = d->unguarded,
	};
	bool log = false, clamp = false;

	/* A call the kernel fails first is no violation: its answer, no record.
	 * A rule that hides the path (ENOENT) keeps hiding it. */
	if (!v->allow && req->kernel_first && mode != TG_LEARN &&
	    (d->err ? d->err : v->err) != ENOENT) {
		int e = kernel_first(req);
		if (e)
			return mode == TG_ENFORCE ? -e : 0;
	}
	if (!v->allow && mode == TG_ENFORCE) {
		ev.decision = TG_DEC_DENY;
		ev.err = d->err ? d->err : v->err;
		ev.killed = v->on_deny == TG_ON_DENY_KILL && !req->spawns;
		if (v->on_deny != TG_ON_DENY_QUIET)
			tg_log_record(&ev, &tg_set.proc);
		/* posix_spawn, system and popen are decided in the caller before
		 * the child exists: the spawn is refused, the caller lives. */
		if (ev.killed) {
			/* No destructor runs after SIGKILL: the stop record now. */
			tg_life_stop("kill", -1, SIGKILL);
			kill_self();
		}
		return -ev.err;
	}
	if (mode == TG_ENFORCE && v->create_mode >= 0 && req->mode >= 0) {
		int mask = req->is_dir ? dir_mask(v->create_mode) : v->create_mode;
		int narrowed = req->mode & mask;
		if (narrowed != req->mode) {
			ev.mode_requested = req->mode;
			ev.mode_applied = narrowed;
			req->mode = narrowed;
			/* A chmod clamped is worth one record per path; a create
			 * narrowed is counted in the stop record. */
			clamp = req->kind == TG_REQ_CHMOD;
			log = v->audit || tg_set.log_allowed || (clamp && clamp_first(d->path));
		}
	}
	if (mode == TG_LEARN) {
		ev.decision = TG_DEC_LEARN;
		log = learn_first(d->path, strlen(d->path), req->classes);
	} else if (!v->allow) {
		ev.decision = TG_DEC_WOULD_DENY;
		ev.err = d->err ? d->err : v->err;
		log = v->on_deny != TG_ON_DENY_QUIET;
	} else {
		ev.decision = clamp ? TG_DEC_CLAMP : TG_DEC_ALLOW;
		/* An audited open is recorded with its file's aggregate, once
		 * the descriptor says which file it is (aggregate.h). */
		if (v->audit && req->may_aggregate && !clamp) {
			req->audit_later = true;
			req->mode_asked = ev.mode_requested;
			return 0;
		}
		log = log || v->audit || tg_set.log_allowed;
	}
	if (log)
		tg_log_record(&ev, &tg_set.proc);
	return 0;
}

/* ---- the object the kernel reaches ---- */

/* The slow half of tg_decide_real, in its own frame: its buffer is paid
 * only when a symlink is on the way. */
static __attribute__((noinline)) int decide_resolved(const struct tg_req *req, char *path, int n,
						     struct tg_verdict *v)
{
	char real[PATH_MAX];
	int rn = tg_real_path(req->dirfd, req->path, !req->nofollow, TG_LAST_LOOK, real,
			      sizeof(real));

	if (rn <= 0 || (rn == n && memcmp(real, path, n) == 0))
		return n; /* a magic link, an error the kernel will report, or no change */
	memcpy(path, real, rn + 1);
	rn = tg_proc_self(path, rn);
	tg_decide(tg_set.policy, path, rn, req->classes, v);
	return rn;
}

int tg_decide_real(const struct tg_req *req, char *path, int n, struct tg_verdict *v)
{
	if (req->dirfd != AT_FDCWD && req->path[0] == '\0')
		return n; /* the descriptor itself */
	if (tg_frozen())
		return n; /* no probe the program's filter could refuse */
	if (tg_symlink_free(req->dirfd, req->path, !req->nofollow) != 0)
		return n;
	return decide_resolved(req, path, n, v);
}

/* The object of REQ as policies name it, into A, and its verdict: the
 * descriptor's file (ON_FD), or the path through its symlinks. Returns
 * the length, 0 when there is nothing to decide (a pipe, a socket), or
 * -errno for a name the guard cannot decide. */
static int object(struct tg_req *req, char *a, struct tg_verdict *v)
{
	int n;

	if (req->on_fd) {
		n = tg_fd_path(req->dirfd, a, PATH_MAX);
		if (n > 0)
			tg_decide(tg_set.policy, a, n, req->classes, v);
		return n < 0 ? 0 : n;
	}
	n = tg_absolute(req->dirfd, req->path, a, PATH_MAX);
	if (n < 0)
		return tg_undecidable(n, req->path);
	tg_decide(tg_set.policy, a, n, req->classes, v);
	return tg_decide_real(req, a, n, v);
}

/* Where files are created with a mask, a chmod is clamped by it: the
 * bits the mask takes away are dropped and the call succeeds (cp -p, tar,
 * rsync -a and shutil.copy chmod what they create; what they create stays
 * private). Set-id bits there are refused: a dropped binary made set-uid. */
static int chmod_bits(struct tg_req *req, const char *path, int n)
{
	struct tg_decided d = { .path = path };

	tg_decide(tg_set.policy, path, n, TG_BIT(TG_CREATE), &d.v);
	if (d.v.create_mode < 0)
		return 0;
	d.v.cls = TG_CHMOD;
	d.v.on_deny = d.v.rule ? d.v.rule->on_deny : TG_ON_DENY_ERROR;
	if (req->mode & 06000) {
		d.v.allow = false;
		d.v.denied = TG_BIT(TG_CHMOD);
		d.v.err = EPERM;
		return tg_conclude(req, &d);
	}
	/* Folders keep their search bits; a file is not run from there anyway
	 * (exec is its own class). The sticky bit takes nothing away. */
	int mask = dir_mask(d.v.create_mode) | 01000;
	if (!(req->mode & ~mask))
		return 0; /* nothing to clamp: decided and recorded already */
	d.v.allow = true;
	d.v.create_mode = mask;
	return tg_conclude(req, &d);
}

/* A path request, a chmod, a stat-family check, an inherited write. */
static int check_object(struct tg_req *req, char *a)
{
	struct tg_decided d = { .path = a };
	int n, r;

	if (req->kind == TG_REQ_FD_WRITE) {
		n = tg_fd_path(req->dirfd, a, PATH_MAX);
		if (n < 0)
			return 0; /* the kernel answers EBADF itself; nothing kept */
		req->fd_state = TG_REQ_FD_PASS;
		if (n == 0)
			return 0;
		tg_decide(tg_set.policy, a, n, req->classes, &d.v);
		/* A descriptor the guard did not open was opened by someone the
		 * policy did not judge (the shell that started the job, a raw
		 * system call): only a rule that denies writing refuses it. */
		if (d.v.allow || !d.v.rule)
			return 0;
		r = tg_conclude(req, &d);
		if (r < 0)
			req->fd_state = TG_REQ_FD_DENY;
		return r;
	}
	n = object(req, a, &d.v);
	if (n <= 0)
		return req->kind == TG_REQ_HIDDEN ? 0 : n;
	if (req->kind == TG_REQ_HIDDEN && (d.v.allow || d.v.err != ENOENT))
		return 0;
	if (req->kind != TG_REQ_CHMOD)
		return tg_conclude(req, &d);
	int to = req->mode; /* chmod's target: clamped, recorded only when changed */
	req->mode = -1;
	r = tg_conclude(req, &d);
	req->mode = to;
	if (r < 0 || to < 0)
		return r;
	return chmod_bits(req, a, n); /* may narrow req->mode */
}

int tg_decide_held(const struct tg_req *req, struct tg_act_end *end, struct tg_decided *d, char *a,
		   int *n)
{
	int held = tg_act_hold_folder(req->act, end, d->path, *n, a);

	if (held > 0) {
		*n = held; /* through a symlink: decided on the folder held */
		d->path = a;
		tg_decide(tg_set.policy, a, (size_t)held, req->classes, &d->v);
	} else if (held == TG_ACT_BY_NAME) {
		if (d->path != a) {
			memcpy(a, d->path, (size_t)*n + 1);
			d->path = a;
		}
		*n = tg_decide_real(req, a, *n, &d->v);
	}
	return held < 0 && held != TG_ACT_BY_NAME ? held : 0;
}

int tg_check(struct tg_req *req)
{
	char a[PATH_MAX], b[PATH_MAX];
	TG_PROTECT_ERRNO;

	if (!tg_enter())
		return 0;
	if (req->kind == TG_REQ_PATH && req->path && !req->on_fd) {
		/* The common request (unlink, mkdir, opendir...), in a straight line. */
		struct tg_decided d = { .path = a };
		const char *p = req->path;
		size_t len;
		int n;
		if (req->act && p[0] == '/' && (len = strlen(p)) < PATH_MAX &&
		    tg_decide_memo(tg_set.policy, p, len, req->classes, &d.v)) {
			/* Normal already (the memo knows its folder): decided in
			 * place, acted on from its folder kept. */
			d.path = p;
			n = (int)len;
		} else {
			n = tg_absolute(req->dirfd, req->path, a, PATH_MAX);
			if (n < 0)
				return tg_undecidable(n, req->path);
			tg_decide(tg_set.policy, a, n, req->classes, &d.v);
		}
		if (!req->act) {
			tg_decide_real(req, a, n, &d.v);
			return tg_conclude(req, &d);
		}
		/* unlink: acted on from the folder decided on (act.h). */
		int e = tg_decide_held(req, &req->act->from, &d, a, &n);
		int r = tg_conclude(req, &d);
		return r == 0 ? e : r;
	}
	switch (req->kind) {
	case TG_REQ_RENAME:
		return req->path && req->path2 ? tg_check_rename(req, a, b) : 0;
	case TG_REQ_LINK:
	case TG_REQ_SYMLINK:
		return req->path2 ? tg_check_link(req, a, b) : 0;
	case TG_REQ_EXEC:
		return req->path ? tg_check_exec(req, a, b) : 0;
	case TG_REQ_HIDDEN:
		if (!tg_set.hides)
			return 0;
		break;
	default:
		break;
	}
	if (!req->path && !req->on_fd && req->kind != TG_REQ_FD_WRITE)
		return 0; /* NULL: the kernel answers EFAULT */
	return check_object(req, a);
}
