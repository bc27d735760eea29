/* The seal of a log: an RFC 6962 Merkle tree over its lines, computed from
 * outside the job (trainguard run --seal) and checked by verify --seal.
 *
 * Leaf i is SHA-256(0x00 || line i without its newline), a node
 * SHA-256(0x01 || left || right), the tree split as RFC 6962 section 2.1
 * says; an empty log's root is SHA-256 of nothing. A last line without a
 * newline is a leaf too. The seal file is one JSON object:
 * {"algorithm":"rfc6962-sha256","bytes":B,"job_id":J,"lines":N,"log":PATH,
 *  "root":HEX,"sealed_time":MS,"version":1}. */
#ifndef TG_CLI_SEAL_H
#define TG_CLI_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg-sha256.h"

#define TG_SEAL_ALGORITHM "rfc6962-sha256"

/* A tree being built, leaf by leaf: the roots of its perfect subtrees,
 * largest first. Caller-owned; zero it with tg_merkle_init. */
struct tg_merkle {
	uint8_t h[64][TG_SHA256_LEN];
	uint64_t size[64];
	int n;
	uint64_t leaves;
};

void tg_merkle_init(struct tg_merkle *m);
void tg_merkle_add(struct tg_merkle *m, const void *line, size_t len);
/* The root of the leaves added so far; M is unchanged. */
void tg_merkle_root(const struct tg_merkle *m, uint8_t out[TG_SHA256_LEN]);

/* Computes the seal of the file LOG: its lines, bytes and root (hex).
 * Returns 0, or -errno when LOG cannot be read. */
int tg_seal_compute(const char *log, uint64_t *ret_lines, uint64_t *ret_bytes,
		    char ret_root[TG_SHA256_HEX]);

/* Seals LOG into SEAL (created or replaced, mode 0644). Returns 0 or
 * -errno (nothing printed). */
int tg_seal_write(const char *seal, const char *log, const char *job_id);

/* Reads SEAL: its line count and root. Returns 0, -errno when it cannot be
 * read, or -EINVAL when it is not a seal. */
int tg_seal_read(const char *seal, uint64_t *ret_lines, char ret_root[TG_SHA256_HEX]);

#endif
