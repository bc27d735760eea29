/* The descriptor table: what the guard knows about each open descriptor,
 * so that write() costs one load and a branch.
 *
 * A descriptor the guard opened (the policy allowed that open) is PASS. A
 * descriptor it never saw (inherited, received over a socket, made by dup
 * or a raw system call) is UNKNOWN until its first write, when it is
 * classified once by its real path. close, dup2, dup3, close_range and
 * closefrom reset entries (see wrap-fd.c); a vfork child, which shares the
 * table with its parent, resets none on the ranged calls. HELD marks a
 * folder the guard itself holds open where openat2 is missing
 * (open-parent.c): the program closing that number clears the mark. */
#ifndef TG_FDTABLE_H
#define TG_FDTABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paths.h"

#define TG_FD_MAX 65536

enum { TG_FD_UNKNOWN = 0, TG_FD_PASS = 1, TG_FD_DENY = 2, TG_FD_HELD = 3 };

extern _Atomic uint8_t tg_fds[TG_FD_MAX];

static inline bool tg_fd_pass(int fd)
{
	return (unsigned)fd < TG_FD_MAX &&
	       atomic_load_explicit(&tg_fds[fd], memory_order_relaxed) == TG_FD_PASS;
}

/* Marks FD as STATE (PASS or DENY). */
static inline void tg_fd_set(int fd, uint8_t state)
{
	if ((unsigned)fd < TG_FD_MAX)
		atomic_store_explicit(&tg_fds[fd], state, memory_order_relaxed);
}

/* FD was closed or replaced: unknown again, and no remembered folder. */
static inline void tg_fd_forget(int fd)
{
	if ((unsigned)fd < TG_FD_MAX)
		atomic_store_explicit(&tg_fds[fd], TG_FD_UNKNOWN, memory_order_relaxed);
	tg_dirfd_forget(fd);
}

/* Marks [LO, HI] unknown. Reads the table eight entries at a time and
 * writes only what is set: a close_range over the whole table (every
 * subprocess spawn) costs about 8,000 loads, not 65,536 stores. */
void tg_fd_forget_range(unsigned lo, unsigned hi);

/* The slow path of a write on a descriptor that is not PASS: classifies it
 * by its real path, records a refusal, and returns 0 or -errno. */
int tg_fd_classify(const char *op, int fd);

/* The write-path check every descriptor wrapper starts with. */
#define TG_FD_WRITE_CHECK(op, fd) \
	do { \
		if (__builtin_expect(!tg_fd_pass(fd), 0)) { \
			int r_ = tg_fd_classify(op, fd); \
			if (r_ < 0) \
				return tg_fail(-r_); \
		} \
	} while (0)

#endif
