/* trainguard run: start a job under the guard, collect its records into
 * the log (collector.c), wait for it, count its violations.
 *
 * The policy is loaded and its variables expanded here, once, so a bad
 * policy stops the job before it starts with the messages check gives, and
 * every process of the job inherits the same frozen values. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collector.h"
#include "common.h"
#include "find-library.h"
#include "handshake.h"
#include "report.h"
#include "run-fence.h"
#include "seal.h"
#include "tg-config.h"
#include "tg-env.h"

/* The library, or a message saying where it was looked for. */
static int find_library(char *out, size_t n)
{
	char places[3 * PATH_MAX];
	int r = tg_find_library(out, n, NULL);

	if (r == -EINVAL) {
		fprintf(stderr, "trainguard: TRAINGUARD_LIBRARY='%s' is not a readable file\n",
			getenv(TG_ENV_LIBRARY));
	} else if (r < 0) {
		tg_library_places(places, sizeof(places));
		fprintf(stderr,
			"trainguard: cannot find libtrainguard.so (looked in %s); "
			"set TRAINGUARD_LIBRARY to its path\n",
			places);
	}
	return r;
}

/* "landlock (ABI 7) + seccomp", "seccomp" or "none". */
static const char *fence_text(const struct tg_fence_report *r, char *buf, size_t n)
{
	char ll[32] = "";

	if (!r->landlock && !r->seccomp)
		return "none";
	if (r->landlock)
		snprintf(ll, sizeof(ll), "landlock (ABI %d)", r->landlock_abi);
	snprintf(buf, n, "%s%s%s", ll, r->landlock && r->seccomp ? " + " : "",
		 r->seccomp ? "seccomp" : "");
	return buf;
}

/* Adds the job's records in the file PATH (from OFFSET) to C, counted as
 * trainguard report counts them (report-tally.c): denied, would be denied
 * (audit mode, and learn records enforce would refuse), audited. */
static int count_file(const char *path, off_t offset, const char *jid, struct tg_counts *c)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	if (offset && fseeko(f, offset, SEEK_SET) != 0)
		rewind(f);
	while (getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, 0, NULL);
		struct tg_counts one;
		if (!rec)
			continue;
		const char *cid = json_string_value(
			json_object_get(json_object_get(rec, "metadata"), "correlation_uid"));
		if (cid && strcmp(cid, jid) == 0 && tg_report_classify(rec, &one))
			tg_counts_add(c, &one);
		json_decref(rec);
	}
	free(line);
	fclose(f);
	return 0;
}

/* The job's records in LOG, and in the files it was rotated to during
 * the run (renamed to LOG.1, LOG.2, ...; compressed ones are not read).
 * Only this job's records count, so a rotated file's older lines do not.
 * The violations are the refusals and the would-be refusals; audited
 * accesses were allowed. */
static void summary(const char *log, off_t offset, const char *jid, const struct stat *before,
		    const char *fence)
{
	struct tg_counts c = { 0 };
	struct stat now;
	char rotated[PATH_MAX];

	/* A log renamed away during the run is read whole wherever it went. */
	bool same = stat(log, &now) == 0 && before && now.st_ino == before->st_ino &&
		    now.st_dev == before->st_dev;
	int r = count_file(log, same ? offset : 0, jid, &c);
	if (r < 0) {
		fprintf(stderr, "trainguard: job %s finished; cannot read the log '%s': %s\n", jid,
			log, strerror(-r));
		return;
	}
	for (int i = 1; i <= 9; i++) {
		struct stat st;
		if ((size_t)snprintf(rotated, sizeof(rotated), "%s.%d", log, i) >= sizeof(rotated))
			break;
		if (stat(rotated, &st) != 0 ||
		    (before && st.st_mtime < before->st_mtime && st.st_ino != before->st_ino))
			continue; /* absent, or rotated before the run began */
		off_t from = before && st.st_ino == before->st_ino ? offset : 0;
		count_file(rotated, from, jid, &c);
	}
	long long violations = c.denied + c.would;
	fprintf(stderr,
		"trainguard: %lld violation%s (%lld denied, %lld would be denied), %lld audited "
		"in job %s; log: %s; fence: %s\n",
		violations, violations == 1 ? "" : "s", c.denied, c.would, c.audited, jid, log,
		fence);
}

