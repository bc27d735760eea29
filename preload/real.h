/* The real functions and the raw system calls: what the guard calls
 * underneath every wrapper.
 *
 * tg_real holds the next definition of every wrapped symbol (libc's,
 * normally), resolved once with dlsym(RTLD_NEXT); REAL(name) is one load and
 * a branch. tg_sys() enters the kernel directly, never through the guard's
 * own syscall() wrapper. tg_syscalls_frozen says the program installed a
 * seccomp filter of its own, after which the guard adds no system call. */
#ifndef TG_REAL_H
#define TG_REAL_H

#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

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
/* glibc's internal aliases, exported and reachable with dlsym
 * (ctypes.CDLL(None).__open64): wrapped like the names they alias. */
int __open(const char *path, int flags, ...);
int __open64(const char *path, int flags, ...);
int __open_nocancel(const char *path, int flags, ...);
int __open64_nocancel(const char *path, int flags, ...);
ssize_t __write(int fd, const void *buf, size_t n);
ssize_t __write_nocancel(int fd, const void *buf, size_t n);
ssize_t __pwrite64(int fd, const void *buf, size_t n, off64_t off);
ssize_t __libc_pwrite(int fd, const void *buf, size_t n, off64_t off);
int __libc_system(const char *cmd);

/* The next definition of every wrapped symbol. */
struct tg_real {
#define X(name, family) __typeof__(name) *name;
	TG_WRAPPERS(X)
#undef X
};
extern struct tg_real tg_real;

/* Resolves tg_real once; safe before the constructor ran. */
void tg_resolve(void);

#define REAL(name) \
	(__builtin_expect(tg_real.name != NULL, 1) ? tg_real.name : (tg_resolve(), tg_real.name))

/* The kernel's own entry: -1 and errno, as syscall(2). */
#define tg_sys(...) (REAL(syscall)(__VA_ARGS__))

/* Set once the program installs a seccomp filter of its own (see
 * wrap-prctl.c): from then on the guard makes no system call beyond the
 * one the program asked for, since the filter may kill for any other. */
extern _Atomic bool tg_syscalls_frozen;

static inline bool tg_frozen(void)
{
	return atomic_load_explicit(&tg_syscalls_frozen, memory_order_relaxed);
}

/* Sets errno and returns -1: the libc convention, for the wrappers. */
static inline int tg_fail(int err)
{
	errno = err;
	return -1;
}

#endif
