/* trainguard report --format html: one self-contained page (inline CSS, an
 * inline SVG timeline, no script, font or URL; its Content-Security-Policy
 * forbids loading anything) to attach to a ticket or open offline.
 *
 * Every string from a log is escaped for HTML text and attributes; control
 * characters, which HTML cannot carry, are shown as \xNN. Tables keep the
 * counts in cells of their own (class denied, would, audited, killed) and
 * the key in a data-key attribute, so a test reads the figures from the DOM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static void esc(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(out, "\\x%02x", c);
			else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
				 (unsigned char)s[i + 1] <= 0x9f)
				fprintf(out, "\\x%02x", (unsigned char)s[++i]);
			else
				putc(c, out);
		}
	}
}

static void escs(FILE *out, const char *s)
{
	esc(out, s, strlen(s));
}

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24;background:#fff}"
	"h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px}"
	"table{border-collapse:collapse;margin:4px 0}"
	"th,td{padding:3px 10px;border-bottom:1px solid #e3e6ea;text-align:left;"
	"vertical-align:top}"
	"th{background:#f4f6f8;font-weight:600;white-space:nowrap}td.t{white-space:nowrap}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"td.key{font-family:ui-monospace,monospace;word-break:break-all;max-width:70ch}"
	"tr.member td.key{padding-left:28px;color:#444}"
	"tr.more td{color:#666;font-style:italic}"
	"td.denied.hit{color:#b3261e;font-weight:600}td.would.hit{color:#a15c00;font-weight:600}"
	"td.killed.hit{color:#6d1b7b;font-weight:600}"
	"dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0}"
	"dt{color:#555}dd{margin:0;font-family:ui-monospace,monospace}"
	"#totals td{font-size:20px;font-weight:600;text-align:center;min-width:90px}"
	".verify{color:#a15c00}"
	"svg text{font:11px system-ui,sans-serif;fill:#444}"
	".legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}";

static void cells(FILE *out, const struct tg_counts *c)
{
	const long long v[] = { c->denied, c->would, c->audited, c->killed };
	static const char *const cls[] = { "denied", "would", "audited", "killed" };
	for (int i = 0; i < 4; i++)
		fprintf(out, "<td class=\"n %s%s\">%lld</td>", cls[i], v[i] && i != 2 ? " hit" : "",
			v[i]);
}

static void times(FILE *out, const struct tg_counts *c)
{
	char a[32], b[32];
	fprintf(out, "<td class=\"t\">%s</td><td class=\"t\">%s</td>",
		tg_report_time(c->first_ms, false, a, 32),
		tg_report_time(c->last_ms, false, b, 32));
}

#define HEAD_COUNTS "<th>denied</th><th>would-deny</th><th>audited</th><th>killed</th>"

static void more_row(FILE *out, size_t n, const struct tg_counts *c, const char *what, bool member,
		     bool with_times)
{
	if (!n)
		return;
	fprintf(out, "<tr class=\"more%s\"><td class=\"key\">%zu more %s%s</td>",
		member ? " member" : "", n, what, n == 1 ? "" : "s");
	cells(out, c);
	if (with_times)
		fputs("<td></td><td></td>", out);
	fputs("</tr>\n", out);
}

static void lost_row(FILE *out, const struct tg_table *t, bool with_times)
{
	if (!t->nlost)
		return;
	fprintf(out,
		"<tr class=\"more lost\"><td class=\"key\">records past the %d keys this "
		"report keeps</td>",
		TG_REPORT_MAX_KEYS);
	cells(out, &t->lost);
	if (with_times)
		fputs("<td></td><td></td>", out);
	fputs("</tr>\n", out);
}

static void row(FILE *out, const char *cls, const char *key, size_t klen, const char *show,
		size_t slen, const struct tg_counts *c)
{
	fprintf(out, "<tr class=\"%s\" data-key=\"", cls);
	esc(out, key, klen);
	fputs("\"><td class=\"key\">", out);
	esc(out, show, slen);
	fputs("</td>", out);
	cells(out, c);
	times(out, c);
	fputs("</tr>\n", out);
}

static void rules(const struct tg_tally *t, FILE *out)
{
	size_t n;
	const struct tg_row **v = tg_table_sorted(&t->rules, &n);
	struct tg_slice s;

	tg_slice_top(v, n, t->o->top, NULL, NULL, &s);
	fputs("<h2>By rule</h2>\n<table id=\"by-rule\"><thead><tr><th>rule</th>" HEAD_COUNTS
	      "<th>first</th><th>last</th></tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < s.n; i++)
		row(out, "rule", s.rows[i]->key, s.rows[i]->klen, s.rows[i]->key, s.rows[i]->klen,
		    &s.rows[i]->c);
	more_row(out, s.nmore, &s.more, "rule", false, true);
	lost_row(out, &t->rules, true);
	fputs("</tbody></table>\n", out);
	tg_slice_free(&s);
	free(v);
}

static void grouped(const struct tg_tally *t, FILE *out, const char *title, const char *id,
		    const char *head, const struct tg_table *groups, const struct tg_table *members,
		    bool (*in)(const struct tg_row *, const struct tg_row *), const char *gname,
		    const char *mname)
{
	size_t ng, nm;
	const struct tg_row **gv = tg_table_sorted(groups, &ng);
	const struct tg_row **mv = tg_table_sorted(members, &nm);
	struct tg_slice gs, ms;

	tg_slice_top(gv, ng, t->o->top, NULL, NULL, &gs);
	fprintf(out,
		"<h2>%s</h2>\n<table id=\"%s\"><thead><tr><th>%s</th>" HEAD_COUNTS
		"<th>first</th><th>last</th></tr></thead><tbody>\n",
		title, id, head);
	for (size_t i = 0; i < gs.n; i++) {
		const struct tg_row *g = gs.rows[i];
		row(out, "group", g->key, g->klen, g->key, g->klen, &g->c);
		tg_slice_top(mv, nm, t->o->members, in, g, &ms);
		for (size_t j = 0; j < ms.n; j++) {
			const struct tg_row *m = ms.rows[j];
			bool exe = in == tg_row_of_exe;
			size_t skip = g->klen + (g->klen > 1 || exe);
			/* data-key: the whole path, or the command line alone. */
			size_t kskip = exe ? g->klen + 1 : 0;
			if (exe && m->klen == skip)
				row(out, "member", "", 0, "(no command line)", 17, &m->c);
			else
				row(out, "member", m->key + kskip, m->klen - kskip, m->key + skip,
				    m->klen - skip, &m->c);
		}
		if (t->o->members)
			more_row(out, ms.nmore, &ms.more, mname, true, true);
		tg_slice_free(&ms);
	}
	more_row(out, gs.nmore, &gs.more, gname, false, true);
	lost_row(out, groups, true);
	fputs("</tbody></table>\n", out);
	tg_slice_free(&gs);
	free(gv);
	free(mv);
}

