/* trainguard check: load policies as the guard would and report every
 * error and warning, with file and line, for people or (--json) for CI.
 *
 * Beyond the loader's own messages, check warns where an allow reopens a
 * secret, or where an allow and a deny of different specificity overrule
 * each other (policy/lint.c finds them). Messages name files and patterns
 * as the user wrote them. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "tg-env.h"

struct check {
	bool json;
	struct tg_overrides ov;
	const char *jid;
	/* The policy being checked: as typed, and as the loader records it. */
	const char *typed, *real;
	/* Its diagnostics. */
	struct tg_diag_count d;
	json_t *diags; /* --json */
};

/* Splits a loader message "FILE:LINE: text" (FILE may hold colons:
 * "profile:secrets:56: ..."); *LINE is 0 and *TEXT the whole message when
 * it has no line ("train.cfg: ..." gives FILE and no line). */
static void split_message(const char *msg, char *file, size_t cap, int *line, const char **text)
{
	*line = 0;
	*text = msg;
	file[0] = '\0';
	for (const char *c = strchr(msg, ':'); c; c = strchr(c + 1, ':')) {
		const char *d = c + 1;
		int n = 0;
		while (*d >= '0' && *d <= '9')
			n = n * 10 + (*d++ - '0');
		if (d > c + 1 && d[0] == ':' && d[1] == ' ') {
			snprintf(file, cap, "%.*s", (int)(c - msg), msg);
			*line = n;
			*text = d + 2;
			return;
		}
	}
	const char *c = strstr(msg, ": ");
	if (c) {
		snprintf(file, cap, "%.*s", (int)(c - msg), msg);
		*text = c + 2;
	}
}

static const char *level_name(enum tg_diag_level lvl)
{
	return lvl == TG_DIAG_ERROR ? "error" : lvl == TG_DIAG_WARNING ? "warning" : "note";
}

/* One diagnostic, printed or added to the JSON list with EXTRA (stolen). */
static void emit(struct check *k, enum tg_diag_level lvl, const char *msg, json_t *extra)
{
	if (lvl == TG_DIAG_ERROR)
		k->d.errors++;
	else
		k->d.nwarnings++;
	if (!k->json) {
		if (lvl == TG_DIAG_ERROR)
			fprintf(stderr, "%s\n", msg);
		else
			fprintf(stderr, "%s (%s)\n", msg, level_name(lvl));
		json_decref(extra);
		return;
	}
	char file[PATH_MAX];
	const char *text;
	int line;
	split_message(msg, file, sizeof(file), &line, &text);
	json_t *o = extra ? extra : json_object();
	json_object_set_new(o, "level", json_string(level_name(lvl)));
	json_object_set_new(o, "file", file[0] ? json_string(file) : json_null());
	json_object_set_new(o, "line", line ? json_integer(line) : json_null());
	json_object_set_new(o, "message", json_string(text));
	json_array_append_new(k->diags, o);
}

static void on_diag(enum tg_diag_level lvl, const char *msg, void *ud)
{
	struct check *k = ud;
	char a[8192], b[8192];

	if (k->d.rename_to) {
		msg = tg_rename_in(msg, k->d.rename_from_real, k->d.rename_to, a, sizeof(a));
		msg = tg_rename_in(msg, k->d.rename_from, k->d.rename_to, msg == a ? b : a,
				   sizeof(a));
	}
	emit(k, lvl, msg, NULL);
}

static void show_source(const struct check *k, const char *source, char *out, size_t cap)
{
	tg_show_source(k->typed, k->real, source, out, cap);
	if (k->d.rename_to && k->d.rename_from_real && strcmp(source, k->d.rename_from_real) == 0)
		snprintf(out, cap, "%s", k->d.rename_to);
}

/* The pattern as written, or as expanded when its source is gone. */
static char *typed(const struct tg_rule *r, size_t i, const char *expanded)
{
	char *t = tg_rule_typed_pattern(r, i);
	return t ? t : strdup(expanded);
}

