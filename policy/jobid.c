/* The job id: one precedence, used by the command and the library. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tg-env.h"

static const char *nonempty(const char *v)
{
	return v && *v ? v : NULL;
}

void tg_job_id(char *out, size_t cap, const char *given)
{
	static const char *const names[] = { TG_ENV_JOB_ID, "SLURM_JOB_ID", "TORCHELASTIC_RUN_ID" };
	const char *v = nonempty(given);
	struct timespec ts;

	for (size_t i = 0; !v && i < sizeof(names) / sizeof(names[0]); i++)
		v = nonempty(getenv(names[i]));
	if (!v && nonempty(getenv("KUBERNETES_SERVICE_HOST")))
		v = nonempty(getenv("HOSTNAME"));
	if (v) {
		snprintf(out, cap, "%s", v);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, cap, "tg-%llx-%x",
		 (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, (unsigned)getpid());
}
