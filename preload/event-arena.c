/* The memory a record is built in: jansson's allocator, pointed at a
 * per-thread bump arena while a record is being built.
 *
 * Nothing here touches the program's heap: each level is ARENA_SIZE bytes
 * mmap'd on first use, reset after each record (free() is a no-op), and
 * unmapped when the thread exits. There is one level per nesting depth so
 * that a signal handler may log while the interrupted code is building a
 * record. Outside a record jansson keeps the allocator it had (the
 * preload's private jansson: its defaults). tg_event_init() installs the
 * allocator and seeds jansson's hash without opening /dev/urandom. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "event-internal.h"

#define ARENA_SIZE   (256 * 1024)
#define ARENA_LEVELS 4
#define ARENA_ALIGN  16

/* initial-exec: no __tls_get_addr, which may call malloc on first use. */
#define TG_TLS __thread __attribute__((tls_model("initial-exec")))

struct arena {
	char *base; /* ARENA_SIZE bytes, or NULL until the level is first used */
	size_t used;
	bool oom; /* an allocation of the current record failed */
};

static TG_TLS struct arena arenas[ARENA_LEVELS];
/* Records being built by this thread; level N-1 is the innermost. */
static TG_TLS unsigned depth;

static json_malloc_t prev_malloc;
static json_free_t prev_free;
static pthread_key_t arena_key;
static bool arena_key_ok;

/* The bump allocation of level D (1-based). */
static inline void *arena_take(unsigned d, size_t n)
{
	struct arena *a = &arenas[d - 1];
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

	if (!a->base || need < n || need > ARENA_SIZE - a->used) {
		a->oom = true;
		return NULL;
	}
	void *p = a->base + a->used;
	a->used += need;
	return p;
}

void *tg_arena_alloc(size_t n)
{
	unsigned d = depth;

	return d ? arena_take(d, n) : NULL;
}

/* jansson's malloc: the arena inside a record, what it had before outside. */
static void *arena_malloc(size_t n)
{
	unsigned d = depth;

	if (d == 0)
		return prev_malloc ? prev_malloc(n) : NULL;
	return arena_take(d, n);
}

static void arena_free(void *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < ARENA_LEVELS; i++)
		if (arenas[i].base && (char *)p >= arenas[i].base &&
		    (char *)p < arenas[i].base + ARENA_SIZE)
			return;
	if (prev_free)
		prev_free(p);
}

/* Thread exit: give the arenas back, or every short-lived thread that
 * logged once would leave its mappings behind. */
static void arena_release(void *unused)
{
	(void)unused;
	if (depth)
		return;
	for (unsigned i = 0; i < ARENA_LEVELS; i++)
		if (arenas[i].base) {
			munmap(arenas[i].base, ARENA_SIZE);
			arenas[i].base = NULL;
		}
}

static int arena_map(struct arena *a)
{
	if (a->base)
		return 0;
	void *p = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	a->base = p;
	/* A key below PTHREAD_KEY_2NDLEVEL_SIZE (taken at start) needs no allocation. */
	if (arena_key_ok)
		pthread_setspecific(arena_key, a->base);
	return 0;
}

int tg_arena_enter(unsigned *ret_level)
{
	unsigned level = depth;

	if (level >= ARENA_LEVELS)
		return -ENOMEM;
	depth = level + 1;
	/* A handler that runs from here on builds in the next level. */
	atomic_signal_fence(memory_order_seq_cst);
	if (arena_map(&arenas[level]) < 0) {
		tg_arena_leave(level);
		return -ENOMEM;
	}
	*ret_level = level;
	return 0;
}

void tg_arena_leave(unsigned level)
{
	arenas[level].used = 0;
	arenas[level].oom = false;
	atomic_signal_fence(memory_order_seq_cst);
	depth = level;
}

void tg_arena_reset(void)
{
	struct arena *a = &arenas[depth - 1];

	a->used = 0;
	a->oom = false;
}

bool tg_arena_oom(void)
{
	return depth && arenas[depth - 1].oom;
}

void tg_event_init(void)
{
	static atomic_flag done = ATOMIC_FLAG_INIT;
	struct timespec rt, mono;

	if (atomic_flag_test_and_set(&done))
		return;
	json_get_alloc_funcs(&prev_malloc, &prev_free);
	json_set_alloc_funcs(arena_malloc, arena_free);
	arena_key_ok = pthread_key_create(&arena_key, arena_release) == 0;
	/* jansson would read /dev/urandom for its hash seed on first use. */
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	size_t seed = (size_t)rt.tv_nsec * 2654435761u ^ (size_t)rt.tv_sec ^
		      (size_t)mono.tv_nsec << 7 ^ (size_t)getpid() << 16;
	json_object_seed(seed | 1);
}
