/* Fuzz target for the policy loader: any bytes, as a policy file, must load
 * or be refused with messages, never crash, hang or leak; a policy that
 * loads must answer a decision for a few paths. The input reaches libconfig
 * through a memfd, as a file would. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "tg-policy.h"

static void quiet(enum tg_diag_level lvl, const char *msg, void *ud)
{
	(void)lvl;
	/* Every message names a place: "FILE:LINE: ..." or "FILE: ...". */
	FUZZ_CHECK(msg && strchr(msg, ':') != NULL);
	(*(int *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	int messages = 0;

	if (fd < 0)
		fd = memfd_create("fuzz-policy", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	struct tg_policy *p = NULL;
	struct tg_load_opts o = { .path = path, .job_id = "fuzz", .diag = quiet,
				  .diag_ud = &messages };
	int r = tg_policy_load(&o, &p);
	if (r < 0) {
		FUZZ_CHECK(p == NULL);
		FUZZ_CHECK(messages > 0); /* a refusal always says why */
		return 0;
	}
	static const char *const paths[] = { "/", "/tmp/x", "/data/a/b.pt", "/home/u/.ssh/id_rsa" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct tg_verdict v;
		tg_decide(p, paths[i], strlen(paths[i]), TG_ALL, &v);
		FUZZ_CHECK(v.allow || v.err > 0);
	}
	tg_policy_free(p);
	return 0;
}
