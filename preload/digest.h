/* File digests for lineage records: the SHA-256 of a file's content,
 * taken from a descriptor without moving the program's offset, and cached
 * by the file's identity and version (device, inode, size, mtime in ns),
 * so that a dataset shard read every epoch is hashed once per process (and
 * once for all the workers forked after it was hashed: the cache is
 * copied with the memory and stays true).
 *
 * Hashing runs on the calling thread, which is the program's: at the first
 * open of a file read under an audit rule, before the program reads it;
 * at the last close or the rename of a file written. The records say when
 * (unmapped.trainguard.digest). log.digests = "none" turns it off, and
 * log.digest_max (bytes) skips larger files. No heap: the cache and the
 * read buffer are mapped on first use. */
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
	bool hashed; /* SHA256 holds the content's digest */
	uint8_t sha256[TG_SHA256_LEN];
	const char *timing; /* "at_open", "at_close", "at_rename", "at_exit"; or,
			     * with no digest, why: "off", "too_large", "unreadable",
			     * "changed" */
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

/* The fork hook: a lock a thread of the parent held is free. */
void tg_digest_after_fork(void);

#endif
