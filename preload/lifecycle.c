/* Lifecycle records (see lifecycle.h). */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "aggregate.h"
#include "fold.h"
#include "lifecycle.h"
#include "log.h"
#include "self.h"
#include "settings.h"

static const char *fence_layers, *fence_status;
static char profiles[512];
/* The pid whose image wrote its stop record; a fork child's differs. */
static _Atomic pid_t stopped;
/* Records dropped that a stop record has said already (an exec that then
 * failed: the image goes on, and its next stop record says only the new). */
static unsigned long dropped_said;
/* The stop record was written by an exec still under way. */
static bool exec_stopped;

void tg_life_set_fence(const char *layers, const char *status)
{
	fence_layers = layers;
	fence_status = status;
}

/* "base,secrets,python": the profiles the policy's rules came from. */
static void collect_profiles(void)
{
	size_t n = 0, nrules = tg_policy_nrules(tg_set.policy);

	for (size_t i = 0; i < nrules; i++) {
		const char *src = tg_policy_rule(tg_set.policy, i)->source;
		if (!src || strncmp(src, "profile:", 8) != 0)
			continue;
		const char *name = src + 8;
		size_t l = strlen(name);
		bool seen = false;
		for (const char *p = profiles; (p = strstr(p, name)); p += l)
			if ((p == profiles || p[-1] == ',') && (p[l] == ',' || p[l] == '\0'))
				seen = true;
		if (seen || n + l + 2 > sizeof(profiles))
			continue;
		if (n)
			profiles[n++] = ',';
		memcpy(profiles + n, name, l + 1);
		n += l;
	}
}

static void write_life(enum tg_event_kind kind, const char *op, const struct tg_life *l)
{
	/* On a terminal (the sink is stderr) a start and a stop line per
	 * process would bury the refusals: lifecycle records go to a log file,
	 * syslog or a collector; a job left unguarded is said anywhere. */
	if (kind != TG_EV_UNGUARDED && tg_log_to_stderr())
		return;
	struct tg_event ev = { .op = op,
			       .kind = kind,
			       .flags = -1,
			       .mode = tg_set.mode,
			       .mode_requested = -1,
			       .mode_applied = -1,
			       .life = l };
	tg_log_build(&ev, &tg_set.proc);
}

void tg_life_start(void)
{
	collect_profiles();
	struct tg_life l = { .profiles = profiles[0] ? profiles : NULL,
			     .layers = fence_layers ? fence_layers : "preload",
			     .fence = fence_status,
			     .exit_status = -1 };
	write_life(TG_EV_START, "start", &l);
}

/* The stop record; false when there is none to write (written already, a
 * vfork child, the guard not active). */
static bool stop(const char *how, int status, int sig)
{
	struct tg_self self;
	struct tg_rule_count counts[64];

	if (tg_state != TG_ACTIVE)
		return false;
	tg_self(&self);
	if (self.foreign)
		return false; /* a vfork child: the counts are its parent's */
	pid_t before = atomic_exchange(&stopped, self.pid);
	if (before == self.pid)
		return false;
	tg_depth++;
	tg_fold_flush(&tg_set.proc);
	tg_agg_flush(&tg_set.proc);
	struct tg_life l = { .exit_status = status,
			     .signal = sig,
			     .exit_how = how,
			     .counts = counts,
			     .ncounts = tg_fold_counts(counts, 64),
			     .dropped = tg_log_dropped() - dropped_said,
			     .folded = tg_fold_folded() };
	write_life(TG_EV_STOP, "stop", &l);
	tg_depth--;
	return true;
}

void tg_life_stop(const char *how, int status, int sig)
{
	stop(how, status, sig);
}

void tg_life_exec(const char *program, char *const *argv)
{
	struct tg_life l = { .exit_status = -1, .program = program, .argv = argv };

	if (tg_state != TG_ACTIVE)
		return;
	/* A vfork child writes no stop record (stop() says why) but its own
	 * exec link: the new image is its own. */
	if (stop("exec", -1, 0))
		exec_stopped = true;
	tg_depth++;
	write_life(TG_EV_EXEC, "exec", &l);
	tg_depth--;
}

void tg_life_spawn(const char *program, char *const *argv, int err)
{
	struct tg_life l = { .exit_status = -1,
			     .program = program,
			     .argv = argv,
			     .exec_errno = err,
			     .spawn = true };

	if (tg_state != TG_ACTIVE)
		return;
	tg_depth++;
	write_life(TG_EV_EXEC, err ? "spawn_failed" : "spawn", &l);
	tg_depth--;
}

void tg_life_child_killed(pid_t child, int sig, bool core)
{
	struct tg_life l = { .exit_status = -1, .signal = sig, .child = child, .core = core };

	if (tg_state != TG_ACTIVE)
		return;
	tg_depth++;
	write_life(TG_EV_CHILD_KILLED, "child_killed", &l);
	tg_depth--;
}

void tg_life_exec_failed(const char *program, char *const *argv, int err)
{
	struct tg_life l = {
		.exit_status = -1, .program = program, .argv = argv, .exec_errno = err ? err : EIO
	};

	if (tg_state != TG_ACTIVE)
		return;
	if (exec_stopped) {
		/* The stop record said this image's counts: they start over, and
		 * its next stop record (at exit, or the next exec) says the rest,
		 * so that no refusal is counted twice or lost. */
		exec_stopped = false;
		tg_fold_counts_reset();
		dropped_said = tg_log_dropped();
		atomic_store(&stopped, 0);
	}
	tg_depth++;
	write_life(TG_EV_EXEC, "exec_failed", &l);
	tg_depth--;
}

void tg_life_after_fork(pid_t parent)
{
	struct tg_life l = { .exit_status = -1, .parent_pid = parent };

	dropped_said = 0; /* the child's drops count from zero (tg_log_after_fork) */
	exec_stopped = false;
	if (tg_state != TG_ACTIVE)
		return;
	tg_depth++;
	write_life(TG_EV_FORK, "fork", &l);
	tg_depth--;
}

void tg_life_unguarded(const char *why, const char *dest)
{
	enum tg_sink kind;
	struct tg_life l = { .why = why, .exit_status = -1, .layers = "none" };

	/* NULL: the sink is set already (the collector's). */
	if (dest) {
		int fd = tg_log_open(dest, &kind);
		tg_log_set_fd(fd >= 0 ? fd : -1);
	}
	write_life(TG_EV_UNGUARDED, "unguarded", &l);
}

/* exit() and a return from main. */
__attribute__((destructor)) static void at_exit(void)
{
	tg_life_stop("exit", -1, 0);
}
