/* rename-same N DIR: N times rename(DIR/ren-a, DIR/ren-b) and back, one
 * folder: what a checkpoint writer does (write a temporary file, rename it
 * into place). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_loops(argc, argv, 2, "N DIR");
	char a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof(a), "%s/ren-a", argv[2]);
	snprintf(b, sizeof(b), "%s/ren-b", argv[2]);
	unlink(b);
	int fd = open(a, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		BENCH_DIE("open", a);
	close(fd);
	for (long i = 0; i < n; i++) {
		const char *from = i & 1 ? b : a, *to = i & 1 ? a : b;
		if (rename(from, to) != 0)
			BENCH_DIE("rename", from);
	}
	return 0;
}
