/* Renames and links: both ends decided, and Landlock's refer rule: a file
 * moved or linked from one place to another may not get more there than it
 * had (a secret moved where it is readable, a dataset file where it is
 * writable): EXDEV, which mv and shutil.move answer by copying, each half
 * of the copy then decided on its own. A folder above what a rule
 * protects is not moved at all (moves_protected). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "act.h"
#include "decide-internal.h"
#include "real.h"
#include "resolve.h"
#include "settings.h"

/* The classes that decide whether a move widens access. */
#define REFER_CLASSES (TG_BIT(TG_READ) | TG_BIT(TG_WRITE) | TG_BIT(TG_EXEC) | TG_BIT(TG_CHMOD))

/* The refer classes PATH (N bytes) is allowed: one decision on all of
 * them, whose mask of denied classes says which. */
static unsigned granted(const char *path, size_t n)
{
	struct tg_verdict v;

	tg_decide(tg_set.policy, path, n, REFER_CLASSES, &v);
	return REFER_CLASSES & ~v.denied;
}

/* FROM (N1 bytes) moved or linked to TO (N2): refused when TO grants more,
 * recorded on REQ. */
static int refer(struct tg_req *req, const char *to, int n2, const char *from, int n1)
{
	unsigned more = granted(to, n2) & ~granted(from, n1);

	if (!more)
		return 0;
	struct tg_decided d = { .path = to, .path2 = from, .err = EXDEV };
	tg_decide(tg_set.policy, from, n1, more & -more, &d.v);
	req->classes = more;
	return tg_conclude(req, &d);
}

/* One end of a rename or link: CLASSES at (DIRFD, PATH), whose lexical
 * form is *AT (N bytes: BUF, or PATH itself when the program wrote it
 * normalized), made real (*AT then points at the path decided on); the
 * other end OTHER is recorded beside it. PRE, when given, is the verdict
 * already made on *AT for CLASSES or more (see quiet()). With ACT, the
 * folder of the name is held while it is decided, and the call is made
 * relative to it (act.h); a folder that cannot be walked gets the
 * kernel's answer once the policy has had its say. */
static int end(struct tg_req *req, int dirfd, const char *path, unsigned classes, char *buf,
	       const char **at, int *n, const char *other, struct tg_act_end *act,
	       const struct tg_verdict *pre)
{
	struct tg_req one = *req;
	struct tg_decided d = { .path = *at, .path2 = other };
	int e = 0, r;

	one.dirfd = dirfd;
	one.path = path;
	one.classes = classes;
	one.nofollow = true; /* each acts on a last-component link itself */
	if (path != req->path)
		one.kernel_first = TG_FIRST_NONE; /* only a missing source fails first */
	if (pre)
		d.v = *pre;
	else
		tg_decide(tg_set.policy, d.path, *n, classes, &d.v);
	if (act) {
		e = tg_decide_held(&one, act, &d, buf, n);
	} else {
		d.path = buf; /* the lexical form too (memo_end() is for ACT alone) */
		*n = tg_decide_real(&one, buf, *n, &d.v);
	}
	r = tg_conclude(&one, &d);
	*at = d.path;
	return r == 0 ? e : r;
}

/* A folder moved away takes everything below it along: renaming $HOME
 * away, reading ~/.ssh/id_rsa at its new name and renaming it back
 * escapes every rule on ~/.ssh. So a rename (or exchange) of PATH (N
 * bytes, real) is refused when a rule that denies anything names a path
 * strictly below it (its literal prefix lies under PATH): the folders
 * above a protected tree stay where they are, the log's and the policy's
 * included. Recorded with that rule. */
static int moves_protected(struct tg_req *req, const char *path, int n, const char *other)
{
	const struct tg_rule *rule = tg_policy_rule_below(tg_set.policy, path, (size_t)n);

	if (!rule)
		return 0;
	struct tg_decided d = { .path = path, .path2 = other };
	d.v.allow = false;
	d.v.cls = TG_DELETE;
	d.v.denied = TG_BIT(TG_DELETE);
	d.v.rule = rule;
	d.v.err = rule->err ? rule->err : EACCES;
	d.v.on_deny = rule->on_deny;
	d.v.create_mode = -1;
	struct tg_req one = *req;
	one.classes = TG_BIT(TG_DELETE);
	return tg_conclude(&one, &d);
}

