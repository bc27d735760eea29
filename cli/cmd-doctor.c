/* trainguard doctor: what this machine gives the guard, and what to fix.
 *
 * Each check prints one line, "ok", "warn" or "fail", what was found and,
 * when it is not ok, what to do. The kernel's layers are asked directly
 * (Landlock's ABI, seccomp, openat2), the library is found as `run` finds
 * it and loaded into a real python3, and the log's folder is tried for
 * writing. With --pid, doctor says whether a running process is guarded,
 * under which policy and mode, and which kernel layers hold it.
 *
 * Exit status: 0 when a guarded run with the kernel fence is possible here
 * (with --pid: the process is guarded), 1 when not, 2 for usage errors. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "find-library.h"
#include "tg-env.h"

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

enum level { OK, WARN, FAIL };

static int failures;

static void say(enum level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(enum level lvl, const char *fmt, ...)
{
	static const char *const word[] = { "ok  ", "warn", "fail" };
	va_list ap;

	if (lvl == FAIL)
		failures++;
	printf("%s  ", word[lvl]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void check_kernel(void)
{
	struct utsname u;

	if (uname(&u) == 0)
		say(OK, "kernel %s %s, glibc %s", u.release, u.machine, gnu_get_libc_version());
}

static void check_landlock(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi >= 1)
		say(abi >= 3 ? OK : WARN, "landlock: ABI %ld%s", abi,
		    abi >= 3 ? ""
			     : " (truncate is not fenced before ABI 3; a newer kernel fences it)");
	else if (errno == EOPNOTSUPP)
		say(FAIL, "landlock: built into the kernel but not enabled; add 'landlock' to the "
			  "lsm= kernel parameter (see /sys/kernel/security/lsm)");
	else
		say(FAIL,
		    "landlock: not in this kernel (%s); Linux 5.13 or newer with "
		    "CONFIG_SECURITY_LANDLOCK fences raw system calls",
		    strerrorname_np(errno));
}

static void check_seccomp(void)
{
	if (prctl(PR_GET_SECCOMP) < 0 && errno == EINVAL)
		say(FAIL, "seccomp: not in this kernel (CONFIG_SECCOMP_FILTER)");
	else
		say(OK, "seccomp: filters available");
}

static void check_openat2(void)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
	long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

	if (fd >= 0) {
		close((int)fd);
		say(OK, "openat2: available (opens are decided on the object the kernel opens)");
	} else {
		say(WARN,
		    "openat2: %s (a container seccomp profile or a kernel before 5.6); the "
		    "guard resolves each open first, which is slower: allow openat2 in the "
		    "profile",
		    strerrorname_np(errno));
	}
}

/* Runs ARGV with the library preloaded; its stdout into OUT. Returns the
 * exit status, or -1. */