static json_t *rule_json(const struct check *k, const struct tg_rule *r, const char *pattern,
			 const char *typed_pattern)
{
	char src[PATH_MAX];

	show_source(k, r->source, src, sizeof(src));
	return json_pack("{s:s, s:s, s:i, s:s, s:s}", "id", r->id, "file", src, "line", r->line,
			 "pattern", typed_pattern, "expanded", pattern);
}

static void on_lint(const struct tg_lint *l, void *ud)
{
	static const char *const codes[] = { "secret-reopened", "allow-shadows-deny",
					     "allow-shadowed" };
	struct check *k = ud;
	char asrc[PATH_MAX], dsrc[PATH_MAX], cls[64], at[PATH_MAX + 16] = "";
	char *msg = NULL;
	char *ap = typed(l->allow, l->allow_index, l->allow_pattern);
	char *dp = typed(l->deny, l->deny_index, l->deny_pattern);

	if (!ap || !dp)
		goto out;
	show_source(k, l->allow->source, asrc, sizeof(asrc));
	show_source(k, l->deny->source, dsrc, sizeof(dsrc));
	tg_classes_str(l->classes, cls, sizeof(cls));
	if (strcmp(l->path, l->allow_pattern) != 0)
		snprintf(at, sizeof(at), " (at '%s')", l->path);
	int n = -1;
	switch (l->kind) {
	case TG_LINT_SECRET:
		n = asprintf(&msg,
			     "%s:%d: rule \"%s\" allows %s of '%s'%s, which the secrets profile "
			     "denies (rule \"%s\", '%s'): the job can read or change that secret; "
			     "narrow the rule, or drop it",
			     asrc, l->allow->line, l->allow->id, cls, ap, at, l->deny->id, dp);
		break;
	case TG_LINT_SHADOWS:
		n = asprintf(&msg,
			     "%s:%d: rule \"%s\" allows %s of '%s'%s, which rule \"%s\" (%s:%d) "
			     "denies for '%s': the allow is more specific and wins there",
			     asrc, l->allow->line, l->allow->id, cls, ap, at, l->deny->id, dsrc,
			     l->deny->line, dp);
		break;
	case TG_LINT_SHADOWED:
		if (strcmp(l->path, l->deny_pattern) != 0)
			snprintf(at, sizeof(at), " (at '%s')", l->path);
		else
			at[0] = '\0';
		n = asprintf(&msg,
			     "%s:%d: rule \"%s\" allows %s of '%s', but the more specific rule "
			     "\"%s\" (%s:%d) denies it for '%s'%s: the allow does not apply there",
			     asrc, l->allow->line, l->allow->id, cls, ap, l->deny->id, dsrc,
			     l->deny->line, dp, at);
		break;
	}
	if (n < 0)
		goto out;
	json_t *extra = NULL;
	if (k->json) {
		json_t *classes = json_array();
		for (unsigned c = 0; c < TG_NCLASS; c++)
			if (l->classes & TG_BIT(c))
				json_array_append_new(classes, json_string(tg_class_name(c)));
		extra = json_pack("{s:s, s:o, s:o, s:o, s:s}", "code", codes[l->kind], "classes",
				  classes, "allow", rule_json(k, l->allow, l->allow_pattern, ap),
				  "deny", rule_json(k, l->deny, l->deny_pattern, dp), "path",
				  l->path);
	}
	emit(k, TG_DIAG_WARNING, msg, extra);
out:
	free(msg);
	free(ap);
	free(dp);
}

static bool names_secrets(const struct tg_policy *p)
{
	for (size_t i = 0; i < tg_policy_nrules(p); i++)
		if (strncmp(tg_policy_rule(p, i)->id, "secrets.", 8) == 0)
			return true;
	return false;
}

/* The secrets profile alone, expanded with the same values as the policy;
 * NULL when it does not load (it always does, unless a --var breaks it). */
