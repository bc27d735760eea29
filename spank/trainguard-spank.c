/* trainguard-spank.so: a Slurm SPANK plugin that puts the tasks of a job under
 * libtrainguard.so. It adds `--trainguard[=POLICY]` to srun, sbatch and salloc;
 * in slurmstepd, just before each task (or batch script) is executed as the
 * user, it appends the library to LD_PRELOAD and sets TRAINGUARD_POLICY,
 * TRAINGUARD_LOG (a pattern with %j, %s, %t, %N, %u expanded) and
 * TRAINGUARD_JOB_ID (the Slurm job id, so every task's records share one
 * metadata.correlation_uid). It fails the task, instead of running it
 * unguarded, when the library, the policy or the log folder is not usable.
 *
 * plugstack.conf arguments: lib=PATH (required), policy=PATH (for a bare
 * --trainguard; else the embedded ml-default policy), log=PATTERN (else the
 * policy's log.path), always (guard every job, with or without the option).
 * Slurm resolves everything but the SPANK API in the host process, and
 * checks that the plugin was built against its own version. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/spank.h>

SPANK_PLUGIN(trainguard, 1);

#define TG_SPANK "trainguard"

static struct {
	char lib[PATH_MAX];
	char policy[PATH_MAX];	/* plugstack.conf's default, then the user's */
	char log[PATH_MAX];	/* a pattern */
	bool always;
	bool asked;		/* --trainguard given */
} cfg;

/* Runs in every context the option is seen in (srun, sbatch, slurmstepd);
 * only the remote one acts on it. */
static int opt_trainguard(int val, const char *optarg, int remote)
{
	cfg.asked = true;
	if (optarg && *optarg) {
		if (strlen(optarg) >= sizeof(cfg.policy)) {
			slurm_error(TG_SPANK ": --trainguard: the policy path is too long");
			return -1;
		}
		snprintf(cfg.policy, sizeof(cfg.policy), "%s", optarg);
	}
	return 0;
}

static struct spank_option tg_option = {
	.name = "trainguard",
	.arginfo = "POLICY",
	.usage = "Run every task under trainguard (libtrainguard.so) with POLICY "
		 "(default: the site's policy, else the embedded ml-default).",
	.has_arg = 2,
	.val = 0,
	.cb = opt_trainguard,
};

static int set_arg(char *dst, size_t cap, const char *val, const char *arg)
{
	if (!*val || strlen(val) >= cap) {
		slurm_error(TG_SPANK ": plugstack.conf argument '%s': empty or too long", arg);
		return -EINVAL;
	}
	snprintf(dst, cap, "%s", val);
	return 0;
}

static int parse_args(int ac, char **av)
{
	int r = 0;

	for (int i = 0; i < ac && r >= 0; i++) {
		if (strncmp(av[i], "lib=", 4) == 0)
			r = set_arg(cfg.lib, sizeof(cfg.lib), av[i] + 4, av[i]);
		else if (strncmp(av[i], "policy=", 7) == 0)
			r = set_arg(cfg.policy, sizeof(cfg.policy), av[i] + 7, av[i]);
		else if (strncmp(av[i], "log=", 4) == 0)
			r = set_arg(cfg.log, sizeof(cfg.log), av[i] + 4, av[i]);
		else if (strcmp(av[i], "always") == 0)
			cfg.always = true;
		else {
			slurm_error(TG_SPANK ": unknown plugstack.conf argument '%s' "
					    "(lib=, policy=, log=, always)", av[i]);
			r = -EINVAL;
		}
	}
	return r;
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	spank_context_t ctx = spank_context();

	if (parse_args(ac, av) < 0)
		return -1;
	if (ctx == S_CTX_REMOTE && !cfg.lib[0]) {
		slurm_error(TG_SPANK ": plugstack.conf names no lib=PATH to libtrainguard.so");
		return -1;
	}
	/* slurmd and prolog/epilog scripts load the plugin too; they have
	 * no options, and an error here would fail them. */
	if (ctx != S_CTX_LOCAL && ctx != S_CTX_REMOTE && ctx != S_CTX_ALLOCATOR)
		return 0;
	if (spank_option_register(sp, &tg_option) != ESPANK_SUCCESS) {
		slurm_error(TG_SPANK ": cannot register --trainguard");
		return -1;
	}
	return 0;
}

static int put(char *out, size_t cap, size_t *n, const char *s)
{
	size_t l = strlen(s);

	if (*n + l >= cap)
		return -ENAMETOOLONG;
	memcpy(out + *n, s, l + 1);
	*n += l;
	return 0;
}

static void step_name(uint32_t step, char *buf, size_t cap)
{
	if (step == SLURM_BATCH_SCRIPT)
		snprintf(buf, cap, "batch");
	else if (step == SLURM_EXTERN_CONT)
		snprintf(buf, cap, "extern");
	else if (step == SLURM_INTERACTIVE_STEP)
		snprintf(buf, cap, "interactive");
	else
		snprintf(buf, cap, "%u", step);
}

/* Expands the log pattern as Slurm expands --output: %j job id, %s step,
 * %t task rank, %N node name, %u user name, %% a percent sign. */