static int run_preloaded(const char *lib, char *const argv[], char *out, size_t cap)
{
	int p[2];
	pid_t pid;
	int status;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		/* After what is preloaded already (a sanitizer's runtime must
		 * come first), as the loader would take both. */
		const char *cur = getenv(TG_ENV_PRELOAD);
		char both[2 * PATH_MAX + 2];
		if (cur && *cur && !strstr(cur, "libtrainguard") &&
		    (size_t)snprintf(both, sizeof(both), "%s:%s", cur, lib) < sizeof(both))
			setenv(TG_ENV_PRELOAD, both, 1);
		else
			setenv(TG_ENV_PRELOAD, lib, 1);
		setenv(TG_ENV_LOG, "stderr", 1);
		unsetenv(TG_ENV_POLICY);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(p[0], out + n, cap - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool check_library(void)
{
	char lib[PATH_MAX], places[3 * PATH_MAX], out[256];
	int r = tg_find_library(lib, sizeof(lib), NULL);

	if (r == -EINVAL) {
		say(FAIL,
		    "library: TRAINGUARD_LIBRARY='%s' is not a readable file; unset it or "
		    "point it at libtrainguard.so",
		    getenv(TG_ENV_LIBRARY));
		return false;
	}
	if (r < 0) {
		tg_library_places(places, sizeof(places));
		say(FAIL,
		    "library: libtrainguard.so not found (looked in %s); set "
		    "TRAINGUARD_LIBRARY",
		    places);
		return false;
	}
	say(OK, "library: '%s'", lib);

	char *const py[] = { "/usr/bin/python3", "-c",
			     "print(any('libtrainguard' in l for l in open('/proc/self/maps')))",
			     NULL };
	if (access(py[0], X_OK) != 0) {
		say(WARN,
		    "python3: '/usr/bin/python3' is not there; the library was not tried in it");
		return true;
	}
	r = run_preloaded(lib, py, out, sizeof(out));
	if (r == 0 && strncmp(out, "True", 4) == 0) {
		say(OK, "python3: the library loads and the guard starts under the default policy");
		return true;
	}
	say(FAIL,
	    "python3: the library did not load into '/usr/bin/python3' (exit %d, said "
	    "'%.*s'); run 'LD_PRELOAD=%s python3 -c pass' to see the loader's message",
	    r, (int)strcspn(out, "\n"), out, lib);
	return false;
}

/* The log's folder must exist and be writable: try to create a file. */
static void check_log(const char *log)
{
	char dir[PATH_MAX], probe[PATH_MAX + 32];

	if (!log || strcmp(log, "stderr") == 0) {
		say(OK, "log: stderr");
		return;
	}
	snprintf(dir, sizeof(dir), "%s", log);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	snprintf(probe, sizeof(probe), "%s/.trainguard-doctor-XXXXXX", dir);
	int fd = mkstemp(probe);
	if (fd < 0) {
		say(FAIL,
		    "log: cannot create files in '%s' (%s); create it, or choose another "
		    "--log",
		    dir, strerror(errno));
		return;
	}
	close(fd);
	unlink(probe);
	say(OK, "log: '%s' is writable", dir);
}

/* Reads /proc/PID/NAME into BUF; returns its length, or -errno. */
static ssize_t read_proc(pid_t pid, const char *name, char *buf, size_t cap)
{
	char path[64];
	size_t n = 0;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

static bool maps_guard(pid_t pid)
{
	static char maps[1 << 20];
	return read_proc(pid, "maps", maps, sizeof(maps)) > 0 && strstr(maps, "/libtrainguard.so");
}

/* The value of NAME in the NUL-separated environment ENV of N bytes. */
static const char *env_value(const char *env, size_t n, const char *name)
{
	size_t l = strlen(name);

	for (const char *e = env; e < env + n; e += strlen(e) + 1)
		if (strncmp(e, name, l) == 0 && e[l] == '=')
			return e + l + 1;
	return NULL;
}

static const char *status_field(const char *status, const char *name, char *out, size_t cap)
{
	const char *f = strstr(status, name);

	if (!f)
		return "?";
	f += strlen(name);
	f += strspn(f, " \t");
	snprintf(out, cap, "%.*s", (int)strcspn(f, "\n"), f);
	return out;
}

static int check_pid(pid_t pid)
{
	static char env[1 << 18];
	char status[8192], nnp[16], sc[16];

	if (read_proc(pid, "status", status, sizeof(status)) < 0) {
		say(FAIL, "process %d: not found (%s)", (int)pid, strerror(ESRCH));
		return 1;
	}
	if (!maps_guard(pid)) {
		say(FAIL,
		    "process %d: NOT guarded (libtrainguard.so is not mapped); start it "
		    "with 'trainguard run'",
		    (int)pid);
		return 1;
	}
	ssize_t n = read_proc(pid, "environ", env, sizeof(env));
	const char *policy = n > 0 ? env_value(env, (size_t)n, TG_ENV_POLICY) : NULL;
	const char *mode = n > 0 ? env_value(env, (size_t)n, TG_ENV_MODE) : NULL;
	const char *log = n > 0 ? env_value(env, (size_t)n, TG_ENV_LOG) : NULL;
	const char *jid = n > 0 ? env_value(env, (size_t)n, TG_ENV_JOB_ID) : NULL;
	say(OK, "process %d: guarded, policy '%s', mode %s, job %s, log '%s'", (int)pid,
	    policy ? policy : "embedded:ml-default", mode ? mode : "as the policy says",
	    jid ? jid : "?", log ? log : "stderr");
	if (n <= 0)
		say(WARN,
		    "process %d: its environment cannot be read here (%s): the policy named "
		    "is a guess; run doctor as its user or root",
		    (int)pid, strerror((int)-n));
	status_field(status, "NoNewPrivs:", nnp, sizeof(nnp));
	status_field(status, "Seccomp_filters:", sc, sizeof(sc));
	say(strcmp(nnp, "1") == 0 ? OK : WARN,
	    "process %d: no_new_privs %s, %s seccomp filter(s)%s", (int)pid,
	    strcmp(nnp, "1") == 0 ? "set" : "not set", sc,
	    strcmp(nnp, "1") == 0 ? "" : " (no kernel fence: raw system calls are not fenced)");
	return 0;
}

static int doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *log = NULL;
	long pid = 0;
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			log = optarg;
			break;
		case 'p': {
			char *end;
			pid = strtol(optarg, &end, 10);
			if (*end || pid <= 0) {
				tg_usage_error(&tg_cmd_doctor, "--pid '%s' is not a process id",
					       optarg);
				return TG_EXIT_USAGE;
			}
			break;
		}
		case 'h':
			fputs(tg_cmd_doctor.usage, stdout);
			return 0;
		default:
			tg_usage_error(&tg_cmd_doctor, "unknown option");
			return TG_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tg_usage_error(&tg_cmd_doctor, "unexpected argument '%s'", argv[optind]);
		return TG_EXIT_USAGE;
	}
	if (pid) {
		int r = check_pid((pid_t)pid);
		fflush(stdout);
		return r;
	}
	check_kernel();
	check_landlock();
	check_seccomp();
	check_openat2();
	check_library();
	check_log(log ? log : getenv(TG_ENV_LOG));
	pid_t parent = getppid();
	if (maps_guard(parent))
		say(OK, "this shell (%d) is guarded", (int)parent);
	else
		say(WARN,
		    "this shell (%d) is not guarded; jobs started from it are guarded when "
		    "started with 'trainguard run'",
		    (int)parent);
	printf("%s\n", failures ? "doctor: a guarded run with the kernel fence is NOT possible "
				  "here; fix the lines marked fail"
				: "doctor: a guarded run with the kernel fence is possible here");
	fflush(stdout);
	return failures ? 1 : 0;
}

const struct tg_command tg_cmd_doctor = {
	.name = "doctor",
	.run = doctor,
	.synopsis = "doctor [--log FILE] | doctor --pid PID\n",
	.usage = "usage: trainguard doctor [--log FILE]\n"
		 "       trainguard doctor --pid PID\n"
		 "\n"
		 "Checks what this machine gives the guard: the kernel's Landlock ABI,\n"
		 "seccomp and openat2, the library (found as run finds it, and loaded into\n"
		 "python3), the log's folder (--log, or TRAINGUARD_LOG), and whether this\n"
		 "shell is guarded. One line per check: ok, warn or fail, with what to do.\n"
		 "With --pid, tells whether process PID is guarded, under which policy,\n"
		 "mode, job and log, and whether the kernel fence holds it.\n"
		 "\n"
		 "Exit status: 0 when a guarded run with the kernel fence is possible (with\n"
		 "--pid: the process is guarded), 1 when not, 2 for usage errors.\n",
};