static struct tg_policy *load_secrets(struct check *k)
{
	struct tg_load_opts o = tg_load_opts_for(NULL, k->jid, NULL);
	struct tg_policy *s = NULL;

	o.embedded = "secrets";
	o.diag = NULL;
	o.errors_only = true;
	return tg_load_overridden(&o, &k->ov, &s, NULL) < 0 ? NULL : s;
}

static int check_one(struct check *k, const char *typed_name, const char *file)
{
	char real[PATH_MAX];
	struct tg_policy *p = NULL;

	k->typed = typed_name;
	k->real = realpath(file, real) ? real : NULL;
	k->d.errors = k->d.nwarnings = 0;
	if (k->json)
		k->diags = json_array();

	struct tg_load_opts o = tg_load_opts_for(file, k->jid, NULL);
	o.diag = on_diag;
	o.diag_ud = k;
	int r = tg_load_overridden(&o, &k->ov, &p, NULL);
	size_t nr = 0, npat = 0;
	if (r == 0) {
		unsigned open_classes = TG_ALL & ~tg_policy_defaults_named(p);
		if (open_classes) {
			char cls[64], *msg = NULL;
			tg_classes_str(open_classes, cls, sizeof(cls));
			if (asprintf(&msg,
				     "%s: defaults: %s not set by the policy or its profiles: "
				     "allowed where no rule names them",
				     typed_name, cls) >= 0)
				emit(k, TG_DIAG_NOTE, msg,
				     k->json ? json_pack("{s:s}", "code", "defaults-open") : NULL);
			free(msg);
		}
		struct tg_policy *secrets = names_secrets(p) ? NULL : load_secrets(k);
		if (tg_policy_lint(p, secrets, on_lint, k) < 0)
			fprintf(stderr, "trainguard: check: out of memory\n");
		tg_policy_free(secrets);
		nr = tg_policy_nrules(p);
		for (size_t i = 0; i < nr; i++)
			npat += tg_policy_rule(p, i)->npaths;
	}
	if (k->json) {
		json_t *res = json_pack("{s:s, s:b, s:i, s:i, s:o}", "file", typed_name, "valid",
					r == 0, "errors", k->d.errors, "warnings", k->d.nwarnings,
					"diagnostics", k->diags);
		if (r == 0) {
			json_object_set_new(res, "rules", json_integer(nr));
			json_object_set_new(res, "patterns", json_integer(npat));
		}
		k->diags = res;
	} else if (r == 0) {
		printf("%s: ok (%zu rule%s, %zu pattern%s, %d warning%s)\n", typed_name, nr,
		       nr == 1 ? "" : "s", npat, npat == 1 ? "" : "s", k->d.nwarnings,
		       k->d.nwarnings == 1 ? "" : "s");
	} else {
		fprintf(stderr, "%s: invalid (%d error%s)\n", typed_name, k->d.errors,
			k->d.errors == 1 ? "" : "s");
	}
	tg_policy_free(p);
	return r == 0 ? 0 : 1;
}

/* Copies standard input into a file of its own folder (the loader reads
 * files), in DIR (a mkdtemp template) and FILE. */
