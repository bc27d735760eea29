/* trainguard report --format json: the figures of the text report as one
 * JSON object (sorted keys), built with jansson. Every table is
 * {"rows": [...], "more": {"rows": N, counts}}, with "lost" when the log
 * held more distinct keys than the report keeps. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static json_t *time_json(long long ms)
{
	char buf[32];
	if (!ms)
		return json_null();
	return json_pack("{s:I, s:s}", "time", (json_int_t)ms, "time_dt",
			 tg_report_time(ms, false, buf, sizeof(buf)));
}

/* The counts of C into O (borrowed; returned). */
static json_t *counts(json_t *o, const struct tg_counts *c, bool times)
{
	json_object_set_new(o, "denied", json_integer(c->denied));
	json_object_set_new(o, "would_deny", json_integer(c->would));
	json_object_set_new(o, "audited", json_integer(c->audited));
	json_object_set_new(o, "killed", json_integer(c->killed));
	if (times) {
		json_object_set_new(o, "first", time_json(c->first_ms));
		json_object_set_new(o, "last", time_json(c->last_ms));
	}
	return o;
}

/* A key part as a JSON string: keys come from jansson, so they are UTF-8;
 * a key cut at a byte budget may not be, and is shown up to its cut. */
static json_t *str(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	while (!j && len)
		j = json_stringn(s, --len);
	return j ? j : json_string("");
}

static json_t *table(const struct tg_slice *s, const struct tg_table *t, json_t *rows)
{
	json_t *o = json_object();
	json_object_set_new(o, "rows", rows);
	json_object_set_new(o, "more",
			    counts(json_pack("{s:I}", "rows", (json_int_t)s->nmore), &s->more,
				   false));
	if (t && t->nlost)
		json_object_set_new(o, "lost",
				    counts(json_pack("{s:I}", "records", (json_int_t)t->nlost),
					   &t->lost, false));
	return o;
}

static json_t *flat(const struct tg_tally *t, const struct tg_table *tab, const char *name)
{
	size_t n;
	const struct tg_row **v = tg_table_sorted(tab, &n);
	struct tg_slice s;
	json_t *rows = json_array();

	tg_slice_top(v, n, t->o->top, NULL, NULL, &s);
	for (size_t i = 0; i < s.n; i++) {
		json_t *r = counts(json_object(), &s.rows[i]->c, true);
		json_object_set_new(r, name, str(s.rows[i]->key, s.rows[i]->klen));
		json_array_append_new(rows, r);
	}
	json_t *o = table(&s, tab, rows);
	tg_slice_free(&s);
	free(v);
	return o;
}

static json_t *grouped(const struct tg_tally *t, const struct tg_table *groups,
		       const struct tg_table *members,
		       bool (*in)(const struct tg_row *, const struct tg_row *), const char *gname,
		       const char *mlist, const char *mname)
{
	size_t ng, nm;
	const struct tg_row **gv = tg_table_sorted(groups, &ng);
	const struct tg_row **mv = tg_table_sorted(members, &nm);
	struct tg_slice gs, ms;
	json_t *rows = json_array();

	tg_slice_top(gv, ng, t->o->top, NULL, NULL, &gs);
	for (size_t i = 0; i < gs.n; i++) {
		const struct tg_row *g = gs.rows[i];
		json_t *r = counts(json_object(), &g->c, true);
		json_t *mrows = json_array();
		json_object_set_new(r, gname, str(g->key, g->klen));
		tg_slice_top(mv, nm, t->o->members, in, g, &ms);
		for (size_t j = 0; j < ms.n; j++) {
			const struct tg_row *m = ms.rows[j];
			json_t *mr = counts(json_object(), &m->c, true);
			/* Paths stay whole; a command line loses its program. */
			size_t skip = in == tg_row_of_exe ? g->klen + 1 : 0;
			json_object_set_new(mr, mname, str(m->key + skip, m->klen - skip));
			json_array_append_new(mrows, mr);
		}
		json_object_set_new(r, mlist, table(&ms, NULL, mrows));
		tg_slice_free(&ms);
		json_array_append_new(rows, r);
	}
	json_t *o = table(&gs, groups, rows);
	tg_slice_free(&gs);
	free(gv);
	free(mv);
	return o;
}

