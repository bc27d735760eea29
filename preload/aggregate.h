/* Audited opens aggregated: one record per (process, file, operation).
 *
 * An open allowed under an audit rule is not written at once. It joins a
 * slot of a fixed table keyed by (pid, device, inode, classes asked), which
 * counts the opens and keeps the first and the last time. A file read is
 * hashed at its first open (digest.h). A slot is written as one record
 * (count, start_time, end_time, file.uid, file.size, file.hashes):
 *
 * - at the close of the file's last descriptor, for a file written (with the
 *   digest of what was written) and for the first record of a file read;
 *   the later opens of a file read are counted and written at exit, so a
 *   dataset read for many epochs costs two records per file and process;
 * - at a rename of the file (write-temp-then-replace: the digest is of the
 *   content the new name gets);
 * - when the table is full (the oldest slot of the process);
 * - at exec and at exit (tg_agg_flush, from the stop record's path).
 *
 * No heap, no lock held across a call the program made: the table is
 * mapped on first use and guarded by a spin lock taken with a bounded spin
 * (slot-table.h: a thread that cannot get it writes its record
 * unaggregated). A fork child
 * sees its parent's slots as free: they are the parent's to write. */
#ifndef TG_AGGREGATE_H
#define TG_AGGREGATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "decide.h"
#include "event.h"
#include "fdtable.h"

/* Per descriptor: the slot an aggregated open holds (0: none). */
extern _Atomic uint32_t tg_agg_fds[TG_FD_MAX];

static inline bool tg_agg_holds(int fd)
{
	return (unsigned)fd < TG_FD_MAX &&
	       atomic_load_explicit(&tg_agg_fds[fd], memory_order_relaxed) != 0;
}

/* After the open that REQ and D decided (tg_conclude left REQ->audit_later
 * set): FD (or -errno) joins its slot, or its record is written now. */
void tg_agg_opened(const struct tg_req *req, const struct tg_decided *d, int fd);

/* FD, which tg_agg_holds, is about to be closed. */
void tg_agg_close(int fd);

/* (DIRFD, PATH) is about to be renamed: its slots are written first. */
void tg_agg_rename(int dirfd, const char *path);

/* Exec and exit: every slot of this process is written (HOW: "at_exit"). */
void tg_agg_flush(const struct tg_proc *proc);

/* The fork hook: a lock a thread of the parent held is free. */
void tg_agg_after_fork(void);

#endif
