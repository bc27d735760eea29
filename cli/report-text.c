/* trainguard report for a terminal: the totals, then one table per view
 * with the four counts first and the key (a rule, a path, a program) last,
 * so long paths need no column. Control characters in a key (a log written
 * by hand can hold any) are shown as \xNN, never sent to the terminal. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define HEAD "   denied  would-deny   audited   killed"

/* S (LEN bytes) with C0, DEL and C1 controls shown as \xNN. */
static void put(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\x%02x", c);
		} else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
			   (unsigned char)s[i + 1] <= 0x9f) {
			fprintf(out, "\\x%02x", (unsigned char)s[++i]);
		} else {
			putc(c, out);
		}
	}
}

static void counts(FILE *out, const struct tg_counts *c)
{
	fprintf(out, "  %7lld  %10lld  %8lld  %7lld", c->denied, c->would, c->audited, c->killed);
}

static void more(FILE *out, const char *indent, size_t n, const struct tg_counts *c,
		 const char *what)
{
	if (!n)
		return;
	counts(out, c);
	fprintf(out, "  %s(%zu more %s%s)\n", indent, n, what, n == 1 ? "" : "s");
}

static void lost(FILE *out, const struct tg_table *t)
{
	if (!t->nlost)
		return;
	counts(out, &t->lost);
	fprintf(out, "  (records past the %d keys this report keeps)\n", TG_REPORT_MAX_KEYS);
}

static int rules(const struct tg_tally *t, FILE *out)
{
	size_t n;
	const struct tg_row **v = tg_table_sorted(&t->rules, &n);
	struct tg_slice s;
	char a[32], b[32];

	if (tg_slice_top(v, n, t->o->top, NULL, NULL, &s) < 0) {
		free(v);
		return -ENOMEM;
	}
	fprintf(out, "\nby rule\n" HEAD "  first                 last                  rule\n");
	for (size_t i = 0; i < s.n; i++) {
		counts(out, &s.rows[i]->c);
		fprintf(out, "  %-20s  %-20s  ",
			tg_report_time(s.rows[i]->c.first_ms, false, a, 32),
			tg_report_time(s.rows[i]->c.last_ms, false, b, 32));
		put(out, s.rows[i]->key, s.rows[i]->klen);
		putc('\n', out);
	}
	more(out, "", s.nmore, &s.more, "rule");
	lost(out, &t->rules);
	tg_slice_free(&s);
	free(v);
	return 0;
}

/* A table of groups (folders, programs) each with its members (paths,
 * command lines) under it, indented. */
static int grouped(const struct tg_tally *t, FILE *out, const char *title,
		   const struct tg_table *groups, const struct tg_table *members,
		   bool (*in)(const struct tg_row *, const struct tg_row *), const char *head,
		   const char *gname, const char *mname)
{
	size_t ng, nm;
	const struct tg_row **gv = tg_table_sorted(groups, &ng);
	const struct tg_row **mv = tg_table_sorted(members, &nm);
	struct tg_slice gs, ms;
	int r = -ENOMEM;

	if (tg_slice_top(gv, ng, t->o->top, NULL, NULL, &gs) < 0)
		goto out;
	fprintf(out, "\n%s\n" HEAD "  %s\n", title, head);
	for (size_t i = 0; i < gs.n; i++) {
		const struct tg_row *g = gs.rows[i];
		counts(out, &g->c);
		fputs("  ", out);
		put(out, g->key, g->klen);
		fputs(in == tg_row_in_folder && strcmp(g->key, "/") != 0 ? "/\n" : "\n", out);
		if (tg_slice_top(mv, nm, t->o->members, in, g, &ms) < 0)
			goto out_g;
		for (size_t j = 0; j < ms.n; j++) {
			const struct tg_row *m = ms.rows[j];
			/* A path without its folder; a command line without its program. */
			size_t skip = g->klen + (g->klen > 1 || in != tg_row_in_folder);
			counts(out, &m->c);
			fputs("      ", out);
			if (in == tg_row_of_exe && m->klen == skip)
				fputs("(no command line)", out);
			put(out, m->key + skip, m->klen - skip);
			putc('\n', out);
		}
		/* --paths 0: the group's row says it all. */
		if (t->o->members)
			more(out, "    ", ms.nmore, &ms.more, mname);
		tg_slice_free(&ms);
	}
	more(out, "", gs.nmore, &gs.more, gname);
	lost(out, groups);
	r = 0;
out_g:
	tg_slice_free(&gs);
out:
	free(gv);
	free(mv);
	return r;
}

