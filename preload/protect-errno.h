/* errno kept across a scope, as systemd's PROTECT_ERRNO: the guard's own
 * system calls must leave the program's errno as the real call (or the
 * refusal) sets it, and a cleanup attribute restores it on every return
 * path instead of a hand-written save and restore on each. */
#ifndef TG_PROTECT_ERRNO_H
#define TG_PROTECT_ERRNO_H

#include <errno.h>

static inline void tg_errno_restore(const int *saved)
{
	errno = *saved;
}

/* Declares a variable whose scope end puts errno back. */
#define TG_PROTECT_ERRNO \
	__attribute__((cleanup(tg_errno_restore), unused)) const int tg_errno_saved_ = errno

#endif
