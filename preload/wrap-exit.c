/* The ways out that skip exit()'s handlers: _exit, _Exit, and a process
 * that kills itself (kill or raise with a signal that will end it, abort).
 * The guard's destructor would never write what it still holds, so each
 * writes the folded repeats and the stop record (with the exit status or
 * the signal) first (lifecycle.h), then calls the real one. Nothing here
 * allocates or takes a lock that could be held: these may be called from
 * a signal handler, and a vfork child calls _exit after a failed exec (it
 * writes nothing: its counts are its parent's). exit() and a return from
 * main reach the kernel through glibc's own _exit, not this one: the
 * destructor writes theirs. A signal from outside, or a crash, ends the
 * process with no call here: the guard installs no handler in the
 * program's place (SECURITY.md says what is lost). */
#undef _FILE_OFFSET_BITS
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lifecycle.h"
#include "protect-errno.h"
#include "real.h"
#include "self.h"

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

/* SIG, sent to this thread or process now, ends the process: SIGKILL, or a
 * signal neither blocked by this thread nor handled nor ignored whose
 * default action is to terminate. */
static bool ends_process(int sig)
{
	struct sigaction sa;
	sigset_t blocked;

	if (sig == SIGKILL)
		return true;
	/* Under the program's own seccomp filter the guard asks the kernel
	 * nothing more (real.h): only SIGKILL is known to end the process. */
	if (tg_frozen())
		return false;
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return false; /* ignored or stopping by default */
	}
	if (sig <= 0 || sig >= NSIG || sigaction(sig, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
		return false;
	return pthread_sigmask(SIG_BLOCK, NULL, &blocked) == 0 && !sigismember(&blocked, sig);
}

int kill(pid_t pid, int sig)
{
	TG_PROTECT_ERRNO;
	pid_t self = tg_self_pid_cached();

	/* This process, or its process group (0 or -pgid); -1 spares the caller. */
	if ((pid == self || pid == 0 || (pid < -1 && -pid == getpgrp())) && ends_process(sig))
		tg_life_stop("signal", -1, sig);
	return REAL(kill)(pid, sig);
}

int raise(int sig)
{
	TG_PROTECT_ERRNO;

	if (ends_process(sig))
		tg_life_stop("signal", -1, sig);
	return REAL(raise)(sig);
}

void abort(void)
{
	struct sigaction sa;

	/* abort() ends the process unless a SIGABRT handler leaves by longjmp
	 * or exit (which then write their own); with a handler that returns,
	 * the process ends with no stop record. */
	if (tg_frozen() || (sigaction(SIGABRT, NULL, &sa) == 0 &&
			    (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)))
		tg_life_stop("abort", -1, SIGABRT);
	REAL(abort)();
	for (;;)
		tg_sys(SYS_kill, tg_self_pid_cached(), SIGKILL);
}
