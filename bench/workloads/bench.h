/* Shared by the benchmark workloads: the loop count from the command line
 * and a loud exit on the first unexpected failure (a workload that quietly
 * fails measures nothing). */
#ifndef TG_BENCH_H
#define TG_BENCH_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline long bench_loops(int argc, char **argv, int nargs, const char *usage)
{
	char *end;
	long n;

	if (argc != nargs + 1) {
		fprintf(stderr, "usage: %s %s\n", argv[0], usage);
		exit(2);
	}
	n = strtol(argv[1], &end, 10);
	if (*end || n < 0) {
		fprintf(stderr, "%s: '%s' is not a loop count\n", argv[0], argv[1]);
		exit(2);
	}
	return n;
}

#define BENCH_DIE(what, arg) \
	do { \
		fprintf(stderr, "bench: %s '%s': %s\n", what, arg, strerror(errno)); \
		exit(1); \
	} while (0)
#endif
