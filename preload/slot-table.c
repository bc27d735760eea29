/* A fixed table of slots, mapped on first use and guarded by a bounded spin
 * lock (see slot-table.h). */
#include <string.h>
#include <sys/mman.h>

#include "slot-table.h"

/* The lock is held: no other thread maps at the same time. */
void *tg_slot_table_map_first(struct tg_slot_table *t)
{
	void *m = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	t->slots = m;
	return m;
}

void tg_slot_table_after_fork(struct tg_slot_table *t)
{
	atomic_flag_clear(&t->lock);
}

void tg_slot_table_wipe(struct tg_slot_table *t)
{
	void *s = tg_slot_table_slots(t);

	if (s)
		memset(s, 0, t->size);
}
