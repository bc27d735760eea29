/* Event records: builds one record per kind of decision, parses each back
 * with jansson and checks the fields EVENTS.md promises, checks the byte
 * form (one canonical line under 16 KiB), nesting (a record built while
 * another is being built, from an allocation hook and from SIGALRM), threads,
 * the text helpers on their own (RFC 3339, UUIDv7, cutting, names), and
 * finally runs the project's OCSF 1.8.0 check (tests/ocsf) over every line.
 * It links the event library the preload links (libtgevent.a). TAP. */
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

/* ---- TAP ---------------------------------------------------------------- */

static int ntest, nfail;

static bool __attribute__((format(printf, 2, 3))) ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	ntest++;
	printf("%sok %d - ", cond ? "" : "not ", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		nfail++;
	return cond;
}

static void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ---- Every line goes to the validator at the end -------------------------- */

static char *all_lines;
static size_t all_len, all_cap;

static void keep_line(const char *line, size_t len)
{
	if (all_len + len + 1 > all_cap) {
		all_cap = (all_len + len + 1) * 2;
		all_lines = realloc(all_lines, all_cap);
		if (!all_lines) {
			printf("Bail out! out of memory\n");
			exit(1);
		}
	}
	memcpy(all_lines + all_len, line, len);
	all_len += len;
}

/* ---- Looking into a record ------------------------------------------------ */

/* "a.b.0.c": object keys, array indices. */
static json_t *at(json_t *root, const char *path)
{
	char buf[256], *save = NULL;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(cur))
			cur = json_array_get(cur, strtoul(tok, NULL, 10));
		else
			cur = json_object_get(cur, tok);
	}
	return cur;
}

static void is_str(json_t *r, const char *what, const char *path, const char *want)
{
	const char *got = json_string_value(at(r, path));
	if (!ok(got && strcmp(got, want) == 0, "%s: %s is \"%s\"", what, path, want))
		diag("got %s", got ? got : "(not a string or absent)");
}

static void is_int(json_t *r, const char *what, const char *path, long long want)
{
	json_t *v = at(r, path);
	if (!ok(json_is_integer(v) && json_integer_value(v) == want, "%s: %s is %lld", what, path,
		want))
		diag("got %lld (%s)", json_is_integer(v) ? json_integer_value(v) : 0,
		     v ? "integer?" : "absent");
}

static void is_bool(json_t *r, const char *what, const char *path, bool want)
{
	json_t *v = at(r, path);
	ok(json_is_boolean(v) && json_boolean_value(v) == want, "%s: %s is %s", what, path,
	   want ? "true" : "false");
}

static void absent(json_t *r, const char *what, const char *path)
{
	ok(at(r, path) == NULL, "%s: no %s", what, path);
}

/* The array at PATH holds exactly the strings of WANT ("a,b,c"). */
static void is_strs(json_t *r, const char *what, const char *path, const char *want)
{
	json_t *a = at(r, path);
	char got[1024] = "";
	size_t n = 0;

	for (size_t i = 0; json_is_array(a) && i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		n += snprintf(got + n, sizeof(got) - n, "%s%s", i ? "," : "",
			      s ? s : "(non-string)");
		if (n >= sizeof(got))
			break;
	}
	if (!ok(json_is_array(a) && strcmp(got, want) == 0, "%s: %s is [%s]", what, path, want))
		diag("got [%s]%s", got, json_is_array(a) ? "" : " (not an array)");
}

static bool has_str(json_t *arr, const char *want)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (s && strcmp(s, want) == 0)
			return true;
	}
	return false;
}

/* The most keys any object of the record holds (event.c keeps it under 64,
 * where glibc's qsort would start allocating). */
static size_t max_keys(json_t *v)
{
	size_t most = json_is_object(v) ? json_object_size(v) : 0, n;
	const char *key;
	json_t *child;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, child) if ((n = max_keys(child)) > most) most = n;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) if ((n = max_keys(child)) > most) most = n;
	}
	return most;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks the line's byte form and parses it; NULL (and a failed test) when
 * it is not a record. */
static json_t *check_line(const char *what, const char *buf, int r)
{
	size_t len = r > 0 ? strlen(buf) : 0;

	if (!ok(r > 0 && (size_t)r == len && buf[len - 1] == '\n' && len < TG_EVENT_MAX,
		"%s: one line under 16 KiB (length %d)", what, r))
		return NULL;
	ok(memchr(buf, '\n', len - 1) == NULL, "%s: no newline inside the line", what);
	keep_line(buf, len);

	json_error_t err;
	json_t *rec = json_loadb(buf, len - 1, JSON_REJECT_DUPLICATES, &err);
	if (!ok(json_is_object(rec), "%s: parses as one JSON object", what)) {
		diag("%s at column %d", err.text, err.column);
		return NULL;
	}
	char *again = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	ok(again && strlen(again) == len - 1 && memcmp(again, buf, len - 1) == 0,
	   "%s: canonical bytes (json_dumps of the parsed line gives the line)", what);
	free(again);
	ok(max_keys(rec) < 64, "%s: no object holds 64 keys or more (%zu)", what, max_keys(rec));
	return rec;
}

static json_t *record(const char *what, const struct tg_event *ev, const struct tg_proc *proc)
{
	static char buf[TG_EVENT_MAX];
	int r = tg_event_format(ev, proc, buf, sizeof(buf));
	if (r < 0)
		diag("tg_event_format: %s", strerror(-r));
	return check_line(what, buf, r);
}

