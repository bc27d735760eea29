/* The memo: verdicts by folder.
 *
 * Most folders a job touches hold entries the policy cannot tell apart:
 * every file of a dataset shard folder gets the dataset rule, every
 * checkpoint the checkpoint rule. tg_decide files the verdict of such a
 * folder here (tg_children_alike says when it may), and the next access to
 * any entry of that folder costs a hash of the folder's path and one
 * comparison instead of a walk of the index and a run of its globs; the
 * next one in the folder a thread used last, the comparison alone.
 *
 * The table is fixed (MEMO_SLOTS entries, direct-mapped) and shared by
 * every thread without a lock: each entry has a sequence counter, odd while
 * a writer fills it. A reader copies the entry and checks that the counter
 * did not move; a writer that finds the entry busy simply does not file.
 * A lost or overwritten entry is only a slower lookup, never a different
 * verdict: the policy is immutable, so an entry is true forever. A write
 * cut off by fork() leaves its entry odd in the child: never read or
 * written again there, one slot lost. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "policy-internal.h"

#define MEMO_SLOTS 512
/* Folders longer than this are decided every time. */
#define MEMO_DIRMAX 168

struct memo_entry {
	_Atomic unsigned seq; /* odd while being written */
	unsigned classes;
	uint64_t hash;
	size_t dirlen;
	struct tg_memo_hit h;
	char dir[MEMO_DIRMAX];
};

struct tg_memo {
	_Atomic bool used; /* some entry was filed */
	struct memo_entry e[MEMO_SLOTS];
};

/* Mapped, not allocated: the pages stay untouched (and out of the
 * process's resident memory) until a folder is filed in them. */
struct tg_memo *tg_memo_new(void)
{
	void *m = mmap(NULL, sizeof(struct tg_memo), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

void tg_memo_free(struct tg_memo *m)
{
	if (m)
		munmap(m, sizeof(*m));
}

void tg_memo_clear(struct tg_memo *m)
{
	if (m && atomic_load(&m->used))
		memset(m, 0, sizeof(*m));
}

static inline uint64_t load64(const char *s)
{
	uint64_t w;
	memcpy(&w, s, sizeof(w));
	return w;
}

/* A hash of S (N bytes) and CLASSES, eight bytes at a time: the lookup is
 * on the hot path of every open. An entry is compared whole, so only the
 * table index needs it to be good: sibling folders must spread. */
static inline uint64_t memo_hash(const char *s, size_t n, unsigned classes)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	uint64_t h = (n << 8) ^ classes;

	if (n >= 8) {
		size_t i = 0;
		for (; i + 8 <= n; i += 8)
			h = (h ^ load64(s + i)) * k;
		if (i < n)
			h = (h ^ load64(s + n - 8)) * k; /* the tail, overlapping */
	} else {
		for (size_t i = 0; i < n; i++)
			h = (h ^ (unsigned char)s[i]) * k;
	}
	/* The table index is the low bits: fold the high ones in, or folders
	 * that differ in one late byte ("cls-000/", "cls-004/") share a slot. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

/* Bit i set when byte i of the eight at S is C: the test of a whole word
 * at once, exact (no false positive from a borrow). */
static inline uint32_t same_bytes8(const uint8_t *s, unsigned char c)
{
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t t = load64((const char *)s) ^ (c * 0x0101010101010101ULL);
	uint64_t z = ~(((t & lo7) + lo7) | t | lo7); /* 0x80 where T's byte is 0 */
	return (uint32_t)(((z >> 7) * 0x0102040810204080ULL) >> 56);
}

static inline uint32_t same_bytes(const uint8_t *s, unsigned char c)
{
	_Static_assert(TG_MEMO_EXCEPT == 16, "two words of last bytes");
	return same_bytes8(s, c) | same_bytes8(s + 8, c) << 8;
}

/* The slot this thread last found its folder in, tried before the hash:
 * a job opens file after file of one folder. Only a guess: the entry there
 * is compared whole under its counter as any other, so a stale guess
 * (another folder filed there since, the memo cleared or replaced, a fork)
 * costs one comparison, never a verdict. */
static __thread unsigned last_slot __attribute__((tls_model("initial-exec")));

/* The entry of (PATH, DIRLEN, CLASSES) found by its hash, and its counter
 * in *SEQ, or NULL. */
static __attribute__((noinline)) struct memo_entry *
memo_find_hashed(struct tg_memo *m, const char *path, size_t dirlen, unsigned classes,
		 unsigned *seq)
{
	uint64_t h = memo_hash(path, dirlen, classes);
	unsigned i = (unsigned)h & (MEMO_SLOTS - 1);
	struct memo_entry *e = &m->e[i];
	unsigned s = atomic_load_explicit(&e->seq, memory_order_acquire);

	if ((s & 1) || e->hash != h || e->dirlen != dirlen || e->classes != classes ||
	    memcmp(e->dir, path, dirlen) != 0)
		return NULL;
	last_slot = i;
	*seq = s;
	return e;
}

/* The entry of (PATH, DIRLEN, CLASSES) and its counter in *SEQ, or NULL:
 * the guessed slot first. */
static inline __attribute__((always_inline)) struct memo_entry *
memo_find(struct tg_memo *m, const char *path, size_t dirlen, unsigned classes, unsigned *seq)
{
	struct memo_entry *e = &m->e[last_slot % MEMO_SLOTS];
	unsigned s = atomic_load_explicit(&e->seq, memory_order_acquire);

	/* S is 0 for an entry never filed (or cleared). */
	if (s && !(s & 1) && e->dirlen == dirlen && e->classes == classes &&
	    memcmp(e->dir, path, dirlen) == 0) {
		*seq = s;
		return e;
	}
	return memo_find_hashed(m, path, dirlen, classes, seq);
}

/* The lookup of an entry E with exceptions, read under counter SEQ. Out of
 * line: the folders of most policies have none. */
static __attribute__((noinline)) bool memo_except(const struct tg_policy *p,
						  const struct memo_entry *e, unsigned seq,
						  const char *name, size_t nlen, unsigned classes,
						  struct tg_verdict *ret)
{
	unsigned nexc = e->h.nexc, nmet = 0, first = 0;
	uint32_t met[TG_MEMO_EXCEPT], cand = 0;
	const struct tg_pat *win[TG_NCLASS];

	/* Each exception is a valid pattern index whichever writer left it
	 * (the memo is cleared whenever the index changes), so the names can
	 * be tested before the counter says whether the entry held still. */
	if (nexc > TG_MEMO_EXCEPT || !nlen)
		return false;
	unsigned char c = (unsigned char)name[nlen - 1];
	cand = e->h.anylast;
	if (cand || (e->h.lastmask >> (c & 63) & 1))
		cand |= same_bytes(e->h.last, c) & ((1u << nexc) - 1);
	for (; cand; cand &= cand - 1) {
		unsigned i = (unsigned)__builtin_ctz(cand);
		uint32_t x = e->h.exc[i];
		if (x >= p->npats || !tg_name_test(&p->pats[x], name, nlen))
			continue;
		if (!nmet)
			first = i;
		met[nmet++] = x;
	}
	if (nmet == 0)
		*ret = e->h.v;
	else if (nmet == 1)
		*ret = e->h.one[first];
	else
		memcpy(win, e->h.win, sizeof(win));
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&e->seq, memory_order_relaxed) != seq)
		return false; /* rewritten while read */
	if (nmet > 1)
		tg_verdict_with(p, win, met, nmet, classes, ret);
	return true;
}

