/* openat-dirfd N DIR NAME: opens DIR once, then N times openat(dirfd, NAME)
 * and close: a name relative to a directory descriptor, as tar, rsync and
 * Python's os.scandir-based loaders do. */
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_loops(argc, argv, 3, "N DIR NAME");
	int dirfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0)
		BENCH_DIE("open", argv[2]);
	for (long i = 0; i < n; i++) {
		int fd = openat(dirfd, argv[3], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			BENCH_DIE("openat", argv[3]);
		close(fd);
	}
	close(dirfd);
	return 0;
}
