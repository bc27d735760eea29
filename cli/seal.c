/* Sealing a log from outside the job: the Merkle tree over its lines, the
 * seal file written at the end of `trainguard run --seal` and read by
 * `trainguard verify --seal` (see seal.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "seal.h"

static void node(const uint8_t l[TG_SHA256_LEN], const uint8_t r[TG_SHA256_LEN],
		 uint8_t out[TG_SHA256_LEN])
{
	static const uint8_t one = 1;
	struct tg_sha256 c;

	tg_sha256_init(&c);
	tg_sha256_update(&c, &one, 1);
	tg_sha256_update(&c, l, TG_SHA256_LEN);
	tg_sha256_update(&c, r, TG_SHA256_LEN);
	tg_sha256_final(&c, out);
}

void tg_merkle_init(struct tg_merkle *m)
{
	memset(m, 0, sizeof(*m));
}

void tg_merkle_add(struct tg_merkle *m, const void *line, size_t len)
{
	static const uint8_t zero = 0;
	struct tg_sha256 c;

	tg_sha256_init(&c);
	tg_sha256_update(&c, &zero, 1);
	tg_sha256_update(&c, line, len);
	tg_sha256_final(&c, m->h[m->n]);
	m->size[m->n++] = 1;
	m->leaves++;
	/* Two perfect subtrees of one size make one of twice the size. */
	while (m->n >= 2 && m->size[m->n - 1] == m->size[m->n - 2]) {
		node(m->h[m->n - 2], m->h[m->n - 1], m->h[m->n - 2]);
		m->size[m->n - 2] *= 2;
		m->n--;
	}
}

void tg_merkle_root(const struct tg_merkle *m, uint8_t out[TG_SHA256_LEN])
{
	if (m->n == 0) {
		struct tg_sha256 c;
		tg_sha256_init(&c);
		tg_sha256_final(&c, out);
		return;
	}
	/* RFC 6962 splits at the largest power of two below the size: the
	 * subtrees, folded from the right. */
	memcpy(out, m->h[m->n - 1], TG_SHA256_LEN);
	for (int i = m->n - 2; i >= 0; i--)
		node(m->h[i], out, out);
}

static void hex(const uint8_t *b, char out[TG_SHA256_HEX])
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < TG_SHA256_LEN; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * TG_SHA256_LEN] = '\0';
}

int tg_seal_compute(const char *log, uint64_t *ret_lines, uint64_t *ret_bytes,
		    char ret_root[TG_SHA256_HEX])
{
	struct tg_merkle *m = malloc(sizeof(*m));
	uint8_t root[TG_SHA256_LEN];
	char *line = NULL;
	size_t cap = 0;
	uint64_t bytes = 0;
	ssize_t n;

	if (!m)
		return -ENOMEM;
	FILE *f = fopen(log, "re");
	if (!f) {
		int e = errno;
		free(m);
		return -e;
	}
	tg_merkle_init(m);
	while ((n = getline(&line, &cap, f)) > 0) {
		bytes += (uint64_t)n;
		tg_merkle_add(m, line, line[n - 1] == '\n' ? (size_t)n - 1 : (size_t)n);
	}
	int err = ferror(f) ? -EIO : 0;
	fclose(f);
	free(line);
	if (err == 0) {
		tg_merkle_root(m, root);
		hex(root, ret_root);
		*ret_lines = m->leaves;
		*ret_bytes = bytes;
	}
	free(m);
	return err;
}

int tg_seal_write(const char *seal, const char *log, const char *job_id)
{
	char root[TG_SHA256_HEX], real[4096];
	uint64_t lines, bytes;
	struct timespec ts;
	int r = tg_seal_compute(log, &lines, &bytes, root);

	if (r < 0)
		return r;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_t *o = json_pack("{s:s, s:I, s:s?, s:I, s:s, s:s, s:I, s:i}", "algorithm",
			      TG_SEAL_ALGORITHM, "bytes", (json_int_t)bytes, "job_id", job_id,
			      "lines", (json_int_t)lines, "log", realpath(log, real) ? real : log,
			      "root", root, "sealed_time",
			      (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, "version", 1);
	if (!o)
		return -ENOMEM;
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	int fd = open(seal, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		r = -errno;
		free(text);
		return r;
	}
	size_t len = strlen(text);
	text[len] = '\n'; /* json_dumps's NUL becomes the newline */
	r = write(fd, text, len + 1) == (ssize_t)(len + 1) ? 0 : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	free(text);
	return r;
}

int tg_seal_read(const char *seal, uint64_t *ret_lines, char ret_root[TG_SHA256_HEX])
{
	json_error_t err;
	FILE *f = fopen(seal, "re");

	if (!f)
		return -errno;
	json_t *o = json_loadf(f, 0, &err);
	fclose(f);
	json_t *lines = json_object_get(o, "lines");
	const char *root = json_string_value(json_object_get(o, "root"));
	const char *alg = json_string_value(json_object_get(o, "algorithm"));
	int r = -EINVAL;
	if (json_is_integer(lines) && json_integer_value(lines) >= 0 && root &&
	    strlen(root) == 2 * TG_SHA256_LEN && alg && strcmp(alg, TG_SEAL_ALGORITHM) == 0) {
		*ret_lines = (uint64_t)json_integer_value(lines);
		memcpy(ret_root, root, TG_SHA256_HEX);
		r = 0;
	}
	json_decref(o);
	return r;
}
