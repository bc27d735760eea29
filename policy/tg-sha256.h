/* SHA-256 (FIPS 180-4), small and self-contained: no allocation, no system
 * call, no lock, so it is usable on the hook path and in a signal handler.
 * Used for the policy digest and the records' hash chain. */
#ifndef TG_SHA256_H
#define TG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define TG_SHA256_LEN 32                      /* bytes of a digest */
#define TG_SHA256_HEX (2 * TG_SHA256_LEN + 1) /* lower-case hex and its NUL */

/* A running hash; the caller owns it (on the stack is fine). */
struct tg_sha256 {
	uint32_t h[8];
	uint64_t nbytes;   /* message length so far */
	uint8_t block[64]; /* pending input */
	size_t fill;       /* bytes pending in BLOCK */
};

void tg_sha256_init(struct tg_sha256 *c);
void tg_sha256_update(struct tg_sha256 *c, const void *data, size_t len);
/* Writes the digest to OUT; C must be initialised again before reuse. */
void tg_sha256_final(struct tg_sha256 *c, uint8_t out[TG_SHA256_LEN]);
/* As tg_sha256_final, but writes lower-case hex and a NUL. */
void tg_sha256_final_hex(struct tg_sha256 *c, char out[TG_SHA256_HEX]);

/* The lower-case hex digest of LEN bytes at DATA, NUL-terminated. */
void tg_sha256_hex(const void *data, size_t len, char out[TG_SHA256_HEX]);

#endif
