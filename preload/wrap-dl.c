/* dlopen: an explicit handle on libc ("libc.so.6") would hand the program
 * libc's own open, unguarded: ctypes.CDLL("libc.so.6").open(...) does just
 * that. Such a request gets the global handle instead, whose lookups find
 * the guard's wrappers first, as an ordinary call would. */
#include <dlfcn.h>
#include <string.h>

#include "real.h"

static bool names_libc(const char *file)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	return strcmp(base, "libc.so.6") == 0 || strcmp(base, "libc.so") == 0;
}

void *dlopen(const char *file, int flags)
{
	if (file && names_libc(file))
		file = NULL;
	return REAL(dlopen)(file, flags);
}