static bool exists(int dirfd, const char *path)
{
	struct stat st;
	return tg_sys(SYS_newfstatat, dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* From V, one decision on more classes than an end asks (its own and
 * the refer classes): the verdict on CLASSES alone when it is an allow
 * tg_conclude lets through at once (none of them denied, nothing audited,
 * nothing to record), into Q; else false, and the end is decided on its
 * own. A verdict's mask of denied classes is class by class, and an
 * audit on none of the classes is an audit on none of a part of them. */
static bool quiet(const struct tg_verdict *v, unsigned classes, struct tg_verdict *q)
{
	if ((v->denied & classes) || v->audit || tg_set.mode != TG_ENFORCE || tg_set.log_allowed)
		return false;
	*q = *v;
	q->allow = true;
	q->denied = 0;
	q->err = 0;
	q->create_mode = -1; /* a rename creates no mode to narrow */
	return true;
}

/* PATH as the program wrote it, when it is absolute and the memo of
 * verdicts by folder knows its folder: its length into *N and its verdict
 * for CLASSES into V, without normalizing it into a buffer first (as
 * tg_check does for an unlink). */
static bool memo_end(const char *path, unsigned classes, int *n, struct tg_verdict *v)
{
	size_t len;

	if (path[0] != '/' || (len = strlen(path)) >= PATH_MAX ||
	    !tg_decide_memo(tg_set.policy, path, len, classes, v))
		return false;
	*n = (int)len;
	return true;
}

/* The lexical form of PATH from DIRFD into BUF: its length, and *AT
 * pointing at PATH itself when that is the form already (absolute and
 * normalized), else at BUF. */
static int lexical(int dirfd, const char *path, char *buf, const char **at)
{
	int n = tg_absolute(dirfd, path, buf, PATH_MAX);

	*at = n > 0 && path[0] == '/' && strncmp(path, buf, (size_t)n + 1) == 0 ? path : buf;
	return n;
}

int tg_check_rename(struct tg_req *req, char *from, char *to)
{
	unsigned flags = req->at_flags;
	unsigned src = TG_BIT(TG_DELETE);
	unsigned dst = TG_BIT(TG_CREATE) | (flags & RENAME_NOREPLACE ? 0 : TG_BIT(TG_DELETE));
	/* Acting from the folders held, the common rename (a checkpoint
	 * written beside its place and moved in) is decided in place, on the
	 * names as written, one decision per end from the memo: its own
	 * classes and the refer classes at once, whose masks of denied
	 * classes answer the refer rule too. */
	bool memo = req->act && !(flags & RENAME_EXCHANGE);
	const char *f = from, *t = to;
	struct tg_verdict vf, vt, qf, qt;
	bool mf = false, mt = false;
	int n1, n2, r;

	if (memo && memo_end(req->path, src | REFER_CLASSES, &n1, &vf))
		f = req->path, mf = true;
	else
		n1 = lexical(req->dirfd, req->path, from, &f);
	if (memo && memo_end(req->path2, dst | REFER_CLASSES, &n2, &vt))
		t = req->path2, mt = true;
	else
		n2 = lexical(req->dirfd2, req->path2, to, &t);
	if (n1 < 0 || n2 < 0)
		return n1 < 0 ? tg_undecidable(n1, req->path) : tg_undecidable(n2, req->path2);
	/* A NOREPLACE rename onto an existing name moves nothing: the kernel
	 * answers EEXIST, and nothing is decided (mv tries one into the
	 * destination folder first). */
	if ((flags & RENAME_NOREPLACE) && exists(req->dirfd2, req->path2))
		return -EEXIST;
	/* Not in the memo yet but written normalized: decided the same way,
	 * so the memo has it for the next rename. */
	if (memo && !mf && f == req->path)
		tg_decide(tg_set.policy, f, (size_t)n1, src | REFER_CLASSES, &vf), mf = true;
	if (memo && !mt && t == req->path2)
		tg_decide(tg_set.policy, t, (size_t)n2, dst | REFER_CLASSES, &vt), mt = true;
	bool in_place = mf && mt && quiet(&vf, src, &qf) && quiet(&vt, dst, &qt);
	r = end(req, req->dirfd, req->path, src, from, &f, &n1, t,
		req->act ? &req->act->from : NULL, in_place ? &qf : NULL);
	if (r < 0)
		return r;
	r = moves_protected(req, f, n1, t);
	if (r < 0)
		return r;
	r = end(req, req->dirfd2, req->path2, dst, to, &t, &n2, f, req->act ? &req->act->to : NULL,
		in_place ? &qt : NULL);
	if (r < 0)
		return r;
	if (flags & RENAME_EXCHANGE) {
		r = moves_protected(req, t, n2, f); /* the other folder moves too */
		if (r < 0)
			return r;
	}
	struct tg_req sreq = *req, dreq = *req;
	dreq.dirfd = req->dirfd2;
	dreq.path = req->path2;
	dreq.kernel_first = TG_FIRST_NONE;
	if (flags & RENAME_EXCHANGE) {
		/* The old name receives the other file: both ends are both. */
		struct tg_decided d = { .path = f, .path2 = t };
		sreq.classes = TG_BIT(TG_CREATE) | TG_BIT(TG_DELETE);
		tg_decide(tg_set.policy, f, n1, sreq.classes, &d.v);
		r = tg_conclude(&sreq, &d);
		if (r < 0)
			return r;
	}
	/* Both paths still the ones decided (end() points them at FROM and
	 * TO when a symlink on the way made them others): the refer rule is
	 * answered by the masks already. */
	if (in_place && f == req->path && t == req->path2 &&
	    !(vf.denied & ~vt.denied & REFER_CLASSES))
		return 0;
	r = refer(&dreq, t, n2, f, n1);
	if (r == 0 && (flags & RENAME_EXCHANGE))
		r = refer(&sreq, f, n1, t, n2); /* an exchange moves both files */
	return r;
}

int tg_check_link(struct tg_req *req, char *to, char *from)
{
	bool hard = req->kind == TG_REQ_LINK;
	int n2 = tg_absolute(req->dirfd2, req->path2, to, PATH_MAX), n1, r;

	if (n2 < 0)
		return tg_undecidable(n2, req->path2);
	const char *t = to;
	r = end(req, req->dirfd2, req->path2, TG_BIT(TG_CREATE), to, &t, &n2,
		hard ? NULL : req->path, req->act ? &req->act->to : NULL, NULL);
	if (r < 0 || !hard || !req->path)
		return r;
	/* The file being linked, as the kernel finds it: through symlinked
	 * folders, and through a last symlink under AT_SYMLINK_FOLLOW. Its
	 * folder is held (act.h), except under AT_SYMLINK_FOLLOW, where the
	 * link's target is linked by name. */
	int held = TG_ACT_BY_NAME;
	if (req->on_fd) {
		n1 = tg_fd_path(req->dirfd, from, PATH_MAX); /* AT_EMPTY_PATH */
	} else {
		n1 = tg_absolute(req->dirfd, req->path, from, PATH_MAX);
		if (req->act && !req->follow_old && n1 >= 0)
			held = tg_act_hold_folder(req->act, &req->act->from, from, n1, from);
		if (held > 0)
			n1 = held;
		else if (held == TG_ACT_BY_NAME)
			n1 = tg_real_path(req->dirfd, req->path, req->follow_old, TG_LAST_LOOK,
					  from, PATH_MAX);
		else if (held < 0)
			return held; /* the kernel's answer: the old name's folder is not there */
	}
	if (n1 <= 0)
		return 0;
	n1 = tg_proc_self(from, n1);
	struct tg_req dst = *req;
	dst.dirfd = req->dirfd2;
	dst.path = req->path2;
	return refer(&dst, to, n2, from, n1); /* a secret linked into the checkpoints */
}
