/* The region a policy can be loaded into, so that a child process can use
 * it without parsing or compiling (docs/hot-path.md, "Start-up").
 *
 * Everything a loaded policy keeps (the struct itself, the pool's chunks,
 * the rule and pattern arrays, the compiled globs, the index) is carved
 * from one reserved range of addresses, so that a copy mapped at the same
 * address in another process is the same graph of pointers. Memory is
 * never given back before the whole region is (a realloc is a new block
 * and a copy); what the region cannot hold spills to malloc and marks the
 * region as one that cannot be handed on. The memo of verdicts by folder
 * is the process's own, mapped apart (memo.c), and left out of the copy.
 *
 * This file also checks a region before it is handed on (no word in it may
 * point into another mapping of the process: the library's image and the
 * heap move from one process to the next) and, in the child, whether the
 * sources it was compiled from are still what the files hold. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy-internal.h"
#include "tg-sha256.h"

/* Addresses reserved (not memory: PROT_NONE until used). */
#define REGION_RESERVE (1ull << 30)
/* Made usable in steps of this much. */
#define REGION_STEP (256u << 10)
#define ALIGN       16u

struct tg_region {
	unsigned char head[TG_REGION_HEAD]; /* the caller's header (tg_policy_region) */
	char *base;
	size_t used, committed, reserved;
	bool closed;  /* no more allocation here (sealed, or a mapped copy) */
	bool spilled; /* something went to malloc: not to be handed on */
	bool mapped;  /* a copy mapped from a file (a child's) */
};

static size_t page_size(void)
{
	long n = sysconf(_SC_PAGESIZE);
	return n > 0 ? (size_t)n : 4096;
}