static int expand_log(spank_t sp, const char *jobid, char *out, size_t cap)
{
	char buf[256];
	size_t n = 0;
	int r = 0;

	out[0] = '\0';
	for (const char *p = cfg.log; *p && r >= 0; p++) {
		uint32_t u32;
		uid_t uid;

		if (*p != '%' || !p[1]) {
			char c[2] = { *p, '\0' };
			r = put(out, cap, &n, c);
			continue;
		}
		switch (*++p) {
		case 'j':
			r = put(out, cap, &n, jobid);
			break;
		case 's':
			if (spank_get_item(sp, S_JOB_STEPID, &u32) != ESPANK_SUCCESS)
				return -EINVAL;
			step_name(u32, buf, sizeof(buf));
			r = put(out, cap, &n, buf);
			break;
		case 't':
			if (spank_get_item(sp, S_TASK_GLOBAL_ID, &u32) != ESPANK_SUCCESS)
				return -EINVAL;
			snprintf(buf, sizeof(buf), "%u", u32);
			r = put(out, cap, &n, buf);
			break;
		case 'N':
			if (spank_getenv(sp, "SLURMD_NODENAME", buf, sizeof(buf)) != ESPANK_SUCCESS &&
			    gethostname(buf, sizeof(buf)) < 0)
				return -errno;
			buf[sizeof(buf) - 1] = '\0';
			r = put(out, cap, &n, buf);
			break;
		case 'u': {
			struct passwd pw, *res = NULL;
			char pwbuf[1024];

			if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS)
				return -EINVAL;
			if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
				r = put(out, cap, &n, pw.pw_name);
			else {
				snprintf(buf, sizeof(buf), "%u", (unsigned)uid);
				r = put(out, cap, &n, buf);
			}
			break;
		}
		case '%':
			r = put(out, cap, &n, "%");
			break;
		default:
			slurm_error(TG_SPANK ": log=%s: unknown '%%%c' (%%j %%s %%t %%N %%u %%%%)",
				    cfg.log, *p);
			return -EINVAL;
		}
	}
	return r;
}

/* The folder the log is created in must exist and be writable by the
 * job's user: the library refuses to start a job it cannot log. Saying so
 * here names the folder instead of a bare exit status 126. */
static int check_log_folder(const char *log)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(log, '/');

	if (!slash)
		return access(".", W_OK | X_OK) == 0 ? 0 : -errno;
	if (slash == log)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - log), log);
	if (access(log, W_OK) == 0)
		return 0;
	return access(dir, W_OK | X_OK) == 0 ? 0 : -errno;
}

/* LD_PRELOAD keeps what the job had first (a sanitizer runtime must stay
 * first) and gains the library once, however many srun levels deep. */
static int add_preload(spank_t sp)
{
	char old[8192], val[8192 + PATH_MAX + 1];
	size_t liblen = strlen(cfg.lib);

	spank_err_t e = spank_getenv(sp, "LD_PRELOAD", old, sizeof(old));

	if (e == ESPANK_ENV_NOEXIST)
		old[0] = '\0';
	else if (e != ESPANK_SUCCESS)
		return -EINVAL;
	for (const char *p = old; (p = strstr(p, cfg.lib)); p += liblen) {
		bool starts = p == old || p[-1] == ':' || p[-1] == ' ';
		bool ends = p[liblen] == '\0' || p[liblen] == ':' || p[liblen] == ' ';
		if (starts && ends)
			return 0;
	}
	snprintf(val, sizeof(val), "%s%s%s", old, old[0] ? ":" : "", cfg.lib);
	return spank_setenv(sp, "LD_PRELOAD", val, 1) == ESPANK_SUCCESS ? 0 : -EINVAL;
}

/* Runs in slurmstepd as the job's user, for each task just before exec:
 * what this process cannot open, the task could not either. */
int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	char jobid[32], log[PATH_MAX];
	uint32_t id;
	int r;

	if (!cfg.asked && !cfg.always)
		return 0;
	if (access(cfg.lib, R_OK) < 0) {
		slurm_error(TG_SPANK ": cannot read the library '%s': %s; the task was not "
				    "started (fix lib= in plugstack.conf)", cfg.lib, strerror(errno));
		return -1;
	}
	if (cfg.policy[0] && access(cfg.policy, R_OK) < 0) {
		slurm_error(TG_SPANK ": cannot read the policy '%s': %s; the task was not started",
			    cfg.policy, strerror(errno));
		return -1;
	}
	if (spank_get_item(sp, S_JOB_ID, &id) != ESPANK_SUCCESS) {
		slurm_error(TG_SPANK ": no job id; the task was not started");
		return -1;
	}
	snprintf(jobid, sizeof(jobid), "%u", id);

	if (cfg.log[0]) {
		r = expand_log(sp, jobid, log, sizeof(log));
		if (r < 0) {
			slurm_error(TG_SPANK ": cannot expand log=%s: %s", cfg.log, strerror(-r));
			return -1;
		}
		r = check_log_folder(log);
		if (r < 0) {
			slurm_error(TG_SPANK ": cannot create the log '%s': %s; the task was not "
					    "started", log, strerror(-r));
			return -1;
		}
	}

	if (add_preload(sp) < 0 ||
	    spank_setenv(sp, "TRAINGUARD_JOB_ID", jobid, 1) != ESPANK_SUCCESS ||
	    (cfg.log[0] && spank_setenv(sp, "TRAINGUARD_LOG", log, 1) != ESPANK_SUCCESS)) {
		slurm_error(TG_SPANK ": cannot set the task's environment");
		return -1;
	}
	/* No policy named: the embedded default, not one left in the
	 * environment the job was submitted from. */
	if (cfg.policy[0])
		r = spank_setenv(sp, "TRAINGUARD_POLICY", cfg.policy, 1);
	else
		r = spank_unsetenv(sp, "TRAINGUARD_POLICY");
	if (r != ESPANK_SUCCESS) {
		slurm_error(TG_SPANK ": cannot set TRAINGUARD_POLICY");
		return -1;
	}
	return 0;
}
