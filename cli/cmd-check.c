/* trainguard check: load policies as the guard would and report every
 * error and warning, with file and line. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "tg-env.h"

/* Warns when POLICY allows what the secrets profile denies. */
static void warn_secrets(const struct tg_policy *p, const char *jid, struct tg_diag_count *d)
{
	struct tg_diag_count quiet = { 0 };
	struct tg_load_opts o = { .embedded = "secrets", .job_id = jid, .diag = tg_print_diag,
				  .diag_ud = &quiet };
	struct tg_policy *secrets = NULL;

	if (tg_policy_load(&o, &secrets) < 0)
		return;
	for (size_t i = 0; i < tg_policy_nrules(secrets); i++) {
		const struct tg_rule *sr = tg_policy_rule(secrets, i);
		for (size_t k = 0; k < sr->npaths; k++) {
			/* The literal part of the secret's pattern names a path it covers. */
			char path[PATH_MAX];
			size_t n = strcspn(sr->paths[k], "*?[{\\");
			const char *rest = sr->paths[k] + n;
			/* Only a path or a tree names one place to test. */
			if (n >= sizeof(path) || (*rest && strcmp(rest, "**") != 0))
				continue;
			memcpy(path, sr->paths[k], n);
			path[n] = '\0';
			while (n > 1 && path[n - 1] == '/')
				path[--n] = '\0';
			for (unsigned c = 0; c < TG_NCLASS; c++) {
				if (!(sr->deny & TG_BIT(c)))
					continue;
				struct tg_verdict v;
				tg_decide(p, path, n, TG_BIT(c), &v);
				if (v.allow && v.rule && strncmp(v.rule->id, "secrets.", 8) != 0) {
					fprintf(stderr,
						"%s:%d: rule \"%s\" allows %s of '%s', which the "
						"secrets profile denies (rule \"%s\") (warning)\n",
						v.rule->source, v.rule->line, v.rule->id,
						tg_class_name(c), path, sr->id);
					d->nwarnings++;
				}
			}
		}
	}
	tg_policy_free(secrets);
}

static int check(int argc, char **argv)
{
	char jid[256];
	int bad = 0;

	if (argc < 2) {
		tg_usage_error(&tg_cmd_check, "no policy given: trainguard check POLICY...");
		return TG_EXIT_USAGE;
	}
	tg_job_id(jid, sizeof(jid), NULL);
	for (int i = 1; i < argc; i++) {
		struct tg_diag_count d = { .warnings = true };
		struct tg_policy *p = tg_load(argv[i], jid, &d);
		if (!p) {
			fprintf(stderr, "%s: invalid (%d error%s)\n", argv[i], d.errors,
				d.errors == 1 ? "" : "s");
			bad = 1;
			continue;
		}
		unsigned open_classes = TG_ALL & ~tg_policy_defaults_named(p);
		if (open_classes) {
			char cls[64];
			fprintf(stderr, "%s: defaults: %s not set by the policy or its profiles: "
				"allowed where no rule names them (note)\n", argv[i],
				tg_classes_str(open_classes, cls, sizeof(cls)));
			d.nwarnings++;
		}
		warn_secrets(p, jid, &d);
		size_t npat = 0;
		for (size_t k = 0; k < tg_policy_nrules(p); k++)
			npat += tg_policy_rule(p, k)->npaths;
		size_t nr = tg_policy_nrules(p);
		printf("%s: ok (%zu rule%s, %zu pattern%s, %d warning%s)\n", argv[i], nr,
		       nr == 1 ? "" : "s", npat, npat == 1 ? "" : "s", d.nwarnings,
		       d.nwarnings == 1 ? "" : "s");
		tg_policy_free(p);
	}
	return bad ? TG_EXIT_INVALID : 0;
}

const struct tg_command tg_cmd_check = {
	.name = "check",
	.run = check,
	.usage_status = TG_EXIT_USAGE,
	.synopsis = "check POLICY...\n",
	.usage = "usage: trainguard check POLICY...\n"
		 "\n"
		 "Loads each policy as the guard would and prints every error and warning as\n"
		 "FILE:LINE: message. Exit status: 0 every policy is valid (warnings allowed),\n"
		 "1 one is invalid or unreadable, 2 bad usage. See trainguard(1).\n",
};
