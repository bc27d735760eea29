/* tg-stack: the guard's decisions on small stacks, for the integration
 * tests. A thread with a 64 KiB stack and a clone() child with a small
 * stack (CLONE-KIB) each run the same steps under the guard: an allowed open, a denied
 * open, an open through a symlink and through a symlinked folder (the
 * resolver's path), and three execs that run nothing: of a program whose
 * folder denies exec, of a script whose interpreter is there (both refused
 * by the exec check), and of an allowed file that is not a program (the
 * whole exec path, the child environment included, then ENOEXEC from the
 * kernel). Each stack is mapped with a
 * PROT_NONE page below it, so an overflow is a SIGSEGV, not a silent write
 * over someone else's memory.
 *
 * Usage: tg-stack CLONE-KIB ALLOWED DENIED LINK LINKED-DIR-FILE DENIED-PROGRAM SCRIPT JUNK
 * Prints "CONTEXT STEP ret=R errno=NAME" per step, then "CONTEXT done" or
 * "clone-child exit=N signal=S". */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUARD_PAGE 4096

static char **paths;
extern char **environ;

/* Writes with write(2): stdio buffers are shared with a CLONE_VM child. */
static void say(const char *ctx, const char *step, int ret, int err)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "%s %s ret=%d errno=%s\n", ctx, step, ret,
			 ret < 0 ? strerrorname_np(err) : "0");

	if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
		_exit(3);
}

static void open_step(const char *ctx, const char *step, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	int err = errno;

	say(ctx, step, fd < 0 ? -1 : 0, err);
	if (fd >= 0)
		close(fd);
}

static void exec_step(const char *ctx, const char *step, char *path)
{
	char *argv[] = { path, NULL };
	int r = execve(path, argv, environ);

	say(ctx, step, r, errno);
}

static void steps(const char *ctx)
{
	open_step(ctx, "open-allowed", paths[0], O_WRONLY | O_CREAT | O_APPEND);
	open_step(ctx, "open-denied", paths[1], O_WRONLY | O_APPEND);
	open_step(ctx, "open-symlink", paths[2], O_WRONLY | O_APPEND);
	open_step(ctx, "open-symlinked-dir", paths[3], O_WRONLY | O_APPEND);
	exec_step(ctx, "execve-denied", paths[4]);
	exec_step(ctx, "execve-script", paths[5]);
	exec_step(ctx, "execve-junk", paths[6]);
	say(ctx, "done", 0, 0);
}

static void *thread_main(void *arg)
{
	steps("thread");
	return arg;
}

static int clone_main(void *arg)
{
	steps("clone");
	return 0;
}

/* SIZE bytes of stack above a PROT_NONE page; returns its top. */
static char *stack_top(size_t size)
{
	char *p = mmap(NULL, size + GUARD_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	if (p == MAP_FAILED || mprotect(p, GUARD_PAGE, PROT_NONE) != 0)
		return NULL;
	return p + GUARD_PAGE + size;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t t;
	int st;

	if (argc != 9 || atoi(argv[1]) < 4) {
		fprintf(stderr, "usage: tg-stack CLONE-KIB ALLOWED DENIED LINK LINKED-DIR-FILE "
				"DENIED-PROGRAM SCRIPT JUNK\n");
		return 2;
	}
	size_t clone_kib = (size_t)atoi(argv[1]);
	paths = argv + 2;

	/* A 64 KiB thread stack: glibc puts its own guard page below it. */
	if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, 64 * 1024) != 0 ||
	    pthread_create(&t, &attr, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0) {
		fprintf(stderr, "tg-stack: cannot run the 64 KiB thread\n");
		return 2;
	}

	char *top = stack_top(clone_kib * 1024);
	if (!top) {
		fprintf(stderr, "tg-stack: cannot map the clone stack\n");
		return 2;
	}
	pid_t pid = clone(clone_main, top, CLONE_VM | SIGCHLD, NULL);
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		fprintf(stderr, "tg-stack: clone: %s\n", strerror(errno));
		return 2;
	}
	printf("clone-child exit=%d signal=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	       WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}
