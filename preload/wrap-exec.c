/* exec and spawn: execve, execv, execvp, execvpe, execl, execlp, execle,
 * fexecve, execveat, posix_spawn, posix_spawnp, system, popen.
 *
 * Each is decided as class exec on the program file (searched in PATH for
 * the p forms, as libc will search it), and each child gets LD_PRELOAD and
 * the TRAINGUARD_* settings saved at start, whatever the environment it was
 * given. Python's subprocess runs execv in a vfork child: nothing here
 * allocates; a large environment is copied into an anonymous mapping. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"

extern char **environ;

#define STACK_ENV 256

/* The child's environment in STACK (STACK_ENV pointers) or in a mapping
 * stored in *MAP (unmapped by env_done). */
static char **env_for(char *const envp[], char **stack, void **map, size_t *maplen)
{
	size_t need = tg_child_env_size(envp);

	*map = NULL;
	if (need <= STACK_ENV)
		return tg_child_env(envp, stack, STACK_ENV);
	*maplen = need * sizeof(char *);
	*map = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return NULL;
	}
	return tg_child_env(envp, *map, need);
}

static void env_done(void *map, size_t maplen)
{
	if (map)
		munmap(map, maplen);
}

/* The file execvp/posix_spawnp will run for FILE: FILE itself when it
 * holds a '/', else the first executable PATH entry (into BUF). NULL when
 * none is found (libc then fails with ENOENT itself). */
static const char *search(const char *file, char *buf, size_t cap)
{
	if (!file || !*file || strchr(file, '/'))
		return file;
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	size_t flen = strlen(file);
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = end - p;
		if (dlen == 0) {
			/* An empty entry means the working directory. */
			if (flen + 1 < cap) {
				memcpy(buf, file, flen + 1);
				if (access(buf, X_OK) == 0)
					return buf;
			}
		} else if (dlen + 1 + flen + 1 <= cap) {
			memcpy(buf, p, dlen);
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, file, flen + 1);
			if (access(buf, X_OK) == 0)
				return buf;
		}
		if (!*end)
			return NULL;
		p = end;
	}
}

/* How exec_with reaches the kernel. */
enum how { VIA_EXECVE, VIA_EXECVPE, VIA_FEXECVE, VIA_EXECVEAT };

struct target {
	enum how how;
	const char *file; /* execvpe: the name to search */
	int fd;           /* fexecve, execveat */
	int flags;        /* execveat */
};

static int exec_with_checked(const char *path, char *const argv[], char *const envp[],
			     const struct target *t);

static int exec_with(const char *op, const char *path, char *const argv[], char *const envp[],
		     const struct target *t)
{
	int r = path ? tg_check_exec(op, path, argv) : 0;

	if (r < 0)
		return tg_fail(-r);
	return exec_with_checked(path, argv, envp, t);
}

/* Runs the decided exec with the child's environment. */
static int exec_with_checked(const char *path, char *const argv[], char *const envp[],
			     const struct target *t)
{
	char *stack[STACK_ENV];
	void *map;
	size_t maplen = 0;
	int r;
	char **env = env_for(envp, stack, &map, &maplen);
	if (!env)
		return tg_fail(ENOMEM);
	switch (t ? t->how : VIA_EXECVE) {
	case VIA_EXECVPE:
		r = REAL(execvpe)(t->file, argv, env);
		break;
	case VIA_FEXECVE:
		r = REAL(fexecve)(t->fd, argv, env);
		break;
	case VIA_EXECVEAT:
		r = REAL(execveat)(t->fd, path, argv, env, t->flags);
		break;
	default:
		r = REAL(execve)(path, argv, env);
	}
	int e = errno;
	env_done(map, maplen);
	errno = e;
	return r;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	return exec_with("execve", path, argv, envp, NULL);
}

int execv(const char *path, char *const argv[])
{
	return exec_with("execv", path, argv, environ, NULL);
}

int execvp(const char *file, char *const argv[])
{
	char buf[PATH_MAX];
	const char *path = search(file, buf, sizeof(buf));
	if (!path)
		return REAL(execvp)(file, argv); /* libc reports ENOENT */
	struct target t = { .how = VIA_EXECVPE, .file = file };
	return exec_with("execvp", path, argv, environ, &t);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	char buf[PATH_MAX];
	const char *path = search(file, buf, sizeof(buf));
	if (!path)
		return REAL(execvpe)(file, argv, envp);
	struct target t = { .how = VIA_EXECVPE, .file = file };
	return exec_with("execvpe", path, argv, envp, &t);
}

/* The execl forms: their arguments become an argv on the stack (no
 * allocation: they may run in a vfork child). */
#define ARGV_FROM_VA(arg0, argv)                                           \
	size_t n_ = 1;                                                     \
	va_list ap_;                                                       \
	va_start(ap_, arg0);                                               \
	while (va_arg(ap_, char *))                                        \
		n_++;                                                      \
	va_end(ap_);                                                       \
	char *argv[n_ + 1];                                                \
	argv[0] = (char *)arg0;                                            \
	va_start(ap_, arg0);                                               \
	for (size_t i_ = 1; i_ <= n_; i_++)                                \
		argv[i_] = va_arg(ap_, char *)

