/* tg-probe: one subcommand per libc entry point libtrainguard.so wraps
 * (every symbol in preload/wrap.h), for the integration tests.
 *
 * Each subcommand calls exactly that entry point once, with arguments from
 * the command line, and prints one line to stdout:
 *
 *     OP ret=<value> errno=<NAME or 0> [key=value...] pid=<pid>
 *
 * where the extra keys are mode=0NNN (the file mode after a create, chmod
 * or open, read with a raw system call), path=... (the name a temp-file
 * call chose), log=open|closed (after the fd calls: whether a descriptor
 * on $TRAINGUARD_LOG is still open). posix_spawn and posix_fallocate
 * return an error number instead of setting errno: for them errno= names
 * the returned value. Everything a subcommand needs besides the call under
 * test (a directory descriptor, a descriptor to write through, a mode to
 * print) is done with raw system calls, so the guard sees that one call
 * and nothing else.
 *
 * Steps can be chained in one process with "+" ("open A O_RDONLY + open A
 * O_RDONLY"); an exec subcommand takes every remaining argument. The file
 * is built with -U_FILE_OFFSET_BITS, so open calls open and open64 calls
 * open64. (The raw system calls go through syscall(), which the guard
 * wraps only to notice a seccomp filter.)
 *
 * Besides the wrapped symbols: env (the LD_PRELOAD and TRAINGUARD_*
 * values this process sees), errno-at-main, clearenv, setenv NAME VALUE,
 * and the side doors the tests try: write-fd / ftruncate-fd FD (LOG: the
 * guard's own log descriptor), reopen FLAGS (/proc/self/fd of the last
 * descriptor), freopen-null MODE [DATA] (a mode change of the last
 * stream), spawn-with-open PATH FLAGS PROGRAM (a posix_spawn file action).
 * `tg-probe --list` prints every subcommand. */
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

/* The fortify entry points, declared by glibc only under _FORTIFY_SOURCE:
 * called directly, as a fortified program does. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

extern char **environ;

static int errno_at_main;

/* ---- names ------------------------------------------------------------- */

static const struct {
	int value;
	const char *name;
} errnos[] = {
#define E(x) \
	{ \
		x, #x \
	}
	E(EPERM),      E(ENOENT),    E(ESRCH),        E(EINTR),  E(EIO),       E(ENXIO),
	E(E2BIG),      E(ENOEXEC),   E(EBADF),        E(ECHILD), E(EAGAIN),    E(ENOMEM),
	E(EACCES),     E(EFAULT),    E(EBUSY),        E(EEXIST), E(EXDEV),     E(ENODEV),
	E(ENOTDIR),    E(EISDIR),    E(EINVAL),       E(ENFILE), E(EMFILE),    E(ENOTTY),
	E(ETXTBSY),    E(EFBIG),     E(ENOSPC),       E(ESPIPE), E(EROFS),     E(EMLINK),
	E(EPIPE),      E(ERANGE),    E(ENAMETOOLONG), E(ENOSYS), E(ENOTEMPTY), E(ELOOP),
	E(EOPNOTSUPP), E(EOVERFLOW), E(ENOTSUP),
#undef E
};

static const char *errno_name(int e)
{
	static char buf[32];

	if (e == 0)
		return "0";
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].value == e)
			return errnos[i].name;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static const struct {
	const char *name;
	long value;
} flag_names[] = {
#define F(x) \
	{ \
#x, (long)(x) \
	}
	F(O_RDONLY),
	F(O_WRONLY),
	F(O_RDWR),
	F(O_CREAT),
	F(O_EXCL),
	F(O_TRUNC),
	F(O_APPEND),
	F(O_CLOEXEC),
	F(O_DIRECTORY),
	F(O_NOFOLLOW),
	F(O_TMPFILE),
	F(O_PATH),
	F(O_NONBLOCK),
	F(O_SYNC),
	F(O_DSYNC),
	F(O_NOCTTY),
	F(O_NOATIME),
	F(O_LARGEFILE),
	F(AT_REMOVEDIR),
	F(AT_EMPTY_PATH),
	F(AT_SYMLINK_NOFOLLOW),
	F(AT_SYMLINK_FOLLOW),
	F(AT_EACCESS),
	F(RENAME_NOREPLACE),
	F(RENAME_EXCHANGE),
	F(RENAME_WHITEOUT),
	F(F_OK),
	F(R_OK),
	F(W_OK),
	F(X_OK),
#undef F
};

/* "O_WRONLY|O_CREAT", a number, or "0". */
static long parse_flags(const char *s)
{
	long v = 0;
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *tok = strtok_r(buf, "|", &save); tok;
	     tok = strtok_r(NULL, "|", &save)) {
		size_t i;
		for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
			if (strcmp(tok, flag_names[i].name) == 0)
				break;
		if (i < sizeof(flag_names) / sizeof(flag_names[0])) {
			v |= flag_names[i].value;
			continue;
		}
		char *end;
		long n = strtol(tok, &end, 0);
		if (*end) {
			fprintf(stderr, "tg-probe: unknown flag '%s'\n", tok);
			exit(2);
		}
		v |= n;
	}
	return v;
}

static mode_t parse_mode(const char *s)
{
	char *end;
	long m = strtol(s, &end, 8);
	if (*end || m < 0) {
		fprintf(stderr, "tg-probe: bad octal mode '%s'\n", s);
		exit(2);
	}
	return (mode_t)m;
}

static long parse_num(const char *s)
{
	char *end;
	long n = strtol(s, &end, 0);
	if (*end) {
		fprintf(stderr, "tg-probe: bad number '%s'\n", s);
		exit(2);
	}
	return n;
}

/* ---- setup with raw system calls ----------------------------------------- */

static int raw_open(const char *path, int flags, mode_t mode)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

/* DIR: "AT_FDCWD", a descriptor number, or a folder opened O_DIRECTORY. */
static int parse_dirfd(const char *s)
{
	if (strcmp(s, "AT_FDCWD") == 0)
		return AT_FDCWD;
	if ((s[0] == '-' && s[1]) || (s[0] >= '0' && s[0] <= '9' && !strchr(s, '/'))) {
		char *end;
		long n = strtol(s, &end, 10);
		if (!*end)
			return (int)n;
	}
	int fd = raw_open(s, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "tg-probe: cannot open folder '%s': %s\n", s, strerror(errno));
		exit(2);
	}
	return fd;
}