static int stdin_to_file(char *dir, size_t dcap, char *file, size_t fcap)
{
	const char *tmp = getenv("TMPDIR");
	char buf[65536];
	size_t n;

	snprintf(dir, dcap, "%s/trainguard-check-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -errno;
	snprintf(file, fcap, "%s/stdin.cfg", dir);
	FILE *out = fopen(file, "wxe");
	if (!out) {
		int e = -errno;
		rmdir(dir);
		return e;
	}
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		fwrite(buf, 1, n, out);
	bool bad = ferror(stdin) || fclose(out) != 0;
	if (bad) {
		unlink(file);
		rmdir(dir);
		return -EIO;
	}
	return 0;
}

static int check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "var", required_argument, NULL, 'v' },
		{ "env", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct check k = { 0 };
	char jid[256];
	int c, bad = 0, nstdin = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hv:e:", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			k.json = true;
			break;
		case 'v':
		case 'e':
			if (tg_override_add(&k.ov, &tg_cmd_check, optarg, c == 'e') < 0)
				goto usage;
			break;
		case 'h':
			fputs(tg_cmd_check.usage, stdout);
			tg_overrides_free(&k.ov);
			return 0;
		default:
			tg_usage_error(&tg_cmd_check, "unknown option '%s'", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind >= argc) {
		tg_usage_error(&tg_cmd_check,
			       "no policy given: trainguard check [OPTIONS] POLICY...");
		goto usage;
	}
	for (int i = optind; i < argc; i++)
		nstdin += strcmp(argv[i], "-") == 0;
	if (nstdin > 1) {
		tg_usage_error(&tg_cmd_check, "'-' (standard input) given %d times", nstdin);
		goto usage;
	}
	tg_job_id(jid, sizeof(jid), k.ov.job_id);
	k.jid = jid;
	json_t *all = k.json ? json_array() : NULL;
	for (int i = optind; i < argc; i++) {
		char dir[PATH_MAX], file[PATH_MAX + 16], real[PATH_MAX];
		const char *path = argv[i];
		k.d.rename_to = NULL;
		if (strcmp(argv[i], "-") == 0) {
			int r = stdin_to_file(dir, sizeof(dir), file, sizeof(file));
			if (r < 0) {
				fprintf(stderr,
					"trainguard: check: cannot keep the policy read from "
					"standard input in '%s': %s; set TMPDIR to a writable "
					"folder\n",
					dir, strerror(-r));
				bad = 1;
				continue;
			}
			path = file;
			k.d.rename_from = file;
			k.d.rename_from_real = realpath(file, real) ? real : file;
			k.d.rename_to = "<stdin>";
		}
		bad |= check_one(&k, k.d.rename_to ? k.d.rename_to : argv[i], path);
		if (k.json)
			json_array_append_new(all, k.diags);
		if (k.d.rename_to) {
			unlink(file);
			rmdir(dir);
		}
	}
	if (k.json) {
		json_t *doc = json_pack("{s:b, s:o}", "valid", !bad, "policies", all);
		json_dumpf(doc, stdout, JSON_SORT_KEYS);
		putchar('\n');
		json_decref(doc);
	}
	tg_overrides_free(&k.ov);
	return bad ? TG_EXIT_INVALID : 0;
usage:
	tg_overrides_free(&k.ov);
	return TG_EXIT_USAGE;
}

const struct tg_command tg_cmd_check = {
	.name = "check",
	.run = check,
	.synopsis = "check [--json] [--var NAME=VALUE] [--env NAME=VALUE] POLICY...|-\n",
	.usage = "usage: trainguard check [--json] [--var NAME=VALUE] [--env NAME=VALUE]\n"
		 "                        POLICY...|-\n"
		 "\n"
		 "Loads each policy as the guard would and prints every error and warning as\n"
		 "FILE:LINE: message, then 'FILE: ok (N rules, M patterns, K warnings)'.\n"
		 "Warns, beyond errors, for an allow that reopens what the secrets profile\n"
		 "denies, and for an allow and a deny of different specificity that overrule\n"
		 "each other on the same path.\n"
		 "\n"
		 "  -               read one policy from standard input (named <stdin>)\n"
		 "  --json          print one JSON document on stdout instead of messages\n"
		 "  --var NAME=VALUE\n"
		 "                  the value of a built-in variable (HOME, USER, UID, PWD,\n"
		 "                  TMPDIR, JOB_ID) or of ENV:NAME, instead of this machine's\n"
		 "  --env NAME=VALUE\n"
		 "                  the same as --var ENV:NAME=VALUE\n"
		 "\n"
		 "Exit status: 0 every policy is valid (warnings allowed), 1 one is invalid\n"
		 "or unreadable, 2 bad usage. See trainguard(1).\n",
};
