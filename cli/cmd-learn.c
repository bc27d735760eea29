/* trainguard learn: a draft policy from what a job did, and the rules of a
 * policy that a job's logs show to be unused or broader than needed.
 *
 * Drafting decides every (path, class) of the logs twice: with the
 * embedded secrets profile alone, whose denials become commented review
 * items and never rules, and with the policy the draft starts from (the
 * --base policy, or a skeleton: the base and secrets profiles, every
 * default denied, exec limited to the programs that ran). What that
 * policy denies is generalized (learn-draft.c) into rules. The draft is
 * then loaded and checked with the library before it is written: every
 * access must be allowed, every secret still denied, and no rule may
 * reopen a secret (a folder that would is kept exact). */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "learn.h"
#include "tg-env.h"

#define DEFAULT_SIBLINGS 4

/* ---- the job's variables ---- */

/* HOME read back from a record of a shipped rule written "~/...": its
 * expanded pattern ends with the part after "~". */
static char *infer_home(const struct learn_log *l)
{
	static const char *const profiles[] = { "secrets", "python", "pytorch", "ml-default" };
	char *home = NULL;

	for (size_t pi = 0; pi < 4 && !home; pi++) {
		struct tg_load_opts o = { .embedded = profiles[pi], .job_id = "x" };
		struct tg_policy *p = NULL;
		if (tg_policy_load(&o, &p) < 0)
			continue;
		for (size_t i = 0; i < l->nrule_patterns && !home; i++) {
			for (size_t r = 0; r < tg_policy_nrules(p) && !home; r++) {
				const struct tg_rule *rule = tg_policy_rule(p, r);
				if (strcmp(rule->id, l->rule_patterns[2 * i]) != 0)
					continue;
				for (size_t k = 0; k < rule->npaths && !home; k++) {
					char *typed = tg_rule_typed_pattern(rule, k);
					const char *pat = l->rule_patterns[2 * i + 1];
					if (typed && typed[0] == '~' && typed[1] == '/' &&
					    !strchr(typed, '$')) {
						size_t sl = strlen(typed + 1), pl = strlen(pat);
						if (pl > sl &&
						    strcmp(pat + pl - sl, typed + 1) == 0)
							home = strndup(pat, pl - sl);
					}
					free(typed);
				}
			}
		}
		tg_policy_free(p);
	}
	return home;
}

static int add_override(struct learn *x, const char *name, const char *value)
{
	char *arg;

	if (!value || x->nov_args == 8)
		return 0;
	if (asprintf(&arg, "%s=%s", name, value) < 0)
		return -ENOMEM;
	x->ov_args[x->nov_args++] = arg;
	return tg_override_add(&x->ov, &tg_cmd_learn, arg, false);
}

static void say_var(const char *name, const char *value, const char *from)
{
	if (value)
		fprintf(stderr, "trainguard: learn: ${%s} = '%s' (%s)\n", name, value, from);
	else
		fprintf(stderr, "trainguard: learn: ${%s} unknown (%s): not substituted\n", name,
			from);
}

static int resolve_vars(struct learn *x)
{
	struct learn_vars *v = &x->vars;
	const char *from;

	v->job_id = x->job_opt ? x->job_opt : x->log.several_jobs ? NULL : x->log.job_id;
	say_var("JOB_ID", v->job_id,
		x->job_opt            ? "--job-id"
		: x->log.several_jobs ? "the logs hold several jobs; give --job-id"
				      : "metadata.correlation_uid of the records");
	v->pwd = x->pwd_opt ? x->pwd_opt : x->log.pwd;
	say_var("PWD", v->pwd,
		x->pwd_opt ? "--pwd" : "the working directory of the job's first process");
	if (x->home_opt) {
		v->home = x->home_opt;
		from = "--home";
	} else if ((x->home_inferred = infer_home(&x->log))) {
		v->home = x->home_inferred;
		from = "a record of a rule written with '~/'";
	} else {
		v->home = getenv("HOME");
		from = "the environment of this command: the records do not carry it";
	}
	say_var("HOME", v->home, from);
	if (x->tmpdir_opt) {
		v->tmpdir = x->tmpdir_opt;
		from = "--tmpdir";
	} else {
		v->tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		from = "TMPDIR of this command, or /tmp: the records do not carry it";
	}
	say_var("TMPDIR", v->tmpdir, from);
	if (add_override(x, "HOME", v->home) < 0 || add_override(x, "PWD", v->pwd) < 0 ||
	    add_override(x, "TMPDIR", v->tmpdir) < 0 || add_override(x, "JOB_ID", v->job_id) < 0)
		return -ENOMEM;
	return 0;
}

