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
	X(posix_spawnp, exec)

#endif
