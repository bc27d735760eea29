/* no-openat2 PROGRAM ARGS...: runs PROGRAM where openat2 fails with
 * ENOSYS, as on a kernel before 5.6, under gVisor or a container seccomp
 * profile that lacks it: the guard then opens through its parent-directory
 * fallback. A real seccomp filter (libseccomp), not a knob of the guard.
 * Built by bench/run when libseccomp is there; never part of the product. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (argc < 2) {
		fprintf(stderr, "usage: no-openat2 PROGRAM [ARGS...]\n");
		return 2;
	}
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) < 0 ||
	    seccomp_load(ctx) < 0) {
		fprintf(stderr, "no-openat2: cannot install the filter\n");
		return 2;
	}
	seccomp_release(ctx);
	execvp(argv[1], argv + 1);
	perror("no-openat2: exec");
	return 127;
}
