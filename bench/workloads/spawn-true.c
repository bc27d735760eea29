/* spawn-true N PROGRAM: N times posix_spawn PROGRAM (no arguments) and
 * wait for it, which must exit 0. glibc's posix_spawn is a vfork-style
 * clone, as Python's subprocess and most launchers use; under the guard
 * each child starts its own copy of the guard, so the time per spawn
 * over the unguarded run is a child's start-up. */
#include <spawn.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

int main(int argc, char **argv)
{
	long n = bench_loops(argc, argv, 2, "N PROGRAM");
	char *child[] = { argv[2], NULL };

	for (long i = 0; i < n; i++) {
		pid_t pid;
		int st, e = posix_spawn(&pid, argv[2], NULL, NULL, child, environ);
		if (e) {
			errno = e;
			BENCH_DIE("posix_spawn", argv[2]);
		}
		if (waitpid(pid, &st, 0) != pid)
			BENCH_DIE("waitpid", argv[2]);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			errno = ECHILD;
			BENCH_DIE("child did not exit 0", argv[2]);
		}
	}
	return 0;
}
