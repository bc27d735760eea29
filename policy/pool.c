/* Where a policy's strings and the loader's bookkeeping live: the bump
 * allocator every loaded rule, pattern and name is carved from (freed all
 * at once with the policy; its chunks come from the policy's region when
 * it has one, region.c), and the open-addressing string map the loader
 * keeps its set of rule ids and its cache of resolved folders in. Neither
 * is used after loading: deciding never allocates. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

/* ---- Bump allocator ------------------------------------------------------ */

struct tg_chunk {
	struct tg_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *tg_pool_alloc(struct tg_pool *pool, size_t n)
{
	struct tg_chunk *c = pool->head;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	/* In a region, straight from it: no chunk's tail is left unused in
	 * what a child maps. */
	void *raw = tg_mem_alloc_raw(pool->region, n);
	if (raw)
		return raw;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 60000 ? n : 60000;
		c = tg_mem_alloc(pool->region, sizeof(*c) + cap);
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
		tg_mem_free(pool->region, c);
	}
}

/* ---- String map ---------------------------------------------------------- */

/* The index's FNV-1a, its high bits folded into the low ones the table
 * size keeps. */
static size_t str_hash(const char *s)
{
	uint64_t h = tg_hash_step(TG_HASH_INIT, s, strlen(s));
	return (size_t)(h ^ (h >> 32));
}

struct tg_strent *tg_strmap_slot(struct tg_strmap *m, const char *key)
{
	if (m->n * 2 >= m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct tg_strent *t = calloc(cap, sizeof(*t));
		if (!t)
			return NULL;
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].key) {
				size_t k = str_hash(m->e[i].key) & (cap - 1);
				while (t[k].key)
					k = (k + 1) & (cap - 1);
				t[k] = m->e[i];
			}
		free(m->e);
		m->e = t;
		m->cap = cap;
	}
	size_t k = str_hash(key) & (m->cap - 1);
	while (m->e[k].key && strcmp(m->e[k].key, key) != 0)
		k = (k + 1) & (m->cap - 1);
	return &m->e[k];
}

void tg_strmap_free(struct tg_strmap *m, bool owned)
{
	for (size_t i = 0; owned && i < m->cap; i++) {
		free((char *)m->e[i].key);
		free(m->e[i].val);
	}
	free(m->e);
	*m = (struct tg_strmap){ 0 };
}
