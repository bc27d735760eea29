/* wait, waitpid, wait3, wait4, waitid: a guarded parent reaping a child
 * that a signal ended (the OOM killer, a SIGKILL from outside, a crash)
 * writes a record saying so (lifecycle.h, Process Activity Terminate).
 * The child itself cannot: the guard installs no signal handler in the
 * program's place, so such a child leaves no stop record and loses the
 * repeats it was still folding, and this record is where a reviewer
 * learns that it ended and how. Nothing is decided; a status the program
 * did not ask for is read into a local. waitid with WNOWAIT leaves the
 * child to be reaped again, and writes nothing. */
#undef _FILE_OFFSET_BITS
#include <stddef.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "lifecycle.h"
#include "protect-errno.h"
#include "real.h"

static void reaped(pid_t pid, int status)
{
	TG_PROTECT_ERRNO;

	if (pid > 0 && WIFSIGNALED(status))
		tg_life_child_killed(pid, WTERMSIG(status), WCOREDUMP(status));
}

pid_t wait(int *status)
{
	int st = 0;
	pid_t r = REAL(wait)(status ? status : &st);

	reaped(r, status ? *status : st);
	return r;
}

pid_t waitpid(pid_t pid, int *status, int options)
{
	int st = 0;
	pid_t r = REAL(waitpid)(pid, status ? status : &st, options);

	reaped(r, status ? *status : st);
	return r;
}

pid_t wait3(int *status, int options, struct rusage *usage)
{
	int st = 0;
	pid_t r = REAL(wait3)(status ? status : &st, options, usage);

	reaped(r, status ? *status : st);
	return r;
}

pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
	int st = 0;
	pid_t r = REAL(wait4)(pid, status ? status : &st, options, usage);

	reaped(r, status ? *status : st);
	return r;
}

int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	int r = REAL(waitid)(idtype, id, info, options);
	TG_PROTECT_ERRNO;

	if (r == 0 && info && !(options & WNOWAIT) && info->si_pid > 0 &&
	    (info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED))
		tg_life_child_killed(info->si_pid, info->si_status, info->si_code == CLD_DUMPED);
	return r;
}
