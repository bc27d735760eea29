/* tg-flood: opens one path N times for reading and prints the mean cost of
 * one open in nanoseconds, so the tests and the flood figures measure the
 * guard's cost of a refusal (and of a folded one), in wall and CPU time. Usage: tg-flood PATH N */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b, ca, cb;
	long n, refused = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: tg-flood PATH N\n");
		return 2;
	}
	n = atol(argv[2]);
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
	for (long i = 0; i < n; i++) {
		int fd = open(argv[1], O_RDONLY);
		if (fd < 0)
			refused++;
		else
			close(fd);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (n ? n : 1);
	double cpu = ((cb.tv_sec - ca.tv_sec) * 1e9 + (cb.tv_nsec - ca.tv_nsec)) / (n ? n : 1);
	/* CPU time as well as wall time: a loaded machine inflates the wall. */
	printf("refused %ld ns_per_open %.0f cpu_ns_per_open %.0f\n", refused, ns, cpu);
	return 0;
}
