/* Aggregated audit records (see aggregate.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "aggregate.h"
#include "digest.h"
#include "log.h"
#include "real.h"
#include "self.h"
#include "settings.h"
#include "slot-table.h"

#define SLOTS     1024 /* fits in the low 16 bits of tg_agg_fds */
#define PATH_KEEP 1024

/* What a lookup compares, apart from the rest: a scan reads 24 KiB of keys,
 * not the 1.4 MiB of slots (which a process touches only as it uses them). */
struct key {
	pid_t pid; /* 0: free; another pid's: free in this process */
	uint16_t gen;
	unsigned classes;
	uint64_t dev, ino;
	long long first_ms; /* the oldest is written when the table is full */
};

struct slot {
	bool writes;           /* the opens asked for write: hashed when written */
	bool written;          /* a record of this slot was written already */
	int open_fds;          /* descriptors of the slot's opens still open */
	int last_fd;           /* the latest of them */
	unsigned long pending; /* opens not written yet */
	long long last_ms;
	struct tg_file_facts facts;
	struct tg_event ev;
	struct tg_verdict v;
	char path[PATH_KEEP];
};

static struct key keys[SLOTS];
_Atomic uint32_t tg_agg_fds[TG_FD_MAX];

static struct tg_slot_table table = { .lock = ATOMIC_FLAG_INIT,
				      .size = sizeof(struct slot) * SLOTS };
static atomic_uint live; /* slots in use, by any process: 0 skips a rename's look */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Slot I of the mapped table (the lock is held). */
static struct slot *slot(size_t i)
{
	return (struct slot *)tg_slot_table_slots(&table) + i;
}

static uint32_t fd_value(size_t i)
{
	return (uint32_t)keys[i].gen << 16 | (uint32_t)(i + 1);
}

/* The slot FD holds in process PID, or -1. */
static long slot_of_fd(int fd, pid_t pid)
{
	uint32_t v = atomic_load_explicit(&tg_agg_fds[fd], memory_order_relaxed);
	size_t i = (v & 0xffff) - 1;

	if (!v || !tg_slot_table_slots(&table) || i >= SLOTS)
		return -1;
	return keys[i].pid == pid && keys[i].gen == (uint16_t)(v >> 16) ? (long)i : -1;
}

/* The record of S's pending opens (a copy: written after the lock is
 * given back). */
struct pending {
	struct tg_event ev;
	struct tg_verdict v;
	struct tg_file_facts facts;
	char path[PATH_KEEP];
	bool writes;
	int fd; /* a descriptor still open on the file, or -1 */
};

static bool take_pending(size_t i, struct pending *out, bool drop)
{
	struct slot *s = slot(i);
	bool any = s->pending > 0 || (s->writes && !s->written);

	if (any) {
		out->ev = s->ev;
		out->v = s->v;
		out->facts = s->facts;
		memcpy(out->path, s->path, strlen(s->path) + 1);
		out->ev.count = s->pending ? s->pending : 1;
		out->ev.first_ms = keys[i].first_ms;
		out->ev.last_ms = s->last_ms;
		out->writes = s->writes;
		out->fd = s->open_fds > 0 ? s->last_fd : -1;
		s->pending = 0;
		s->written = true;
	}
	if (drop) {
		keys[i].pid = 0;
		keys[i].gen++;
		atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
	}
	return any;
}

/* A file read whose digest the thread still owes: waited for till
 * *DEADLINE (set at the first wait), then "unfinished". */
static void settle(struct pending *p, long long *deadline)
{
	if (!p->facts.pending)
		return;
	if (!*deadline)
		*deadline = tg_digest_deadline();
	tg_digest_settle(&p->facts, *deadline);
}

static void write_pending(struct pending *p, const struct tg_proc *proc)
{
	p->ev.verdict = &p->v;
	p->ev.path = p->path;
	p->ev.facts = &p->facts;
	tg_log_build(&p->ev, proc);
}

/* A file written: its digest now (TIMING), through the descriptor still
 * open on it, or through its path. */
