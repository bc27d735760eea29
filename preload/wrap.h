/* The wrapper table: every libc symbol libtrainguard.so interposes.
 *
 * One line per symbol: TG_WRAP(name, family). The line gives the real
 * function's pointer (resolved once with dlsym(RTLD_NEXT)), the exported
 * symbol (preload/gen-map.py turns this table into the version script, so
 * the library exports exactly these names) and the family file
 * (preload/wrap-<family>.c) that holds the wrapper body. Adding an entry
 * point is this one line plus one short wrapper. */
#ifndef TG_WRAP_H
#define TG_WRAP_H

#define TG_WRAPPERS(X)            \
	X(open, open)             \
	X(open64, open)           \
	X(openat, open)           \
	X(openat64, open)         \
	X(__open_2, open)         \
	X(__open64_2, open)       \
	X(__openat_2, open)       \
	X(__openat64_2, open)     \
	X(creat, open)            \
	X(creat64, open)          \
	X(fopen, stdio)           \
	X(fopen64, stdio)         \
	X(freopen, stdio)         \
	X(freopen64, stdio)       \
	X(mkstemp, temp)          \
	X(mkstemp64, temp)        \
	X(mkostemp, temp)         \
	X(mkostemp64, temp)       \
	X(mkstemps, temp)         \
	X(mkstemps64, temp)       \
	X(mkostemps, temp)        \
	X(mkostemps64, temp)      \
	X(mkdtemp, temp)          \
	X(tmpfile, temp)          \
	X(tmpfile64, temp)        \
	X(unlink, ns)             \
	X(unlinkat, ns)           \
	X(remove, ns)             \
	X(rmdir, ns)              \
	X(mkdir, ns)              \
	X(mkdirat, ns)            \
	X(rename, ns)             \
	X(renameat, ns)           \
	X(renameat2, ns)          \
	X(execve, exec)           \
	X(execv, exec)            \
	X(execvp, exec)           \
	X(posix_spawn, exec)      \
	X(posix_spawnp, exec)     \
	X(execvpe, exec)          \
	X(execl, exec)            \
	X(execlp, exec)           \
	X(execle, exec)           \
	X(fexecve, exec)          \
	X(execveat, exec)         \
	X(system, exec)           \
	X(popen, exec)            \
	X(fdopen, stdio)          \
	X(write, write)           \
	X(pwrite, write)          \
	X(pwrite64, write)        \
	X(writev, write)          \
	X(pwritev, write)         \
	X(pwritev64, write)       \
	X(pwritev2, write)        \
	X(pwritev64v2, write)     \
	X(ftruncate, write)       \
	X(ftruncate64, write)     \
	X(fallocate, write)       \
	X(fallocate64, write)     \
	X(posix_fallocate, write) \
	X(posix_fallocate64, write) \
	X(copy_file_range, write) \
	X(sendfile, write)        \
	X(sendfile64, write)      \
	X(close, fd)              \
	X(dup2, fd)               \
	X(dup3, fd)               \
	X(close_range, fd)        \
	X(closefrom, fd)          \
	X(truncate, attr)         \
	X(truncate64, attr)       \
	X(chmod, attr)            \
	X(fchmod, attr)           \
	X(fchmodat, attr)         \
	X(lchmod, attr)           \
	X(chown, attr)            \
	X(fchown, attr)           \
	X(lchown, attr)           \
	X(fchownat, attr)         \
	X(link, link)             \
	X(linkat, link)           \
	X(symlink, link)          \
	X(symlinkat, link)        \
	X(mknod, link)            \
	X(mknodat, link)          \
	X(mkfifo, link)           \
	X(mkfifoat, link)         \
	X(__xmknod, link)         \
	X(__xmknodat, link)       \
	X(opendir, dir)           \
	X(fdopendir, dir)         \
	X(scandir, dir)           \
	X(scandir64, dir)         \
	X(scandirat, dir)         \
	X(scandirat64, dir)       \
	X(stat, stat)             \
	X(stat64, stat)           \
	X(lstat, stat)            \
	X(lstat64, stat)          \
	X(fstatat, stat)          \
	X(fstatat64, stat)        \
	X(statx, stat)            \
	X(access, stat)           \
	X(faccessat, stat)        \
	X(__xstat, stat)          \
	X(__xstat64, stat)        \
	X(__lxstat, stat)         \
	X(__lxstat64, stat)       \
	X(__fxstatat, stat)       \
	X(__fxstatat64, stat)     \
	X(dlopen, dl)             \
	X(chdir, cwd)             \
	X(fchdir, cwd)

#endif
