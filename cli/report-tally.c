/* Reading logs for trainguard report: each line is parsed on its own with
 * jansson and its figures added to the tally's tables, so a log of
 * hundreds of MB is read in the memory of one line plus one row per
 * distinct key. A line that is not a JSON object is named, with its file
 * and number, on stderr and skipped.
 *
 * Which record counts as what (design/EVENTS.md, trainguard(1) THE LOG):
 * unmapped.trainguard.decision says deny, would_deny (audit mode), allow
 * (a logged allowed access) or learn; a learn record that enforce would
 * have refused keeps is_alert true. A kill (on_deny = "kill") is a deny
 * whose decision is "kill", or whose disposition or unmapped.trainguard
 * says so. Records without a decision (start, stop, process links) are
 * "other"; an exec the guard cannot follow carries
 * unmapped.trainguard.unguarded with the reason. */
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report.h"

static const char *str_at(json_t *o, const char *const *keys)
{
	for (; *keys && o; keys++)
		o = json_object_get(o, *keys);
	return json_is_string(o) ? json_string_value(o) : NULL;
}

#define STR(o, ...) str_at(o, (const char *const[]){ __VA_ARGS__, NULL })

static json_t *obj_at(json_t *o, const char *a, const char *b)
{
	o = json_object_get(o, a);
	return b ? json_object_get(o, b) : o;
}

/* How many times the record counts: its count (OCSF's, which folded and
 * aggregated records set; unmapped.trainguard.count in older logs), at
 * least 1. */
static long long record_count(json_t *rec, json_t *tg)
{
	json_int_t a = json_integer_value(json_object_get(rec, "count"));
	json_int_t b = json_integer_value(json_object_get(tg, "count"));
	json_int_t n = a > b ? a : b;

	return n > 1 ? (long long)n : 1;
}

static bool is_killed(json_t *rec, json_t *tg, const char *decision)
{
	const char *disp = json_string_value(json_object_get(rec, "disposition"));
	const char *on_deny = json_string_value(json_object_get(tg, "on_deny"));

	return strcmp(decision, "kill") == 0 || json_is_true(json_object_get(tg, "killed")) ||
	       (on_deny && strcmp(on_deny, "kill") == 0) || (disp && strcasestr(disp, "kill"));
}

/* The counts of one decision record (C zeroed); false when it has none. */
static bool classify(json_t *rec, json_t *tg, struct tg_counts *c)
{
	const char *d = json_string_value(json_object_get(tg, "decision"));
	long long n = record_count(rec, tg);

	if (!d)
		return false;
	if (strcmp(d, "deny") == 0 || strcmp(d, "kill") == 0) {
		c->denied = n;
		if (is_killed(rec, tg, d))
			c->killed = n;
	} else if (strcmp(d, "would_deny") == 0) {
		c->would = n;
	} else if (strcmp(d, "learn") == 0 && json_is_true(json_object_get(rec, "is_alert"))) {
		c->would = n;
	} else {
		c->audited = n;
	}
	return true;
}

bool tg_report_classify(json_t *rec, struct tg_counts *ret)
{
	*ret = (struct tg_counts){ 0 };
	return classify(rec, obj_at(rec, "unmapped", "trainguard"), ret);
}

static bool rule_passes(const struct tg_report_opts *o, const char *rule)
{
	if (!o->rules)
		return true;
	for (const char **r = o->rules; rule && *r; r++)
		if (fnmatch(*r, rule, 0) == 0)
			return true;
	return false;
}

static void add(struct tg_table *tab, const char *a, const char *b, const struct tg_counts *c)
{
	char buf[8192];
	size_t al = strlen(a), bl = b ? strlen(b) : 0;
	const char *key = a;
	size_t klen = al;

	if (b) {
		/* Keys past the buffer are cut: they still count. */
		if (al > sizeof(buf) / 2)
			al = sizeof(buf) / 2;
		if (al + 1 + bl > sizeof(buf))
			bl = sizeof(buf) - al - 1;
		memcpy(buf, a, al);
		buf[al] = '\0';
		memcpy(buf + al + 1, b, bl);
		key = buf;
		klen = al + 1 + bl;
	}
	if (tg_table_add(tab, key, klen, c) < 0)
		fprintf(stderr, "trainguard: report: out of memory; a row is counted as lost\n");
}

size_t tg_report_folder_len(const char *path, size_t len)
{
	const char *slash = memrchr(path, '/', len);
	if (!slash)
		return 0;
	return slash == path ? 1 : (size_t)(slash - path);
}