static void hash_written(struct pending *p, const char *timing)
{
	struct stat st;

	if (!p->writes)
		return;
	if (p->fd >= 0 && tg_sys(SYS_fstat, p->fd, &st) == 0 && st.st_dev == p->facts.dev &&
	    st.st_ino == p->facts.ino) {
		tg_digest_facts(&st, &p->facts);
		tg_digest_fd(p->fd, true, timing, &p->facts);
		return;
	}
	struct tg_file_facts f;
	if (tg_digest_at(AT_FDCWD, p->path, timing, &f) == 0 && f.dev == p->facts.dev &&
	    f.ino == p->facts.ino)
		p->facts = f;
	else
		p->facts.timing = "unreadable";
}

/* The slot of (PID, FACTS' file, CLASSES), or -1. */
static long find(pid_t pid, const struct tg_file_facts *f, unsigned classes)
{
	for (size_t i = 0; i < SLOTS; i++) {
		const struct key *k = &keys[i];
		if (k->pid == pid && k->dev == f->dev && k->ino == f->ino && k->classes == classes)
			return (long)i;
	}
	return -1;
}

static void joined(size_t i, int fd, long long now)
{
	struct slot *s = slot(i);

	if (!s->pending)
		keys[i].first_ms = now;
	s->pending++;
	s->last_ms = now;
	s->open_fds++;
	s->last_fd = fd;
	atomic_store_explicit(&tg_agg_fds[fd], fd_value(i), memory_order_relaxed);
}

/* Joins FD to its slot, or makes one (writing the oldest of a full
 * table into EVICTED). False when the table cannot be had. */
static bool join(pid_t pid, int fd, const struct tg_event *ev, const struct tg_file_facts *f,
		 struct pending *evicted, bool *ret_evicted)
{
	long long now = now_ms();
	size_t len = strlen(ev->path);

	if (!tg_slot_table_take(&table))
		return false;
	if (!tg_slot_table_map(&table)) {
		tg_slot_table_give(&table);
		return false;
	}
	long at = find(pid, f, ev->classes), victim = -1;
	if (at >= 0) {
		joined((size_t)at, fd, now);
		tg_slot_table_give(&table);
		return true;
	}
	for (size_t i = 0; i < SLOTS && at < 0; i++) {
		if (keys[i].pid != pid)
			at = (long)i;
		else if (victim < 0 || keys[i].first_ms < keys[victim].first_ms)
			victim = (long)i;
	}
	if (at < 0) {
		at = victim;
		*ret_evicted = take_pending((size_t)at, evicted, true);
	}
	struct key *k = &keys[at];
	if (k->pid != 0 && k->pid != pid)
		atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
	*k = (struct key){ .pid = pid,
			   .gen = (uint16_t)(k->gen + 1),
			   .classes = ev->classes,
			   .dev = f->dev,
			   .ino = f->ino };
	struct slot *s = slot((size_t)at);
	*s = (struct slot){ .facts = *f, .ev = *ev, .v = *ev->verdict };
	s->writes = (ev->classes & (TG_BIT(TG_WRITE) | TG_BIT(TG_CREATE))) != 0;
	s->ev.path_requested = NULL;
	memcpy(s->path, ev->path, len + 1);
	atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
	joined((size_t)at, fd, now);
	tg_slot_table_give(&table);
	return true;
}

