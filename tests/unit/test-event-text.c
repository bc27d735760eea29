/* Event records: the byte form (invalid UTF-8, control bytes, a 20 KiB
 * command line cut to fit, a long path) and the text helpers on their own
 * (RFC 3339, UUIDv7, cutting, names, errno codes). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "event-internal.h"
#include "event-check.h"

void test_encoding(void)
{
	const char *w = "path with invalid UTF-8 and a control byte";
	struct tg_verdict v = { .cls = TG_READ, .rule = &rule_ro, .err = EACCES, .create_mode = -1 };
	struct tg_event ev = event("openat", O_RDONLY, "/data/caf\xe9/x\x1by%.bin", TG_BIT(TG_READ),
				   &v, TG_DEC_DENY, TG_ENFORCE, EACCES);
	ev.path_requested = "caf\xe9/x\x1by%.bin";
	json_t *r = record(w, &ev, &proc);
	if (r) {
		is_str(r, w, "file.path", "/data/caf%E9/x%1By%25.bin");
		is_str(r, w, "file.name", "x%1By%25.bin");
		is_str(r, w, "file.parent_folder", "/data/caf%E9");
		is_str(r, w, "observables.0.value", "/data/caf%E9/x%1By%25.bin");
		is_str(r, w, "unmapped.trainguard.path_requested", "caf%E9/x%1By%25.bin");
		is_str(r, w, "unmapped.trainguard.path_encoding", "percent");
		is_str(r, w, "message",
		       "denied openat(O_RDONLY) of /data/caf%E9/x%1By%25.bin by python3"
		       " (rule dataset-read-only)");
		absent(r, w, "unmapped.trainguard.percent_encoded");
		json_decref(r);
	}

	/* Only the requested path is bad: every path of the event follows it. */
	w = "invalid UTF-8 in path_requested only";
	ev.path = "/data/100%/ok";
	ev.path_requested = "\xff";
	r = record(w, &ev, &proc);
	if (r) {
		is_str(r, w, "file.path", "/data/100%25/ok");
		is_str(r, w, "unmapped.trainguard.path_requested", "%FF");
		is_str(r, w, "unmapped.trainguard.path_encoding", "percent");
		json_decref(r);
	}

	/* Well-formed UTF-8 stays as it is, '%' included. */
	w = "non-ASCII UTF-8 path";
	ev.path = "/data/café/100%/ü\xf0\x9f\x98\x80.bin";
	ev.path_requested = NULL;
	r = record(w, &ev, &proc);
	if (r) {
		is_str(r, w, "file.path", "/data/café/100%/ü\xf0\x9f\x98\x80.bin");
		is_str(r, w, "file.name", "ü\xf0\x9f\x98\x80.bin");
		absent(r, w, "unmapped.trainguard.path_encoding");
		json_decref(r);
	}

	/* Overlong, surrogate and out-of-range sequences are not UTF-8 either. */
	w = "overlong, surrogate and beyond U+10FFFF";
	ev.path = "/x/\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80";
	r = record(w, &ev, &proc);
	if (r) {
		is_str(r, w, "file.name", "%C0%AF%ED%A0%80%F4%90%80%80");
		json_decref(r);
	}

	/* Strings of the process are encoded alone and listed. */
	w = "process name and command line with bad bytes";
	struct tg_proc p = proc;
	p.name = "py\x07thon";
	p.cmd_line = "python3 -c \"print('\xff')\"\n";
	ev.path = "/data/ok";
	r = record(w, &ev, &p);
	if (r) {
		is_str(r, w, "actor.process.name", "py%07thon");
		is_str(r, w, "actor.process.cmd_line", "python3 -c \"print('%FF')\"%0A");
		is_strs(r, w, "unmapped.trainguard.percent_encoded",
			"actor.process.name,actor.process.cmd_line");
		absent(r, w, "unmapped.trainguard.path_encoding");
		is_str(r, w, "message",
		       "denied openat(O_RDONLY) of /data/ok by py%07thon (rule dataset-read-only)");
		json_decref(r);
	}
}

