/* trainguard explain: which rule decides one access, and which lost,
 * decided as the guard decides it at run time.
 *
 * The path is taken as a rule's pattern would be (a leading "~", ${VARS}
 * of the policy, ${ENV:NAME}), joined to the working directory, and then
 * resolved as the kernel resolves it: every symbolic link on the way is
 * followed and shown, and the last one too unless the class acts on the
 * link itself (delete: unlink, rmdir and rename remove or move the link).
 * The guard decides on that real path, and so does explain. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "tg-env.h"
#include "tg-path.h"

#define MAX_HOPS  40 /* the kernel's limit of links in one lookup */
#define MAX_SHOWN 8  /* links listed; a longer chain is counted */

struct resolved {
	char path[PATH_MAX]; /* the real path decided on */
	size_t len;
	char links[MAX_SHOWN][2][PATH_MAX]; /* link, and what it points to */
	int nlinks;
	bool folder_missing; /* decided as written below a folder that is not there */
	bool last_is_link;   /* not followed: the link itself was decided */
};

/* "/proc/<our pid>..." is "/proc/self..." to the guard; so here. */
/* Copies the path SRC into DST (PATH_MAX bytes), cut if longer. */
static void copy_path(char *dst, const char *src)
{
	size_t l = strnlen(src, PATH_MAX - 1);
	memcpy(dst, src, l);
	dst[l] = '\0';
}

static void proc_self(char *p)
{
	char pid[32];
	int pl = snprintf(pid, sizeof(pid), "/proc/%d", (int)getpid());

	if (strncmp(p, pid, pl) == 0 && (p[pl] == '/' || p[pl] == '\0')) {
		memmove(p + 10, p + pl, strlen(p + pl) + 1);
		memcpy(p, "/proc/self", 10);
	}
}

/* Resolves the absolute RAW as the kernel would (see the top of the file)
 * into R. Returns 0 or -errno (-ELOOP, -ENAMETOOLONG). */
static int resolve(const char *raw_in, bool follow_last, struct resolved *r)
{
	char raw[PATH_MAX], folder[PATH_MAX], real[PATH_MAX], target[PATH_MAX];
	int n = snprintf(raw, sizeof(raw), "%s", raw_in);

	if (n < 0 || (size_t)n >= sizeof(raw))
		return -ENAMETOOLONG;
	for (int hop = 0; hop <= MAX_HOPS; hop++) {
		/* The last name, unless the path ends in "/", "." or "..": then
		 * the whole path names a folder, always followed. */
		size_t len = strlen(raw);
		while (len > 1 && raw[len - 1] == '/')
			len--;
		size_t i = len;
		while (i > 0 && raw[i - 1] != '/')
			i--;
		const char *name = raw + i;
		size_t nl = len - i;
		bool named = nl > 0 && !(nl == 1 && name[0] == '.') &&
			     !(nl == 2 && name[0] == '.' && name[1] == '.');
		if (!named) {
			if (!realpath(raw, r->path))
				goto as_written;
			goto done;
		}
		snprintf(folder, sizeof(folder), "%.*s", (int)(i > 1 ? i - 1 : 1), raw);
		if (!realpath(folder, real))
			goto as_written;
		const char *sep = strcmp(real, "/") == 0 ? "" : "/";
		n = snprintf(r->path, sizeof(r->path), "%s%s%.*s", real, sep, (int)nl, name);
		if (n < 0 || (size_t)n >= sizeof(r->path))
			return -ENAMETOOLONG;
		ssize_t tl = readlink(r->path, target, sizeof(target) - 1);
		if (tl < 0)
			goto done; /* not a link, or not there yet */
		target[tl] = '\0';
		if (!follow_last) {
			r->last_is_link = true;
			goto done;
		}
		/* A magic link into a pipe or socket (/dev/stdin): no path. */
		if (target[0] != '/' && strncmp(real, "/proc/", 6) == 0)
			goto done;
		if (r->nlinks < MAX_SHOWN) {
			copy_path(r->links[r->nlinks][0], r->path);
			copy_path(r->links[r->nlinks][1], target);
		}
		r->nlinks++;
		if (target[0] == '/')
			n = snprintf(raw, sizeof(raw), "%s", target);
		else
			n = snprintf(raw, sizeof(raw), "%s%s%s", real, sep, target);
		if (n < 0 || (size_t)n >= sizeof(raw))
			return -ENAMETOOLONG;
	}
	return -ELOOP;
as_written:
	/* A folder on the way is not there: the call fails in the kernel; the
	 * guard decides the path as written. */
	r->folder_missing = true;
	n = tg_path_normalize(NULL, 0, raw, r->path, sizeof(r->path));
	if (n < 0)
		return n;
done:
	proc_self(r->path);
	r->len = strlen(r->path);
	return 0;
}

struct show {
	const char *typed, *real; /* the policy as given, and its real path */
	enum tg_class c;
	int shown;
	const struct tg_rule *winner;
	const char *winner_pattern;
};

static const char *rule_source(const struct show *x, const struct tg_rule *r, char *buf, size_t cap)
{
	tg_show_source(x->typed, x->real, r->source, buf, cap);
	return buf;
}

