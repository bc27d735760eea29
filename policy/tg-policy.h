/* The policy engine: libconfig text -> an immutable compiled policy -> a
 * verdict for (path, classes).
 *
 * Shared by libtrainguard.so and the trainguard command. Loading allocates
 * and may print nothing: every message goes to the caller's diagnostic
 * callback with file and line. Deciding never allocates, never makes a
 * system call and takes no lock, so it is safe on the hook path, in a vfork
 * child and in a signal handler. */
#ifndef TG_POLICY_H
#define TG_POLICY_H

#ifndef _GNU_SOURCE
#error "tg-policy.h needs _GNU_SOURCE (O_PATH, O_TMPFILE); the build defines it"
#endif
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Access classes, in the order records and `explain` list them. */
enum tg_class { TG_READ, TG_WRITE, TG_CREATE, TG_DELETE, TG_EXEC, TG_CHMOD, TG_LIST, TG_NCLASS };
#define TG_BIT(c) (1u << (c))
#define TG_ALL    ((1u << TG_NCLASS) - 1)

enum tg_mode { TG_ENFORCE, TG_AUDIT, TG_LEARN };

/* The kernel fence, per layer (policy keys fence.landlock, fence.seccomp;
 * fence/tg-fence.h): AUTO installs what the kernel supports and says what
 * it could not; REQUIRE fails when the layer cannot be installed in full;
 * OFF installs nothing. */
enum tg_fence_mode { TG_FENCE_AUTO, TG_FENCE_REQUIRE, TG_FENCE_OFF };

/* Ordered by strength: a tie between denies goes to the stronger one. */
enum tg_on_deny { TG_ON_DENY_QUIET, TG_ON_DENY_ERROR, TG_ON_DENY_KILL };

/* A rule's severity, numbered as OCSF's severity_id; UNSET lets the record
 * take the default (High for a deny). */
enum tg_severity {
	TG_SEVERITY_UNSET = 0,
	TG_SEVERITY_INFORMATIONAL = 1,
	TG_SEVERITY_LOW = 2,
	TG_SEVERITY_MEDIUM = 3,
	TG_SEVERITY_HIGH = 4,
	TG_SEVERITY_CRITICAL = 5,
};

/* The names used in policies, records and messages ("read", "enforce",
 * "kill"); NULL for an out-of-range value. */
const char *tg_class_name(enum tg_class c);
const char *tg_mode_name(enum tg_mode m);
const char *tg_fence_mode_name(enum tg_fence_mode m);
const char *tg_on_deny_name(enum tg_on_deny o);
/* "informational" ... "critical"; NULL for TG_SEVERITY_UNSET. */
const char *tg_severity_name(enum tg_severity s);
/* "EACCES" for EACCES, for the errnos a rule may name; NULL otherwise. */
const char *tg_errno_name(int e);
/* Parses a mode name; returns 0 and stores it, or -EINVAL. */
int tg_mode_parse(const char *s, enum tg_mode *ret);
/* The same for a fence mode ("auto", "require", "off"). */
int tg_fence_mode_parse(const char *s, enum tg_fence_mode *ret);
/* The same for a class ("read"; not "all") and an on_deny word. The words
 * are the ones the names above print: one table per enum. */
int tg_class_parse(const char *s, enum tg_class *ret);
int tg_on_deny_parse(const char *s, enum tg_on_deny *ret);
/* The symbolic name of any errno ("EFAULT"), as glibc's strerrorname_np
 * gives it, for records; NULL for 0, a negative or an unknown value. No
 * allocation: safe on the hook path. */
const char *tg_errno_symbol(int e);
/* "allow" or "deny", as policies (defaults) and messages spell a verdict. */
const char *tg_verdict_name(bool allow);
/* Writes the classes of MASK as "read,write" into BUF; returns BUF. */
const char *tg_classes_str(unsigned mask, char *buf, size_t bufsz);

/* The classes an open(2) with FLAGS asks for, from the flags alone
 * (POLICY.md "Which classes one call asks for"): O_CREAT asks create, and
 * write unless O_EXCL; O_WRONLY, O_RDWR, O_TRUNC, O_APPEND ask write;
 * O_RDONLY and O_RDWR ask read, or list with O_DIRECTORY; O_TMPFILE asks
 * create and write; O_PATH asks nothing. */