static int timeline(const struct tg_tally *t, FILE *out)
{
	size_t n;
	const struct tg_row **v = tg_table_sorted_by_minute(&t->minutes, &n);
	long long peak = 0;
	char m[32];
	/* A terminal page of minutes; the JSON and HTML reports have them all. */
	size_t shown = n < 60 ? n : 60;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		long long a = tg_counts_total(&v[i]->c);
		peak = a > peak ? a : peak;
	}
	fprintf(out, "\ntimeline (per minute, UTC; # denied or would-deny, . audited)\n" HEAD
		     "  minute\n");
	for (size_t i = 0; i < shown; i++) {
		const struct tg_counts *c = &v[i]->c;
		long long minute = strtoll(v[i]->key, NULL, 10);
		int alerts = peak ? (int)((tg_counts_alerts(c) * 30 + peak - 1) / peak) : 0;
		int all = peak ? (int)((tg_counts_total(c) * 30 + peak - 1) / peak) : 0;
		counts(out, c);
		fprintf(out, "  %s  ", tg_report_time(minute * 60000, true, m, sizeof(m)));
		for (int k = 0; k < all; k++)
			putc(k < alerts ? '#' : '.', out);
		putc('\n', out);
	}
	if (n > shown) {
		struct tg_counts rest = { 0 };
		for (size_t i = shown; i < n; i++)
			tg_counts_add(&rest, &v[i]->c);
		counts(out, &rest);
		fprintf(out, "  (%zu more minutes: --format json or html lists them all)\n",
			n - shown);
	}
	lost(out, &t->minutes);
	if (t->minutes.lost.denied + t->minutes.lost.would + t->minutes.lost.audited) {
		counts(out, &t->minutes.lost);
		fprintf(out, "  (past the %d minutes this report keeps)\n", TG_REPORT_MAX_MINUTES);
	}
	free(v);
	return 0;
}

static int unguarded(const struct tg_tally *t, FILE *out)
{
	size_t n;
	const struct tg_row **v = tg_table_sorted(&t->unguarded, &n);
	struct tg_slice s;

	if (!n)
		return 0;
	if (tg_slice_top(v, n, t->o->top, NULL, NULL, &s) < 0) {
		free(v);
		return -ENOMEM;
	}
	fprintf(out,
		"\nunguarded execs (programs the guard cannot follow)\n" HEAD "  program (why)\n");
	for (size_t i = 0; i < s.n; i++) {
		const struct tg_row *r = s.rows[i];
		size_t pl = strlen(r->key);
		counts(out, &r->c);
		fputs("  ", out);
		put(out, r->key, pl);
		fputs(" (", out);
		put(out, r->key + pl + 1, r->klen - pl - 1);
		fputs(")\n", out);
	}
	more(out, "", s.nmore, &s.more, "program");
	lost(out, &t->unguarded);
	tg_slice_free(&s);
	free(v);
	return 0;
}

int tg_report_text(const struct tg_tally *t, FILE *out)
{
	char a[32], b[32];
	size_t nj;
	const struct tg_row **jobs = tg_table_sorted(&t->jobs, &nj);

	fputs("trainguard report of", out);
	for (size_t i = 0; i < t->nfiles; i++) {
		fputs(" ", out);
		put(out, t->files[i], strlen(t->files[i]));
	}
	fprintf(out, "\n  %lld record%s", t->records, t->records == 1 ? "" : "s");
	if (t->other)
		fprintf(out, " (%lld without a decision: start, stop, process links)", t->other);
	if (t->filtered)
		fprintf(out, "; %lld left out by --since or --rule", t->filtered);
	if (t->malformed)
		fprintf(out, "; %lld malformed line%s skipped", t->malformed,
			t->malformed == 1 ? "" : "s");
	fputs("\n", out);
	if (t->o->since || t->o->rules) {
		fputs("  filters:", out);
		if (t->o->since)
			fprintf(out, " since %s", tg_report_time(t->o->since_ms, false, a, 32));
		for (const char **r = t->o->rules; r && *r; r++) {
			fputs(" rule ", out);
			put(out, *r, strlen(*r));
		}
		fputs("\n", out);
	}
	for (size_t i = 0; i < nj && i < t->o->top; i++) {
		fputs(i ? ", " : "  job: ", out);
		put(out, jobs[i]->key, jobs[i]->klen);
	}
	if (nj > t->o->top)
		fprintf(out, " and %zu more", nj - t->o->top);
	if (nj)
		fputs("\n", out);
	free(jobs);
	if (t->total.first_ms)
		fprintf(out, "  first: %s  last: %s\n",
			tg_report_time(t->total.first_ms, false, a, 32),
			tg_report_time(t->total.last_ms, false, b, 32));
	fprintf(out, "  verification: %s\n", tg_report_verification(t));

	fprintf(out,
		"\ntotals\n  denied      %lld\n  would-deny  %lld\n  audited     %lld\n"
		"  killed      %lld (counted in denied too)\n",
		t->total.denied, t->total.would, t->total.audited, t->total.killed);
	if (!tg_counts_total(&t->total))
		return ferror(out) ? -EIO : 0;

	int r = rules(t, out);
	if (r >= 0)
		r = grouped(t, out, "by folder and path", &t->folders, &t->paths, tg_row_in_folder,
			    "folder/ then its paths", "folder", "path");
	if (r >= 0)
		r = grouped(t, out, "by executable and command line", &t->exes, &t->cmdlines,
			    tg_row_of_exe, "executable then its command lines", "executable",
			    "command line");
	if (r >= 0)
		r = timeline(t, out);
	if (r >= 0)
		r = unguarded(t, out);
	if (r < 0)
		return r;
	return ferror(out) ? -EIO : 0;
}
