/* The kernel fence for `trainguard run` (see run-fence.h).
 *
 * The job's process installs it on itself between fork and exec: Landlock
 * restricts the calling thread and whatever it starts afterwards, so the
 * program, its loader and every child are inside, including children that
 * drop LD_PRELOAD and static programs. The log is granted write only when
 * each process of the job opens it (no collector: --no-collector); like
 * the library, it is protected from every other change; the policy files
 * are protected by the policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run-fence.h"
#include "tg-env.h"

/* What the job's process writes on the pipe, once, before exec. */
struct outcome {
	int err; /* 0, or the -errno that stopped the job */
	struct tg_fence_report rep;
};

static void print_hint(const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "trainguard: fence: Hint: %s\n", msg);
}

static void report(int fd, const struct outcome *o)
{
	ssize_t n;

	do
		n = write(fd, o, sizeof(*o));
	while (n < 0 && errno == EINTR);
}

int tg_run_fence_install(struct tg_policy *p, const struct tg_run_fence *f)
{
	const char *mine[] = { f->log, f->guard_lib, f->collector };
	const char *writable[] = { f->log };
	const char *program[] = { f->program };
	struct tg_fence_opts o = {
		.landlock = f->landlock,
		.seccomp = f->seccomp,
		.flags = f->mode_set ? TG_FENCE_MODE_SET : 0,
		.mode = f->mode,
		.writable = writable,
		.nwritable = f->log && !f->collector ? 1 : 0,
		.executable = program,
		.nexecutable = f->program ? 1 : 0,
		.hint = print_hint,
	};
	struct outcome out = { 0 };
	const char *layer = "Landlock";
	int r = tg_policy_protect(p, mine, 3);

	/* What auto mode could not do is in the summary; the details ("a tree
	 * stays open") are for whoever required the fence. */
	if (f->landlock != TG_FENCE_REQUIRE && f->seccomp != TG_FENCE_REQUIRE)
		o.hint = NULL;

	if (r >= 0)
		r = tg_fence_landlock(p, &o, &out.rep);
	if (r >= 0) {
		layer = "seccomp";
		r = tg_fence_seccomp(p, &o, &out.rep);
	}
	out.err = r < 0 ? r : 0;
	if (r < 0)
		fprintf(stderr,
			"trainguard: the fence's %s layer cannot be installed: %s; "
			"the job was not started (--fence auto runs it with what the kernel "
			"supports)\n",
			layer, strerror(-r));
	else
		setenv(TG_ENV_FENCE, tg_fence_layers(&out.rep), 1);
	report(f->report_fd, &out);
	return out.err;
}

int tg_run_fence_result(int fd, struct tg_fence_report *ret)
{
	struct outcome o;
	ssize_t n;

	do
		n = read(fd, &o, sizeof(o));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(o))
		return -EIO;
	if (o.err < 0)
		return -ECANCELED;
	*ret = o.rep;
	return 0;
}
