/* Handing the compiled policy to children (handoff.c; docs/hot-path.md,
 * "Start-up"; SECURITY.md).
 *
 * The process that loads its policy itself writes the finished policy
 * (its region: policy/region.c) into a sealed memory file before the
 * program runs, at a descriptor children inherit, and names it in the
 * saved environment (TRAINGUARD_HANDOFF=<fd>). A child started through the
 * exec wrappers maps it at the same address and uses it without parsing
 * or compiling, after checking it; on any doubt it loads the policy
 * itself. */
#ifndef TG_HANDOFF_H
#define TG_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>

#include "tg-policy.h"

/* What a compiled policy depends on beyond its sources: the values the
 * loader was given. A handed policy is used only when they are the
 * child's too. */
struct tg_handoff_facts {
	const char *policy_path; /* TRAINGUARD_POLICY as children get it; NULL: embedded */
	const char *job_id;
	const char *vars; /* TRAINGUARD_VARS the load was given; NULL: none */
};

/* The policy TRAINGUARD_HANDOFF names, mapped and made this process's,
 * when it was made for FACTS by this very library from sources that still
 * hold what they held. Returns 0 with the policy in *RET, or a negative
 * errno (nothing mapped: load the policy as usual). Start-up only. */
int tg_handoff_take(const struct tg_handoff_facts *facts, struct tg_policy **ret);

/* True when the handed policy P was protected for the same guard files
 * MINE (N of them, NULL entries included) as this process would protect. */
bool tg_handoff_protects(const struct tg_policy *p, const char *const *mine, size_t n);

/* Writes P (loaded into a region, protected for MINE, its index built)
 * into a new sealed memory file at a descriptor children inherit, unless
 * this process uses a handed policy already (tg_handoff_take). Any failure
 * only means children load the policy themselves. Start-up only. */
void tg_handoff_offer(struct tg_policy *p, const struct tg_handoff_facts *facts,
		      const char *const *mine, size_t n);

/* The "TRAINGUARD_HANDOFF=<fd>" entry children get (static), or NULL;
 * its descriptor and the identity the descriptor must still have at each
 * exec (a program may close it, or dup2 a file of its own onto it). */
const char *tg_handoff_entry(int *ret_fd, unsigned long long *ret_dev, unsigned long long *ret_ino);

#endif
