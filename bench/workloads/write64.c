/* write64 N FILE: opens FILE for writing, then N write() calls of 64 bytes.
 * Every 16,384 writes (1 MiB) it seeks back to the start, so the file stays
 * small and in the page cache and the loop measures the call, not the disk. */
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_loops(argc, argv, 2, "N FILE");
	char buf[64];
	int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		BENCH_DIE("open", argv[2]);
	memset(buf, 'x', sizeof(buf));
	for (long i = 0; i < n; i++) {
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			BENCH_DIE("write", argv[2]);
		if ((i & 16383) == 16383)
			lseek(fd, 0, SEEK_SET);
	}
	close(fd);
	return 0;
}