static inline unsigned tg_open_classes(int flags)
{
	int acc = flags & O_ACCMODE;
	unsigned c = 0;

	/* The common case, a plain open, is a table lookup. */
	if (!(flags & (O_PATH | O_CREAT | O_TMPFILE | O_TRUNC | O_APPEND | O_DIRECTORY)))
		return (TG_BIT(TG_READ) | TG_BIT(TG_WRITE) << 8 |
			(TG_BIT(TG_READ) | TG_BIT(TG_WRITE)) << 16) >>
			       (8 * acc) &
		       0xff;

	if (flags & O_PATH)
		return 0; /* a handle: no data can be read or written through it */
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return TG_BIT(TG_CREATE) | TG_BIT(TG_WRITE);
	if (flags & O_CREAT) {
		c |= TG_BIT(TG_CREATE);
		if (!(flags & O_EXCL))
			c |= TG_BIT(TG_WRITE);
	}
	if (acc == O_WRONLY || acc == O_RDWR || (flags & (O_TRUNC | O_APPEND)))
		c |= TG_BIT(TG_WRITE);
	if (acc == O_RDONLY || acc == O_RDWR)
		c |= (flags & O_DIRECTORY) ? TG_BIT(TG_LIST) : TG_BIT(TG_READ);
	return c;
}

/* One rule as loaded; owned by its policy. */
struct tg_rule {
	const char *id;
	const char *source;       /* file the rule came from ("profile:secrets" for shipped ones) */
	int line;                 /* line of the rule in SOURCE */
	const char *const *paths; /* patterns as written, variables expanded */
	size_t npaths;
	unsigned allow, deny; /* class masks; disjoint */
	int err;              /* errno returned on deny */
	enum tg_on_deny on_deny;
	enum tg_severity severity; /* of the records of its denies; UNSET: High */
	bool audit;
	int create_mode;    /* mask, or -1 when the rule sets none */
	const char *reason; /* may be NULL */
};

/* Built-in pseudo-rules: the defaults and the guard's self-protection. */
#define TG_RULE_SELF "builtin:self-protect"

/* The decision for one class. RULE is NULL when defaults.C decided. */
struct tg_class_verdict {
	bool allow;
	const struct tg_rule *rule;
	const char *pattern; /* the pattern of RULE that matched */
};

/* The decision for one call asking for several classes. */
struct tg_verdict {
	bool allow;                 /* every asked class allowed */
	enum tg_class cls;          /* the class that decided a deny (or the first asked) */
	const struct tg_rule *rule; /* rule that decided CLS; NULL for the default */
	const char *pattern;        /* pattern of RULE that matched */
	int err;                    /* errno for a deny */
	enum tg_on_deny on_deny;
	bool audit;      /* some deciding rule asks for lineage records */
	int create_mode; /* mask from the rule deciding TG_CREATE, or -1 */
	unsigned denied; /* mask of the asked classes that were denied */
};

struct tg_policy;

enum tg_diag_level { TG_DIAG_ERROR, TG_DIAG_WARNING, TG_DIAG_NOTE };
/* A message about a policy: "train.cfg:14: rule "x": unknown access class ..."
 * without a trailing newline. */
typedef void (*tg_diag_fn)(enum tg_diag_level level, const char *msg, void *ud);

/* Where variable values come from. */
struct tg_load_opts {
	const char *path;     /* policy file; NULL loads an embedded one: */
	const char *embedded; /* the shipped profile to load when PATH is NULL (NULL: ml-default) */
	/* Frozen variables of the job (the value of TRAINGUARD_VARS written by
	 * tg_policy_frozen_vars in the first process); when set, ${...} is taken
	 * from it and never from the environment. NULL: read the environment. */
	const char *frozen_vars;
	const char *job_id; /* value of ${JOB_ID}; NULL makes ${JOB_ID} an error */
	tg_diag_fn diag;
	void *diag_ud;
	bool errors_only; /* leave out checks that can only warn (the guard's start) */
	/* Leave the index to the caller's tg_policy_protect (the guard's start,
	 * which adds its own files next): the policy decides nothing before. */
	bool defer_index;
	/* Load into a region of its own, which a child can map at the same
	 * address instead of loading (tg_policy_region). */
	bool region;
};

