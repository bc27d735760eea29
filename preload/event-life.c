/* Lifecycle records: a guarded process starting and stopping, a fork
 * child, the exec and spawn links, a child a signal ended, and a job left
 * unguarded (Event Log Activity 1008 and Process Activity 1007;
 * preload/lifecycle.h says when each is written). Built with
 * the helpers of event-build.h, like the decision records of
 * event-record.c. */
#include <string.h>

#include <jansson.h>

#include "chain.h"
#include "event-build.h"
#include "ocsf.h"

static void put_message(struct build *b, json_t *rec, const char *m, size_t n)
{
	struct text t;

	if (!tg_rec_cut_copy(b, m, n, tg_text_needs_percent(m, b->caps->msg), b->caps->msg, &t))
		tg_rec_mark(b, &b->truncated, "message");
	tg_rec_set_text(b, rec, "message", t);
}

/* The process as a record names it: "python3 (pid 42)". */
static size_t put_who(struct build *b, char *m)
{
	size_t n = 0;

	if (b->name.len) {
		size_t l = b->name.len < 200 ? b->name.len : 200;
		memcpy(m, b->name.s, l);
		n = l;
	}
	memcpy(m + n, " (pid ", 6);
	n += 6;
	n += tg_put_dec(m + n, (uint64_t)b->proc->pid, 1);
	m[n++] = ')';
	return n;
}

static void life_classification(struct build *b, json_t *rec, int cls, int activity,
				const char *activity_name, const char *class_name,
				const char *type_name)
{
	tg_rec_set_int(b, rec, "category_uid", TG_OCSF_CATEGORY);
	tg_rec_set(b, rec, "category_name", json_string(TG_OCSF_CATEGORY_NAME));
	tg_rec_set_int(b, rec, "class_uid", cls);
	tg_rec_set(b, rec, "class_name", json_string(class_name));
	tg_rec_set_int(b, rec, "activity_id", activity);
	tg_rec_set(b, rec, "activity_name", json_string(activity_name));
	tg_rec_set_int(b, rec, "type_uid", TG_OCSF_TYPE_UID(cls, activity));
	tg_rec_set(b, rec, "type_name", json_string(type_name));
	tg_rec_set_int(b, rec, "time",
		       (long long)b->st->ts.tv_sec * 1000 + b->st->ts.tv_nsec / 1000000);
	tg_rec_set(b, rec, "time_dt", json_string(b->st->dt));
	tg_rec_set_enum(b, rec, "severity_id", TG_OCSF_SEVERITY_INFORMATIONAL, "severity",
			TG_OCSF_SEVERITY_INFORMATIONAL_NAME);
	tg_rec_set_enum(b, rec, "status_id", TG_OCSF_STATUS_SUCCESS, "status",
			TG_OCSF_STATUS_SUCCESS_NAME);
}

/* The stop record's counts: an array (an object past 64 keys would make
 * jansson's sort allocate from the heap). */
static void rule_counts(struct build *b, json_t *tg, const struct tg_life *l)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < l->ncounts && i < 64; i++) {
		json_t *o = json_object();
		tg_rec_set_str(b, o, "rule", tg_rec_or_unknown(l->counts[i].rule), b->caps->text,
			       "unmapped.trainguard.counts.rule");
		tg_rec_set_int(b, o, "count", (long long)l->counts[i].count);
		if (json_array_append_new(arr, o))
			b->failed = true;
	}
	tg_rec_set(b, tg, "counts", arr);
}

/* The exec link: this image (the actor) is replaced by PROGRAM, the same
 * pid; or the spawn link: PROGRAM starts in a child posix_spawn, system or
 * popen makes (no pid yet: named by this record's uid, as the spawn
 * decision names it). The new image's chain starts from this record
 * (chain.h). A failed exec or spawn says so (an exec's image goes on).
 * Returns the message's length. */
