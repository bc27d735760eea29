/* The working directory: chdir and fchdir, tracked so that relative paths
 * are decided without asking the kernel each time. */
#undef _FILE_OFFSET_BITS
#include <unistd.h>

#include "real.h"
#include "paths.h"

int chdir(const char *path)
{
	int r = REAL(chdir)(path);
	if (r == 0)
		tg_cwd_changed();
	return r;
}

int fchdir(int fd)
{
	int r = REAL(fchdir)(fd);
	if (r == 0)
		tg_cwd_changed();
	return r;
}