static volatile sig_atomic_t job_pid;
/* Seconds the job's first process has to load the guard (--start-timeout). */
static int start_timeout = 30;

/* A signal sent to us (a container runtime's SIGTERM, Slurm's SIGUSR1
 * before the time limit) is meant for the job: pass it on. */
static void forward(int sig)
{
	int saved = errno;
	if (job_pid > 0)
		kill((pid_t)job_pid, sig);
	errno = saved;
}

static void forward_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT };
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* What the guard's answer means for the run: 0 go on, or run's status. */
static int check_handshake(struct tg_handshake *hs, pid_t pid, const char *cmd)
{
	static const char *const why_not =
		"the loader did not load the library (a wrong TRAINGUARD_LIBRARY, or one it "
		"refused: 'trainguard doctor' checks)";
	siginfo_t si = { 0 };

	switch (tg_handshake_wait(hs, pid, start_timeout)) {
	case TG_HANDSHAKE_ACTIVE:
		return 0;
	case TG_HANDSHAKE_UNGUARDED:
		fprintf(stderr,
			"trainguard: the job '%s' runs UNGUARDED (" TG_ENV_ON_ERROR
			"=allow let it start without its policy or log)\n",
			cmd);
		return 0;
	case TG_HANDSHAKE_ENDED:
		/* execvp's own failure (126, 127) was already said. */
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0 &&
		    si.si_code == CLD_EXITED &&
		    (si.si_status == TG_EXIT_NO_START || si.si_status == TG_EXIT_NOT_FOUND))
			return 0;
		fprintf(stderr,
			"trainguard: the job '%s' ended without the guard answering: it "
			"ran UNGUARDED; %s\n",
			cmd, why_not);
		waitpid(pid, NULL, 0);
		return TG_EXIT_NO_START;
	case TG_HANDSHAKE_SILENT:
		break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fprintf(stderr,
		"trainguard: the job '%s' did not load the guard within %d s and was "
		"stopped; %s\n",
		cmd, start_timeout, why_not);
	return TG_EXIT_NO_START;
}

/* Waits for the job, collecting its records when COL is not NULL (every
 * record is in the log when this returns). JOB <= 0: it was
 * reaped already, only the records are drained. Returns 0 with *STATUS, or
 * -1 after saying why. */
static int wait_job(pid_t job, struct tg_collector *col, int *status)
{
	int r = 0;

	if (col) {
		r = tg_collector_run(col, job, status);
		struct tg_collector_counts n;
		tg_collector_counts(col, &n);
		if (n.silenced)
			fprintf(stderr,
				"trainguard: %lu process%s of the job stopped logging while "
				"running (see the collector's records in the log)\n",
				n.silenced, n.silenced == 1 ? "" : "es");
		if (n.tampered)
			fprintf(stderr, "trainguard: the log was cut while the job ran (see the "
					"collector's records in the log)\n");
		if (n.refused)
			fprintf(stderr,
				"trainguard: %lu record%s sent in another process's name: refused "
				"(see the collector's records in the log)\n",
				n.refused, n.refused == 1 ? "" : "s");
	} else if (job > 0) {
		while ((r = waitpid(job, status, 0)) < 0 && errno == EINTR)
			;
		r = r < 0 ? -errno : 0;
	}
	if (r < 0)
		fprintf(stderr, "trainguard: waiting for the job: %s\n", strerror(-r));
	return r < 0 ? -1 : 0;
}

