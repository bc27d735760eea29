/* trainguard: run a job under the guard, check a policy, explain a decision.
 *
 * This is the only part of the project that talks to people: messages go
 * to stderr, quote paths in single quotes and say what to do next. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tg-config.h"
#include "tg-path.h"
#include "tg-env.h"
#include "tg-policy.h"

/* Exit statuses of trainguard itself (run passes the job's through). */
enum {
	EXIT_INVALID = 1,  /* check: a policy is invalid; explain: denied */
	EXIT_USAGE = 2,    /* check/explain: bad command line or policy */
	EXIT_RUN_FAIL = 125, /* run: trainguard's own failure */
	EXIT_NO_START = 126, /* run: the guard could not start, or CMD not executable */
	EXIT_NOT_FOUND = 127,
};

static const char *const usage_text =
	"usage: trainguard COMMAND [OPTIONS]\n"
	"\n"
	"  run [--policy FILE] [--mode enforce|audit|learn] [--log FILE|stderr]\n"
	"      [--job-id ID] [--] CMD [ARGS...]   run CMD under the guard\n"
	"  check POLICY...                       load and check policies\n"
	"  explain [--policy FILE] --op CLASS PATH\n"
	"                                        show which rule decides an access\n"
	"  help [COMMAND], --help, --version\n"
	"\n"
	"With no --policy the embedded ml-default policy applies.\n"
	"See trainguard(1) and trainguard.conf(5).\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("trainguard: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see 'trainguard --help')\n", stderr);
}

/* ---- loading, as the library does, with messages for people ------------ */

struct diag_opts {
	bool warnings;
	int errors, nwarnings;
};

static void print_diag(enum tg_diag_level lvl, const char *msg, void *ud)
{
	struct diag_opts *d = ud;

	if (lvl == TG_DIAG_ERROR) {
		d->errors++;
		fprintf(stderr, "%s\n", msg);
	} else if (d->warnings) {
		d->nwarnings++;
		fprintf(stderr, "%s (%s)\n", msg, lvl == TG_DIAG_WARNING ? "warning" : "note");
	}
}

static struct tg_policy *load(const char *path, const char *jid, struct diag_opts *d)
{
	struct tg_policy *p = NULL;
	struct tg_load_opts o = {
		.path = path,
		.frozen_vars = getenv(TG_ENV_VARS),
		.job_id = jid,
		.diag = print_diag,
		.diag_ud = d,
	};
	if (o.frozen_vars && !*o.frozen_vars)
		o.frozen_vars = NULL;
	return tg_policy_load(&o, &p) < 0 ? NULL : p;
}

/* ---- run ------------------------------------------------------------------ */

static bool readable_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

/* The library: TRAINGUARD_LIBRARY, beside us in the build tree, or installed. */
static int find_library(char *out, size_t n)
{
	const char *env = getenv(TG_ENV_LIBRARY);
	char self[PATH_MAX], cand[PATH_MAX + 64];
	ssize_t l;

	if (env && *env) {
		if (!realpath(env, out) || !readable_file(out)) {
			fprintf(stderr, "trainguard: TRAINGUARD_LIBRARY='%s' is not a readable file\n",
				env);
			return -1;
		}
		return 0;
	}
	l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (l > 0) {
		self[l] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/../preload/libtrainguard.so", self);
			if (readable_file(cand) && realpath(cand, out))
				return 0;
		}
	}
	snprintf(cand, sizeof(cand), "%s/libtrainguard.so", TG_LIBDIR);
	if (readable_file(cand) && realpath(cand, out))
		return 0;
	fprintf(stderr, "trainguard: cannot find libtrainguard.so (looked beside the command "
		"and in '%s'); set TRAINGUARD_LIBRARY to its path\n", TG_LIBDIR);
	(void)n;
	return -1;
}

