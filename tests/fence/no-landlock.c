/* no-landlock: runs a command as if the kernel had no Landlock: a seccomp
 * filter answers ENOSYS to landlock_create_ruleset, so `trainguard run
 * --fence require` and a policy's fence.landlock = "require" can be shown
 * to refuse to start the job. Exit 125 when the filter cannot be loaded.
 *
 *   no-landlock COMMAND [ARG]... */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int nr = SCMP_SYS(landlock_create_ruleset);

	if (argc < 2 || !ctx)
		return 125;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) < 0 || seccomp_load(ctx) < 0) {
		fprintf(stderr, "no-landlock: cannot load the filter\n");
		return 125;
	}
	seccomp_release(ctx);
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-landlock: cannot run '%s': %s\n", argv[1], strerror(errno));
	return 127;
}
