/* open-close-abs N PATH: N times open(PATH, O_RDONLY) and close it. PATH is
 * an absolute path to a file already in the page cache: the cost measured
 * is the path lookup and the guard's decision, not I/O. */
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_loops(argc, argv, 2, "N PATH");
	const char *path = argv[2];

	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			BENCH_DIE("open", path);
		close(fd);
	}
	return 0;
}
