/* File digests for lineage records: the SHA-256 of a file's content,
 * taken from a descriptor without moving the program's offset, and cached
 * by the file's identity and version (device, inode, size, mtime in ns),
 * so that a dataset shard read every epoch is hashed once per process (and
 * once for all the workers forked after it was hashed: the cache is
 * copied with the memory and stays true).
 *
 * A file read under an audit rule is hashed off the program's thread, by
 * the digest thread (digest-thread.c), queued at its first open; a file
 * written is hashed on the calling thread at its last close or its rename.
 * The records say when (unmapped.trainguard.digest). log.digests = "none"
 * turns it off, and log.digest_max (bytes) skips larger files. No heap:
 * the cache and the read buffer are mapped on first use. */
#ifndef TG_DIGEST_H
#define TG_DIGEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "tg-sha256.h"

/* What a lineage record says about the file it names. */
struct tg_file_facts {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	bool hashed;  /* SHA256 holds the content's digest */
	bool pending; /* queued to the digest thread: tg_digest_settle() */
	uint8_t sha256[TG_SHA256_LEN];
	const char *timing; /* "thread", "at_open", "at_close", "at_rename", "at_exit";
			     * or, with no digest, why: "off", "too_large", "unreadable",
			     * "changed", "unfinished" */
};

/* FACTS' identity from ST. */
void tg_digest_facts(const struct stat *st, struct tg_file_facts *facts);

/* Fills FACTS->sha256 for the file open on FD whose identity FACTS holds:
 * from the cache, or by reading it with pread (THROUGH_PROC: through a
 * new descriptor on /proc/self/fd/FD, for a descriptor opened write-only).
 * TIMING is said when hashed. Sets FACTS->timing to why not otherwise. */
void tg_digest_fd(int fd, bool through_proc, const char *timing, struct tg_file_facts *facts);

/* The same for (DIRFD, PATH), opened read-only without following a last
 * symlink; FACTS is filled from the file opened. Returns 0 or -errno. */
int tg_digest_at(int dirfd, const char *path, const char *timing, struct tg_file_facts *facts);

/* How long the program's thread waits in all, at a record's writing, for
 * digests the thread has not finished. */
#define TG_DIGEST_WAIT_MS 10000

/* A file read, at its first open on FD (THROUGH_PROC: opened write-only):
 * its digest from the cache ("at_open"), or queued to the digest thread
 * (FACTS->pending, "thread"), or, when the queue is full or there is no
 * thread, taken here ("at_open"). FACTS->timing says why not otherwise. */
void tg_digest_read(int fd, bool through_proc, struct tg_file_facts *facts);

/* Fills a pending FACTS from the thread's work: true when settled (its
 * digest, or why not). DEADLINE (tg_digest_deadline()) is when to stop
 * waiting and call it "unfinished"; 0 only looks. */
bool tg_digest_settle(struct tg_file_facts *facts, long long deadline);

/* TG_DIGEST_WAIT_MS from now, on the monotonic clock. */
long long tg_digest_deadline(void);

/* The fork hook of the thread: a child has none, and drops the queue. */
void tg_digest_thread_after_fork(void);

/* The fork hook: a lock a thread of the parent held is free. */
void tg_digest_after_fork(void);

#endif