static void add_record(struct tg_tally *t, json_t *rec)
{
	json_t *tg = obj_at(rec, "unmapped", "trainguard");
	json_t *when = json_object_get(rec, "time");
	long long ms = json_is_integer(when) ? json_integer_value(when) : 0;
	struct tg_counts c = { 0 };
	bool decided = classify(rec, tg, &c);
	const char *rule = STR(rec, "policy", "uid");

	if ((t->o->since_ms && ms < t->o->since_ms) || !rule_passes(t->o, rule)) {
		t->filtered++;
		return;
	}
	t->records++;
	const char *job = STR(rec, "metadata", "correlation_uid");
	struct tg_counts none = { .first_ms = ms, .last_ms = ms };
	if (job)
		add(&t->jobs, job, NULL, &none);
	if (!decided) {
		t->other++;
		return;
	}
	c.first_ms = c.last_ms = ms;
	tg_counts_add(&t->total, &c);
	add(&t->rules, rule ? rule : "(no rule)", NULL, &c);

	/* The decided path: the file, or the program of an exec. */
	json_t *file = json_object_get(rec, "file");
	if (!file)
		file = obj_at(rec, "process", "file");
	const char *path = STR(file, "path");
	if (!path)
		path = "(no path)";
	add(&t->paths, path, NULL, &c);
	/* The folder is cut from the path (not file.parent_folder), so that a
	 * path is always listed under its folder. */
	size_t fl = tg_report_folder_len(path, strlen(path));
	if (tg_table_add(&t->folders, fl ? path : "(no folder)", fl ? fl : 11, &c) < 0)
		fprintf(stderr, "trainguard: report: out of memory; a row is counted as lost\n");

	json_t *actor = obj_at(rec, "actor", "process");
	const char *exe = STR(actor, "file", "path");
	if (!exe)
		exe = STR(actor, "name");
	if (!exe)
		exe = "(unknown)";
	const char *cmd = STR(actor, "cmd_line");
	add(&t->exes, exe, NULL, &c);
	add(&t->cmdlines, exe, cmd ? cmd : "", &c);

	if (ms) {
		char minute[32];
		snprintf(minute, sizeof(minute), "%lld", ms / 60000);
		if (t->minutes.n < TG_REPORT_MAX_MINUTES ||
		    tg_table_get(&t->minutes, minute, strlen(minute)))
			add(&t->minutes, minute, NULL, &c);
		else
			tg_counts_add(&t->minutes.lost, &c);
	}

	const char *why = STR(tg, "unguarded");
	if (why) {
		const char *prog = STR(rec, "process", "file", "path");
		add(&t->unguarded, prog ? prog : path, why, &c);
	}
}

static void malformed(struct tg_tally *t, const char *name, long long line, const char *why)
{
	t->malformed++;
	fprintf(stderr, "trainguard: report: %s:%lld: %s; line skipped\n", name, line, why);
}

/* One line into BUF (at most CAP - 1 bytes kept, the rest read and
 * dropped); its length in *LEN, whether it was cut in *CUT. Returns
 * false at the end of the file. */
static bool read_line(FILE *f, char *buf, size_t cap, size_t *len, bool *cut)
{
	size_t n = 0;
	int ch;

	*cut = false;
	while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
		if (n + 1 < cap)
			buf[n++] = (char)ch;
		else
			*cut = true;
	}
	buf[n] = '\0';
	*len = n;
	return ch != EOF || n > 0 || *cut;
}

int tg_tally_file(struct tg_tally *t, FILE *f, const char *name)
{
	char *buf = malloc(TG_REPORT_MAX_LINE);
	long long lineno = 0;
	size_t len;
	bool cut;

	if (!buf)
		return -ENOMEM;
	while (read_line(f, buf, TG_REPORT_MAX_LINE, &len, &cut)) {
		lineno++;
		t->lines++;
		if (cut) {
			malformed(t, name, lineno, "longer than 1 MiB");
			continue;
		}
		size_t s = strspn(buf, " \t\r");
		if (s == len)
			continue; /* a blank line is not a record */
		json_error_t err;
		json_t *rec = json_loadb(buf, len, 0, &err);
		if (!rec) {
			char why[256 + 32];
			snprintf(why, sizeof(why), "not JSON (%s, column %d)", err.text,
				 err.column);
			malformed(t, name, lineno, why);
			continue;
		}
		if (!json_is_object(rec))
			malformed(t, name, lineno, "not a JSON object");
		else
			add_record(t, rec);
		json_decref(rec);
	}
	int e = ferror(f) ? (errno ? -errno : -EIO) : 0;
	free(buf);
	if (e < 0)
		fprintf(stderr, "trainguard: report: cannot read '%s': %s\n", name, strerror(-e));
	return e;
}

void tg_tally_free(struct tg_tally *t)
{
	struct tg_table *all[] = { &t->rules,    &t->folders, &t->paths,     &t->exes,
				   &t->cmdlines, &t->minutes, &t->unguarded, &t->jobs };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		tg_table_free(all[i]);
}