static int run_job(char **argv, const char *jid, const char *log, const char *seal,
		   struct tg_policy *p, struct tg_run_fence *fence, struct tg_collector *col)
{
	struct tg_handshake hs;
	struct tg_fence_report rep = { 0 };
	char ftext[64], path[PATH_MAX];
	struct stat st;
	off_t offset = 0;
	int status, pipefd[2];
	pid_t pid;
	/* A program the library can never be loaded into (static, set-id)
	 * runs inside the kernel fence only: Landlock is then required, or
	 * the job is refused, never run unguarded behind the user's back. */
	path[0] = '\0';
	const char *why = tg_handshake_unguardable(argv[0], path, sizeof(path));
	bool answers = !why;
	/* The program the user named runs whatever the fence's exec rules say
	 * (the preload does not decide run's own exec either): a job's script
	 * in a scratch folder still starts. */
	char real_prog[PATH_MAX];
	if (path[0] && access(path, X_OK) == 0 && realpath(path, real_prog))
		fence->program = real_prog;
	if (why) {
		const char *what = strcmp(why, "elf32") == 0 ? "32-bit" : why;
		if (fence->landlock == TG_FENCE_OFF) {
			fprintf(stderr,
				"trainguard: '%s' is a %s program: the guard cannot be "
				"loaded into it and the kernel fence is off; the job was not "
				"started\n",
				path, what);
			return TG_EXIT_NO_START;
		}
		fprintf(stderr,
			"trainguard: '%s' is a %s program: the guard cannot be loaded "
			"into it; it runs inside the kernel fence only (Landlock required)\n",
			path, what);
		fence->landlock = TG_FENCE_REQUIRE;
	}
	if (tg_handshake_open(&hs) < 0) {
		fprintf(stderr, "trainguard: cannot start the job: %s\n", strerror(errno));
		return TG_EXIT_RUN_FAIL;
	}
	bool had_log = false;

