/* Lifecycle records: the guard starting in a process, the process
 * stopping, a fork child, and a job left unguarded (design/EVENTS.md).
 *
 * Start: Event Log Activity (1008) Start, with the policy (source and
 * sha256), the mode, the profiles, the active layers and the fence's status
 * when the fence wiring set them (tg_life_set_fence), the library version
 * and where the process runs (container, cgroup, pod).
 * Stop: Event Log Activity Stop, with the exit status or signal when
 * known, the refusals per rule, the repeats folded and the records
 * dropped; written once, by exit() and a return from main (a destructor),
 * by _exit() and _Exit() (wrap-exit.c, with the status), by a process
 * killing itself (kill, raise, abort: with the signal), before an exec
 * (exit "exec"), and before an on_deny = "kill". A signal from outside or
 * a crash writes no stop record, and the repeats still being folded (at
 * most one window, TG_FOLD_WINDOW_MS, per slot) are lost with it: the
 * guard installs no signal handler in the program's place (SECURITY.md,
 * "Failing closed").
 * Fork: Process Activity (1007) Launch, launch type Fork, written by the
 * child as its first record.
 * Exec: Process Activity (1007) Launch, launch type Exec, written by the
 * image about to be replaced, after its stop record; the new image's chain
 * starts from it (a failed exec: status Failure, and the image goes on).
 * Spawn: the same with launch type Spawn, written by the parent before
 * posix_spawn, system or popen starts the child.
 * Child killed: Process Activity (1007) Terminate, written by a guarded
 * parent that reaps a child a signal ended (wrap-wait.c). */
#ifndef TG_LIFECYCLE_H
#define TG_LIFECYCLE_H

#include <stdbool.h>
#include <sys/types.h>

/* Layers and fence status for the start record; call before the guard
 * finishes starting (start.c's fence wiring). Strings are borrowed and must
 * live as long as the process. NULL keeps the default ("preload"). */
void tg_life_set_fence(const char *layers, const char *status);

/* Writes the start record; once, at the end of start-up. */
void tg_life_start(void);

/* Writes the stop record (once per process image): HOW is "exit",
 * "_exit", "exec", "kill"; STATUS the exit status or -1; SIG the signal or
 * 0. Folded repeats are flushed first. Nothing in a vfork child. */
void tg_life_stop(const char *how, int status, int sig);

/* Before an exec of PROGRAM (NULL: a descriptor) with ARGV replaces this
 * image: the folded repeats, the stop record, and the exec link (Process
 * Activity Launch, launch type Exec), the last record of this image's
 * chain. A vfork child writes only the link. */
void tg_life_exec(const char *program, char *const *argv);

/* Before posix_spawn, system or popen starts PROGRAM with ARGV in a child
 * (ERR 0): the spawn link (Process Activity Launch, launch type Spawn),
 * which the child's chain starts from; after one that failed with ERR,
 * the same with status Failure. */
void tg_life_spawn(const char *program, char *const *argv, int err);

/* The exec failed with ERR: a link record with status Failure, and the
 * image goes on with its counts from zero (the stop record said the
 * earlier ones), so that its next stop record neither repeats nor loses a
 * refusal. */
void tg_life_exec_failed(const char *program, char *const *argv, int err);

/* A child this process reaped (wait, waitpid, wait3, wait4, waitid) was
 * ended by signal SIG (CORE: it dumped core): a Process Activity
 * Terminate record, since the child could write no stop record unless it
 * killed itself. */
void tg_life_child_killed(pid_t child, int sig, bool core);

/* The fork hook (self.c): the child's fork record, counts reset. */
void tg_life_after_fork(pid_t parent);

/* The guard did not start and TRAINGUARD_ON_ERROR=allow lets the job run:
 * one record saying so (WHY), into the log when it can be opened (the
 * environment's or the policy's destination DEST, or NULL). */
void tg_life_unguarded(const char *why, const char *dest);

#endif
