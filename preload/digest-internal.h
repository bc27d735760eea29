/* What digest.c shares with the digest thread (digest-thread.c): the
 * hashing itself, the cache of digests taken, and the settings' say. */
#ifndef TG_DIGEST_INTERNAL_H
#define TG_DIGEST_INTERNAL_H

#include "digest.h"

/* Hashes FD's content from offset 0 with pread into OUT. Returns 0,
 * -ESTALE when it did not hold SIZE bytes (written meanwhile), or -errno. */
int tg_digest_hash_fd(int fd, uint64_t size, uint8_t out[TG_SHA256_LEN]);

/* FACTS' digest from the cache: true and FACTS->sha256 filled on a hit. */
bool tg_digest_lookup(struct tg_file_facts *facts);

/* Keeps FACTS' digest in the cache. */
void tg_digest_remember(const struct tg_file_facts *facts);

/* Whether FACTS' file is to be hashed; sets FACTS->timing to why not. */
bool tg_digest_wanted(struct tg_file_facts *facts);

/* A new descriptor of the file open on FD, read-only, from /proc/self/fd,
 * or -errno. */
int tg_digest_reopen(int fd);

#endif
