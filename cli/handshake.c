/* Proof that the guard is on: `trainguard run` does not take the job's
 * word for it.
 *
 * Before the job starts, its program is inspected: a static, 32-bit or
 * set-id program never loads the library (the loader cannot, or drops
 * LD_PRELOAD), so run refuses it. Then the job gets one end of a pipe,
 * named in TRAINGUARD_HANDSHAKE; the library's constructor answers on it
 * ("active PID" or "unguarded PID") and closes it. No answer means the
 * library was not loaded (a misspelled or refused LD_PRELOAD): run stops
 * the job and says so instead of letting it run unguarded. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "exec-inspect.h"
#include "handshake.h"
#include "tg-env.h"

/* The file execvp would run for NAME, into OUT; false when none. */
static bool search_path(const char *name, char *out, size_t cap)
{
	if (strchr(name, '/'))
		return (size_t)snprintf(out, cap, "%s", name) < cap;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		if ((size_t)snprintf(out, cap, "%.*s%s%s", (int)n, p, n ? "/" : "", name) < cap &&
		    access(out, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

const char *tg_handshake_unguardable(const char *name, char *path, size_t cap)
{
	unsigned char head[TG_EXEC_HEAD];
	char interp[PATH_MAX];
	struct stat st;

	if (!search_path(name, path, cap))
		return NULL; /* execvp reports it */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, head, sizeof(head)) : -1;
	bool caps = fgetxattr(fd, "security.capability", NULL, 0) > 0;
	close(fd);
	if (n <= 0)
		return NULL;
	return tg_exec_inspect(st.st_mode, caps, head, (size_t)n, interp, sizeof(interp));
}

int tg_handshake_open(struct tg_handshake *h)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	h->rd = p[0];
	h->wr = p[1];
	return 0;
}

void tg_handshake_child(struct tg_handshake *h)
{
	char fd[16];

	/* The write end survives the exec; the constructor closes it. */
	fcntl(h->wr, F_SETFD, 0);
	snprintf(fd, sizeof(fd), "%d", h->wr);
	setenv(TG_ENV_HANDSHAKE, fd, 1);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

enum tg_handshake_result tg_handshake_wait(struct tg_handshake *h, pid_t job, int timeout_s)
{
	char buf[64];
	size_t n = 0;
	long long end = now_ms() + timeout_s * 1000LL;

	close(h->wr);
	h->wr = -1;
	for (;;) {
		long long left = end - now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = { .fd = h->rd, .events = POLLIN };
		/* Wake now and then: a job that exits keeps no write end open,
		 * but one that daemonizes a child may. */
		int r = poll(&pfd, 1, left < 200 ? (int)left : 200);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			ssize_t got = read(h->rd, buf + n, sizeof(buf) - 1 - n);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break; /* EOF: every copy of the write end is closed */
			n += (size_t)got;
			buf[n] = '\0';
			if (strchr(buf, '\n') || n + 1 >= sizeof(buf))
				break;
			continue;
		}
		if (waitpid(job, NULL, WNOHANG | WNOWAIT | __WALL) == job)
			break;
	}
	close(h->rd);
	h->rd = -1;
	buf[n] = '\0';
	if (strncmp(buf, "active ", 7) == 0)
		return TG_HANDSHAKE_ACTIVE;
	if (strncmp(buf, "unguarded ", 10) == 0)
		return TG_HANDSHAKE_UNGUARDED;
	/* No answer: the job ended first (execvp failed, or it was quick and
	 * never loaded us), or it runs without the guard. A job that is
	 * exiting closes its descriptors a moment before it can be waited
	 * for: give it a second to get there. */
	for (int i = 0; i < 100; i++) {
		siginfo_t si = { 0 };
		if (waitid(P_PID, (id_t)job, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == job)
			return TG_HANDSHAKE_ENDED;
		if (now_ms() >= end && i)
			break;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return TG_HANDSHAKE_SILENT;
}
