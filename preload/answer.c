/* The answer to `trainguard run`'s handshake (cli/handshake.c): when the
 * job was started with TRAINGUARD_HANDSHAKE=FD, the constructor writes
 * "active PID" (or "unguarded PID") on that pipe and closes it, so run
 * knows the guard is on instead of assuming it. The variable is removed
 * at once: no child answers for its parent, and a descriptor number means
 * nothing in another process. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "answer.h"
#include "real.h"
#include "tg-env.h"

void tg_handshake_answer(bool active)
{
	const char *v = getenv(TG_ENV_HANDSHAKE);
	char *end, line[48];
	struct stat st;

	if (!v)
		return;
	long fd = strtol(v, &end, 10);
	unsetenv(TG_ENV_HANDSHAKE);
	/* Only a pipe is ours to answer on and close: anything else is the
	 * program's descriptor. */
	if (*end || end == v || fd < 3 || fd > 65535 || fstat((int)fd, &st) < 0 ||
	    !S_ISFIFO(st.st_mode))
		return;
	int n = snprintf(line, sizeof(line), "%s %ld\n", active ? "active" : "unguarded",
			 (long)tg_sys(SYS_getpid));
	if (n > 0)
		tg_sys(SYS_write, (int)fd, line, (size_t)n);
	tg_sys(SYS_close, (int)fd);
}
