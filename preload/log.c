/* The log sink (see log.h): where records go (a file, stderr, syslog, a
 * collector's Unix socket, `trainguard run`'s collector; the sockets
 * themselves in log-socket.c), the one write per record, rotation followed
 * without signal handlers, records dropped counted and said, the fallback
 * line, and the log descriptor kept out of the program's way.
 *
 * Every record ends in tg_log_emit(), the one function that takes the
 * final bytes of a line: a hook that must see every line (a hash chain)
 * belongs just before its write. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "fold.h"
#include "log-socket.h"
#include "log.h"
#include "ocsf.h"
#include "real.h"
#include "self.h"

static _Atomic int logfd = -1;
/* Records this process could not write to its sink, in all; and those not
 * yet said by a record that got through. */
static atomic_ulong dropped_total, dropped_unsaid;
/* A write cut short (a full disk) left part of a line in the file: the
 * next line that gets through starts on a line of its own. */
static atomic_bool torn;

/* The sink, set once at start (read-only afterwards but for a reopen). */
static struct {
	enum tg_sink kind;
	char path[PATH_MAX]; /* file or socket; empty for stderr */
	char host[64];       /* syslog's HOSTNAME */
} sink = { .kind = TG_SINK_STDERR };

/* A file's rotation is looked for every ROTATE_EVERY records: a stat of
 * the path against the descriptor, no signal handler. */
#define ROTATE_EVERY 64
static atomic_uint since_check;

void tg_log_set_fd(int fd)
{
	atomic_store(&logfd, fd);
}

/* Writes N bytes in full with raw write(2); -errno when the sink refuses. */
static int write_all(int fd, const char *buf, size_t n)
{
	bool part = false;

	while (n > 0) {
		ssize_t w = tg_sys(SYS_write, fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (part && fd != STDERR_FILENO)
				atomic_store(&torn, true);
			return w < 0 ? -errno : -EIO;
		}
		part = true;
		buf += w;
		n -= w;
	}
	return 0;
}

bool tg_log_write(int fd, const char *buf, size_t n)
{
	if (write_all(fd, buf, n) == 0)
		return true;
	if (fd != STDERR_FILENO) {
		atomic_fetch_add(&dropped_total, 1);
		atomic_fetch_add(&dropped_unsaid, 1);
		/* Never lose a violation silently: stderr is the last resort. */
		write_all(STDERR_FILENO, buf, n);
	}
	return false;
}