int execl(const char *path, const char *arg0, ...)
{
	ARGV_FROM_VA(arg0, argv);
	va_end(ap_);
	return exec_with("execl", path, argv, environ, NULL);
}

int execle(const char *path, const char *arg0, ...)
{
	ARGV_FROM_VA(arg0, argv);
	char **envp = va_arg(ap_, char **); /* after the NULL that ends argv */
	va_end(ap_);
	return exec_with("execle", path, argv, envp, NULL);
}

int execlp(const char *file, const char *arg0, ...)
{
	char buf[PATH_MAX];
	ARGV_FROM_VA(arg0, argv);
	va_end(ap_);
	const char *path = search(file, buf, sizeof(buf));
	if (!path)
		return REAL(execvp)(file, argv);
	struct target t = { .how = VIA_EXECVPE, .file = file };
	return exec_with("execlp", path, argv, environ, &t);
}

/* fexecve and execveat with AT_EMPTY_PATH run an open descriptor: decided
 * on the file behind it. */
int fexecve(int fd, char *const argv[], char *const envp[])
{
	int r = tg_check_fd("fexecve", fd, TG_BIT(TG_EXEC), NULL);
	if (r < 0)
		return tg_fail(-r);
	struct target t = { .how = VIA_FEXECVE, .fd = fd };
	return exec_with("fexecve", NULL, argv, envp, &t);
}

int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	int r;
	if (path && !*path && (flags & AT_EMPTY_PATH)) {
		r = tg_check_fd("execveat", dirfd, TG_BIT(TG_EXEC), NULL);
	} else {
		struct tg_call c = { .op = "execveat", .dirfd = dirfd, .path = path, .flags = -1,
				     .classes = TG_BIT(TG_EXEC), .mode = -1 };
		r = tg_check(&c);
	}
	if (r < 0)
		return tg_fail(-r);
	struct target t = { .how = VIA_EXECVEAT, .fd = dirfd, .flags = flags };
	return exec_with_checked(path, argv, envp, &t);
}

/* posix_spawn returns an error number and leaves errno alone. */
static int spawn_with(const char *op, pid_t *pid, const char *path, const char *file,
		      const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
		      char *const argv[], char *const envp[])
{
	char *stack[STACK_ENV];
	void *map;
	size_t maplen = 0;
	int saved = errno;
	int r = tg_check_exec(op, path, argv);

	if (r < 0) {
		errno = saved;
		return -r;
	}
	char **env = env_for(envp ? envp : environ, stack, &map, &maplen);
	if (!env) {
		errno = saved;
		return ENOMEM;
	}
	if (file)
		r = REAL(posix_spawnp)(pid, file, fa, attr, argv, env);
	else
		r = REAL(posix_spawn)(pid, path, fa, attr, argv, env);
	env_done(map, maplen);
	errno = saved;
	return r;
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn_with("posix_spawn", pid, path, NULL, fa, attr, argv, envp);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	char buf[PATH_MAX];
	const char *path = search(file, buf, sizeof(buf));
	if (!path)
		return REAL(posix_spawnp)(pid, file, fa, attr, argv, envp);
	return spawn_with("posix_spawnp", pid, path, file, fa, attr, argv, envp);
}

/* system and popen run "/bin/sh -c CMD" through libc's internal spawn with
 * the process's own environment. The shell is decided as an exec, and the
 * guard's variables are put back into the environment first if the
 * program removed or changed them (the only way to reach that child). */
static int shell_check(const char *op, const char *cmd)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	int r = tg_check_exec(op, "/bin/sh", argv);
	if (r == 0)
		tg_restore_environ();
	return r;
}

int system(const char *cmd)
{
	if (!cmd)
		return REAL(system)(cmd); /* "is there a shell?" */
	int r = shell_check("system", cmd);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return REAL(system)(cmd);
}

FILE *popen(const char *cmd, const char *mode)
{
	int r = cmd ? shell_check("popen", cmd) : 0;
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return REAL(popen)(cmd, mode);
}

/* A file action opens its file inside the spawn, where no wrapper runs:
 * it is decided when it is added, on the path as the program names it
 * now, and a create_mode narrows its mode there. */
int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd, const char *path,
				     int oflag, mode_t mode)
{
	bool creat = (oflag & O_CREAT) || (oflag & O_TMPFILE) == O_TMPFILE;
	struct tg_call c = { .op = "posix_spawn_file_actions_addopen", .dirfd = AT_FDCWD,
			     .path = path, .flags = oflag, .classes = tg_open_classes(oflag),
			     .mode = creat ? (int)(mode & 07777) : -1,
			     .nofollow = (oflag & O_NOFOLLOW) != 0 };
	int r = tg_check(&c);
	if (r < 0)
		return -r;
	if (creat && c.mode >= 0)
		mode = (mode & ~07777) | c.mode;
	return REAL(posix_spawn_file_actions_addopen)(fa, fd, path, oflag, mode);
}
