/* openat2-shim.so: for bench/run's callgrind runs, never shipped.
 *
 * Valgrind 3.19 does not know openat2(2) and answers ENOSYS without
 * making the call. The guard would then take its path for kernels without
 * openat2 (every open resolved through /proc before it is decided), and
 * callgrind would measure that rather than the common path. Preloaded
 * right after libtrainguard.so, this syscall() is the one the guard finds
 * with dlsym(RTLD_NEXT): it makes openat2 an openat with the same flags
 * and mode, which valgrind knows. The resolve flags are dropped, so under
 * callgrind a symlink is not refused: the symlinked-root loader's slow
 * path shows in the system call counts, not in the instruction counts.
 * The shim's own instructions (about ten per call) are in the figures. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

/* Declared with six fixed arguments rather than "...": on x86-64 a
 * variadic caller passes them exactly where this reads them, and the shim
 * then adds only a compare and a call to what it measures. Not portable;
 * it need not be. */
typedef long (*syscall_fn)(long, ...);
long syscall(long n, long a, long b, long c, long d, long e, long f);

long syscall(long n, long a, long b, long c, long d, long e, long f)
{
	static syscall_fn real;

	if (__builtin_expect(!real, 0))
		real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	if (n == SYS_openat2) {
		const struct open_how *how = (const struct open_how *)c;
		return real(SYS_openat, a, b, (long)how->flags, (long)how->mode);
	}
	return real(n, a, b, c, d, e, f);
}