/* Fields every record carries, whatever the decision. */
static void common(json_t *rec, const char *what, const struct tg_proc *p, long long t0)
{
	is_int(rec, what, "category_uid", 1);
	is_str(rec, what, "category_name", "System Activity");
	is_str(rec, what, "metadata.version", "1.8.0");
	is_str(rec, what, "metadata.product.name", "trainguard");
	is_str(rec, what, "metadata.product.vendor_name", "trainguard");
	is_str(rec, what, "metadata.product.version", p->version);
	is_strs(rec, what, "metadata.profiles", "security_control,datetime");
	is_str(rec, what, "metadata.correlation_uid", p->job_id);
	is_str(rec, what, "metadata.log_name", "trainguard");
	is_str(rec, what, "device.hostname", p->hostname);
	is_int(rec, what, "device.type_id", 1);
	is_str(rec, what, "device.type", "Server");
	is_int(rec, what, "actor.process.pid", p->pid);
	is_int(rec, what, "actor.process.ptid", syscall(SYS_gettid));
	is_str(rec, what, "actor.process.file.path", p->exe);
	is_str(rec, what, "actor.process.file.name", "python3.11");
	is_int(rec, what, "actor.process.file.type_id", 1);
	/* The user once, under actor (not again under actor.process). */
	absent(rec, what, "actor.process.user");
	is_str(rec, what, "actor.user.uid", "1000");
	is_str(rec, what, "actor.user.name", p->user);
	is_int(rec, what, "actor.process.parent_process.pid", p->ppid);
	is_int(rec, what, "actor.process.created_time", p->start_ms);
	is_str(rec, what, "actor.process.working_directory", p->cwd);
	is_int(rec, what, "observables.0.type_id", 45);
	is_str(rec, what, "observables.0.type", "File Path");

	json_t *cu = at(rec, "class_uid"), *au = at(rec, "activity_id");
	is_int(rec, what, "type_uid", json_integer_value(cu) * 100 + json_integer_value(au));

	/* time is now in ms; time_dt names the same instant with nanoseconds. */
	long long t = json_integer_value(at(rec, "time")), t1 = now_ms();
	ok(t >= t0 && t <= t1, "%s: time %lld is within [%lld, %lld]", what, t, t0, t1);
	const char *dt = json_string_value(at(rec, "time_dt"));
	char want[64];
	struct tm tm;
	time_t secs = (time_t)(t / 1000);
	gmtime_r(&secs, &tm);
	size_t n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(want + n, sizeof(want) - n, ".%03lld", t % 1000);
	if (!ok(dt && strlen(dt) == 30 && strncmp(dt, want, strlen(want)) == 0 && dt[29] == 'Z',
		"%s: time_dt is RFC 3339 with nanoseconds naming time", what))
		diag("time_dt %s, want %s......Z", dt ? dt : "(absent)", want);

	/* metadata.uid is a UUIDv7 whose first 48 bits are time. */
	const char *uid = json_string_value(at(rec, "metadata.uid"));
	unsigned long long ms = 0;
	if (uid && strlen(uid) == 36)
		ms = strtoull((char[]){ uid[0], uid[1], uid[2], uid[3], uid[4], uid[5], uid[6],
					uid[7], uid[9], uid[10], uid[11], uid[12], 0 },
			      NULL, 16);
	ok(uid && strlen(uid) == 36 && uid[8] == '-' && uid[13] == '-' && uid[14] == '7' &&
		   strchr("89ab", uid[19]) && (long long)ms == t,
	   "%s: metadata.uid is a UUIDv7 of the record's time (%s)", what, uid ? uid : "absent");
	ok(json_is_integer(at(rec, "metadata.sequence")) &&
		   json_integer_value(at(rec, "metadata.sequence")) > 0,
	   "%s: metadata.sequence is a positive integer", what);
}

/* ---- Fixtures ------------------------------------------------------------- */

static struct tg_proc proc = {
	.ppid = 4200,
	.uid = 1000,
	.exe = "/usr/bin/python3.11",
	.name = "python3",
	.cmd_line = "python3 train.py --config configs/resnet50.yaml",
	.user = "trainer",
	.hostname = "gpu-node-17",
	.cwd = "/workspace",
	.job_id = "01984f5e-2a7b-7c3d-9e4f-5a6b7c8d9e0f",
	.start_ms = 1785311998120,
	.policy_source = "/etc/trainguard/train.cfg",
	.policy_sha256 = "4a1d8c2f9e3b7a5d0c6e8f1b2a4d6c8e0f2a4b6d8e0c2a4f6b8d0e2c4a6f8b0d",
	.version = "0.1.0",
};

static const struct tg_rule rule_ro = {
	.id = "dataset-read-only",
	.source = "/etc/trainguard/train.cfg",
	.line = 14,
	.err = EACCES,
	.create_mode = -1,
	.reason = "datasets are read-only during training",
};
static const struct tg_rule rule_secrets = {
	.id = "secrets",
	.source = "profile:secrets",
	.line = 3,
	.err = EACCES,
	.create_mode = -1,
};
static const struct tg_rule rule_datasets = {
	.id = "datasets",
	.source = "/etc/trainguard/train.cfg",
	.line = 9,
	.audit = true,
	.create_mode = -1,
};
static const struct tg_rule rule_tools = {
	.id = "no-network-tools",
	.source = "/etc/trainguard/train.cfg",
	.line = 30,
	.err = EACCES,
	.create_mode = -1,
};

static struct tg_event event(const char *op, int flags, const char *path, unsigned classes,
			     const struct tg_verdict *v, enum tg_decision d, enum tg_mode m,
			     int err)
{
	return (struct tg_event){
		.op = op,
		.flags = flags,
		.dirfd = AT_FDCWD,
		.path = path,
		.classes = classes,
		.verdict = v,
		.decision = d,
		.mode = m,
		.err = err,
		.mode_requested = -1,
		.mode_applied = -1,
	};
}

/* ---- The record kinds ------------------------------------------------------ */

