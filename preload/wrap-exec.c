/* exec and spawn: execve, execv, execvp, posix_spawn, posix_spawnp.
 *
 * Each is decided as class exec on the program file (searched in PATH for
 * the p forms, as libc will search it), and each child gets LD_PRELOAD and
 * the TRAINGUARD_* settings saved at start, whatever the environment it was
 * given. Python's subprocess runs execv in a vfork child: nothing here
 * allocates; a large environment is copied into an anonymous mapping. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
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

static int exec_with(const char *op, const char *path, char *const argv[], char *const envp[],
		     const char *file)
{
	char *stack[STACK_ENV];
	void *map;
	size_t maplen = 0;
	int r = tg_check_exec(op, path, argv);

	if (r < 0)
		return tg_fail(-r);
	char **env = env_for(envp, stack, &map, &maplen);
	if (!env)
		return tg_fail(ENOMEM);
	if (file)
		r = REAL(execvpe)(file, argv, env);
	else
		r = REAL(execve)(path, argv, env);
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
	return exec_with("execvp", path, argv, environ, file);
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
