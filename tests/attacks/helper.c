/* Test helper for what Python cannot do: run under a strict seccomp filter
 * of its own, open from a clone() child with a 16 KiB stack. Prints one
 * line per step: "STEP ret=N errno=E". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *step, int r)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s ret=%d errno=%d\n", step, r < 0 ? -1 : 0,
			 r < 0 ? errno : 0);
	if (write(1, line, n) < 0)
		_exit(3);
}

/* Only what this helper itself needs: the guard may add nothing. */
static int strict_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int calls[] = { SCMP_SYS(openat),       SCMP_SYS(read),       SCMP_SYS(write),
			SCMP_SYS(close),        SCMP_SYS(exit_group), SCMP_SYS(exit),
			SCMP_SYS(rt_sigreturn), SCMP_SYS(mmap),       SCMP_SYS(munmap),
			SCMP_SYS(brk),          SCMP_SYS(fstat),      SCMP_SYS(newfstatat),
			SCMP_SYS(clock_gettime) };
	if (!ctx)
		return -1;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0) < 0)
			return -1;
	int r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static const char *clone_path;

static int clone_child(void *arg)
{
	(void)arg;
	int fd = open(clone_path, O_WRONLY | O_APPEND);
	return fd < 0 ? errno : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "seccomp") == 0) {
		/* argv[2]: a file to read (allowed), argv[3]: one to write (denied) */
		if (strict_seccomp() < 0) {
			fprintf(stderr, "helper: cannot install the filter\n");
			return 2;
		}
		int fd = open(argv[2], O_RDONLY);
		report("read-allowed", fd);
		if (fd >= 0)
			close(fd);
		report("write-denied", open(argv[3], O_WRONLY | O_APPEND));
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "no-openat2") == 0) {
		/* Runs argv[2..] where openat2 fails with ENOSYS, as on a kernel
		 * before 5.6 or under a container profile that lacks it. */
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (!ctx ||
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) < 0 ||
		    seccomp_load(ctx) < 0) {
			fprintf(stderr, "helper: cannot install the filter\n");
			return 2;
		}
		seccomp_release(ctx);
		execvp(argv[2], argv + 2);
		perror("helper: exec");
		return 127;
	}
	if (argc == 3 && strcmp(argv[1], "clone-small-stack") == 0) {
		static char stack[16 * 1024] __attribute__((aligned(16)));
		clone_path = argv[2];
		pid_t pid = clone(clone_child, stack + sizeof(stack), SIGCHLD | CLONE_VM, NULL);
		int st = 0;
		if (pid < 0 || waitpid(pid, &st, 0) < 0)
			return 2;
		printf("clone-child exit=%d signaled=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
		       WIFSIGNALED(st));
		return 0;
	}
	fprintf(stderr, "usage: helper seccomp READ WRITE | helper clone-small-stack PATH | "
			"helper no-openat2 COMMAND...\n");
	return 2;
}