static void test_deny_open(void)
{
	const char *w = "enforce deny of open64";
	struct tg_verdict v = { .cls = TG_WRITE,
				.rule = &rule_ro,
				.pattern = "/datasets/**",
				.err = EACCES,
				.create_mode = -1,
				.denied = TG_BIT(TG_WRITE) };
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	struct tg_event ev = event("open64", flags, "/datasets/imagenet/train/x.tar",
				   TG_BIT(TG_WRITE) | TG_BIT(TG_CREATE), &v, TG_DEC_DENY,
				   TG_ENFORCE, EACCES);
	ev.path_requested = "../imagenet/train/x.tar";
	ev.mode_requested = 0666;
	ev.mode_applied = 0644;
	long long t0 = now_ms();
	json_t *r = record(w, &ev, &proc);
	if (!r)
		return;
	common(r, w, &proc, t0);
	is_int(r, w, "class_uid", 1001);
	is_str(r, w, "class_name", "File System Activity");
	is_int(r, w, "activity_id", 14);
	is_str(r, w, "activity_name", "Open");
	is_int(r, w, "type_uid", 100114);
	is_str(r, w, "type_name", "File System Activity: Open");
	is_int(r, w, "severity_id", 4);
	is_str(r, w, "severity", "High");
	is_int(r, w, "action_id", 2);
	is_str(r, w, "action", "Denied");
	is_int(r, w, "disposition_id", 2);
	is_str(r, w, "disposition", "Blocked");
	is_bool(r, w, "is_alert", true);
	is_int(r, w, "status_id", 2);
	is_str(r, w, "status", "Failure");
	is_str(r, w, "status_code", "EACCES");
	is_str(r, w, "message",
	       "denied open64(O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC) of /datasets/imagenet/train/x.tar"
	       " by python3 (rule dataset-read-only)");
	is_int(r, w, "access_mask", flags);
	is_str(r, w, "file.path", "/datasets/imagenet/train/x.tar");
	is_str(r, w, "file.name", "x.tar");
	is_str(r, w, "file.parent_folder", "/datasets/imagenet/train");
	is_int(r, w, "file.type_id", 0);
	is_str(r, w, "file.type", "Unknown");
	is_str(r, w, "observables.0.name", "file.path");
	is_str(r, w, "observables.0.value", "/datasets/imagenet/train/x.tar");
	is_str(r, w, "actor.process.name", "python3");
	is_str(r, w, "actor.process.cmd_line", proc.cmd_line);
	is_str(r, w, "policy.uid", "dataset-read-only");
	is_str(r, w, "policy.name", "dataset-read-only");
	is_str(r, w, "policy.desc", "datasets are read-only during training");
	is_bool(r, w, "policy.is_applied", true);
	is_str(r, w, "policy.data.source", "/etc/trainguard/train.cfg");
	is_int(r, w, "policy.data.line", 14);
	is_str(r, w, "policy.data.sha256", proc.policy_sha256);
	is_str(r, w, "policy.data.pattern", "/datasets/**");
	is_str(r, w, "unmapped.trainguard.op", "open64");
	is_strs(r, w, "unmapped.trainguard.flags", "O_WRONLY,O_CREAT,O_TRUNC,O_CLOEXEC");
	is_str(r, w, "unmapped.trainguard.dirfd", "AT_FDCWD");
	is_str(r, w, "unmapped.trainguard.path_requested", "../imagenet/train/x.tar");
	is_strs(r, w, "unmapped.trainguard.classes", "write,create");
	is_str(r, w, "unmapped.trainguard.decided_class", "write");
	is_str(r, w, "unmapped.trainguard.decision", "deny");
	is_str(r, w, "unmapped.trainguard.mode", "enforce");
	is_int(r, w, "unmapped.trainguard.errno", EACCES);
	is_str(r, w, "unmapped.trainguard.mode_requested", "0666");
	is_str(r, w, "unmapped.trainguard.mode_applied", "0644");
	/* The reason once: policy.desc. */
	absent(r, w, "unmapped.trainguard.reason");
	absent(r, w, "unmapped.trainguard.enforce_decision");
	absent(r, w, "unmapped.trainguard.path_encoding");
	absent(r, w, "unmapped.trainguard.truncated");
	absent(r, w, "unmapped.trainguard.path2");
	absent(r, w, "metadata.is_truncated");
	absent(r, w, "process");
	json_decref(r);
}

static void test_audit(void)
{
	const char *w = "audit-mode would_deny of openat";
	struct tg_verdict v = { .cls = TG_READ,
				.rule = &rule_secrets,
				.pattern = "~/.ssh/**",
				.err = EACCES,
				.create_mode = -1,
				.denied = TG_BIT(TG_READ) };
	struct tg_event ev = event("openat", O_RDONLY | O_CLOEXEC, "/home/trainer/.ssh/id_ed25519",
				   TG_BIT(TG_READ), &v, TG_DEC_WOULD_DENY, TG_AUDIT, 0);
	ev.dirfd = 7;
	long long t0 = now_ms();
	json_t *r = record(w, &ev, &proc);
	if (!r)
		return;
	common(r, w, &proc, t0);
	is_int(r, w, "class_uid", 1001);
	is_int(r, w, "activity_id", 14);
	/* Audit keeps the severity enforce would have given (High: the rule
	 * sets none) and says what enforce would have decided. */
	is_int(r, w, "severity_id", 4);
	is_str(r, w, "severity", "High");
	is_str(r, w, "unmapped.trainguard.enforce_decision", "deny");
	is_int(r, w, "action_id", 1);
	is_str(r, w, "action", "Allowed");
	is_int(r, w, "disposition_id", 15);
	is_str(r, w, "disposition", "Detected");
	is_bool(r, w, "is_alert", true);
	is_int(r, w, "status_id", 1);
	is_str(r, w, "status", "Success");
	is_str(r, w, "status_code", "OK");
	is_str(r, w, "message",
	       "would deny openat(O_RDONLY|O_CLOEXEC) of /home/trainer/.ssh/id_ed25519 by python3"
	       " (rule secrets)");
	is_str(r, w, "policy.uid", "secrets");
	is_int(r, w, "policy.data.line", 3);
	is_str(r, w, "policy.data.source", "profile:secrets");
	absent(r, w, "policy.desc");
	is_str(r, w, "file.path", "/home/trainer/.ssh/id_ed25519");
	is_str(r, w, "unmapped.trainguard.op", "openat");
	is_strs(r, w, "unmapped.trainguard.flags", "O_RDONLY,O_CLOEXEC");
	is_str(r, w, "unmapped.trainguard.dirfd", "7");
	is_str(r, w, "unmapped.trainguard.decision", "would_deny");
	is_str(r, w, "unmapped.trainguard.mode", "audit");
	is_int(r, w, "unmapped.trainguard.errno", 0);
	absent(r, w, "unmapped.trainguard.mode_requested");
	absent(r, w, "unmapped.trainguard.path_requested");
	json_decref(r);
}

