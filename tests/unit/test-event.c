/* Event records: builds one record per kind of decision, parses each back
 * with jansson and checks the fields EVENTS.md promises; the byte form and
 * the text helpers are in test-event-text.c, nesting and threads in
 * test-event-nesting.c, the shared checks and the project's OCSF 1.8.0
 * check (tests/ocsf, run over every line at the end) in event-check.c. It
 * links the event library the preload links (libtgevent.a). TAP. */
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

	return finish();
}
