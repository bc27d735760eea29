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
#define MAX_KEEP         256

struct learn {
	const char *base, *output, *tighten;
	const char *home_opt, *pwd_opt, *tmpdir_opt, *job_opt;
	unsigned siblings;
	bool no_disk;
	struct tg_overrides ov; /* the job's values, for every load */
	char *ov_args[8];
	size_t nov_args;
	struct learn_vars vars;
	char *home_inferred;
	struct learn_log log;
	char **logs;
	int nlogs;
	char *keep[MAX_KEEP];
	size_t nkeep;
};

static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

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
static struct tg_policy *load(struct learn *x, const char *file, const char *embedded,
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

static const char skeleton_head[] =
	"version = 1;\n"
	"\n"
	"# The system every process needs (base) and the credential catalogue\n"
	"# (secrets); everything else only as the rules below allow it.\n"
	"profiles = [\"base\", \"secrets\"];\n"
	"\n"
	"defaults = { read = \"deny\"; write = \"deny\"; create = \"deny\"; delete = \"deny\";\n"
	"             exec = \"deny\"; chmod = \"deny\"; list = \"deny\"; };\n";

/* The rule limiting exec to what ran: base allows exec of the system
 * trees; a deny with the very same patterns ties with it and wins, and
 * each program that ran is allowed by its exact, more specific path. */
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
			q = learn_cfg_quote(typed ? typed : rule->paths[k]);
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

/* ---- writing the draft ---- */

struct buf {
	char *s;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *t = realloc(b->s, cap);
		if (!t) {
			b->oom = true;
			free(s);
			return;
		}
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n + 1);
	b->n += n;
	free(s);
}

static void slug(const char *text, char *out, size_t cap)
{
	size_t o = 0;
	bool dash = false;

	for (const char *s = text; *s && o + 2 < cap; s++) {
		char c = *s;
		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && o)
				out[o++] = '-';
			out[o++] = c;
			dash = false;
		} else {
			dash = true;
		}
	}
	out[o] = '\0';
	if (!o)
		snprintf(out, cap, "root");
}

static void put_classes(struct buf *b, unsigned mask)
{
	bool first = true;
	for (unsigned k = 0; k < TG_NCLASS; k++) {
		if (mask & TG_BIT(k)) {
			put(b, "%s\"%s\"", first ? "" : ", ", tg_class_name(k));
			first = false;
		}
	}
}

static void put_counts(struct buf *b, const long *count, unsigned mask)
{
	bool first = true;
	for (unsigned k = 0; k < TG_NCLASS; k++) {
		if (mask & TG_BIT(k)) {
			put(b, "%s%s %ld", first ? "" : ", ", tg_class_name(k), count[k]);
			first = false;
		}
	}
}

/* The rules for PATS, each with a comment saying what it covers. */
static void put_rules(struct buf *b, const struct learn_pattern *pats, size_t n, bool first)
{
	char ids[n + 1][72];

	for (size_t i = 0; i < n; i++) {
		const struct learn_pattern *p = &pats[i];
		char s[56];
		long total = 0;
		size_t tl = strlen(p->text);
		const char *kind = tl > 3 && strcmp(p->text + tl - 3, "/**") == 0  ? "-tree"
				   : tl > 2 && strcmp(p->text + tl - 2, "/*") == 0 ? "-files"
										   : "";
		slug(p->text, s, sizeof(s));
		snprintf(ids[i], sizeof(ids[i]), "learned.%s%s%s",
			 p->classes == TG_BIT(TG_EXEC) ? "exec-" : "", s, kind);
		for (size_t j = 0, dup = 1; j < i; j++) {
			if (strcmp(ids[j], ids[i]) == 0) {
				snprintf(ids[i], sizeof(ids[i]), "learned.%s-%zu", s, ++dup);
				j = (size_t)-1;
			}
		}
		for (unsigned k = 0; k < TG_NCLASS; k++)
			total += p->count[k];
		char *q = learn_cfg_quote(p->text);
		put(b, "%s\n  # %ld access%s to %zu path%s (", first && i == 0 ? "" : ",", total,
		    total == 1 ? "" : "es", p->npaths, p->npaths == 1 ? "" : "s");
		put_counts(b, p->count, p->classes);
		put(b, ") by ");
		for (size_t k = 0; k < p->nprocs; k++) {
			char name[128];
			snprintf(name, sizeof(name), "%s", p->procs[k]);
			sanitize(name);
			put(b, "%s%s", k ? ", " : "", name);
		}
		put(b, "\n");
		bool creates = p->classes & TG_BIT(TG_CREATE);
		if (creates && (p->mode < 0 || p->mode_partial))
			put(b,
			    "  # create_mode not set: the records do not say the mode of %s "
			    "created here\n",
			    p->mode < 0 ? "the files" : "every file");
		put(b, "  { id = \"%s\"; path = \"%s\"; allow = [", ids[i], q ? q : "");
		put_classes(b, p->classes);
		put(b, "];");
		if (creates && p->mode >= 0 && !p->mode_partial)
			put(b, " create_mode = \"0%03o\";", p->mode);
		put(b, " }");
		free(q);
	}
}