static void test_allow(void)
{
	const char *w = "allowed lineage open";
	struct tg_verdict v = { .allow = true,
				.cls = TG_READ,
				.rule = &rule_datasets,
				.pattern = "/datasets/**",
				.audit = true,
				.create_mode = -1 };
	struct tg_event ev = event("open", O_RDONLY, "/datasets/imagenet/train/shard-00001.tar",
				   TG_BIT(TG_READ), &v, TG_DEC_ALLOW, TG_ENFORCE, 0);
	long long t0 = now_ms();
	json_t *r = record(w, &ev, &proc);
	if (!r)
		return;
	common(r, w, &proc, t0);
	is_int(r, w, "class_uid", 1001);
	is_int(r, w, "activity_id", 14);
	is_int(r, w, "severity_id", 1);
	is_str(r, w, "severity", "Informational");
	is_int(r, w, "action_id", 1);
	is_int(r, w, "disposition_id", 1);
	is_str(r, w, "disposition", "Allowed");
	is_bool(r, w, "is_alert", false);
	is_str(r, w, "status_code", "OK");
	is_str(r, w, "message",
	       "allowed open(O_RDONLY) of /datasets/imagenet/train/shard-00001.tar by python3"
	       " (rule datasets)");
	is_str(r, w, "policy.uid", "datasets");
	is_int(r, w, "policy.data.line", 9);
	is_str(r, w, "unmapped.trainguard.decision", "allow");
	is_strs(r, w, "unmapped.trainguard.flags", "O_RDONLY");
	is_strs(r, w, "unmapped.trainguard.classes", "read");
	json_decref(r);
}

static void test_default_rule(void)
{
	const char *w = "default-rule deny of unlink";
	struct tg_verdict v = {
		.cls = TG_DELETE, .err = EPERM, .create_mode = -1, .denied = TG_BIT(TG_DELETE)
	};
	struct tg_event ev = event("unlink", -1, "/home/trainer/.bashrc", TG_BIT(TG_DELETE), &v,
				   TG_DEC_DENY, TG_ENFORCE, EPERM);
	long long t0 = now_ms();
	json_t *r = record(w, &ev, &proc);
	if (!r)
		return;
	common(r, w, &proc, t0);
	is_int(r, w, "class_uid", 1001);
	is_int(r, w, "activity_id", 4);
	is_str(r, w, "activity_name", "Delete");
	is_int(r, w, "type_uid", 100104);
	is_str(r, w, "type_name", "File System Activity: Delete");
	is_int(r, w, "action_id", 2);
	is_str(r, w, "status_code", "EPERM");
	is_str(r, w, "policy.uid", "default:delete");
	is_str(r, w, "policy.name", "default:delete");
	is_str(r, w, "policy.data.source", proc.policy_source);
	is_str(r, w, "policy.data.sha256", proc.policy_sha256);
	absent(r, w, "policy.data.line");
	absent(r, w, "policy.desc");
	absent(r, w, "unmapped.trainguard.flags");
	absent(r, w, "access_mask");
	absent(r, w, "unmapped.trainguard.reason");
	is_str(r, w, "unmapped.trainguard.decided_class", "delete");
	is_int(r, w, "unmapped.trainguard.errno", EPERM);
	is_str(r, w, "file.name", ".bashrc");
	is_str(r, w, "file.parent_folder", "/home/trainer");
	is_str(r, w, "message",
	       "denied unlink of /home/trainer/.bashrc by python3 (rule default:delete)");
	json_decref(r);
}

