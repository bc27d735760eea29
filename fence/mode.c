/* The fence's modes: the per-layer modes (policy keys fence.landlock and
 * fence.seccomp) in one string table, and whether the job's mode lets the
 * fence apply at all. */
#include <errno.h>
#include <string.h>

#include "tg-fence.h"

static const char *const mode_names[] = {
	[TG_FENCE_AUTO] = "auto",
	[TG_FENCE_REQUIRE] = "require",
	[TG_FENCE_OFF] = "off",
};

const char *tg_fence_mode_name(enum tg_fence_mode m)
{
	return (unsigned)m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] : NULL;
}

int tg_fence_mode_parse(const char *s, enum tg_fence_mode *ret)
{
	for (unsigned m = 0; s && m < sizeof(mode_names) / sizeof(mode_names[0]); m++)
		if (strcmp(s, mode_names[m]) == 0) {
			*ret = m;
			return 0;
		}
	return -EINVAL;
}

bool tg_fence_applies(const struct tg_policy *p, const struct tg_fence_opts *o)
{
	enum tg_mode m = (o->flags & TG_FENCE_MODE_SET) ? o->mode : tg_policy_mode(p);
	return m == TG_ENFORCE;
}
