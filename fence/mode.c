/* The names of the fence's per-layer modes (policy keys fence.landlock and
 * fence.seccomp), in one string table. */
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
