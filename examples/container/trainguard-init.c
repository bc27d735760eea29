/* trainguard-init: a container's PID 1 for a guarded job.
 *
 *   trainguard-init trainguard run [OPTIONS] -- CMD [ARGS...]
 *
 * A process that is PID 1 gets no signal it has not asked for, and it
 * inherits every orphan of the container. `trainguard run` as PID 1 would
 * let `docker stop`'s SIGTERM fall on the floor (the job is killed ten
 * seconds later, its checkpoint half written) and would never reap the
 * orphans of the job's children. This init runs its command (trainguard
 * run) as its only child, in a process group of its own that owns the
 * terminal; it forwards every signal it receives to the guarded job (the
 * children of trainguard run; trainguard run itself until the job has
 * started), reaps every process the container hands it, and exits with the
 * status of its command, which trainguard run makes the job's (128+N when
 * the job died of signal N). When it is not PID 1 it makes itself the
 * subreaper of what it starts, so the same holds under `docker run --init`
 * or in an image whose own entrypoint execs it. */
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Signals about the init itself, never forwarded (as tini does). */
static const int own_signals[] = {SIGFPE,  SIGILL, SIGSEGV, SIGBUS, SIGABRT,
				  SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU};

/* The parent pid in /proc/PID/stat, or -1. */
static pid_t parent_of(const char *pid)
{
	char path[300], buf[512];
	FILE *f;
	size_t n;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses. */
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* Sends SIG to the job: every child of MAIN, or MAIN while it has none. */
static void forward(pid_t main_pid, int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int sent = 0;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if (parent_of(e->d_name) == main_pid && kill(atoi(e->d_name), sig) == 0)
			sent++;
	}
	if (d)
		closedir(d);
	if (!sent)
		kill(main_pid, sig);
}

int main(int argc, char **argv)
{
	sigset_t all, old;
	pid_t main_pid;
	int status = 0;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr,
			"usage: trainguard-init trainguard run [OPTIONS] -- CMD [ARGS...]\n");
		return 125;
	}
	sigfillset(&all);
	for (size_t i = 0; i < sizeof(own_signals) / sizeof(own_signals[0]); i++)
		sigdelset(&all, own_signals[i]);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fprintf(stderr,
			"trainguard-init: cannot reap orphans (PR_SET_CHILD_SUBREAPER: %s); "
			"continuing\n",
			strerror(errno));

	main_pid = fork();
	if (main_pid < 0) {
		fprintf(stderr, "trainguard-init: fork: %s\n", strerror(errno));
		return 125;
	}
	if (main_pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* Its own process group, in the foreground of the terminal if
		 * there is one: a ^C reaches the job once, not through us too. */
		setpgid(0, 0);
		if (isatty(STDIN_FILENO)) {
			signal(SIGTTOU, SIG_IGN);
			tcsetpgrp(STDIN_FILENO, getpgrp());
			signal(SIGTTOU, SIG_DFL);
		}
		execvp(argv[1], argv + 1);
		int e = errno;
		fprintf(stderr, "trainguard-init: cannot run '%s': %s\n", argv[1], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			forward(main_pid, sig);
			continue;
		}
		/* Reap everything: the command and whatever was orphaned to us. */
		for (;;) {
			int st;
			pid_t pid = waitpid(-1, &st, WNOHANG);

			if (pid <= 0)
				break;
			if (pid == main_pid) {
				status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
				return status;
			}
		}
	}
}
