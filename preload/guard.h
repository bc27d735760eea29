/* The guard core that every wrapper calls: real functions, re-entry, the
 * decision for one call, the log, and the saved environment for children.
 *
 * A wrapper does three things: decode its arguments, ask tg_check() (or
 * tg_check_rename()/tg_check_exec()), and call the real function. Nothing
 * here holds a lock across the real call or allocates on the program's
 * heap, and errno is what the real call left, or the deny errno. */
#ifndef TG_GUARD_H
#define TG_GUARD_H

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "tg-policy.h"
#include "wrap.h"

/* glibc declares these only under _FORTIFY_SOURCE. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* The next definition of every wrapped symbol (libc's, normally). */
struct tg_real {
#define X(name, family) __typeof__(name) *name;
	TG_WRAPPERS(X)
#undef X
	/* Used by the guard itself, never exported. */
	__typeof__(execvpe) *execvpe;
};
extern struct tg_real tg_real;

/* Resolves tg_real once; safe before the constructor ran. */
void tg_resolve(void);
#define REAL(name) (tg_resolve(), tg_real.name)

/* A decision in progress: the caller's errno is kept in it. */
struct tg_call {
	const char *op;
	int dirfd;
	const char *path;   /* as the program passed it */
	int flags;          /* open flags, or -1 */
	unsigned classes;
	int mode;           /* in: requested mode for a create, or -1; out: applied */
	bool is_dir;        /* a mkdir: create_mode adds search bits */
};

/* Returns true when the call must be decided: the guard is active and
 * this thread is not inside the guard already. Starts the guard if no
 * constructor ran yet. */
bool tg_enter(void);

/* Decides CALL. Returns 0 to let it through (CALL->mode may have been
 * narrowed by a create_mode), or -errno to refuse it; the record, the
 * kill and the counters are done here. */
int tg_check(struct tg_call *call);

/* rename/renameat/renameat2: delete at OLD, create (+ delete unless
 * NOREPLACE) at NEW, and EXDEV when NEW's rule grants what OLD's denies. */
int tg_check_rename(const char *op, int olddirfd, const char *oldpath, int newdirfd,
		    const char *newpath, unsigned flags);

/* exec and spawn: class exec on the program file PATH (already searched in
 * PATH by the caller). ARGV is recorded. */
int tg_check_exec(const char *op, const char *path, char *const argv[]);

/* The environment a child gets: ENVP without LD_PRELOAD and TRAINGUARD_*,
 * plus the values saved at start. Builds into BUF (CAP pointers); returns
 * BUF, or NULL when CAP is too small (the caller then asks for more).
 * No allocation: safe in a vfork child. */
char **tg_child_env(char *const envp[], char **buf, size_t cap);
/* Number of pointers tg_child_env needs for ENVP. */
size_t tg_child_env_size(char *const envp[]);

/* Sets errno and returns -1 (for int wrappers). */
int tg_fail(int err);

#endif
