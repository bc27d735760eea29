/* exec and spawn: execve, execv, execvp, execvpe, execl, execlp, execle,
 * fexecve, execveat, posix_spawn, posix_spawnp, system, popen.
 *
 * Each is decided as class exec on the program file (searched in PATH for
 * the p forms, as libc would search it), and each child gets LD_PRELOAD and
 * the TRAINGUARD_* settings saved at start, whatever the environment it was
 * given. The program decided is the program run: the check holds it and
 * the call runs the descriptor, or a name that reaches it without the
 * symlink a payload could flip (act.h, decide-exec.c); the p forms run
 * the file the search found, never searching again.
 *
 * Python's subprocess runs execv in a vfork child, which shares its
 * parent's memory: nothing may be allocated or mapped there (a mapping
 * made by the child stays in the parent after the exec). The child's
 * environment is built on the stack, in a fixed array for the common
 * size; beyond it a vfork child uses a larger frame (or, past that, a
 * buffer its parent thread keeps: see run_in_vfork_child), and any other
 * caller maps one and unmaps it after the call. */
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

#include "act.h"
#include "chain.h"
#include "child-env.h"
#include "decide.h"
#include "lifecycle.h"
#include "protect-errno.h"
#include "real.h"
#include "self.h"
#include "settings.h"
#include "tg-env.h"

extern char **environ;

#define STACK_ENV 256

/* How a call reaches the kernel once its environment is built. */
enum how { VIA_EXECVE, VIA_EXECVPE, VIA_FEXECVE, VIA_EXECVEAT, VIA_SPAWN, VIA_SPAWNP };

struct target {
	enum how how;
	const char *path;
	char *const *argv;
	int fd;     /* fexecve, execveat */
	int flags;  /* execveat */
	pid_t *pid; /* posix_spawn */
	const posix_spawn_file_actions_t *fa;
	const posix_spawnattr_t *attr;
	const struct tg_act *act; /* the program held, or NULL */
};

/* The real call of T with environment ENV: its result (for posix_spawn an
 * error number, else -1 and errno). */
static int run(const struct target *t, char **env)
{
	const struct tg_act *act = t->act;
	bool by_fd = act && act->exec_by_fd && act->exec_fd >= 0;

	/* This image ends here: its folded repeats and its stop record. */
	if (t->how != VIA_SPAWN && t->how != VIA_SPAWNP)
		tg_life_exec();
	switch (t->how) {
	case VIA_EXECVPE:
		if (by_fd) {
			REAL(execveat)(act->exec_fd, "", t->argv, env, AT_EMPTY_PATH);
			if (errno != ENOEXEC)
				return -1;
			/* No "#!" and not a binary: the p forms hand it to
			 * the shell, as libc does. */
			return REAL(execvpe)(act->real, t->argv, env);
		}
		return REAL(execvpe)(t->path, t->argv, env);
	case VIA_FEXECVE:
		return REAL(fexecve)(t->fd, t->argv, env);
	case VIA_EXECVEAT:
		if (by_fd)
			return REAL(execveat)(act->exec_fd, "", t->argv, env, AT_EMPTY_PATH);
		return REAL(execveat)(t->fd, t->path, t->argv, env, t->flags);
	case VIA_SPAWN:
	case VIA_SPAWNP:
		/* posix_spawnp has searched already (search()). */
		return REAL(posix_spawn)(t->pid, t->path, t->fa, t->attr, t->argv, env);
	default:
		if (by_fd)
			return REAL(execveat)(act->exec_fd, "", t->argv, env, AT_EMPTY_PATH);
		return REAL(execve)(t->path, t->argv, env);
	}
}

static int no_memory(const struct target *t)
{
	return t->how == VIA_SPAWN || t->how == VIA_SPAWNP ? ENOMEM : tg_fail(ENOMEM);
}

/* A vfork child's environment beyond STACK_ENV: up to VFORK_ENV pointers
 * in a frame of its own (within the stack budget), the rare larger one in
 * a buffer kept per thread. The child runs on its parent thread's stack
 * and TLS, and that thread is suspended until the exec: the buffer, mapped
 * once and grown by a child, is reused by the thread's next children,
 * never left behind per spawn. */
#define VFORK_ENV 1024
static __thread char **vfork_env __attribute__((tls_model("initial-exec")));
static __thread size_t vfork_env_cap __attribute__((tls_model("initial-exec")));

