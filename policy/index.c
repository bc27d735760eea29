/* The index of a compiled policy: every pattern alternative filed under
 * its key (match.c walks it), the set of folders some key names an entry
 * of (for the memo), and the key lengths a lookup probes at. Built once
 * after loading, and again when the guard adds its own protections;
 * nothing here runs while deciding. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

static int cmp_anchor(const void *a, const void *b, void *ud)
{
	const struct tg_policy *p = ud;
	const struct tg_pat *x = &p->pats[*(const uint32_t *)a];
	const struct tg_pat *y = &p->pats[*(const uint32_t *)b];
	size_t n = x->anchor < y->anchor ? x->anchor : y->anchor;
	int c = memcmp(x->key, y->key, n);
	if (c)
		return c;
	if (x->anchor != y->anchor)
		return x->anchor < y->anchor ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

void tg_policy_set_memo(struct tg_policy *p, bool on)
{
	p->no_memo = !on;
	if (on && !p->memo) {
		p->memo = tg_memo_new();
	} else if (!on) {
		tg_memo_free(p->memo);
		p->memo = NULL;
	}
}

static void add_parent(uint64_t *set, size_t n, uint64_t h)
{
	h |= 1;
	for (size_t k = h & (n - 1);; k = (k + 1) & (n - 1)) {
		if (set[k] == h)
			return;
		if (!set[k]) {
			set[k] = h;
			return;
		}
	}
}

/* The index proper: ORDER lists the pattern indices grouped by key, and
 * SLOTS (a power of two, *RET_NSLOTS) maps each key to its group. */
static int build_slots(const struct tg_policy *p, uint32_t **ret_order, struct tg_slot **ret_slots,
		       size_t *ret_nslots)
{
	uint32_t *order = tg_mem_alloc(p->region, (p->npats ? p->npats : 1) * sizeof(*order));
	size_t nslots = 16;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < p->npats; i++)
		order[i] = i;
	qsort_r(order, p->npats, sizeof(*order), cmp_anchor, (void *)p);
	while (nslots < 2 * p->npats)
		nslots *= 2;
	struct tg_slot *slots = tg_mem_alloc(p->region, nslots * sizeof(*slots));
	if (!slots) {
		tg_mem_free(p->region, order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->npats;) {
		const struct tg_pat *t = &p->pats[order[i]];
		size_t j = i + 1;
		while (j < p->npats && p->pats[order[j]].anchor == t->anchor &&
		       memcmp(p->pats[order[j]].key, t->key, t->anchor) == 0)
			j++;
		uint64_t h = tg_anchor_hash(t->key, t->anchor);
		size_t k = h & (nslots - 1);
		while (slots[k].key)
			k = (k + 1) & (nslots - 1);
		slots[k] = (struct tg_slot){ h, t->key, t->anchor, i, j - i };
		i = j;
	}
	*ret_order = order;
	*ret_slots = slots;
	*ret_nslots = nslots;
	return 0;
}

/* The set of folders whose entries some key of SLOTS names: "/a/" for
 * "/a/b/". A power of two, *RET_N, at least twice the patterns. */
static uint64_t *build_parents(struct tg_region *r, const struct tg_slot *slots, size_t nslots,
			       size_t npats, size_t *ret_n)
{
	size_t nparents = 16;

	while (nparents < 2 * npats)
		nparents *= 2;
	uint64_t *parents = tg_mem_alloc(r, nparents * sizeof(*parents));
	if (!parents)
		return NULL;
	for (size_t k = 0; k < nslots; k++) {
		size_t n = slots[k].keylen;
		if (!slots[k].key || n < 2)
			continue; /* the root has no folder */
		while (n > 1 && slots[k].key[n - 2] != '/')
			n--;
		add_parent(parents, nparents, tg_anchor_hash(slots[k].key, n - 1));
	}
	*ret_n = nparents;
	return parents;
}

/* Orders the denying alternatives by literal prefix, then by index. */
static int cmp_literal(const void *a, const void *b, void *ud)
{
	const struct tg_policy *p = ud;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct tg_pat *x = &p->pats[i], *y = &p->pats[j];
	int c = memcmp(x->lit, y->lit, x->litlen < y->litlen ? x->litlen : y->litlen);
	if (c)
		return c;
	if (x->litlen != y->litlen)
		return x->litlen < y->litlen ? -1 : 1;
	return i < j ? -1 : 1;
}

static int build_denying(struct tg_policy *p)
{
	uint32_t *d = tg_mem_alloc(p->region, (p->npats ? p->npats : 1) * sizeof(*d));
	size_t n = 0;

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < p->npats; i++)
		if (p->pats[i].rule && p->pats[i].rule->deny)
			d[n++] = i;
	qsort_r(d, n, sizeof(*d), cmp_literal, p);
	tg_mem_free(p->region, p->denying);
	p->denying = d;
	p->ndenying = n;
	return 0;
}

/* Compares LIT (LEN bytes) with the folder prefix PATH[0..AT) + "/", as
 * far as the prefix goes: 0 when LIT starts with it. */
static int cmp_below(const char *lit, size_t len, const char *path, size_t at)
{
	int c = memcmp(lit, path, len < at ? len : at);
	if (c)
		return c;
	if (len <= at)
		return -1; /* a proper prefix of the folder sorts before it */
	return (unsigned char)lit[at] - '/';
}

const struct tg_rule *tg_policy_rule_below(const struct tg_policy *p, const char *path, size_t n)
{
	size_t at = n == 1 ? 0 : n; /* the root: every absolute literal is below it */
	size_t lo = 0, hi = p->ndenying;
	const struct tg_pat *best = NULL;

	while (lo < hi) { /* the first literal not before PATH/ */
		size_t mid = lo + (hi - lo) / 2;
		const struct tg_pat *t = &p->pats[p->denying[mid]];
		if (cmp_below(t->lit, t->litlen, path, at) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < p->ndenying; k++) {
		const struct tg_pat *t = &p->pats[p->denying[k]];
		if (cmp_below(t->lit, t->litlen, path, at) != 0)
			break;
		if (t->litlen > at + 1 && (!best || t < best))
			best = t; /* the first in pattern order names the record */
	}
	return best ? best->rule : NULL;
}

int tg_policy_index(struct tg_policy *p)
{
	uint32_t *order;
	struct tg_slot *slots;
	size_t nslots, nparents;
	uint64_t *parents;
	int r = build_slots(p, &order, &slots, &nslots);

	if (r < 0)
		return r;
	if (build_denying(p) < 0)
		goto fail;
	parents = build_parents(p->region, slots, nslots, p->npats, &nparents);
	if (!parents)
		goto fail;
	if (p->memo) {
		tg_memo_clear(p->memo); /* verdicts of the index before */
	} else if (!p->no_memo && !(p->memo = tg_memo_new())) {
		tg_mem_free(p->region, parents);
		goto fail;
	}
	tg_mem_free(p->region, p->parents);
	p->parents = parents;
	p->nparents = nparents;
	memset(p->keylens, 0, sizeof(p->keylens));
	for (size_t i = 0; i < p->npats; i++)
		if (p->pats[i].anchor / 64 < sizeof(p->keylens) / sizeof(p->keylens[0]))
			p->keylens[p->pats[i].anchor / 64] |= 1ULL << (p->pats[i].anchor % 64);
	tg_mem_free(p->region, p->order);
	tg_mem_free(p->region, p->slots);
	p->order = order;
	p->slots = slots;
	p->nslots = nslots;
	return 0;
fail:
	tg_mem_free(p->region, order);
	tg_mem_free(p->region, slots);
	return -ENOMEM;
}
