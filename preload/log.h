/* The log sink: where records go, and the guard's log descriptor kept out
 * of the program's way.
 *
 * A record is built by event-record.c into a per-thread line buffer and
 * written by tg_log_emit() with one write(2) (one datagram for syslog); a
 * record that cannot be built becomes a minimal OCSF line, and a sink that
 * refuses a line sends it to stderr, counts it, and the next record that
 * gets through says how many were lost (unmapped.trainguard.dropped_before).
 * A log file renamed or removed (rotation) is followed: every 64 records,
 * and after a failed write, the path is compared with the descriptor and
 * reopened. A socket sink that went away (rsyslogd restarted, a collector
 * redeployed) is connected anew, at most once a second (log-socket.c).
 * Nothing here allocates on the program's heap or takes a lock. */
#ifndef TG_LOG_H
#define TG_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

enum tg_sink {
	TG_SINK_STDERR, /* "stderr" (or nothing set) */
	TG_SINK_FILE,   /* a path: appended to, 0600, O_NOFOLLOW */
	TG_SINK_SYSLOG, /* "syslog" (/dev/log) or "syslog:/path": RFC 5424 datagrams */
	TG_SINK_UNIX,   /* "unix:/path": a collector's stream socket, JSON lines */
	/* `trainguard run`'s collector (TRAINGUARD_COLLECTOR): a seqpacket
	 * socket, one record per message, one connection per process. */
	TG_SINK_COLLECTOR,
};

/* Which sink DEST names, and its path ("" for stderr); -EINVAL for a
 * "syslog:" or "unix:" without an absolute path. RET_PATH borrows DEST. */
int tg_log_parse(const char *dest, enum tg_sink *ret_kind, const char **ret_path);

/* Opens the sink DEST names; returns its descriptor (close-on-exec), which
 * the caller makes the log with tg_log_set_fd, or -errno. Once, at start. */
int tg_log_open(const char *dest, enum tg_sink *ret_kind);

/* Connects to the collector of `trainguard run` listening at SOCKET (its
 * path), which writes the log file itself: the job never holds a writable
 * descriptor on it. Returns the descriptor, made the log like
 * tg_log_open's, or -errno. Once, at start. */
int tg_log_open_collector(const char *socket, enum tg_sink *ret_kind);

/* The descriptor records go to (-1: stderr). */
void tg_log_set_fd(int fd);

/* True when records go to the program's stderr (a person's terminal,
 * usually), not to a file, syslog or a collector. */
bool tg_log_to_stderr(void);

/* Writes EV as one line, with PROC's facts and this process's and
 * thread's ids (see self.h), unless it folds into an earlier record
 * (fold.h). Counts a record it had to drop. */
void tg_log_record(const struct tg_event *ev, const struct tg_proc *proc);

/* The same without folding: the record is built and written now. */
void tg_log_build(const struct tg_event *ev, const struct tg_proc *proc);

/* Writes the final bytes of one record (LINE, N bytes, ending in '\n') to
 * the sink, SEVERITY (OCSF severity_id) being the syslog priority. Returns
 * 0, or -errno when the sink refused it (then it went to stderr and was
 * counted as dropped). The one place every line passes. */
int tg_log_emit(const char *line, size_t n, int severity);

/* Records this process could not write to its sink. */
unsigned long tg_log_dropped(void);

/* Writes N bytes of BUF to FD in full, or to stderr when FD refuses. */
bool tg_log_write(int fd, const char *buf, size_t n);

/* A message for people, on stderr (start-up only). */
void tg_log_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The log's descriptor is the program's business never: close reports
 * EBADF for it, and dup2 onto it moves the log first. */
bool tg_is_log_fd(int fd);
/* The log's own descriptor, or -1 when records go to stderr itself. */
int tg_log_fd(void);
void tg_log_fd_vacate(int fd);

/* The minimal record when the builder could not make one: one OCSF line
 * naming the call, into BUF (CAP bytes). Returns its length. */
int tg_log_fallback_line(char *buf, size_t cap, const struct tg_event *ev, long long now_ms);

/* The fork hook (self.c): a child's counts start at zero, and a child of
 * a collected process connects to the collector on its own, so that
 * the collector can tell its records from its parent's. */
void tg_log_after_fork(void);

#endif
