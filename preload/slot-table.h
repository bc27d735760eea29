/* A fixed table of slots for the hook path, mapped on first use and guarded
 * by one spin lock: the part fold.c and aggregate.c share (each keeps its
 * own slot layout and logic).
 *
 * No heap: the table is anonymous memory, mapped once, by the thread that
 * first holds the lock and needs it. The lock guards short critical
 * sections and is never held across a call the program made. It is tried
 * once (a thread that finds it held does its work the slow way) or taken
 * with a bounded spin: a signal handler that interrupted its own thread's
 * critical section gives up instead of spinning for ever. A fork child
 * gets a copy of the table and of a lock some other thread of the parent
 * may have held (tg_slot_table_after_fork); a vfork child shares both with
 * its parent, so it must neither take the lock nor map (the callers ask
 * tg_self() first). */
#ifndef TG_SLOT_TABLE_H
#define TG_SLOT_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* How many tries tg_slot_table_take() makes before it gives up. */
#define TG_SLOT_TABLE_SPINS 1000000

/* A module's table: { .lock = ATOMIC_FLAG_INIT, .size = its bytes }. */
struct tg_slot_table {
	void *slots; /* NULL until mapped; set once, under the lock */
	atomic_flag lock;
	size_t size; /* bytes */
};

/* The lock, tried once: true when it is now held. */
static inline bool tg_slot_table_try(struct tg_slot_table *t)
{
	return !atomic_flag_test_and_set_explicit(&t->lock, memory_order_acquire);
}

/* The lock, tried TG_SLOT_TABLE_SPINS times: false when it stayed held. */
static inline bool tg_slot_table_take(struct tg_slot_table *t)
{
	for (long spins = 0; atomic_flag_test_and_set_explicit(&t->lock, memory_order_acquire);)
		if (++spins > TG_SLOT_TABLE_SPINS)
			return false;
	return true;
}

static inline void tg_slot_table_give(struct tg_slot_table *t)
{
	atomic_flag_clear_explicit(&t->lock, memory_order_release);
}

/* The slots, or NULL while not mapped. Without the lock it is a peek
 * whose only use is "nothing mapped yet, nothing to do": the slots are
 * read and written under the lock, whose acquire orders the store before.
 * A plain load on purpose: an atomic one is never merged with the next,
 * which costs an audited open and close about five instructions. */
static inline void *tg_slot_table_slots(struct tg_slot_table *t)
{
	return t->slots;
}

/* tg_slot_table_map's slow path: the mmap. */
void *tg_slot_table_map_first(struct tg_slot_table *t);

/* With the lock held: the slots (zeroed when new), mapped on first use;
 * NULL when they cannot be mapped. */
static inline void *tg_slot_table_map(struct tg_slot_table *t)
{
	void *s = tg_slot_table_slots(t);
	return s ? s : tg_slot_table_map_first(t);
}

/* The fork hook: a lock another thread of the parent held is free. */
void tg_slot_table_after_fork(struct tg_slot_table *t);

/* Every slot zeroed (nothing when not mapped). Only a fork child, or a
 * holder of the lock, may. */
void tg_slot_table_wipe(struct tg_slot_table *t);

#endif
