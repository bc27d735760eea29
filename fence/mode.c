/* Whether the job's mode lets the fence apply at all. The per-layer modes
 * (policy keys fence.landlock and fence.seccomp) and their one string
 * table are the policy's (policy/names.c). */
#include "tg-fence.h"

bool tg_fence_applies(const struct tg_policy *p, const struct tg_fence_opts *o)
{
	enum tg_mode m = (o->flags & TG_FENCE_MODE_SET) ? o->mode : tg_policy_mode(p);
	return m == TG_ENFORCE;
}