static void show_rule(const struct tg_rule *r, const char *pattern, bool decides, bool allow,
		      void *ud)
{
	struct show *x = ud;
	char src[PATH_MAX];

	if (decides) {
		x->winner = r;
		x->winner_pattern = pattern;
		printf("decided by: rule \"%s\" (%s:%d)\n", r->id,
		       rule_source(x, r, src, sizeof(src)), r->line);
		printf("  pattern:  %s\n", pattern);
		printf("  verdict:  %s %s", allow ? "allow" : "deny", tg_class_name(x->c));
		if (!allow)
			printf(" (errno %s, on_deny %s)", tg_errno_name(r->err),
			       tg_on_deny_name(r->on_deny));
		printf("\n");
		if (r->reason)
			printf("  reason:   %s\n", r->reason);
		return;
	}
	if (x->shown == 0)
		printf("also matching, and losing:\n");
	const char *why = "less specific";
	if (x->winner && strcmp(pattern, x->winner_pattern) == 0)
		why = allow ? "as specific, and deny wins ties" : "as specific; tie broken by id";
	printf("  rule \"%s\" (%s:%d) %s %s, pattern %s: %s\n", r->id,
	       rule_source(x, r, src, sizeof(src)), r->line, allow ? "allow" : "deny",
	       tg_class_name(x->c), pattern, why);
	x->shown++;
}

static int parse_class(const char *op, unsigned *ret)
{
	if (strcmp(op, "all") == 0) {
		*ret = TG_ALL;
		return 0;
	}
	for (unsigned k = 0; k < TG_NCLASS; k++) {
		if (strcmp(op, tg_class_name(k)) == 0) {
			*ret = TG_BIT(k);
			return 0;
		}
	}
	return -EINVAL;
}

static void print_path(const char *given, const char *expanded, const struct resolved *r)
{
	printf("path:       %s\n", given);
	if (strcmp(given, expanded) != 0)
		printf("expanded:   %s\n", expanded);
	for (int i = 0; i < r->nlinks && i < MAX_SHOWN; i++)
		printf("link:       %s -> %s\n", r->links[i][0], r->links[i][1]);
	if (r->nlinks > MAX_SHOWN)
		printf("link:       (%d more)\n", r->nlinks - MAX_SHOWN);
	printf("decided on: %s%s\n", r->path,
	       r->last_is_link     ? " (the link itself, not followed)"
	       : r->folder_missing ? " (a folder on the way is not there: decided as written)"
				   : "");
}

/* One class in full: the deciding rule and every loser. */
static bool explain_one(const struct tg_policy *p, struct show *x, const struct resolved *r)
{
	struct tg_verdict v;
	enum tg_class c = x->c;

	tg_decide(p, r->path, r->len, TG_BIT(c), &v);
	printf("access:     %s\n", tg_class_name(c));
	tg_explain(p, r->path, r->len, c, show_rule, x);
	if (!x->winner)
		printf("decided by: default:%s (no rule names %s for this path): %s\n",
		       tg_class_name(c), tg_class_name(c),
		       tg_policy_default(p, c) ? "allow" : "deny");
	printf("result:     %s", v.allow ? "ALLOWED" : "DENIED");
	if (!v.allow)
		printf(" with %s", tg_errno_name(v.err));
	printf("\n");
	return v.allow;
}

/* One line for class C of --op all. */
static bool explain_line(const struct tg_policy *p, const struct show *x, enum tg_class c,
			 const struct resolved *r, const struct resolved *link)
{
	struct tg_verdict v;
	char verdict[32], src[PATH_MAX];

	tg_decide(p, r->path, r->len, TG_BIT(c), &v);
	snprintf(verdict, sizeof(verdict), "%s%s%s", v.allow ? "allowed" : "DENIED",
		 v.allow ? "" : " ", v.allow ? "" : tg_errno_name(v.err));
	printf("%-7s %-15s ", tg_class_name(c), verdict);
	if (v.rule)
		printf("rule \"%s\" (%s:%d), pattern %s", v.rule->id,
		       rule_source(x, v.rule, src, sizeof(src)), v.rule->line, v.pattern);
	else
		printf("default:%s", tg_class_name(c));
	if (link)
		printf("; on the link '%s' itself", link->path);
	printf("\n");
	return v.allow;
}