static void test_exec(void)
{
	const char *w = "exec deny of execve";
	char *argv[] = { "curl", "-s", "https://example.com/x", NULL };
	struct tg_verdict v = { .cls = TG_EXEC,
				.rule = &rule_tools,
				.pattern = "/usr/bin/curl",
				.err = EACCES,
				.create_mode = -1,
				.denied = TG_BIT(TG_EXEC) };
	struct tg_event ev = event("execve", -1, "/usr/bin/curl", TG_BIT(TG_EXEC), &v, TG_DEC_DENY,
				   TG_ENFORCE, EACCES);
	ev.argv = argv;
	long long t0 = now_ms();
	json_t *r = record(w, &ev, &proc);
	if (r) {
		common(r, w, &proc, t0);
		is_int(r, w, "class_uid", 1007);
		is_str(r, w, "class_name", "Process Activity");
		is_int(r, w, "activity_id", 1);
		is_str(r, w, "activity_name", "Launch");
		is_int(r, w, "type_uid", 100701);
		is_str(r, w, "type_name", "Process Activity: Launch");
		is_int(r, w, "launch_type_id", 3);
		is_str(r, w, "launch_type", "Exec");
		is_int(r, w, "action_id", 2);
		is_str(r, w, "status_code", "EACCES");
		is_str(r, w, "process.file.path", "/usr/bin/curl");
		is_str(r, w, "process.file.name", "curl");
		is_str(r, w, "process.file.parent_folder", "/usr/bin");
		is_str(r, w, "process.name", "curl");
		is_str(r, w, "process.cmd_line", "curl -s https://example.com/x");
		is_int(r, w, "process.pid", proc.pid);
		is_int(r, w, "process.parent_process.pid", proc.ppid);
		is_str(r, w, "observables.0.name", "process.file.path");
		is_str(r, w, "observables.0.value", "/usr/bin/curl");
		is_str(r, w, "policy.uid", "no-network-tools");
		is_int(r, w, "policy.data.line", 30);
		is_str(r, w, "unmapped.trainguard.op", "execve");
		is_strs(r, w, "unmapped.trainguard.classes", "exec");
		is_str(r, w, "message",
		       "denied execve of /usr/bin/curl by python3 (rule no-network-tools)");
		absent(r, w, "file");
		absent(r, w, "access_mask");
		json_decref(r);
	}

	w = "exec deny of posix_spawnp";
	ev.op = "posix_spawnp";
	r = record(w, &ev, &proc);
	if (r) {
		is_int(r, w, "class_uid", 1007);
		is_int(r, w, "launch_type_id", 1);
		is_str(r, w, "launch_type", "Spawn");
		absent(r, w, "process.pid");
		const char *puid = json_string_value(at(r, "process.uid"));
		const char *muid = json_string_value(at(r, "metadata.uid"));
		ok(puid && muid && strcmp(puid, muid) == 0,
		   "%s: the child not yet born is named by the record's uid", w);
		is_int(r, w, "process.parent_process.pid", proc.pid);
		json_decref(r);
	}

	w = "audit would_deny of system";
	ev.op = "system";
	ev.decision = TG_DEC_WOULD_DENY;
	ev.mode = TG_AUDIT;
	ev.err = 0;
	ev.argv = (char *[]){ "/bin/sh", "-c", "rm -rf \"/tmp/x\"", NULL };
	r = record(w, &ev, &proc);
	if (r) {
		is_int(r, w, "launch_type_id", 1);
		is_int(r, w, "disposition_id", 15);
		is_str(r, w, "process.cmd_line", "/bin/sh -c rm -rf \"/tmp/x\"");
		json_decref(r);
	}
}

static void test_rename(void)
{
	const char *w = "rename with path2";
	struct tg_verdict v = { .cls = TG_CREATE,
				.rule = &rule_ro,
				.err = EXDEV,
				.create_mode = -1,
				.denied = TG_BIT(TG_CREATE) };
	struct tg_event ev = event("renameat2", -1, "/datasets/imagenet/model.pt",
				   TG_BIT(TG_DELETE) | TG_BIT(TG_CREATE), &v, TG_DEC_DENY,
				   TG_ENFORCE, EXDEV);
	ev.path2 = "/checkpoints/run1/model.pt";
	ev.dirfd = 3;
	long long t0 = now_ms();
	json_t *r = record(w, &ev, &proc);
	if (!r)
		return;
	common(r, w, &proc, t0);
	is_int(r, w, "activity_id", 5);
	is_str(r, w, "activity_name", "Rename");
	is_int(r, w, "type_uid", 100105);
	is_str(r, w, "status_code", "EXDEV");
	is_str(r, w, "file.path", "/datasets/imagenet/model.pt");
	is_str(r, w, "unmapped.trainguard.path2", "/checkpoints/run1/model.pt");
	is_str(r, w, "unmapped.trainguard.dirfd", "3");
	is_int(r, w, "unmapped.trainguard.errno", EXDEV);
	is_str(r, w, "message",
	       "denied renameat2 of /datasets/imagenet/model.pt and /checkpoints/run1/model.pt by"
	       " python3 (rule dataset-read-only)");
	json_decref(r);
}

static void test_encoding(void)
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

static void test_long(void)
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

/* ---- Smaller rules, table-driven --------------------------------------------- */

static void test_activities(void)
{
	static const struct {
		const char *op;
		unsigned classes;
		const char *path;
		int activity;
		const char *activity_name, *type_name;
		int file_type;
	} t[] = {
		{ "mkdir", TG_BIT(TG_CREATE), "/ckpt/new", 1, "Create",
		  "File System Activity: Create", 2 },
		{ "creat", TG_BIT(TG_CREATE) | TG_BIT(TG_WRITE), "/ckpt/a", 1, "Create", NULL, 0 },
		{ "truncate", TG_BIT(TG_WRITE), "/ckpt/a", 3, "Update",
		  "File System Activity: Update", 0 },
		{ "rmdir", TG_BIT(TG_DELETE), "/ckpt/old", 4, "Delete", NULL, 2 },
		{ "fchmodat", TG_BIT(TG_CHMOD), "/ckpt/a", 6, "Set Attributes",
		  "File System Activity: Set Attributes", 0 },
		{ "__open64_2", TG_BIT(TG_READ), "/ckpt/a", 14, "Open", NULL, 0 },
		{ "fopen64", TG_BIT(TG_READ), "/ckpt/a", 14, "Open", NULL, 0 },
		{ "opendir", TG_BIT(TG_LIST), "/ckpt", 14, "Open", NULL, 2 },
		{ "renameat", TG_BIT(TG_DELETE) | TG_BIT(TG_CREATE), "/ckpt/a", 5, "Rename", NULL,
		  0 },
		{ "readlink", TG_BIT(TG_READ), "/ckpt/l", 2, "Read", "File System Activity: Read",
		  0 },
		{ "scandir", TG_BIT(TG_LIST), "/ckpt", 99, "scandir", "File System Activity: Other",
		  0 },
	};
	struct tg_verdict v = { .cls = TG_READ, .rule = &rule_ro, .create_mode = -1 };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char w[64];
		snprintf(w, sizeof(w), "activity of %s", t[i].op);
		struct tg_event ev = event(t[i].op, -1, t[i].path, t[i].classes, &v, TG_DEC_DENY,
					   TG_ENFORCE, EACCES);
		json_t *r = record(w, &ev, &proc);
		if (!r)
			continue;
		is_int(r, w, "class_uid", 1001);
		is_int(r, w, "activity_id", t[i].activity);
		is_str(r, w, "activity_name", t[i].activity_name);
		is_int(r, w, "type_uid", 100100 + t[i].activity);
		if (t[i].type_name)
			is_str(r, w, "type_name", t[i].type_name);
		is_int(r, w, "file.type_id", t[i].file_type);
		json_decref(r);
	}
}