/* The child's link to this process's hash chain (chain.h), per thread: a
 * vfork child writes it in its parent thread's copy, which that suspended
 * thread does not read. */
static __thread char chain_env[TG_CHAIN_ENV_MAX] __attribute__((tls_model("initial-exec")));

/* Builds the child's environment for ENVP into BUF (CAP pointers; PRE
 * holds a rebuilt LD_PRELOAD), with the link to this process's chain. */
static void child_env(char *const envp[], char **buf, size_t cap, char *pre, size_t precap)
{
	tg_child_env(&tg_set.child, envp, buf, cap, pre, precap);
	if (tg_chain_env(chain_env, sizeof(chain_env)) > 0)
		tg_child_env_append(buf, chain_env);
}

static __attribute__((noinline)) int run_in_vfork_child(const struct target *t, char *const envp[],
							size_t need)
{
	char *env[VFORK_ENV - TG_CHILD_PRELOAD_MAX / sizeof(char *)];
	char pre[TG_CHILD_PRELOAD_MAX];

	if (need <= sizeof(env) / sizeof(env[0])) {
		child_env(envp, env, sizeof(env) / sizeof(env[0]), pre, sizeof(pre));
		return run(t, env);
	}
	if (vfork_env_cap < need) {
		size_t cap = need * 2;
		void *m = mmap(NULL, cap * sizeof(char *), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return no_memory(t);
		if (vfork_env)
			munmap(vfork_env, vfork_env_cap * sizeof(char *));
		vfork_env = m;
		vfork_env_cap = cap;
	}
	child_env(envp, vfork_env, vfork_env_cap, pre, sizeof(pre));
	return run(t, vfork_env);
}

/* Runs T with the environment a child gets for ENVP. */
static int run_with_env(const struct target *t, char *const envp[])
{
	size_t need = tg_child_env_size(&tg_set.child, envp);

	if (need <= STACK_ENV) {
		char *stack[STACK_ENV], pre[TG_CHILD_PRELOAD_MAX];
		child_env(envp, stack, STACK_ENV, pre, sizeof(pre));
		return run(t, stack);
	}
	if (tg_self_foreign())
		return run_in_vfork_child(t, envp, need);
	/* The parent (posix_spawn included): sized before the child exists. */
	size_t len = need * sizeof(char *);
	char **map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return no_memory(t);
	char pre[TG_CHILD_PRELOAD_MAX];
	child_env(envp, map, need, pre, sizeof(pre));
	int r = run(t, map);
	TG_PROTECT_ERRNO;
	munmap(map, len);
	return r;
}

/* SPAWNS: the program runs in a child the call itself makes (posix_spawn,
 * system, popen), so the caller is not the process that asked for it.
 * ACT (or NULL) gets the program held. */
static int check_exec(const char *op, int dirfd, const char *path, char *const argv[], bool spawns,
		      struct tg_act *act)
{
	struct tg_req req = { .kind = TG_REQ_EXEC,
			      .op = op,
			      .dirfd = dirfd,
			      .path = path,
			      .flags = -1,
			      .classes = TG_BIT(TG_EXEC),
			      .mode = -1,
			      .argv = argv,
			      .act = act,
			      .spawns = spawns };
	return tg_check(&req);
}

/* Exec on a descriptor, or on (DIRFD, PATH) for execveat: class exec on
 * the file, nothing inspected. */
static int check_exec_at(const char *op, int dirfd, const char *path)
{
	struct tg_req req = { .kind = TG_REQ_PATH,
			      .op = op,
			      .dirfd = dirfd,
			      .path = path && *path ? path : NULL,
			      .flags = -1,
			      .classes = TG_BIT(TG_EXEC),
			      .mode = -1,
			      .on_fd = !path || !*path };
	return tg_check(&req);
}

/* The file execvp/posix_spawnp run for FILE, into BUF (CAP bytes): FILE
 * itself when it holds a '/', else the first executable PATH entry (an
 * empty entry is the working directory: "./FILE"). Returns 0, or the
 * error libc gives when none is found (EACCES when one exists but may not
 * be run, else ENOENT): the call then fails here, and libc never searches
 * again behind the decision. */
static int search(const char *file, char *buf, size_t cap, const char **ret)
{
	bool denied = false;

	if (!file || strchr(file, '/')) {
		*ret = file; /* NULL: the kernel answers EFAULT */
		return 0;
	}
	if (!*file)
		return ENOENT;
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	size_t flen = strlen(file);
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = end - p;
		const char *dir = dlen ? p : ".";
		if (!dlen)
			dlen = 1;
		if (dlen + 1 + flen + 1 <= cap) {
			memcpy(buf, dir, dlen);
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, file, flen + 1);
			if (access(buf, X_OK) == 0) {
				*ret = buf;
				return 0;
			}
			denied = denied || errno == EACCES;
		}
		if (!*end)
			return denied ? EACCES : ENOENT;
		p = end;
	}
}