static json_t *timeline(const struct tg_tally *t)
{
	size_t n;
	const struct tg_row **v = tg_table_sorted_by_minute(&t->minutes, &n);
	json_t *rows = json_array();
	char buf[32];

	for (size_t i = 0; i < n; i++) {
		long long ms = strtoll(v[i]->key, NULL, 10) * 60000;
		json_t *r = counts(json_object(), &v[i]->c, false);
		json_object_set_new(r, "time", json_integer(ms));
		json_object_set_new(r, "minute", json_string(tg_report_time(ms, true, buf, 32)));
		json_array_append_new(rows, r);
	}
	free(v);
	json_t *o = json_pack("{s:o}", "rows", rows);
	if (tg_counts_total(&t->minutes.lost))
		json_object_set_new(o, "lost", counts(json_object(), &t->minutes.lost, false));
	return o;
}

static json_t *unguarded(const struct tg_tally *t)
{
	size_t n;
	const struct tg_row **v = tg_table_sorted(&t->unguarded, &n);
	struct tg_slice s;
	json_t *rows = json_array();

	tg_slice_top(v, n, t->o->top, NULL, NULL, &s);
	for (size_t i = 0; i < s.n; i++) {
		const struct tg_row *r = s.rows[i];
		size_t pl = strlen(r->key);
		json_t *o = counts(json_object(), &r->c, true);
		json_object_set_new(o, "path", str(r->key, pl));
		json_object_set_new(o, "reason", str(r->key + pl + 1, r->klen - pl - 1));
		json_array_append_new(rows, o);
	}
	json_t *o = table(&s, &t->unguarded, rows);
	tg_slice_free(&s);
	free(v);
	return o;
}

int tg_report_json(const struct tg_tally *t, FILE *out)
{
	json_t *files = json_array(), *rules = json_array();
	size_t nj;
	const struct tg_row **jobs = tg_table_sorted(&t->jobs, &nj);
	json_t *jl = json_array();

	for (size_t i = 0; i < t->nfiles; i++)
		json_array_append_new(files, json_string(t->files[i]));
	for (const char **r = t->o->rules; r && *r; r++)
		json_array_append_new(rules, json_string(*r));
	for (size_t i = 0; i < nj; i++)
		json_array_append_new(jl, str(jobs[i]->key, jobs[i]->klen));
	free(jobs);

	json_t *doc = json_object();
	json_object_set_new(doc, "files", files);
	json_object_set_new(doc, "lines", json_integer(t->lines));
	json_object_set_new(doc, "records", json_integer(t->records));
	json_object_set_new(doc, "other_records", json_integer(t->other));
	json_object_set_new(doc, "malformed_lines", json_integer(t->malformed));
	json_object_set_new(doc, "filtered_out", json_integer(t->filtered));
	json_object_set_new(doc, "filters",
			    json_pack("{s:o, s:o}", "since",
				      t->o->since ? time_json(t->o->since_ms) : json_null(),
				      "rules", rules));
	json_object_set_new(doc, "jobs", jl);
	json_object_set_new(doc, "verification",
			    json_pack("{s:b, s:b, s:s}", "checked", t->verified >= 0, "verified",
				      t->verified == 1, "message", tg_report_verification(t)));
	json_object_set_new(doc, "first", time_json(t->total.first_ms));
	json_object_set_new(doc, "last", time_json(t->total.last_ms));
	json_object_set_new(doc, "totals", counts(json_object(), &t->total, false));
	json_object_set_new(doc, "by_rule", flat(t, &t->rules, "rule"));
	json_object_set_new(doc, "by_folder",
			    grouped(t, &t->folders, &t->paths, tg_row_in_folder, "folder", "paths",
				    "path"));
	json_object_set_new(doc, "by_executable",
			    grouped(t, &t->exes, &t->cmdlines, tg_row_of_exe, "executable",
				    "command_lines", "cmd_line"));
	json_object_set_new(doc, "timeline", timeline(t));
	json_object_set_new(doc, "unguarded_execs", unguarded(t));

	int r = json_dumpf(doc, out, JSON_SORT_KEYS | JSON_INDENT(1)) < 0 ? -EIO : 0;
	json_decref(doc);
	if (r == 0 && putc('\n', out) == EOF)
		r = -EIO;
	return r;
}
