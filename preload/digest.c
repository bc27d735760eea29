/* File digests and their cache (see digest.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "digest-internal.h"
#include "real.h"
#include "settings.h"
#include "slot-table.h"

#define CACHE_SLOTS 4096
#define READ_CHUNK  (1024 * 1024)

struct cached {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	uint8_t sha256[TG_SHA256_LEN];
	bool used;
};

/* The cache: mapped on first use, short critical sections only (a signal
 * handler that interrupted this thread's own lookup gives up rather than
 * spin for ever). */
static struct tg_slot_table table = { .lock = ATOMIC_FLAG_INIT,
				      .size = sizeof(struct cached) * CACHE_SLOTS };

void tg_digest_facts(const struct stat *st, struct tg_file_facts *facts)
{
	*facts = (struct tg_file_facts){ .dev = st->st_dev,
					 .ino = st->st_ino,
					 .size = (uint64_t)st->st_size,
					 .mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
						     st->st_mtim.tv_nsec };
}

static size_t slot_of(const struct tg_file_facts *f)
{
	uint64_t h = (f->dev * 0x9e3779b97f4a7c15ULL) ^ (f->ino * 0xbf58476d1ce4e5b9ULL);
	return (size_t)(h >> 20) % CACHE_SLOTS;
}

static bool same(const struct cached *c, const struct tg_file_facts *f)
{
	return c->used && c->dev == f->dev && c->ino == f->ino && c->size == f->size &&
	       c->mtime_ns == f->mtime_ns;
}

bool tg_digest_lookup(struct tg_file_facts *f)
{
	struct cached *cache = tg_slot_table_slots(&table);
	bool hit = false;

	if (!cache || !tg_slot_table_take(&table))
		return false;
	for (size_t k = 0, i = slot_of(f); k < 8; k++, i = (i + 1) % CACHE_SLOTS)
		if (same(&cache[i], f)) {
			memcpy(f->sha256, cache[i].sha256, TG_SHA256_LEN);
			hit = true;
			break;
		}
	tg_slot_table_give(&table);
	return hit;
}

/* Keeps F's digest; a file's older version in the probe window is
 * replaced, and a full window loses its first entry. */
void tg_digest_remember(const struct tg_file_facts *f)
{
	if (!tg_slot_table_take(&table))
		return;
	struct cached *cache = tg_slot_table_map(&table);
	if (!cache) {
		tg_slot_table_give(&table);
		return;
	}
	size_t i = slot_of(f), at = i;
	for (size_t k = 0; k < 8; k++, i = (i + 1) % CACHE_SLOTS) {
		struct cached *c = &cache[i];
		if (!c->used || (c->dev == f->dev && c->ino == f->ino)) {
			at = i;
			break;
		}
	}
	/* Marked used last: a fork child whose parent's thread was halfway
	 * through here (the lock is cleared in the child) sees a miss, never
	 * a digest that is not the file's. */
	cache[at].used = false;
	atomic_thread_fence(memory_order_release);
	cache[at] = (struct cached){
		.dev = f->dev, .ino = f->ino, .size = f->size, .mtime_ns = f->mtime_ns
	};
	memcpy(cache[at].sha256, f->sha256, TG_SHA256_LEN);
	atomic_thread_fence(memory_order_release);
	cache[at].used = true;
	tg_slot_table_give(&table);
}

int tg_digest_hash_fd(int fd, uint64_t size, uint8_t out[TG_SHA256_LEN])
{
	struct tg_sha256 c;
	uint64_t at = 0;
	int r = 0;

	void *buf = mmap(NULL, READ_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
	if (buf == MAP_FAILED)
		return -ENOMEM;
	tg_sha256_init(&c);
	for (;;) {
		long n = tg_sys(SYS_pread64, fd, buf, (size_t)READ_CHUNK, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		tg_sha256_update(&c, buf, (size_t)n);
		at += (uint64_t)n;
	}
	munmap(buf, READ_CHUNK);
	if (r == 0 && at != size)
		r = -ESTALE; /* written meanwhile: no digest of a version that never was */
	if (r == 0)
		tg_sha256_final(&c, out);
	return r;
}

bool tg_digest_wanted(struct tg_file_facts *facts)
{
	long long max = tg_policy_digest_max(tg_set.policy);

	if (!tg_policy_digests(tg_set.policy)) {
		facts->timing = "off";
		return false;
	}
	if (max > 0 && facts->size > (uint64_t)max) {
		facts->timing = "too_large";
		return false;
	}
	return true;
}

static void hash_into(int fd, const char *timing, struct tg_file_facts *facts)
{
	int r = tg_digest_hash_fd(fd, facts->size, facts->sha256);

	if (r < 0) {
		facts->timing = r == -ESTALE ? "changed" : "unreadable";
		return;
	}
	facts->hashed = true;
	facts->timing = timing;
	tg_digest_remember(facts);
}

int tg_digest_reopen(int fd)
{
	char proc[32] = "/proc/self/fd/";
	size_t l = strlen(proc);
	char digits[16];
	int n = 0;

	for (unsigned v = (unsigned)fd; n == 0 || v; v /= 10)
		digits[n++] = (char)('0' + v % 10);
	while (n)
		proc[l++] = digits[--n];
	proc[l] = '\0';
	int rfd = (int)tg_sys(SYS_openat, AT_FDCWD, proc,
			      O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return rfd < 0 ? -errno : rfd;
}

void tg_digest_fd(int fd, bool through_proc, const char *timing, struct tg_file_facts *facts)
{
	if (!tg_digest_wanted(facts))
		return;
	if (tg_digest_lookup(facts)) {
		facts->hashed = true;
		facts->timing = timing;
		return;
	}
	if (!through_proc) {
		hash_into(fd, timing, facts);
		return;
	}
	int rfd = tg_digest_reopen(fd);
	if (rfd < 0) {
		facts->timing = "unreadable";
		return;
	}
	hash_into(rfd, timing, facts);
	tg_sys(SYS_close, rfd);
}

int tg_digest_at(int dirfd, const char *path, const char *timing, struct tg_file_facts *facts)
{
	struct stat st;

	int fd = (int)tg_sys(SYS_openat, dirfd, path,
			     O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (tg_sys(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		tg_sys(SYS_close, fd);
		return -EINVAL;
	}
	tg_digest_facts(&st, facts);
	tg_digest_fd(fd, false, timing, facts);
	tg_sys(SYS_close, fd);
	return 0;
}

void tg_digest_after_fork(void)
{
	tg_slot_table_after_fork(&table);
	tg_digest_thread_after_fork();
}
