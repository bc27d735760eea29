/* matcher N THREADS PATH...: THREADS threads each open and close the PATHs
 * in turn, N opens in all (split evenly), and print the wall time of the
 * loop per open in nanoseconds ("ns_per_op=..."). Run unguarded and under
 * policies of growing size, the difference is the cost of one decision as
 * the rule count grows; run with 1..8 threads, it shows whether deciding
 * scales when threads open concurrently (no lock on the hot path). The
 * timing excludes process start and policy loading. */
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static long per_thread;
static int npaths;
static char **paths;
static pthread_barrier_t go;

static void *worker(void *arg)
{
	long off = (long)arg;

	pthread_barrier_wait(&go);
	for (long i = 0; i < per_thread; i++) {
		const char *p = paths[(i + off) % npaths];
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			BENCH_DIE("open", p);
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t tid[64];
	char *end;
	long n, threads;

	if (argc < 4) {
		fprintf(stderr, "usage: %s N THREADS PATH...\n", argv[0]);
		return 2;
	}
	n = strtol(argv[1], &end, 10);
	threads = strtol(argv[2], NULL, 10);
	if (*end || n <= 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "%s: bad N or THREADS\n", argv[0]);
		return 2;
	}
	paths = argv + 3;
	npaths = argc - 3;
	per_thread = n / threads;
	pthread_barrier_init(&go, NULL, (unsigned)threads + 1);
	for (long t = 0; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, worker, (void *)t) != 0) {
			fprintf(stderr, "%s: pthread_create failed\n", argv[0]);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_barrier_wait(&go);
	for (long t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	printf("ns_per_op=%.1f\n", ns / (double)(per_thread * threads));
	return 0;
}
