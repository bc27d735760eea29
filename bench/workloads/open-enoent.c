/* open-enoent N PATH: N times open(PATH) of a name that does not exist;
 * every call must fail with ENOENT (probing for optional files, as
 * importers and config loaders do all the time). */
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_loops(argc, argv, 2, "N MISSING_PATH");
	const char *path = argv[2];

	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT) {
			errno = fd >= 0 ? EEXIST : errno;
			BENCH_DIE("open (expected ENOENT)", path);
		}
	}
	return 0;
}