static void test_flags(void)
{
	static const struct {
		int flags;
		const char *names;
	} t[] = {
		{ O_RDONLY, "O_RDONLY" },
		{ O_RDWR | O_TMPFILE, "O_RDWR,O_TMPFILE" },
		{ O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "O_RDONLY,O_NOFOLLOW,O_DIRECTORY" },
		{ O_WRONLY | O_SYNC, "O_WRONLY,O_SYNC" },
		{ O_WRONLY | O_DSYNC | O_APPEND, "O_WRONLY,O_APPEND,O_DSYNC" },
		{ O_PATH | O_CLOEXEC, "O_RDONLY,O_CLOEXEC,O_PATH" },
		{ O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_NOATIME | O_NOCTTY | O_DIRECT,
		  "O_RDWR,O_CREAT,O_EXCL,O_NONBLOCK,O_NOATIME,O_NOCTTY,O_DIRECT" },
#if defined(__x86_64__)
		{ O_RDONLY | 0100000, "O_RDONLY,O_LARGEFILE" },
#endif
		{ O_WRONLY | O_ASYNC, "O_WRONLY,0x2000" },
		{ 3, "O_ACCMODE" },
	};
	struct tg_verdict v = { .cls = TG_READ, .rule = &rule_ro, .create_mode = -1 };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char w[64];
		snprintf(w, sizeof(w), "flags %#o", t[i].flags);
		struct tg_event ev = event("openat", t[i].flags, "/x", TG_BIT(TG_READ), &v,
					   TG_DEC_DENY, TG_ENFORCE, EACCES);
		json_t *r = record(w, &ev, &proc);
		if (!r)
			continue;
		is_strs(r, w, "unmapped.trainguard.flags", t[i].names);
		json_decref(r);
	}
}

/* ---- The text helpers, on their own -------------------------------------- */

static void test_text(void)
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

static void test_misc(void)
{
	struct tg_verdict v = { .cls = TG_CREATE, .create_mode = -1 };
	struct tg_event ev = event("openat", O_WRONLY | O_CREAT, "/", TG_BIT(TG_CREATE), &v,
				   TG_DEC_LEARN, TG_LEARN, 0);
	ev.mode_requested = 0;
	ev.mode_applied = 04755;
	const char *w = "learn mode, root path, odd modes";
	json_t *r = record(w, &ev, &proc);
	if (r) {
		is_str(r, w, "file.name", "/");
		absent(r, w, "file.parent_folder");
		is_str(r, w, "unmapped.trainguard.decision", "learn");
		is_str(r, w, "unmapped.trainguard.mode", "learn");
		/* The default denies create: learn says what enforce would do,
		 * with the severity and alert enforce would have had. */
		is_int(r, w, "severity_id", 4);
		is_bool(r, w, "is_alert", true);
		is_int(r, w, "disposition_id", 15);
		is_str(r, w, "unmapped.trainguard.enforce_decision", "deny");
		is_str(r, w, "unmapped.trainguard.mode_requested", "0000");
		is_str(r, w, "unmapped.trainguard.mode_applied", "04755");
		is_str(r, w, "policy.uid", "default:create");
		is_str(r, w, "message",
		       "learned openat(O_WRONLY|O_CREAT) of / by python3 (rule default:create)");
		json_decref(r);
	}

	/* Every errno glibc names has its name (strerrorname_np), not only the
	 * ones a private table listed. */
	static const struct {
		int err;
		const char *name;
	} named[] = {
		{ ENOTCONN, "ENOTCONN" },
		{ EHWPOISON, "EHWPOISON" },
		{ EKEYREVOKED, "EKEYREVOKED" },
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		w = named[i].name;
		struct tg_event e = event("openat", O_RDONLY, "/a/b", TG_BIT(TG_READ), &v,
					  TG_DEC_DENY, TG_ENFORCE, named[i].err);
		r = record(w, &e, &proc);
		if (r) {
			is_str(r, w, "status_code", named[i].name);
			is_int(r, w, "unmapped.trainguard.errno", named[i].err);
			json_decref(r);
		}
	}

	w = "errno without a name, no process name";
	struct tg_proc p = proc;
	p.name = NULL;
	p.pid = 77;
	ev = event("openat", O_RDONLY, "/a/b/", TG_BIT(TG_READ), &v, TG_DEC_DENY, TG_ENFORCE, 200);
	r = record(w, &ev, &p);
	if (r) {
		is_str(r, w, "status_code", "errno:200");
		is_str(r, w, "file.name", "b");
		is_str(r, w, "file.parent_folder", "/a");
		is_str(r, w, "message",
		       "denied openat(O_RDONLY) of /a/b/ by pid 77 (rule default:create)");
		absent(r, w, "actor.process.name");
		json_decref(r);
	}

	w = "sequence and uid";
	char a[TG_EVENT_MAX], b[TG_EVENT_MAX];
	int ra = tg_event_format(&ev, &proc, a, sizeof(a));
	int rb = tg_event_format(&ev, &proc, b, sizeof(b));
	json_t *ja = check_line("sequence: first", a, ra),
	       *jb = check_line("sequence: second", b, rb);
	if (ja && jb) {
		long long sa = json_integer_value(at(ja, "metadata.sequence"));
		long long sb = json_integer_value(at(jb, "metadata.sequence"));
		ok(sb == sa + 1, "%s: consecutive records are numbered %lld, %lld", w, sa, sb);
		ok(strcmp(json_string_value(at(ja, "metadata.uid")),
			  json_string_value(at(jb, "metadata.uid"))) != 0,
		   "%s: each record has its own uid", w);
	}
	json_decref(ja);
	json_decref(jb);

	/* Another pid (a forked child) starts its own sequence. */
	p = proc;
	p.pid = proc.pid + 1;
	ra = tg_event_format(&ev, &p, a, sizeof(a));
	ja = check_line("sequence: forked child", a, ra);
	if (ja)
		is_int(ja, "forked child", "metadata.sequence", 1);
	json_decref(ja);

	ok(tg_event_format(&ev, &proc, a, TG_EVENT_MAX - 1) == -EINVAL,
	   "a buffer under TG_EVENT_MAX is refused with -EINVAL");
	ev.op = NULL;
	ok(tg_event_format(&ev, &proc, a, sizeof(a)) == -EINVAL, "an event without op: -EINVAL");
}

