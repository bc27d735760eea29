/* openat-cwd N DIR NAME: changes into DIR, then N times openat(AT_FDCWD,
 * NAME) and close: a name relative to the working directory. */
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_loops(argc, argv, 3, "N DIR NAME");

	if (chdir(argv[2]) != 0)
		BENCH_DIE("chdir", argv[2]);
	for (long i = 0; i < n; i++) {
		int fd = openat(AT_FDCWD, argv[3], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			BENCH_DIE("openat", argv[3]);
		close(fd);
	}
	return 0;
}
