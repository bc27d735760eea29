/* A policy loaded into a region (policy/region.c) can be handed to a child
 * only when nothing in it points out of it: the benchmark's policies (30
 * and 200 rules) and the embedded ml-default must leave nothing
 * outside, the scan must see a pointer planted into the library, and the
 * policy decides as the same policy loaded on the heap. Speaks TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy-internal.h"
#include "tap.h"

static void diag(enum tg_diag_level lvl, const char *msg, void *ud)
{
	(void)ud;
	if (lvl == TG_DIAG_ERROR)
		printf("# error: %s\n", msg);
}

static const char *const probes[] = {
	"/etc/shadow",        "/bench/data/x.bin", "/bench/ckpt/a.pt", "/home/u00042/.cache/pip/x",
	"/datasets/c4-v7/a",  "/root/.ssh/id_rsa", "/tmp/x",           "/",
	"/usr/lib/libc.so.6",
};

static void check(const char *what, const char *path, const char *embedded)
{
	struct tg_load_opts o = { .path = path,
				  .embedded = embedded,
				  .job_id = "job",
				  .diag = diag,
				  .errors_only = true,
				  .defer_index = true };
	struct tg_policy *heap, *reg;
	const char *mine[] = { "/tmp/the-log", "/usr/lib/libtrainguard.so", NULL };

	if (tg_policy_load(&o, &heap) < 0) {
		ok(0, "%s: loads", what);
		return;
	}
	o.region = true;
	if (tg_policy_load(&o, &reg) < 0) {
		ok(0, "%s: loads into a region", what);
		tg_policy_free(heap);
		return;
	}
	tg_policy_protect(heap, mine, 3);
	tg_policy_protect(reg, mine, 3);
	size_t size = 0;
	bool whole = tg_policy_region(reg, &size) != NULL;
	ok(whole, "%s: all in the region (%zu bytes, %zu rules)", what, size,
	   tg_policy_nrules(reg));
	ok(tg_policy_region(heap, NULL) == NULL, "%s: a heap policy has no region", what);
	int n = tg_policy_region_scan(reg);
#if defined(__SANITIZE_ADDRESS__)
	/* ASan's heap (0x6000_0000_0000 on) and shadow take the addresses the
	 * last bytes of a string and INT_MAX look like: the scan refuses (the
	 * children load the policy themselves), the plain build checks. */
	tap_skip("no word points out of the region", "ASan's heap and shadow");
#else
	ok(n == 0, "%s: no word points out of the region (%d do)", what, n);
#endif

	/* Pointers to the heap and the stack, where the caller's header goes. */
	void **head = tg_policy_region(reg, NULL), *heap_block = malloc(16);
	head[3] = heap_block;
	head[4] = &n;
	int before = n;
	n = tg_policy_region_scan(reg);
	ok(n == before + 2, "%s: the scan finds pointers into the heap and the stack (%d)", what,
	   n);
	head[3] = head[4] = NULL;
	free(heap_block);

	bool same = true;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		for (unsigned c = 0; c < TG_NCLASS; c++) {
			struct tg_verdict a, b;
			tg_decide(heap, probes[i], strlen(probes[i]), TG_BIT(c), &a);
			tg_decide(reg, probes[i], strlen(probes[i]), TG_BIT(c), &b);
			if (a.allow != b.allow || (a.rule == NULL) != (b.rule == NULL) ||
			    (a.rule && strcmp(a.rule->id, b.rule->id) != 0)) {
				tap_diag("%s %u: %d vs %d", probes[i], c, a.allow, b.allow);
				same = false;
			}
		}
	ok(same, "%s: decides as the heap policy", what);
	ok(!path || tg_policy_sources_same(reg) == 1, "%s: its sources are still the same", what);
	tg_policy_free(heap);
	tg_policy_free(reg);
}

int main(void)
{
	const char *src = getenv("TG_SOURCE_ROOT"), *py = getenv("TG_PYTHON");
	char real[4096], big[4096], cmd[12288];

	setenv("TG_BENCH_DATA", "/bench/data", 1);
	setenv("TG_BENCH_CKPT", "/bench/ckpt", 1);
	setenv("TG_BENCH_SCRATCH", "/bench/scratch", 1);
	setenv("TG_BENCH_LOGS", "/bench/logs", 1);
	setenv("TG_BENCH_BIN", "/bench/bin", 1);
	check("ml-default", NULL, NULL);
	if (!src || !py) {
		tap_skip("the benchmark's policies", "TG_SOURCE_ROOT and TG_PYTHON unset");
		return tap_done();
	}
	snprintf(real, sizeof(real), "%s/bench/policies/realistic.cfg", src);
	check("the benchmark's realistic policy", real, NULL);
	/* The start-up benchmark's 200 rules: realistic.cfg and generated ones. */
	char dir[] = "/tmp/tg-handoff-XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "a temporary folder");
		return tap_done();
	}
	snprintf(big, sizeof(big), "%s/startup-200.cfg", dir);
	snprintf(
		cmd, sizeof(cmd),
		"'%s' '%s/bench/policies/gen.py' --from '%s/bench/policies/realistic.cfg' --add 170 > '%s'",
		py, src, src, big);
	if (system(cmd) != 0)
		ok(0, "gen.py writes the 200-rule policy");
	else
		check("the 200-rule start-up policy", big, NULL);
	unlink(big);
	rmdir(dir);
	return tap_done();
}