/* Loads, validates and compiles a policy and everything it names. On
 * success stores the policy (free with tg_policy_free) in *RET and returns
 * 0; warnings may have been reported. On failure reports each error through
 * OPTS->diag and returns -EINVAL (bad policy), -ENOENT (file not found) or
 * -ENOMEM. */
int tg_policy_load(const struct tg_load_opts *opts, struct tg_policy **ret);
void tg_policy_free(struct tg_policy *p);

/* Handing a compiled policy to a child (region.c, docs/hot-path.md).
 *
 * A policy loaded with OPTS->region lives in one range of addresses, which
 * starts with TG_POLICY_HEAD bytes left to the caller (a header it fills
 * before writing the region). tg_policy_region gives that range (its size
 * in *RET_SIZE), or NULL when the policy has none or part of it spilled
 * out of it. */
#define TG_POLICY_HEAD 1024
void *tg_policy_region(const struct tg_policy *p, size_t *ret_size);
/* The number of aligned words of P's region that hold an address inside
 * another mapping of this process (the library, the heap, the stack: they
 * move from one process to the next), the memo's pointer left out; -errno
 * when it cannot tell. A region with any cannot be handed on. */
int tg_policy_region_scan(const struct tg_policy *p);
/* Writes P's region to FD (the memo left out: it is each process's own)
 * and maps this process's copy from FD, so that FD's file lives as long as
 * the process. No more is allocated in the region afterwards. Returns 0
 * or -errno (-EINVAL: no region to write). */
int tg_policy_region_write(struct tg_policy *p, int fd);
/* Makes P, the policy of a region of SIZE bytes the caller mapped at BASE
 * (the address it was written from), this process's: a memo of its own,
 * nothing more allocated in the region, tg_policy_free unmaps it. Returns
 * 0, -EINVAL (P is not that region's policy) or -ENOMEM. */
int tg_policy_adopt(void *base, size_t size, struct tg_policy *p);
/* 1 when every source P was loaded from still holds what was loaded (the
 * files read and hashed again: the digest must be P's), else 0. */
int tg_policy_sources_same(const struct tg_policy *p);

/* Settings the policy file gives (the guard applies overrides). */
enum tg_mode tg_policy_mode(const struct tg_policy *p);
bool tg_policy_lock_mode(const struct tg_policy *p);
/* The policy's fence.landlock and fence.seccomp (default TG_FENCE_AUTO). */
enum tg_fence_mode tg_policy_fence_landlock(const struct tg_policy *p);
enum tg_fence_mode tg_policy_fence_seccomp(const struct tg_policy *p);
const char *tg_policy_log_path(const struct tg_policy *p); /* NULL when unset */
bool tg_policy_log_allowed(const struct tg_policy *p);
/* log.digests: files touched under audit rules get their SHA-256 in the
 * records (default true; "none" turns it off). */
bool tg_policy_digests(const struct tg_policy *p);
/* log.digest_max: files larger are not hashed (bytes; 0: no limit). */
long long tg_policy_digest_max(const struct tg_policy *p);
/* exec_unguarded = "deny": refuse execs the guard cannot follow (set-id,
 * file capabilities, static or 32-bit programs); otherwise they are logged. */
bool tg_policy_deny_unguarded(const struct tg_policy *p);
const char *tg_policy_source(const struct tg_policy *p); /* "embedded:ml-default" or the file */
const char *
tg_policy_sha256(const struct tg_policy *p); /* hex digest of every loaded file, in load order */
/* Files the policy was read from (the guard never lets the job modify them). */
size_t tg_policy_nfiles(const struct tg_policy *p);
const char *tg_policy_file(const struct tg_policy *p, size_t i);
size_t tg_policy_nrules(const struct tg_policy *p);
/* True when some rule denies read with ENOENT (hides paths). */
bool tg_policy_hides(const struct tg_policy *p);
const struct tg_rule *tg_policy_rule(const struct tg_policy *p, size_t i);

