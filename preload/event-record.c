/* The record of one decision: an OCSF 1.8.0 File System Activity (1001)
 * or Process Activity (1007) event as one JSON line (design/EVENTS.md),
 * built with jansson in the arena of event-arena.c.
 *
 * build_record() writes the record one OCSF object group at a time:
 * classification, outcome, status, actor, device, the target (file or
 * launched process) with its observable, policy, metadata, unmapped and the
 * message. Every string is cut to a budget counted in serialized bytes and
 * marked when cut; if the record still does not fit under TG_EVENT_MAX it is
 * rebuilt once with budgets small enough that it always fits. The only
 * system calls are clock_gettime, gettid and, once per thread and level,
 * mmap. The ids and captions come from ocsf.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <jansson.h>

#include "chain.h"
#include "digest.h"
#include "event-build.h"
#include "ocsf.h"

/* Per-process sequence: the pid in the high half, the last number given in
 * the low half, so that a forked child (another proc->pid) starts again at 1
 * without an atfork handler. */
static _Atomic uint64_t seq_state;
/* The same for vfork children, which share the parent's memory: their
 * numbers must not restart the parent's count. The parent never reads it;
 * each child, another pid, starts again at 1. */
static _Atomic uint64_t foreign_seq_state;

static uint32_t next_sequence(pid_t pid, bool foreign)
{
	_Atomic uint64_t *state = foreign ? &foreign_seq_state : &seq_state;
	uint64_t old = atomic_load(state), next;

	do {
		uint32_t s = (uint32_t)(old >> 32) == (uint32_t)pid ? (uint32_t)old + 1 : 1;
		next = (uint64_t)(uint32_t)pid << 32 | s;
	} while (!atomic_compare_exchange_weak(state, &old, next));
	return (uint32_t)next;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Budgets in serialized bytes. The first keep whole paths; the second
 * bound any record below 16 KiB whatever its strings hold: at most two
 * command lines (4 KiB), eight paths (4 KiB), four names (1 KiB), the message
 * (0.5 KiB), thirteen short strings (1.6 KiB) and about 2.5 KiB of keys,
 * numbers and markers; 13.7 KiB measured with every string at its worst. */
static const struct caps tiers[] = {
	{ .cmd = 4096, .path = 4096, .name = 1024, .msg = 2048, .text = 1024 },
	{ .cmd = 2048, .path = 512, .name = 256, .msg = 512, .text = 128 },
};

/* ---- Classification ---------------------------------------------------- */

static bool is_exec_op(const char *op)
{
	/* A spawn's file action opens a file: File System Activity. */
	if (has_prefix(op, "posix_spawn_file_actions"))
		return false;
	return has_prefix(op, "exec") || has_prefix(op, "fexecve") ||
	       has_prefix(op, "posix_spawn") || has_prefix(op, "system") || has_prefix(op, "popen");
}

static bool is_spawn_op(const char *op)
{
	return has_prefix(op, "posix_spawn") || has_prefix(op, "system") || has_prefix(op, "popen");
}

static bool is_open_op(const char *op)
{
	while (*op == '_')
		op++; /* __open_2, __open64_2, __openat_2 */
	return has_prefix(op, "open") || has_prefix(op, "fopen") || has_prefix(op, "freopen");
}

/* File System Activity id and caption for a non-exec call; Other (99)
 * takes the libc symbol as its name. */
static int file_activity(const struct tg_event *ev, const char **ret_name)
{
	static const struct {
		enum tg_class cls;
		int id;
		const char *name;
	} by_class[] = {
		{ TG_CREATE, TG_OCSF_FILE_CREATE, TG_OCSF_FILE_CREATE_NAME },
		{ TG_DELETE, TG_OCSF_FILE_DELETE, TG_OCSF_FILE_DELETE_NAME },
		{ TG_CHMOD, TG_OCSF_FILE_SET_ATTRIBUTES, TG_OCSF_FILE_SET_ATTRIBUTES_NAME },
		{ TG_WRITE, TG_OCSF_FILE_UPDATE, TG_OCSF_FILE_UPDATE_NAME },
		{ TG_READ, TG_OCSF_FILE_READ, TG_OCSF_FILE_READ_NAME },
	};

	if (strstr(ev->op, "rename")) {
		*ret_name = TG_OCSF_FILE_RENAME_NAME;
		return TG_OCSF_FILE_RENAME;
	}
	if (is_open_op(ev->op)) {
		*ret_name = TG_OCSF_FILE_OPEN_NAME;
		return TG_OCSF_FILE_OPEN;
	}
	for (size_t i = 0; i < sizeof(by_class) / sizeof(by_class[0]); i++)
		if (ev->classes & TG_BIT(by_class[i].cls)) {
			*ret_name = by_class[i].name;
			return by_class[i].id;
		}
	*ret_name = NULL;
	return TG_OCSF_OTHER;
}

/* Folders only when the call itself says so; nothing else is stat()ed. */
static int file_type_id(const struct tg_event *ev)
{
	const char *op = ev->op;

	if (has_prefix(op, "mkdir") || has_prefix(op, "rmdir") || has_prefix(op, "opendir"))
		return TG_OCSF_FILE_FOLDER;
	if (ev->facts)
		return TG_OCSF_FILE_REGULAR; /* an aggregated record's file was fstat()ed */
	return TG_OCSF_FILE_UNKNOWN;
}

static const char *file_type_name(int type_id)
{
	switch (type_id) {
	case TG_OCSF_FILE_REGULAR:
		return TG_OCSF_FILE_REGULAR_NAME;
	case TG_OCSF_FILE_FOLDER:
		return TG_OCSF_FILE_FOLDER_NAME;
	}
	return TG_OCSF_FILE_UNKNOWN_NAME;
}

/* ---- Objects ---------------------------------------------------------------- */

/* A file object for PATH (an event path) under FIELD ("file"). */
static json_t *file_object(struct build *b, const char *path, const char *field,
			   struct text *ret_path, int type_id)
{
	char label[48];
	json_t *f = json_object();
	size_t dirlen, namelen, fl = strlen(field);
	const char *name;
	bool has_dir;
	struct text t;

	if (fl > sizeof(label) - 16)
		fl = sizeof(label) - 16;
	memcpy(label, field, fl);
	tg_split_path(path, &dirlen, &name, &namelen, &has_dir);

	strcpy(label + fl, ".path");
	*ret_path = tg_rec_text(b, path, b->caps->path, true, label);
	tg_rec_set_text(b, f, "path", *ret_path);

	strcpy(label + fl, ".name");
	if (!tg_rec_cut_copy(b, name, namelen, b->path_pct, b->caps->name, &t))
		tg_rec_mark(b, &b->truncated, label);
	tg_rec_set_text(b, f, "name", t);

	if (has_dir) {
		strcpy(label + fl, ".parent_folder");
		if (!tg_rec_cut_copy(b, path, dirlen, b->path_pct, b->caps->path, &t))
			tg_rec_mark(b, &b->truncated, label);
		tg_rec_set_text(b, f, "parent_folder", t);
	}
	tg_rec_set_enum(b, f, "type_id", type_id, "type", file_type_name(type_id));
	return f;
}

static json_t *user_object(struct build *b)
{
	char uid[24];
	json_t *u = json_object();

	uid[tg_put_dec(uid, b->proc->uid, 1)] = '\0';
	tg_rec_set(b, u, "uid", json_string(uid));
	if (b->proc->user)
		tg_rec_set_str(b, u, "name", b->proc->user, b->caps->text, "actor.user.name");
	return u;
}

/* actor.process.file: the running program, named from its whole path so
 * that a cut keeps the real last name. */
static void actor_file(struct build *b, json_t *proc)
{
	const char *exe = b->proc->exe, *name;
	json_t *f = tg_rec_object(b, proc, "file");
	size_t dirlen, namelen;
	bool has_dir;
	struct text t;

	tg_split_path(exe, &dirlen, &name, &namelen, &has_dir);
	tg_rec_set_str(b, f, "path", exe, b->caps->path, "actor.process.file.path");
	bool pct = tg_text_needs_percent(name, b->caps->name);
	if (!tg_rec_cut_copy(b, name, namelen, pct, b->caps->name, &t))
		tg_rec_mark(b, &b->truncated, "actor.process.file.name");
	if (pct)
		tg_rec_mark(b, &b->encoded, "actor.process.file.name");
	tg_rec_set_text(b, f, "name", t);
	tg_rec_set_enum(b, f, "type_id", TG_OCSF_FILE_REGULAR, "type", TG_OCSF_FILE_REGULAR_NAME);
}

/* The process that made the call, and its user. */
void tg_rec_actor(struct build *b, json_t *rec)
{
	const struct tg_proc *p = b->proc;
	json_t *a = tg_rec_object(b, rec, "actor");
	json_t *proc = tg_rec_object(b, a, "process");

	tg_rec_set_int(b, proc, "pid", p->pid);
	tg_rec_set_int(b, proc, "ptid", (long long)(p->tid ? p->tid : syscall(SYS_gettid)));
	if (p->name)
		tg_rec_set_text(b, proc, "name", b->name);
	if (p->cmd_line)
		tg_rec_set_str(b, proc, "cmd_line", p->cmd_line, b->caps->cmd,
			       "actor.process.cmd_line");
	if (p->start_ms > 0)
		tg_rec_set_int(b, proc, "created_time", p->start_ms);
	if (p->cwd)
		tg_rec_set_str(b, proc, "working_directory", p->cwd, b->caps->path,
			       "actor.process.working_directory");
	if (p->exe)
		actor_file(b, proc);
	/* The user once, as actor.user (actor.process.user would repeat it). */
	json_t *parent = tg_rec_object(b, proc, "parent_process");
	tg_rec_set_int(b, parent, "pid", p->ppid);
	if (p->parent_name)
		tg_rec_set_str(b, parent, "name", p->parent_name, b->caps->name,
			       "actor.process.parent_process.name");
	tg_rec_set(b, a, "user", user_object(b));
}

void tg_rec_device(struct build *b, json_t *rec)
{
	json_t *dev = tg_rec_object(b, rec, "device");

	tg_rec_set_str(b, dev, "hostname", tg_rec_or_unknown(b->proc->hostname), b->caps->text,
		       "device.hostname");
	tg_rec_set_enum(b, dev, "type_id", TG_OCSF_DEVICE_SERVER, "type",
			TG_OCSF_DEVICE_SERVER_NAME);
}

/* argv joined by spaces, cut a little past the budget (set_str cuts it). */
static const char *join_argv(struct build *b, char *const *argv)
{
	size_t cap = b->caps->cmd + 4, n = 0;
	char *line = tg_rec_scratch(b, cap + 1);

	if (!line)
		return NULL;
	for (char *const *a = argv; *a && n < cap; a++) {
		size_t l = strnlen(*a, cap - n);
		if (a != argv && n < cap)
			line[n++] = ' ';
		if (l > cap - n)
			l = cap - n;
		memcpy(line + n, *a, l);
		n += l;
	}
	line[n] = '\0';
	return line;
}

/* The launched program of an exec decision (Process Activity). */
static void process(struct build *b, json_t *rec, bool exec)
{
	const struct tg_event *ev = b->ev;
	json_t *proc = tg_rec_object(b, rec, "process");
	json_t *f = file_object(b, ev->path ? ev->path : "", "process.file", &b->path,
				TG_OCSF_FILE_UNKNOWN);

	tg_rec_set(b, proc, "file", f);
	tg_rec_set(b, proc, "name", json_incref(json_object_get(f, "name")));
	/* exec keeps the pid; a spawned child has none yet, so it is named by
	 * this record's uid. */
	if (exec)
		tg_rec_set_int(b, proc, "pid", b->proc->pid);
	else
		tg_rec_set(b, proc, "uid", json_string(b->st->uid));
	json_t *parent = tg_rec_object(b, proc, "parent_process");
	tg_rec_set_int(b, parent, "pid", exec ? b->proc->ppid : b->proc->pid);

	if (ev->argv) {
		const char *line = join_argv(b, ev->argv);
		if (line)
			tg_rec_set_str(b, proc, "cmd_line", line, b->caps->cmd, "process.cmd_line");
	}
}

/* An aggregated record's file: its identity (file.uid "dev:ino"), size
 * and SHA-256 (file.hashes, OCSF fingerprint objects). */
static void file_facts(struct build *b, json_t *f)
{
	const struct tg_file_facts *x = b->ev->facts;
	char id[48], hex[TG_SHA256_HEX];
	size_t n = tg_put_dec(id, x->dev, 1);

	id[n++] = ':';
	id[n + tg_put_dec(id + n, x->ino, 1)] = '\0';
	tg_rec_set(b, f, "uid", json_string(id));
	tg_rec_set_int(b, f, "size", (long long)x->size);
	if (!x->hashed)
		return;
	for (size_t i = 0; i < TG_SHA256_LEN; i++) {
		hex[2 * i] = "0123456789abcdef"[x->sha256[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[x->sha256[i] & 15];
	}
	hex[2 * TG_SHA256_LEN] = '\0';
	json_t *h = json_object(), *hashes = json_array();
	tg_rec_set_enum(b, h, "algorithm_id", TG_OCSF_FINGERPRINT_SHA256, "algorithm",
			TG_OCSF_FINGERPRINT_SHA256_NAME);
	tg_rec_set(b, h, "value", json_string(hex));
	if (!hashes || json_array_append_new(hashes, h))
		b->failed = true;
	tg_rec_set(b, f, "hashes", hashes);
}

json_t *tg_rec_file(struct build *b, const char *path, const char *field, struct text *ret_path,
		    int type_id)
{
	return file_object(b, path, field, ret_path, type_id);
}

const char *tg_rec_join_argv(struct build *b, char *const *argv)
{
	return join_argv(b, argv);
}

/* What the call acted on: the file, or the launched program, and the
 * observable that points at its path. */
static void target(struct build *b, json_t *rec)
{
	const struct tg_event *ev = b->ev;
	json_t *obs = json_object();

	if (b->exec) {
		bool spawn = is_spawn_op(ev->op);
		if (spawn)
			tg_rec_set_enum(b, rec, "launch_type_id", TG_OCSF_LAUNCH_SPAWN,
					"launch_type", TG_OCSF_LAUNCH_SPAWN_NAME);
		else
			tg_rec_set_enum(b, rec, "launch_type_id", TG_OCSF_LAUNCH_EXEC,
					"launch_type", TG_OCSF_LAUNCH_EXEC_NAME);
		process(b, rec, !spawn);
		tg_rec_set(b, obs, "name", json_string("process.file.path"));
	} else {
		json_t *f = file_object(b, ev->path ? ev->path : "", "file", &b->path,
					file_type_id(ev));
		if (ev->facts)
			file_facts(b, f);
		tg_rec_set(b, rec, "file", f);
		tg_rec_set(b, obs, "name", json_string("file.path"));
		if (ev->flags >= 0)
			tg_rec_set_int(b, rec, "access_mask", ev->flags);
	}
	tg_rec_set_enum(b, obs, "type_id", TG_OCSF_OBSERVABLE_FILE_PATH, "type",
			TG_OCSF_OBSERVABLE_FILE_PATH_NAME);
	tg_rec_set_text(b, obs, "value", b->path);
	json_t *observables = json_array();
	if (!observables || json_array_append_new(observables, obs))
		b->failed = true;
	tg_rec_set(b, rec, "observables", observables);
}

/* The rule that decided, or "default:<class>" for the policy's defaults. */
static void policy(struct build *b, json_t *rec)
{
	const struct tg_verdict *v = b->ev->verdict;
	const struct tg_rule *r = v->rule;
	json_t *pol = tg_rec_object(b, rec, "policy");
	json_t *data = tg_rec_object(b, pol, "data");

	if (r) {
		b->rule = tg_rec_text(b, tg_rec_or_unknown(r->id), b->caps->text, false,
				      "policy.uid");
		if (r->reason)
			tg_rec_set_str(b, pol, "desc", r->reason, b->caps->text, "policy.desc");
		if (r->source)
			tg_rec_set_str(b, data, "source", r->source, b->caps->path,
				       "policy.data.source");
		if (r->line > 0)
			tg_rec_set_int(b, data, "line", r->line);
		if (v->pattern)
			tg_rec_set_str(b, data, "pattern", v->pattern, b->caps->text,
				       "policy.data.pattern");
	} else {
		char uid[48] = "default:";
		const char *cls = tg_rec_or_unknown(tg_class_name(v->cls));
		size_t l = strnlen(cls, sizeof(uid) - 9);
		memcpy(uid + 8, cls, l);
		uid[8 + l] = '\0';
		b->rule = tg_rec_text(b, uid, b->caps->text, false, "policy.uid");
		if (b->proc->policy_source)
			tg_rec_set_str(b, data, "source", b->proc->policy_source, b->caps->path,
				       "policy.data.source");
	}
	tg_rec_set_text(b, pol, "uid", b->rule);
	tg_rec_set_text(b, pol, "name", b->rule);
	tg_rec_set(b, pol, "is_applied", json_true());
	if (b->proc->policy_sha256)
		tg_rec_set_str(b, data, "sha256", b->proc->policy_sha256, b->caps->text,
			       "policy.data.sha256");
}

/* ---- The record's sections ------------------------------------------------- */

/* One encoding for all the event's paths, so that one marker says it. The
 * name is checked apart: it may lie past the part of the path kept. */
static void prepare(struct build *b)
{
	const struct tg_event *ev = b->ev;
	const char *path = ev->path ? ev->path : "", *name;
	size_t dirlen, namelen;
	bool has_dir;

	tg_split_path(path, &dirlen, &name, &namelen, &has_dir);
	b->path_pct = tg_text_needs_percent(path, b->caps->path) ||
		      tg_text_needs_percent(name, b->caps->name) ||
		      (ev->path_requested &&
		       tg_text_needs_percent(ev->path_requested, b->caps->path)) ||
		      (ev->path2 && tg_text_needs_percent(ev->path2, b->caps->path));
	if (b->proc->name)
		b->name = tg_rec_text(b, b->proc->name, b->caps->name, false, "actor.process.name");
	b->exec = is_exec_op(ev->op);
	b->op = tg_rec_text(b, ev->op, b->caps->text, false, "unmapped.trainguard.op");
}

/* count, and for repeats folded into one record, when the first and the
 * last happened. */
static void occurrence(struct build *b, json_t *rec)
{
	const struct tg_event *ev = b->ev;

	tg_rec_set_int(b, rec, "count", ev->count > 1 ? (long long)ev->count : 1);
	if (ev->count > 1) {
		tg_rec_set_int(b, rec, "start_time", ev->first_ms);
		tg_rec_set_int(b, rec, "end_time", ev->last_ms);
	}
}

/* category, class, activity, type and time. */
static void classification(struct build *b, json_t *rec)
{
	int cls = b->exec ? TG_OCSF_PROCESS_ACTIVITY : TG_OCSF_FILE_ACTIVITY, activity;
	const char *class_name = b->exec ? TG_OCSF_PROCESS_ACTIVITY_NAME
					 : TG_OCSF_FILE_ACTIVITY_NAME;
	const char *activity_name;
	char type_name[64];

	if (b->exec) {
		activity = TG_OCSF_PROCESS_LAUNCH;
		activity_name = TG_OCSF_PROCESS_LAUNCH_NAME;
	} else {
		activity = file_activity(b->ev, &activity_name);
	}
	/* type_name says "Other" where activity_name gives the libc symbol. */
	const char *type_activity = activity == TG_OCSF_OTHER ? TG_OCSF_OTHER_NAME : activity_name;
	size_t cl = strlen(class_name), al = strlen(type_activity);
	memcpy(type_name, class_name, cl);
	memcpy(type_name + cl, ": ", 2);
	memcpy(type_name + cl + 2, type_activity, al + 1);

	tg_rec_set_int(b, rec, "category_uid", TG_OCSF_CATEGORY);
	tg_rec_set(b, rec, "category_name", json_string(TG_OCSF_CATEGORY_NAME));
	tg_rec_set_int(b, rec, "class_uid", cls);
	tg_rec_set(b, rec, "class_name", json_string(class_name));
	tg_rec_set_int(b, rec, "activity_id", activity);
	if (activity == TG_OCSF_OTHER)
		tg_rec_set_text(b, rec, "activity_name", b->op);
	else
		tg_rec_set(b, rec, "activity_name", json_string(activity_name));
	tg_rec_set_int(b, rec, "type_uid", TG_OCSF_TYPE_UID(cls, activity));
	tg_rec_set(b, rec, "type_name", json_string(type_name));
	tg_rec_set_int(b, rec, "time",
		       (long long)b->st->ts.tv_sec * 1000 + b->st->ts.tv_nsec / 1000000);
	tg_rec_set(b, rec, "time_dt", json_string(b->st->dt));
	occurrence(b, rec);
}

/* The severity a deny of the deciding rule has (High unless it says). */
static int rule_severity(const struct tg_verdict *v)
{
	if (v && v->rule && v->rule->severity != TG_SEVERITY_UNSET)
		return v->rule->severity;
	return TG_OCSF_SEVERITY_HIGH;
}

static const char *severity_caption(int id)
{
	static const char *const caption[] = {
		[TG_OCSF_SEVERITY_INFORMATIONAL] = TG_OCSF_SEVERITY_INFORMATIONAL_NAME,
		[TG_OCSF_SEVERITY_LOW] = TG_OCSF_SEVERITY_LOW_NAME,
		[TG_OCSF_SEVERITY_MEDIUM] = TG_OCSF_SEVERITY_MEDIUM_NAME,
		[TG_OCSF_SEVERITY_HIGH] = TG_OCSF_SEVERITY_HIGH_NAME,
		[TG_OCSF_SEVERITY_CRITICAL] = TG_OCSF_SEVERITY_CRITICAL_NAME,
	};
	return id > 0 && id <= TG_OCSF_SEVERITY_CRITICAL ? caption[id] : TG_OCSF_OTHER_NAME;
}

/* Would enforce mode have refused the call? An audit record says so by
 * its decision; a learn record by its verdict. */
static bool enforce_denies(const struct tg_event *ev)
{
	if (ev->decision == TG_DEC_DENY || ev->decision == TG_DEC_WOULD_DENY)
		return true;
	return ev->decision == TG_DEC_LEARN && ev->verdict && !ev->verdict->allow;
}

/* severity, action, disposition and is_alert of each decision. A record
 * of audit or learn mode keeps the severity and is_alert the deny would
 * have had in enforce mode; the action says what happened. */
static void outcome(struct build *b, json_t *rec)
{
	const struct tg_event *ev = b->ev;
	bool denies = enforce_denies(ev);
	int severity = denies ? rule_severity(ev->verdict) : TG_OCSF_SEVERITY_INFORMATIONAL;

	tg_rec_set_enum(b, rec, "severity_id", severity, "severity", severity_caption(severity));
	if (ev->decision == TG_DEC_DENY) {
		tg_rec_set_enum(b, rec, "action_id", TG_OCSF_ACTION_DENIED, "action",
				TG_OCSF_ACTION_DENIED_NAME);
		/* A kill is more than a block: 99 (Other) with its own caption. */
		if (ev->killed)
			tg_rec_set_enum(b, rec, "disposition_id", TG_OCSF_OTHER, "disposition",
					TG_OCSF_DISPOSITION_KILLED_NAME);
		else
			tg_rec_set_enum(b, rec, "disposition_id", TG_OCSF_DISPOSITION_BLOCKED,
					"disposition", TG_OCSF_DISPOSITION_BLOCKED_NAME);
	} else {
		tg_rec_set_enum(b, rec, "action_id", TG_OCSF_ACTION_ALLOWED, "action",
				TG_OCSF_ACTION_ALLOWED_NAME);
		if (denies)
			tg_rec_set_enum(b, rec, "disposition_id", TG_OCSF_DISPOSITION_DETECTED,
					"disposition", TG_OCSF_DISPOSITION_DETECTED_NAME);
		else
			tg_rec_set_enum(b, rec, "disposition_id", TG_OCSF_DISPOSITION_ALLOWED,
					"disposition", TG_OCSF_DISPOSITION_ALLOWED_NAME);
	}
	tg_rec_set(b, rec, "is_alert", json_boolean(denies));
}

/* What the program got back: success, or the errno's name. */
static void status(struct build *b, json_t *rec)
{
	char code[24];

	tg_errno_code(b->ev->err, code);
	if (b->ev->err)
		tg_rec_set_enum(b, rec, "status_id", TG_OCSF_STATUS_FAILURE, "status",
				TG_OCSF_STATUS_FAILURE_NAME);
	else
		tg_rec_set_enum(b, rec, "status_id", TG_OCSF_STATUS_SUCCESS, "status",
				TG_OCSF_STATUS_SUCCESS_NAME);
	tg_rec_set(b, rec, "status_code", json_string(code));
}

json_t *tg_rec_metadata(struct build *b, json_t *rec)
{
	const struct tg_proc *p = b->proc;
	json_t *meta = tg_rec_object(b, rec, "metadata");
	json_t *product = tg_rec_object(b, meta, "product");

	tg_rec_set(b, meta, "version", json_string(TG_OCSF_VERSION));
	tg_rec_set(b, product, "name", json_string(TG_OCSF_PRODUCT));
	tg_rec_set(b, product, "vendor_name", json_string(TG_OCSF_VENDOR));
	if (p->version)
		tg_rec_set_str(b, product, "version", p->version, b->caps->text,
			       "metadata.product.version");
	json_t *profiles = json_array();
	if (!profiles || json_array_append_new(profiles, json_string(TG_OCSF_PROFILE_1)) ||
	    json_array_append_new(profiles, json_string(TG_OCSF_PROFILE_2)))
		b->failed = true;
	tg_rec_set(b, meta, "profiles", profiles);
	tg_rec_set(b, meta, "uid", json_string(b->st->uid));
	tg_rec_set_int(b, meta, "sequence", b->st->seq);
	if (p->job_id)
		tg_rec_set_str(b, meta, "correlation_uid", p->job_id, b->caps->text,
			       "metadata.correlation_uid");
	tg_rec_set(b, meta, "log_name", json_string(TG_OCSF_LOG_NAME));
	return meta;
}

/* The call's flags as an array of names, and as one string for the message. */
static void flags(struct build *b, json_t *tg)
{
	size_t n = tg_open_flag_names(b->ev->flags, b->flags);
	json_t *arr = json_array();

	for (size_t at = 0; at < n;) {
		const char *bar = memchr(b->flags + at, '|', n - at);
		size_t l = bar ? (size_t)(bar - (b->flags + at)) : n - at;
		if (arr && json_array_append_new(arr, json_stringn(b->flags + at, l)))
			b->failed = true;
		at += l + 1;
	}
	tg_rec_set(b, tg, "flags", arr);
}

static void dirfd(struct build *b, json_t *tg)
{
	int fd = b->ev->dirfd;
	char s[24];
	size_t l = 0;

	if (fd == AT_FDCWD) {
		tg_rec_set(b, tg, "dirfd", json_string("AT_FDCWD"));
		return;
	}
	if (fd < 0)
		s[l++] = '-';
	s[l + tg_put_dec(s + l, (uint64_t)(fd < 0 ? -(int64_t)fd : fd), 1)] = '\0';
	tg_rec_set(b, tg, "dirfd", json_string(s));
}

/* Where the process runs: container, cgroup and Kubernetes pod, when known. */
void tg_rec_context(struct build *b, json_t *tg)
{
	const struct tg_proc *p = b->proc;

	if (p->container_id)
		tg_rec_set_str(b, tg, "container_id", p->container_id, b->caps->text,
			       "unmapped.trainguard.container_id");
	if (p->cgroup)
		tg_rec_set_str(b, tg, "cgroup", p->cgroup, b->caps->path,
			       "unmapped.trainguard.cgroup");
	if (p->k8s_pod)
		tg_rec_set_str(b, tg, "k8s_pod", p->k8s_pod, b->caps->text,
			       "unmapped.trainguard.k8s_pod");
	if (p->k8s_namespace)
		tg_rec_set_str(b, tg, "k8s_namespace", p->k8s_namespace, b->caps->text,
			       "unmapped.trainguard.k8s_namespace");
}

/* unmapped.trainguard: what OCSF has no place for. */
static json_t *unmapped(struct build *b, json_t *rec)
{
	const struct tg_event *ev = b->ev;
	const struct tg_verdict *v = ev->verdict;
	json_t *tg = tg_rec_object(b, tg_rec_object(b, rec, "unmapped"), "trainguard");
	char mode[16];

	tg_rec_set_text(b, tg, "op", b->op);
	/* The hash chain's slot, filled once the line is final (chain.h). */
	if (b->proc->chain_slot)
		tg_rec_set(b, tg, "chain", json_string(TG_CHAIN_SLOT_VALUE));
	if (ev->flags >= 0)
		flags(b, tg);
	dirfd(b, tg);
	if (ev->path_requested)
		tg_rec_set_text(b, tg, "path_requested",
				tg_rec_text(b, ev->path_requested, b->caps->path, true,
					    "unmapped.trainguard.path_requested"));
	if (ev->path2) {
		b->path2 = tg_rec_text(b, ev->path2, b->caps->path, true,
				       "unmapped.trainguard.path2");
		tg_rec_set_text(b, tg, "path2", b->path2);
	}
	if (b->path_pct)
		tg_rec_set(b, tg, "path_encoding", json_string("percent"));
	json_t *classes = json_array();
	for (unsigned c = 0; c < TG_NCLASS; c++) {
		const char *cname = tg_class_name(c);
		if ((ev->classes & TG_BIT(c)) && cname &&
		    (!classes || json_array_append_new(classes, json_string(cname))))
			b->failed = true;
	}
	tg_rec_set(b, tg, "classes", classes);
	if (v)
		tg_rec_set(b, tg, "decided_class",
			   json_string(tg_rec_or_unknown(tg_class_name(v->cls))));
	tg_rec_set(b, tg, "decision", json_string(tg_decision_name(ev->decision)));
	tg_rec_set(b, tg, "mode", json_string(tg_rec_or_unknown(tg_mode_name(ev->mode))));
	tg_rec_set_int(b, tg, "errno", ev->err);
	if (ev->mode_requested >= 0) {
		tg_put_octal_mode(mode, (unsigned)ev->mode_requested);
		tg_rec_set(b, tg, "mode_requested", json_string(mode));
	}
	if (ev->mode_applied >= 0) {
		tg_put_octal_mode(mode, (unsigned)ev->mode_applied);
		tg_rec_set(b, tg, "mode_applied", json_string(mode));
	}
	/* The reason is policy.desc: once is enough. */
	if (ev->decision != TG_DEC_DENY && ev->decision != TG_DEC_ALLOW)
		tg_rec_set(b, tg, "enforce_decision",
			   json_string(enforce_denies(ev) ? "deny" : "allow"));
	if (ev->killed)
		tg_rec_set(b, tg, "killed", json_true());
	if (ev->by_pattern)
		tg_rec_set(b, tg, "folded_by", json_string("pattern"));
	if (ev->facts) {
		char ns[24];
		ns[tg_put_dec(ns, (uint64_t)ev->facts->mtime_ns, 1)] = '\0';
		tg_rec_set(b, tg, "mtime_ns", json_string(ns));
		if (ev->facts->timing)
			tg_rec_set(b, tg, "digest", json_string(ev->facts->timing));
		tg_rec_set(b, tg, "aggregated", json_true());
	}
	if (ev->dropped)
		tg_rec_set_int(b, tg, "dropped_before", (long long)ev->dropped);
	tg_rec_context(b, tg);
	if (ev->unguarded)
		tg_rec_set(b, tg, "unguarded", json_string(ev->unguarded));
	return tg;
}

/* "denied open64(O_WRONLY|O_CREAT) of /x/y by python3 (rule dataset-read-only)" */
static void message(struct build *b, json_t *rec)
{
	const char *verb = tg_decision_verb(b->ev->decision);
	const char *fl = b->ev->flags >= 0 ? b->flags : NULL;
	size_t fn = fl ? strlen(fl) : 0;
	struct text op = b->op, path = b->path, path2 = b->path2, by = b->name, rule = b->rule;
	size_t cap = strlen(verb) + op.len + fn + path.len + path2.len + by.len + rule.len + 128;
	char *m = tg_rec_scratch(b, cap), pid[24];
	size_t n = 0;

	if (!m)
		return;
#define PUT(s, l) (memcpy(m + n, (s), (l)), n += (l))
#define LIT(s)    PUT(s, sizeof(s) - 1)
	PUT(verb, strlen(verb));
	LIT(" ");
	PUT(op.s, op.len);
	if (fl) {
		LIT("(");
		PUT(fl, fn);
		LIT(")");
	}
	LIT(" of ");
	PUT(path.s, path.len);
	if (path2.len) {
		LIT(" and ");
		PUT(path2.s, path2.len);
	}
	LIT(" by ");
	if (by.len) {
		PUT(by.s, by.len);
	} else {
		LIT("pid ");
		PUT(pid, tg_put_dec(pid, (uint64_t)b->proc->pid, 1));
	}
	if (rule.len) {
		LIT(" (rule ");
		PUT(rule.s, rule.len);
		LIT(")");
	}
	if (b->ev->count > 1) {
		LIT(", ");
		PUT(pid, tg_put_dec(pid, b->ev->count, 1));
		LIT(" times");
		if (b->ev->by_pattern)
			LIT(" on paths matching the pattern");
	}
	if (b->ev->killed)
		LIT("; the process was killed (on_deny = kill)");
#undef LIT
#undef PUT
	struct text t;
	if (!tg_rec_cut_copy(b, m, n, false, b->caps->msg, &t))
		tg_rec_mark(b, &b->truncated, "message");
	tg_rec_set_text(b, rec, "message", t);
}

static json_t *build_record(struct build *b)
{
	json_t *rec = json_object();

	if (!rec) {
		b->failed = true;
		return NULL;
	}
	prepare(b);
	classification(b, rec);
	outcome(b, rec);
	status(b, rec);
	tg_rec_actor(b, rec);
	tg_rec_device(b, rec);
	target(b, rec);
	if (b->ev->verdict)
		policy(b, rec);
	json_t *meta = tg_rec_metadata(b, rec);
	json_t *tg = unmapped(b, rec);
	message(b, rec);

	/* Last, so that they list every field above. */
	if (b->encoded)
		tg_rec_set(b, tg, "percent_encoded", b->encoded);
	if (b->truncated) {
		tg_rec_set(b, tg, "truncated", b->truncated);
		tg_rec_set(b, meta, "is_truncated", json_true());
	}
	b->encoded = b->truncated = NULL;
	return rec;
}

/* Builds the record under the budgets CAPS into BUF; the length of the
 * line, or -ENOMEM, or -EINVAL (a jansson refusal), or -E2BIG when it does
 * not fit. */
static int format_with(const struct tg_event *ev, const struct tg_proc *proc,
		       const struct stamp *st, const struct caps *caps, char *buf)
{
	struct build b = { .ev = ev, .proc = proc, .caps = caps, .st = st };
	size_t n = 0;

	tg_arena_reset();
	json_t *rec = ev->kind == TG_EV_DECISION ? build_record(&b) : tg_rec_build_life(&b);
	/* The bytes of json_dumps(), written straight into BUF. JSON_SORT_KEYS
	 * sorts with qsort, which in glibc takes a heap buffer once an object's
	 * keys exceed 1 KiB: keep every object under 64 keys. */
	if (rec && !b.failed)
		n = json_dumpb(rec, buf, TG_EVENT_MAX - 2, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(rec);
	if (tg_arena_oom())
		return -ENOMEM;
	if (b.failed || n == 0)
		return -EINVAL;
	if (n > TG_EVENT_MAX - 2)
		return -E2BIG;
	buf[n] = '\n';
	buf[n + 1] = '\0';
	return (int)n + 1;
}

int tg_event_format(const struct tg_event *ev, const struct tg_proc *proc, char *buf, size_t cap)
{
	struct stamp st;
	unsigned level;
	int r = -EINVAL;

	if (!ev || !proc || !ev->op || !buf || cap < TG_EVENT_MAX)
		return -EINVAL;
	if (tg_arena_enter(&level) < 0)
		return -ENOMEM;

	clock_gettime(CLOCK_REALTIME, &st.ts);
	st.seq = next_sequence(proc->pid, proc->foreign);
	tg_put_uuid7(st.uid, &st.ts, (uint32_t)proc->pid, st.seq);
	tg_put_rfc3339(st.dt, &st.ts);

	for (size_t t = 0; t < sizeof(tiers) / sizeof(tiers[0]); t++) {
		r = format_with(ev, proc, &st, &tiers[t], buf);
		if (r != -E2BIG)
			break;
	}
	if (r == -E2BIG)
		r = -EINVAL; /* too long even with the small budgets: a bug */
	tg_arena_leave(level);
	return r;
}