/* The timeline as stacked bars: at most 240 bars, each one minute or,
 * for a longer log, the same number of minutes. */
#define BARS 240
static void timeline(const struct tg_tally *t, FILE *out)
{
	size_t n;
	const struct tg_row **v = tg_table_sorted_by_minute(&t->minutes, &n);
	struct tg_counts bar[BARS] = { { 0 } };
	char a[32], b[32];

	if (!n) {
		free(v);
		return;
	}
	long long m0 = strtoll(v[0]->key, NULL, 10), m1 = strtoll(v[n - 1]->key, NULL, 10);
	long long span = m1 - m0 + 1, per = (span + BARS - 1) / BARS;
	long long nb = (span + per - 1) / per, peak = 1;
	for (size_t i = 0; i < n; i++)
		tg_counts_add(&bar[(strtoll(v[i]->key, NULL, 10) - m0) / per], &v[i]->c);
	for (long long i = 0; i < nb; i++)
		if (tg_counts_total(&bar[i]) > peak)
			peak = tg_counts_total(&bar[i]);

	const int w = 880, h = 140, left = 50, top = 10;
	/* A short log keeps narrow bars: one minute is not the whole width. */
	double bw = (double)(w - left - 10) / (double)nb;
	if (bw > 24)
		bw = 24;
	fprintf(out,
		"<h2>Timeline</h2>\n<p>per %lld minute%s, UTC; %zu minute%s with records"
		"<span class=\"legend\"><span style=\"background:#b3261e\"></span>denied"
		"<span style=\"background:#e69500\"></span>would-deny"
		"<span style=\"background:#9aa4ae\"></span>audited</span></p>\n",
		per, per == 1 ? "" : "s", n, n == 1 ? "" : "s");
	fprintf(out,
		"<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
		"aria-label=\"records per minute\">\n",
		w, h + 40, w, h + 40);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", left,
		top + h, w - 10, top + h);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%lld</text>\n", left - 6,
		top + 10, peak);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", left - 6, top + h);
	for (long long i = 0; i < nb; i++) {
		const struct tg_counts *c = &bar[i];
		const long long part[] = { c->denied, c->would, c->audited };
		static const char *const fill[] = { "#b3261e", "#e69500", "#9aa4ae" };
		double y = top + h;
		if (!tg_counts_total(c))
			continue;
		fprintf(out, "<g><title>%s: %lld denied, %lld would-deny, %lld audited</title>",
			tg_report_time((m0 + i * per) * 60000, true, a, 32), c->denied, c->would,
			c->audited);
		for (int k = 0; k < 3; k++) {
			if (!part[k])
				continue;
			double ph = (double)part[k] * h / (double)peak;
			if (ph < 1)
				ph = 1;
			y -= ph;
			fprintf(out,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"/>",
				left + i * bw, y, bw > 2 ? bw - 1 : bw, ph, fill[k]);
		}
		fputs("</g>\n", out);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\">%s</text>\n", left, top + h + 18,
		tg_report_time(m0 * 60000, true, a, 32));
	if (m1 != m0)
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
			left + nb * bw, top + h + 18, tg_report_time(m1 * 60000, true, b, 32));
	fputs("</svg>\n", out);
	free(v);
}

