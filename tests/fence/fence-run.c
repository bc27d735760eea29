/* fence-run: loads a policy, installs the kernel fence and runs a command
 * inside it, as the kernel's samples/landlock/sandboxer.c does; the tests'
 * driver until `trainguard run` installs the fence itself.
 *
 *   fence-run [--policy FILE | --embedded NAME] [--landlock MODE]
 *             [--seccomp MODE] [--strict] [--protect PATH]... [--writable PATH]...
 *             [--max-rules N] [--mode MODE] [--report] -- COMMAND [ARG]...
 *
 * Hints go to stderr as "Hint: ..." lines; --report adds one line
 * "fence: key=value ..." saying what was installed. Exit status 125 when
 * the policy or the fence fails, else the command's (execvp: 127). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg-env.h"
#include "tg-fence.h"

static void print_diag(enum tg_diag_level lvl, const char *msg, void *ud)
{
	if (lvl == TG_DIAG_ERROR)
		fprintf(stderr, "fence-run: %s\n", msg);
}

static void print_hint(const char *msg, void *ud)
{
	fprintf(stderr, "Hint: %s\n", msg);
}

static int usage(void)
{
	fprintf(stderr, "usage: fence-run [--policy FILE | --embedded NAME] [--landlock MODE] "
			"[--seccomp MODE] [--strict] [--protect PATH]... [--writable PATH]... "
			"[--max-rules N] [--mode MODE] [--report] -- COMMAND [ARG]...\n");
	return 125;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "embedded", required_argument, NULL, 'e' },
		{ "landlock", required_argument, NULL, 'l' },
		{ "seccomp", required_argument, NULL, 's' },
		{ "protect", required_argument, NULL, 'P' },
		{ "strict", no_argument, NULL, 'S' },
		{ "max-rules", required_argument, NULL, 'm' },
		{ "writable", required_argument, NULL, 'w' },
		{ "mode", required_argument, NULL, 'M' },
		{ "report", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct tg_fence_opts fo = { .hint = print_hint };
	struct tg_load_opts lo = { .diag = print_diag, .errors_only = true };
	const char *protect[16], *writable[16];
	bool report = false;
	char jid[128];
	int c, r;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			lo.path = optarg;
			break;
		case 'e':
			lo.embedded = optarg;
			break;
		case 'l':
			if (tg_fence_mode_parse(optarg, &fo.landlock) < 0)
				return usage();
			break;
		case 's':
			if (tg_fence_mode_parse(optarg, &fo.seccomp) < 0)
				return usage();
			break;
		case 'P':
			if (fo.nprotect == sizeof(protect) / sizeof(protect[0]))
				return usage();
			protect[fo.nprotect++] = optarg;
			break;
		case 'S':
			fo.flags |= TG_FENCE_STRICT_SPLITS;
			break;
		case 'r':
			report = true;
			break;
		case 'w':
			if (fo.nwritable == sizeof(writable) / sizeof(writable[0]))
				return usage();
			writable[fo.nwritable++] = optarg;
			break;
		case 'M':
			if (tg_mode_parse(optarg, &fo.mode) < 0)
				return usage();
			fo.flags |= TG_FENCE_MODE_SET;
			break;
		case 'm':
			fo.max_rules = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	fo.protect = protect;
	fo.writable = writable;
	/* The named command runs whatever the policy's exec rules say, as
	 * under `trainguard run` (a build tree under /tmp still works). */
	char prog[PATH_MAX];
	const char *named[1] = { prog };
	if (strchr(argv[optind], '/') && realpath(argv[optind], prog)) {
		fo.executable = named;
		fo.nexecutable = 1;
	}
	tg_job_id(jid, sizeof(jid), NULL);
	lo.job_id = jid;

	struct tg_policy *p;
	if ((r = tg_policy_load(&lo, &p)) < 0) {
		fprintf(stderr, "fence-run: cannot load the policy: %s\n", strerror(-r));
		return 125;
	}
	struct tg_fence_report rep = { 0 };
	r = tg_fence_landlock(p, &fo, &rep);
	if (r >= 0)
		r = tg_fence_seccomp(p, &fo, &rep);
	tg_policy_free(p);
	if (r < 0) {
		fprintf(stderr, "fence-run: cannot install the fence: %s\n", strerror(-r));
		return 125;
	}
	if (report)
		fprintf(stderr,
			"fence: landlock=%d abi=%d audit=%d handled=0x%llx rules=%u carved=%u "
			"widened=%u seccomp=%d seccomp_rules=%u\n",
			rep.landlock, rep.landlock_abi, rep.landlock_audit,
			(unsigned long long)rep.handled, rep.rules, rep.carved, rep.widened,
			rep.seccomp, rep.seccomp_rules);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "fence-run: cannot run '%s': %s\n", argv[optind], strerror(errno));
	if (errno == EACCES)
		fprintf(stderr, "Hint: the program, its interpreter or a library it needs may lie "
				"where the policy forbids exec\n");
	return 127;
}
