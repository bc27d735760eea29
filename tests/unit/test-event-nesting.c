/* Event records built while another is being built: from an allocation
 * hook of jansson's, from SIGALRM, and from several threads at once. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "event-internal.h"
#include "event-check.h"

/* ---- Nesting ----------------------------------------------------------------- */

static json_malloc_t arena_malloc_fn;
static json_free_t arena_free_fn;
static int nest_left, nest_level, nest_allocs;
static int nest_rc[8];
static char nest_buf[8][TG_EVENT_MAX];
static char nest_path[8][32];
static struct tg_event nest_ev[8];

/* Every 25th allocation of a record, builds the next level's record. */
static void *nesting_malloc(size_t n)
{
	if (nest_left > 0 && ++nest_allocs % 25 == 0) {
		int lvl = ++nest_level;
		nest_left--;
		nest_rc[lvl] = tg_event_format(&nest_ev[lvl], &proc, nest_buf[lvl], TG_EVENT_MAX);
	}
	return arena_malloc_fn(n);
}

void test_nesting_hook(void)
{
	struct tg_verdict v = { .cls = TG_READ, .rule = &rule_ro, .create_mode = -1 };

	for (int i = 0; i < 6; i++) {
		snprintf(nest_path[i], sizeof(nest_path[i]), "/nest/level-%d", i);
		nest_ev[i] = event(i % 2 ? "openat" : "unlink", i % 2 ? O_RDONLY : -1, nest_path[i],
				   TG_BIT(i % 2 ? TG_READ : TG_DELETE), &v, TG_DEC_DENY, TG_ENFORCE,
				   EACCES);
		nest_rc[i] = -1;
	}
	json_get_alloc_funcs(&arena_malloc_fn, &arena_free_fn);
	json_set_alloc_funcs(nesting_malloc, arena_free_fn);
	nest_left = 4;
	nest_level = 0;
	nest_allocs = 0;
	nest_rc[0] = tg_event_format(&nest_ev[0], &proc, nest_buf[0], TG_EVENT_MAX);
	nest_left = 0;
	json_set_alloc_funcs(arena_malloc_fn, arena_free_fn);

	ok(nest_level == 4, "nesting: four records started inside one another (%d)", nest_level);
	ok(nest_rc[4] == -ENOMEM, "nesting: the fifth level is refused with -ENOMEM (%d)",
	   nest_rc[4]);
	for (int i = 0; i < 4; i++) {
		char w[48];
		snprintf(w, sizeof(w), "nesting level %d", i);
		json_t *r = check_line(w, nest_buf[i], nest_rc[i]);
		if (!r)
			continue;
		is_str(r, w, "file.path", nest_path[i]);
		is_str(r, w, "unmapped.trainguard.op", i % 2 ? "openat" : "unlink");
		is_int(r, w, "activity_id", i % 2 ? 14 : 4);
		json_decref(r);
	}
}

static volatile sig_atomic_t in_main, handler_runs, handler_nested, handler_bad;
static char handler_buf[16][TG_EVENT_MAX];
static int handler_rc[16];
static struct tg_event handler_ev;

static void on_alarm(int sig)
{
	int saved = errno;
	static char scratch[TG_EVENT_MAX];
	bool nested = in_main;
	int slot = nested && handler_nested < 16 ? handler_nested : -1;
	char *buf = slot >= 0 ? handler_buf[slot] : scratch;

	(void)sig;
	int r = tg_event_format(&handler_ev, &proc, buf, TG_EVENT_MAX);
	if (r <= 0 || !strstr(buf, "\"op\":\"unlinkat\""))
		handler_bad++;
	if (slot >= 0)
		handler_rc[slot] = r;
	handler_nested += nested;
	handler_runs++;
	errno = saved;
}

