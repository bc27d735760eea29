/* The kernel fence installed by the library's constructor (fence.c), for
 * jobs started with plain LD_PRELOAD rather than `trainguard run`. */
#ifndef TG_PRELOAD_FENCE_H
#define TG_PRELOAD_FENCE_H

#include "tg-fence.h"
#include "tg-policy.h"

/* At start-up, after the policy is compiled with the guard's own
 * protections and the log is open: installs the fence from P in MODE,
 * with the log file LOG (NULL: stderr) writable, unless a parent did
 * (TRAINGUARD_FENCE). Fills *RET with the active layers and points
 * *RET_MARKER at the TRAINGUARD_FENCE value children must inherit (NULL:
 * none, so a child tries again). Returns 0, or -errno when a layer in mode
 * require could not be installed; *RET_WHY then says why (static). */
int tg_fence_start(const struct tg_policy *p, enum tg_mode mode, const char *log,
		   struct tg_fence_report *ret, const char **ret_marker, const char **ret_why);

#endif
