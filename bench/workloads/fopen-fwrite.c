/* fopen-fwrite N DIR: N times fopen(DIR/out-K.txt, "w"), fwrite 64 bytes,
 * fclose, over 16 names in turn: the pattern of a logger or a metrics
 * writer that reopens its file. */
#include <limits.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_loops(argc, argv, 2, "N DIR");
	char names[16][PATH_MAX];
	char buf[64];

	memset(buf, 'y', sizeof(buf));
	for (int k = 0; k < 16; k++)
		snprintf(names[k], sizeof(names[k]), "%s/out-%d.txt", argv[2], k);
	for (long i = 0; i < n; i++) {
		const char *name = names[i & 15];
		FILE *f = fopen(name, "w");
		if (!f)
			BENCH_DIE("fopen", name);
		if (fwrite(buf, 1, sizeof(buf), f) != sizeof(buf))
			BENCH_DIE("fwrite", name);
		if (fclose(f) != 0)
			BENCH_DIE("fclose", name);
	}
	return 0;
}