	if (log && stat(log, &st) == 0) {
		offset = st.st_size;
		had_log = true;
	}
	/* The job owns the terminal's signals; we only wait for it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	/* Caught before the fork so none is lost; exec resets them in the job. */
	forward_signals();
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		fprintf(stderr, "trainguard: cannot start the job: %s\n", strerror(errno));
		return TG_EXIT_RUN_FAIL;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "trainguard: cannot start the job: %s\n", strerror(errno));
		return TG_EXIT_RUN_FAIL;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		tg_handshake_child(&hs);
		close(pipefd[0]);
		fence->report_fd = pipefd[1];
		if (tg_run_fence_install(p, fence) < 0)
			_exit(TG_EXIT_NO_START);
		execvp(argv[0], argv);
		int e = errno;
		fprintf(stderr, "trainguard: cannot run '%s': %s\n", argv[0], strerror(e));
		_exit(e == ENOENT ? TG_EXIT_NOT_FOUND : TG_EXIT_NO_START);
	}
	job_pid = pid;
	close(pipefd[1]);
	int fr = tg_run_fence_result(pipefd[0], &rep);
	close(pipefd[0]);
	if (fr == -ECANCELED) {
		/* The job did not start; the reason was printed. */
		close(hs.rd);
		close(hs.wr);
		wait_job(pid, col, &status);
		return TG_EXIT_NO_START;
	}
	if (answers) {
		int hr = check_handshake(&hs, pid, argv[0]);
		if (hr) {
			wait_job(0, col, &status); /* what it logged before it was stopped */
			return hr;
		}
	} else {
		close(hs.rd);
		close(hs.wr);
	}
	if (wait_job(pid, col, &status) < 0)
		return TG_EXIT_RUN_FAIL;
	if (fr == -ECANCELED)
		return TG_EXIT_NO_START; /* the job did not start; the reason was printed */
	const char *fence_on = fence_text(&rep, ftext, sizeof(ftext));
	if (log)
		summary(log, offset, jid, had_log ? &st : NULL, fence_on);
	else
		fprintf(stderr,
			"trainguard: job %s finished; fence: %s; its records went to "
			"stderr (--log FILE counts them)\n",
			jid, fence_on);
	/* From outside the job, once it is over: the seal verify --seal
	 * checks. A seal that cannot be written fails the run. */
	if (seal) {
		int r = tg_seal_write(seal, log, jid);
		if (r < 0) {
			fprintf(stderr, "trainguard: cannot seal the log '%s' into '%s': %s\n", log,
				seal, strerror(-r));
			return TG_EXIT_RUN_FAIL;
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* mkdir -p DIR, each folder made 0700. Returns 0 or -errno. */
static int make_folders(const char *dir)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

/* An absolute log path whose folder exists (made when missing), or NULL
 * for stderr. */
static int log_path(const char *given, char *out, size_t n)
{
	char dir[PATH_MAX];
	struct stat st;

	if (!given || strcmp(given, "stderr") == 0)
		return 1;
	int len;
	if (given[0] == '/') {
		len = snprintf(out, n, "%s", given);
	} else {
		if (!getcwd(dir, sizeof(dir)))
			return -1;
		len = snprintf(out, n, "%s/%s", dir, given);
	}
	if (len < 0 || (size_t)len >= n || (size_t)len >= sizeof(dir)) {
		fprintf(stderr, "trainguard: the log path '%s' is too long\n", given);
		return -1;
	}
	memcpy(dir, out, len + 1);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	if (stat(*dir ? dir : "/", &st) != 0 && errno == ENOENT) {
		/* A per-job log folder (/var/log/trainguard/${JOB_ID}/) is made
		 * here, private, rather than failing the job. */
		int r = make_folders(dir);
		if (r < 0) {
			fprintf(stderr,
				"trainguard: cannot create the log folder '%s': %s; create "
				"it or choose another --log\n",
				dir, strerror(-r));
			return -1;
		}
		fprintf(stderr, "trainguard: created the log folder '%s' (mode 0700)\n", dir);
	} else if (stat(*dir ? dir : "/", &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr,
			"trainguard: the log folder '%s' is not a folder; choose another "
			"--log\n",
			dir);
		return -1;
	}
	return 0;
}

/* The job's mode as the library will choose it (start.c): MODE (--mode or
 * TRAINGUARD_MODE) unless the policy locks enforce mode. The fence, which
 * can only refuse, installs nothing in audit and learn mode. */
static void job_mode(const struct tg_policy *p, const char *mode, struct tg_run_fence *f)
{
	enum tg_mode m;

	if (!mode || !*mode || tg_mode_parse(mode, &m) < 0)
		return;
	if (tg_policy_lock_mode(p) && tg_policy_mode(p) == TG_ENFORCE)
		return;
	f->mode = m;
	f->mode_set = true;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "log", required_argument, NULL, 'l' },
		{ "job-id", required_argument, NULL, 'j' },
		{ "seal", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "fence", required_argument, NULL, 'f' },
		{ "start-timeout", required_argument, NULL, 'T' },
		{ "no-collector", no_argument, NULL, 'C' },
		{ 0 },
	};
	const char *policy = NULL, *mode = NULL, *log = NULL, *given_jid = NULL, *seal = NULL;
	const char *fence = NULL;
	bool collect = true;
	char lib[PATH_MAX], jid[256], logbuf[PATH_MAX], real[PATH_MAX];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:m:l:j:s:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'l':
			log = optarg;
			break;
		case 'j':
			given_jid = optarg;
			break;
		case 's':
			seal = optarg;
			break;
		case 'T': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 3600) {
				tg_usage_error(&tg_cmd_run,
					       "--start-timeout '%s': not a number of "
					       "seconds from 1 to 3600",
					       optarg);
				return TG_EXIT_RUN_FAIL;
			}
			start_timeout = (int)v;
			break;
		}
		case 'f':
			fence = optarg;
			break;
		case 'C':
			collect = false;
			break;
		case 'h':
			fputs(tg_cmd_run.usage, stdout);
			return 0;
		default:
			tg_usage_error(&tg_cmd_run, "unknown option '%s'", argv[optind - 1]);
			return TG_EXIT_RUN_FAIL;
		}
	}
	if (optind >= argc) {
		tg_usage_error(&tg_cmd_run,
			       "no command given: trainguard run [OPTIONS] -- CMD [ARGS...]");
		return TG_EXIT_RUN_FAIL;
	}
	enum tg_mode m;
	if (mode && tg_mode_parse(mode, &m) < 0) {
		tg_usage_error(&tg_cmd_run, "--mode '%s' is not enforce, audit or learn", mode);
		return TG_EXIT_RUN_FAIL;
	}
	enum tg_fence_mode fm;
	if (fence && tg_fence_mode_parse(fence, &fm) < 0) {
		tg_usage_error(&tg_cmd_run, "--fence '%s' is not auto, require or off", fence);
		return TG_EXIT_RUN_FAIL;
	}
	if (find_library(lib, sizeof(lib)) < 0)
		return TG_EXIT_RUN_FAIL;
	tg_job_id(jid, sizeof(jid), given_jid);

	/* Fail before the job starts, with the messages check would give. */
	struct tg_diag_count d = { 0 };
	struct tg_policy *p = tg_load(policy, jid, &d);
	if (!p) {
		fprintf(stderr,
			"trainguard: the policy '%s' did not load; the job was not started\n",
			policy ? policy : "embedded:ml-default");
		return TG_EXIT_NO_START;
	}
	/* ml-default grants the job folder: in "/" that is not a project. */
	char cwd[PATH_MAX];
	if (!policy && getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0)
		fputs("trainguard: the job folder is /: the default lets it write outside /usr, /etc, "
		      "/var (but /var/tmp), /run, /proc, /sys, /dev, /home, /root and /opt "
		      "site-packages "
		      "(start it in its project folder to keep its writes there)\n",
		      stderr);
	if (!log)
		log = getenv(TG_ENV_LOG);
	if (!log || !*log)
		log = tg_policy_log_path(p);
	int lr = log_path(log, logbuf, sizeof(logbuf));
	if (lr < 0) {
		tg_policy_free(p);
		return TG_EXIT_NO_START;
	}
	if (seal && lr != 0) {
		tg_policy_free(p);
		tg_usage_error(&tg_cmd_run, "--seal needs a log file (--log FILE), not stderr");
		return TG_EXIT_RUN_FAIL;
	}

	char *preload = NULL;
	const char *old = getenv(TG_ENV_PRELOAD);
	if (asprintf(&preload, "%s%s%s", old && *old ? old : "", old && *old ? ":" : "", lib) < 0)
		return TG_EXIT_RUN_FAIL;
	setenv(TG_ENV_PRELOAD, preload, 1);
	free(preload);
	if (policy) {
		if (!realpath(policy, real)) {
			fprintf(stderr, "trainguard: cannot resolve '%s': %s\n", policy,
				strerror(errno));
			return TG_EXIT_NO_START;
		}
		setenv(TG_ENV_POLICY, real, 1);
	} else {
		unsetenv(TG_ENV_POLICY);
	}
	if (mode)
		setenv(TG_ENV_MODE, mode, 1);
	setenv(TG_ENV_LOG, lr == 0 ? logbuf : "stderr", 1);
	setenv(TG_ENV_JOB_ID, jid, 1);
	/* The job's variables are expanded here, once. */
	setenv(TG_ENV_VARS, tg_policy_frozen_vars(p), 1);

	/* The log exists before the fence is built: a missing one would open
	 * its folder for creating, and so keep that folder from being split
	 * around a denied tree beside it (docs/fence.md). */
	if (lr == 0) {
		int fd = open(logbuf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0)
			close(fd);
	}
	/* This process writes the log; the job sends it its records. */
	struct tg_collector *col = NULL;
	unsetenv(TG_ENV_COLLECTOR);
	if (lr == 0 && collect) {
		int cr = tg_collector_new(logbuf, jid, &col);
		if (cr < 0) {
			fprintf(stderr,
				"trainguard: cannot collect the log '%s': %s; the job was not "
				"started (--no-collector lets each process write it)\n",
				logbuf, strerror(-cr));
			tg_policy_free(p);
			return TG_EXIT_RUN_FAIL;
		}
		setenv(TG_ENV_COLLECTOR, tg_collector_socket(col), 1);
	}
	struct tg_run_fence rf = {
		.landlock = fence ? fm : tg_policy_fence_landlock(p),
		.seccomp = fence ? fm : tg_policy_fence_seccomp(p),
		.log = lr == 0 ? logbuf : NULL,
		.guard_lib = lib,
		.collector = col ? tg_collector_socket(col) : NULL,
	};
	job_mode(p, mode ? mode : getenv(TG_ENV_MODE), &rf);
	int r = run_job(argv + optind, jid, lr == 0 ? logbuf : NULL, seal, p, &rf, col);
	tg_collector_free(col);
	tg_policy_free(p);
	return r;
}

