/* What the event tests share: TAP output, looking into a parsed record,
 * the fields every record carries, the fixtures (a process and its rules),
 * and the project's OCSF 1.8.0 check over every line the tests built. */
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
#define TAP_LINKAGE
#include "tap.h"

#include "event-check.h"

/* ---- Every line goes to the validator at the end -------------------------- */

static char *all_lines;
static size_t all_len, all_cap;

void keep_line(const char *line, size_t len)
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
json_t *at(json_t *root, const char *path)
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

void is_str(json_t *r, const char *what, const char *path, const char *want)
{
	const char *got = json_string_value(at(r, path));
	if (!ok(got && strcmp(got, want) == 0, "%s: %s is \"%s\"", what, path, want))
		tap_diag("got %s", got ? got : "(not a string or absent)");
}

void is_int(json_t *r, const char *what, const char *path, long long want)
{
	json_t *v = at(r, path);
	if (!ok(json_is_integer(v) && json_integer_value(v) == want, "%s: %s is %lld", what, path,
		want))
		tap_diag("got %lld (%s)", json_is_integer(v) ? json_integer_value(v) : 0,
			 v ? "integer?" : "absent");
}

void is_bool(json_t *r, const char *what, const char *path, bool want)
{
	json_t *v = at(r, path);
	ok(json_is_boolean(v) && json_boolean_value(v) == want, "%s: %s is %s", what, path,
	   want ? "true" : "false");
}

void absent(json_t *r, const char *what, const char *path)
{
	ok(at(r, path) == NULL, "%s: no %s", what, path);
}

/* The array at PATH holds exactly the strings of WANT ("a,b,c"). */
void is_strs(json_t *r, const char *what, const char *path, const char *want)
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
		tap_diag("got [%s]%s", got, json_is_array(a) ? "" : " (not an array)");
}

bool has_str(json_t *arr, const char *want)
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
size_t max_keys(json_t *v)
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

long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks the line's byte form and parses it; NULL (and a failed test) when
 * it is not a record. */
json_t *check_line(const char *what, const char *buf, int r)
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
		tap_diag("%s at column %d", err.text, err.column);
		return NULL;
	}
	char *again = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	ok(again && strlen(again) == len - 1 && memcmp(again, buf, len - 1) == 0,
	   "%s: canonical bytes (json_dumps of the parsed line gives the line)", what);
	free(again);
	ok(max_keys(rec) < 64, "%s: no object holds 64 keys or more (%zu)", what, max_keys(rec));
	return rec;
}

json_t *record(const char *what, const struct tg_event *ev, const struct tg_proc *p)
{
	static char buf[TG_EVENT_MAX];
	int r = tg_event_format(ev, p, buf, sizeof(buf));
	if (r < 0)
		tap_diag("tg_event_format: %s", strerror(-r));
	return check_line(what, buf, r);
}

/* Fields every record carries, whatever the decision. */
void common(json_t *rec, const char *what, const struct tg_proc *p, long long t0)
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
		tap_diag("time_dt %s, want %s......Z", dt ? dt : "(absent)", want);

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

struct tg_proc proc = {
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

const struct tg_rule rule_ro = {
	.id = "dataset-read-only",
	.source = "/etc/trainguard/train.cfg",
	.line = 14,
	.err = EACCES,
	.create_mode = -1,
	.reason = "datasets are read-only during training",
};
const struct tg_rule rule_secrets = {
	.id = "secrets",
	.source = "profile:secrets",
	.line = 3,
	.err = EACCES,
	.create_mode = -1,
};
const struct tg_rule rule_datasets = {
	.id = "datasets",
	.source = "/etc/trainguard/train.cfg",
	.line = 9,
	.audit = true,
	.create_mode = -1,
};
const struct tg_rule rule_tools = {
	.id = "no-network-tools",
	.source = "/etc/trainguard/train.cfg",
	.line = 30,
	.err = EACCES,
	.create_mode = -1,
};

struct tg_event event(const char *op, int flags, const char *path, unsigned classes,
		      const struct tg_verdict *v, enum tg_decision d, enum tg_mode m, int err)
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

/* ---- The OCSF check ---------------------------------------------------------------- */

void run_validator(void)
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
		tap_diag("ocsf-check: %s", line);
	}
	if (out)
		fclose(out);
	int status = 0;
	waitpid(pid, &status, 0);
	unlink(file);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the OCSF 1.8.0 check accepts all records (%s)", last);
}

/* The plan line; the exit status. */
int finish(void)
{
	free(all_lines);
	return tap_done();
}
