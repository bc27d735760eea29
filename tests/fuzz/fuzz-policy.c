/* Fuzz target for the policy loader: any bytes, as a policy file, must load
 * or be refused with messages, never crash, hang or leak; a policy that
 * loads must answer a decision for a few paths. The input is written to a
 * file in a private temporary folder and loaded from there, as a policy
 * is: the loader resolves the policy's real path (a memfd has none, so an
 * input there was refused before libconfig saw it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "tg-policy.h"

static char dir[64], path[96];

static void quiet(enum tg_diag_level lvl, const char *msg, void *ud)
{
	(void)lvl;
	/* Every message names a place: "FILE:LINE: ..." or "FILE: ...". */
	FUZZ_CHECK(msg && strchr(msg, ':') != NULL);
	/* "PATH: cannot read the policy" and "PATH: cannot resolve the policy
	 * path" (no line): the harness, not the input, failed. */
	size_t n = strlen(path);
	FUZZ_CHECK(strncmp(msg, path, n) != 0 || strncmp(msg + n, ": cannot ", 9) != 0);
	(*(int *)ud)++;
}

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

/* Writes DATA to the policy file; false when it cannot. */
static int write_policy(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/tg-fuzz-policy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (strlen(dir) >= sizeof(dir) - 1 || !mkdtemp(dir)) {
			dir[0] = '\0';
			return 0;
		}
		snprintf(path, sizeof(path), "%s/policy.cfg", dir);
		atexit(cleanup);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	int ok = write(fd, data, size) == (ssize_t)size;
	return close(fd) == 0 && ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int messages = 0;

	FUZZ_CHECK(write_policy(data, size));

	struct tg_policy *p = NULL;
	struct tg_load_opts o = {
		.path = path, .job_id = "fuzz", .diag = quiet, .diag_ud = &messages
	};
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
