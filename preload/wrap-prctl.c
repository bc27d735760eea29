/* prctl and syscall, watched for a program's own seccomp filter:
 * prctl(PR_SET_SECCOMP) and the seccomp system call (libseccomp's
 * seccomp_load uses either). Once a filter is in
 * place the guard stops making system calls of its own on the allowed path
 * (openat2 probes, path resolution): a strict allow-list may kill the
 * process for any call it did not expect. Decisions then rest on the
 * lexical path, as SECURITY.md says. */
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
	if (option == PR_SET_SECCOMP)
		atomic_store(&tg_syscalls_frozen, true);
	return REAL(prctl)(option, a[0], a[1], a[2], a[3]);
}

long syscall(long number, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_seccomp && a[0] == SECCOMP_SET_MODE_FILTER)
		atomic_store(&tg_syscalls_frozen, true);
	return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