void tg_log_say(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		write_all(STDERR_FILENO, buf,
			  (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* ---- opening the sink ----------------------------------------------------- */

static int open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
		      0600);
	return fd < 0 ? -errno : fd;
}

/* How long a record waits for a collector that does not read (a stopped
 * `trainguard run`): then it is dropped and counted, and the job goes on. */
#define COLLECTOR_WAIT_S 2
/* The process the collector connection was made by: the collector knows a
 * connection by the pid that made it (SO_PEERCRED). */
static _Atomic pid_t collector_pid;

static int open_collector(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval wait = { .tv_sec = COLLECTOR_WAIT_S };
	int buf = 1 << 20;
	size_t l = strlen(path);

	if (l >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, l + 1);
	/* Raw calls: a fork child reconnects from the fork hub, and a vfork
	 * child from inside the program's call. */
	int fd = tg_sys(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Bounds both the connect (a full backlog) and every send. A larger
	 * buffer rides out a burst while the collector writes. */
	tg_sys(SYS_setsockopt, fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait));
	tg_sys(SYS_setsockopt, fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (tg_sys(SYS_connect, fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;
		tg_sys(SYS_close, fd);
		return e;
	}
	return fd;
}

/* This process's connection (never a vfork child's: it would write
 * the parent's memory). */
static int connect_collector(void)
{
	int fd = open_collector(sink.path);

	if (fd >= 0)
		atomic_store(&collector_pid, (pid_t)tg_sys(SYS_getpid));
	return fd;
}

static int open_sink(void)
{
	switch (sink.kind) {
	case TG_SINK_COLLECTOR:
		return connect_collector();
	case TG_SINK_FILE:
		return open_file(sink.path);
	case TG_SINK_SYSLOG:
		return tg_log_socket_open(sink.path, SOCK_DGRAM);
	case TG_SINK_UNIX:
		return tg_log_socket_open(sink.path, SOCK_STREAM);
	case TG_SINK_STDERR:
		break;
	}
	int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int tg_log_parse(const char *dest, enum tg_sink *ret_kind, const char **ret_path)
{
	if (!dest || !*dest || strcmp(dest, "stderr") == 0) {
		*ret_kind = TG_SINK_STDERR;
		*ret_path = "";
	} else if (strcmp(dest, "syslog") == 0) {
		*ret_kind = TG_SINK_SYSLOG;
		*ret_path = "/dev/log";
	} else if (strncmp(dest, "syslog:", 7) == 0 && dest[7] == '/') {
		*ret_kind = TG_SINK_SYSLOG;
		*ret_path = dest + 7;
	} else if (strncmp(dest, "unix:", 5) == 0 && dest[5] == '/') {
		*ret_kind = TG_SINK_UNIX;
		*ret_path = dest + 5;
	} else if (strncmp(dest, "syslog:", 7) == 0 || strncmp(dest, "unix:", 5) == 0) {
		return -EINVAL; /* a socket is named by its absolute path */
	} else {
		*ret_kind = TG_SINK_FILE;
		*ret_path = dest;
	}
	return 0;
}

static int open_as(enum tg_sink kind, const char *path, enum tg_sink *ret_kind)
{
	sink.kind = kind;
	if (strlen(path) >= sizeof(sink.path))
		return -ENAMETOOLONG;
	strcpy(sink.path, path);
	if (gethostname(sink.host, sizeof(sink.host) - 1) < 0 || !sink.host[0])
		strcpy(sink.host, "-");
	for (char *c = sink.host; *c; c++)
		if (*c <= ' ' || *c > '~')
			*c = '_';
	int fd = open_sink();
	if (fd < 0)
		return fd;
	/* Not the log yet: the caller moves it first (tg_log_set_fd). */
	*ret_kind = sink.kind;
	return fd;
}

int tg_log_open(const char *dest, enum tg_sink *ret_kind)
{
	enum tg_sink kind;
	const char *path;
	int r = tg_log_parse(dest, &kind, &path);

	return r < 0 ? r : open_as(kind, path, ret_kind);
}

int tg_log_open_collector(const char *socket, enum tg_sink *ret_kind)
{
	return open_as(TG_SINK_COLLECTOR, socket, ret_kind);
}

/* ---- rotation -------------------------------------------------------------- */

/* The file was renamed or removed under us: write to a new file at the
 * configured path. The descriptor number is kept (dup3 onto it), so that
 * the program's view of our descriptor does not change. */
static void follow_rotation(int fd)
{
	struct stat by_fd, by_path;

	if (tg_sys(SYS_fstat, fd, &by_fd) != 0)
		return;
	if (tg_sys(SYS_newfstatat, AT_FDCWD, sink.path, &by_path, AT_SYMLINK_NOFOLLOW) == 0 &&
	    by_path.st_dev == by_fd.st_dev && by_path.st_ino == by_fd.st_ino)
		return;
	int nfd = tg_sys(SYS_openat, AT_FDCWD, sink.path,
			 O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
	if (nfd < 0)
		return; /* the folder is gone: writes go on to the old file */
	tg_sys(SYS_dup3, nfd, fd, O_CLOEXEC);
	tg_sys(SYS_close, nfd);
}

/* ---- the write -------------------------------------------------------------- */

/* syslog's severity for an OCSF severity_id (RFC 5424 section 6.2.1). */
static int syslog_severity(int ocsf)
{
	static const int by_ocsf[] = { 6, 6, 5, 4, 3, 2, 1 };
	return ocsf >= 0 && ocsf <= 6 ? by_ocsf[ocsf] : 6;
}

/* One RFC 5424 message per record: header, then the JSON (no newline).
 * Facility 1 (user). */
static int write_syslog(int fd, const char *line, size_t n, int severity)
{
	char head[160];
	struct tg_self self;

	tg_self(&self);
	int hl = snprintf(head, sizeof(head), "<%d>1 - %s trainguard %d - - ",
			  8 + syslog_severity(severity), sink.host, (int)self.pid);
	if (hl <= 0 || (size_t)hl >= sizeof(head))
		return -EINVAL;
	if (n > 0 && line[n - 1] == '\n')
		n--;
	struct iovec iov[2] = { { head, (size_t)hl }, { (void *)line, n } };
	return tg_log_socket_send(fd, iov, 2);
}

/* A socket sink: down after an outage until a new connection (at most one
 * try a second, log-socket.c); a refused line marks it down. */
static int write_socket(int fd, const char *line, size_t n, int severity)
{
	bool dgram = sink.kind == TG_SINK_SYSLOG;
	int r = tg_log_socket_ready(fd, sink.path, dgram ? SOCK_DGRAM : SOCK_STREAM);

	if (r < 0)
		return r;
	if (dgram) {
		r = write_syslog(fd, line, n, severity);
	} else {
		struct iovec iov = { (void *)line, n };
		r = tg_log_socket_send(fd, &iov, 1);
	}
	if (r < 0)
		tg_log_socket_failed();
	return r;
}

/* The collector let a record wait COLLECTOR_WAIT_S in vain: until one gets
 * through, records do not wait at all (they are dropped and counted), so a
 * stopped collector slows the job by one wait, not one per record. The
 * stop record, which says how many were lost, waits once more. */
static atomic_bool collector_stalled;

/* One record, one message: never torn, never interleaved with another
 * thread's, and no SIGPIPE when the collector is gone. */
static int send_record(int fd, const char *line, size_t n, bool wait)
{
	int flags = MSG_NOSIGNAL;
	ssize_t w;

	if (!wait && atomic_load_explicit(&collector_stalled, memory_order_relaxed))
		flags |= MSG_DONTWAIT;
	do
		w = tg_sys(SYS_sendto, fd, line, n, flags, NULL, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		int e = errno;
		if (e == EAGAIN)
			atomic_store(&collector_stalled, true);
		return -e;
	}
	atomic_store_explicit(&collector_stalled, false, memory_order_relaxed);
	return 0;
}

static int emit_to(int fd, const char *line, size_t n, int severity, bool wait)
{
	int r;

	if (fd < 0)
		fd = STDERR_FILENO;
	if (sink.kind == TG_SINK_FILE &&
	    atomic_fetch_add_explicit(&since_check, 1, memory_order_relaxed) % ROTATE_EVERY == 0)
		follow_rotation(fd);
	if ((sink.kind == TG_SINK_SYSLOG || sink.kind == TG_SINK_UNIX) && fd != STDERR_FILENO)
		r = write_socket(fd, line, n, severity);
	else if (sink.kind == TG_SINK_COLLECTOR && fd != STDERR_FILENO)
		r = send_record(fd, line, n, wait);
	else if (atomic_exchange(&torn, false) && write_all(fd, "\n", 1) < 0) {
		atomic_store(&torn, true);
		r = -EIO;
	} else {
		r = write_all(fd, line, n);
	}
	if (r < 0 && sink.kind == TG_SINK_FILE) {
		/* A full disk, or a removed folder with the file: try the path
		 * once more before giving up on this line. */
		follow_rotation(fd);
		r = write_all(fd, line, n);
	}
	if (r < 0 && fd != STDERR_FILENO) {
		atomic_fetch_add(&dropped_total, 1);
		atomic_fetch_add(&dropped_unsaid, 1);
		write_all(STDERR_FILENO, line, n);
	}
	return r;
}

int tg_log_emit(const char *line, size_t n, int severity)
{
	return emit_to(atomic_load_explicit(&logfd, memory_order_relaxed), line, n, severity,
		       false);
}

unsigned long tg_log_dropped(void)
{
	return atomic_load(&dropped_total);
}

void tg_log_after_fork(void)
{
	atomic_store(&dropped_total, 0);
	atomic_store(&dropped_unsaid, 0);
	int fd = atomic_load(&logfd);
	if (sink.kind != TG_SINK_COLLECTOR || fd < 0 || fd == STDERR_FILENO)
		return;
	/* Our own connection, on the same descriptor number (the program's
	 * view of it does not change). Failing that, the parent's is kept:
	 * the collector refuses what comes on it in our name, and says so. */
	int nfd = connect_collector();
	if (nfd >= 0) {
		tg_sys(SYS_dup3, nfd, fd, O_CLOEXEC);
		tg_sys(SYS_close, nfd);
	}
}

/* A line buffer per thread and nesting level (a signal handler may log
 * while its thread is logging), mapped on first use. */
#define LINE_LEVELS 4
static __thread char *lines[LINE_LEVELS] __attribute__((tls_model("initial-exec")));
static __thread int line_level __attribute__((tls_model("initial-exec")));

static char *line_buffer(void)
{
	int l = line_level;

	if (l >= LINE_LEVELS)
		return NULL;
	if (!lines[l]) {
		void *m = mmap(NULL, TG_EVENT_MAX, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		lines[l] = m;
	}
	return lines[l];
}

int tg_log_fallback_line(char *buf, size_t cap, const struct tg_event *ev, long long now_ms)
{
	char path[512];
	size_t o = 0;

	for (const unsigned char *s = (const unsigned char *)(ev->path ? ev->path : "?");
	     *s && o + 4 < sizeof(path); s++) {
		if (*s < 0x20 || *s >= 0x7f || *s == '"' || *s == '\\' || *s == '%') {
			snprintf(path + o, 4, "%%%02X", *s);
			o += 3;
		} else {
			path[o++] = *s;
		}
	}
	path[o] = '\0';
	/* An Event Log Activity of activity Other: the log itself failed. */
	return snprintf(
		buf, cap,
		"{\"activity_id\":%d,\"activity_name\":\"" TG_OCSF_OTHER_NAME "\","
		"\"category_uid\":%d,\"class_uid\":%d,\"log_name\":\"" TG_OCSF_LOG_NAME "\","
		"\"message\":\"trainguard could not build the record of %s %s (decision %d)\","
		"\"metadata\":{\"product\":{\"name\":\"" TG_OCSF_PRODUCT "\"},"
		"\"version\":\"" TG_OCSF_VERSION "\"},\"severity_id\":%d,\"time\":%lld,"
		"\"type_uid\":%lld,\"unmapped\":{\"trainguard\":{" TG_CHAIN_SLOT "}}}\n",
		TG_OCSF_OTHER, TG_OCSF_CATEGORY, TG_OCSF_EVENT_LOG_ACTIVITY, ev->op, path,
		(int)ev->decision, TG_OCSF_SEVERITY_HIGH, now_ms,
		TG_OCSF_TYPE_UID(TG_OCSF_EVENT_LOG_ACTIVITY, TG_OCSF_OTHER));
}

/* The severity a record's line is sent with (syslog's PRI). */
static int line_severity(const struct tg_event *ev)
{
	if (ev->kind != TG_EV_DECISION)
		return ev->kind == TG_EV_UNGUARDED ? TG_OCSF_SEVERITY_HIGH
						   : TG_OCSF_SEVERITY_INFORMATIONAL;
	if (ev->decision == TG_DEC_ALLOW ||
	    (ev->decision == TG_DEC_LEARN && ev->verdict && ev->verdict->allow))
		return TG_OCSF_SEVERITY_INFORMATIONAL;
	const struct tg_rule *r = ev->verdict ? ev->verdict->rule : NULL;
	return r && r->severity ? (int)r->severity : TG_OCSF_SEVERITY_HIGH;
}

void tg_log_build(const struct tg_event *ev_in, const struct tg_proc *base)
{
	char *buf = line_buffer();
	struct tg_self self;
	int n;

	if (!buf) {
		atomic_fetch_add(&dropped_total, 1);
		atomic_fetch_add(&dropped_unsaid, 1);
		return;
	}
	line_level++;
	/* Per record, a copy: threads log at once. The ids are checked
	 * against the kernel: a vfork child's cache is its parent's. */
	struct tg_proc proc = *base;
	struct tg_event ev = *ev_in;
	tg_self(&self);
	proc.pid = self.pid;
	proc.ppid = self.ppid;
	proc.tid = self.tid;
	proc.foreign = self.foreign;
	proc.chain_slot = true; /* filled by tg_chain_seal below */
	/* The records lost before this one are said by it. */
	ev.dropped = atomic_exchange(&dropped_unsaid, 0);
	n = tg_event_format(&ev, &proc, buf, TG_EVENT_MAX);
	if (n < 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		n = tg_log_fallback_line(buf, TG_EVENT_MAX, &ev,
					 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	}
	if (n > 0) {
		/* The hash chain (chain.h): seal the final line, write it, commit.
		 * The chain's lock is held from seal to commit, only around this
		 * write; the pid is the kernel's (tg_self), never a cache a vfork
		 * child shares. A line the sink refused does not advance it. */
		struct tg_chain_tx tx;
		size_t len = (size_t)n;
		tg_chain_seal(buf, &len, TG_EVENT_MAX, self.pid, &tx);
		int r;
		if (sink.kind == TG_SINK_COLLECTOR &&
		    self.pid != atomic_load_explicit(&collector_pid, memory_order_relaxed)) {
			/* A vfork child, which shares its parent's memory and
			 * connection: a connection of its own for this record. */
			int fd = open_collector(sink.path);
			r = fd;
			if (fd >= 0) {
				r = emit_to(fd, buf, len, line_severity(&ev), true);
				tg_sys(SYS_close, fd);
			} else {
				atomic_fetch_add(&dropped_total, 1);
				atomic_fetch_add(&dropped_unsaid, 1);
				write_all(STDERR_FILENO, buf, len);
			}
		} else {
			r = emit_to(atomic_load_explicit(&logfd, memory_order_relaxed), buf, len,
				    line_severity(&ev), ev.kind == TG_EV_STOP);
		}
		tg_chain_commit(&tx, r >= 0);
		if (r < 0)
			atomic_fetch_add(&dropped_unsaid, ev.dropped); /* not said after all */
	}
	line_level--;
}

void tg_log_record(const struct tg_event *ev, const struct tg_proc *base)
{
	if (tg_fold(ev, base))
		return;
	tg_log_build(ev, base);
}

bool tg_is_log_fd(int fd)
{
	return fd >= 0 && fd == atomic_load_explicit(&logfd, memory_order_relaxed) &&
	       fd != STDERR_FILENO;
}

bool tg_log_to_stderr(void)
{
	return sink.kind == TG_SINK_STDERR;
}

int tg_log_fd(void)
{
	int fd = atomic_load_explicit(&logfd, memory_order_relaxed);
	return fd == STDERR_FILENO ? -1 : fd;
}

void tg_log_fd_vacate(int fd)
{
	int cur = atomic_load(&logfd);

	if (fd < 0 || fd != cur || fd == STDERR_FILENO)
		return;
	/* The program names our descriptor (dup2 onto it): move the log to a
	 * free number first, so no record ever lands in the program's file. */
	int moved = fcntl(cur, F_DUPFD_CLOEXEC, cur + 1);
	if (moved < 0)
		moved = fcntl(cur, F_DUPFD_CLOEXEC, 3);
	atomic_store(&logfd, moved >= 0 ? moved : STDERR_FILENO);
}
