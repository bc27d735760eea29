/* The per-process hash chain: the state, its lock, the slot filled in each
 * line, the links a forked or exec'd child starts from (see chain.h).
 *
 * The last committed record (sequence and hash) lives in two slots and a
 * publication counter: a writer fills the slot not in use, then bumps the
 * counter. A reader that cannot take the lock (a signal handler interrupting
 * its own thread's commit, a vfork child) therefore always reads a whole
 * record, never half of one. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "chain.h"
#include "tg-env.h"

enum { TX_NONE, TX_LOCKED, TX_ONESHOT };

struct last {
	uint64_t seq; /* 0: nothing written yet */
	uint8_t hash[TG_SHA256_LEN];
};

/* Where a chain came from, written in its first record. */
struct origin {
	const char *kind; /* "start", "exec", "fork" */
	bool has_parent;
	char id[TG_CHAIN_ID_HEX];
	struct last at; /* the parent's last record when we started (seq 0: none) */
};

static struct {
	bool started;
	pid_t pid; /* the process this chain belongs to */
	char id[TG_CHAIN_ID_HEX];
	struct origin origin;
	struct last last[2];
	_Atomic unsigned pub; /* last[pub & 1] is the committed record */
	_Atomic int lock;
	_Atomic unsigned forks; /* makes each fork child's id distinct */
} c;

/* This thread holds c.lock (a nested record must not wait for itself). */
static __thread int holding __attribute__((tls_model("initial-exec")));
/* The last one-shot record this thread wrote (a vfork child writes it in
 * its parent thread's copy, keyed by its own pid, which the parent never
 * matches): what an exec right after it links the new image to. */
static __thread struct {
	pid_t pid;
	char id[TG_CHAIN_ID_HEX];
	uint8_t hash[TG_SHA256_LEN];
} oneshot_last __attribute__((tls_model("initial-exec")));
/* tg_chain_fork_prepare took the lock. */
static __thread int fork_locked __attribute__((tls_model("initial-exec")));

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[b[i] >> 4];
		out[2 * i + 1] = hexdig[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int from_hex(const char *s, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < 2 * n; i++) {
		const char *d = s[i] ? strchr(hexdig, s[i]) : NULL;
		if (!d)
			return -EINVAL;
		if (i % 2 == 0)
			b[i / 2] = (uint8_t)((d - hexdig) << 4);
		else
			b[i / 2] |= (uint8_t)(d - hexdig);
	}
	return 0;
}

static size_t put_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0, k = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		out[k++] = tmp[--n];
	return k;
}

/* A 128-bit id derived from the parent's id and whatever makes this child
 * distinct: no system call, so a fork child or a vfork child can make one
 * even under the program's seccomp filter. */
static void derive_id(const char *parent, uint64_t a, uint64_t b, char out[TG_CHAIN_ID_HEX])
{
	static const char tag[] = "trainguard-chain-v1";
	struct tg_sha256 h;
	struct timespec ts;
	uint8_t d[TG_SHA256_LEN];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	tg_sha256_init(&h);
	tg_sha256_update(&h, tag, sizeof(tag));
	tg_sha256_update(&h, parent, strlen(parent));
	tg_sha256_update(&h, &a, sizeof(a));
	tg_sha256_update(&h, &b, sizeof(b));
	tg_sha256_update(&h, &ts, sizeof(ts));
	tg_sha256_final(&h, d);
	to_hex(d, 16, out);
}

static void lock(void)
{
	while (atomic_exchange_explicit(&c.lock, 1, memory_order_acquire)) {
		/* Another thread is between its seal and its write: a few
		 * microseconds. */
		for (int i = 0; i < 64 && atomic_load_explicit(&c.lock, memory_order_relaxed); i++)
			;
		if (atomic_load_explicit(&c.lock, memory_order_relaxed))
			sched_yield();
	}
	holding = 1;
}

static void unlock(void)
{
	holding = 0;
	atomic_store_explicit(&c.lock, 0, memory_order_release);
}

/* The committed record, read whole (see the top of the file). */
static struct last read_last(void)
{
	struct last l;

	for (int tries = 0;; tries++) {
		unsigned p = atomic_load_explicit(&c.pub, memory_order_acquire);
		l = c.last[p & 1];
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&c.pub, memory_order_relaxed) == p || tries > 100)
			return l;
	}
}