static inline __attribute__((always_inline)) bool memo_get(const struct tg_policy *p,
							   const char *path, size_t dirlen,
							   const char *name, size_t nlen,
							   unsigned classes, struct tg_verdict *ret)
{
	struct tg_memo *m = p->memo;
	unsigned seq;

	if (!m || dirlen > MEMO_DIRMAX)
		return false;
	const struct memo_entry *e = memo_find(m, path, dirlen, classes, &seq);
	if (!e)
		return false;
	if (e->h.nexc)
		return memo_except(p, e, seq, name, nlen, classes, ret);
	*ret = e->h.v;
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&e->seq, memory_order_relaxed) == seq; /* or rewritten */
}

bool tg_memo_get(const struct tg_policy *p, const char *path, size_t dirlen, const char *name,
		 size_t nlen, unsigned classes, struct tg_verdict *ret)
{
	return memo_get(p, path, dirlen, name, nlen, classes, ret);
}

/* A name that leaves its folder's path normalized: not empty, ".", "..". */
static inline bool plain_name(const char *name, size_t nlen)
{
	return nlen && !(name[0] == '.' && (nlen == 1 || (nlen == 2 && name[1] == '.')));
}

bool tg_decide_memo(const struct tg_policy *p, const char *path, size_t len, unsigned classes,
		    struct tg_verdict *ret)
{
	const char *slash = memrchr(path, '/', len);
	const char *name = slash + 1;
	size_t nlen = path + len - name;

	/* The folder is normalized when the memo has it; so is PATH when its
	 * last name is a plain one. */
	if (!slash || !plain_name(name, nlen))
		return false;
	return memo_get(p, path, name - path, name, nlen, classes, ret);
}

bool tg_decide_memo_in(const struct tg_policy *p, const char *dir, size_t dirlen, const char *name,
		       size_t nlen, unsigned classes, struct tg_verdict *ret)
{
	if (!plain_name(name, nlen) || memchr(name, '/', nlen))
		return false;
	return memo_get(p, dir, dirlen, name, nlen, classes, ret);
}

bool tg_decide_memo_name(const struct tg_policy *p, const char *dir, size_t dirlen,
			 const char *name, unsigned classes, struct tg_verdict *ret)
{
	const char *end = strchrnul(name, '/'); /* its length and no slash: one pass */
	size_t nlen = (size_t)(end - name);

	if (*end || !plain_name(name, nlen))
		return false;
	return memo_get(p, dir, dirlen, name, nlen, classes, ret);
}

void tg_memo_put(struct tg_memo *m, const char *path, size_t dirlen, unsigned classes,
		 const struct tg_memo_hit *hit)
{
	if (!m || dirlen > MEMO_DIRMAX)
		return;
	uint64_t h = memo_hash(path, dirlen, classes);
	struct memo_entry *e = &m->e[h & (MEMO_SLOTS - 1)];
	unsigned seq = atomic_load_explicit(&e->seq, memory_order_relaxed);

	if ((seq & 1) ||
	    !atomic_compare_exchange_strong_explicit(&e->seq, &seq, seq + 1, memory_order_acquire,
						     memory_order_relaxed))
		return; /* another thread is writing it: leave it */
	atomic_thread_fence(memory_order_release);
	e->hash = h;
	e->dirlen = dirlen;
	e->classes = classes;
	e->h = *hit;
	memcpy(e->dir, path, dirlen);
	if (!atomic_load_explicit(&m->used, memory_order_relaxed))
		atomic_store_explicit(&m->used, true, memory_order_relaxed);
	atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
}