/* Counts the job's records appended to LOG after OFFSET. */
static void summary(const char *log, off_t offset, const char *jid)
{
	FILE *f = fopen(log, "re");
	char *line = NULL;
	size_t cap = 0;
	long denied = 0, audited = 0;

	if (!f) {
		fprintf(stderr, "trainguard: job %s finished; cannot read the log '%s': %s\n", jid,
			log, strerror(errno));
		return;
	}
	if (fseeko(f, offset, SEEK_SET) != 0)
		rewind(f);
	while (getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, 0, NULL);
		if (!rec)
			continue;
		const char *cid = json_string_value(
			json_object_get(json_object_get(rec, "metadata"), "correlation_uid"));
		const char *dec = json_string_value(json_object_get(
			json_object_get(json_object_get(rec, "unmapped"), "trainguard"), "decision"));
		if (cid && dec && strcmp(cid, jid) == 0) {
			if (strcmp(dec, "deny") == 0)
				denied++;
			else if (strcmp(dec, "would_deny") == 0)
				audited++;
		}
		json_decref(rec);
	}
	free(line);
	fclose(f);
	fprintf(stderr, "trainguard: %ld violation%s (%ld denied, %ld audited) in job %s; log: %s\n",
		denied + audited, denied + audited == 1 ? "" : "s", denied, audited, jid, log);
}