/* Parses "<id>[.<seq>.<hash>]" into O. */
static int parse_env(const char *v, struct origin *o)
{
	size_t n = strlen(v);
	uint8_t id[16];

	if (n < TG_CHAIN_ID_HEX - 1 || from_hex(v, id, 16) < 0)
		return -EINVAL;
	memcpy(o->id, v, TG_CHAIN_ID_HEX - 1);
	o->id[TG_CHAIN_ID_HEX - 1] = '\0';
	o->at.seq = 0;
	v += TG_CHAIN_ID_HEX - 1;
	if (*v == '\0')
		return 0;
	if (*v++ != '.')
		return -EINVAL;
	uint64_t seq = 0;
	if (*v < '0' || *v > '9')
		return -EINVAL;
	while (*v >= '0' && *v <= '9')
		seq = seq * 10 + (uint64_t)(*v++ - '0');
	if (*v++ != '.' || strlen(v) != 2 * TG_SHA256_LEN ||
	    from_hex(v, o->at.hash, TG_SHA256_LEN) < 0 || seq == 0)
		return -EINVAL;
	o->at.seq = seq;
	return 0;
}

void tg_chain_start(const char *from_env, pid_t pid)
{
	uint8_t r[16];

	memset(&c.origin, 0, sizeof(c.origin));
	c.origin.kind = "start";
	if (from_env && parse_env(from_env, &c.origin) == 0) {
		c.origin.kind = "exec";
		c.origin.has_parent = true;
	}
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		to_hex(r, sizeof(r), c.id);
	else
		derive_id(c.origin.id, (uint64_t)pid, (uint64_t)(uintptr_t)&r, c.id);
	memset(c.last, 0, sizeof(c.last));
	c.pid = pid;
	c.started = true;
}

/* The chain object for a record of sequence SEQ, into OUT: a genesis
 * (SEQ 1) carries its origin and its parent link, later records "prev". */
static size_t chain_text(char *out, const char *id, uint64_t seq, const struct origin *o,
			 const uint8_t prev[TG_SHA256_LEN])
{
	size_t k = 0;

#define PUT(s) \
	do { \
		size_t l_ = strlen(s); \
		memcpy(out + k, s, l_); \
		k += l_; \
	} while (0)
	PUT("\"chain\":{\"id\":\"");
	PUT(id);
	PUT("\"");
	if (seq == 1) {
		PUT(",\"origin\":\"");
		PUT(o->kind);
		PUT("\"");
		if (o->has_parent) {
			PUT(",\"parent\":{\"id\":\"");
			PUT(o->id);
			PUT("\"");
			if (o->at.seq) {
				PUT(",\"seq\":");
				k += put_u64(out + k, o->at.seq);
			}
			PUT("}");
		}
		prev = o->has_parent && o->at.seq ? o->at.hash : NULL;
	}
	if (prev) {
		PUT(",\"prev\":\"");
		to_hex(prev, TG_SHA256_LEN, out + k);
		k += 2 * TG_SHA256_LEN;
		PUT("\"");
	}
	PUT(",\"seq\":");
	k += put_u64(out + k, seq);
	PUT("}");
#undef PUT
	return k;
}

int tg_chain_seal(char *line, size_t *len, size_t cap, pid_t real_pid, struct tg_chain_tx *tx)
{
	static const char slot[] = TG_CHAIN_SLOT;
	const size_t slen = sizeof(slot) - 1;
	char text[TG_CHAIN_GROWTH], oneshot_id[TG_CHAIN_ID_HEX];
	struct origin o;
	size_t n = *len, tlen;

	tx->kind = TX_NONE;
	char *at = memmem(line, n, slot, slen);
	if (!at)
		return 0;

	if (c.started && real_pid == c.pid && !holding) {
		lock();
		struct last l = c.last[atomic_load_explicit(&c.pub, memory_order_relaxed) & 1];
		tx->kind = TX_LOCKED;
		tx->seq = l.seq + 1;
		tlen = chain_text(text, c.id, tx->seq, &c.origin, l.hash);
	} else {
		/* A one-shot chain: this record alone, linked to the process
		 * chain's last committed record. */
		memset(&o, 0, sizeof(o));
		o.kind = !c.started ? "start" : real_pid != c.pid ? "vfork" : "nested";
		if (c.started) {
			o.has_parent = true;
			memcpy(o.id, c.id, TG_CHAIN_ID_HEX);
			o.at = read_last();
		}
		derive_id(o.id, o.at.seq, (uint64_t)real_pid << 32 | (uint32_t)(uintptr_t)&o,
			  oneshot_id);
		tx->kind = TX_ONESHOT;
		tx->seq = 1;
		tx->pid = real_pid;
		memcpy(tx->id, oneshot_id, TG_CHAIN_ID_HEX);
		tlen = chain_text(text, oneshot_id, 1, &o, NULL);
	}

	if (n - slen + tlen > cap) {
		tg_chain_commit(tx, false);
		return -ENOSPC;
	}
	memmove(at + tlen, at + slen, n - (size_t)(at - line) - slen);
	memcpy(at, text, tlen);
	n = n - slen + tlen;
	*len = n;
	/* The hash is over the line's bytes without its newline. */
	struct tg_sha256 h;
	tg_sha256_init(&h);
	tg_sha256_update(&h, line, n && line[n - 1] == '\n' ? n - 1 : n);
	tg_sha256_final(&h, tx->hash);
	return tx->kind == TX_LOCKED;
}

