/* The log sink: where records go, and the guard's log descriptor kept out
 * of the program's way.
 *
 * A record is built by event.c into a per-thread line buffer and written
 * with one write(2) on the log descriptor; a record that cannot be built
 * becomes a minimal OCSF line, and a log that cannot be written falls back
 * to stderr. Nothing here allocates on the program's heap or takes a lock. */
#ifndef TG_LOG_H
#define TG_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

/* The descriptor records go to (set once at start; -1: stderr). */
void tg_log_set_fd(int fd);

/* Writes EV as one line, with PROC's facts and this process's and
 * thread's ids (see self.h). Counts a record it had to drop. */
void tg_log_record(const struct tg_event *ev, const struct tg_proc *proc);

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

#endif
