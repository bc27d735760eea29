/* Names of classes, modes and errnos as policies and records spell them,
 * the "did you mean" suggester, and the bump allocator policies live in. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

static const char *const class_names[TG_NCLASS] = {
	"read", "write", "create", "delete", "exec", "chmod", "list",
};
static const char *const mode_names[] = { "enforce", "audit", "learn" };
static const char *const on_deny_names[] = { "quiet", "error", "kill" };

const char *tg_class_name(enum tg_class c)
{
	return (unsigned)c < TG_NCLASS ? class_names[c] : NULL;
}

const char *tg_mode_name(enum tg_mode m)
{
	return (unsigned)m <= TG_LEARN ? mode_names[m] : NULL;
}

const char *tg_on_deny_name(enum tg_on_deny o)
{
	return (unsigned)o <= TG_ON_DENY_KILL ? on_deny_names[o] : NULL;
}

int tg_mode_parse(const char *s, enum tg_mode *ret)
{
	for (unsigned i = 0; i <= TG_LEARN; i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

const char *tg_classes_str(unsigned mask, char *buf, size_t bufsz)
{
	size_t n = 0;

	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned c = 0; c < TG_NCLASS; c++) {
		if (!(mask & TG_BIT(c)))
			continue;
		size_t l = strlen(class_names[c]);
		if (n + l + 2 > bufsz)
			break;
		if (n)
			buf[n++] = ',';
		memcpy(buf + n, class_names[c], l + 1);
		n += l;
	}
	return buf;
}

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EACCES", EACCES }, { "EPERM", EPERM }, { "ENOENT", ENOENT },
	{ "EROFS", EROFS },   { "EXDEV", EXDEV },
};

int tg_errno_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcmp(s, errnos[i].name) == 0)
			return errnos[i].value;
	return -EINVAL;
}

const char *tg_errno_name(int e)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].value == e)
			return errnos[i].name;
	return NULL;
}

/* Damerau-free Levenshtein distance, capped: words here are short. */
static unsigned distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *tg_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	unsigned bestd = 3;

	for (; *candidates; candidates++) {
		unsigned d = distance(word, *candidates);
		if (d < bestd) {
			bestd = d;
			best = *candidates;
		}
	}
	return best;
}

struct tg_chunk {
	struct tg_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *tg_pool_alloc(struct tg_pool *pool, size_t n)
{
	struct tg_chunk *c = pool->head;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 60000 ? n : 60000;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = pool->head;
		c->used = 0;
		c->cap = cap;
		pool->head = c;
	}
	void *r = (char *)c->data + c->used;
	c->used += n;
	memset(r, 0, n);
	return r;
}

char *tg_pool_strndup(struct tg_pool *pool, const char *s, size_t n)
{
	char *r = tg_pool_alloc(pool, n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

char *tg_pool_strdup(struct tg_pool *pool, const char *s)
{
	return tg_pool_strndup(pool, s, strlen(s));
}

void tg_pool_free(struct tg_pool *pool)
{
	while (pool->head) {
		struct tg_chunk *c = pool->head;
		pool->head = c->next;
		free(c);
	}
}
