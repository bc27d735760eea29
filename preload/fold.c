/* Folding floods and counting per rule (see fold.h). */
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "fold.h"
#include "log.h"
#include "self.h"
#include "slot-table.h"

#define SLOTS     16
#define PATH_KEEP 1024

struct slot {
	uint64_t key; /* 0: empty */
	pid_t pid;
	unsigned long pending; /* repeats not written yet */
	long long window_ms;   /* when the window began */
	long long first_ms, last_ms;
	struct tg_event ev;
	struct tg_verdict v;
	char path[PATH_KEEP];
};

static struct tg_slot_table table = { .lock = ATOMIC_FLAG_INIT,
				      .size = sizeof(struct slot) * SLOTS };
static atomic_ulong folded;

/* ---- counts per rule ---- */

#define COUNTS 64
static struct {
	_Atomic uintptr_t key; /* the rule, or the class + 1 for a default */
	atomic_ulong n;
} counts[COUNTS];

static const char *const default_names[TG_NCLASS] = {
	"default:read", "default:write", "default:create", "default:delete",
	"default:exec", "default:chmod", "default:list",
};

static void count_rule(const struct tg_verdict *v, unsigned long n)
{
	uintptr_t key = v->rule ? (uintptr_t)v->rule : (uintptr_t)v->cls + 1;

	for (size_t k = 0; k < COUNTS; k++) {
		size_t i = (key / 8 + k) % COUNTS;
		uintptr_t cur = atomic_load_explicit(&counts[i].key, memory_order_relaxed);
		if (cur == 0 && atomic_compare_exchange_strong(&counts[i].key, &cur, key))
			cur = key;
		if (cur == key) {
			atomic_fetch_add_explicit(&counts[i].n, n, memory_order_relaxed);
			return;
		}
	}
}

size_t tg_fold_counts(struct tg_rule_count *out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < COUNTS && k < n; i++) {
		uintptr_t key = atomic_load(&counts[i].key);
		unsigned long c = atomic_load(&counts[i].n);
		if (!key || !c)
			continue;
		if (key <= TG_NCLASS)
			out[k].rule = default_names[key - 1];
		else
			out[k].rule = ((const struct tg_rule *)key)->id;
		out[k++].count = c;
	}
	return k;
}

unsigned long tg_fold_folded(void)
{
	return atomic_load(&folded);
}

/* ---- the table ---- */

/* A rule of low or informational severity is expected noise (ps(1)
 * reads /proc/N/environ of every process it lists): its repeats fold
 * whatever the path, one record per process, rule and pattern. Any graver
 * rule folds only repeats of the same path, so that every secret tried is
 * named. */
static bool by_pattern(const struct tg_event *ev)
{
	const struct tg_rule *r = ev->verdict->rule;
	return r && ev->verdict->pattern && r->severity != TG_SEVERITY_UNSET &&
	       r->severity <= TG_SEVERITY_LOW;
}

static uint64_t key_of(const struct tg_event *ev, pid_t pid, size_t *ret_len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *p = (const unsigned char *)ev->path;
	size_t n = 0;

#define MIX(x) (h = (h ^ (uint64_t)(x)) * 0x100000001b3ULL)
	MIX(pid);
	MIX((uintptr_t)ev->op);
	MIX((uintptr_t)ev->verdict->rule);
	MIX(ev->verdict->cls);
	MIX(ev->decision);
	MIX(ev->flags);
	MIX(ev->err);
	if (by_pattern(ev)) {
		MIX((uintptr_t)ev->verdict->pattern);
		p = (const unsigned char *)"";
	}
	for (; p[n]; n++)
		MIX(p[n]);
#undef MIX
	*ret_len = n;
	return h | 1;
}

static bool foldable(const struct tg_event *ev)
{
	return ev->kind == TG_EV_DECISION && ev->path && ev->verdict && !ev->path2 && !ev->argv &&
	       !ev->killed && !ev->unguarded &&
	       (ev->decision == TG_DEC_DENY || ev->decision == TG_DEC_WOULD_DENY);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes the repeats pending in S as one record, and empties the count. */
static void write_pending(struct slot *s, const struct tg_proc *proc)
{
	if (!s->pending)
		return;
	struct tg_event ev = s->ev;
	ev.verdict = &s->v;
	ev.path = s->path[0] ? s->path : s->v.pattern;
	ev.by_pattern = !s->path[0];
	ev.path_requested = NULL;
	ev.count = s->pending;
	ev.first_ms = s->first_ms;
	ev.last_ms = s->last_ms;
	s->pending = 0;
	tg_log_build(&ev, proc);
}

/* Writes the repeats of every window of PID that ended before NOW. */
static void flush_ended(struct slot *slots, pid_t pid, long long now, const struct tg_proc *proc)
{
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];
		if (s->key && s->pid == pid && s->pending &&
		    now - s->window_ms >= TG_FOLD_WINDOW_MS) {
			write_pending(s, proc);
			s->key = 0;
		}
	}
}

