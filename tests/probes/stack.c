/* The guard's deep paths on small stacks (TAP): an open, an open through a
 * symlinked folder that is recorded (decided on the real path, the record
 * built), and a refused exec through a symlinked folder (exec decision,
 * resolution, record), each run on a 64 KiB thread stack and in clone()
 * children on a 32 KiB stack (a copy, and a vfork-like CLONE_VM child).
 * Each stack has a guard page below it: an overflow is a crash, not a
 * silent write into other memory.
 *
 * tg-stack LIBRARY: makes a folder and a policy, then runs itself again
 * under LIBRARY (the guard reads its policy at start) and removes the
 * folder when that run is done. tg-stack LIBRARY
 * --skip REASON says why it cannot run (a sanitizer build). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUARD 4096

static char dir[PATH_MAX];
static unsigned n_test, n_failed;

static void ok(int cond, const char *what)
{
	n_test++;
	if (!cond)
		n_failed++;
	printf("%sok %u - %s\n", cond ? "" : "not ", n_test, what);
	fflush(stdout);
}

static void path(char *out, const char *rel)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, rel);
	if (n < 0 || n >= PATH_MAX)
		abort();
}

/* The three calls; returns a bit per failure. */
static int deep_calls(void)
{
	char p[PATH_MAX];
	int bad = 0, fd;

	path(p, "real/f");
	fd = open(p, O_RDONLY);
	if (fd < 0)
		bad |= 1;
	else
		close(fd);
	path(p, "link/f");
	fd = open(p, O_RDONLY);
	if (fd < 0)
		bad |= 2;
	else
		close(fd);
	path(p, "binlink/script");
	char *argv[] = { p, NULL };
	execve(p, argv, environ);
	if (errno != EACCES)
		bad |= 4;
	return bad;
}

static void *on_thread(void *arg)
{
	*(int *)arg = deep_calls();
	return NULL;
}

static int in_clone(void *arg)
{
	_exit(deep_calls());
}

/* A stack of SIZE bytes with a guard page below it; returns its top. */
static char *small_stack(size_t size, void **base)
{
	char *m = mmap(NULL, size + GUARD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	if (m == MAP_FAILED)
		return NULL;
	mprotect(m, GUARD, PROT_NONE);
	*base = m;
	return m + GUARD + size;
}

static void report(int bad, const char *where)
{
	char what[256];

	snprintf(what, sizeof(what), "%s: an open", where);
	ok(bad >= 0 && !(bad & 1), what);
	snprintf(what, sizeof(what), "%s: a recorded open through a symlinked folder", where);
	ok(bad >= 0 && !(bad & 2), what);
	snprintf(what, sizeof(what), "%s: an exec refused through a symlinked folder (EACCES)",
		 where);
	ok(bad >= 0 && !(bad & 4), what);
}

static void clone_on(int flags, const char *where)
{
	void *base;
	char *top = small_stack(32 * 1024, &base);
	int st, bad = -1;

	if (!top) {
		report(-1, where);
		return;
	}
	pid_t pid = clone(in_clone, top, flags | SIGCHLD, NULL);
	if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		bad = WEXITSTATUS(st);
	else if (pid > 0 && WIFSIGNALED(st))
		printf("# %s: killed by signal %d\n", where, WTERMSIG(st));
	report(bad, where);
	munmap(base, 32 * 1024 + GUARD);
}

/* Lines of file REL holding NEEDLE. */
static int count_lines(const char *rel, const char *needle)
{
	char p[PATH_MAX], line[16384];
	int n = 0;

	path(p, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void cleanup(void)
{
	static const char *const files[] = { "link",       "binlink",    "real/f",
					     "bin/script", "policy.cfg", "log.jsonl" };
	char p[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path(p, files[i]);
		unlink(p);
	}
	path(p, "real");
	rmdir(p);
	path(p, "bin");
	rmdir(p);
	rmdir(dir);
}

static int inner(void)
{
	pthread_attr_t a;
	pthread_t t;
	void *base;
	int bad = -1;
	char *top = small_stack(64 * 1024, &base);

	pthread_attr_init(&a);
	if (top && pthread_attr_setstack(&a, (char *)base + GUARD, 64 * 1024) == 0 &&
	    pthread_create(&t, &a, on_thread, &bad) == 0)
		pthread_join(t, NULL);
	report(bad, "64 KiB thread");
	clone_on(0, "32 KiB clone child");
	clone_on(CLONE_VM | CLONE_VFORK, "32 KiB CLONE_VM|CLONE_VFORK child");
	ok(count_lines("log.jsonl", "\"noexec\"") == 3, "each refused exec was recorded");
	printf("1..%u\n", n_test);
	return n_failed ? 1 : 0;
}

static void write_file(const char *rel, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	path(p, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(p, mode);
}

int main(int argc, char **argv)
{
	char p[PATH_MAX], q[PATH_MAX], self[PATH_MAX];

	if (argc == 3 && strcmp(argv[1], "--inner") == 0) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		return inner();
	}
	if (argc == 4 && strcmp(argv[2], "--skip") == 0) {
		printf("1..0 # SKIP %s\n", argv[3]);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: tg-stack LIBRARY\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/tg-stack-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 2;
	path(p, "real");
	mkdir(p, 0755);
	path(p, "bin");
	mkdir(p, 0755);
	write_file("real/f", "data\n", 0644);
	write_file("bin/script", "#!/bin/sh\nexit 0\n", 0755);
	path(p, "real");
	path(q, "link");
	symlink(p, q);
	path(p, "bin");
	path(q, "binlink");
	symlink(p, q);
	char policy[3 * PATH_MAX];
	int pn = snprintf(
		policy, sizeof(policy),
		"version = 1;\n"
		"defaults = { read = \"allow\"; list = \"allow\"; exec = \"allow\"; write = \"allow\";\n"
		"  create = \"allow\"; delete = \"allow\"; chmod = \"allow\"; };\n"
		"rules = (\n"
		"  { id = \"audited\"; path = \"%s/real/**\"; allow = [\"read\"]; audit = true; },\n"
		"  { id = \"noexec\"; path = \"%s/bin/**\"; deny = [\"exec\"]; }\n"
		");\n",
		dir, dir);
	if (pn < 0 || (size_t)pn >= sizeof(policy))
		return 2;
	write_file("policy.cfg", policy, 0644);
	path(p, "policy.cfg");
	path(q, "log.jsonl");
	setenv("LD_PRELOAD", argv[1], 1);
	setenv("TRAINGUARD_POLICY", p, 1);
	setenv("TRAINGUARD_LOG", q, 1);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 2;
	self[n] = '\0';
	/* The guarded run cannot remove the guard's own log: the folder is
	 * cleaned up here, unguarded. */
	pid_t pid = fork();
	if (pid == 0) {
		execl(self, self, "--inner", dir, (char *)NULL);
		_exit(2);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		st = 2 << 8;
	unsetenv("LD_PRELOAD");
	cleanup();
	return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}