/* ---- Nesting ----------------------------------------------------------------- */

static json_malloc_t arena_malloc_fn;
static json_free_t arena_free_fn;
static int nest_left, nest_level, nest_allocs;
static int nest_rc[8];
static char nest_buf[8][TG_EVENT_MAX];
static char nest_path[8][32];
static struct tg_event nest_ev[8];

/* Every 25th allocation of a record, builds the next level's record. */
static void *nesting_malloc(size_t n)
{
	if (nest_left > 0 && ++nest_allocs % 25 == 0) {
		int lvl = ++nest_level;
		nest_left--;
		nest_rc[lvl] = tg_event_format(&nest_ev[lvl], &proc, nest_buf[lvl], TG_EVENT_MAX);
	}
	return arena_malloc_fn(n);
}

static void test_nesting_hook(void)
{
	struct tg_verdict v = { .cls = TG_READ, .rule = &rule_ro, .create_mode = -1 };

	for (int i = 0; i < 6; i++) {
		snprintf(nest_path[i], sizeof(nest_path[i]), "/nest/level-%d", i);
		nest_ev[i] = event(i % 2 ? "openat" : "unlink", i % 2 ? O_RDONLY : -1, nest_path[i],
				   TG_BIT(i % 2 ? TG_READ : TG_DELETE), &v, TG_DEC_DENY, TG_ENFORCE,
				   EACCES);
		nest_rc[i] = -1;
	}
	json_get_alloc_funcs(&arena_malloc_fn, &arena_free_fn);
	json_set_alloc_funcs(nesting_malloc, arena_free_fn);
	nest_left = 4;
	nest_level = 0;
	nest_allocs = 0;
	nest_rc[0] = tg_event_format(&nest_ev[0], &proc, nest_buf[0], TG_EVENT_MAX);
	nest_left = 0;
	json_set_alloc_funcs(arena_malloc_fn, arena_free_fn);

	ok(nest_level == 4, "nesting: four records started inside one another (%d)", nest_level);
	ok(nest_rc[4] == -ENOMEM, "nesting: the fifth level is refused with -ENOMEM (%d)",
	   nest_rc[4]);
	for (int i = 0; i < 4; i++) {
		char w[48];
		snprintf(w, sizeof(w), "nesting level %d", i);
		json_t *r = check_line(w, nest_buf[i], nest_rc[i]);
		if (!r)
			continue;
		is_str(r, w, "file.path", nest_path[i]);
		is_str(r, w, "unmapped.trainguard.op", i % 2 ? "openat" : "unlink");
		is_int(r, w, "activity_id", i % 2 ? 14 : 4);
		json_decref(r);
	}
}

static volatile sig_atomic_t in_main, handler_runs, handler_nested, handler_bad;
static char handler_buf[16][TG_EVENT_MAX];
static int handler_rc[16];
static struct tg_event handler_ev;

static void on_alarm(int sig)
{
	int saved = errno;
	static char scratch[TG_EVENT_MAX];
	bool nested = in_main;
	int slot = nested && handler_nested < 16 ? handler_nested : -1;
	char *buf = slot >= 0 ? handler_buf[slot] : scratch;

	(void)sig;
	int r = tg_event_format(&handler_ev, &proc, buf, TG_EVENT_MAX);
	if (r <= 0 || !strstr(buf, "\"op\":\"unlinkat\""))
		handler_bad++;
	if (slot >= 0)
		handler_rc[slot] = r;
	handler_nested += nested;
	handler_runs++;
	errno = saved;
}