const struct tg_command tg_cmd_run = {
	.name = "run",
	.run = run,
	.synopsis = "run [--policy FILE] [--mode enforce|audit|learn] [--log FILE|stderr]\n"
		    "    [--job-id ID] [--seal FILE] [--fence auto|require|off]\n"
		    "    [--start-timeout S] [--no-collector] [--] CMD [ARGS...]\n",
	.usage = "usage: trainguard run [--policy FILE] [--mode enforce|audit|learn]\n"
		 "                      [--log FILE|stderr] [--job-id ID] [--seal FILE]\n"
		 "                      [--fence auto|require|off] [--start-timeout S]\n"
		 "                      [--no-collector] [--] CMD [ARGS...]\n"
		 "\n"
		 "Runs CMD under the guard, waits for it and exits with its status.\n"
		 "\n"
		 "  --policy FILE    the policy (default: the embedded ml-default)\n"
		 "  --mode MODE      enforce, audit or learn; overrides the policy's mode\n"
		 "                   unless it sets lock_mode and MODE is weaker\n"
		 "  --log FILE       where records go, or 'stderr' (default: TRAINGUARD_LOG,\n"
		 "                   then the policy's log.path, then stderr)\n"
		 "  --job-id ID      the job id (default: TRAINGUARD_JOB_ID, SLURM_JOB_ID,\n"
		 "                   TORCHELASTIC_RUN_ID, HOSTNAME in a Kubernetes pod,\n"
		 "                   else generated)\n"
		 "  --seal FILE      when the job ends, write a Merkle root over the log's\n"
		 "                   lines and their count to FILE, from outside the job\n"
		 "                   ('trainguard verify --seal FILE LOG' checks it)\n"
		 "  --start-timeout S  seconds the job has to load the guard and answer\n"
		 "                   (default 30); a job that does not is stopped (126)\n"
		 "  --fence MODE     the kernel fence (Landlock, seccomp) around the job:\n"
		 "                   auto, require (fail when a layer cannot be installed)\n"
		 "                   or off; overrides the policy's fence keys\n"
		 "  --no-collector   each process of the job appends to the log file itself\n"
		 "                   (by default run collects the records over a socket and\n"
		 "                   is the log's only writer)\n"
		 "  --               ends the options; needed when CMD starts with a dash\n"
		 "\n"
		 "Exit status: the job's; 128+N when signal N killed it; 125 trainguard's\n"
		 "own failure or bad usage; 126 the guard could not start, CMD can never\n"
		 "load it (static, set-id) or did not, or CMD is not executable; 127 CMD\n"
		 "was not found. See trainguard(1).\n",
};