static char *repeat(const char *unit, size_t n)
{
	size_t l = strlen(unit);
	char *s = malloc(l * n + 1);
	if (!s) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * l, unit, l);
	s[l * n] = '\0';
	return s;
}

void test_long(void)
{
	const char *w = "20 KiB cmd_line";
	struct tg_verdict v = {
		.cls = TG_WRITE, .rule = &rule_ro, .err = EACCES, .create_mode = -1
	};
	struct tg_event ev = event("open", O_WRONLY, "/datasets/x", TG_BIT(TG_WRITE), &v,
				   TG_DEC_DENY, TG_ENFORCE, EACCES);
	struct tg_proc p = proc;
	char *cmd = repeat("python3 train.py --lr 0.1 ", 20 * 1024 / 26 + 1);
	p.cmd_line = cmd;
	json_t *r = record(w, &ev, &p);
	if (r) {
		const char *got = json_string_value(at(r, "actor.process.cmd_line"));
		ok(got && strlen(got) == 4096 && strncmp(got, cmd, 4096) == 0,
		   "%s: actor.process.cmd_line is its first 4 KiB (got %zu bytes)", w,
		   got ? strlen(got) : 0);
		is_strs(r, w, "unmapped.trainguard.truncated", "actor.process.cmd_line");
		is_bool(r, w, "metadata.is_truncated", true);
		json_decref(r);
	}

	/* A 4 KiB command line of quotes takes 8 KiB escaped: it is cut by its
	 * serialized size. */
	w = "cmd_line of quotes";
	free(cmd);
	cmd = repeat("\"", 20 * 1024);
	p.cmd_line = cmd;
	r = record(w, &ev, &p);
	if (r) {
		const char *got = json_string_value(at(r, "actor.process.cmd_line"));
		ok(got && strlen(got) == 2048, "%s: cut to 2048 quotes, 4 KiB escaped (got %zu)", w,
		   got ? strlen(got) : 0);
		json_decref(r);
	}

	/* Everything long at once, with escapes: the record is rebuilt with the
	 * small budgets and still fits. */
	w = "every field at its longest, exec";
	char *path = repeat("/\"\\\xe9", 1100); /* invalid UTF-8 too: percent-encoded */
	char *name = repeat("n", 300);
	char *argv[] = { cmd, cmd, NULL };
	char *big = repeat("\\", 3000);
	struct tg_rule rule = rule_ro;
	rule.id = big;
	rule.reason = big;
	rule.source = big;
	v.rule = &rule;
	v.pattern = big;
	p.exe = path;
	p.cwd = path;
	p.name = name;
	p.user = big;
	p.hostname = big;
	p.job_id = big;
	p.policy_sha256 = big;
	p.version = big;
	ev.op = "execve";
	ev.path = path;
	ev.path_requested = path;
	ev.path2 = path;
	ev.argv = argv;
	r = record(w, &ev, &p);
	if (r) {
		json_t *cut = at(r, "unmapped.trainguard.truncated");
		ok(has_str(cut, "process.cmd_line") && has_str(cut, "actor.process.cmd_line") &&
			   has_str(cut, "process.file.path") && has_str(cut, "message") &&
			   has_str(cut, "unmapped.trainguard.path2"),
		   "%s: the cut fields are listed", w);
		is_str(r, w, "unmapped.trainguard.path_encoding", "percent");
		is_int(r, w, "class_uid", 1007);
		json_decref(r);
	}

	w = "every field at its longest, file";
	ev.op = "openat";
	ev.argv = NULL;
	r = record(w, &ev, &p);
	if (r) {
		const char *fp = json_string_value(at(r, "file.path"));
		ok(fp && strncmp(fp, "/\"\\%E9/\"\\%E9", 12) == 0, "%s: file.path keeps its start",
		   w);
		is_str(r, w, "file.name", "\"\\%E9");
		json_decref(r);
	}
	free(path);
	free(name);
	free(big);
	free(cmd);
}

/* ---- The text helpers, on their own -------------------------------------- */

