/* Where relative paths start: the working directory and the folders behind
 * directory descriptors, remembered so that a relative open costs no
 * system call beyond its own (see paths.c). */
#ifndef TG_PATHS_H
#define TG_PATHS_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* The working directory into OUT; its length or -errno. */
int tg_cwd(char *out, size_t cap);
/* chdir or fchdir succeeded: the next tg_cwd() asks the kernel. */
void tg_cwd_changed(void);

/* The working directory as a folder ending in its slash, read in place
 * when the cache has it: no copy, no lock. The bytes may change under the
 * reader: whatever was read from them counts only if tg_cwd_unchanged(GEN)
 * holds afterwards. */
bool tg_cwd_folder(const char **dir, size_t *len, unsigned *gen);
bool tg_cwd_unchanged(unsigned gen);

/* The folder behind directory descriptor FD into OUT; its length, or
 * -errno (-EBADF), or 0 when FD is not a folder in the tree. */
int tg_dirfd_path(int fd, char *out, size_t cap);
/* FD was opened on the folder PATH (N bytes, real). */
void tg_dirfd_remember(int fd, const char *path, size_t n);
/* The folders behind descriptors, one slot per FD % TG_DIR_SLOTS. */
#define TG_DIR_SLOTS 64
struct tg_dirfd_slot {
	atomic_flag lock;
	_Atomic unsigned gen;    /* odd while PATH is written; moves on every change */
	_Atomic int fd;          /* fd + 1; 0: empty */
	size_t len;              /* of the path, without the slash after it */
	size_t dlen;             /* of the path and its slash */
	char path[PATH_MAX + 1]; /* the path and a slash ("/" for the root) */
};
extern struct tg_dirfd_slot tg_dirfd_slots[TG_DIR_SLOTS];
/* FD is closed or replaced. Costs a load and a branch while no folder is
 * remembered (the counter may stay above the number of slots in use, never
 * below it), and a load and a branch more while FD's slot holds another
 * descriptor. */
extern _Atomic unsigned tg_dirfd_filled;
void tg_dirfd_forget_slot(int fd);
static inline void tg_dirfd_forget(int fd)
{
	if (atomic_load_explicit(&tg_dirfd_filled, memory_order_relaxed) && fd >= 0 &&
	    atomic_load_explicit(&tg_dirfd_slots[(unsigned)fd % TG_DIR_SLOTS].fd,
				 memory_order_relaxed) == fd + 1)
		tg_dirfd_forget_slot(fd);
}
/* Every descriptor in [LO, HI] is closed (walks the slots, not the range). */
void tg_dirfd_forget_range(unsigned lo, unsigned hi);
/* The folder behind FD ending in its slash, read in place (as
 * tg_cwd_folder): valid only if tg_dirfd_unchanged(FD, GEN) after. */
bool tg_dirfd_folder(int fd, const char **dir, size_t *len, unsigned *gen);
bool tg_dirfd_unchanged(int fd, unsigned gen);

#endif
