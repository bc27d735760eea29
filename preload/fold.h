/* Folding floods: repeats of the same (process, rule, operation, path,
 * decision) within TG_FOLD_WINDOW_MS of the first become one record.
 *
 * The first call is written at once; the repeats are counted in a small
 * fixed table and written as one record with count, start_time (first
 * repeat) and end_time (last), when a repeat comes after the window, when
 * its slot is needed for another key, on the next record the process
 * writes after the window, and at exit and exec (tg_fold_flush). No timer
 * and no signal handler: a window that ends while the program makes no
 * call that is recorded waits for one of those. A folded call builds no
 * record: a hash, a compare and a clock read under a tiny spin lock that
 * is only tried (a thread that finds it held writes its record unfolded).
 * The stop record's counts per rule are kept here too. */
#ifndef TG_FOLD_H
#define TG_FOLD_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

#define TG_FOLD_WINDOW_MS 1000

/* True when EV was folded into a pending record (nothing to write now).
 * Also counts EV for its rule. */
bool tg_fold(const struct tg_event *ev, const struct tg_proc *proc);

/* Writes every pending folded record of this process. */
void tg_fold_flush(const struct tg_proc *proc);

/* The denials (and would-denies) of this process per rule, into OUT (at
 * most N entries); returns how many. Names are borrowed from the policy
 * or static. */
size_t tg_fold_counts(struct tg_rule_count *out, size_t n);

/* Repeats folded so far (not written as records of their own). */
unsigned long tg_fold_folded(void);

/* Starts the counts per rule and of repeats folded over: they were said
 * by a stop record (an exec that then failed: the image goes on). */
void tg_fold_counts_reset(void);

/* The fork hook: the table is the parent's business. */
void tg_fold_after_fork(void);

#endif