/* A descriptor on PATH the guard never saw (as if inherited). */
static int raw_fd(const char *path, int flags)
{
	int fd = raw_open(path, flags, 0);
	if (fd < 0) {
		fprintf(stderr, "tg-probe: cannot open '%s': %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

/* The log's real path, once. */
static const char *log_real(void)
{
	static char real[PATH_MAX];
	static int done;
	const char *log = getenv("TRAINGUARD_LOG");

	if (!done) {
		done = 1;
		if (!log || !realpath(log, real))
			real[0] = '\0';
	}
	return real[0] ? real : NULL;
}

/* The descriptor on the guard's log, or -1. */
static int find_log_fd(void)
{
	const char *log = log_real();
	char proc[64], target[PATH_MAX];

	if (!log)
		return -1;
	for (int fd = 0; fd < 4096; fd++) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(proc, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, log) == 0)
			return fd;
	}
	return -1;
}

/* FD: a number, "LOG" (the guard's log descriptor) or "NEW" (a fresh
 * descriptor on /dev/null). */
static int parse_fd(const char *s)
{
	if (strcmp(s, "LOG") == 0) {
		int fd = find_log_fd();
		if (fd < 0) {
			fprintf(stderr, "tg-probe: no descriptor on the log\n");
			exit(2);
		}
		return fd;
	}
	if (strcmp(s, "NEW") == 0)
		return raw_fd("/dev/null", O_RDWR);
	if (strcmp(s, "MAX") == 0)
		return -1; /* ~0U as an unsigned */
	return (int)parse_num(s);
}

/* The mode bits of PATH (or of FD when PATH is NULL), -1 when unknown. */
static int mode_of(int fd, const char *path, int nofollow)
{
	struct stat st;
	long r = path ? syscall(SYS_newfstatat, AT_FDCWD, path, &st,
				nofollow ? AT_SYMLINK_NOFOLLOW : 0)
		      : syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH);
	return r == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* ---- output -------------------------------------------------------------- */

static char extra[PATH_MAX + 256];

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add(const char *fmt, ...)
{
	size_t n = strlen(extra);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(extra + n, sizeof(extra) - n, fmt, ap);
	va_end(ap);
}

static void add_mode(int m)
{
	if (m >= 0)
		add(" mode=%04o", m);
}

static void report(const char *op, long ret, int err)
{
	printf("%s ret=%ld errno=%s%s pid=%d\n", op, ret, errno_name(err), extra, (int)getpid());
	fflush(stdout);
	extra[0] = '\0';
}

/* After a call that returns a descriptor: its mode when it opened one. */
static int last_fd;

static void report_fd(const char *op, int fd, int err)
{
	if (fd >= 0) {
		last_fd = fd;
		add_mode(mode_of(fd, NULL, 0));
	}
	report(op, fd, err);
}

static FILE *last_stream;

static void report_stream(const char *op, FILE *f, int err)
{
	if (f)
		last_stream = f;
	report_fd(op, f ? fileno(f) : -1, err);
}

static void report_path(const char *op, int r, int err, const char *path, int nofollow)
{
	add_mode(mode_of(-1, path, nofollow));
	report(op, r, err);
}

static void report_log(const char *op, long r, int err)
{
	add(" log=%s", find_log_fd() >= 0 ? "open" : "closed");
	report(op, r, err);
}

/* ---- subcommands --------------------------------------------------------- */

#define ARGS       int argc, char **argv
#define CALL(expr) (errno = 0, (expr))

static int need(int argc, int n, const char *usage)
{
	if (argc < n) {
		fprintf(stderr, "usage: tg-probe %s\n", usage);
		exit(2);
	}
	return 0;
}

static mode_t opt_mode(int argc, char **argv, int i)
{
	return argc > i ? parse_mode(argv[i]) : 0;
}

/* open family */
static void c_open(ARGS)
{
	need(argc, 2, "open PATH FLAGS [MODE]");
	int fd = CALL(open(argv[0], parse_flags(argv[1]), opt_mode(argc, argv, 2)));
	report_fd("open", fd, errno);
}

static void c_open64(ARGS)
{
	need(argc, 2, "open64 PATH FLAGS [MODE]");
	int fd = CALL(open64(argv[0], parse_flags(argv[1]), opt_mode(argc, argv, 2)));
	report_fd("open64", fd, errno);
}

static void c_openat(ARGS)
{
	need(argc, 3, "openat DIR PATH FLAGS [MODE]");
	int dfd = parse_dirfd(argv[0]);
	int fd = CALL(openat(dfd, argv[1], parse_flags(argv[2]), opt_mode(argc, argv, 3)));
	report_fd("openat", fd, errno);
}

static void c_openat64(ARGS)
{
	need(argc, 3, "openat64 DIR PATH FLAGS [MODE]");
	int dfd = parse_dirfd(argv[0]);
	int fd = CALL(openat64(dfd, argv[1], parse_flags(argv[2]), opt_mode(argc, argv, 3)));
	report_fd("openat64", fd, errno);
}

static void c_open_2(ARGS)
{
	need(argc, 2, "__open_2 PATH FLAGS");
	int fd = CALL(__open_2(argv[0], parse_flags(argv[1])));
	report_fd("__open_2", fd, errno);
}

static void c_open64_2(ARGS)
{
	need(argc, 2, "__open64_2 PATH FLAGS");
	int fd = CALL(__open64_2(argv[0], parse_flags(argv[1])));
	report_fd("__open64_2", fd, errno);
}

static void c_openat_2(ARGS)
{
	need(argc, 3, "__openat_2 DIR PATH FLAGS");
	int dfd = parse_dirfd(argv[0]);
	int fd = CALL(__openat_2(dfd, argv[1], parse_flags(argv[2])));
	report_fd("__openat_2", fd, errno);
}

static void c_openat64_2(ARGS)
{
	need(argc, 3, "__openat64_2 DIR PATH FLAGS");
	int dfd = parse_dirfd(argv[0]);
	int fd = CALL(__openat64_2(dfd, argv[1], parse_flags(argv[2])));
	report_fd("__openat64_2", fd, errno);
}

static void c_creat(ARGS)
{
	need(argc, 2, "creat PATH MODE");
	int fd = CALL(creat(argv[0], parse_mode(argv[1])));
	report_fd("creat", fd, errno);
}

static void c_creat64(ARGS)
{
	need(argc, 2, "creat64 PATH MODE");
	int fd = CALL(creat64(argv[0], parse_mode(argv[1])));
	report_fd("creat64", fd, errno);
}

/* stdio */
static void c_fopen(ARGS)
{
	need(argc, 2, "fopen PATH MODE");
	FILE *f = CALL(fopen(argv[0], argv[1]));
	report_stream("fopen", f, errno);
}

static void c_fopen64(ARGS)
{
	need(argc, 2, "fopen64 PATH MODE");
	FILE *f = CALL(fopen64(argv[0], argv[1]));
	report_stream("fopen64", f, errno);
}

/* A stream on /dev/null for freopen to reopen (fdopen for reading is
 * never decided). */
static FILE *null_stream(void)
{
	FILE *f = fdopen(raw_fd("/dev/null", O_RDONLY), "r");
	if (!f)
		exit(2);
	return f;
}

static void c_freopen(ARGS)
{
	need(argc, 2, "freopen PATH MODE");
	FILE *s = null_stream();
	FILE *f = CALL(freopen(argv[0], argv[1], s));
	report_stream("freopen", f, errno);
}

static void c_freopen64(ARGS)
{
	need(argc, 2, "freopen64 PATH MODE");
	FILE *s = null_stream();
	FILE *f = CALL(freopen64(argv[0], argv[1], s));
	report_stream("freopen64", f, errno);
}

/* freopen(NULL, MODE, stream): a mode change of the stream the last
 * stream step opened; with DATA it then writes DATA to it (stdio writes
 * go through libc internals). */
static void c_freopen_null(ARGS)
{
	need(argc, 1, "freopen-null MODE [DATA]");
	if (!last_stream) {
		fprintf(stderr,
			"tg-probe: freopen-null needs a stream opened by an earlier step\n");
		exit(2);
	}
	FILE *f = CALL(freopen(NULL, argv[0], last_stream));
	int err = errno;
	if (f && argc > 1) {
		fputs(argv[1], f);
		fflush(f);
	}
	report_stream("freopen", f, err);
}

static void c_fdopen(ARGS)
{
	need(argc, 3, "fdopen PATH OPEN-FLAGS MODE");
	int fd = raw_fd(argv[0], parse_flags(argv[1]));
	FILE *f = CALL(fdopen(fd, argv[2]));
	report_stream("fdopen", f, errno);
}

/* temp files */
static char tmpl[PATH_MAX];

static char *template_arg(const char *s)
{
	snprintf(tmpl, sizeof(tmpl), "%s", s);
	return tmpl;
}

static void report_temp(const char *op, int fd, int err)
{
	if (fd >= 0)
		add(" path=%s", tmpl);
	report_fd(op, fd, err);
}

static void c_mkstemp(ARGS)
{
	need(argc, 1, "mkstemp TEMPLATE");
	int fd = CALL(mkstemp(template_arg(argv[0])));
	report_temp("mkstemp", fd, errno);
}

static void c_mkstemp64(ARGS)
{
	need(argc, 1, "mkstemp64 TEMPLATE");
	int fd = CALL(mkstemp64(template_arg(argv[0])));
	report_temp("mkstemp64", fd, errno);
}

static void c_mkostemp(ARGS)
{
	need(argc, 2, "mkostemp TEMPLATE FLAGS");
	int fd = CALL(mkostemp(template_arg(argv[0]), parse_flags(argv[1])));
	report_temp("mkostemp", fd, errno);
}

static void c_mkostemp64(ARGS)
{
	need(argc, 2, "mkostemp64 TEMPLATE FLAGS");
	int fd = CALL(mkostemp64(template_arg(argv[0]), parse_flags(argv[1])));
	report_temp("mkostemp64", fd, errno);
}

static void c_mkstemps(ARGS)
{
	need(argc, 2, "mkstemps TEMPLATE SUFFIXLEN");
	int fd = CALL(mkstemps(template_arg(argv[0]), parse_num(argv[1])));
	report_temp("mkstemps", fd, errno);
}

static void c_mkstemps64(ARGS)
{
	need(argc, 2, "mkstemps64 TEMPLATE SUFFIXLEN");
	int fd = CALL(mkstemps64(template_arg(argv[0]), parse_num(argv[1])));
	report_temp("mkstemps64", fd, errno);
}

static void c_mkostemps(ARGS)
{
	need(argc, 3, "mkostemps TEMPLATE SUFFIXLEN FLAGS");
	int fd = CALL(mkostemps(template_arg(argv[0]), parse_num(argv[1]), parse_flags(argv[2])));
	report_temp("mkostemps", fd, errno);
}

static void c_mkostemps64(ARGS)
{
	need(argc, 3, "mkostemps64 TEMPLATE SUFFIXLEN FLAGS");
	int fd = CALL(mkostemps64(template_arg(argv[0]), parse_num(argv[1]), parse_flags(argv[2])));
	report_temp("mkostemps64", fd, errno);
}

static void c_mkdtemp(ARGS)
{
	need(argc, 1, "mkdtemp TEMPLATE");
	char *d = CALL(mkdtemp(template_arg(argv[0])));
	int err = errno;
	if (d) {
		add(" path=%s", d);
		add_mode(mode_of(-1, d, 0));
	}
	report("mkdtemp", d ? 0 : -1, err);
}

static void c_tmpfile(ARGS)
{
	FILE *f = CALL(tmpfile());
	report_stream("tmpfile", f, errno);
}

static void c_tmpfile64(ARGS)
{
	FILE *f = CALL(tmpfile64());
	report_stream("tmpfile64", f, errno);
}

/* names */
static void c_unlink(ARGS)
{
	need(argc, 1, "unlink PATH");
	int r = CALL(unlink(argv[0]));
	report("unlink", r, errno);
}

static void c_unlinkat(ARGS)
{
	need(argc, 2, "unlinkat DIR PATH [AT_REMOVEDIR]");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(unlinkat(dfd, argv[1], argc > 2 ? parse_flags(argv[2]) : 0));
	report("unlinkat", r, errno);
}

static void c_remove(ARGS)
{
	need(argc, 1, "remove PATH");
	int r = CALL(remove(argv[0]));
	report("remove", r, errno);
}

static void c_rmdir(ARGS)
{
	need(argc, 1, "rmdir PATH");
	int r = CALL(rmdir(argv[0]));
	report("rmdir", r, errno);
}

static void c_mkdir(ARGS)
{
	need(argc, 2, "mkdir PATH MODE");
	int r = CALL(mkdir(argv[0], parse_mode(argv[1])));
	int err = errno;
	report_path("mkdir", r, err, r == 0 ? argv[0] : NULL, 0);
}

static void c_mkdirat(ARGS)
{
	need(argc, 3, "mkdirat DIR PATH MODE");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(mkdirat(dfd, argv[1], parse_mode(argv[2])));
	int err = errno;
	if (r == 0) {
		struct stat st;
		if (syscall(SYS_newfstatat, dfd, argv[1], &st, 0) == 0)
			add_mode(st.st_mode & 07777);
	}
	report("mkdirat", r, err);
}

static void c_rename(ARGS)
{
	need(argc, 2, "rename OLD NEW");
	int r = CALL(rename(argv[0], argv[1]));
	report("rename", r, errno);
}

static void c_renameat(ARGS)
{
	need(argc, 4, "renameat DIR OLD DIR NEW");
	int d1 = parse_dirfd(argv[0]), d2 = parse_dirfd(argv[2]);
	int r = CALL(renameat(d1, argv[1], d2, argv[3]));
	report("renameat", r, errno);
}

static void c_renameat2(ARGS)
{
	need(argc, 5, "renameat2 DIR OLD DIR NEW FLAGS");
	int d1 = parse_dirfd(argv[0]), d2 = parse_dirfd(argv[2]);
	int r = CALL(renameat2(d1, argv[1], d2, argv[3], parse_flags(argv[4])));
	report("renameat2", r, errno);
}

/* exec and spawn: "PATH [ARG...] [--env NAME=VALUE...]". The child's
 * argv[0] is PATH. The forms that take an environment pass exactly the
 * entries after --env (none: an empty environment); the others pass the
 * process's own. */
struct exec_args {
	const char *path;
	char *argv[64];
	char *envp[64];
};

static void exec_args(int argc, char **argv, struct exec_args *x, const char *usage)
{
	int i, na = 0, ne = 0, in_env = 0;

	need(argc, 1, usage);
	x->path = argv[0];
	x->argv[na++] = argv[0];
	for (i = 1; i < argc; i++) {
		if (!in_env && strcmp(argv[i], "--env") == 0) {
			in_env = 1;
			continue;
		}
		if (in_env && ne < 63)
			x->envp[ne++] = argv[i];
		else if (!in_env && na < 63)
			x->argv[na++] = argv[i];
	}
	x->argv[na] = NULL;
	x->envp[ne] = NULL;
}

static void c_execve(ARGS)
{
	struct exec_args x;
	exec_args(argc, argv, &x, "execve PATH [ARG...] [--env NAME=VALUE...]");
	int r = CALL(execve(x.path, x.argv, x.envp));
	report("execve", r, errno);
}

static void c_execv(ARGS)
{
	struct exec_args x;
	exec_args(argc, argv, &x, "execv PATH [ARG...]");
	int r = CALL(execv(x.path, x.argv));
	report("execv", r, errno);
}

static void c_execvp(ARGS)
{
	struct exec_args x;
	exec_args(argc, argv, &x, "execvp FILE [ARG...]");
	int r = CALL(execvp(x.path, x.argv));
	report("execvp", r, errno);
}

static void c_execvpe(ARGS)
{
	struct exec_args x;
	exec_args(argc, argv, &x, "execvpe FILE [ARG...] [--env NAME=VALUE...]");
	int r = CALL(execvpe(x.path, x.argv, x.envp));
	report("execvpe", r, errno);
}

/* The execl forms take their arguments one by one: up to six. */
#define A(i) x.argv[i]
#define ARGCOUNT_CHECK(n) \
	if ((n) > 7) { \
		fprintf(stderr, "tg-probe: at most 6 arguments for the execl forms\n"); \
		exit(2); \
	}

static int count_args(char **v)
{
	int n = 0;
	while (v[n])
		n++;
	return n;
}

static void c_execl(ARGS)
{
	struct exec_args x;
	exec_args(argc, argv, &x, "execl PATH [ARG...]");
	int n = count_args(x.argv);
	ARGCOUNT_CHECK(n);
	/* Unused trailing slots are NULL: execl stops at the first one. */
	for (int i = n; i < 8; i++)
		x.argv[i] = NULL;
	int r = CALL(execl(x.path, A(0), A(1), A(2), A(3), A(4), A(5), A(6), (char *)NULL));
	report("execl", r, errno);
}

static void c_execlp(ARGS)
{
	struct exec_args x;
	exec_args(argc, argv, &x, "execlp FILE [ARG...]");
	int n = count_args(x.argv);
	ARGCOUNT_CHECK(n);
	for (int i = n; i < 8; i++)
		x.argv[i] = NULL;
	int r = CALL(execlp(x.path, A(0), A(1), A(2), A(3), A(4), A(5), A(6), (char *)NULL));
	report("execlp", r, errno);
}

static void c_execle(ARGS)
{
	struct exec_args x;
	exec_args(argc, argv, &x, "execle PATH [ARG...] [--env NAME=VALUE...]");
	int n = count_args(x.argv), r;
	char **e = x.envp;
	ARGCOUNT_CHECK(n);
	/* The environment follows the NULL that ends the arguments. */
	errno = 0;
	switch (n) {
	case 1:
		r = execle(x.path, A(0), (char *)NULL, e);
		break;
	case 2:
		r = execle(x.path, A(0), A(1), (char *)NULL, e);
		break;
	case 3:
		r = execle(x.path, A(0), A(1), A(2), (char *)NULL, e);
		break;
	case 4:
		r = execle(x.path, A(0), A(1), A(2), A(3), (char *)NULL, e);
		break;
	case 5:
		r = execle(x.path, A(0), A(1), A(2), A(3), A(4), (char *)NULL, e);
		break;
	case 6:
		r = execle(x.path, A(0), A(1), A(2), A(3), A(4), A(5), (char *)NULL, e);
		break;
	default:
		r = execle(x.path, A(0), A(1), A(2), A(3), A(4), A(5), A(6), (char *)NULL, e);
	}
	report("execle", r, errno);
}

static void c_fexecve(ARGS)
{
	struct exec_args x;
	exec_args(argc, argv, &x, "fexecve PATH [ARG...] [--env NAME=VALUE...]");
	int fd = raw_fd(x.path, O_RDONLY);
	int r = CALL(fexecve(fd, x.argv, x.envp));
	report("fexecve", r, errno);
}

static void c_execveat(ARGS)
{
	struct exec_args x;
	need(argc, 2, "execveat DIR PATH [ARG...] [--env NAME=VALUE...]");
	int dfd = parse_dirfd(argv[0]);
	exec_args(argc - 1, argv + 1, &x, "execveat DIR PATH [ARG...] [--env NAME=VALUE...]");
	int r = CALL(execveat(dfd, x.path, x.argv, x.envp, 0));
	report("execveat", r, errno);
}

/* Waits for a spawned child and reports the spawn's return value. */
static void spawn_report(const char *op, int r, pid_t child)
{
	int status = 0;

	if (r == 0) {
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		add(" child=%d status=%d", (int)child,
		    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	report(op, r, r);
}

static void c_posix_spawn(ARGS)
{
	struct exec_args x;
	pid_t child = 0;
	exec_args(argc, argv, &x, "posix_spawn PATH [ARG...] [--env NAME=VALUE...]");
	fflush(stdout);
	int r = posix_spawn(&child, x.path, NULL, NULL, x.argv, x.envp);
	spawn_report("posix_spawn", r, child);
}

static void c_posix_spawnp(ARGS)
{
	struct exec_args x;
	pid_t child = 0;
	exec_args(argc, argv, &x, "posix_spawnp FILE [ARG...] [--env NAME=VALUE...]");
	fflush(stdout);
	int r = posix_spawnp(&child, x.path, NULL, NULL, x.argv, x.envp);
	spawn_report("posix_spawnp", r, child);
}

/* posix_spawn whose file actions open PATH with FLAGS (mode 0644) on
 * descriptor 5 in the child: libc opens it inside the spawn, before the
 * exec, through its internal open. */
static void c_spawn_with_open(ARGS)
{
	struct exec_args x;
	posix_spawn_file_actions_t fa;
	pid_t child = 0;
	need(argc, 3, "spawn-with-open PATH FLAGS PROGRAM [ARG...]");
	exec_args(argc - 2, argv + 2, &x, "spawn-with-open PATH FLAGS PROGRAM [ARG...]");
	posix_spawn_file_actions_init(&fa);
	int a = posix_spawn_file_actions_addopen(&fa, 5, argv[0], parse_flags(argv[1]), 0644);
	if (a != 0) {
		/* Refused when added: nothing is spawned. */
		report("posix_spawn_file_actions_addopen", a, a);
		return;
	}
	fflush(stdout);
	int r = posix_spawn(&child, x.path, &fa, NULL, x.argv, environ);
	spawn_report("posix_spawn", r, child);
}

/* posix_spawn_file_actions_addopen PATH FLAGS [MODE]: adds the action
 * (and spawns nothing); prints the error number it returns. */
static void c_addopen(ARGS)
{
	posix_spawn_file_actions_t fa;
	need(argc, 2, "posix_spawn_file_actions_addopen PATH FLAGS [MODE]");
	posix_spawn_file_actions_init(&fa);
	int r = posix_spawn_file_actions_addopen(&fa, 5, argv[0], parse_flags(argv[1]),
						 argc > 2 ? (mode_t)strtol(argv[2], NULL, 8)
							  : 0644);
	posix_spawn_file_actions_destroy(&fa);
	report("posix_spawn_file_actions_addopen", r, r);
}

/* Writes through a descriptor number (LOG: the guard's log). */
static void c_write_fd(ARGS)
{
	need(argc, 2, "write-fd FD DATA");
	int fd = parse_fd(argv[0]);
	ssize_t r = CALL(write(fd, argv[1], strlen(argv[1])));
	report("write", r, errno);
}

static void c_ftruncate_fd(ARGS)
{
	need(argc, 2, "ftruncate-fd FD LENGTH");
	int fd = parse_fd(argv[0]);
	int r = CALL(ftruncate(fd, parse_num(argv[1])));
	report("ftruncate", r, errno);
}

/* Opens /proc/self/fd/N of the descriptor the last step opened (a
 * reopen of the same file with other flags). */
static void c_reopen(ARGS)
{
	char proc[64];
	need(argc, 1, "reopen FLAGS");
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", last_fd);
	int fd = CALL(open(proc, parse_flags(argv[0])));
	report_fd("open", fd, errno);
}

static void c_system(ARGS)
{
	need(argc, 1, "system COMMAND");
	fflush(stdout);
	int r = CALL(system(argv[0]));
	int err = errno;
	if (r != -1)
		add(" status=%d", WIFEXITED(r) ? WEXITSTATUS(r) : 128 + WTERMSIG(r));
	report("system", r, err);
}

static void c_popen(ARGS)
{
	need(argc, 1, "popen COMMAND");
	char buf[4096];
	size_t n;
	fflush(stdout);
	FILE *f = CALL(popen(argv[0], "r"));
	int err = errno;
	if (!f) {
		report("popen", -1, err);
		return;
	}
	int fd = fileno(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	int status = pclose(f);
	add(" status=%d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	report("popen", fd, err);
}

/* writes through a descriptor the guard never saw */
static void c_write(ARGS)
{
	need(argc, 2, "write PATH DATA");
	int fd = raw_fd(argv[0], O_WRONLY);
	ssize_t r = CALL(write(fd, argv[1], strlen(argv[1])));
	report("write", r, errno);
}

static void c_pwrite(ARGS)
{
	need(argc, 2, "pwrite PATH DATA");
	int fd = raw_fd(argv[0], O_WRONLY);
	ssize_t r = CALL(pwrite(fd, argv[1], strlen(argv[1]), 0));
	report("pwrite", r, errno);
}

static void c_pwrite64(ARGS)
{
	need(argc, 2, "pwrite64 PATH DATA");
	int fd = raw_fd(argv[0], O_WRONLY);
	ssize_t r = CALL(pwrite64(fd, argv[1], strlen(argv[1]), 0));
	report("pwrite64", r, errno);
}

#define IOV(s) \
	{ \
		.iov_base = (s), .iov_len = strlen(s) \
	}

static void c_writev(ARGS)
{
	need(argc, 2, "writev PATH DATA");
	int fd = raw_fd(argv[0], O_WRONLY);
	struct iovec v[1] = { IOV(argv[1]) };
	ssize_t r = CALL(writev(fd, v, 1));
	report("writev", r, errno);
}

static void c_pwritev(ARGS)
{
	need(argc, 2, "pwritev PATH DATA");
	int fd = raw_fd(argv[0], O_WRONLY);
	struct iovec v[1] = { IOV(argv[1]) };
	ssize_t r = CALL(pwritev(fd, v, 1, 0));
	report("pwritev", r, errno);
}

static void c_pwritev64(ARGS)
{
	need(argc, 2, "pwritev64 PATH DATA");
	int fd = raw_fd(argv[0], O_WRONLY);
	struct iovec v[1] = { IOV(argv[1]) };
	ssize_t r = CALL(pwritev64(fd, v, 1, 0));
	report("pwritev64", r, errno);
}

static void c_pwritev2(ARGS)
{
	need(argc, 2, "pwritev2 PATH DATA");
	int fd = raw_fd(argv[0], O_WRONLY);
	struct iovec v[1] = { IOV(argv[1]) };
	ssize_t r = CALL(pwritev2(fd, v, 1, 0, 0));
	report("pwritev2", r, errno);
}

static void c_pwritev64v2(ARGS)
{
	need(argc, 2, "pwritev64v2 PATH DATA");
	int fd = raw_fd(argv[0], O_WRONLY);
	struct iovec v[1] = { IOV(argv[1]) };
	ssize_t r = CALL(pwritev64v2(fd, v, 1, 0, 0));
	report("pwritev64v2", r, errno);
}

static void c_ftruncate(ARGS)
{
	need(argc, 2, "ftruncate PATH LENGTH");
	int fd = raw_fd(argv[0], O_WRONLY);
	int r = CALL(ftruncate(fd, parse_num(argv[1])));
	report("ftruncate", r, errno);
}

static void c_ftruncate64(ARGS)
{
	need(argc, 2, "ftruncate64 PATH LENGTH");
	int fd = raw_fd(argv[0], O_WRONLY);
	int r = CALL(ftruncate64(fd, parse_num(argv[1])));
	report("ftruncate64", r, errno);
}

static void c_fallocate(ARGS)
{
	need(argc, 2, "fallocate PATH LENGTH");
	int fd = raw_fd(argv[0], O_WRONLY);
	int r = CALL(fallocate(fd, 0, 0, parse_num(argv[1])));
	report("fallocate", r, errno);
}

static void c_fallocate64(ARGS)
{
	need(argc, 2, "fallocate64 PATH LENGTH");
	int fd = raw_fd(argv[0], O_WRONLY);
	int r = CALL(fallocate64(fd, 0, 0, parse_num(argv[1])));
	report("fallocate64", r, errno);
}

static void c_posix_fallocate(ARGS)
{
	need(argc, 2, "posix_fallocate PATH LENGTH");
	int fd = raw_fd(argv[0], O_WRONLY);
	int r = posix_fallocate(fd, 0, parse_num(argv[1]));
	report("posix_fallocate", r, r);
}

static void c_posix_fallocate64(ARGS)
{
	need(argc, 2, "posix_fallocate64 PATH LENGTH");
	int fd = raw_fd(argv[0], O_WRONLY);
	int r = posix_fallocate64(fd, 0, parse_num(argv[1]));
	report("posix_fallocate64", r, r);
}

static void c_copy_file_range(ARGS)
{
	need(argc, 2, "copy_file_range IN OUT");
	int in = raw_fd(argv[0], O_RDONLY), out = raw_fd(argv[1], O_WRONLY);
	ssize_t r = CALL(copy_file_range(in, NULL, out, NULL, 1 << 20, 0));
	report("copy_file_range", r, errno);
}

static void c_sendfile(ARGS)
{
	need(argc, 2, "sendfile OUT IN");
	int out = raw_fd(argv[0], O_WRONLY), in = raw_fd(argv[1], O_RDONLY);
	ssize_t r = CALL(sendfile(out, in, NULL, 1 << 20));
	report("sendfile", r, errno);
}

static void c_sendfile64(ARGS)
{
	need(argc, 2, "sendfile64 OUT IN");
	int out = raw_fd(argv[0], O_WRONLY), in = raw_fd(argv[1], O_RDONLY);
	ssize_t r = CALL(sendfile64(out, in, NULL, 1 << 20));
	report("sendfile64", r, errno);
}

/* descriptors: FD is a number, LOG or NEW */
static void c_close(ARGS)
{
	need(argc, 1, "close FD");
	int fd = parse_fd(argv[0]);
	int r = CALL(close(fd));
	report_log("close", r, errno);
}

static void c_dup2(ARGS)
{
	need(argc, 2, "dup2 OLDFD NEWFD");
	int a = parse_fd(argv[0]), b = parse_fd(argv[1]);
	int r = CALL(dup2(a, b));
	report_log("dup2", r, errno);
}

static void c_dup3(ARGS)
{
	need(argc, 2, "dup3 OLDFD NEWFD [FLAGS]");
	int a = parse_fd(argv[0]), b = parse_fd(argv[1]);
	int r = CALL(dup3(a, b, argc > 2 ? parse_flags(argv[2]) : 0));
	report_log("dup3", r, errno);
}

static void c_close_range(ARGS)
{
	need(argc, 2, "close_range LO HI|MAX");
	unsigned lo = (unsigned)parse_fd(argv[0]), hi = (unsigned)parse_fd(argv[1]);
	int r = CALL(close_range(lo, hi, 0));
	report_log("close_range", r, errno);
}

static void c_closefrom(ARGS)
{
	need(argc, 1, "closefrom LO");
	int lo = parse_fd(argv[0]);
	errno = 0;
	closefrom(lo);
	report_log("closefrom", 0, errno);
}

/* attributes */
static void c_truncate(ARGS)
{
	need(argc, 2, "truncate PATH LENGTH");
	int r = CALL(truncate(argv[0], parse_num(argv[1])));
	report("truncate", r, errno);
}

static void c_truncate64(ARGS)
{
	need(argc, 2, "truncate64 PATH LENGTH");
	int r = CALL(truncate64(argv[0], parse_num(argv[1])));
	report("truncate64", r, errno);
}

static void c_chmod(ARGS)
{
	need(argc, 2, "chmod PATH MODE");
	int r = CALL(chmod(argv[0], parse_mode(argv[1])));
	int err = errno;
	report_path("chmod", r, err, argv[0], 0);
}

static void c_fchmod(ARGS)
{
	need(argc, 2, "fchmod PATH MODE");
	int fd = raw_fd(argv[0], O_RDONLY);
	int r = CALL(fchmod(fd, parse_mode(argv[1])));
	int err = errno;
	report_path("fchmod", r, err, argv[0], 0);
}

static void c_fchmodat(ARGS)
{
	need(argc, 3, "fchmodat DIR PATH MODE [FLAGS]");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(
		fchmodat(dfd, argv[1], parse_mode(argv[2]), argc > 3 ? parse_flags(argv[3]) : 0));
	int err = errno;
	struct stat st;
	if (syscall(SYS_newfstatat, dfd, argv[1], &st, 0) == 0)
		add_mode(st.st_mode & 07777);
	report("fchmodat", r, err);
}

static void c_lchmod(ARGS)
{
	need(argc, 2, "lchmod PATH MODE");
	int r = CALL(lchmod(argv[0], parse_mode(argv[1])));
	int err = errno;
	report_path("lchmod", r, err, argv[0], 1);
}

static uid_t parse_id(const char *s)
{
	return (uid_t)parse_num(s);
}

static void c_chown(ARGS)
{
	need(argc, 3, "chown PATH UID GID");
	int r = CALL(chown(argv[0], parse_id(argv[1]), parse_id(argv[2])));
	report("chown", r, errno);
}

static void c_fchown(ARGS)
{
	need(argc, 3, "fchown PATH UID GID");
	int fd = raw_fd(argv[0], O_RDONLY);
	int r = CALL(fchown(fd, parse_id(argv[1]), parse_id(argv[2])));
	report("fchown", r, errno);
}

static void c_lchown(ARGS)
{
	need(argc, 3, "lchown PATH UID GID");
	int r = CALL(lchown(argv[0], parse_id(argv[1]), parse_id(argv[2])));
	report("lchown", r, errno);
}

static void c_fchownat(ARGS)
{
	need(argc, 4, "fchownat DIR PATH UID GID [FLAGS]");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(fchownat(dfd, argv[1], parse_id(argv[2]), parse_id(argv[3]),
			      argc > 4 ? parse_flags(argv[4]) : 0));
	report("fchownat", r, errno);
}

/* links and nodes */
static void c_link(ARGS)
{
	need(argc, 2, "link OLD NEW");
	int r = CALL(link(argv[0], argv[1]));
	report("link", r, errno);
}

static void c_linkat(ARGS)
{
	need(argc, 4, "linkat DIR OLD DIR NEW [FLAGS]");
	int d1 = parse_dirfd(argv[0]), d2 = parse_dirfd(argv[2]);
	int r = CALL(linkat(d1, argv[1], d2, argv[3], argc > 4 ? parse_flags(argv[4]) : 0));
	report("linkat", r, errno);
}

static void c_symlink(ARGS)
{
	need(argc, 2, "symlink TARGET LINK");
	int r = CALL(symlink(argv[0], argv[1]));
	report("symlink", r, errno);
}

static void c_symlinkat(ARGS)
{
	need(argc, 3, "symlinkat TARGET DIR LINK");
	int dfd = parse_dirfd(argv[1]);
	int r = CALL(symlinkat(argv[0], dfd, argv[2]));
	report("symlinkat", r, errno);
}

static void c_mknod(ARGS)
{
	need(argc, 2, "mknod PATH MODE");
	int r = CALL(mknod(argv[0], S_IFREG | parse_mode(argv[1]), 0));
	int err = errno;
	report_path("mknod", r, err, r == 0 ? argv[0] : NULL, 1);
}

static void c_mknodat(ARGS)
{
	need(argc, 3, "mknodat DIR PATH MODE");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(mknodat(dfd, argv[1], S_IFREG | parse_mode(argv[2]), 0));
	int err = errno;
	struct stat st;
	if (r == 0 && syscall(SYS_newfstatat, dfd, argv[1], &st, AT_SYMLINK_NOFOLLOW) == 0)
		add_mode(st.st_mode & 07777);
	report("mknodat", r, err);
}

static void c_mkfifo(ARGS)
{
	need(argc, 2, "mkfifo PATH MODE");
	int r = CALL(mkfifo(argv[0], parse_mode(argv[1])));
	int err = errno;
	report_path("mkfifo", r, err, r == 0 ? argv[0] : NULL, 1);
}

static void c_mkfifoat(ARGS)
{
	need(argc, 3, "mkfifoat DIR PATH MODE");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(mkfifoat(dfd, argv[1], parse_mode(argv[2])));
	int err = errno;
	struct stat st;
	if (r == 0 && syscall(SYS_newfstatat, dfd, argv[1], &st, AT_SYMLINK_NOFOLLOW) == 0)
		add_mode(st.st_mode & 07777);
	report("mkfifoat", r, err);
}

/* The pre-2.33 entry points are compatibility symbols a new program
 * cannot link to; old binaries bind them by name, as dlsym does. */
#if defined(__x86_64__)
#define STAT_VER 1
#else
#define STAT_VER 0
#endif
#define MKNOD_VER 0

static void *compat(const char *name)
{
	void *f = dlsym(RTLD_DEFAULT, name);
	if (!f) {
		printf("%s ret=-1 errno=ENOSYS unavailable=1 pid=%d\n", name, (int)getpid());
		fflush(stdout);
		exit(3);
	}
	return f;
}

static void c_xmknod(ARGS)
{
	need(argc, 2, "__xmknod PATH MODE");
	int (*f)(int, const char *, mode_t, dev_t *) = compat("__xmknod");
	dev_t dev = 0;
	int r = CALL(f(MKNOD_VER, argv[0], S_IFREG | parse_mode(argv[1]), &dev));
	int err = errno;
	report_path("__xmknod", r, err, r == 0 ? argv[0] : NULL, 1);
}

static void c_xmknodat(ARGS)
{
	need(argc, 3, "__xmknodat DIR PATH MODE");
	int (*f)(int, int, const char *, mode_t, dev_t *) = compat("__xmknodat");
	int dfd = parse_dirfd(argv[0]);
	dev_t dev = 0;
	int r = CALL(f(MKNOD_VER, dfd, argv[1], S_IFREG | parse_mode(argv[2]), &dev));
	int err = errno;
	struct stat st;
	if (r == 0 && syscall(SYS_newfstatat, dfd, argv[1], &st, AT_SYMLINK_NOFOLLOW) == 0)
		add_mode(st.st_mode & 07777);
	report("__xmknodat", r, err);
}

/* folders */
static void c_opendir(ARGS)
{
	need(argc, 1, "opendir PATH");
	DIR *d = CALL(opendir(argv[0]));
	report("opendir", d ? dirfd(d) : -1, errno);
}

static void c_fdopendir(ARGS)
{
	need(argc, 1, "fdopendir PATH");
	int fd = raw_fd(argv[0], O_RDONLY | O_DIRECTORY);
	DIR *d = CALL(fdopendir(fd));
	report("fdopendir", d ? dirfd(d) : -1, errno);
}

static void c_scandir(ARGS)
{
	need(argc, 1, "scandir PATH");
	struct dirent **list;
	int r = CALL(scandir(argv[0], &list, NULL, NULL));
	report("scandir", r, errno);
}

static void c_scandir64(ARGS)
{
	need(argc, 1, "scandir64 PATH");
	struct dirent64 **list;
	int r = CALL(scandir64(argv[0], &list, NULL, NULL));
	report("scandir64", r, errno);
}

static void c_scandirat(ARGS)
{
	need(argc, 2, "scandirat DIR PATH");
	struct dirent **list;
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(scandirat(dfd, argv[1], &list, NULL, NULL));
	report("scandirat", r, errno);
}

static void c_scandirat64(ARGS)
{
	need(argc, 2, "scandirat64 DIR PATH");
	struct dirent64 **list;
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(scandirat64(dfd, argv[1], &list, NULL, NULL));
	report("scandirat64", r, errno);
}

/* the stat family */
static void c_stat(ARGS)
{
	struct stat st;
	need(argc, 1, "stat PATH");
	int r = CALL(stat(argv[0], &st));
	report("stat", r, errno);
}

static void c_stat64(ARGS)
{
	struct stat64 st;
	need(argc, 1, "stat64 PATH");
	int r = CALL(stat64(argv[0], &st));
	report("stat64", r, errno);
}

static void c_lstat(ARGS)
{
	struct stat st;
	need(argc, 1, "lstat PATH");
	int r = CALL(lstat(argv[0], &st));
	report("lstat", r, errno);
}

static void c_lstat64(ARGS)
{
	struct stat64 st;
	need(argc, 1, "lstat64 PATH");
	int r = CALL(lstat64(argv[0], &st));
	report("lstat64", r, errno);
}

static void c_fstatat(ARGS)
{
	struct stat st;
	need(argc, 2, "fstatat DIR PATH [FLAGS]");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(fstatat(dfd, argv[1], &st, argc > 2 ? parse_flags(argv[2]) : 0));
	report("fstatat", r, errno);
}

static void c_fstatat64(ARGS)
{
	struct stat64 st;
	need(argc, 2, "fstatat64 DIR PATH [FLAGS]");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(fstatat64(dfd, argv[1], &st, argc > 2 ? parse_flags(argv[2]) : 0));
	report("fstatat64", r, errno);
}

static void c_statx(ARGS)
{
	struct statx st;
	need(argc, 2, "statx DIR PATH [FLAGS]");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(
		statx(dfd, argv[1], argc > 2 ? parse_flags(argv[2]) : 0, STATX_BASIC_STATS, &st));
	report("statx", r, errno);
}

static void c_access(ARGS)
{
	need(argc, 2, "access PATH MODE");
	int r = CALL(access(argv[0], parse_flags(argv[1])));
	report("access", r, errno);
}

static void c_faccessat(ARGS)
{
	need(argc, 3, "faccessat DIR PATH MODE [FLAGS]");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(
		faccessat(dfd, argv[1], parse_flags(argv[2]), argc > 3 ? parse_flags(argv[3]) : 0));
	report("faccessat", r, errno);
}

static void c_xstat_any(const char *name, int argc, char **argv)
{
	struct stat64 st; /* large enough for either layout */
	need(argc, 1, "__xstat PATH");
	int (*f)(int, const char *, void *) = compat(name);
	int r = CALL(f(STAT_VER, argv[0], &st));
	report(name, r, errno);
}

static void c_xstat(ARGS)
{
	c_xstat_any("__xstat", argc, argv);
}
static void c_xstat64(ARGS)
{
	c_xstat_any("__xstat64", argc, argv);
}
static void c_lxstat(ARGS)
{
	c_xstat_any("__lxstat", argc, argv);
}
static void c_lxstat64(ARGS)
{
	c_xstat_any("__lxstat64", argc, argv);
}

static void c_fxstatat_any(const char *name, int argc, char **argv)
{
	struct stat64 st;
	need(argc, 2, "__fxstatat DIR PATH [FLAGS]");
	int (*f)(int, int, const char *, void *, int) = compat(name);
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(f(STAT_VER, dfd, argv[1], &st, argc > 2 ? parse_flags(argv[2]) : 0));
	report(name, r, errno);
}

static void c_fxstatat(ARGS)
{
	c_fxstatat_any("__fxstatat", argc, argv);
}
static void c_fxstatat64(ARGS)
{
	c_fxstatat_any("__fxstatat64", argc, argv);
}

static void c_euidaccess(ARGS)
{
	need(argc, 2, "euidaccess PATH MODE");
	int r = CALL(euidaccess(argv[0], parse_flags(argv[1])));
	report("euidaccess", r, errno);
}

static void c_eaccess(ARGS)
{
	need(argc, 2, "eaccess PATH MODE");
	int r = CALL(eaccess(argv[0], parse_flags(argv[1])));
	report("eaccess", r, errno);
}

/* the working directory (a step: later relative paths start there) */
static void c_fchdir(ARGS)
{
	need(argc, 1, "fchdir PATH");
	int fd = raw_fd(argv[0], O_RDONLY | O_DIRECTORY);
	int r = CALL(fchdir(fd));
	report("fchdir", r, errno);
}

/* times: set to "now" (NULL times) */
static void c_utime(ARGS)
{
	need(argc, 1, "utime PATH");
	int r = CALL(utime(argv[0], NULL));
	report("utime", r, errno);
}

static void c_utimes(ARGS)
{
	need(argc, 1, "utimes PATH");
	int r = CALL(utimes(argv[0], NULL));
	report("utimes", r, errno);
}

static void c_lutimes(ARGS)
{
	need(argc, 1, "lutimes PATH");
	int r = CALL(lutimes(argv[0], NULL));
	report("lutimes", r, errno);
}

static void c_utimensat(ARGS)
{
	need(argc, 2, "utimensat DIR PATH [FLAGS]");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(utimensat(dfd, argv[1], NULL, argc > 2 ? parse_flags(argv[2]) : 0));
	report("utimensat", r, errno);
}

static void c_futimesat(ARGS)
{
	need(argc, 2, "futimesat DIR PATH");
	int dfd = parse_dirfd(argv[0]);
	int r = CALL(futimesat(dfd, argv[1], NULL));
	report("futimesat", r, errno);
}

static void c_futimens(ARGS)
{
	need(argc, 1, "futimens PATH");
	int fd = raw_fd(argv[0], O_RDONLY);
	int r = CALL(futimens(fd, NULL));
	report("futimens", r, errno);
}

static void c_futimes(ARGS)
{
	need(argc, 1, "futimes PATH");
	int fd = raw_fd(argv[0], O_RDONLY);
	int r = CALL(futimes(fd, NULL));
	report("futimes", r, errno);
}

/* extended attributes */
static void c_setxattr(ARGS)
{
	need(argc, 3, "setxattr PATH NAME VALUE");
	int r = CALL(setxattr(argv[0], argv[1], argv[2], strlen(argv[2]), 0));
	report("setxattr", r, errno);
}

static void c_lsetxattr(ARGS)
{
	need(argc, 3, "lsetxattr PATH NAME VALUE");
	int r = CALL(lsetxattr(argv[0], argv[1], argv[2], strlen(argv[2]), 0));
	report("lsetxattr", r, errno);
}

static void c_fsetxattr(ARGS)
{
	need(argc, 3, "fsetxattr PATH NAME VALUE");
	int fd = raw_fd(argv[0], O_RDONLY);
	int r = CALL(fsetxattr(fd, argv[1], argv[2], strlen(argv[2]), 0));
	report("fsetxattr", r, errno);
}

static void c_removexattr(ARGS)
{
	need(argc, 2, "removexattr PATH NAME");
	int r = CALL(removexattr(argv[0], argv[1]));
	report("removexattr", r, errno);
}

static void c_lremovexattr(ARGS)
{
	need(argc, 2, "lremovexattr PATH NAME");
	int r = CALL(lremovexattr(argv[0], argv[1]));
	report("lremovexattr", r, errno);
}

static void c_fremovexattr(ARGS)
{
	need(argc, 2, "fremovexattr PATH NAME");
	int fd = raw_fd(argv[0], O_RDONLY);
	int r = CALL(fremovexattr(fd, argv[1]));
	report("fremovexattr", r, errno);
}

/* folder walkers: ret is glob's return value (GLOB_ABORTED = 2), the walk's
 * return value, or the stream's existence; n= counts what was found */
static int walked;

static int walk_fn(const char *p, const struct stat *st, int type, struct FTW *f)
{
	walked++;
	return 0;
}

static int walk64_fn(const char *p, const struct stat64 *st, int type, struct FTW *f)
{
	walked++;
	return 0;
}

static int ftw_fn(const char *p, const struct stat *st, int type)
{
	walked++;
	return 0;
}

static int ftw64_fn(const char *p, const struct stat64 *st, int type)
{
	walked++;
	return 0;
}

static void c_glob(ARGS)
{
	glob_t g;
	need(argc, 1, "glob PATTERN");
	int r = CALL(glob(argv[0], 0, NULL, &g));
	int err = errno;
	add(" n=%zu", r == 0 ? g.gl_pathc : 0);
	report("glob", r, err);
}

static void c_glob64(ARGS)
{
	glob64_t g;
	need(argc, 1, "glob64 PATTERN");
	int r = CALL(glob64(argv[0], 0, NULL, &g));
	int err = errno;
	add(" n=%zu", r == 0 ? g.gl_pathc : 0);
	report("glob64", r, err);
}

static void c_nftw(ARGS)
{
	need(argc, 1, "nftw DIR");
	int r = CALL(nftw(argv[0], walk_fn, 8, FTW_PHYS));
	int err = errno;
	add(" n=%d", walked);
	report("nftw", r, err);
}

static void c_nftw64(ARGS)
{
	need(argc, 1, "nftw64 DIR");
	int r = CALL(nftw64(argv[0], walk64_fn, 8, FTW_PHYS));
	int err = errno;
	add(" n=%d", walked);
	report("nftw64", r, err);
}

static void c_ftw(ARGS)
{
	need(argc, 1, "ftw DIR");
	int r = CALL(ftw(argv[0], ftw_fn, 8));
	int err = errno;
	add(" n=%d", walked);
	report("ftw", r, err);
}

static void c_ftw64(ARGS)
{
	need(argc, 1, "ftw64 DIR");
	int r = CALL(ftw64(argv[0], ftw64_fn, 8));
	int err = errno;
	add(" n=%d", walked);
	report("ftw64", r, err);
}

static void c_fts_open(ARGS)
{
	need(argc, 1, "fts_open PATH");
	char *paths[] = { argv[0], NULL };
	FTS *f = CALL(fts_open(paths, FTS_PHYSICAL, NULL));
	int err = errno;
	if (f) {
		while (fts_read(f))
			walked++;
		add(" n=%d", walked);
		fts_close(f);
	}
	report("fts_open", f ? 0 : -1, err);
}

static void c_fts64_open(ARGS)
{
	need(argc, 1, "fts64_open PATH");
	char *paths[] = { argv[0], NULL };
	FTS64 *f = CALL(fts64_open(paths, FTS_PHYSICAL, NULL));
	int err = errno;
	if (f) {
		while (fts64_read(f))
			walked++;
		add(" n=%d", walked);
		fts64_close(f);
	}
	report("fts64_open", f ? 0 : -1, err);
}

/* glibc's exported aliases, reached by name as ctypes.CDLL(None).__open64
 * reaches them: ALIAS PATH FLAGS opens, ALIAS PATH DATA writes through a
 * descriptor the guard never saw, __libc_system COMMAND runs a shell. */
static void c_open_alias(const char *name, int argc, char **argv)
{
	need(argc, 2, "__open* PATH FLAGS");
	int (*f)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_DEFAULT,
										  name);
	if (!f) {
		report(name, -1, ENOSYS);
		return;
	}
	int fd = CALL(f(argv[0], parse_flags(argv[1]), 0644));
	report_fd(name, fd, errno);
}

static void c_write_alias(const char *name, int argc, char **argv)
{
	need(argc, 2, "__write* PATH DATA");
	int fd = raw_fd(argv[0], O_WRONLY);
	ssize_t r;
	if (strstr(name, "pwrite")) {
		ssize_t (*f)(int, const void *, size_t, off_t) = (ssize_t(*)(
			int, const void *, size_t, off_t))dlsym(RTLD_DEFAULT, name);
		r = f ? CALL(f(fd, argv[1], strlen(argv[1]), 0)) : (errno = ENOSYS, -1);
	} else {
		ssize_t (*f)(int, const void *, size_t) = (ssize_t(*)(
			int, const void *, size_t))dlsym(RTLD_DEFAULT, name);
		r = f ? CALL(f(fd, argv[1], strlen(argv[1]))) : (errno = ENOSYS, -1);
	}
	report(name, r, errno);
}

static void c___open(ARGS)
{
	c_open_alias("__open", argc, argv);
}
static void c___open64(ARGS)
{
	c_open_alias("__open64", argc, argv);
}
static void c___open_nocancel(ARGS)
{
	c_open_alias("__open_nocancel", argc, argv);
}
static void c___open64_nocancel(ARGS)
{
	c_open_alias("__open64_nocancel", argc, argv);
}
static void c___write(ARGS)
{
	c_write_alias("__write", argc, argv);
}
static void c___write_nocancel(ARGS)
{
	c_write_alias("__write_nocancel", argc, argv);
}
static void c___pwrite64(ARGS)
{
	c_write_alias("__pwrite64", argc, argv);
}
static void c___libc_pwrite(ARGS)
{
	c_write_alias("__libc_pwrite", argc, argv);
}

static void c___libc_system(ARGS)
{
	need(argc, 1, "__libc_system COMMAND");
	int (*f)(const char *) = (int (*)(const char *))dlsym(RTLD_DEFAULT, "__libc_system");
	fflush(stdout);
	int r = f ? CALL(f(argv[0])) : (errno = ENOSYS, -1);
	report("__libc_system", r, errno);
}

/* closedir DIR1 DIR2 NAME: DIR1 opened through the guard (which remembers
 * the folder), closed behind it by closedir(fdopendir()), DIR2 opened by
 * a raw system call onto the same number, then NAME opened O_WRONLY in
 * it: it must be judged in DIR2. */
static void c_closedir(ARGS)
{
	need(argc, 3, "closedir DIR1 DIR2 NAME");
	int fd = open(argv[0], O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	int r = d ? CALL(closedir(d)) : -1;
	report("closedir", r, errno);
	int fd2 = raw_fd(argv[1], O_RDONLY | O_DIRECTORY);
	add(" same=%d", fd2 == fd);
	int o = CALL(openat(fd2, argv[2], O_WRONLY));
	report_fd("openat", o, errno);
}

/* dlsym LIB SYM PATH [VERSION]: SYM looked up on LIB's handle (libm's view
 * of libc), then called as open(PATH, O_WRONLY). */
static void c_dlsym_any(const char *op, int argc, char **argv)
{
	need(argc, 3, "dlsym LIB SYM PATH [VERSION]");
	void *h = dlopen(argv[0], RTLD_NOW);
	void *p = !h ? NULL : argc > 3 ? dlvsym(h, argv[1], argv[3]) : dlsym(h, argv[1]);
	report(op, p ? 0 : -1, p ? 0 : ENOENT);
	if (!p)
		return;
	int (*o)(const char *, int, ...) = (int (*)(const char *, int, ...))p;
	int fd = CALL(o(argv[2], O_WRONLY));
	report_fd("open", fd, errno);
}

static void c_dlsym(ARGS)
{
	c_dlsym_any("dlsym", argc, argv);
}
static void c_dlvsym(ARGS)
{
	c_dlsym_any("dlvsym", argc, argv);
}

/* dlmopen NEW|BASE LIB */
static void c_dlmopen(ARGS)
{
	need(argc, 2, "dlmopen NEW|BASE LIB");
	Lmid_t lm = strcmp(argv[0], "NEW") == 0 ? LM_ID_NEWLM : LM_ID_BASE;
	void *h = CALL(dlmopen(lm, argv[1], RTLD_NOW));
	report("dlmopen", h ? 0 : -1, errno);
}

/* fts_read DIR NAME (and fts64_read): walks DIR changing directory, and
 * opens the first entry called NAME by its relative name O_WRONLY: it
 * must be judged in the folder fts moved to. fts_close DIR REL: after the
 * walk, REL opened O_WRONLY from the working directory fts restored. */
#define FTS_WALK(T, open_fn, read_fn, close_fn, op) \
	char *paths[] = { argv[0], NULL }; \
	T##_t *f = open_fn(paths, FTS_PHYSICAL, NULL); \
	int fd = -1, err = ENOENT, r = -1; \
	T##ENT_t *e; \
	while (f && (e = CALL(read_fn(f)))) { \
		if (e->fts_info == FTS_F && strcmp(e->fts_name, argv[1]) == 0 && \
		    strcmp(op, "fts_close") != 0 && strcmp(op, "fts64_close") != 0) { \
			fd = CALL(open(e->fts_accpath, O_WRONLY)); \
			err = errno; \
			break; \
		} \
	} \
	if (f) \
		r = CALL(close_fn(f)); \
	if (strcmp(op, "fts_close") == 0 || strcmp(op, "fts64_close") == 0) { \
		report(op, r, errno); \
		fd = CALL(open(argv[1], O_WRONLY)); \
		err = errno; \
	} else { \
		report(op, f ? 0 : -1, 0); \
	} \
	report_fd("open", fd, err)

typedef FTS FTS_t;
typedef FTSENT FTSENT_t;
typedef FTS64 FTS64_t;
typedef FTSENT64 FTS64ENT_t;

static void c_fts_read(ARGS)
{
	need(argc, 2, "fts_read DIR NAME");
	FTS_WALK(FTS, fts_open, fts_read, fts_close, "fts_read");
}

static void c_fts64_read(ARGS)
{
	need(argc, 2, "fts64_read DIR NAME");
	FTS_WALK(FTS64, fts64_open, fts64_read, fts64_close, "fts64_read");
}

static void c_fts_close(ARGS)
{
	need(argc, 2, "fts_close DIR REL");
	FTS_WALK(FTS, fts_open, fts_read, fts_close, "fts_close");
}

static void c_fts64_close(ARGS)
{
	need(argc, 2, "fts64_close DIR REL");
	FTS_WALK(FTS64, fts64_open, fts64_read, fts64_close, "fts64_close");
}

/* dlopen LIB [PATH]: with PATH, the handle's "open" opens PATH O_WRONLY,
 * as ctypes.CDLL("libc.so.6").open does (it must still be guarded). */
static void c_dlopen(ARGS)
{
	need(argc, 1, "dlopen LIB [PATH]");
	void *h = CALL(dlopen(argv[0], RTLD_NOW));
	int err = errno;
	if (!h) {
		add(" dlerror=%s", dlerror());
		report("dlopen", -1, err);
		return;
	}
	add(" open_is_default=%d", dlsym(h, "open") == dlsym(RTLD_DEFAULT, "open"));
	report("dlopen", 0, err);
	if (argc > 1) {
		int (*o)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(h,
											  "open");
		if (!o) {
			report("open", -1, ENOSYS);
			return;
		}
		int fd = CALL(o(argv[1], O_WRONLY));
		report_fd("open", fd, errno);
	}
}

/* A program's own seccomp filter. "seccomp" installs one that allows every
 * system call except openat2, which kills the process: the guard must make
 * no openat2 probe of its own once the program has a filter, or the next
 * guarded call kills the probe. prctl installs it with PR_SET_SECCOMP,
 * syscall with SYS_seccomp. */
static struct sock_filter no_openat2[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog no_openat2_prog = {
	.len = sizeof(no_openat2) / sizeof(no_openat2[0]),
	.filter = no_openat2,
};

static void seccomp_arg(int argc, char **argv, const char *usage)
{
	need(argc, 1, usage);
	if (strcmp(argv[0], "seccomp") != 0) {
		fprintf(stderr, "usage: tg-probe %s\n", usage);
		exit(2);
	}
}

static void c_prctl(ARGS)
{
	seccomp_arg(argc, argv, "prctl seccomp");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		exit(2);
	int r = CALL(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &no_openat2_prog, 0, 0));
	report("prctl", r, errno);
}

static void c_syscall(ARGS)
{
	seccomp_arg(argc, argv, "syscall seccomp");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		exit(2);
	long r = CALL(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &no_openat2_prog));
	report("syscall", r, errno);
}

/* helpers for the tests */
static void c_env(ARGS)
{
	static const char *names[] = { "LD_PRELOAD",         "TRAINGUARD_POLICY", "TRAINGUARD_LOG",
				       "TRAINGUARD_MODE",    "TRAINGUARD_JOB_ID", "TRAINGUARD_VARS",
				       "TRAINGUARD_ON_ERROR" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i]);
		if (v)
			printf("env %s=%s\n", names[i], v);
	}
	report("env", 0, 0);
}

static void c_errno_at_main(ARGS)
{
	report("errno-at-main", errno_at_main, errno_at_main);
}

static void c_clearenv(ARGS)
{
	int r = clearenv();
	report("clearenv", r, 0);
}

static void c_setenv(ARGS)
{
	need(argc, 2, "setenv NAME VALUE");
	int r = setenv(argv[0], argv[1], 1);
	report("setenv", r, 0);
}

static void c_chdir(ARGS)
{
	need(argc, 1, "chdir PATH");
	int r = CALL(chdir(argv[0]));
	report("chdir", r, errno);
}

/* ---- dispatch ------------------------------------------------------------ */

enum { STEP = 0, REST = 1 }; /* REST: takes every remaining argument (exec) */

static const struct cmd {
	const char *name;
	void (*fn)(int argc, char **argv);
	int kind;
} cmds[] = {
	{ "open", c_open, STEP },
	{ "open64", c_open64, STEP },
	{ "openat", c_openat, STEP },
	{ "openat64", c_openat64, STEP },
	{ "__open_2", c_open_2, STEP },
	{ "__open64_2", c_open64_2, STEP },
	{ "__openat_2", c_openat_2, STEP },
	{ "__openat64_2", c_openat64_2, STEP },
	{ "creat", c_creat, STEP },
	{ "creat64", c_creat64, STEP },
	{ "fopen", c_fopen, STEP },
	{ "fopen64", c_fopen64, STEP },
	{ "freopen", c_freopen, STEP },
	{ "freopen64", c_freopen64, STEP },
	{ "fdopen", c_fdopen, STEP },
	{ "mkstemp", c_mkstemp, STEP },
	{ "mkstemp64", c_mkstemp64, STEP },
	{ "mkostemp", c_mkostemp, STEP },
	{ "mkostemp64", c_mkostemp64, STEP },
	{ "mkstemps", c_mkstemps, STEP },
	{ "mkstemps64", c_mkstemps64, STEP },
	{ "mkostemps", c_mkostemps, STEP },
	{ "mkostemps64", c_mkostemps64, STEP },
	{ "mkdtemp", c_mkdtemp, STEP },
	{ "tmpfile", c_tmpfile, STEP },
	{ "tmpfile64", c_tmpfile64, STEP },
	{ "unlink", c_unlink, STEP },
	{ "unlinkat", c_unlinkat, STEP },
	{ "remove", c_remove, STEP },
	{ "rmdir", c_rmdir, STEP },
	{ "mkdir", c_mkdir, STEP },
	{ "mkdirat", c_mkdirat, STEP },
	{ "rename", c_rename, STEP },
	{ "renameat", c_renameat, STEP },
	{ "renameat2", c_renameat2, STEP },
	{ "execve", c_execve, REST },
	{ "execv", c_execv, REST },
	{ "execvp", c_execvp, REST },
	{ "execvpe", c_execvpe, REST },
	{ "execl", c_execl, REST },
	{ "execlp", c_execlp, REST },
	{ "execle", c_execle, REST },
	{ "fexecve", c_fexecve, REST },
	{ "execveat", c_execveat, REST },
	{ "posix_spawn", c_posix_spawn, REST },
	{ "posix_spawnp", c_posix_spawnp, REST },
	{ "posix_spawn_file_actions_addopen", c_addopen, REST },
	{ "system", c_system, STEP },
	{ "__libc_system", c___libc_system, STEP },
	{ "__open", c___open, STEP },
	{ "__open64", c___open64, STEP },
	{ "__open_nocancel", c___open_nocancel, STEP },
	{ "__open64_nocancel", c___open64_nocancel, STEP },
	{ "__write", c___write, STEP },
	{ "__write_nocancel", c___write_nocancel, STEP },
	{ "__pwrite64", c___pwrite64, STEP },
	{ "__libc_pwrite", c___libc_pwrite, STEP },
	{ "closedir", c_closedir, STEP },
	{ "dlsym", c_dlsym, STEP },
	{ "dlvsym", c_dlvsym, STEP },
	{ "dlmopen", c_dlmopen, STEP },
	{ "fts_read", c_fts_read, STEP },
	{ "fts64_read", c_fts64_read, STEP },
	{ "fts_close", c_fts_close, STEP },
	{ "fts64_close", c_fts64_close, STEP },
	{ "popen", c_popen, STEP },
	{ "write", c_write, STEP },
	{ "pwrite", c_pwrite, STEP },
	{ "pwrite64", c_pwrite64, STEP },
	{ "writev", c_writev, STEP },
	{ "pwritev", c_pwritev, STEP },
	{ "pwritev64", c_pwritev64, STEP },
	{ "pwritev2", c_pwritev2, STEP },
	{ "pwritev64v2", c_pwritev64v2, STEP },
	{ "ftruncate", c_ftruncate, STEP },
	{ "ftruncate64", c_ftruncate64, STEP },
	{ "fallocate", c_fallocate, STEP },
	{ "fallocate64", c_fallocate64, STEP },
	{ "posix_fallocate", c_posix_fallocate, STEP },
	{ "posix_fallocate64", c_posix_fallocate64, STEP },
	{ "copy_file_range", c_copy_file_range, STEP },
	{ "sendfile", c_sendfile, STEP },
	{ "sendfile64", c_sendfile64, STEP },
	{ "close", c_close, STEP },
	{ "dup2", c_dup2, STEP },
	{ "dup3", c_dup3, STEP },
	{ "close_range", c_close_range, STEP },
	{ "closefrom", c_closefrom, STEP },
	{ "truncate", c_truncate, STEP },
	{ "truncate64", c_truncate64, STEP },
	{ "chmod", c_chmod, STEP },
	{ "fchmod", c_fchmod, STEP },
	{ "fchmodat", c_fchmodat, STEP },
	{ "lchmod", c_lchmod, STEP },
	{ "chown", c_chown, STEP },
	{ "fchown", c_fchown, STEP },
	{ "lchown", c_lchown, STEP },
	{ "fchownat", c_fchownat, STEP },
	{ "link", c_link, STEP },
	{ "linkat", c_linkat, STEP },
	{ "symlink", c_symlink, STEP },
	{ "symlinkat", c_symlinkat, STEP },
	{ "mknod", c_mknod, STEP },
	{ "mknodat", c_mknodat, STEP },
	{ "mkfifo", c_mkfifo, STEP },
	{ "mkfifoat", c_mkfifoat, STEP },
	{ "__xmknod", c_xmknod, STEP },
	{ "__xmknodat", c_xmknodat, STEP },
	{ "opendir", c_opendir, STEP },
	{ "fdopendir", c_fdopendir, STEP },
	{ "scandir", c_scandir, STEP },
	{ "scandir64", c_scandir64, STEP },
	{ "scandirat", c_scandirat, STEP },
	{ "scandirat64", c_scandirat64, STEP },
	{ "stat", c_stat, STEP },
	{ "stat64", c_stat64, STEP },
	{ "lstat", c_lstat, STEP },
	{ "lstat64", c_lstat64, STEP },
	{ "fstatat", c_fstatat, STEP },
	{ "fstatat64", c_fstatat64, STEP },
	{ "statx", c_statx, STEP },
	{ "access", c_access, STEP },
	{ "faccessat", c_faccessat, STEP },
	{ "__xstat", c_xstat, STEP },
	{ "__xstat64", c_xstat64, STEP },
	{ "__lxstat", c_lxstat, STEP },
	{ "__lxstat64", c_lxstat64, STEP },
	{ "__fxstatat", c_fxstatat, STEP },
	{ "__fxstatat64", c_fxstatat64, STEP },
	{ "euidaccess", c_euidaccess, STEP },
	{ "eaccess", c_eaccess, STEP },
	{ "dlopen", c_dlopen, STEP },
	{ "chdir", c_chdir, STEP },
	{ "fchdir", c_fchdir, STEP },
	{ "utime", c_utime, STEP },
	{ "utimes", c_utimes, STEP },
	{ "lutimes", c_lutimes, STEP },
	{ "utimensat", c_utimensat, STEP },
	{ "futimesat", c_futimesat, STEP },
	{ "futimens", c_futimens, STEP },
	{ "futimes", c_futimes, STEP },
	{ "setxattr", c_setxattr, STEP },
	{ "lsetxattr", c_lsetxattr, STEP },
	{ "fsetxattr", c_fsetxattr, STEP },
	{ "removexattr", c_removexattr, STEP },
	{ "lremovexattr", c_lremovexattr, STEP },
	{ "fremovexattr", c_fremovexattr, STEP },
	{ "glob", c_glob, STEP },
	{ "glob64", c_glob64, STEP },
	{ "nftw", c_nftw, STEP },
	{ "nftw64", c_nftw64, STEP },
	{ "ftw", c_ftw, STEP },
	{ "ftw64", c_ftw64, STEP },
	{ "fts_open", c_fts_open, STEP },
	{ "fts64_open", c_fts64_open, STEP },
	{ "spawn-with-open", c_spawn_with_open, REST },
	{ "write-fd", c_write_fd, STEP },
	{ "freopen-null", c_freopen_null, STEP },
	{ "ftruncate-fd", c_ftruncate_fd, STEP },
	{ "reopen", c_reopen, STEP },
	{ "prctl", c_prctl, STEP },
	{ "syscall", c_syscall, STEP },
	{ "env", c_env, STEP },
	{ "errno-at-main", c_errno_at_main, STEP },
	{ "clearenv", c_clearenv, STEP },
	{ "setenv", c_setenv, STEP },
};

static const struct cmd *find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	errno_at_main = errno;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: tg-probe SUBCOMMAND [ARGS...] [+ SUBCOMMAND [ARGS...]]...\n"
				"       tg-probe --list\n");
		return 2;
	}
	if (strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			printf("%s\n", cmds[i].name);
		return 0;
	}
	for (int i = 1; i < argc;) {
		const struct cmd *c = find(argv[i]);
		if (!c) {
			fprintf(stderr, "tg-probe: unknown subcommand '%s' (tg-probe --list)\n",
				argv[i]);
			return 2;
		}
		int j = i + 1;
		if (c->kind == REST)
			j = argc;
		else
			while (j < argc && strcmp(argv[j], "+") != 0)
				j++;
		c->fn(j - i - 1, argv + i + 1);
		i = j < argc ? j + 1 : j;
	}
	return 0;
}
