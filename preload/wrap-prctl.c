/* prctl and syscall, watched for a program's own seccomp filter:
 * prctl(PR_SET_SECCOMP) and the seccomp system call (libseccomp's
 * seccomp_load uses either). Once a filter is in
 * place the guard stops making system calls of its own on the allowed path
 * (openat2 probes, path resolution): a strict allow-list may kill the
 * process for any call it did not expect. Decisions then rest on the
 * lexical path, as SECURITY.md says. The guard freezes before the call
 * (the filter binds from the moment it is in) and thaws when the call
 * failed: a refused or malformed filter leaves the guard resolving paths
 * as before, so a failing prctl cannot switch its symlink checks off. */
#undef _FILE_OFFSET_BITS
#include <linux/seccomp.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "real.h"

int prctl(int option, ...)
{
	va_list ap;
	unsigned long a[4];

	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (option != PR_SET_SECCOMP)
		return REAL(prctl)(option, a[0], a[1], a[2], a[3]);
	bool was = atomic_exchange(&tg_syscalls_frozen, true);
	int r = REAL(prctl)(option, a[0], a[1], a[2], a[3]);
	if (r != 0 && !was)
		atomic_store(&tg_syscalls_frozen, false);
	return r;
}

long syscall(long number, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number != SYS_seccomp || a[0] != SECCOMP_SET_MODE_FILTER)
		return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
	bool was = atomic_exchange(&tg_syscalls_frozen, true);
	long r = REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
	/* Success is 0, or a descriptor with NEW_LISTENER; TSYNC's failure
	 * is the id of the thread that could not be synchronized. */
	bool failed = r < 0 || (r > 0 && !(a[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER));
	if (failed && !was)
		atomic_store(&tg_syscalls_frozen, false);
	return r;
}
