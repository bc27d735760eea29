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

struct tg_file_facts;

/* Largest line a record may take (records are cut below this). */
#define TG_EVENT_MAX (16 * 1024)

/* Facts about the process, gathered once at start and after fork. */
struct tg_proc {
	pid_t pid, ppid;
	pid_t tid; /* the thread building the record (0: ask the kernel) */
	uid_t uid;
	const char *exe;      /* /proc/self/exe at start; may be NULL */
	const char *name;     /* basename of exe (or of argv[0]) */
	const char *cmd_line; /* argv joined by spaces, at most 4 KiB; may be NULL */
	const char *user;     /* user name; may be NULL */
	const char *hostname;
	const char *cwd; /* working directory at start; may be NULL */
	const char *job_id;
	long long start_ms;        /* epoch ms when the guard started in this process */
	const char *policy_source; /* policy file of the job, for records of default rules */
	const char *policy_sha256;
	const char *version;       /* trainguard version */
	bool foreign;              /* a vfork child: its sequence must not touch the parent's */
	bool chain_slot;           /* leave "chain":"@tg-chain@" in unmapped.trainguard
				* for the log sink to fill (preload/chain.h) */
	const char *parent_name;   /* the parent's comm at start; may be NULL */
	const char *container_id;  /* from /proc/self/cgroup at start; may be NULL */
	const char *cgroup;        /* the process's cgroup (v2 path); may be NULL */
	const char *k8s_pod;       /* TRAINGUARD_K8S_POD at start; may be NULL */
	const char *k8s_namespace; /* TRAINGUARD_K8S_NAMESPACE at start; may be NULL */
};

/* What a record is about: a decision on one call, or the process's life. */
enum tg_event_kind {
	TG_EV_DECISION,     /* File System or Process Activity (the default) */
	TG_EV_START,        /* Event Log Activity: Start, the guard in this process */
	TG_EV_STOP,         /* Event Log Activity: Stop, the process leaves */
	TG_EV_FORK,         /* Process Activity: Launch, launch type Fork */
	TG_EV_UNGUARDED,    /* Event Log Activity: Other, the job runs without the guard */
	TG_EV_EXEC,         /* Process Activity: Launch, launch type Exec (the image about
			  * to be replaced) or Spawn (a child posix_spawn makes);
			  * a failed one: status Failure */
	TG_EV_CHILD_KILLED, /* Process Activity: Terminate, a child this process reaped
			     * was ended by a signal */
};

/* Denies (or would-denies) of one rule in this process, for the stop record. */
struct tg_rule_count {
	const char *rule; /* the rule's id, or "default:<class>" */
	unsigned long count;
};

/* The facts of a lifecycle record. Strings are borrowed. */
struct tg_life {
	const char *profiles; /* "base,secrets,python", or NULL */
	const char *layers;   /* "preload" or "preload,landlock,seccomp" */
	const char *fence;    /* the fence's own status line, or NULL */
	int exit_status;      /* stop: exit() status, or -1 when not known */
	int signal;           /* stop, child_killed: the fatal signal, or 0 */
	const char *exit_how; /* stop: "exit", "_exit", "_Exit", "exec", "kill"
			       * (on_deny), "signal" (kill, raise), "abort" */
	const struct tg_rule_count *counts;
	size_t ncounts;
	unsigned long dropped; /* records this process could not write */
	unsigned long folded;  /* repeats folded into earlier records */
	const char *why;       /* unguarded: why the guard did not start */
	pid_t parent_pid;      /* fork: the parent */
	const char *program;   /* exec: the program file, or NULL (fexecve) */
	char *const *argv;     /* exec: its argv, or NULL */
	int exec_errno;        /* exec: 0 before the call; the errno of a failed one */
	bool spawn;            /* exec: a child posix_spawn, system or popen makes */
	pid_t child;           /* child_killed: the child reaped */
	bool core;             /* child_killed: it dumped core */
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
	int err;               /* errno returned to the program (0: none) */
	int mode_requested;    /* for creates: mode asked, or -1 */
	int mode_applied;      /* for creates: mode after create_mode, or -1 */
	char *const *argv;     /* exec: the new program's argv, or NULL */
	const char *unguarded; /* exec: why the child runs without the guard
				     * ("setuid", "setgid", "capabilities",
				     * "static", "elf32"), or NULL */
	bool killed;           /* on_deny = "kill": the process is killed */
	enum tg_event_kind kind;
	/* Repeats folded into this record (log.c): 0 or 1 is one call; more
	 * sets count, start_time and end_time. */
	unsigned long count;
	long long first_ms, last_ms;
	bool by_pattern;            /* folded across paths: PATH is the pattern */
	unsigned long dropped;      /* records lost just before this one */
	const struct tg_life *life; /* lifecycle records */
	/* Aggregated audit records (aggregate.h): the file's identity, size
	 * and digest, or NULL. */
	const struct tg_file_facts *facts;
};

/* Builds the record for EV as one line ending in '\n' into BUF (capacity
 * CAP, at least TG_EVENT_MAX). Returns the length, or -ENOMEM when the arena
 * could not be mapped, or -EINVAL when jansson refused the record. An exec
 * decision (op starts with "exec", "posix_spawn", "system" or "popen")
 * becomes a Process Activity record, everything else File System Activity. */
int tg_event_format(const struct tg_event *ev, const struct tg_proc *proc, char *buf, size_t cap);

/* Seeds jansson's hash function without opening /dev/urandom; call once at
 * start before any record is built. */
void tg_event_init(void);

#endif
