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
#include <dlfcn.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <utime.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "tg-policy.h"
#include "wrap.h"

/* glibc declares these only under _FORTIFY_SOURCE, or no longer (the
 * pre-2.33 stat and mknod entry points older binaries still bind to). */
int __open_2(const char *path, int flags);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);
int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev);
int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* The next definition of every wrapped symbol (libc's, normally). */
struct tg_real {
#define X(name, family) __typeof__(name) *name;
	TG_WRAPPERS(X)
#undef X
};
extern struct tg_real tg_real;

/* Resolves tg_real once; safe before the constructor ran. The common
 * case costs one load and a branch. */
void tg_resolve(void);
/* The kernel's own entry, never the guard's syscall wrapper. */
#define tg_sys(...) (REAL(syscall)(__VA_ARGS__))

#define REAL(name) \
	(__builtin_expect(tg_real.name != NULL, 1) ? tg_real.name : (tg_resolve(), tg_real.name))

/* A decision in progress: the caller's errno is kept in it. */
struct tg_call {
	const char *op;
	int dirfd;
	const char *path;   /* as the program passed it */
	int flags;          /* open flags, or -1 */
	unsigned classes;
	int mode;           /* in: requested mode for a create, or -1; out: applied */
	bool is_dir;        /* a mkdir: create_mode adds search bits */
	bool nofollow;      /* the call acts on a last-component symlink itself */
};

/* Returns true when the call must be decided: the guard is active and
 * this thread is not inside the guard already. Starts the guard if no
 * constructor ran yet. */
bool tg_enter(void);

/* Decides CALL. Returns 0 to let it through (CALL->mode may have been
 * narrowed by a create_mode), or -errno to refuse it; the record, the
 * kill and the counters are done here. */
int tg_check(struct tg_call *call);

/* The open family: decides FLAGS on (DIRFD, PATH) and opens it so that
 * the kernel opens the object decided on (see resolve.c). Returns the
 * descriptor, -errno to refuse or report, or TG_REAL when the wrapper must
 * call the real function itself (guard inactive, O_PATH, no openat2, a
 * magic link). *MODE may be narrowed by create_mode. */
#define TG_REAL (-100000)
int tg_open(const char *op, int dirfd, const char *path, int flags, mode_t *mode);

/* This process's id, without a system call once the guard started. */
pid_t tg_pid(void);

/* True when CLASSES on (DIRFD, PATH) would be allowed with nothing to
 * record, and a file created with MODE (-1: none) nothing to narrow, on
 * the lexical path: the policy's verdict alone, no system call, no record.
 * False also when the guard is inactive. */
bool tg_quiet(int dirfd, const char *path, unsigned classes, int mode);

/* rename/renameat/renameat2: delete at OLD, create (+ delete unless
 * NOREPLACE) at NEW, and EXDEV when NEW's rule grants what OLD's denies. */
int tg_check_rename(const char *op, int olddirfd, const char *oldpath, int newdirfd,
		    const char *newpath, unsigned flags);

/* exec and spawn: class exec on the program file PATH (already searched in
 * PATH by the caller). ARGV is recorded. */
int tg_check_exec(const char *op, const char *path, char *const argv[]);

/* CLASSES on the file behind descriptor FD (fchmod, fdopendir, fexecve).
 * A descriptor that is no file in the tree (pipe, socket) passes. */
int tg_check_fd(const char *op, int fd, unsigned classes, int *mode);

/* link/symlink: create at NEW; for a HARD link also the refer rule against
 * the file OLD names (its last symlink followed with FOLLOW, as linkat's
 * AT_SYMLINK_FOLLOW does): EXDEV when NEW's rule grants what OLD's denies. */
int tg_check_link(const char *op, int olddirfd, const char *oldpath, int newdirfd,
		  const char *newpath, bool hard, bool follow);

/* The stat family: -ENOENT when a rule with errno ENOENT hides PATH from
 * reads (a hidden path must not show through stat either), else 0. With
 * EMPTY_PATH and "" the file is DIRFD itself. */
int tg_check_hidden(const char *op, int dirfd, const char *path, bool empty_path);

/* chmod and chown: class chmod on PATH (or FD when PATH is NULL), and, for
 * a chmod to MODE (-1 for chown), no bits beyond the create_mode of that
 * place and no set-id bits there. */
int tg_check_chmod(const char *op, int dirfd, const char *path, int fd, int mode);

/* The guard's log descriptor is the program's business never: close
 * reports EBADF for it, and dup2 onto it moves the log first. */
bool tg_is_log_fd(int fd);
void tg_log_fd_vacate(int fd);

/* The environment a child gets: ENVP without LD_PRELOAD and TRAINGUARD_*,
 * plus the values saved at start. Builds into BUF (CAP pointers); returns
 * BUF, or NULL when CAP is too small (the caller then asks for more).
 * No allocation: safe in a vfork child. */
char **tg_child_env(char *const envp[], char **buf, size_t cap);
/* Number of pointers tg_child_env needs for ENVP. */
size_t tg_child_env_size(char *const envp[]);

/* Puts LD_PRELOAD and the TRAINGUARD_* values saved at start back into
 * the process environment (for system and popen, whose child takes it). */
void tg_restore_environ(void);

/* True once the program installed a seccomp filter of its own (see
 * wrap-seccomp.c): the guard then makes no extra system call. */
extern _Atomic bool tg_syscalls_frozen;

/* Sets errno and returns -1 (for int wrappers). */
int tg_fail(int err);

#endif