void test_text(void)
{
	static const struct {
		long long sec, nsec;
		const char *want;
	} times[] = {
		{ 0, 0, "1970-01-01T00:00:00.000000000Z" },
		{ 951782400, 5, "2000-02-29T00:00:00.000000005Z" }, /* a leap day */
		{ 1785312001, 456789000, "2026-07-29T08:00:01.456789000Z" },
		{ 4102444799, 999999999, "2099-12-31T23:59:59.999999999Z" },
		{ -1, 0, "1969-12-31T23:59:59.000000000Z" },
	};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		struct timespec ts = { .tv_sec = times[i].sec, .tv_nsec = times[i].nsec };
		char out[40];
		tg_put_rfc3339(out, &ts);
		ok(strcmp(out, times[i].want) == 0, "rfc3339 of %lld.%09lld is %s (got %s)",
		   times[i].sec, times[i].nsec, times[i].want, out);
	}

	/* 48 bits of ms, version 7, 12 bits of the sub-ms fraction, variant 10,
	 * 30 bits of pid, 32 of sequence. */
	struct timespec ts = { .tv_sec = 1785312001, .tv_nsec = 456500000 };
	char uid[37];
	tg_put_uuid7(uid, &ts, 0x12345, 7);
	ok(strcmp(uid, "019face3-3db0-7800-8001-234500000007") == 0,
	   "uuid7: time, version, fraction, variant, pid and sequence in place (%s)", uid);

	static const struct {
		const char *in;
		bool pct;
		size_t cap;
		const char *want;
		bool whole;
	} cuts[] = {
		{ "plain", false, 100, "plain", true },
		{ "plain", false, 3, "pla", false },
		{ "a\"b", false, 2, "a", false },         /* '"' costs two */
		{ "h\xc3\xa9llo", false, 2, "h", false }, /* é is not split */
		{ "h\xc3\xa9llo", false, 3, "h\xc3\xa9", false },
		{ "a\nb%", true, 100, "a%0Ab%25", true },
		{ "a\nb", true, 3, "a", false }, /* %0A does not fit in 2 */
		{ "\xff", true, 100, "%FF", true },
		{ "\xe0\x80\x80", true, 100, "%E0%80%80", true }, /* overlong */
		{ "a\nb", false, 100, "a", false }, /* unencoded: cut at the control byte */
	};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		size_t n = strlen(cuts[i].in);
		char out[64];
		bool whole = !cuts[i].whole;
		ok(tg_text_cut_room(n, cuts[i].pct, cuts[i].cap) <= sizeof(out),
		   "cut %zu: room is bounded", i);
		size_t len = tg_text_cut(cuts[i].in, n, cuts[i].pct, cuts[i].cap, out, &whole);
		ok(len == strlen(cuts[i].want) && strcmp(out, cuts[i].want) == 0 &&
			   whole == cuts[i].whole &&
			   len < tg_text_cut_room(n, cuts[i].pct, cuts[i].cap),
		   "cut %zu to %zu bytes%s gives '%s' (%s)", i, cuts[i].cap,
		   cuts[i].pct ? ", percent-encoded" : "", cuts[i].want,
		   cuts[i].whole ? "whole" : "cut");
	}
	ok(!tg_text_needs_percent("caf\xc3\xa9 \"ok\"", 100),
	   "needs_percent: UTF-8 and quotes are fine");
	ok(tg_text_needs_percent("a\tb", 100), "needs_percent: a control byte needs it");
	ok(!tg_text_needs_percent("abcdefgh\xff", 4),
	   "needs_percent: bytes past the budget are not looked at");

	char flags[TG_FLAG_NAMES_MAX], code[24];
	tg_open_flag_names(O_WRONLY | O_CREAT | O_TMPFILE | 0x40000000, flags);
	ok(strcmp(flags, "O_WRONLY|O_CREAT|O_TMPFILE|0x40000000") == 0,
	   "flag names: O_TMPFILE alone, unnamed bits in hex (%s)", flags);
	tg_errno_code(0, code);
	ok(strcmp(code, "OK") == 0, "errno code of 0 is OK (%s)", code);
	tg_errno_code(-EACCES, code);
	ok(strcmp(code, "errno:13") == 0, "errno code of a negative value is errno:N (%s)", code);
}