static size_t exec_link(struct build *b, json_t *rec, const struct tg_life *l, char *m)
{
	static const char *const verbs[2][2] = { { " execs ", " could not exec " },
						 { " spawns ", " could not spawn " } };
	const struct tg_proc *p = b->proc;
	struct text path = { "", 0 };
	size_t n;

	life_classification(b, rec, TG_OCSF_PROCESS_ACTIVITY, TG_OCSF_PROCESS_LAUNCH,
			    TG_OCSF_PROCESS_LAUNCH_NAME, TG_OCSF_PROCESS_ACTIVITY_NAME,
			    TG_OCSF_PROCESS_ACTIVITY_NAME ": " TG_OCSF_PROCESS_LAUNCH_NAME);
	if (l->spawn)
		tg_rec_set_enum(b, rec, "launch_type_id", TG_OCSF_LAUNCH_SPAWN, "launch_type",
				TG_OCSF_LAUNCH_SPAWN_NAME);
	else
		tg_rec_set_enum(b, rec, "launch_type_id", TG_OCSF_LAUNCH_EXEC, "launch_type",
				TG_OCSF_LAUNCH_EXEC_NAME);
	tg_rec_actor(b, rec);
	json_t *c = tg_rec_object(b, rec, "process");
	if (l->spawn)
		tg_rec_set(b, c, "uid", json_string(b->st->uid));
	else
		tg_rec_set_int(b, c, "pid", p->pid);
	if (l->program) {
		b->path_pct = tg_text_needs_percent(l->program, b->caps->path);
		json_t *f = tg_rec_file(b, l->program, "process.file", &path, TG_OCSF_FILE_REGULAR);
		tg_rec_set(b, c, "file", f);
		tg_rec_set(b, c, "name", json_incref(json_object_get(f, "name")));
	}
	if (l->argv) {
		const char *line = tg_rec_join_argv(b, l->argv);
		if (line)
			tg_rec_set_str(b, c, "cmd_line", line, b->caps->cmd, "process.cmd_line");
	}
	tg_rec_set_int(b, tg_rec_object(b, c, "parent_process"), "pid",
		       l->spawn ? p->pid : p->ppid);
	n = put_who(b, m);
	if (l->exec_errno) {
		char code[24];
		tg_errno_code(l->exec_errno, code);
		tg_rec_set_enum(b, rec, "status_id", TG_OCSF_STATUS_FAILURE, "status",
				TG_OCSF_STATUS_FAILURE_NAME);
		tg_rec_set(b, rec, "status_code", json_string(code));
	}
	const char *verb = verbs[l->spawn][l->exec_errno != 0];
	size_t vl = strlen(verb), pl = path.len < 400 ? path.len : 400;
	memcpy(m + n, verb, vl);
	n += vl;
	memcpy(m + n, path.len ? path.s : "a descriptor", path.len ? pl : 12);
	n += path.len ? pl : 12;
	if (l->exec_errno && !l->spawn) {
		static const char goes_on[] = ": this image goes on";
		memcpy(m + n, goes_on, sizeof(goes_on) - 1);
		n += sizeof(goes_on) - 1;
	}
	return n;
}

/* A child this process reaped was ended by a signal: its own stop record
 * is missing unless it killed itself (lifecycle.h), and this record, by
 * the parent that saw it end, says so. Returns the message's length. */
static size_t child_killed(struct build *b, json_t *rec, const struct tg_life *l, char *m)
{
	static const char lost[] = ": unless it wrote a stop record, the repeats it was "
				   "still folding are lost";
	size_t n;

	life_classification(b, rec, TG_OCSF_PROCESS_ACTIVITY, TG_OCSF_PROCESS_TERMINATE,
			    TG_OCSF_PROCESS_TERMINATE_NAME, TG_OCSF_PROCESS_ACTIVITY_NAME,
			    TG_OCSF_PROCESS_ACTIVITY_NAME ": " TG_OCSF_PROCESS_TERMINATE_NAME);
	tg_rec_actor(b, rec);
	json_t *c = tg_rec_object(b, rec, "process");
	tg_rec_set_int(b, c, "pid", l->child);
	tg_rec_set_int(b, tg_rec_object(b, c, "parent_process"), "pid", b->proc->pid);
	n = put_who(b, m);
	memcpy(m + n, " reaped pid ", 12);
	n += 12;
	n += tg_put_dec(m + n, (uint64_t)l->child, 1);
	memcpy(m + n, ", killed by signal ", 19);
	n += 19;
	n += tg_put_dec(m + n, (uint64_t)l->signal, 1);
	if (l->core) {
		memcpy(m + n, " (core dumped)", 14);
		n += 14;
	}
	memcpy(m + n, lost, sizeof(lost) - 1);
	return n + sizeof(lost) - 1;
}

