/* The collector of `trainguard run`: the only writer of the job's log file.
 * Every guarded process of the job connects to its socket and sends its
 * records there, one per message; the collector knows each connection by
 * the process that made it (SO_PEERCRED), refuses a record sent in another
 * process's name, writes the others to the log as they came, and says
 * which processes stopped logging without a stop record. */
#ifndef TG_CLI_COLLECTOR_H
#define TG_CLI_COLLECTOR_H

#include <stdbool.h>
#include <sys/types.h>

struct tg_collector;

/* Creates the socket, in a new folder of mode 0700 under XDG_RUNTIME_DIR,
 * TMPDIR or /tmp, and opens LOG (an absolute path) for appending. JID is
 * the job id the collector's own records carry. Returns 0 with *RET set,
 * or -errno. */
int tg_collector_new(const char *log, const char *jid, struct tg_collector **ret);

/* The socket's path, for TRAINGUARD_COLLECTOR; borrowed. */
const char *tg_collector_socket(const struct tg_collector *c);

/* Collects until the job's process JOB ends (its status in *RET_STATUS),
 * then drains every connection: the records still queued, and those of
 * processes the job left behind while they keep sending (a short grace).
 * JOB <= 0: the job's process was reaped already; only the drain is done.
 * Returns 0, or -errno when waiting for JOB failed. */
int tg_collector_run(struct tg_collector *c, pid_t job, int *ret_status);

/* What the collector saw, for run's summary. */
struct tg_collector_counts {
	unsigned long records;   /* written to the log */
	unsigned long refused;   /* sent in another process's name */
	unsigned long unstopped; /* connections closed without a stop record */
	unsigned long silenced;  /* ... by a process still running */
	unsigned long tampered;  /* the log cut while the job ran */
};
void tg_collector_counts(const struct tg_collector *c, struct tg_collector_counts *ret);

/* Closes the log and the connections, removes the socket and its folder. */
void tg_collector_free(struct tg_collector *c);

#endif
