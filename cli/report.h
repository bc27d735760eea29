/* trainguard report: what its files share. The tally (report-tally.c)
 * reads logs line by line into bounded tables; report-table.c is the
 * table those are made of; one printer per format (report-text.c,
 * report-json.c, report-html.c) turns a finished tally into a report.
 *
 * Memory is constant per distinct key: every table stops taking new keys
 * at TG_REPORT_MAX_KEYS and counts what it could not keep in its `lost`
 * row, which the printers show as "N more". */
#ifndef TG_CLI_REPORT_H
#define TG_CLI_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Distinct keys a table keeps; past it, counts go to the table's lost row. */
#define TG_REPORT_MAX_KEYS 8192
/* Distinct minutes the timeline keeps (a week). */
#define TG_REPORT_MAX_MINUTES (7 * 24 * 60)
/* The longest line read; a longer one is malformed (records stay under 16 KiB). */
#define TG_REPORT_MAX_LINE (1 << 20)

/* What happened, in the four totals of a report. A record counts
 * unmapped.trainguard.count times (a folded flood), at least once. */
struct tg_counts {
	long long denied;   /* refused in enforce mode, killed ones included */
	long long would;    /* audit mode's would_deny, learn records enforce would refuse */
	long long audited;  /* logged allowed accesses (audit = true, log.allowed, learn) */
	long long killed;   /* refused and the process killed (on_deny = "kill") */
	long long first_ms; /* time of the first and last record counted; 0: none */
	long long last_ms;
};

/* A row of a table: a key (bytes, NUL-terminated; may hold a NUL
 * between two parts, KLEN says how long) and its counts. */
struct tg_row {
	char *key;
	size_t klen;
	struct tg_counts c;
};

struct tg_table {
	struct tg_row *rows; /* open addressing, CAP slots, key NULL when free */
	size_t cap, n;
	struct tg_counts lost; /* counts of keys the table could not keep */
	long long nlost;       /* records added to the lost row */
};

/* Rows to show: the first TOP of sorted rows that pass a filter, and the
 * sums of those that pass and are not shown (NMORE rows). */
struct tg_slice {
	const struct tg_row **rows; /* allocated; the rows are borrowed */
	size_t n, nmore;
	struct tg_counts more;
};

/* Adds C to KEY's row (made when new, unless the table is full: then to
 * the lost row). Returns 0, or -ENOMEM (counted as lost). */
int tg_table_add(struct tg_table *t, const char *key, size_t klen, const struct tg_counts *c);
const struct tg_row *tg_table_get(const struct tg_table *t, const char *key, size_t klen);
/* The rows, sorted: most alerts (denied + would + killed) first, then most
 * counted, then by key; an array of pointers into T (free it; not the rows).
 * *RET_N gets the number of rows. NULL with *RET_N 0 when empty or no memory. */
const struct tg_row **tg_table_sorted(const struct tg_table *t, size_t *ret_n);
/* Rows sorted by key as a number (the timeline's minutes). */
const struct tg_row **tg_table_sorted_by_minute(const struct tg_table *t, size_t *ret_n);
void tg_table_free(struct tg_table *t);

/* The first TOP of the N rows V (sorted) for which IN(row, ARG) holds
 * (IN NULL: all), into RET. Returns 0 or -ENOMEM. */
int tg_slice_top(const struct tg_row **v, size_t n, size_t top,
		 bool (*in)(const struct tg_row *r, const struct tg_row *arg),
		 const struct tg_row *arg, struct tg_slice *ret);
void tg_slice_free(struct tg_slice *s);
/* Filters for tg_slice_top: a path of the folder ARG, a "EXE\0CMD" key of
 * the executable ARG. */
bool tg_row_in_folder(const struct tg_row *r, const struct tg_row *folder);
bool tg_row_of_exe(const struct tg_row *r, const struct tg_row *exe);

void tg_counts_add(struct tg_counts *to, const struct tg_counts *c);
long long tg_counts_total(const struct tg_counts *c);
long long tg_counts_alerts(const struct tg_counts *c);

struct tg_report_opts {
	long long since_ms; /* records before it are left out; 0: no limit */
	const char *since;  /* as given, for the header */
	const char **rules; /* fnmatch patterns of policy.uid; NULL-terminated, or NULL */
	size_t top;         /* rows shown per table */
	size_t members;     /* rows shown per group (paths of a folder): half as many */
};

struct tg_tally {
	const struct tg_report_opts *o;
	const char *const *files;
	size_t nfiles;
	long long lines, records, malformed, filtered, other;
	struct tg_counts total;
	struct tg_table rules, folders, paths, exes, cmdlines, minutes, unguarded, jobs;
	/* What trainguard verify says of the logs: 1 verified, 0 not, -1 not
	 * checked (standard input, or a log it could not read). */
	int verified;
};

/* The counts of one record REC (a parsed line) into RET, set whole: which
 * of denied (killed too), would, audited it is, REC's count times; false
 * when REC is no decision (start, stop, process links). trainguard run's
 * summary counts the same way. */
bool tg_report_classify(json_t *rec, struct tg_counts *ret);

/* Reads every line of F (named NAME in messages), adding what passes
 * the filters to T. Malformed lines are named on stderr and skipped.
 * Returns 0, or -errno when F could not be read (message printed). */
int tg_tally_file(struct tg_tally *t, FILE *f, const char *name);
void tg_tally_free(struct tg_tally *t);

/* The folder of a path key in the paths table ("/a/b/c" -> "/a/b"). */
size_t tg_report_folder_len(const char *path, size_t len);
/* Epoch milliseconds as "2026-12-02T04:52:30Z" (seconds) or, with MINUTE,
 * "2026-12-02T04:52Z"; into BUF (at least 32 bytes). */
const char *tg_report_time(long long ms, bool minute, char *buf, size_t cap);
/* The verification line every format shows, for T->verified. */
const char *tg_report_verification(const struct tg_tally *t);

/* The printers; each returns 0 or -errno (a write error). */
int tg_report_text(const struct tg_tally *t, FILE *out);
int tg_report_json(const struct tg_tally *t, FILE *out);
int tg_report_html(const struct tg_tally *t, FILE *out);

#endif