void tg_agg_opened(const struct tg_req *req, const struct tg_decided *d, int fd)
{
	struct tg_event ev = {
		.op = req->op,
		.flags = req->flags,
		.dirfd = req->dirfd,
		.path = d->path,
		.path_requested = req->path,
		.classes = req->classes,
		.verdict = &d->v,
		.decision = TG_DEC_ALLOW,
		.mode = tg_set.mode,
		.mode_requested = req->mode_asked,
		.mode_applied = req->mode_asked >= 0 ? req->mode : -1,
	};
	struct tg_file_facts facts;
	struct tg_self self;
	struct stat st;
	struct pending evicted;
	bool was_evicted = false;

	if (fd < 0 || (unsigned)fd >= TG_FD_MAX || strlen(d->path) >= PATH_KEEP)
		goto unaggregated;
	tg_self(&self);
	if (self.foreign || tg_sys(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto unaggregated;
	tg_digest_facts(&st, &facts);
	bool writes = (req->classes & (TG_BIT(TG_WRITE) | TG_BIT(TG_CREATE))) != 0;
	/* A file read: queued to the digest thread at its first open in the
	 * process, on a descriptor of its own (the cache makes the next opens
	 * free); the record waits for the digest (tg_agg_close). */
	if (!writes) {
		bool known = false;
		if (tg_slot_table_slots(&table) && tg_slot_table_take(&table)) {
			known = find(self.pid, &facts, req->classes) >= 0;
			tg_slot_table_give(&table);
		}
		if (!known)
			tg_digest_read(fd, (req->flags & O_ACCMODE) == O_WRONLY, &facts);
	}
	if (!join(self.pid, fd, &ev, &facts, &evicted, &was_evicted))
		goto unaggregated;
	if (was_evicted) {
		long long deadline = 0;
		settle(&evicted, &deadline);
		hash_written(&evicted, "at_evict");
		write_pending(&evicted, &tg_set.proc);
	}
	return;
unaggregated:
	tg_log_build(&ev, &tg_set.proc);
}

void tg_agg_close(int fd)
{
	struct tg_self self;
	struct pending p;
	bool any = false;

	if (!tg_enter())
		return;
	tg_depth++;
	tg_self(&self);
	if (self.foreign || !tg_slot_table_take(&table)) {
		tg_depth--;
		return;
	}
	long i = slot_of_fd(fd, self.pid);
	struct slot *s = i >= 0 ? slot((size_t)i) : NULL;
	atomic_store_explicit(&tg_agg_fds[fd], 0, memory_order_relaxed);
	if (s && --s->open_fds <= 0) {
		s->open_fds = 0;
		/* A file written is done for now: its record and digest. A
		 * file read: its first record once its digest is known (else
		 * at a later close, or at exit), the rest counted till exit. */
		if (s->writes) {
			s->last_fd = fd;
			s->open_fds = 1; /* for hash_written: FD is still open */
			any = take_pending((size_t)i, &p, true);
		} else if (!s->written && tg_digest_settle(&s->facts, 0)) {
			any = take_pending((size_t)i, &p, false);
		}
	}
	tg_slot_table_give(&table);
	if (any) {
		hash_written(&p, "at_close");
		write_pending(&p, &tg_set.proc);
	}
	tg_depth--;
}

void tg_agg_rename(int dirfd, const char *path)
{
	struct tg_self self;
	struct stat st;
	struct pending p;

	if (!atomic_load_explicit(&live, memory_order_relaxed) || !path || !tg_enter())
		return;
	tg_depth++;
	tg_self(&self);
	if (self.foreign || !tg_slot_table_slots(&table) ||
	    tg_sys(SYS_newfstatat, dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		tg_depth--;
		return;
	}
	/* One slot at a time: the lock is given back before hashing. */
	long long deadline = 0;
	for (;;) {
		bool any = false, found = false;
		if (!tg_slot_table_take(&table))
			break;
		for (size_t i = 0; i < SLOTS && !found; i++) {
			if (keys[i].pid == self.pid && keys[i].dev == st.st_dev &&
			    keys[i].ino == st.st_ino) {
				found = true;
				any = take_pending(i, &p, true);
			}
		}
		tg_slot_table_give(&table);
		if (!found)
			break;
		if (!any)
			continue;
		settle(&p, &deadline);
		if (p.writes) {
			struct tg_file_facts f;
			if (tg_digest_at(dirfd, path, "at_rename", &f) == 0 && f.ino == p.facts.ino)
				p.facts = f;
			else
				p.facts.timing = "unreadable";
		}
		write_pending(&p, &tg_set.proc);
	}
	tg_depth--;
}

void tg_agg_flush(const struct tg_proc *proc)
{
	struct tg_self self;
	struct pending p;
	long long deadline = 0; /* one wait for all the digests still owed */

	tg_self(&self);
	if (self.foreign || !tg_slot_table_slots(&table))
		return;
	for (size_t i = 0; i < SLOTS; i++) {
		bool any = false;
		if (keys[i].pid != self.pid || !tg_slot_table_take(&table))
			continue;
		if (keys[i].pid == self.pid)
			any = take_pending(i, &p, true);
		tg_slot_table_give(&table);
		if (any) {
			settle(&p, &deadline);
			hash_written(&p, "at_exit");
			write_pending(&p, proc);
		}
	}
}

void tg_agg_after_fork(void)
{
	tg_slot_table_after_fork(&table);
	tg_digest_after_fork();
}
