/* The tables of trainguard report: a string key to its counts, in an
 * open-addressing hash table that grows up to TG_REPORT_MAX_KEYS keys and
 * then counts new keys in one lost row, so a log of any size is read in
 * bounded memory. Keys are bytes with a length (two parts joined by a
 * NUL: "executable\0command line"). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void tg_counts_add(struct tg_counts *to, const struct tg_counts *c)
{
	to->denied += c->denied;
	to->would += c->would;
	to->audited += c->audited;
	to->killed += c->killed;
	if (c->first_ms && (!to->first_ms || c->first_ms < to->first_ms))
		to->first_ms = c->first_ms;
	if (c->last_ms > to->last_ms)
		to->last_ms = c->last_ms;
}

long long tg_counts_alerts(const struct tg_counts *c)
{
	/* Killed records are denied ones too: counted once. */
	return c->denied + c->would;
}

long long tg_counts_total(const struct tg_counts *c)
{
	return c->denied + c->would + c->audited;
}

static uint64_t hash(const char *k, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
	return h;
}

static struct tg_row *slot(struct tg_row *rows, size_t cap, const char *key, size_t klen)
{
	size_t i = hash(key, klen) & (cap - 1);
	while (rows[i].key && (rows[i].klen != klen || memcmp(rows[i].key, key, klen) != 0))
		i = (i + 1) & (cap - 1);
	return &rows[i];
}

static int grow(struct tg_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct tg_row *rows = calloc(cap, sizeof(*rows));

	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->rows[i].key)
			*slot(rows, cap, t->rows[i].key, t->rows[i].klen) = t->rows[i];
	free(t->rows);
	t->rows = rows;
	t->cap = cap;
	return 0;
}

const struct tg_row *tg_table_get(const struct tg_table *t, const char *key, size_t klen)
{
	if (!t->cap)
		return NULL;
	const struct tg_row *r = slot(t->rows, t->cap, key, klen);
	return r->key ? r : NULL;
}

int tg_table_add(struct tg_table *t, const char *key, size_t klen, const struct tg_counts *c)
{
	struct tg_row *r = t->cap ? slot(t->rows, t->cap, key, klen) : NULL;

	if (r && r->key) {
		tg_counts_add(&r->c, c);
		return 0;
	}
	if (t->n >= TG_REPORT_MAX_KEYS)
		goto lost;
	/* At most half full: probes stay short. */
	if ((t->n + 1) * 2 > t->cap) {
		if (grow(t) < 0)
			goto lost;
	}
	r = slot(t->rows, t->cap, key, klen);
	r->key = malloc(klen + 1);
	if (!r->key)
		goto lost;
	memcpy(r->key, key, klen);
	r->key[klen] = '\0';
	r->klen = klen;
	r->c = *c;
	t->n++;
	return 0;
lost:
	tg_counts_add(&t->lost, c);
	t->nlost++;
	return t->n >= TG_REPORT_MAX_KEYS ? 0 : -ENOMEM;
}

static int by_alerts(const void *a, const void *b)
{
	const struct tg_row *x = *(const struct tg_row *const *)a;
	const struct tg_row *y = *(const struct tg_row *const *)b;
	long long ax = tg_counts_alerts(&x->c), ay = tg_counts_alerts(&y->c);
	long long tx = tg_counts_total(&x->c), ty = tg_counts_total(&y->c);

	if (ax != ay)
		return ax > ay ? -1 : 1;
	if (tx != ty)
		return tx > ty ? -1 : 1;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int d = memcmp(x->key, y->key, n);
	return d ? d : (x->klen > y->klen) - (x->klen < y->klen);
}

static int by_minute(const void *a, const void *b)
{
	long long x = strtoll((*(const struct tg_row *const *)a)->key, NULL, 10);
	long long y = strtoll((*(const struct tg_row *const *)b)->key, NULL, 10);
	return (x > y) - (x < y);
}

static const struct tg_row **sorted(const struct tg_table *t, size_t *ret_n,
				    int (*cmp)(const void *, const void *))
{
	const struct tg_row **v;
	size_t n = 0;

	*ret_n = 0;
	if (!t->n || !(v = malloc(t->n * sizeof(*v))))
		return NULL;
	for (size_t i = 0; i < t->cap; i++)
		if (t->rows[i].key)
			v[n++] = &t->rows[i];
	qsort(v, n, sizeof(*v), cmp);
	*ret_n = n;
	return v;
}

const struct tg_row **tg_table_sorted(const struct tg_table *t, size_t *ret_n)
{
	return sorted(t, ret_n, by_alerts);
}

const struct tg_row **tg_table_sorted_by_minute(const struct tg_table *t, size_t *ret_n)
{
	return sorted(t, ret_n, by_minute);
}

void tg_table_free(struct tg_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->rows[i].key);
	free(t->rows);
	*t = (struct tg_table){ 0 };
}

int tg_slice_top(const struct tg_row **v, size_t n, size_t top,
		 bool (*in)(const struct tg_row *r, const struct tg_row *arg),
		 const struct tg_row *arg, struct tg_slice *ret)
{
	*ret = (struct tg_slice){ 0 };
	if (top && n && !(ret->rows = malloc((top < n ? top : n) * sizeof(*ret->rows))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (in && !in(v[i], arg))
			continue;
		if (ret->n < top) {
			ret->rows[ret->n++] = v[i];
		} else {
			ret->nmore++;
			tg_counts_add(&ret->more, &v[i]->c);
		}
	}
	return 0;
}

void tg_slice_free(struct tg_slice *s)
{
	free(s->rows);
	*s = (struct tg_slice){ 0 };
}

bool tg_row_in_folder(const struct tg_row *r, const struct tg_row *folder)
{
	size_t fl = tg_report_folder_len(r->key, r->klen);
	return fl == folder->klen && memcmp(r->key, folder->key, fl) == 0;
}

bool tg_row_of_exe(const struct tg_row *r, const struct tg_row *exe)
{
	return r->klen > exe->klen && r->key[exe->klen] == '\0' &&
	       memcmp(r->key, exe->key, exe->klen) == 0;
}
