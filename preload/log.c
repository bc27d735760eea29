/* The log sink (see log.h): the line buffers, the one write per record,
 * the fallback line, and the log descriptor's protection. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "log.h"
#include "ocsf.h"
#include "real.h"
#include "self.h"

static _Atomic int logfd = -1;
static atomic_ulong dropped;

void tg_log_set_fd(int fd)
{
	atomic_store(&logfd, fd);
}

bool tg_log_write(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = tg_sys(SYS_write, fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			atomic_fetch_add(&dropped, 1);
			/* Never lose a violation silently: stderr is the last resort. */
			if (fd != STDERR_FILENO)
				tg_log_write(STDERR_FILENO, buf, n);
			return false;
		}
		buf += w;
		n -= w;
	}
	return true;
}

void tg_log_say(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		tg_log_write(STDERR_FILENO, buf,
			     (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
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
	return snprintf(buf, cap,
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

void tg_log_record(const struct tg_event *ev, const struct tg_proc *base)
{
	char *buf = line_buffer();
	struct tg_self self;
	int n;

	if (!buf) {
		atomic_fetch_add(&dropped, 1);
		return;
	}
	line_level++;
	/* Per record, a copy: threads log at once. The ids are checked
	 * against the kernel: a vfork child's cache is its parent's. */
	struct tg_proc proc = *base;
	tg_self(&self);
	proc.pid = self.pid;
	proc.ppid = self.ppid;
	proc.tid = self.tid;
	proc.foreign = self.foreign;
	proc.chain_slot = true; /* filled by tg_chain_seal below */
	n = tg_event_format(ev, &proc, buf, TG_EVENT_MAX);
	if (n < 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		n = tg_log_fallback_line(buf, TG_EVENT_MAX, ev,
					 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	}
	if (n > 0) {
		/* The hash chain (chain.h): seal the final line, write it, commit.
		 * The chain's lock is held from seal to commit, only around this
		 * write; the pid is the kernel's (tg_self), never a cache a vfork
		 * child shares. */
		struct tg_chain_tx tx;
		size_t len = (size_t)n;
		tg_chain_seal(buf, &len, TG_EVENT_MAX, self.pid, &tx);
		int fd = atomic_load_explicit(&logfd, memory_order_relaxed);
		bool ok = tg_log_write(fd >= 0 ? fd : STDERR_FILENO, buf, len);
		tg_chain_commit(&tx, ok);
	}
	line_level--;
}

bool tg_is_log_fd(int fd)
{
	return fd >= 0 && fd == atomic_load_explicit(&logfd, memory_order_relaxed) &&
	       fd != STDERR_FILENO;
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
