/* The kernel fence: a Landlock ruleset and a seccomp filter derived from a
 * compiled policy, installed on the calling thread and inherited by every
 * child it starts (docs/fence.md).
 *
 * The preload decides each libc call by the full policy; the fence is the
 * coarse backstop the kernel enforces whatever the job calls (raw system
 * calls, io_uring, static programs, children without LD_PRELOAD). It may
 * only ever allow more than the policy, never less, except where
 * docs/fence.md says so (entries created later directly in a split folder).
 * Both layers are irrevocable once installed. The library never prints:
 * one-line hints ("Hint: ...") go to the caller's callback. */
#ifndef TG_FENCE_H
#define TG_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg-policy.h"

/* enum tg_fence_mode (per layer: auto, require, off), its names and its
 * parser are the policy's (tg-policy.h): the policy keys fence.landlock
 * and fence.seccomp speak them. */

/* One line without "Hint: " and without a newline; for people. */
typedef void (*tg_fence_hint_fn)(const char *msg, void *ud);

/* Carve-outs whose split folder the job may add entries to are kept
 * anyway: such new entries get no right at all (docs/fence.md). */
#define TG_FENCE_STRICT_SPLITS (1u << 0)
/* Leave Landlock's own audit records (ABI >= 7) off. */
#define TG_FENCE_NO_AUDIT (1u << 1)
/* Let memfd_create make executable memory files (no MFD_NOEXEC_SEAL). */
#define TG_FENCE_EXEC_MEMFD (1u << 2)
/* MODE below is the job's mode (the command line or the environment
 * changed the policy's); without it the policy's own mode counts. */
#define TG_FENCE_MODE_SET (1u << 3)

#define TG_FENCE_MAX_RULES 2048

struct tg_fence_opts {
	enum tg_fence_mode landlock, seccomp;
	unsigned flags;
	/* In audit and learn mode the guard lets everything through and
	 * records it: the fence, which cannot record, installs nothing. */
	enum tg_mode mode;
	/* Paths no class may touch under the fence, on top of the policy (the
	 * log, once records leave the job through a pipe). Absolute and
	 * normalized; borrowed for the call. */
	const char *const *protect;
	size_t nprotect;
	/* Paths the guard itself opens for writing after the fence is in (the
	 * log file while the preload writes it): granted write and create
	 * whatever the policy says, and so open to the job's raw system calls
	 * too. A missing one opens its folder for creating. Borrowed. */
	const char *const *writable;
	size_t nwritable;
	/* Files granted read and exec whatever the policy says: the program a
	 * user hands to `trainguard run`, which the preload never decides
	 * (run is not guarded). Borrowed. */
	const char *const *executable;
	size_t nexecutable;
	unsigned max_rules; /* Landlock rules at most; 0: TG_FENCE_MAX_RULES */
	tg_fence_hint_fn hint;
	void *hint_ud;
};

/* What was installed, for the start record and `run`'s summary. */
struct tg_fence_report {
	int landlock_abi;         /* the kernel's Landlock ABI; 0: none */
	bool landlock;            /* a Landlock domain was installed */
	bool landlock_audit;      /* its denials reach the audit log (ABI >= 7) */
	uint64_t handled;         /* LANDLOCK_ACCESS_FS_* the domain restricts */
	unsigned rules;           /* path-beneath rules added */
	unsigned carved;          /* folders split to keep a denied tree out */
	unsigned widened;         /* denied trees left open (hinted) */
	bool seccomp;             /* the seccomp filter was installed */
	unsigned seccomp_rules;   /* its rules */
	bool fchmodat2_by_number; /* libseccomp did not know fchmodat2 */
};

/* The layers R says are active: "landlock+seccomp", "landlock", "seccomp"
 * or "none"; a static string. The value of TRAINGUARD_FENCE, the marker
 * that tells the library's constructor a parent has fenced the job. */
const char *tg_fence_layers(const struct tg_fence_report *r);
/* Parses such a name into the landlock and seccomp fields of a zeroed
 * *RET; 0, or -EINVAL. */
int tg_fence_layers_parse(const char *s, struct tg_fence_report *ret);

/* Whether the fence applies to a job under P with O: its mode (O->mode
 * with TG_FENCE_MODE_SET, else the policy's) is enforce. Both installers
 * below install nothing, with a hint, when it is not. */
bool tg_fence_applies(const struct tg_policy *p, const struct tg_fence_opts *o);

/* Builds a Landlock ruleset from P (borrowed) and restricts the calling
 * thread with it, after setting no_new_privs (irrevocable; what Landlock
 * needs without CAP_SYS_ADMIN). Call it before starting threads:
 * other threads stay outside. Fills *RET (may be NULL) in every case.
 * Returns 0 when installed, or not installed in mode OFF, in audit or
 * learn mode, or in mode AUTO when the kernel lacks Landlock or refuses the
 * ruleset (RET and a hint say which); -EOPNOTSUPP in mode REQUIRE when the
 * kernel has no Landlock; -ENOMEM; another -errno from the kernel in mode
 * REQUIRE. Features the kernel lacks and denied trees the ruleset cannot
 * keep out are hints, not errors. */
int tg_fence_landlock(const struct tg_policy *p, const struct tg_fence_opts *o,
		      struct tg_fence_report *ret);

/* Loads the seccomp filter (default allow) that closes what Landlock
 * leaves open: io_uring, ptrace and process_vm_*, new user and mount
 * namespaces and the mount API, file handles, executable memfds and
 * set-id chmod bits (docs/fence.md has the table). Sets no_new_privs.
 * Fills the seccomp fields of *RET (may be NULL). Returns 0 when loaded,
 * or not loaded in mode OFF, in audit or learn mode, or in mode AUTO when
 * it cannot be (a hint says why); -EOPNOTSUPP in mode REQUIRE without
 * seccomp support; -ENOMEM; another -errno in mode REQUIRE. */
int tg_fence_seccomp(const struct tg_policy *p, const struct tg_fence_opts *o,
		     struct tg_fence_report *ret);

#endif