struct tg_region *tg_region_new(void)
{
	void *m = mmap(NULL, REGION_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	if (mprotect(m, REGION_STEP, PROT_READ | PROT_WRITE) < 0) {
		munmap(m, REGION_RESERVE);
		return NULL;
	}
	struct tg_region *r = m;
	r->base = m;
	r->used = (sizeof(*r) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	r->committed = REGION_STEP;
	r->reserved = REGION_RESERVE;
	return r;
}

void tg_region_free(struct tg_region *r)
{
	if (r)
		munmap(r->base, r->reserved);
}

static bool in_region(const struct tg_region *r, const void *p)
{
	return r && (const char *)p >= r->base && (const char *)p < r->base + r->reserved;
}

static size_t round_up(size_t n)
{
	return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

/* Makes R's first TO bytes usable; false when they cannot be. */
static bool commit(struct tg_region *r, size_t to)
{
	if (to <= r->committed)
		return true;
	to = (to + REGION_STEP - 1) & ~(size_t)(REGION_STEP - 1);
	if (to > r->reserved)
		to = r->reserved;
	if (mprotect(r->base + r->committed, to - r->committed, PROT_READ | PROT_WRITE) < 0)
		return false;
	r->committed = to;
	return true;
}

/* N bytes (zero: the pages are fresh) from R, or NULL when R is closed or
 * full. A SIZED block is preceded by its size, for tg_mem_realloc. */
static void *region_alloc(struct tg_region *r, size_t n, bool sized)
{
	size_t need = (sized ? ALIGN : 0) + round_up(n);

	if (r->closed || need > r->reserved - r->used || !commit(r, r->used + need))
		return NULL;
	char *b = r->base + r->used;
	r->used += need;
	if (!sized)
		return b;
	*(size_t *)b = n;
	return b + ALIGN;
}

void *tg_mem_alloc_raw(struct tg_region *r, size_t n)
{
	return r ? region_alloc(r, n ? n : 1, false) : NULL;
}

void *tg_mem_alloc(struct tg_region *r, size_t n)
{
	if (r) {
		void *b = region_alloc(r, n, true);
		if (b)
			return b;
		r->spilled = true;
	}
	return calloc(1, n ? n : 1);
}

void *tg_mem_realloc(struct tg_region *r, void *old, size_t n)
{
	if (!in_region(r, old)) {
		if (old || !r)
			return realloc(old, n);
		return tg_mem_alloc(r, n);
	}
	size_t *have_at = (size_t *)((char *)old - ALIGN), have = *have_at;
	/* The last block grows where it is. */
	if ((char *)old + round_up(have) == r->base + r->used && !r->closed &&
	    round_up(n) >= round_up(have) &&
	    round_up(n) - round_up(have) <= r->reserved - r->used &&
	    commit(r, r->used + round_up(n) - round_up(have))) {
		r->used += round_up(n) - round_up(have);
		*have_at = n;
		return old;
	}
	void *b = tg_mem_alloc(r, n);
	if (b)
		memcpy(b, old, have < n ? have : n);
	return b;
}

void tg_mem_free(struct tg_region *r, void *p)
{
	if (!in_region(r, p))
		free(p);
}

void *tg_policy_region(const struct tg_policy *p, size_t *ret_size)
{
	struct tg_region *r = p->region;

	if (!r || r->spilled)
		return NULL;
	if (ret_size)
		*ret_size = r->used;
	return r->head;
}

/* ---- Handing the region on --------------------------------------------- */

/* The mappings of this process other than R and the program's own image,
 * sorted, from /proc/self/maps; their number, or -errno. The loader never
 * points into the program (it knows nothing of it), and a program linked
 * at a fixed low address (a non-PIE python at 0x400000) would make the
 * small numbers of a glob's tokens look like pointers into it. */
struct range {
	uintptr_t lo, hi;
};
static int other_mappings(const struct tg_region *r, struct range *out, size_t cap)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512], exe[256];
	size_t n = 0;
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (!f)
		return -errno;
	exe[el > 0 ? el : 0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if (lo >= (uintptr_t)r->base && hi <= (uintptr_t)r->base + r->reserved)
			continue;
		/* [vsyscall]: the kernel's half, at the same address in every
		 * process; and a terabyte or more: a sanitizer's shadow memory,
		 * which spans most addresses and holds nothing the loader made. */
		if (lo >= 1ul << 63 || hi - lo >= 1ul << 40)
			continue;
		const char *name = strchr(line, '/');
		size_t nl = name ? strcspn(name, "\n") : 0;
		if (el > 0 && name && nl == (size_t)el && memcmp(name, exe, nl) == 0)
			continue;
		if (n == cap) {
			fclose(f);
			return -E2BIG;
		}
		out[n++] = (struct range){ lo, hi };
		/* a line longer than the buffer: skip its rest */
		while (!strchr(line, '\n') && fgets(line, sizeof(line), f))
			;
	}
	fclose(f);
	return (int)n; /* the kernel lists them in order */
}

int tg_policy_region_scan(const struct tg_policy *p)
{
	static struct range maps[4096];
	struct tg_region *r = p->region;
	int n, found = 0;

	if (!r)
		return -EINVAL;
	if ((n = other_mappings(r, maps, sizeof(maps) / sizeof(maps[0]))) < 0)
		return n;
	if (n == 0)
		return 0;
	/* Most words are small numbers, text, or pointers into R. Of the
	 * others (a glob's tokens holding a letter look like addresses of the
	 * mmap area), only those in a block (4 GiB with 47-bit addresses) some
	 * mapping touches are looked up among the mappings. */
	static uint64_t blocks[(1u << 15) / 64];
	uintptr_t lo = maps[0].lo, hi = maps[n - 1].hi;
	uintptr_t rlo = (uintptr_t)r->base, rhi = rlo + r->reserved;
	unsigned shift = 32;
	while (((hi - 1 - lo) >> shift) >= sizeof(blocks) * 8)
		shift++;
	memset(blocks, 0, sizeof(blocks));
	for (int i = 0; i < n; i++)
		for (uintptr_t k = (maps[i].lo - lo) >> shift; k <= (maps[i].hi - 1 - lo) >> shift;
		     k++)
			blocks[k / 64] |= 1ull << (k % 64);
	const uintptr_t *w = (const uintptr_t *)r->base,
			*end = (const uintptr_t *)(r->base + r->used);
	const uintptr_t *memo = (const uintptr_t *)&p->memo;
	for (; w < end; w++) {
		uintptr_t v = *w, k = (v - lo) >> shift;
		if (v - lo >= hi - lo || v - rlo < rhi - rlo ||
		    !(blocks[k / 64] & (1ull << (k % 64))) || w == memo)
			continue;
		size_t a = 0, b = (size_t)n;
		while (a < b) { /* the first mapping ending above V */
			size_t m = a + (b - a) / 2;
			if (maps[m].hi <= v)
				a = m + 1;
			else
				b = m;
		}
		if (a < (size_t)n && maps[a].lo <= v)
			found++;
	}
	return found;
}

static int write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int tg_policy_region_write(struct tg_policy *p, int fd)
{
	struct tg_region *r = p->region;
	struct tg_memo *memo = p->memo;
	size_t pg = page_size();
	int e;

	if (!r || r->spilled || r->closed)
		return -EINVAL;
	/* Nothing more goes in: a child would not see it. */
	r->closed = true;
	/* The memo is this process's: the copy has none. Start-up is alone. */
	p->memo = NULL;
	e = write_all(fd, r->base, r->used);
	p->memo = memo;
	if (e < 0)
		return e;
	/* This process keeps the file mapped (read-only and never touched:
	 * no page is faulted in; private: a shared one would keep the file
	 * from being sealed), so that the file and its inode number, which
	 * the exec wrappers check, live as long as the process even when the
	 * program closes the descriptor. Its own policy stays in its own
	 * pages. */
	size_t len = (r->used + pg - 1) & ~(pg - 1);
	if (mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
		return -errno;
	/* The addresses no allocation will use any more go back. */
	if (r->committed < r->reserved &&
	    munmap(r->base + r->committed, r->reserved - r->committed) == 0)
		r->reserved = r->committed;
	return 0;
}

int tg_policy_adopt(void *base, size_t size, struct tg_policy *p)
{
	struct tg_region *r = base;

	if (size < sizeof(*r) || (char *)p < (char *)base + sizeof(*r) ||
	    (char *)(p + 1) > (char *)base + size || p->region != r || r->base != base ||
	    r->used != size)
		return -EINVAL;
	r->closed = true;
	r->mapped = true;
	r->reserved = size;
	r->committed = size;
	p->memo = NULL;
	if (!p->no_memo && !(p->memo = tg_memo_new()))
		return -ENOMEM;
	return 0;
}

/* ---- The sources, again -------------------------------------------------- */

int tg_policy_sources_same(const struct tg_policy *p)
{
	struct tg_sha256 sha;
	unsigned char digest[32];
	char hex[65];

	if (p->unhashed)
		return 0;
	/* A file the digest does not cover (an @include) cannot be checked. */
	for (size_t i = 0; i < p->nfiles; i++) {
		size_t k = 0;
		while (k < p->nhashed &&
		       !(p->hashed[k][0] == 'f' && strcmp(p->hashed[k] + 1, p->files[i]) == 0))
			k++;
		if (k == p->nhashed)
			return 0;
	}
	tg_sha256_init(&sha);
	for (size_t i = 0; i < p->nhashed; i++) {
		const char *h = p->hashed[i];
		if (h[0] == 'p') {
			const char *text = tg_profile_text(h + 1);
			if (!text)
				return 0;
			tg_sha256_update(&sha, text, strlen(text));
			continue;
		}
		size_t n = 0;
		char *text = tg_slurp(h + 1, &n);
		if (!text)
			return 0;
		tg_sha256_update(&sha, text, n);
		free(text);
	}
	tg_sha256_final(&sha, digest);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return strcmp(hex, p->sha256) == 0;
}
