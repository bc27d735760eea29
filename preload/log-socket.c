/* The socket sinks (syslog's datagrams, a collector's stream; log.h):
 * connecting, sending without SIGPIPE, and coming back after an outage.
 *
 * rsyslogd restarts (a package upgrade, logrotate's HUP on some systems)
 * and collectors are redeployed: a socket sink is then gone, and later
 * the same path works again. A send that fails marks the sink down; while
 * down no record tries the dead socket (each goes to stderr and is
 * counted by log.c), and a new connection to the path is tried at most
 * once a second, measured with CLOCK_MONOTONIC_COARSE (no system call
 * through the vDSO). The new socket takes the log's descriptor number
 * (dup3), as a rotated file does, so the program's view of the guard's
 * descriptor never changes. The first record that gets through says how
 * many were dropped (log.c's counter). Nothing here allocates; the
 * reconnect is tried by one thread at a time, the others do not wait. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log-socket.h"
#include "real.h"

#define RETRY_MS 1000

static atomic_bool down;
static _Atomic long long retry_at; /* CLOCK_MONOTONIC_COARSE, ms */
static atomic_flag trying = ATOMIC_FLAG_INIT;

static long long coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tg_log_socket_open(const char *path, int type)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t l = strlen(path);

	if (l >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, l + 1);
	int fd = tg_sys(SYS_socket, AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (tg_sys(SYS_connect, fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;
		tg_sys(SYS_close, fd);
		return e;
	}
	return fd;
}

int tg_log_socket_send(int fd, const struct iovec *iov, int n)
{
	struct iovec v[4];
	struct msghdr m = { .msg_iov = v, .msg_iovlen = (size_t)n };

	if (n < 1 || n > 4)
		return -EINVAL;
	memcpy(v, iov, sizeof(v[0]) * (size_t)n);
	/* A stream may take part of a line: send the rest. A datagram is
	 * whole or refused. MSG_NOSIGNAL: a collector that went away must
	 * not kill the job with SIGPIPE. */
	for (;;) {
		ssize_t w = tg_sys(SYS_sendmsg, fd, &m, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		while (m.msg_iovlen && (size_t)w >= m.msg_iov[0].iov_len) {
			w -= (ssize_t)m.msg_iov[0].iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (!m.msg_iovlen)
			return 0;
		m.msg_iov[0].iov_base = (char *)m.msg_iov[0].iov_base + w;
		m.msg_iov[0].iov_len -= (size_t)w;
	}
}

int tg_log_socket_ready(int fd, const char *path, int type)
{
	if (!atomic_load_explicit(&down, memory_order_relaxed))
		return 0;
	long long now = coarse_ms();
	/* Under the program's own seccomp filter (real.h) no new socket: the
	 * filter may kill the process for it. */
	if (now < atomic_load(&retry_at) || tg_frozen())
		return -EAGAIN;
	if (atomic_flag_test_and_set(&trying))
		return -EAGAIN; /* another thread is reconnecting */
	atomic_store(&retry_at, now + RETRY_MS);
	int r = tg_log_socket_open(path, type);
	if (r >= 0) {
		if (tg_sys(SYS_dup3, r, fd, O_CLOEXEC) < 0) {
			int e = -errno;
			tg_sys(SYS_close, r);
			r = e;
		} else {
			tg_sys(SYS_close, r);
			atomic_store(&down, false);
			r = 0;
		}
	}
	atomic_flag_clear(&trying);
	return r < 0 ? -EAGAIN : 0;
}

void tg_log_socket_failed(void)
{
	if (!atomic_exchange(&down, true))
		atomic_store(&retry_at, coarse_ms() + RETRY_MS);
}
