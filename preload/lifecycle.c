/* Lifecycle records (see lifecycle.h). */
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

void tg_life_stop(const char *how, int status, int sig)
{
	struct tg_self self;
	struct tg_rule_count counts[64];

	if (tg_state != TG_ACTIVE)
		return;
	tg_self(&self);
	if (self.foreign)
		return; /* a vfork child: the counts are its parent's */
	pid_t before = atomic_exchange(&stopped, self.pid);
	if (before == self.pid)
		return;
	tg_depth++;
	tg_fold_flush(&tg_set.proc);
	tg_agg_flush(&tg_set.proc);
	struct tg_life l = { .exit_status = status,
			     .signal = sig,
			     .exit_how = how,
			     .counts = counts,
			     .ncounts = tg_fold_counts(counts, 64),
			     .dropped = tg_log_dropped(),
			     .folded = tg_fold_folded() };
	write_life(TG_EV_STOP, "stop", &l);
	tg_depth--;
}

void tg_life_exec(void)
{
	tg_life_stop("exec", -1, 0);
}

void tg_life_after_fork(pid_t parent)
{
	struct tg_life l = { .exit_status = -1, .parent_pid = parent };

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