/* Loads FILE (NULL: the embedded profile EMBEDDED) with the job's values. */
struct tg_policy *tg_learn_load(struct learn *x, const char *file, const char *embedded,
				bool quiet_warnings)
{
	struct tg_diag_count d = { .warnings = !quiet_warnings };
	char jid[256];
	tg_job_id(jid, sizeof(jid), x->vars.job_id);
	struct tg_load_opts o = tg_load_opts_for(file, jid, &d);
	struct tg_policy *p = NULL;

	o.frozen_vars = NULL;
	o.embedded = embedded;
	if (tg_load_overridden(&o, &x->ov, &p, NULL) < 0)
		return NULL;
	return p;
}

/* ---- the starting policy ---- */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fputs(text, f);
	int r = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

/* A temporary .cfg in DIR (or TMPDIR) holding TEXT; its path in *RET. */
static int temp_policy(const char *dir, const char *text, char **ret)
{
	const char *dirs[2] = { dir,
				getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp" };
	for (int i = 0; i < 2; i++) {
		char *path;
		if (!dirs[i] || asprintf(&path, "%s/.trainguard-learn-XXXXXX.cfg", dirs[i]) < 0)
			continue;
		int fd = mkostemps(path, 4, O_CLOEXEC);
		if (fd < 0) {
			free(path);
			continue;
		}
		close(fd);
		if (write_file(path, text) == 0) {
			*ret = path;
			return 0;
		}
		unlink(path);
		free(path);
	}
	return -EIO;
}

static char *exec_limit_rule(void)
{
	struct tg_load_opts o = { .embedded = "base", .job_id = "x" };
	struct tg_policy *p = NULL;
	char *list = strdup(""), *out = NULL;

	if (!list || tg_policy_load(&o, &p) < 0) {
		free(list);
		return NULL;
	}
	for (size_t r = 0; r < tg_policy_nrules(p) && list; r++) {
		const struct tg_rule *rule = tg_policy_rule(p, r);
		if (!(rule->allow & TG_BIT(TG_EXEC)))
			continue;
		for (size_t k = 0; k < rule->npaths && list; k++) {
			char *typed = tg_rule_typed_pattern(rule, k), *q, *next = NULL;
			q = tg_learn_cfg_quote(typed ? typed : rule->paths[k]);
			if (q && asprintf(&next, "%s%s\"%s\"", list, *list ? ", " : "", q) < 0)
				next = NULL;
			free(q);
			free(typed);
			free(list);
			list = next;
		}
	}
	tg_policy_free(p);
	if (list && *list &&
	    asprintf(&out,
		     "  # Exec only what ran: these are the patterns of the base profile's\n"
		     "  # exec grant; a deny of the same specificity wins the tie, and each\n"
		     "  # program below is allowed by its exact path, which is more specific.\n"
		     "  { id = \"learned.exec-only-what-ran\";\n"
		     "    path = [%s];\n"
		     "    deny = [\"exec\"];\n"
		     "    reason = \"only the programs the job ran when it was learned may run\"; }",
		     list) < 0)
		out = NULL;
	free(list);
	return out;
}

/* ---- deciding the accesses ---- */

static void decide_all(struct learn *x, const struct tg_policy *start,
		       const struct tg_policy *secrets)
{
	for (size_t i = 0; i < x->log.n; i++) {
		struct learn_path *p = x->log.paths[i];
		size_t len = strlen(p->path);
		p->need = p->secret = 0;
		for (unsigned k = 0; k < TG_NCLASS; k++) {
			if (!(p->used & TG_BIT(k)))
				continue;
			struct tg_verdict v;
			tg_decide(secrets, p->path, len, TG_BIT(k), &v);
			if (!v.allow && v.rule) {
				p->secret |= TG_BIT(k);
				p->secret_rule[k] = v.rule->id;
				continue;
			}
			tg_decide(start, p->path, len, TG_BIT(k), &v);
			if (!v.allow)
				p->need |= TG_BIT(k);
		}
		/* The mode of a file created here, when the records do not say:
		 * the file as it is now, if it is still there. */
		if (!x->no_disk && p->created && p->mode < 0) {
			struct stat st;
			if (lstat(p->path, &st) == 0 && !S_ISLNK(st.st_mode)) {
				int m = st.st_mode & 0777;
				if (S_ISDIR(st.st_mode))
					m = (m & 0666) | ((m & 0111) << 2);
				p->mode = m;
				p->mode_unknown = false;
			}
		}
	}
}

/* ---- checking the draft ---- */

struct lint_ctx {
	struct learn *x;
	bool added;
	size_t unfixable;
};

static void on_lint(const struct tg_lint *l, void *ud)
{
	struct lint_ctx *c = ud;

	if (l->kind != TG_LINT_SECRET || strncmp(l->allow->id, "learned.", 8) != 0)
		return;
	const char *pat = l->allow_pattern;
	size_t len = strlen(pat);
	if (len > 3 && strcmp(pat + len - 3, "/**") == 0)
		len -= 3;
	else if (len > 2 && strcmp(pat + len - 2, "/*") == 0)
		len -= 2;
	else {
		c->unfixable++;
		return;
	}
	for (size_t i = 0; i < c->x->nkeep; i++)
		if (strlen(c->x->keep[i]) == len && strncmp(c->x->keep[i], pat, len) == 0)
			return;
	if (c->x->nkeep < TG_LEARN_MAX_KEEP && (c->x->keep[c->x->nkeep] = strndup(pat, len))) {
		c->x->nkeep++;
		c->added = true;
	}
}

/* One instance of the glob text S (N bytes) into OUT: a star or a
 * question mark is "x", a set its first member, an alternation its first
 * branch. */
static void instance(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 2 < cap; i++) {
		if (s[i] == '*' || s[i] == '?') {
			out[o++] = 'x';
		} else if (s[i] == '[') {
			/* A negated set: "x", which no secrets pattern excludes. */
			bool neg = i + 1 < n && s[i + 1] == '!';
			out[o++] = neg || i + 1 >= n ? 'x' : s[i + 1];
			while (i < n && s[i] != ']')
				i++;
		} else if (s[i] == '{') {
			int depth = 1;
			while (++i < n && s[i] != ',' && s[i] != '}' && o + 2 < cap)
				out[o++] = s[i];
			for (; i < n && depth; i++)
				depth += s[i] == '{' ? 1 : s[i] == '}' ? -1 : 0;
			i--;
		} else if (s[i] == '\\' && i + 1 < n) {
			out[o++] = s[++i];
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

/* The lint samples the draft's own patterns; a folder pattern can also
 * take in a secret whose pattern starts with a wildcard (/proc/PID/environ
 * under a learned /proc/PID folder). So each folder pattern is tried with
 * the last name of every secrets pattern, right under it and one folder
 * deeper, and kept exact when the draft would allow there what the
 * secrets profile denies. */
static int probe_secrets(struct learn *x, const struct tg_policy *d,
			 const struct tg_policy *secrets, const struct learn_pattern *pats, int n)
{
	for (int i = 0; i < n; i++) {
		const char *pat = pats[i].real;
		size_t len = strlen(pat), dl;
		if (len > 3 && strcmp(pat + len - 3, "/**") == 0)
			dl = len - 3;
		else if (len > 2 && strcmp(pat + len - 2, "/*") == 0)
			dl = len - 2;
		else
			continue;
		bool reopens = false;
		for (size_t r = 0; r < tg_policy_nrules(secrets) && !reopens; r++) {
			const struct tg_rule *rule = tg_policy_rule(secrets, r);
			for (size_t k = 0; k < rule->npaths && !reopens; k++) {
				const char *last = strrchr(rule->paths[k], '/');
				/* The secret's name right under the folder, and one
				 * folder deeper (/proc/PID/task/TID/environ). */
				for (int deeper = 0; deeper < 2 && last && !reopens; deeper++) {
					const char *from = deeper ? "/x" : "";
					char inst[256], path[PATH_MAX];
					instance(last, strlen(last), inst, sizeof(inst));
					snprintf(path, sizeof(path), "%.*s%s%s", (int)dl, pat, from,
						 inst);
					if (strncmp(path, pat, dl) != 0 || path[dl] != '/')
						continue;
					for (unsigned c = 0; c < TG_NCLASS && !reopens; c++) {
						struct tg_verdict vs, vd;
						if (!(pats[i].classes & TG_BIT(c)))
							continue;
						tg_decide(secrets, path, strlen(path), TG_BIT(c),
							  &vs);
						if (vs.allow || !vs.rule)
							continue;
						tg_decide(d, path, strlen(path), TG_BIT(c), &vd);
						reopens = vd.allow;
					}
				}
			}
		}
		if (!reopens)
			continue;
		bool known = false;
		for (size_t k = 0; k < x->nkeep; k++)
			known |= strlen(x->keep[k]) == dl && strncmp(x->keep[k], pat, dl) == 0;
		if (!known && x->nkeep < TG_LEARN_MAX_KEEP) {
			if (!(x->keep[x->nkeep] = strndup(pat, dl)))
				return -ENOMEM;
			x->nkeep++;
		}
	}
	return 0;
}

/* Every access the draft must allow, allowed: returns how many are not
 * (a bug of learn). A secret the draft allows can only come from the
 * --base policy, which learn never narrows: that is a warning. */
static size_t verify(const struct learn *x, const struct tg_policy *draft)
{
	size_t bad = 0, open_secrets = 0;

	for (size_t i = 0; i < x->log.n; i++) {
		const struct learn_path *p = x->log.paths[i];
		for (unsigned k = 0; k < TG_NCLASS; k++) {
			struct tg_verdict v;
			if (!(p->used & TG_BIT(k)))
				continue;
			tg_decide(draft, p->path, strlen(p->path), TG_BIT(k), &v);
			if (!(p->secret & TG_BIT(k))) {
				if (!v.allow && bad++ < 10)
					fprintf(stderr,
						"trainguard: learn: the draft still denies %s of '%s' "
						"(%s)\n",
						tg_class_name(k), p->path,
						v.rule ? v.rule->id : "a default");
			} else if (v.allow && open_secrets++ < 10) {
				fprintf(stderr,
					"trainguard: learn: the base policy allows %s of the secret "
					"'%s' (%s); add \"secrets\" to its profiles\n",
					tg_class_name(k), p->path,
					v.rule ? v.rule->id : "a default");
			}
		}
	}
	return bad;
}

static int draft(struct learn *x)
{
	struct tg_policy *secrets = tg_learn_load(x, NULL, "secrets", true), *start = NULL,
			 *d = NULL;
	char *base_text = NULL, *skeleton = NULL, *tmp = NULL, *exec_rule = NULL, *text = NULL;
	char *base_dir = NULL;
	struct learn_pattern *pats = NULL;
	int n = 0, status = TG_EXIT_USAGE;
	size_t review = 0;

	if (!secrets)
		goto out;
	if (x->base) {
		if (!(base_text = tg_learn_read_text(x->base))) {
			fprintf(stderr, "trainguard: learn: cannot read the base policy '%s': %s\n",
				x->base, strerror(errno));
			goto out;
		}
		if (!(start = tg_learn_load(x, x->base, NULL, true)))
			goto out;
		char *slash = strrchr(x->base, '/');
		base_dir = slash ? strndup(x->base, slash - x->base) : strdup(".");
	} else {
		if (asprintf(&skeleton, "%s\nrules = ();\n", tg_learn_skeleton) < 0 ||
		    !(exec_rule = exec_limit_rule()) || temp_policy(NULL, skeleton, &tmp) < 0) {
			fprintf(stderr, "trainguard: learn: cannot write a temporary policy\n");
			goto out;
		}
		start = tg_learn_load(x, tmp, NULL, true);
		unlink(tmp);
		free(tmp);
		tmp = NULL;
		if (!start)
			goto out;
		/* The exec limit is part of the start: what it denies is learned. */
		free(skeleton);
		skeleton = NULL;
		if (asprintf(&skeleton, "%s\nrules = (\n%s\n);\n", tg_learn_skeleton, exec_rule) <
			    0 ||
		    temp_policy(NULL, skeleton, &tmp) < 0)
			goto out;
		tg_policy_free(start);
		start = tg_learn_load(x, tmp, NULL, true);
		unlink(tmp);
		free(tmp);
		tmp = NULL;
		if (!start)
			goto out;
	}
	decide_all(x, start, secrets);

	for (int round = 0; round < 16; round++) {
		struct learn_draft_opts o = {
			.siblings = x->siblings,
			.vars = &x->vars,
			.keep = (const char *const *)x->keep,
			.nkeep = x->nkeep,
		};
		tg_learn_patterns_free(pats, n > 0 ? n : 0);
		pats = NULL;
		n = tg_learn_generalize(&x->log, &o, &pats);
		if (n < 0)
			goto oom;
		free(text);
		text = tg_learn_render(x, base_text, x->base ? NULL : exec_rule, pats, n, &review);
		if (!text)
			goto oom;
		if (tmp) {
			unlink(tmp);
			free(tmp);
			tmp = NULL;
		}
		if (temp_policy(base_dir, text, &tmp) < 0) {
			fprintf(stderr, "trainguard: learn: cannot write a temporary policy\n");
			goto out;
		}
		tg_policy_free(d);
		if (!(d = tg_learn_load(x, tmp, NULL, true))) {
			fprintf(stderr,
				"trainguard: learn: the draft does not load (a bug); "
				"its text follows\n%s",
				text);
			status = TG_EXIT_INVALID;
			goto out;
		}
		struct lint_ctx c = { .x = x };
		size_t keep_before = x->nkeep;
		if (tg_policy_lint(d, secrets, on_lint, &c) < 0)
			goto oom;
		if (probe_secrets(x, d, secrets, pats, n) < 0)
			goto oom;
		c.added |= x->nkeep > keep_before;
		if (c.unfixable)
			fprintf(stderr,
				"trainguard: learn: %zu exact rules reopen a secret: "
				"review them\n",
				c.unfixable);
		if (!c.added)
			break;
	}
	size_t bad = verify(x, d);

	if (x->output) {
		int r = write_file(x->output, text);
		if (r < 0) {
			fprintf(stderr, "trainguard: learn: cannot write '%s': %s\n", x->output,
				strerror(-r));
			goto out;
		}
	} else {
		fputs(text, stdout);
	}
	fprintf(stderr,
		"trainguard: learn: %d rule%s from %zu decision records (%zu paths), %zu review "
		"item%s (secrets)%s%s%s\n",
		n, n == 1 ? "" : "s", x->log.decisions, x->log.n, review, review == 1 ? "" : "s",
		x->output ? "; written to '" : "", x->output ? x->output : "",
		x->output ? "'" : "");
	if (!x->log.complete && !x->base)
		fprintf(stderr, "trainguard: learn: these are not learn-mode logs: they hold only "
				"what the policy in force refused or audited; give that policy as "
				"--base\n");
	if (bad)
		fprintf(stderr,
			"trainguard: learn: the draft fails its own check on %zu "
			"accesses (a bug: please report it)\n",
			bad);
	status = bad ? TG_EXIT_INVALID : 0;
	goto out;
oom:
	fprintf(stderr, "trainguard: learn: out of memory\n");
	status = TG_EXIT_USAGE;
out:
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(text);
	free(skeleton);
	free(exec_rule);
	free(base_text);
	free(base_dir);
	tg_learn_patterns_free(pats, n > 0 ? n : 0);
	tg_policy_free(d);
	tg_policy_free(start);
	tg_policy_free(secrets);
	return status;
}

/* ---- the command ---- */

static int learn(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "tighten", required_argument, NULL, 't' },
		{ "home", required_argument, NULL, 'H' },
		{ "pwd", required_argument, NULL, 'P' },
		{ "tmpdir", required_argument, NULL, 'T' },
		{ "job-id", required_argument, NULL, 'j' },
		{ "siblings", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "no-disk", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct learn x = { .siblings = DEFAULT_SIBLINGS };
	int c, status = TG_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			x.base = optarg;
			break;
		case 'o':
			x.output = optarg;
			break;
		case 't':
			x.tighten = optarg;
			break;
		case 'H':
			x.home_opt = optarg;
			break;
		case 'P':
			x.pwd_opt = optarg;
			break;
		case 'T':
			x.tmpdir_opt = optarg;
			break;
		case 'j':
			x.job_opt = optarg;
			break;
		case 's': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 2 || v > 100000) {
				tg_usage_error(&tg_cmd_learn,
					       "--siblings '%s' is not a number from 2", optarg);
				goto out;
			}
			x.siblings = (unsigned)v;
			break;
		}
		case 'e':
			if (tg_override_add(&x.ov, &tg_cmd_learn, optarg, true) < 0)
				goto out;
			break;
		case 'n':
			x.no_disk = true;
			break;
		case 'h':
			fputs(tg_cmd_learn.usage, stdout);
			status = 0;
			goto out;
		default:
			tg_usage_error(&tg_cmd_learn, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind == argc) {
		tg_usage_error(&tg_cmd_learn, "no LOG given");
		goto out;
	}
	if (x.tighten && (x.base || x.output)) {
		tg_usage_error(&tg_cmd_learn, "--tighten lists rules; it takes no --base nor -o");
		goto out;
	}
	x.logs = argv + optind;
	x.nlogs = argc - optind;
	for (int i = 0; i < x.nlogs; i++)
		if (tg_learn_log_read(&x.log, x.logs[i]) < 0)
			goto out;
	tg_learn_log_finish(&x.log);
	if (x.log.decisions == 0) {
		fprintf(stderr,
			"trainguard: learn: no decision records in the logs (%zu records read): "
			"run the job with 'trainguard run --mode learn --log FILE'\n",
			x.log.records);
		goto out;
	}
	if (resolve_vars(&x) < 0)
		goto out;
	status = x.tighten ? tg_learn_tighten(&x) : draft(&x);
out:
	tg_learn_log_free(&x.log);
	tg_overrides_free(&x.ov);
	for (size_t i = 0; i < x.nov_args; i++)
		free(x.ov_args[i]);
	for (size_t i = 0; i < x.nkeep; i++)
		free(x.keep[i]);
	free(x.home_inferred);
	return status;
}

const struct tg_command tg_cmd_learn = {
	.name = "learn",
	.run = learn,
	.synopsis = "learn [--base POLICY] [-o DRAFT] [--siblings N] [--home DIR] [--pwd DIR]\n"
		    "    [--tmpdir DIR] [--job-id ID] [--env NAME=VALUE] [--no-disk] LOG...\n"
		    "learn --tighten POLICY [--home DIR] [--pwd DIR] [--tmpdir DIR] LOG...\n",
	.usage = "usage: trainguard learn [--base POLICY] [-o DRAFT] [--siblings N]\n"
		 "                        [--home DIR] [--pwd DIR] [--tmpdir DIR] [--job-id ID]\n"
		 "                        [--env NAME=VALUE] [--no-disk] LOG...\n"
		 "       trainguard learn --tighten POLICY [--home DIR] [--pwd DIR]\n"
		 "                        [--tmpdir DIR] [--job-id ID] LOG...\n"
		 "\n"
		 "Drafts a policy that allows what the job of the logs did (learn-mode logs,\n"
		 "or audit-mode logs with the policy in force as --base) and nothing more.\n"
		 "Reads of secrets are never allowed: they are listed as review items.\n"
		 "With --tighten, lists the rules of POLICY that no access of the logs used,\n"
		 "and those broader than what was used.\n"
		 "\n"
		 "  --base POLICY   start from POLICY and add only what it denies\n"
		 "                  (default: the base and secrets profiles, all else denied)\n"
		 "  -o, --output DRAFT\n"
		 "                  write the draft there (default: standard output)\n"
		 "  --siblings N    a folder with N or more entries used becomes DIR/**\n"
		 "                  (default 4)\n"
		 "  --home DIR, --pwd DIR, --tmpdir DIR, --job-id ID\n"
		 "                  the values written back as ${HOME}, ${PWD}, ${TMPDIR},\n"
		 "                  ${JOB_ID} (default: from the records, else this\n"
		 "                  command's environment)\n"
		 "  --env NAME=VALUE\n"
		 "                  ${ENV:NAME} for loading the policies, as for 'check'\n"
		 "  --no-disk       do not read the modes of created files that still exist\n"
		 "  --tighten POLICY\n"
		 "                  list unused and broader rules of POLICY instead\n"
		 "\n"
		 "Exit status: 0 the draft was written (--tighten: nothing to tighten),\n"
		 "1 the draft failed its own check (--tighten: rules to tighten),\n"
		 "2 bad usage, unreadable logs or a policy error. See trainguard(1).\n",
};
