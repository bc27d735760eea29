/* mkstemp-unlink N DIR: N times mkstemp(DIR/tmp-XXXXXX), close and unlink
 * it: the temporary-file pattern of tempfile, atomic checkpoint writers and
 * compilers. Two path-taking calls per iteration. */
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_loops(argc, argv, 2, "N DIR");
	char tmpl[PATH_MAX], name[PATH_MAX];

	snprintf(tmpl, sizeof(tmpl), "%s/tmp-XXXXXX", argv[2]);
	for (long i = 0; i < n; i++) {
		memcpy(name, tmpl, strlen(tmpl) + 1);
		int fd = mkstemp(name);
		if (fd < 0)
			BENCH_DIE("mkstemp", tmpl);
		close(fd);
		if (unlink(name) != 0)
			BENCH_DIE("unlink", name);
	}
	return 0;
}
