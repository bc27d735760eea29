/* _exit and _Exit: the process leaves without running exit()'s handlers,
 * so the guard's destructor would never write what it still holds. Each
 * writes the folded repeats and the stop record with the exit status
 * first (lifecycle.h), then calls the real one. Nothing here allocates or
 * takes a lock that could be held: both may be called from a signal
 * handler, and a vfork child calls _exit after a failed exec (it writes
 * nothing: its counts are its parent's). exit() and a return from main
 * reach the kernel through glibc's own _exit, not this one: the destructor
 * writes theirs. */
#undef _FILE_OFFSET_BITS
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lifecycle.h"
#include "real.h"

static _Noreturn void leave(const char *how, int status, void (*real)(int))
{
	tg_life_stop(how, status & 0xff, 0);
	if (real)
		real(status);
	for (;;)
		tg_sys(SYS_exit_group, status);
}

void _exit(int status)
{
	leave("_exit", status, REAL(_exit));
}

void _Exit(int status)
{
	leave("_Exit", status, REAL(_Exit));
}
