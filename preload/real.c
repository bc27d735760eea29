/* The real functions, resolved once (see real.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include "real.h"

struct tg_real tg_real;
_Atomic bool tg_syscalls_frozen;

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve_all(void)
{
#define X(name, family) tg_real.name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);
	TG_WRAPPERS(X)
#undef X
}

void tg_resolve(void)
{
	pthread_once(&resolve_once, resolve_all);
}
