/* Event records: one OCSF 1.8.0 JSON object per line, built with jansson.
 *
 * The builder never touches the program's heap: jansson allocates from a
 * per-thread arena (mmap'd on first use, reset after each record, nested
 * levels for a signal handler that logs while a record is being built). The
 * caller writes the returned line with a single write(2). See
 * design/EVENTS.md for the fields. */
#ifndef TG_EVENT_H
#define TG_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tg-policy.h"

/* Largest line a record may take (records are cut below this). */
#define TG_EVENT_MAX (16 * 1024)

/* Facts about the process, gathered once at start and after fork. */
struct tg_proc {
	pid_t pid, ppid;
	pid_t tid;             /* the thread building the record (0: ask the kernel) */
	uid_t uid;
	const char *exe;       /* /proc/self/exe at start; may be NULL */
	const char *name;      /* basename of exe (or of argv[0]) */
	const char *cmd_line;  /* argv joined by spaces, at most 4 KiB; may be NULL */
	const char *user;      /* user name; may be NULL */
	const char *hostname;
	const char *cwd;       /* working directory at start; may be NULL */
	const char *job_id;
	long long start_ms;    /* epoch ms when the guard started in this process */
	const char *policy_source; /* policy file of the job, for records of default rules */
	const char *policy_sha256;
	const char *version;   /* trainguard version */
	bool foreign;          /* a vfork child: its sequence must not touch the parent's */
	bool chain_slot;       /* leave "chain":"@tg-chain@" in unmapped.trainguard
				* for the log sink to fill (preload/chain.h) */
};

/* TG_DEC_CLAMP: a chmod allowed with fewer bits (create_mode); recorded as
 * an allowed access (severity, action and disposition of TG_DEC_ALLOW). */
enum tg_decision { TG_DEC_DENY, TG_DEC_WOULD_DENY, TG_DEC_ALLOW, TG_DEC_LEARN, TG_DEC_CLAMP };

/* One decision about one call. Strings are borrowed. */
struct tg_event {
	const char *op;             /* libc symbol: "open64", "renameat2", "execve" */
	int flags;                  /* open(2) flags, or -1 when the call has none */
	int dirfd;                  /* AT_FDCWD or the descriptor of an *at call */
	const char *path;           /* normalized absolute path decided on */
	const char *path_requested; /* the string the program passed; may be NULL */
	const char *path2;          /* the other end of a rename/link, or NULL */
	unsigned classes;           /* classes the call asked for */
	const struct tg_verdict *verdict;
	enum tg_decision decision;
	enum tg_mode mode;
	int err;                    /* errno returned to the program (0: none) */
	int mode_requested;         /* for creates: mode asked, or -1 */
	int mode_applied;           /* for creates: mode after create_mode, or -1 */
	char *const *argv;          /* exec: the new program's argv, or NULL */
	const char *unguarded;      /* exec: why the child runs without the guard
				     * ("setuid", "setgid", "capabilities",
				     * "static", "elf32"), or NULL */
};

/* Builds the record for EV as one line ending in '\n' into BUF (capacity
 * CAP, at least TG_EVENT_MAX). Returns the length, or -ENOMEM when the arena
 * could not be mapped, or -EINVAL when jansson refused the record. An exec
 * decision (op starts with "exec", "posix_spawn", "system" or "popen")
 * becomes a Process Activity record, everything else File System Activity. */
int tg_event_format(const struct tg_event *ev, const struct tg_proc *proc, char *buf,
		    size_t cap);

/* Seeds jansson's hash function without opening /dev/urandom; call once at
 * start before any record is built. */
void tg_event_init(void);

#endif
