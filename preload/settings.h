/* The settings start-up decides (start.c), read-only afterwards, and the
 * door of every decision.
 *
 * Start-up (the constructor, or the first wrapped call if another
 * library's constructor gets there first) reads the TRAINGUARD_* settings
 * once, loads and compiles the policy, opens the log and saves everything a
 * child must inherit. tg_enter() is the door: the guard is started and this
 * thread is not inside it already. start.c defines what is declared here
 * and is the one file that depends on all the others. */
#ifndef TG_SETTINGS_H
#define TG_SETTINGS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "child-env.h"
#include "event.h"
#include "tg-fence.h"
#include "tg-policy.h"

/* Everything decided at start. */
struct tg_settings {
	struct tg_policy *policy;
	enum tg_mode mode;
	bool log_allowed;
	bool hides; /* some rule answers ENOENT: the stat family is checked */
	struct tg_proc proc;
	/* The kernel fence's active layers (fence.c): installed here or by a
	 * parent (TRAINGUARD_FENCE), for the start record. */
	struct tg_fence_report fence;
	/* What every child gets: the saved "NAME=value" strings. */
	struct tg_child_spec child;
};
extern struct tg_settings tg_set;

enum tg_state { TG_UNINIT, TG_STARTING, TG_ACTIVE, TG_DISABLED };
extern _Atomic int tg_state;

/* Set on the thread that starts the guard: libconfig's fopen and the other
 * file I/O of start-up pass straight through. Deciding itself makes no call
 * that could come back into a wrapper (its system calls are raw, its
 * buffers per call), so a signal handler that opens a file while its
 * thread is inside the guard gets a full decision, not a free pass. */
extern __thread int tg_depth __attribute__((tls_model("initial-exec")));

/* Starts the guard if no one did (start.c); true when it is active. */
bool tg_enter_slow(void);

/* True when the call must be decided: the guard is active and this
 * thread is not inside it already. */
static inline bool tg_enter(void)
{
	if (tg_depth)
		return false;
	return __builtin_expect(tg_state == TG_ACTIVE, 1) || tg_enter_slow();
}

#endif