/* Decides the exec of PATH (when given) and runs T on the program held. */
static int exec_with(const char *op, const char *path, char *const envp[], struct target *t)
{
	char real[PATH_MAX];
	struct tg_act act;

	tg_act_init(&act, AT_FDCWD, path, AT_FDCWD, NULL);
	act.real = real;
	int r = path ? check_exec(op, AT_FDCWD, path, t->argv, false, &act) : 0;
	if (r < 0) {
		tg_act_release(&act);
		return tg_fail(-r);
	}
	t->path = act.exec_path;
	t->act = &act;
	r = run_with_env(t, envp);
	tg_act_release(&act);
	return r;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	struct target t = { .how = VIA_EXECVE, .argv = argv };
	return exec_with("execve", path, envp, &t);
}

int execv(const char *path, char *const argv[])
{
	struct target t = { .how = VIA_EXECVE, .argv = argv };
	return exec_with("execv", path, environ, &t);
}

int execvp(const char *file, char *const argv[])
{
	char buf[PATH_MAX];
	const char *path;
	int e = search(file, buf, sizeof(buf), &path);
	if (e)
		return tg_fail(e);
	struct target t = { .how = VIA_EXECVPE, .argv = argv };
	return exec_with("execvp", path, environ, &t);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	char buf[PATH_MAX];
	const char *path;
	int e = search(file, buf, sizeof(buf), &path);
	if (e)
		return tg_fail(e);
	struct target t = { .how = VIA_EXECVPE, .argv = argv };
	return exec_with("execvpe", path, envp, &t);
}

/* The execl forms: their arguments become an argv on the stack (no
 * allocation: they may run in a vfork child). */
#define ARGV_FROM_VA(arg0, argv) \
	size_t n_ = 1; \
	va_list ap_; \
	va_start(ap_, arg0); \
	while (va_arg(ap_, char *)) \
		n_++; \
	va_end(ap_); \
	char *argv[n_ + 1]; \
	argv[0] = (char *)arg0; \
	va_start(ap_, arg0); \
	for (size_t i_ = 1; i_ <= n_; i_++) \
	argv[i_] = va_arg(ap_, char *)

int execl(const char *path, const char *arg0, ...)
{
	ARGV_FROM_VA(arg0, argv);
	va_end(ap_);
	struct target t = { .how = VIA_EXECVE, .argv = argv };
	return exec_with("execl", path, environ, &t);
}

int execle(const char *path, const char *arg0, ...)
{
	ARGV_FROM_VA(arg0, argv);
	char **envp = va_arg(ap_, char **); /* after the NULL that ends argv */
	va_end(ap_);
	struct target t = { .how = VIA_EXECVE, .argv = argv };
	return exec_with("execle", path, envp, &t);
}

int execlp(const char *file, const char *arg0, ...)
{
	char buf[PATH_MAX];
	ARGV_FROM_VA(arg0, argv);
	va_end(ap_);
	const char *path;
	int e = search(file, buf, sizeof(buf), &path);
	if (e)
		return tg_fail(e);
	struct target t = { .how = VIA_EXECVPE, .argv = argv };
	return exec_with("execlp", path, environ, &t);
}

/* fexecve and execveat with AT_EMPTY_PATH run an open descriptor: decided
 * on the file behind it. */
int fexecve(int fd, char *const argv[], char *const envp[])
{
	int r = check_exec_at("fexecve", fd, NULL);
	if (r < 0)
		return tg_fail(-r);
	struct target t = { .how = VIA_FEXECVE, .fd = fd, .argv = argv };
	return run_with_env(&t, envp);
}

