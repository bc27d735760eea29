/* tg-squat.so: takes, before the guard starts, the address the policy a
 * parent hands down (TRAINGUARD_HANDOFF) must be mapped at, so that the
 * child has to load the policy itself (tests/integration/handoff.py).
 * Listed after the guard in LD_PRELOAD: its constructor runs first. Reads
 * the header's address (at byte 88: after the magic, the format, the id's
 * length and the 64 bytes of build id; preload/handoff.c) by raw system
 * call, so that no wrapper starts the guard. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

__attribute__((constructor)) static void squat(void)
{
	const char *e = getenv("TRAINGUARD_HANDOFF");
	uint64_t at;

	if (!e || syscall(SYS_pread64, atoi(e), &at, sizeof(at), 88) != (long)sizeof(at))
		return;
	void *want = (void *)(uintptr_t)at;
	void *m = mmap(want, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		       0);
	fprintf(stderr, "tg-squat: %s\n", m == want ? "address taken" : "address not taken");
}
