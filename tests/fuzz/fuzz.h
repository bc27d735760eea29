/* What every fuzz target in this folder provides, and how it reports.
 *
 * A target is one LLVMFuzzerTestOneInput(). Built with clang and
 * -fsanitize=fuzzer it is a libFuzzer binary; linked with replay.c it is a
 * plain program that runs the checked-in corpora under `meson test`, so a
 * past finding stays fixed with any compiler. A broken invariant aborts:
 * both drivers treat that as the failure it is. */
#ifndef TG_FUZZ_H
#define TG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
				#cond); \
			abort(); \
		} \
	} while (0)

#endif