/* Review items: what the secrets profile denied, never allowed here. */
static size_t put_review(struct buf *b, const struct learn *x)
{
	size_t items = 0;

	for (size_t i = 0; i < x->log.n; i++) {
		const struct learn_path *p = x->log.paths[i];
		if (!p->secret)
			continue;
		if (!items++)
			put(b,
			    "\n# REVIEW: accesses the secrets profile denies. trainguard learn never\n"
			    "# allows them; they stay denied under this draft. If the job really\n"
			    "# needs one, allow that exact file in a rule of your own.\n");
		char *sub = learn_substitute(p->path, &x->vars);
		for (unsigned k = 0; k < TG_NCLASS; k++) {
			if (!(p->secret & TG_BIT(k)))
				continue;
			put(b, "#   %s '%s': %ld access%s, denied by rule \"%s\"; asked by ",
			    tg_class_name(k), sub ? sub : p->path, p->count[k],
			    p->count[k] == 1 ? "" : "es", p->secret_rule[k]);
			for (size_t j = 0; j < p->nprocs; j++) {
				char who[512];
				snprintf(who, sizeof(who), "%s", p->procs[j]);
				sanitize(who);
				put(b, "%s%s", j ? ", " : "", who);
			}
			put(b, "\n");
		}
		free(sub);
	}
	return items;
}

/* Where the top-level rules list of TEXT closes, and whether a comma is
 * needed before an entry added there; -1 when there is no rules list. */
static long rules_end(const char *text, bool *ret_comma)
{
	int depth = 0;
	long list_open = -1;
	char last = 0;

	for (long i = 0; text[i]; i++) {
		char c = text[i];
		if (c == '"') {
			for (i++; text[i] && text[i] != '"'; i++)
				if (text[i] == '\\' && text[i + 1])
					i++;
			last = '"';
			if (!text[i])
				break;
			continue;
		}
		if (c == '#' || (c == '/' && text[i + 1] == '/')) {
			while (text[i + 1] && text[i + 1] != '\n')
				i++;
			continue;
		}
		if (c == '/' && text[i + 1] == '*') {
			const char *e = strstr(text + i + 2, "*/");
			if (!e)
				break;
			i = e - text + 1;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (depth == 0 && list_open < 0 && strncmp(text + i, "rules", 5) == 0 &&
		    (i == 0 || strchr(" \t\n;", text[i - 1]))) {
			long j = i + 5;
			while (strchr(" \t\n", text[j]) && text[j])
				j++;
			if (text[j] == '=' || text[j] == ':') {
				j++;
				while (strchr(" \t\n", text[j]) && text[j])
					j++;
				if (text[j] == '(') {
					list_open = j;
					depth = 1;
					last = '(';
					i = j;
					continue;
				}
			}
		}
		if (c == '(' || c == '{' || c == '[')
			depth++;
		if (c == ')' || c == '}' || c == ']') {
			depth--;
			if (list_open >= 0 && depth == 0 && c == ')') {
				*ret_comma = last != '(' && last != ',';
				return i;
			}
		}
		last = c;
	}
	return -1;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "re");
	char *s = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	struct buf b = { 0 };
	char chunk[65536];
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		put(&b, "%.*s", (int)n, chunk);
	fclose(f);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	s = b.s ? b.s : strdup("");
	return s;
}

