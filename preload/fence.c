/* The kernel fence from the library's constructor.
 *
 * Under `trainguard run` the fence is installed before exec and the job
 * gets TRAINGUARD_FENCE naming its layers; a process that finds the marker
 * installs nothing: it is inside its parent's domain already (Landlock
 * domains and seccomp filters are inherited and irrevocable), and stacking
 * a layer per process would cost a ruleset per exec. Without the marker
 * (plain LD_PRELOAD) the first guarded process installs the fence on
 * itself and hands the marker to its children through the saved
 * environment, which a program cannot change for them.
 *
 * What a program can do with the marker: a child it starts by a raw
 * execve with TRAINGUARD_FENCE set skips the install, but it is then
 * inside the program's own domain, so it skips only what it has. Only
 * where no domain exists (the fence off, or a kernel without it) does
 * a false marker keep a child out; and that child would get none.
 *
 * Landlock restricts the calling thread only: with other threads running
 * already (the library loaded late), nothing is installed and children
 * try again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fence.h"
#include "real.h"
#include "tg-env.h"

static char last_hint[400], why[512];

/* The library never prints: the last hint explains a failure. */
static void keep_hint(const char *msg, void *ud)
{
	(void)ud;
	snprintf(last_hint, sizeof(last_hint), "%s", msg);
}

/* True when this process has one thread (/proc/self/status). */
static bool single_threaded(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *t = strstr(buf, "\nThreads:");
	return t && strtol(t + 9, NULL, 10) == 1;
}

int tg_fence_start(const struct tg_policy *p, enum tg_mode mode, const char *log,
		   struct tg_fence_report *ret, const char **ret_marker, const char **ret_why)
{
	const char *marker = getenv(TG_ENV_FENCE);
	const char *writable[] = { log };
	struct tg_fence_opts o = {
		.landlock = tg_policy_fence_landlock(p),
		.seccomp = tg_policy_fence_seccomp(p),
		.flags = TG_FENCE_MODE_SET,
		.mode = mode,
		.writable = writable,
		.nwritable = log ? 1 : 0,
		.hint = keep_hint,
	};
	struct tg_fence_report rep = { 0 };
	int r;

	*ret_marker = NULL;
	if (marker && *marker) {
		/* An unknown value counts as no layer, and is handed on as such. */
		if (tg_fence_layers_parse(marker, &rep) < 0)
			rep = (struct tg_fence_report){ 0 };
		*ret = rep;
		*ret_marker = tg_fence_layers(&rep);
		return 0;
	}
	if (tg_fence_applies(p, &o) && (o.landlock != TG_FENCE_OFF || o.seccomp != TG_FENCE_OFF) &&
	    !single_threaded()) {
		*ret = rep;
		return 0;
	}
	/* libseccomp loads the filter through syscall(2), which the guard
	 * watches for a program's own filter (wrap-prctl.c) and then stops
	 * making calls of its own. This filter is the guard's: it refuses
	 * none of the calls the guard makes, so that stays as it was. */
	bool frozen = tg_frozen();
	r = tg_fence_landlock(p, &o, &rep);
	if (r >= 0)
		r = tg_fence_seccomp(p, &o, &rep);
	atomic_store(&tg_syscalls_frozen, frozen);
	if (r < 0) {
		snprintf(why, sizeof(why), "%s%s%s", strerror(-r), last_hint[0] ? ": " : "",
			 last_hint);
		*ret_why = why;
		return r;
	}
	*ret = rep;
	*ret_marker = tg_fence_layers(&rep);
	return 0;
}