void tg_chain_commit(struct tg_chain_tx *tx, bool written)
{
	if (tx->kind == TX_ONESHOT && written) {
		oneshot_last.pid = tx->pid;
		memcpy(oneshot_last.id, tx->id, TG_CHAIN_ID_HEX);
		memcpy(oneshot_last.hash, tx->hash, TG_SHA256_LEN);
	}
	if (tx->kind != TX_LOCKED)
		return;
	if (written) {
		unsigned p = atomic_load_explicit(&c.pub, memory_order_relaxed);
		struct last *next = &c.last[(p + 1) & 1];
		next->seq = tx->seq;
		memcpy(next->hash, tx->hash, TG_SHA256_LEN);
		atomic_store_explicit(&c.pub, p + 1, memory_order_release);
	}
	tx->kind = TX_NONE;
	unlock();
}

void tg_chain_fork_prepare(void)
{
	atomic_fetch_add(&c.forks, 1);
	fork_locked = 0;
	if (!c.started || holding)
		return;
	lock();
	fork_locked = 1;
}

void tg_chain_fork_parent(void)
{
	if (fork_locked) {
		fork_locked = 0;
		unlock();
	}
}

void tg_chain_fork_child(pid_t child_pid)
{
	/* One thread, our own memory: the lock and the flags start over. */
	fork_locked = 0;
	holding = 0;
	atomic_store(&c.lock, 0);
	if (!c.started)
		return;
	struct origin o = { .kind = "fork", .has_parent = true };
	memcpy(o.id, c.id, TG_CHAIN_ID_HEX);
	o.at = c.last[atomic_load(&c.pub) & 1];
	c.origin = o;
	derive_id(o.id, atomic_load(&c.forks), (uint64_t)child_pid, c.id);
	memset(c.last, 0, sizeof(c.last));
	atomic_store(&c.pub, 0);
	c.pid = child_pid;
}

int tg_chain_env(char *out, size_t cap)
{
	static const char name[] = TG_ENV_CHAIN "=";
	size_t k = sizeof(name) - 1;

	if (!c.started)
		return -ENOENT;
	if (cap < TG_CHAIN_ENV_MAX)
		return -ENOSPC;
	struct last l = read_last();
	memcpy(out, name, k);
	memcpy(out + k, c.id, TG_CHAIN_ID_HEX - 1);
	k += TG_CHAIN_ID_HEX - 1;
	if (l.seq) {
		out[k++] = '.';
		k += put_u64(out + k, l.seq);
		out[k++] = '.';
		to_hex(l.hash, TG_SHA256_LEN, out + k);
		k += 2 * TG_SHA256_LEN;
	}
	out[k] = '\0';
	return (int)k;
}

int tg_chain_exec_env(char *out, size_t cap, pid_t real_pid)
{
	static const char name[] = TG_ENV_CHAIN "=";
	size_t k = sizeof(name) - 1;

	if (!c.started || real_pid == c.pid || oneshot_last.pid != real_pid)
		return tg_chain_env(out, cap);
	if (cap < TG_CHAIN_ENV_MAX)
		return -ENOSPC;
	memcpy(out, name, k);
	memcpy(out + k, oneshot_last.id, TG_CHAIN_ID_HEX - 1);
	k += TG_CHAIN_ID_HEX - 1;
	memcpy(out + k, ".1.", 3);
	k += 3;
	to_hex(oneshot_last.hash, TG_SHA256_LEN, out + k);
	k += 2 * TG_SHA256_LEN;
	out[k] = '\0';
	return (int)k;
}

const char *tg_chain_id(void)
{
	return c.started ? c.id : "";
}
