/* The per-process hash chain over the guard's own log lines (tamper
 * evidence, design/EVENTS.md and docs/events.md).
 *
 * The record builder leaves a slot, "chain":"@tg-chain@", in
 * unmapped.trainguard when struct tg_proc asks for it. The log sink then
 * calls tg_chain_seal() on the finished line: under a per-process lock it
 * fills the slot with {"id","seq","prev",...}, hashes the final line, and
 * the sink writes it and calls tg_chain_commit(), which makes that hash the
 * "prev" of the next record and drops the lock. The lock is held only
 * around the guard's own write, never across a program's call.
 *
 * Records that cannot join the process's chain (a signal handler logging
 * while its thread holds the lock, a vfork child sharing the parent's
 * memory) become one-record chains linked to the process chain's last
 * committed record: nothing waits, nothing of the parent's state changes.
 *
 * No allocation, no stdio; the only system calls are getrandom at start
 * and sched_yield while another thread writes. */
#ifndef TG_CHAIN_H
#define TG_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tg-sha256.h"

/* The slot the record builder writes, and its value. */
#define TG_CHAIN_SLOT_VALUE "@tg-chain@"
#define TG_CHAIN_SLOT       "\"chain\":\"" TG_CHAIN_SLOT_VALUE "\""

/* A chain id: 128 bits in lower-case hex, and its NUL. */
#define TG_CHAIN_ID_HEX 33
/* Room for "TRAINGUARD_CHAIN=<id>.<seq>.<sha256>" and its NUL. */
#define TG_CHAIN_ENV_MAX 160
/* The most a filled slot adds to a line. */
#define TG_CHAIN_GROWTH 320

/* Starts this process's chain (at guard start): a fresh random id; FROM_ENV
 * is the value of TRAINGUARD_CHAIN the process was started with (NULL or
 * malformed: a root chain). PID is this process. */
void tg_chain_start(const char *from_env, pid_t pid);

/* One record being sealed; on the caller's stack. */
struct tg_chain_tx {
	int kind; /* private: none, the process chain (locked), one-shot */
	uint64_t seq;
	uint8_t hash[TG_SHA256_LEN];
	char id[TG_CHAIN_ID_HEX]; /* private: a one-shot chain's id */
	pid_t pid;                /* private: who sealed it */
};

/* Fills the slot of the line at LINE (*LEN bytes ending in '\n', CAP bytes
 * of room) and hashes the result; *LEN is updated. REAL_PID is the calling
 * process as the kernel knows it (not a cache a vfork child shares): a
 * mismatch with the chain's owner makes a one-shot chain. Returns 1 when
 * the line joined the process chain: the lock is held until
 * tg_chain_commit(TX); 0 for a one-shot chain or a line without slot
 * (tg_chain_commit is still to be called and does nothing); -ENOSPC when
 * the filled slot would not fit in CAP (the line is left as it was). */
int tg_chain_seal(char *line, size_t *len, size_t cap, pid_t real_pid, struct tg_chain_tx *tx);

/* Ends TX: when WRITTEN (the line reached the log), its hash becomes the
 * next record's "prev"; otherwise the next record takes the same sequence
 * number, so the chain in the file has no gap. Drops the lock. */
void tg_chain_commit(struct tg_chain_tx *tx, bool written);

/* The fork hooks (pthread_atfork today, the fork hub later). PREPARE takes
 * the lock so the child never inherits a half-written state (unless this
 * thread holds it already: a fork from a signal handler); PARENT drops it;
 * CHILD (single-threaded, its own memory) starts a new chain linked to the
 * parent's last record. Never call CHILD in a vfork child. */
void tg_chain_fork_prepare(void);
void tg_chain_fork_parent(void);
void tg_chain_fork_child(pid_t child_pid);

/* "TRAINGUARD_CHAIN=<id>[.<seq>.<hash>]": the link an exec'd or spawned
 * image starts from, into OUT (TG_CHAIN_ENV_MAX bytes). Reads the chain's
 * last committed record without changing anything, so a vfork child may
 * call it. Returns the length, or -ENOENT before tg_chain_start. */
int tg_chain_env(char *out, size_t cap);

/* The link for the image an exec is about to start, once its exec record
 * is written: like tg_chain_env, but in a vfork child (REAL_PID is not the
 * chain's owner) the one-shot record this thread wrote last for REAL_PID,
 * so that the new image links to the exec record itself. */
int tg_chain_exec_env(char *out, size_t cap, pid_t real_pid);

/* For tests: this process's chain id (empty before start). */
const char *tg_chain_id(void);

#endif