/* Start, stop, fork and unguarded: what happened to the process rather
 * than to one call. */
json_t *tg_rec_build_life(struct build *b)
{
	const struct tg_event *ev = b->ev;
	const struct tg_life *l = ev->life;
	const struct tg_proc *p = b->proc;
	json_t *rec = json_object();
	char m[768];
	size_t n = 0;

	if (!rec || !l) {
		b->failed = true;
		json_decref(rec);
		return NULL;
	}
	if (p->name)
		b->name = tg_rec_text(b, p->name, b->caps->name, false, "actor.process.name");
#define LIT(s) (memcpy(m + n, (s), sizeof(s) - 1), n += sizeof(s) - 1)
#define STR(s) \
	do { \
		size_t l_ = strnlen((s), 160); \
		memcpy(m + n, (s), l_); \
		n += l_; \
	} while (0)
	if (ev->kind == TG_EV_EXEC) {
		n = exec_link(b, rec, l, m);
	} else if (ev->kind == TG_EV_CHILD_KILLED) {
		n = child_killed(b, rec, l, m);
	} else if (ev->kind == TG_EV_FORK) {
		life_classification(b, rec, TG_OCSF_PROCESS_ACTIVITY, TG_OCSF_PROCESS_LAUNCH,
				    TG_OCSF_PROCESS_LAUNCH_NAME, TG_OCSF_PROCESS_ACTIVITY_NAME,
				    TG_OCSF_PROCESS_ACTIVITY_NAME ": " TG_OCSF_PROCESS_LAUNCH_NAME);
		tg_rec_set_enum(b, rec, "launch_type_id", TG_OCSF_LAUNCH_FORK, "launch_type",
				TG_OCSF_LAUNCH_FORK_NAME);
		/* The actor is the parent; the process the new child. */
		json_t *a = tg_rec_object(b, rec, "actor");
		json_t *ap = tg_rec_object(b, a, "process");
		tg_rec_set_int(b, ap, "pid", l->parent_pid);
		if (p->name)
			tg_rec_set_text(b, ap, "name", b->name);
		json_t *c = tg_rec_object(b, rec, "process");
		tg_rec_set_int(b, c, "pid", p->pid);
		if (p->name)
			tg_rec_set_text(b, c, "name", b->name);
		json_t *cp = tg_rec_object(b, c, "parent_process");
		tg_rec_set_int(b, cp, "pid", l->parent_pid);
		n = put_who(b, m);
		LIT(" forked from pid ");
		n += tg_put_dec(m + n, (uint64_t)l->parent_pid, 1);
	} else {
		bool stop = ev->kind == TG_EV_STOP, start = ev->kind == TG_EV_START;
		int act = start ? TG_OCSF_LOG_START : stop ? TG_OCSF_LOG_STOP : TG_OCSF_OTHER;
		const char *an = start  ? TG_OCSF_LOG_START_NAME
				 : stop ? TG_OCSF_LOG_STOP_NAME
					: TG_OCSF_OTHER_NAME;
		life_classification(
			b, rec, TG_OCSF_EVENT_LOG_ACTIVITY, act, an,
			TG_OCSF_EVENT_LOG_ACTIVITY_NAME,
			start  ? TG_OCSF_EVENT_LOG_ACTIVITY_NAME ": " TG_OCSF_LOG_START_NAME
			: stop ? TG_OCSF_EVENT_LOG_ACTIVITY_NAME ": " TG_OCSF_LOG_STOP_NAME
			       : TG_OCSF_EVENT_LOG_ACTIVITY_NAME ": " TG_OCSF_OTHER_NAME);
		tg_rec_set(b, rec, "log_name", json_string(TG_OCSF_LOG_NAME));
		tg_rec_actor(b, rec);
		n = put_who(b, m);
		if (start) {
			LIT(" runs guarded: policy ");
			STR(tg_rec_or_unknown(p->policy_source));
			LIT(", mode ");
			STR(tg_rec_or_unknown(tg_mode_name(ev->mode)));
			LIT(", layers ");
			STR(tg_rec_or_unknown(l->layers));
		} else if (stop) {
			LIT(" stopped");
			if (l->signal) {
				LIT(" by signal ");
				n += tg_put_dec(m + n, (uint64_t)l->signal, 1);
			} else if (l->exit_status >= 0) {
				LIT(" with exit status ");
				n += tg_put_dec(m + n, (uint64_t)l->exit_status, 1);
			}
			unsigned long denials = 0;
			for (size_t i = 0; i < l->ncounts; i++)
				denials += l->counts[i].count;
			LIT(": ");
			n += tg_put_dec(m + n, denials, 1);
			LIT(" refusals or detections");
			if (l->dropped) {
				LIT(", ");
				n += tg_put_dec(m + n, l->dropped, 1);
				LIT(" records dropped");
			}
		} else {
			tg_rec_set_enum(b, rec, "severity_id", TG_OCSF_SEVERITY_HIGH, "severity",
					TG_OCSF_SEVERITY_HIGH_NAME);
			tg_rec_set(b, rec, "is_alert", json_true());
			LIT(" runs UNGUARDED ("
			    "TRAINGUARD_ON_ERROR=allow): ");
			STR(tg_rec_or_unknown(l->why));
		}
	}
#undef STR
#undef LIT
	tg_rec_device(b, rec);
	json_t *meta = tg_rec_metadata(b, rec);
	json_t *tg = tg_rec_object(b, tg_rec_object(b, rec, "unmapped"), "trainguard");
	tg_rec_set(b, tg, "event", json_string(ev->op));
	/* Lifecycle lines are links of the chain like any other (chain.h). */
	if (b->proc->chain_slot)
		tg_rec_set(b, tg, "chain", json_string(TG_CHAIN_SLOT_VALUE));
	tg_rec_set(b, tg, "mode", json_string(tg_rec_or_unknown(tg_mode_name(ev->mode))));
	if (ev->kind == TG_EV_START || ev->kind == TG_EV_UNGUARDED) {
		if (p->policy_source)
			tg_rec_set_str(b, tg, "policy_source", p->policy_source, b->caps->path,
				       "unmapped.trainguard.policy_source");
		if (p->policy_sha256)
			tg_rec_set_str(b, tg, "policy_sha256", p->policy_sha256, b->caps->text,
				       "unmapped.trainguard.policy_sha256");
		if (l->profiles)
			tg_rec_set_str(b, tg, "profiles", l->profiles, b->caps->text,
				       "unmapped.trainguard.profiles");
		if (l->layers)
			tg_rec_set_str(b, tg, "layers", l->layers, b->caps->text,
				       "unmapped.trainguard.layers");
		if (l->fence)
			tg_rec_set_str(b, tg, "fence", l->fence, b->caps->text,
				       "unmapped.trainguard.fence");
		if (l->why)
			tg_rec_set_str(b, tg, "why", l->why, b->caps->msg,
				       "unmapped.trainguard.why");
		tg_rec_context(b, tg);
	}
	if (ev->kind == TG_EV_CHILD_KILLED) {
		tg_rec_set_int(b, tg, "signal", l->signal);
		if (l->core)
			tg_rec_set(b, tg, "core_dumped", json_true());
	}
	if (ev->kind == TG_EV_STOP) {
		if (l->exit_status >= 0)
			tg_rec_set_int(b, tg, "exit_status", l->exit_status);
		if (l->signal)
			tg_rec_set_int(b, tg, "signal", l->signal);
		if (l->exit_how)
			tg_rec_set(b, tg, "exit", json_string(l->exit_how));
		rule_counts(b, tg, l);
		tg_rec_set_int(b, tg, "dropped", (long long)l->dropped);
		tg_rec_set_int(b, tg, "folded", (long long)l->folded);
	}
	if (ev->dropped)
		tg_rec_set_int(b, tg, "dropped_before", (long long)ev->dropped);
	put_message(b, rec, m, n);
	if (b->truncated) {
		tg_rec_set(b, tg, "truncated", b->truncated);
		tg_rec_set(b, meta, "is_truncated", json_true());
	}
	if (b->encoded)
		tg_rec_set(b, tg, "percent_encoded", b->encoded);
	b->encoded = b->truncated = NULL;
	return rec;
}
