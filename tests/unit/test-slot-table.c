/* The fixed table of fold.c and aggregate.c (preload/slot-table.c): mapped
 * once when threads race to it, a lock that excludes and whose spin gives
 * up, and a fork child that gets a free lock and a table of its own. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slot-table.h"
#include "tap.h"

#define THREADS 4
#define RACES   64  /* new tables raced to */
#define BUSY_MS 200 /* the threads count under one lock this long */

struct count {
	unsigned long n; /* not atomic: the lock alone keeps it right */
	unsigned long maps;
	atomic_int inside; /* threads in the critical section */
};

static struct tg_slot_table tables[RACES] = { [0 ... RACES - 1] = { .lock = ATOMIC_FLAG_INIT,
								    .size = 4096 } };
static pthread_barrier_t start;

struct worker {
	void *got[RACES];      /* the slots this thread got from each table */
	unsigned long rounds;  /* rounds counted, or given up */
	unsigned long missed;  /* rounds whose take gave up */
	unsigned long overlap; /* rounds that found another thread inside */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	/* All the threads at once at each new table. A take may give up
	 * while a holder is off the CPU (a loaded machine): taken again, as
	 * what is raced here is the mapping, not the spin's bound. */
	for (int r = 0; r < RACES; r++) {
		pthread_barrier_wait(&start);
		while (!tg_slot_table_take(&tables[r]))
			;
		bool fresh = !tg_slot_table_slots(&tables[r]);
		struct count *c = tg_slot_table_map(&tables[r]);
		if (c) {
			c->maps += fresh;
			w->got[r] = c;
		}
		tg_slot_table_give(&tables[r]);
	}
	/* Then all on the first: a read, a wait and a write under the lock. */
	pthread_barrier_wait(&start);
	double end = now_s() + BUSY_MS / 1000.0;
	for (; now_s() < end; w->rounds++) {
		if (!tg_slot_table_take(&tables[0])) {
			w->missed++;
			continue;
		}
		struct count *c = tg_slot_table_map(&tables[0]);
		if (!c) {
			tg_slot_table_give(&tables[0]);
			break;
		}
		w->overlap += atomic_fetch_add(&c->inside, 1) != 0;
		unsigned long n = c->n;
		for (volatile int k = 0; k < 50; k++)
			;
		c->n = n + 1;
		atomic_fetch_sub(&c->inside, 1);
		tg_slot_table_give(&tables[0]);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[THREADS];
	static struct worker w[THREADS];
	unsigned long rounds = 0, missed = 0, overlap = 0;
	int twice = 0, apart = 0;

	pthread_barrier_init(&start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, work, &w[i]);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		rounds += w[i].rounds;
		missed += w[i].missed;
		overlap += w[i].overlap;
	}
	pthread_barrier_destroy(&start);
	for (int r = 0; r < RACES; r++) {
		struct count *c = tg_slot_table_slots(&tables[r]);
		twice += !c || c->maps != 1;
		for (int i = 0; i < THREADS; i++)
			apart += w[i].got[r] != c;
	}
	ok(twice == 0 && apart == 0,
	   "%d threads racing to each of %d new tables: each mapped once, all threads get "
	   "its slots (%d tables mapped other than once, %d slots apart)",
	   THREADS, RACES, twice, apart);
	struct count *c = tg_slot_table_slots(&tables[0]);
	ok(c && rounds > 0 && overlap == 0 && c->n + missed == rounds,
	   "the lock excludes: %lu rounds counted under it (%lu counted, %lu gave up, "
	   "%lu found another thread inside)",
	   rounds, c ? c->n : 0, missed, overlap);
}

static void test_bound(void)
{
	struct tg_slot_table t = { .lock = ATOMIC_FLAG_INIT, .size = 4096 };

	ok(tg_slot_table_try(&t), "a free lock is had at the first try");
	ok(!tg_slot_table_try(&t), "a held lock is not had at one try");
	/* The holder is this thread (a signal handler that interrupted its
	 * own critical section): the spin must end, and say it failed. */
	double t0 = now_s();
	bool got = tg_slot_table_take(&t);
	double took = now_s() - t0;
	ok(!got, "a lock held by the caller itself: take gives up (%.3f s)", took);
	tg_slot_table_give(&t);
	ok(tg_slot_table_take(&t), "given back, it is taken again");
	tg_slot_table_give(&t);
	ok(!tg_slot_table_slots(&t), "taking the lock maps nothing");
}

static void *hold(void *arg)
{
	struct tg_slot_table *t = arg;

	tg_slot_table_take(t);
	return NULL;
}

static void test_fork(void)
{
	struct tg_slot_table t = { .lock = ATOMIC_FLAG_INIT, .size = 4096 };
	pthread_t th;

	tg_slot_table_take(&t);
	char *slots = tg_slot_table_map(&t);
	tg_slot_table_give(&t);
	if (!slots) {
		ok(0, "the table maps");
		return;
	}
	memset(slots, 'p', 4096);
	/* Another thread of the parent holds the lock across the fork. */
	pthread_create(&th, NULL, hold, &t);
	pthread_join(th, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		if (tg_slot_table_try(&t))
			bad |= 1; /* the copy of the lock was not held */
		tg_slot_table_after_fork(&t);
		if (!tg_slot_table_take(&t))
			bad |= 2;
		tg_slot_table_wipe(&t);
		char *mine = tg_slot_table_map(&t);
		if (mine != slots)
			bad |= 4;
		for (size_t i = 0; i < 4096 && !bad; i++)
			if (mine[i])
				bad |= 8;
		tg_slot_table_give(&t);
		_exit(bad);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	ok(code == 0,
	   "a fork child whose parent's thread held the lock: free after the hook, "
	   "the same slots, wiped (child said %d)",
	   code);
	size_t kept = 0;
	while (kept < 4096 && slots[kept] == 'p')
		kept++;
	ok(kept == 4096, "the child's wipe leaves the parent's slots as they were (%zu of 4096)",
	   kept);
}

int main(void)
{
	test_threads();
	test_bound();
	test_fork();
	return tap_done();
}
