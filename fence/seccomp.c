/* The seccomp half of the fence: a default-allow libseccomp filter for the
 * doors Landlock leaves open (docs/fence.md, "The seccomp filter"). Each
 * refusal is an errno the caller can handle: ENOSYS where a runtime falls
 * back to calls the guard sees (io_uring, clone3), EPERM elsewhere. The
 * policy does not change the filter today; it is taken for the day it
 * does (exec of created files decides memfd_create). */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#ifdef TG_HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "tg-fence.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
/* fchmodat2 (Linux 6.6) has the same number on every architecture that
 * uses the common table; libseccomp before 2.5.5 does not know it. */
#define NR_FCHMODAT2 452

/* clone's flags are its first argument except on s390, where the stack
 * comes first. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

static void hint(const struct tg_fence_opts *o, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!o->hint)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->hint(msg, o->hint_ud);
}

#ifdef TG_HAVE_SECCOMP
/* Refused whatever their arguments. */
static const struct {
	const char *name;
	int err;
} plain[] = {
	/* io_uring opens and writes files without a system call the
	 * preload or a path hook sees per operation; ENOSYS makes runtimes
	 * fall back to plain calls. */
	{ "io_uring_setup", ENOSYS },
	{ "io_uring_enter", ENOSYS },
	{ "io_uring_register", ENOSYS },
	/* Inside one Landlock domain, ptrace and process_vm_* reach the
	 * guard's state in sibling processes of the job. */
	{ "ptrace", EPERM },
	{ "process_vm_readv", EPERM },
	{ "process_vm_writev", EPERM },
	{ "pidfd_getfd", EPERM },
	/* clone3 passes its flags in memory a filter cannot read: ENOSYS
	 * makes glibc fall back to clone, whose flags it can. */
	{ "clone3", ENOSYS },
	/* A new mount table would let the job bind a secret where the
	 * policy allows, or hide the policy. */
	{ "mount", EPERM },
	{ "umount2", EPERM },
	{ "mount_setattr", EPERM },
	{ "open_tree", EPERM },
	{ "move_mount", EPERM },
	{ "fsopen", EPERM },
	{ "fsconfig", EPERM },
	{ "fsmount", EPERM },
	{ "fspick", EPERM },
	{ "pivot_root", EPERM },
	{ "setns", EPERM },
	/* File handles name files without a path. */
	{ "name_to_handle_at", EPERM },
	{ "open_by_handle_at", EPERM },
};

struct filter {
	scmp_filter_ctx ctx;
	unsigned n;
};

static int rule(struct filter *f, int err, int nr, unsigned nargs, const struct scmp_arg_cmp *a)
{
	int r = seccomp_rule_add_array(f->ctx, SCMP_ACT_ERRNO(err), nr, nargs, a);
	if (r < 0)
		return r;
	f->n++;
	return 0;
}

/* NR refused with ERR when argument ARG has any bit of MASK set: one rule
 * per bit, as libseccomp compares masked values for equality only. */
static int rule_bits(struct filter *f, int err, int nr, unsigned arg, uint64_t mask)
{
	for (unsigned b = 0; b < 64; b++) {
		uint64_t bit = 1ULL << b;
		if (!(mask & bit))
			continue;
		struct scmp_arg_cmp c = { arg, SCMP_CMP_MASKED_EQ, bit, bit };
		int r = rule(f, err, nr, 1, &c);
		if (r < 0)
			return r;
	}
	return 0;
}

static int build(struct filter *f, const struct tg_fence_opts *o, struct tg_fence_report *rep)
{
	int r;

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		int nr = seccomp_syscall_resolve_name(plain[i].name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if ((r = rule(f, plain[i].err, nr, 0, NULL)) < 0)
			return r;
	}
	const uint64_t ns = CLONE_NEWUSER | CLONE_NEWNS;
	if ((r = rule_bits(f, EPERM, SCMP_SYS(unshare), 0, ns)) < 0 ||
	    (r = rule_bits(f, EPERM, SCMP_SYS(clone), CLONE_FLAGS_ARG, ns)) < 0)
		return r;
	/* A memory file made executable is a program no path names: only
	 * sealed non-executable ones may be made. */
	if (!(o->flags & TG_FENCE_EXEC_MEMFD)) {
		struct scmp_arg_cmp c = { 1, SCMP_CMP_MASKED_EQ, MFD_NOEXEC_SEAL, 0 };
		if ((r = rule(f, EPERM, SCMP_SYS(memfd_create), 1, &c)) < 0)
			return r;
	}
	/* The mode argument of the chmod family: set-uid and set-gid bits. */
	const uint64_t setid = S_ISUID | S_ISGID;
	int fchmodat2 = seccomp_syscall_resolve_name("fchmodat2");
	if (fchmodat2 == __NR_SCMP_ERROR) {
		fchmodat2 = NR_FCHMODAT2;
		rep->fchmodat2_by_number = true;
	}
	if ((r = rule_bits(f, EPERM, SCMP_SYS(chmod), 1, setid)) < 0 ||
	    (r = rule_bits(f, EPERM, SCMP_SYS(fchmod), 1, setid)) < 0 ||
	    (r = rule_bits(f, EPERM, SCMP_SYS(fchmodat), 2, setid)) < 0 ||
	    (r = rule_bits(f, EPERM, fchmodat2, 2, setid)) < 0)
		return r;
	/* A system call of another ABI (int 0x80 from a 64-bit process, an
	 * x32 call) would pass a filter that speaks only the native one. */
	if ((r = seccomp_attr_set(f->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
		return r;
	/* Every thread, for a caller that started some. */
	if ((r = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		return r;
	/* Every system call of the job runs the filter: a binary tree over
	 * the syscall numbers instead of a list of 34 compares (libseccomp
	 * 2.5). Best effort: an older libseccomp keeps the list. */
	seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	return 0;
}
#endif

int tg_fence_seccomp(const struct tg_policy *p, const struct tg_fence_opts *o,
		     struct tg_fence_report *ret)
{
	struct tg_fence_report scratch;
	struct tg_fence_report *rep = ret ? ret : &scratch;

	rep->seccomp = false;
	rep->seccomp_rules = 0;
	rep->fchmodat2_by_number = false;
	if (o->seccomp == TG_FENCE_OFF || !tg_fence_applies(p, o))
		return 0; /* tg_fence_landlock says why */
#ifdef TG_HAVE_SECCOMP
	struct filter f = { seccomp_init(SCMP_ACT_ALLOW), 0 };
	int r;

	if (!f.ctx)
		return -ENOMEM;
	r = build(&f, o, rep);
	if (r >= 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = -errno;
	if (r >= 0)
		r = seccomp_load(f.ctx);
	seccomp_release(f.ctx);
	if (r < 0) {
		if (o->seccomp == TG_FENCE_AUTO && r != -ENOMEM) {
			hint(o,
			     "the seccomp filter could not be loaded (%s): io_uring, ptrace, "
			     "namespaces and file handles stay open",
			     strerror(-r));
			return 0;
		}
		return r;
	}
	rep->seccomp = true;
	rep->seccomp_rules = f.n;
	if (rep->fchmodat2_by_number)
		hint(o, "libseccomp does not know fchmodat2: refused by its number, %d",
		     NR_FCHMODAT2);
	return 0;
#else
	hint(o, "built without libseccomp: io_uring, ptrace, namespaces and file handles stay "
		"open");
	return o->seccomp == TG_FENCE_REQUIRE ? -EOPNOTSUPP : 0;
#endif
}
