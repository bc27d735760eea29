/* Which access classes a call asks for, decided from its arguments alone:
 * no system call, so the answer is the same on the hot path and in tests. */
#include <fcntl.h>

#include "tg-policy.h"

unsigned tg_open_classes(int flags)
{
	int acc = flags & O_ACCMODE;
	unsigned c = 0;

	if (flags & O_PATH)
		return 0; /* a handle: no data can be read or written through it */
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return TG_BIT(TG_CREATE) | TG_BIT(TG_WRITE);
	if (flags & O_CREAT) {
		c |= TG_BIT(TG_CREATE);
		if (!(flags & O_EXCL))
			c |= TG_BIT(TG_WRITE);
	}
	if (acc == O_WRONLY || acc == O_RDWR || (flags & (O_TRUNC | O_APPEND)))
		c |= TG_BIT(TG_WRITE);
	if (acc == O_RDONLY || acc == O_RDWR)
		c |= (flags & O_DIRECTORY) ? TG_BIT(TG_LIST) : TG_BIT(TG_READ);
	return c;
}