static void unguarded(const struct tg_tally *t, FILE *out)
{
	size_t n;
	const struct tg_row **v = tg_table_sorted(&t->unguarded, &n);
	struct tg_slice s;

	if (!n)
		return;
	tg_slice_top(v, n, t->o->top, NULL, NULL, &s);
	fputs("<h2>Unguarded execs</h2>\n<p>Programs the guard cannot follow: they run "
	      "without it.</p>\n<table id=\"unguarded\"><thead><tr><th>program</th>"
	      "<th>why</th>" HEAD_COUNTS "</tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < s.n; i++) {
		const struct tg_row *r = s.rows[i];
		size_t pl = strlen(r->key);
		fputs("<tr data-key=\"", out);
		esc(out, r->key, pl);
		fputs("\"><td class=\"key\">", out);
		esc(out, r->key, pl);
		fputs("</td><td>", out);
		esc(out, r->key + pl + 1, r->klen - pl - 1);
		fputs("</td>", out);
		cells(out, &r->c);
		fputs("</tr>\n", out);
	}
	if (s.nmore) {
		fprintf(out,
			"<tr class=\"more\"><td class=\"key\">%zu more program%s</td><td></td>",
			s.nmore, s.nmore == 1 ? "" : "s");
		cells(out, &s.more);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
	tg_slice_free(&s);
	free(v);
}

int tg_report_html(const struct tg_tally *t, FILE *out)
{
	char a[32];
	size_t nj;
	const struct tg_row **jobs = tg_table_sorted(&t->jobs, &nj);

	fprintf(out,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"style-src 'unsafe-inline'\">\n"
		"<meta name=\"viewport\" content=\"width=device-width\">\n"
		"<title>trainguard report</title>\n<style>%s</style></head>\n<body>\n"
		"<h1>trainguard report</h1>\n<dl id=\"summary\">\n<dt>logs</dt><dd>",
		style);
	for (size_t i = 0; i < t->nfiles; i++) {
		if (i)
			fputs("<br>", out);
		escs(out, t->files[i]);
	}
	fprintf(out, "</dd>\n<dt>records</dt><dd id=\"records\">%lld</dd>\n", t->records);
	if (t->other)
		fprintf(out,
			"<dt>without a decision</dt><dd>%lld (start, stop, process links)</dd>\n",
			t->other);
	if (t->filtered)
		fprintf(out, "<dt>left out</dt><dd>%lld by --since or --rule</dd>\n", t->filtered);
	if (t->malformed)
		fprintf(out, "<dt>malformed lines</dt><dd id=\"malformed\">%lld skipped</dd>\n",
			t->malformed);
	if (t->o->since)
		fprintf(out, "<dt>since</dt><dd>%s</dd>\n",
			tg_report_time(t->o->since_ms, false, a, 32));
	for (const char **r = t->o->rules; r && *r; r++) {
		fputs("<dt>rule</dt><dd>", out);
		escs(out, *r);
		fputs("</dd>\n", out);
	}
	for (size_t i = 0; i < nj && i < t->o->top; i++) {
		fputs("<dt>job</dt><dd>", out);
		esc(out, jobs[i]->key, jobs[i]->klen);
		fputs("</dd>\n", out);
	}
	if (nj > t->o->top)
		fprintf(out, "<dt>jobs</dt><dd>%zu more</dd>\n", nj - t->o->top);
	free(jobs);
	fprintf(out, "<dt>first</dt><dd id=\"first\">%s</dd>\n",
		tg_report_time(t->total.first_ms, false, a, 32));
	fprintf(out, "<dt>last</dt><dd id=\"last\">%s</dd>\n",
		tg_report_time(t->total.last_ms, false, a, 32));
	fprintf(out,
		"<dt>verification</dt><dd class=\"verify\" id=\"verification\">%s</dd>\n</dl>\n",
		tg_report_verification(t));

	fputs("<h2>Totals</h2>\n<table id=\"totals\"><thead><tr>" HEAD_COUNTS
	      "</tr></thead><tbody><tr>",
	      out);
	cells(out, &t->total);
	fputs("</tr></tbody></table>\n<p>Killed processes are counted in denied too.</p>\n", out);

	if (tg_counts_total(&t->total)) {
		timeline(t, out);
		rules(t, out);
		grouped(t, out, "By folder and path", "by-folder", "folder / path", &t->folders,
			&t->paths, tg_row_in_folder, "folder", "path");
		grouped(t, out, "By executable and command line", "by-executable",
			"executable / command line", &t->exes, &t->cmdlines, tg_row_of_exe,
			"executable", "command line");
		unguarded(t, out);
	}
	fputs("</body></html>\n", out);
	return ferror(out) ? -EIO : 0;
}
