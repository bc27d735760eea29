/* trainguard explain: which rule decides one access, and which lost. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "tg-env.h"
#include "tg-path.h"

struct explain_ctx {
	enum tg_class c;
	int shown;
	const struct tg_rule *winner;
	const char *winner_pattern;
};

static void show_rule(const struct tg_rule *r, const char *pattern, bool decides, bool allow,
		      void *ud)
{
	struct explain_ctx *x = ud;

	if (decides) {
		x->winner = r;
		x->winner_pattern = pattern;
		printf("decided by: rule \"%s\" (%s:%d)\n", r->id, r->source, r->line);
		printf("  pattern:  %s\n", pattern);
		printf("  verdict:  %s %s", allow ? "allow" : "deny", tg_class_name(x->c));
		if (!allow)
			printf(" (errno %s, on_deny %s)", tg_errno_name(r->err),
			       tg_on_deny_name(r->on_deny));
		printf("\n");
		if (r->reason)
			printf("  reason:   %s\n", r->reason);
	} else {
		if (x->shown == 0)
			printf("also matching, and losing:\n");
		const char *why = "less specific";
		if (x->winner && strcmp(pattern, x->winner_pattern) == 0)
			why = allow ? "as specific, and deny wins ties" : "as specific; tie broken by id";
		printf("  rule \"%s\" (%s:%d) %s %s, pattern %s: %s\n", r->id, r->source, r->line,
		       allow ? "allow" : "deny", tg_class_name(x->c), pattern, why);
		x->shown++;
	}
}

static int explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "op", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *policy = NULL, *op = NULL;
	char jid[256], cwd[PATH_MAX], path[PATH_MAX];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy = optarg;
			break;
		case 'o':
			op = optarg;
			break;
		case 'h':
			fputs(tg_cmd_explain.usage, stdout);
			return 0;
		default:
			tg_usage_error(&tg_cmd_explain, "unknown option '%s'", argv[optind - 1]);
			return TG_EXIT_USAGE;
		}
	}
	if (!op || optind != argc - 1) {
		tg_usage_error(&tg_cmd_explain, "trainguard explain [--policy FILE] --op CLASS PATH");
		return TG_EXIT_USAGE;
	}
	int cls = -1;
	for (unsigned k = 0; k < TG_NCLASS; k++)
		if (strcmp(op, tg_class_name(k)) == 0)
			cls = k;
	if (cls < 0) {
		tg_usage_error(&tg_cmd_explain, "--op '%s' is not one of read, write, create, delete, exec, "
			    "chmod, list", op);
		return TG_EXIT_USAGE;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return TG_EXIT_USAGE;
	int n = tg_path_normalize(cwd, strlen(cwd), argv[optind], path, sizeof(path));
	if (n < 0) {
		tg_usage_error(&tg_cmd_explain, "cannot normalize '%s': %s", argv[optind], strerror(-n));
		return TG_EXIT_USAGE;
	}
	tg_job_id(jid, sizeof(jid), NULL);
	struct tg_diag_count d = { 0 };
	struct tg_policy *p = tg_load(policy, jid, &d);
	if (!p)
		return TG_EXIT_USAGE;

	struct tg_verdict v;
	tg_decide(p, path, n, TG_BIT(cls), &v);
	printf("policy:     %s\n", tg_policy_source(p));
	printf("access:     %s '%s'\n", op, path);
	struct explain_ctx x = { .c = cls };
	tg_explain(p, path, n, cls, show_rule, &x);
	if (!x.winner)
		printf("decided by: default:%s (no rule names %s for this path): %s\n", op, op,
		       tg_policy_default(p, cls) ? "allow" : "deny");
	printf("result:     %s", v.allow ? "ALLOWED" : "DENIED");
	if (!v.allow)
		printf(" with %s", tg_errno_name(v.err));
	printf("\n");
	tg_policy_free(p);
	return v.allow ? 0 : TG_EXIT_INVALID;
}

const struct tg_command tg_cmd_explain = {
	.name = "explain",
	.run = explain,
	.usage_status = TG_EXIT_USAGE,
	.synopsis = "explain [--policy FILE] --op CLASS PATH\n",
	.usage = "usage: trainguard explain [--policy FILE] --op CLASS PATH\n"
		 "\n"
		 "Shows which rule decides an access of CLASS to PATH, and which lost.\n"
		 "Exit status: 0 allowed, 1 denied, 2 bad usage or a policy error.\n"
		 "See trainguard(1).\n",
};