void test_nesting_signal(void)
{
	static char main_buf[TG_EVENT_MAX];
	struct tg_verdict v = { .cls = TG_READ, .rule = &rule_ro, .create_mode = -1 };
	struct tg_event ev = event("openat", O_RDONLY | O_CLOEXEC, "/main/train/shard.tar",
				   TG_BIT(TG_READ), &v, TG_DEC_DENY, TG_ENFORCE, EACCES);
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	int bad_main = 0, runs = 0;

	handler_ev = event("unlinkat", -1, "/handler/ckpt.pt", TG_BIT(TG_DELETE), &v, TG_DEC_DENY,
			   TG_ENFORCE, EPERM);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	/* One one-shot timer per record, due at a point spread over the time a
	 * record takes: at most one signal per record, so a slow build (a
	 * sanitizer, an emulator) cannot starve the loop. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 50; i++)
		tg_event_format(&ev, &proc, main_buf, sizeof(main_buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long span = ((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec) / 50 / 1000;
	span = span < 2 ? 2 : span;

	long long start = now_ms();
	while (now_ms() - start < 3000 && (handler_nested < 300 || runs < 300) && runs < 5000) {
		struct itimerval it = { .it_value = { 0, 1 + (runs * 7919L) % span } };
		setitimer(ITIMER_REAL, &it, NULL);
		in_main = 1;
		int r = tg_event_format(&ev, &proc, main_buf, sizeof(main_buf));
		in_main = 0;
		runs++;
		if (r <= 0 || (size_t)r != strlen(main_buf) ||
		    !strstr(main_buf, "\"op\":\"openat\"") || strstr(main_buf, "unlinkat") ||
		    !strstr(main_buf, "/main/train/shard.tar"))
			bad_main++;
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);

	tap_diag(
		"%d records in the loop (%ld us each), %d from the handler, %d of them inside a record",
		runs, span, (int)handler_runs, (int)handler_nested);
	ok(handler_nested > 0,
	   "signal nesting: the handler built records while the loop was building one");
	ok(bad_main == 0, "signal nesting: every record of the loop is intact (%d bad)", bad_main);
	ok(handler_bad == 0, "signal nesting: every record of the handler is intact (%d bad)",
	   (int)handler_bad);
	int n = handler_nested < 16 ? handler_nested : 16, good = 0;
	for (int i = 0; i < n; i++) {
		json_error_t err;
		json_t *r = handler_rc[i] > 0 ? json_loads(handler_buf[i], 0, &err) : NULL;
		const char *p = json_string_value(at(r, "file.path"));
		good += p && strcmp(p, "/handler/ckpt.pt") == 0;
		if (r && i < 4)
			keep_line(handler_buf[i], strlen(handler_buf[i]));
		json_decref(r);
	}
	ok(n > 0 && good == n, "signal nesting: the nested records parse (%d of %d)", good, n);
	json_t *r = check_line("signal nesting: last record of the loop", main_buf,
			       (int)strlen(main_buf));
	if (r)
		is_str(r, "signal nesting", "file.path", "/main/train/shard.tar");
	json_decref(r);
}

/* ---- Threads --------------------------------------------------------------------- */

#define NTHREADS   4
#define PER_THREAD 300

static long long seqs[NTHREADS * PER_THREAD];

static void *worker(void *arg)
{
	int t = (int)(long)arg;
	static __thread char buf[TG_EVENT_MAX];
	struct tg_verdict v = { .cls = TG_READ, .rule = &rule_ro, .create_mode = -1 };
	struct tg_event ev = event("openat", O_RDONLY, "/thread/x", TG_BIT(TG_READ), &v,
				   TG_DEC_DENY, TG_ENFORCE, EACCES);

	for (int i = 0; i < PER_THREAD; i++) {
		seqs[t * PER_THREAD + i] = -1;
		if (tg_event_format(&ev, &proc, buf, sizeof(buf)) <= 0)
			continue;
		const char *s = strstr(buf, "\"sequence\":");
		if (s)
			seqs[t * PER_THREAD + i] = strtoll(s + 11, NULL, 10);
	}
	return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

void test_threads(void)
{
	pthread_t th[NTHREADS];

	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	qsort(seqs, NTHREADS * PER_THREAD, sizeof(seqs[0]), cmp_ll);
	int failed = 0, dups = 0;
	for (int i = 0; i < NTHREADS * PER_THREAD; i++) {
		failed += seqs[i] < 0;
		dups += i > 0 && seqs[i] == seqs[i - 1];
	}
	ok(failed == 0, "threads: %d records from %d threads, %d failed", NTHREADS * PER_THREAD,
	   NTHREADS, failed);
	ok(dups == 0 && seqs[NTHREADS * PER_THREAD - 1] - seqs[0] == NTHREADS * PER_THREAD - 1,
	   "threads: sequence numbers are unique and without gaps (%d duplicates)", dups);
}