/* The variables this load expanded, as the TRAINGUARD_VARS value children
 * inherit (NAME=percent-encoded-value;...). Owned by the policy. */
const char *tg_policy_frozen_vars(const struct tg_policy *p);

/* Marks the N PATHS (absolute, normalized; NULL entries are skipped) as
 * belonging to the guard: no class but read may be granted on them,
 * whatever the rules say. Called at start for the log file and the
 * library; the policy's own files are protected already. Returns 0 or
 * -ENOMEM. Not thread-safe: call before deciding starts. */
int tg_policy_protect(struct tg_policy *p, const char *const *paths, size_t n);

/* Turns the memo of verdicts by folder on (the default) or off. Off, every
 * decision walks the index: for measuring the matcher itself, and for
 * ruling the memo out when a verdict looks wrong. Not thread-safe: call
 * before deciding starts. */
void tg_policy_set_memo(struct tg_policy *p, bool on);

/* Decides an access asking for CLASSES on the normalized absolute PATH of
 * LEN bytes. Never fails; no allocation, no system call, no lock. */
void tg_decide(const struct tg_policy *p, const char *path, size_t len, unsigned classes,
	       struct tg_verdict *ret);

/* tg_decide for a path as the program gave it, when the memo of verdicts
 * by folder has PATH's folder: PATH (LEN bytes) is absolute, maybe not
 * normalized. Returns true when it was normalized after all and RET holds
 * its verdict; false: normalize PATH and decide with tg_decide. No
 * allocation, no system call, no lock. */
bool tg_decide_memo(const struct tg_policy *p, const char *path, size_t len, unsigned classes,
		    struct tg_verdict *ret);

/* The same for entry NAME (NLEN bytes, one name: no slash, not "." or
 * "..") of the normalized folder DIR (DIRLEN bytes, ending in its slash),
 * without joining them: a name relative to the working directory. */
bool tg_decide_memo_in(const struct tg_policy *p, const char *dir, size_t dirlen, const char *name,
		       size_t nlen, unsigned classes, struct tg_verdict *ret);
/* The same for the string NAME (NUL-terminated), which may be anything:
 * false unless it is one plain name. */
bool tg_decide_memo_name(const struct tg_policy *p, const char *dir, size_t dirlen,
			 const char *name, unsigned classes, struct tg_verdict *ret);

/* Every rule matching PATH for class C, most specific first, with the one
 * that decides marked; for `trainguard explain`. Calls FN per match.
 * DECIDES is true for the deciding rule. */
typedef void (*tg_explain_fn)(const struct tg_rule *r, const char *pattern, bool decides,
			      bool allow, void *ud);
void tg_explain(const struct tg_policy *p, const char *path, size_t len, enum tg_class c,
		tg_explain_fn fn, void *ud);

/* The default for class C (true = allow), and the classes whose default
 * the policy or one of its profiles set (the others are allowed). */
bool tg_policy_default(const struct tg_policy *p, enum tg_class c);
unsigned tg_policy_defaults_named(const struct tg_policy *p);

/* The embedded copy of a shipped profile, or NULL ("ml-default", "base", ...). */
const char *tg_profile_text(const char *name);

/* ---- For the command: explain and check (expand.c, lint.c) ---- */

/* Expands TEXT as a rule's pattern is expanded: a leading "~" is ${HOME},
 * ${NAME} a built-in variable or one of the `vars` of the policy file
 * OPTS->path, ${ENV:NAME} the environment or OPTS->frozen_vars. Stores a
 * new string (the caller frees it) in *RET and returns 0; or returns
 * -EINVAL with a one-line message in ERR (ERRSZ bytes), -ENOENT when the
 * policy file cannot be read, -ENOMEM. */
int tg_policy_expand(const struct tg_load_opts *opts, const char *text, char **ret, char *err,
		     size_t errsz);

