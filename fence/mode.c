/* Whether the job's mode lets the fence apply at all, and the names of the
 * layers a report says are active (TRAINGUARD_FENCE, run's summary). The
 * per-layer modes (policy keys fence.landlock and fence.seccomp) and their
 * one string table are the policy's (policy/names.c). */
#include <errno.h>
#include <string.h>

#include "tg-fence.h"

bool tg_fence_applies(const struct tg_policy *p, const struct tg_fence_opts *o)
{
	enum tg_mode m = (o->flags & TG_FENCE_MODE_SET) ? o->mode : tg_policy_mode(p);
	return m == TG_ENFORCE;
}

const char *tg_fence_layers(const struct tg_fence_report *r)
{
	if (r->landlock && r->seccomp)
		return "landlock+seccomp";
	if (r->landlock)
		return "landlock";
	return r->seccomp ? "seccomp" : "none";
}

int tg_fence_layers_parse(const char *s, struct tg_fence_report *ret)
{
	static const char *const names[] = { "none", "landlock", "seccomp", "landlock+seccomp" };

	for (unsigned i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (struct tg_fence_report){ .landlock = i & 1, .seccomp = i & 2 };
			return 0;
		}
	return -EINVAL;
}