static void test_nesting_signal(void)
{
	static char main_buf[TG_EVENT_MAX];
	struct tg_verdict v = { .cls = TG_READ, .rule = &rule_ro, .create_mode = -1 };
	struct tg_event ev = event("openat", O_RDONLY | O_CLOEXEC, "/main/train/shard.tar",
				   TG_BIT(TG_READ), &v, TG_DEC_DENY, TG_ENFORCE, EACCES);
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	int bad_main = 0, runs = 0;

	handler_ev = event("unlinkat", -1, "/handler/ckpt.pt", TG_BIT(TG_DELETE), &v, TG_DEC_DENY,
			   TG_ENFORCE, EPERM);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	/* One one-shot timer per record, due at a point spread over the time a
	 * record takes: at most one signal per record, so a slow build (a
	 * sanitizer, an emulator) cannot starve the loop. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 50; i++)
		tg_event_format(&ev, &proc, main_buf, sizeof(main_buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long span = ((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec) / 50 / 1000;
	span = span < 2 ? 2 : span;

	long long start = now_ms();
	while (now_ms() - start < 3000 && (handler_nested < 300 || runs < 300) && runs < 5000) {
		struct itimerval it = { .it_value = { 0, 1 + (runs * 7919L) % span } };
		setitimer(ITIMER_REAL, &it, NULL);
		in_main = 1;
		int r = tg_event_format(&ev, &proc, main_buf, sizeof(main_buf));
		in_main = 0;
		runs++;
		if (r <= 0 || (size_t)r != strlen(main_buf) ||
		    !strstr(main_buf, "\"op\":\"openat\"") || strstr(main_buf, "unlinkat") ||
		    !strstr(main_buf, "/main/train/shard.tar"))
			bad_main++;
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);

	diag("%d records in the loop (%ld us each), %d from the handler, %d of them inside a record",
	     runs, span, (int)handler_runs, (int)handler_nested);
	ok(handler_nested > 0,
	   "signal nesting: the handler built records while the loop was building one");
	ok(bad_main == 0, "signal nesting: every record of the loop is intact (%d bad)", bad_main);
	ok(handler_bad == 0, "signal nesting: every record of the handler is intact (%d bad)",
	   (int)handler_bad);
	int n = handler_nested < 16 ? handler_nested : 16, good = 0;
	for (int i = 0; i < n; i++) {
		json_error_t err;
		json_t *r = handler_rc[i] > 0 ? json_loads(handler_buf[i], 0, &err) : NULL;
		const char *p = json_string_value(at(r, "file.path"));
		good += p && strcmp(p, "/handler/ckpt.pt") == 0;
		if (r && i < 4)
			keep_line(handler_buf[i], strlen(handler_buf[i]));
		json_decref(r);
	}
	ok(n > 0 && good == n, "signal nesting: the nested records parse (%d of %d)", good, n);
	json_t *r = check_line("signal nesting: last record of the loop", main_buf,
			       (int)strlen(main_buf));
	if (r)
		is_str(r, "signal nesting", "file.path", "/main/train/shard.tar");
	json_decref(r);
}

/* ---- Threads --------------------------------------------------------------------- */

#define NTHREADS   4
#define PER_THREAD 300

static long long seqs[NTHREADS * PER_THREAD];

static void *worker(void *arg)
{
	int t = (int)(long)arg;
	static __thread char buf[TG_EVENT_MAX];
	struct tg_verdict v = { .cls = TG_READ, .rule = &rule_ro, .create_mode = -1 };
	struct tg_event ev = event("openat", O_RDONLY, "/thread/x", TG_BIT(TG_READ), &v,
				   TG_DEC_DENY, TG_ENFORCE, EACCES);

	for (int i = 0; i < PER_THREAD; i++) {
		seqs[t * PER_THREAD + i] = -1;
		if (tg_event_format(&ev, &proc, buf, sizeof(buf)) <= 0)
			continue;
		const char *s = strstr(buf, "\"sequence\":");
		if (s)
			seqs[t * PER_THREAD + i] = strtoll(s + 11, NULL, 10);
	}
	return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static void test_threads(void)
{
	pthread_t th[NTHREADS];

	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	qsort(seqs, NTHREADS * PER_THREAD, sizeof(seqs[0]), cmp_ll);
	int failed = 0, dups = 0;
	for (int i = 0; i < NTHREADS * PER_THREAD; i++) {
		failed += seqs[i] < 0;
		dups += i > 0 && seqs[i] == seqs[i - 1];
	}
	ok(failed == 0, "threads: %d records from %d threads, %d failed", NTHREADS * PER_THREAD,
	   NTHREADS, failed);
	ok(dups == 0 && seqs[NTHREADS * PER_THREAD - 1] - seqs[0] == NTHREADS * PER_THREAD - 1,
	   "threads: sequence numbers are unique and without gaps (%d duplicates)", dups);
}

/* ---- The OCSF check ---------------------------------------------------------------- */

static void run_validator(void)
{
	const char *tool = getenv("TG_OCSF_CHECK");
	const char *python = getenv("TG_PYTHON");

	/* The check is part of the tree: not finding it is a failure. */
	if (!ok(tool && access(tool, R_OK) == 0, "the OCSF check is there (TG_OCSF_CHECK=%s)",
		tool ? tool : "(not set)"))
		return;
	char file[] = "/tmp/tg-test-event-XXXXXX";
	int fd = mkstemp(file);
	if (fd < 0 || write(fd, all_lines, all_len) != (ssize_t)all_len) {
		ok(false, "OCSF check: write the records to a temporary file");
		return;
	}
	close(fd);

	int pipefd[2];
	if (pipe(pipefd) < 0) {
		ok(false, "OCSF check: pipe");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		const char *py = python && *python ? python : "python3";
		execlp(py, py, tool, file, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", py, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	FILE *out = fdopen(pipefd[0], "r");
	char line[4096], last[4096] = "";
	while (out && fgets(line, sizeof(line), out)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(last, sizeof(last), "%s", line);
		diag("ocsf-check: %s", line);
	}
	if (out)
		fclose(out);
	int status = 0;
	waitpid(pid, &status, 0);
	unlink(file);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the OCSF 1.8.0 check accepts all records (%s)", last);
}

int main(void)
{
	printf("TAP version 13\n");
	proc.pid = getpid();
	tg_event_init();
	tg_event_init(); /* twice is harmless */

	test_deny_open();
	test_audit();
	test_allow();
	test_default_rule();
	test_exec();
	test_rename();
	test_encoding();
	test_long();
	test_activities();
	test_flags();
	test_misc();
	test_text();
	test_nesting_hook();
	test_nesting_signal();
	test_threads();
	run_validator();

	printf("1..%d\n", ntest);
	free(all_lines);
	return nfail ? 1 : 0;
}