/* The frozen variables FROZEN (as tg_policy_frozen_vars gives them; NULL:
 * none) with NAME ("HOME", "ENV:DATA") set to VALUE, as a new string the
 * caller frees in *RET. Returns 0 or -ENOMEM. */
int tg_frozen_vars_set(const char *frozen, const char *name, const char *value, char **ret);

/* What `trainguard check` warns about beyond the loader's messages:
 * TG_LINT_SECRET  an allow reopens what a rule of the secrets profile denies;
 * TG_LINT_SHADOWS an allow is more specific than a deny of the same class
 *                 and wins over it on some path;
 * TG_LINT_SHADOWED a deny is more specific than an allow and wins over it.
 * Found by deciding a sample path of every pattern (its literal part, and
 * one instance of its wildcards) of both policies. */
enum tg_lint_kind { TG_LINT_SECRET, TG_LINT_SHADOWS, TG_LINT_SHADOWED };
struct tg_lint {
	enum tg_lint_kind kind;
	const struct tg_rule *allow, *deny;
	const char *allow_pattern, *deny_pattern; /* as expanded */
	size_t allow_index, deny_index;           /* of those patterns in the rules' paths */
	unsigned classes;                         /* allowed by ALLOW and denied by DENY */
	const char *path;                         /* a path where ALLOW decides (or DENY) */
};
typedef void (*tg_lint_fn)(const struct tg_lint *l, void *ud);
/* Calls FN once per (kind, allow rule, deny rule), in rule order. Only
 * allows of rules the user wrote are examined (not shipped profiles').
 * The secrets rules are P's own when P names the profile; SECRETS is the
 * profile loaded alone, for a policy that does not (may be NULL).
 * Returns 0 or -ENOMEM. */
int tg_policy_lint(const struct tg_policy *p, const struct tg_policy *secrets, tg_lint_fn fn,
		   void *ud);

/* The patterns of rule R as written in its source, before variables were
 * expanded ("~/.aws/credentials", "${DATA}/x"): a new string the caller frees, or
 * NULL when the source cannot be read again. K indexes R->paths. */
char *tg_rule_typed_pattern(const struct tg_rule *r, size_t k);

/* A read-only view of the compiled alternatives, for tools that translate
 * the policy into another enforcement layer (fence/: Landlock). Every
 * brace-free alternative of every rule is one entry, the canonical form of
 * a pattern (its literal folders resolved) as well as the form written,
 * and the guard's own protections (TG_RULE_SELF: the policy files, and the
 * paths given to tg_policy_protect) too. */
enum tg_pattern_kind {
	TG_PATTERN_EXACT, /* LIT is exactly the path */
	TG_PATTERN_TREE,  /* LIT and everything beneath it ("" is the root) */
	TG_PATTERN_GLOB,  /* a glob whose matches all start with LIT */
};
struct tg_pattern_view {
	const struct tg_rule *rule; /* allow and deny masks; owned by the policy */
	enum tg_pattern_kind kind;
	const char *lit; /* literal prefix, escapes removed; not NUL-terminated */
	size_t litlen;
	unsigned prefix, wildcards; /* specificity, as the matcher ranks it */
	/* For a glob whose wildcards all lie in its last name, with a trailing
	 * slash-star-star or not ("/etc/shadow*", "/etc/cron*" + tree): that
	 * name's glob (match a bare name with tg_glob_match), the length of
	 * the literal folder it lies in (0: the root) and whether everything
	 * beneath a match matches too. NAME_GLOB is NULL for other patterns. */
	const struct tg_glob *name_glob;
	size_t folder_len;
	bool tree;
};
/* The first rule, in pattern order, that denies anything and whose
 * literal prefix lies strictly below the folder PATH (N bytes, absolute,
 * normalized; "/" is the root): what renaming PATH away would take along.
 * NULL when there is none. A binary search, whatever the rule count. */
const struct tg_rule *tg_policy_rule_below(const struct tg_policy *p, const char *path, size_t n);

size_t tg_policy_npatterns(const struct tg_policy *p);
/* Fills *RET for alternative I (< tg_policy_npatterns). */
void tg_policy_pattern(const struct tg_policy *p, size_t i, struct tg_pattern_view *ret);

#endif