bool tg_fold(const struct tg_event *ev, const struct tg_proc *proc)
{
	struct tg_self self;
	size_t len;

	if (ev->kind == TG_EV_DECISION && ev->verdict &&
	    (ev->decision == TG_DEC_DENY || ev->decision == TG_DEC_WOULD_DENY ||
	     (ev->decision == TG_DEC_LEARN && !ev->verdict->allow)))
		count_rule(ev->verdict, 1);
	/* A vfork child shares the table with its parent: it folds nothing. */
	tg_self(&self);
	if (self.foreign)
		return false;
	if (!tg_slot_table_try(&table))
		return false;
	struct slot *slots = tg_slot_table_map(&table);
	if (!slots) {
		tg_slot_table_give(&table);
		return false;
	}
	long long now = now_ms();
	bool done = false;
	if (!foldable(ev)) {
		flush_ended(slots, self.pid, now, proc);
		goto out;
	}
	uint64_t key = key_of(ev, self.pid, &len);
	bool any_path = by_pattern(ev);
	const char *kp = any_path ? "" : ev->path;
	struct slot *s = NULL, *victim = &slots[0];
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *c = &slots[i];
		if (c->key == key && c->pid == self.pid && c->ev.op == ev->op &&
		    c->v.rule == ev->verdict->rule && c->v.pattern == ev->verdict->pattern &&
		    len < PATH_KEEP && memcmp(c->path, kp, len + 1) == 0) {
			s = c;
			break;
		}
		if (!c->key || c->pid != self.pid)
			victim = c;
		else if (victim->key && victim->pid == self.pid && c->window_ms < victim->window_ms)
			victim = c;
	}
	if (s) {
		if (now - s->window_ms >= TG_FOLD_WINDOW_MS) {
			/* The window ended: its repeats become one record, and
			 * this call opens the next window, unwritten. */
			write_pending(s, proc);
			s->window_ms = now;
		}
		if (!s->pending)
			s->first_ms = now;
		s->pending++;
		s->last_ms = now;
		atomic_fetch_add_explicit(&folded, 1, memory_order_relaxed);
		done = true;
		goto out;
	}
	flush_ended(slots, self.pid, now, proc);
	if (len < PATH_KEEP) {
		if (victim->key && victim->pid == self.pid)
			write_pending(victim, proc);
		victim->key = key;
		victim->pid = self.pid;
		victim->pending = 0;
		victim->window_ms = now;
		victim->ev = *ev;
		victim->v = *ev->verdict;
		/* Folded by pattern: the slot keeps "" and the record names the
		 * pattern; the first call's own record named its path. */
		memcpy(victim->path, kp, len + 1);
	}
out:
	tg_slot_table_give(&table);
	return done;
}

void tg_fold_flush(const struct tg_proc *proc)
{
	struct tg_self self;

	tg_self(&self);
	if (self.foreign || !tg_slot_table_slots(&table))
		return;
	/* Another thread folding holds it for a few instructions; a signal
	 * handler that interrupted this thread's own fold never gets it. */
	if (!tg_slot_table_take(&table))
		return;
	struct slot *slots = tg_slot_table_slots(&table);
	for (size_t i = 0; i < SLOTS; i++)
		if (slots[i].key && slots[i].pid == self.pid) {
			write_pending(&slots[i], proc);
			slots[i].key = 0;
		}
	tg_slot_table_give(&table);
}

void tg_fold_counts_reset(void)
{
	for (size_t i = 0; i < COUNTS; i++) {
		atomic_store(&counts[i].key, 0);
		atomic_store(&counts[i].n, 0);
	}
	atomic_store(&folded, 0);
}

void tg_fold_after_fork(void)
{
	tg_slot_table_wipe(&table);
	tg_fold_counts_reset();
	tg_slot_table_after_fork(&table);
}