static int run_job(char **argv, const char *jid, const char *log)
{
	struct stat st;
	off_t offset = 0;
	pid_t pid;
	int status;

	if (log && stat(log, &st) == 0)
		offset = st.st_size;
	/* The job owns the terminal's signals; we only wait for it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "trainguard: cannot start the job: %s\n", strerror(errno));
		return EXIT_RUN_FAIL;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execvp(argv[0], argv);
		int e = errno;
		fprintf(stderr, "trainguard: cannot run '%s': %s\n", argv[0], strerror(e));
		_exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_NO_START);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "trainguard: waiting for the job: %s\n", strerror(errno));
			return EXIT_RUN_FAIL;
		}
	if (log)
		summary(log, offset, jid);
	else
		fprintf(stderr, "trainguard: job %s finished; its records went to stderr "
			"(--log FILE counts them)\n", jid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* An absolute log path whose folder exists, or NULL for stderr. */
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
	if (stat(*dir ? dir : "/", &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "trainguard: the log folder '%s' does not exist; create it or "
			"choose another --log\n", dir);
		return -1;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' }, { "mode", required_argument, NULL, 'm' },
		{ "log", required_argument, NULL, 'l' },    { "job-id", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	const char *policy = NULL, *mode = NULL, *log = NULL, *given_jid = NULL;
	char lib[PATH_MAX], jid[256], logbuf[PATH_MAX], real[PATH_MAX];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:m:l:j:h", opts, NULL)) != -1) {
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
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			usage_error("run: unknown option");
			return EXIT_RUN_FAIL;
		}
	}
	if (optind >= argc) {
		usage_error("run: no command given: trainguard run [OPTIONS] -- CMD [ARGS...]");
		return EXIT_RUN_FAIL;
	}
	enum tg_mode m;
	if (mode && tg_mode_parse(mode, &m) < 0) {
		usage_error("run: --mode '%s' is not enforce, audit or learn", mode);
		return EXIT_RUN_FAIL;
	}
	if (find_library(lib, sizeof(lib)) < 0)
		return EXIT_RUN_FAIL;
	tg_job_id(jid, sizeof(jid), given_jid);

	/* Fail before the job starts, with the messages check would give. */
	struct diag_opts d = { 0 };
	struct tg_policy *p = load(policy, jid, &d);
	if (!p) {
		fprintf(stderr, "trainguard: the policy '%s' did not load; the job was not started\n",
			policy ? policy : "embedded:ml-default");
		return EXIT_NO_START;
	}
	if (!log)
		log = getenv(TG_ENV_LOG);
	if (!log || !*log)
		log = tg_policy_log_path(p);
	int lr = log_path(log, logbuf, sizeof(logbuf));
	if (lr < 0) {
		tg_policy_free(p);
		return EXIT_NO_START;
	}

	char *preload = NULL;
	const char *old = getenv(TG_ENV_PRELOAD);
	if (asprintf(&preload, "%s%s%s", old && *old ? old : "", old && *old ? ":" : "", lib) < 0)
		return EXIT_RUN_FAIL;
	setenv(TG_ENV_PRELOAD, preload, 1);
	free(preload);
	if (policy) {
		if (!realpath(policy, real)) {
			fprintf(stderr, "trainguard: cannot resolve '%s': %s\n", policy,
				strerror(errno));
			return EXIT_NO_START;
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
	tg_policy_free(p);
	return run_job(argv + optind, jid, lr == 0 ? logbuf : NULL);
}

/* ---- check ---------------------------------------------------------------- */

/* Warns when POLICY allows what the secrets profile denies. */
static void warn_secrets(const struct tg_policy *p, const char *jid, struct diag_opts *d)
{
	struct diag_opts quiet = { 0 };
	struct tg_load_opts o = { .embedded = "secrets", .job_id = jid, .diag = print_diag,
				  .diag_ud = &quiet };
	struct tg_policy *secrets = NULL;

	if (tg_policy_load(&o, &secrets) < 0)
		return;
	for (size_t i = 0; i < tg_policy_nrules(secrets); i++) {
		const struct tg_rule *sr = tg_policy_rule(secrets, i);
		for (size_t k = 0; k < sr->npaths; k++) {
			/* The literal part of the secret's pattern names a path it covers. */
			char path[PATH_MAX];
			size_t n = strcspn(sr->paths[k], "*?[{\\");
			const char *rest = sr->paths[k] + n;
			/* Only a path or a tree names one place to test. */
			if (n >= sizeof(path) || (*rest && strcmp(rest, "**") != 0))
				continue;
			memcpy(path, sr->paths[k], n);
			path[n] = '\0';
			while (n > 1 && path[n - 1] == '/')
				path[--n] = '\0';
			for (unsigned c = 0; c < TG_NCLASS; c++) {
				if (!(sr->deny & TG_BIT(c)))
					continue;
				struct tg_verdict v;
				tg_decide(p, path, n, TG_BIT(c), &v);
				if (v.allow && v.rule && strncmp(v.rule->id, "secrets.", 8) != 0) {
					fprintf(stderr,
						"%s:%d: rule \"%s\" allows %s of '%s', which the "
						"secrets profile denies (rule \"%s\") (warning)\n",
						v.rule->source, v.rule->line, v.rule->id,
						tg_class_name(c), path, sr->id);
					d->nwarnings++;
				}
			}
		}
	}
	tg_policy_free(secrets);
}

static int cmd_check(int argc, char **argv)
{
	char jid[256];
	int bad = 0;

	if (argc < 2) {
		usage_error("check: no policy given: trainguard check POLICY...");
		return EXIT_USAGE;
	}
	tg_job_id(jid, sizeof(jid), NULL);
	for (int i = 1; i < argc; i++) {
		struct diag_opts d = { .warnings = true };
		struct tg_policy *p = load(argv[i], jid, &d);
		if (!p) {
			fprintf(stderr, "%s: invalid (%d error%s)\n", argv[i], d.errors,
				d.errors == 1 ? "" : "s");
			bad = 1;
			continue;
		}
		unsigned open_classes = TG_ALL & ~tg_policy_defaults_named(p);
		if (open_classes) {
			char cls[64];
			fprintf(stderr, "%s: defaults: %s not set by the policy or its profiles: "
				"allowed where no rule names them (note)\n", argv[i],
				tg_classes_str(open_classes, cls, sizeof(cls)));
			d.nwarnings++;
		}
		warn_secrets(p, jid, &d);
		size_t npat = 0;
		for (size_t k = 0; k < tg_policy_nrules(p); k++)
			npat += tg_policy_rule(p, k)->npaths;
		size_t nr = tg_policy_nrules(p);
		printf("%s: ok (%zu rule%s, %zu pattern%s, %d warning%s)\n", argv[i], nr,
		       nr == 1 ? "" : "s", npat, npat == 1 ? "" : "s", d.nwarnings,
		       d.nwarnings == 1 ? "" : "s");
		tg_policy_free(p);
	}
	return bad ? EXIT_INVALID : 0;
}

/* ---- explain -------------------------------------------------------------- */

struct explain_ctx {
	enum tg_class c;
	int shown;
	const struct tg_rule *winner;
	const char *winner_pattern;
};

static void show_rule(const struct tg_rule *r, const char *pattern, bool decides, bool allow,
		      void *ud)
{
	struct explain_ctx *x = ud;

	if (decides) {
		x->winner = r;
		x->winner_pattern = pattern;
		printf("decided by: rule \"%s\" (%s:%d)\n", r->id, r->source, r->line);
		printf("  pattern:  %s\n", pattern);
		printf("  verdict:  %s %s", allow ? "allow" : "deny", tg_class_name(x->c));
		if (!allow)
			printf(" (errno %s, on_deny %s)", tg_errno_name(r->err),
			       tg_on_deny_name(r->on_deny));
		printf("\n");
		if (r->reason)
			printf("  reason:   %s\n", r->reason);
	} else {
		if (x->shown == 0)
			printf("also matching, and losing:\n");
		const char *why = "less specific";
		if (x->winner && strcmp(pattern, x->winner_pattern) == 0)
			why = allow ? "as specific, and deny wins ties" : "as specific; tie broken by id";
		printf("  rule \"%s\" (%s:%d) %s %s, pattern %s: %s\n", r->id, r->source, r->line,
		       allow ? "allow" : "deny", tg_class_name(x->c), pattern, why);
		x->shown++;
	}
}

static int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "op", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *policy = NULL, *op = NULL;
	char jid[256], cwd[PATH_MAX], path[PATH_MAX];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy = optarg;
			break;
		case 'o':
			op = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			usage_error("explain: unknown option");
			return EXIT_USAGE;
		}
	}
	if (!op || optind != argc - 1) {
		usage_error("explain: trainguard explain [--policy FILE] --op CLASS PATH");
		return EXIT_USAGE;
	}
	int cls = -1;
	for (unsigned k = 0; k < TG_NCLASS; k++)
		if (strcmp(op, tg_class_name(k)) == 0)
			cls = k;
	if (cls < 0) {
		usage_error("explain: --op '%s' is not one of read, write, create, delete, exec, "
			    "chmod, list", op);
		return EXIT_USAGE;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return EXIT_USAGE;
	int n = tg_path_normalize(cwd, strlen(cwd), argv[optind], path, sizeof(path));
	if (n < 0) {
		usage_error("explain: cannot normalize '%s': %s", argv[optind], strerror(-n));
		return EXIT_USAGE;
	}
	tg_job_id(jid, sizeof(jid), NULL);
	struct diag_opts d = { 0 };
	struct tg_policy *p = load(policy, jid, &d);
	if (!p)
		return EXIT_USAGE;

	struct tg_verdict v;
	tg_decide(p, path, n, TG_BIT(cls), &v);
	printf("policy:     %s\n", tg_policy_source(p));
	printf("access:     %s '%s'\n", op, path);
	struct explain_ctx x = { .c = cls };
	tg_explain(p, path, n, cls, show_rule, &x);
	if (!x.winner)
		printf("decided by: default:%s (no rule names %s for this path): %s\n", op, op,
		       tg_policy_default(p, cls) ? "allow" : "deny");
	printf("result:     %s", v.allow ? "ALLOWED" : "DENIED");
	if (!v.allow)
		printf(" with %s", tg_errno_name(v.err));
	printf("\n");
	tg_policy_free(p);
	return v.allow ? 0 : EXIT_INVALID;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("trainguard %s\n", TG_VERSION);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	usage_error("unknown command '%s'", cmd);
	return EXIT_USAGE;
}