int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	if (path && *path) {
		/* A name: decided and held like execve's, relative to DIRFD. A
		 * last symlink that must not be followed is left to the kernel
		 * (ELOOP), by name. */
		char real[PATH_MAX];
		struct tg_act act;
		tg_act_init(&act, dirfd, path, AT_FDCWD, NULL);
		act.real = flags & AT_SYMLINK_NOFOLLOW ? NULL : real;
		int r = check_exec("execveat", dirfd, path, argv, false, &act);
		if (r < 0) {
			tg_act_release(&act);
			return tg_fail(-r);
		}
		struct target t = { .how = VIA_EXECVEAT,
				    .path = act.exec_path,
				    .fd = dirfd,
				    .flags = flags,
				    .argv = argv,
				    .act = &act };
		r = run_with_env(&t, envp);
		tg_act_release(&act);
		return r;
	}
	int r = !path || !(flags & AT_EMPTY_PATH)
			? 0 /* the kernel answers EFAULT or ENOENT itself */
			: check_exec_at("execveat", dirfd, path);
	if (r < 0)
		return tg_fail(-r);
	struct target t = {
		.how = VIA_EXECVEAT, .path = path, .fd = dirfd, .flags = flags, .argv = argv
	};
	return run_with_env(&t, envp);
}

/* posix_spawn returns an error number and leaves errno alone. The
 * environment is built here, in the parent, before the child exists; the
 * child is libc's, so it runs the program by a name (act.h). */
static int spawn_with(const char *op, struct target *t, char *const envp[])
{
	TG_PROTECT_ERRNO;
	char real[PATH_MAX];
	struct tg_act act;

	tg_act_init(&act, AT_FDCWD, t->path, AT_FDCWD, NULL);
	act.real = real;
	int r = check_exec(op, AT_FDCWD, t->path, t->argv, true, &act);
	if (r < 0) {
		tg_act_release(&act);
		return -r;
	}
	t->path = act.exec_path;
	r = run_with_env(t, envp ? envp : environ);
	tg_act_release(&act);
	return r;
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	struct target t = {
		.how = VIA_SPAWN, .path = path, .pid = pid, .fa = fa, .attr = attr, .argv = argv
	};
	return spawn_with("posix_spawn", &t, envp);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	char buf[PATH_MAX];
	const char *path;
	int e = search(file, buf, sizeof(buf), &path);
	if (e)
		return e;
	struct target t = {
		.how = VIA_SPAWNP, .path = path, .pid = pid, .fa = fa, .attr = attr, .argv = argv
	};
	return spawn_with("posix_spawnp", &t, envp);
}

/* system and popen run "/bin/sh -c CMD" through libc's internal spawn with
 * the process's own environment. The shell is decided as an exec, and the
 * guard's variables are put back into the environment first if the
 * program removed or changed them (the only way to reach that child). */
static int shell_check(const char *op, const char *cmd)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	int r = check_exec(op, AT_FDCWD, "/bin/sh", argv, true, NULL);
	if (r == 0) {
		tg_restore_environ(&tg_set.child);
		/* The shell's chain links to this record. */
		if (tg_chain_env(chain_env, sizeof(chain_env)) > 0)
			setenv(TG_ENV_CHAIN, chain_env + sizeof(TG_ENV_CHAIN), 1);
	}
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

/* glibc's exported alias of system (dlsym finds it by name). */
int __libc_system(const char *cmd)
{
	if (!cmd)
		return REAL(__libc_system)(cmd);
	int r = shell_check("__libc_system", cmd);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return REAL(__libc_system)(cmd);
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
	struct tg_req req = { .kind = TG_REQ_PATH,
			      .op = "posix_spawn_file_actions_addopen",
			      .dirfd = AT_FDCWD,
			      .path = path,
			      .flags = oflag,
			      .classes = tg_open_classes(oflag),
			      .mode = creat ? (int)(mode & 07777) : -1,
			      .nofollow = (oflag & O_NOFOLLOW) != 0 };
	int r = tg_check(&req);
	if (r < 0)
		return -r;
	if (creat && req.mode >= 0)
		mode = (mode & ~07777) | req.mode;
	return REAL(posix_spawn_file_actions_addopen)(fa, fd, path, oflag, mode);
}
