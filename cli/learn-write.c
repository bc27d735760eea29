/* trainguard learn: writing the draft. The header comment says where the
 * draft came from and what its variables stand for; each rule is preceded
 * by what it covers (accesses per class, paths, processes); the accesses
 * the secrets profile denies close the file as commented review items.
 * With --base the learned rules are added at the end of the base's own
 * rules list, found by a small scanner of libconfig text (strings and
 * comments skipped), so nothing of the base is rewritten. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn.h"

static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

const char tg_learn_skeleton[] =
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

/* A folder pattern of PATS that allows only reading and listing and
 * covers P, when P changes files (write, create, delete, chmod); NULL
 * otherwise. */
static const struct learn_pattern *read_only_around(const struct learn_pattern *pats, size_t n,
						    const struct learn_pattern *p)
{
	const unsigned ro = TG_BIT(TG_READ) | TG_BIT(TG_LIST);

	if (!(p->classes & ~ro & ~TG_BIT(TG_EXEC)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *d = pats[i].real;
		size_t dl = strlen(d);
		if (&pats[i] == p || (pats[i].classes & ~ro) || dl < 3 ||
		    strcmp(d + dl - 3, "/**") != 0)
			continue;
		if (strncmp(p->real, d, dl - 2) == 0)
			return &pats[i];
	}
	return NULL;
}

/* The rules for PATS, each with a comment saying what it covers. */
static void put_rules(struct buf *b, const struct learn_pattern *pats, size_t n, bool first)
{
	/* Rule ids: unique, so a slug met twice gets a number. */
	char(*ids)[72] = malloc((n + 1) * sizeof(*ids));

	if (!ids) {
		b->oom = true;
		return;
	}
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
				snprintf(ids[i], sizeof(ids[i]), "learned.%s%s-%zu", s, kind,
					 ++dup);
				j = (size_t)-1;
			}
		}
		for (unsigned k = 0; k < TG_NCLASS; k++)
			total += p->count[k];
		char *q = tg_learn_cfg_quote(p->text);
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
		const struct learn_pattern *ro = read_only_around(pats, n, p);
		if (ro)
			put(b,
			    "  # REVIEW: changes a file in a folder the job otherwise only reads (%s);\n"
			    "  # was the learned run clean? (a poisoned dataset shard looks like this)\n",
			    ro->text);
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
	free(ids);
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
			    "# allows them; the secrets profile keeps them denied. If the job really\n"
			    "# needs one, allow that exact file in a rule of your own.\n");
		char *sub = tg_learn_substitute(p->path, &x->vars);
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

char *tg_learn_read_text(const char *path)
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
char *tg_learn_render(struct learn *x, const char *base_text, const char *exec_rule,
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
		put(&b, "%s\nrules = (\n%s);\n", tg_learn_skeleton, rules.s ? rules.s : "");
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