static int explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' }, { "op", required_argument, NULL, 'o' },
		{ "var", required_argument, NULL, 'v' },    { "env", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	const char *policy = NULL, *op = NULL;
	struct tg_overrides ov = { 0 };
	char jid[256], cwd[PATH_MAX], real[PATH_MAX], err[512], *raw = NULL;
	unsigned classes = 0;
	int c, status = TG_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:o:v:e:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy = optarg;
			break;
		case 'o':
			if (op) {
				tg_usage_error(&tg_cmd_explain,
					       "--op given twice ('%s', then '%s'): give one "
					       "class, or --op all for every class",
					       op, optarg);
				goto out;
			}
			op = optarg;
			break;
		case 'v':
		case 'e':
			if (tg_override_add(&ov, &tg_cmd_explain, optarg, c == 'e') < 0)
				goto out;
			break;
		case 'h':
			fputs(tg_cmd_explain.usage, stdout);
			status = 0;
			goto out;
		default:
			tg_usage_error(&tg_cmd_explain, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (!op || optind != argc - 1) {
		tg_usage_error(&tg_cmd_explain, "%s",
			       !op              ? "no --op CLASS given"
			       : optind == argc ? "no PATH given"
						: "one PATH at a time");
		goto out;
	}
	if (parse_class(op, &classes) < 0) {
		tg_usage_error(&tg_cmd_explain,
			       "--op '%s' is not one of read, write, create, delete, exec, chmod, "
			       "list, all",
			       op);
		goto out;
	}
	const char *given = argv[optind];
	if (!*given) {
		tg_usage_error(&tg_cmd_explain, "the PATH is empty");
		goto out;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "trainguard: explain: cannot read the working directory: %s\n",
			strerror(errno));
		goto out;
	}
	tg_job_id(jid, sizeof(jid), ov.job_id);
	struct tg_diag_count d = { 0 };
	struct tg_load_opts lo = tg_load_opts_for(policy, jid, &d);
	struct tg_policy *p = NULL;
	char *frozen = NULL;
	if (tg_load_overridden(&lo, &ov, &p, &frozen) < 0)
		goto out;

	/* The path as a pattern would be expanded, with the values the policy
	 * got; a variable the policy itself never used comes from here. */
	char *expanded = NULL;
	lo.frozen_vars = frozen ? frozen : lo.frozen_vars;
	int r = tg_policy_expand(&lo, given, &expanded, err, sizeof(err));
	if (r < 0 && lo.frozen_vars && lo.frozen_vars != getenv(TG_ENV_VARS)) {
		lo.frozen_vars = NULL;
		r = tg_policy_expand(&lo, given, &expanded, err, sizeof(err));
	}
	free(frozen);
	if (r < 0) {
		tg_usage_error(&tg_cmd_explain, "cannot expand '%s': %s", given,
			       r == -ENOMEM ? "out of memory" : err);
		tg_policy_free(p);
		goto out;
	}
	if (expanded[0] == '/')
		r = asprintf(&raw, "%s", expanded);
	else
		r = asprintf(&raw, "%s/%s", cwd, expanded);
	static struct resolved follow, nofollow;
	if (r >= 0)
		r = resolve(raw, true, &follow);
	if (r >= 0 && (classes & TG_BIT(TG_DELETE)))
		r = resolve(raw, false, &nofollow);
	if (r < 0) {
		tg_usage_error(&tg_cmd_explain, "cannot resolve '%s': %s", given, strerror(-r));
		free(expanded);
		tg_policy_free(p);
		goto out;
	}

	struct show x = { .typed = policy, .real = policy ? realpath(policy, real) : NULL };
	bool allowed = true;
	printf("policy:     %s\n", policy ? policy : tg_policy_source(p));
	if (classes == TG_ALL) {
		print_path(given, expanded, &follow);
		for (unsigned k = 0; k < TG_NCLASS; k++) {
			bool on_link = k == TG_DELETE && strcmp(nofollow.path, follow.path) != 0;
			allowed &= explain_line(p, &x, k, on_link ? &nofollow : &follow,
						on_link ? &nofollow : NULL);
		}
	} else {
		x.c = __builtin_ctz(classes);
		const struct resolved *res = x.c == TG_DELETE ? &nofollow : &follow;
		print_path(given, expanded, res);
		allowed = explain_one(p, &x, res);
	}
	free(expanded);
	tg_policy_free(p);
	status = allowed ? 0 : TG_EXIT_INVALID;
out:
	free(raw);
	tg_overrides_free(&ov);
	return status;
}

const struct tg_command tg_cmd_explain = {
	.name = "explain",
	.run = explain,
	.synopsis = "explain [--policy FILE] [--var NAME=VALUE] [--env NAME=VALUE]\n"
		    "    --op CLASS|all PATH\n",
	.usage = "usage: trainguard explain [--policy FILE] [--var NAME=VALUE]\n"
		 "                          [--env NAME=VALUE] --op CLASS|all PATH\n"
		 "\n"
		 "Shows how the policy decides an access of CLASS to PATH, as the guard\n"
		 "decides it at run time: PATH may start with '~' and hold ${VARS} (the\n"
		 "policy's vars, ${ENV:NAME}); it is joined to the working directory and\n"
		 "its symbolic links are followed (each is shown), the last one too except\n"
		 "for delete, which acts on the link itself.\n"
		 "\n"
		 "  --policy FILE   the policy (default: the embedded ml-default)\n"
		 "  --op CLASS      read, write, create, delete, exec, chmod or list;\n"
		 "                  'all' prints one line per class\n"
		 "  --var NAME=VALUE, --env NAME=VALUE\n"
		 "                  variable values, as for 'trainguard check'\n"
		 "\n"
		 "Exit status: 0 allowed (every class with --op all), 1 denied, 2 bad usage\n"
		 "or a policy error. See trainguard(1).\n",
};
