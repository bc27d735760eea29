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
	uint32_t *order = malloc((p->npats ? p->npats : 1) * sizeof(*order));
	size_t nslots = 16;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < p->npats; i++)
		order[i] = i;
	qsort_r(order, p->npats, sizeof(*order), cmp_anchor, (void *)p);
	while (nslots < 2 * p->npats)
		nslots *= 2;
	struct tg_slot *slots = calloc(nslots, sizeof(*slots));
	if (!slots) {
		free(order);
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
static uint64_t *build_parents(const struct tg_slot *slots, size_t nslots, size_t npats,
			       size_t *ret_n)
{
	size_t nparents = 16;

	while (nparents < 2 * npats)
		nparents *= 2;
	uint64_t *parents = calloc(nparents, sizeof(*parents));
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

int tg_policy_index(struct tg_policy *p)
{
	uint32_t *order;
	struct tg_slot *slots;
	size_t nslots, nparents;
	uint64_t *parents;
	int r = build_slots(p, &order, &slots, &nslots);

	if (r < 0)
		return r;
	parents = build_parents(slots, nslots, p->npats, &nparents);
	if (!parents)
		goto fail;
	if (p->memo) {
		tg_memo_clear(p->memo); /* verdicts of the index before */
	} else if (!p->no_memo && !(p->memo = tg_memo_new())) {
		free(parents);
		goto fail;
	}
	free(p->parents);
	p->parents = parents;
	p->nparents = nparents;
	memset(p->keylens, 0, sizeof(p->keylens));
	for (size_t i = 0; i < p->npats; i++)
		if (p->pats[i].anchor / 64 < sizeof(p->keylens) / sizeof(p->keylens[0]))
			p->keylens[p->pats[i].anchor / 64] |= 1ULL << (p->pats[i].anchor % 64);
	free(p->order);
	free(p->slots);
	p->order = order;
	p->slots = slots;
	p->nslots = nslots;
	return 0;
fail:
	free(order);
	free(slots);
	return -ENOMEM;
}
