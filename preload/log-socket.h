/* The socket sinks: syslog's datagram socket and a collector's stream
 * socket, sent to without SIGPIPE and reconnected after an outage with a
 * back-off of one second (log-socket.c). Used by log.c only. */
#ifndef TG_LOG_SOCKET_H
#define TG_LOG_SOCKET_H

#include <sys/uio.h>

/* Connects a new AF_UNIX socket of TYPE (SOCK_DGRAM, SOCK_STREAM) to PATH;
 * returns its descriptor (close-on-exec) or -errno. */
int tg_log_socket_open(const char *path, int type);

/* Sends the N (at most 4) pieces of IOV on FD as one message, in full;
 * 0 or -errno (-EPIPE, -ECONNREFUSED, -ENOTCONN when the peer is gone). */
int tg_log_socket_send(int fd, const struct iovec *iov, int n);

/* Before a send on the socket sink FD: 0 to send; -EAGAIN while the sink is
 * down and no new connection is due or it failed (the line goes to stderr,
 * counted). When due, connects anew to PATH and puts the socket on FD. */
int tg_log_socket_ready(int fd, const char *path, int type);

/* A send failed: the sink is down; the next connection is tried in one
 * second. */
void tg_log_socket_failed(void);

#endif