/* The whole draft text. */
static char *render(struct learn *x, const char *base_text, const char *exec_rule,
		    const struct learn_pattern *pats, size_t n, size_t *ret_review)
{
	struct buf b = { 0 }, rules = { 0 };
	const struct learn_vars *v = &x->vars;

	put(&b, "# Drafted by 'trainguard learn' from %zu decision records of", x->log.decisions);
	for (int i = 0; i < x->nlogs; i++)
		put(&b, " %s", x->logs[i]);
	put(&b, ".\n# It allows what the job did and nothing more: review it, then run\n"
		"# 'trainguard check' on it. Variables stand for these values:\n");
	put(&b, "#   ${HOME}=%s ${PWD}=%s ${TMPDIR}=%s ${JOB_ID}=%s\n", v->home ? v->home : "-",
	    v->pwd ? v->pwd : "-", v->tmpdir ? v->tmpdir : "-", v->job_id ? v->job_id : "-");
	put(&b,
	    "# A folder with %u or more entries used became DIR/**; files created and\n"
	    "# removed again (temporary names) became DIR/*.\n",
	    x->siblings);
	if (base_text)
		put(&b, "# Starting from '%s'; the rules learned were added to its rules list.\n",
		    x->base);
	put(&b, "\n");

	if (exec_rule)
		put(&rules, "%s", exec_rule);
	put_rules(&rules, pats, n, !exec_rule);
	put(&rules, "\n");
	if (!base_text) {
		put(&b, "%s\nrules = (\n%s);\n", skeleton_head, rules.s ? rules.s : "");
	} else {
		bool comma = false;
		long end = rules_end(base_text, &comma);
		if (end < 0)
			put(&b, "%s\n\nrules = (\n%s);\n", base_text, rules.s ? rules.s : "");
		else if (n == 0)
			put(&b, "%s", base_text);
		else
			put(&b, "%.*s%s\n  # ---- learned by trainguard learn ----%s%s", (int)end,
			    base_text, comma ? "," : "", rules.s ? rules.s : "", base_text + end);
	}
	*ret_review = put_review(&b, x);
	free(rules.s);
	if (b.oom || rules.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
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
	if (c->x->nkeep < MAX_KEEP && (c->x->keep[c->x->nkeep] = strndup(pat, len))) {
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
		if (!known && x->nkeep < MAX_KEEP) {
			if (!(x->keep[x->nkeep] = strndup(pat, dl)))
				return -ENOMEM;
			x->nkeep++;
		}
	}
	return 0;
}

/* Every access the draft must allow, allowed; every secret still denied.
 * Returns the number of accesses that are not. */
static size_t verify(const struct learn *x, const struct tg_policy *draft)
{
	size_t bad = 0;

	for (size_t i = 0; i < x->log.n; i++) {
		const struct learn_path *p = x->log.paths[i];
		for (unsigned k = 0; k < TG_NCLASS; k++) {
			struct tg_verdict v;
			if (!(p->used & TG_BIT(k)))
				continue;
			tg_decide(draft, p->path, strlen(p->path), TG_BIT(k), &v);
			bool secret = p->secret & TG_BIT(k);
			if (v.allow == !secret)
				continue;
			if (bad++ < 10)
				fprintf(stderr, "trainguard: learn: the draft %s %s of '%s' (%s)\n",
					secret ? "allows the secret" : "still denies",
					tg_class_name(k), p->path,
					v.rule ? v.rule->id : "a default");
		}
	}
	return bad;
}

static int draft(struct learn *x)
{
	struct tg_policy *secrets = load(x, NULL, "secrets", true), *start = NULL, *d = NULL;
	char *base_text = NULL, *skeleton = NULL, *tmp = NULL, *exec_rule = NULL, *text = NULL;
	char *base_dir = NULL;
	struct learn_pattern *pats = NULL;
	int n = 0, status = TG_EXIT_USAGE;
	size_t review = 0;

	if (!secrets)
		goto out;
	if (x->base) {
		if (!(base_text = read_text(x->base))) {
			fprintf(stderr, "trainguard: learn: cannot read the base policy '%s': %s\n",
				x->base, strerror(errno));
			goto out;
		}
		if (!(start = load(x, x->base, NULL, true)))
			goto out;
		char *slash = strrchr(x->base, '/');
		base_dir = slash ? strndup(x->base, slash - x->base) : strdup(".");
	} else {
		if (asprintf(&skeleton, "%s\nrules = ();\n", skeleton_head) < 0 ||
		    !(exec_rule = exec_limit_rule()) || temp_policy(NULL, skeleton, &tmp) < 0) {
			fprintf(stderr, "trainguard: learn: cannot write a temporary policy\n");
			goto out;
		}
		start = load(x, tmp, NULL, true);
		unlink(tmp);
		free(tmp);
		tmp = NULL;
		if (!start)
			goto out;
		/* The exec limit is part of the start: what it denies is learned. */
		free(skeleton);
		skeleton = NULL;
		if (asprintf(&skeleton, "%s\nrules = (\n%s\n);\n", skeleton_head, exec_rule) < 0 ||
		    temp_policy(NULL, skeleton, &tmp) < 0)
			goto out;
		tg_policy_free(start);
		start = load(x, tmp, NULL, true);
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
		learn_patterns_free(pats, n > 0 ? n : 0);
		pats = NULL;
		n = learn_generalize(&x->log, &o, &pats);
		if (n < 0)
			goto oom;
		free(text);
		text = render(x, base_text, x->base ? NULL : exec_rule, pats, n, &review);
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
		if (!(d = load(x, tmp, NULL, true))) {
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
	learn_patterns_free(pats, n > 0 ? n : 0);
	tg_policy_free(d);
	tg_policy_free(start);
	tg_policy_free(secrets);
	return status;
}

/* ---- --tighten ---- */

struct rule_use {
	long allowed[TG_NCLASS], denied[TG_NCLASS];
	size_t npaths;
};

static long rule_index(const struct tg_policy *p, const struct tg_rule *r)
{
	for (size_t i = 0; i < tg_policy_nrules(p); i++)
		if (tg_policy_rule(p, i) == r)
			return (long)i;
	return -1;
}

/* True when another of the N patterns, a folder pattern, covers PATS[I]. */
static bool covered_by_other(const struct learn_pattern *pats, int n, int i)
{
	const char *a = pats[i].real;

	for (int j = 0; j < n; j++) {
		const char *b = pats[j].real;
		size_t bl = strlen(b);
		if (j == i || bl < 3 || strcmp(b + bl - 3, "/**") != 0)
			continue;
		if (strncmp(a, b, bl - 2) == 0 || (strncmp(a, b, bl - 3) == 0 && !a[bl - 3]))
			return true;
	}
	return false;
}

static int tighten(struct learn *x)
{
	struct tg_policy *p = load(x, x->tighten, NULL, true);
	char real[PATH_MAX];
	int status = TG_EXIT_USAGE;

	if (!p)
		return status;
	size_t nr = tg_policy_nrules(p);
	struct rule_use *use = calloc(nr + 1, sizeof(*use));
	long *decider = calloc(x->log.n * TG_NCLASS + 1, sizeof(*decider));
	long deflt[TG_NCLASS] = { 0 };
	size_t mismatch = 0, findings = 0;
	const char *mine = realpath(x->tighten, real) ? real : x->tighten;

	if (!use || !decider)
		goto out;
	for (size_t i = 0; i < x->log.n; i++) {
		struct learn_path *lp = x->log.paths[i];
		for (unsigned k = 0; k < TG_NCLASS; k++) {
			decider[i * TG_NCLASS + k] = -2;
			if (!(lp->used & TG_BIT(k)))
				continue;
			struct tg_verdict v;
			tg_decide(p, lp->path, strlen(lp->path), TG_BIT(k), &v);
			long ri = v.rule ? rule_index(p, v.rule) : -1;
			decider[i * TG_NCLASS + k] = ri;
			if (ri < 0) {
				if (v.allow)
					deflt[k] += lp->count[k];
			} else if (v.allow) {
				use[ri].allowed[k] += lp->count[k];
			} else {
				use[ri].denied[k] += lp->count[k];
			}
			if (lp->rule_seen && lp->rule_seen_class == (int)k) {
				char dname[64];
				snprintf(dname, sizeof(dname), "default:%s", tg_class_name(k));
				if (strcmp(lp->rule_seen, v.rule ? v.rule->id : dname) != 0)
					mismatch++;
			}
		}
	}

	printf("policy: %s (%zu decision records, %zu paths; %s)\n", x->tighten, x->log.decisions,
	       x->log.n,
	       x->log.complete ? "learn-mode logs: every access is there"
			       : "not learn-mode logs: only the allowed accesses of rules with "
				 "audit = true are there");
	for (size_t ri = 0; ri < nr; ri++) {
		const struct tg_rule *r = tg_policy_rule(p, ri);
		if (strcmp(r->source, mine) != 0 || !r->allow)
			continue;
		unsigned used = 0;
		long total = 0;
		for (unsigned k = 0; k < TG_NCLASS; k++) {
			if (use[ri].allowed[k])
				used |= TG_BIT(k);
			total += use[ri].allowed[k];
		}
		char cls[128];
		if (!x->log.complete && !r->audit) {
			printf("unknown: rule \"%s\" (line %d): its allowed accesses are not logged "
			       "in audit mode (no audit = true, no log.allowed)\n",
			       r->id, r->line);
			continue;
		}
		if (!used) {
			findings++;
			printf("unused: rule \"%s\" (line %d) allows %s; no access used it\n",
			       r->id, r->line, tg_classes_str(r->allow, cls, sizeof(cls)));
			continue;
		}
		if (r->allow & ~used) {
			findings++;
			printf("broader: rule \"%s\" (line %d) allows %s, which no access used",
			       r->id, r->line, tg_classes_str(r->allow & ~used, cls, sizeof(cls)));
			printf(" (used: %s, %ld accesses)\n",
			       tg_classes_str(used, cls, sizeof(cls)), total);
		}
		/* The paths it allowed, generalized as a draft would be. */
		struct learn_log sub = { 0 };
		sub.paths = calloc(x->log.n + 1, sizeof(*sub.paths));
		if (!sub.paths)
			goto out;
		for (size_t i = 0; i < x->log.n; i++) {
			unsigned m = 0;
			for (unsigned k = 0; k < TG_NCLASS; k++)
				if (decider[i * TG_NCLASS + k] == (long)ri &&
				    (r->allow & TG_BIT(k)))
					m |= TG_BIT(k);
			x->log.paths[i]->need = m;
			if (m)
				sub.paths[sub.n++] = x->log.paths[i];
		}
		struct learn_draft_opts o = { .siblings = x->siblings,
					      .vars = &x->vars,
					      .all = &x->log };
		struct learn_pattern *pats = NULL;
		int n = learn_generalize(&sub, &o, &pats);
		bool narrower = false;
		for (int i = 0; i < n; i++) {
			bool same = false;
			for (size_t k = 0; k < r->npaths; k++)
				same |= strcmp(pats[i].real, r->paths[k]) == 0;
			narrower |= !same;
		}
		if (narrower) {
			findings++;
			printf("broader: rule \"%s\" (line %d), path", r->id, r->line);
			for (size_t k = 0; k < r->npaths; k++) {
				char *typed = tg_rule_typed_pattern(r, k);
				printf(" '%s'", typed ? typed : r->paths[k]);
				free(typed);
			}
			printf(": the %zu paths it allowed fit in", sub.n);
			for (int i = 0; i < n; i++)
				if (!covered_by_other(pats, n, i))
					printf(" '%s'", pats[i].text);
			printf("\n");
		}
		for (size_t k = 0; k < r->npaths && r->npaths > 1; k++) {
			bool hit = false;
			for (size_t i = 0; i < sub.n && !hit; i++) {
				struct tg_verdict v;
				tg_decide(p, sub.paths[i]->path, strlen(sub.paths[i]->path),
					  sub.paths[i]->need & -sub.paths[i]->need, &v);
				hit = v.pattern && strcmp(v.pattern, r->paths[k]) == 0;
			}
			if (!hit) {
				findings++;
				char *typed = tg_rule_typed_pattern(r, k);
				printf("broader: rule \"%s\" (line %d): pattern '%s' matched no access\n",
				       r->id, r->line, typed ? typed : r->paths[k]);
				free(typed);
			}
		}
		learn_patterns_free(pats, n > 0 ? n : 0);
		free(sub.paths);
	}
	for (unsigned k = 0; k < TG_NCLASS; k++) {
		if (deflt[k])
			printf("default: defaults.%s allowed %ld accesses: rules could name them and "
			       "the default deny\n",
			       tg_class_name(k), deflt[k]);
	}
	if (mismatch)
		printf("note: %zu records name another rule than this policy decides now: the "
		       "logs were made with another policy or other variable values\n",
		       mismatch);
	status = findings ? TG_EXIT_INVALID : 0;
out:
	free(use);
	free(decider);
	tg_policy_free(p);
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
		if (learn_log_read(&x.log, x.logs[i]) < 0)
			goto out;
	learn_log_finish(&x.log);
	if (x.log.decisions == 0) {
		fprintf(stderr,
			"trainguard: learn: no decision records in the logs (%zu records read): "
			"run the job with 'trainguard run --mode learn --log FILE'\n",
			x.log.records);
		goto out;
	}
	if (resolve_vars(&x) < 0)
		goto out;
	status = x.tighten ? tighten(&x) : draft(&x);
out:
	learn_log_free(&x.log);
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
