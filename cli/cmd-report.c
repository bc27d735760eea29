/* trainguard report: what happened in a job, from its logs, for people
 * (text), for programs (json) or for a browser (one self-contained html
 * file): totals, by rule, by folder and path, by program and command line,
 * a per-minute timeline and the execs the guard could not follow.
 *
 * This file owns the command line and the time formats; reading the logs
 * is report-tally.c, the printers are report-{text,json,html}.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "report.h"

const char *tg_report_time(long long ms, bool minute, char *buf, size_t cap)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !gmtime_r(&s, &tm) ||
	    !strftime(buf, cap, minute ? "%Y-%m-%dT%H:%MZ" : "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, cap, "-");
	return buf;
}

/* --since: "2026-12-02", "2026-12-02T04:52[:30[.123]][Z|+01:00]" (no zone:
 * UTC), "@EPOCH" seconds, or "N[smhd]" before NOW. Epoch ms in *RET. */
static int parse_since(const char *s, long long now_ms, long long *ret)
{
	char *end;
	struct tm tm = { 0 };
	long long v;

	if (s[0] == '@') {
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno || end == s + 1 || *end || v < 0)
			return -EINVAL;
		*ret = v * 1000;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!errno && end > s && v >= 0 && end[0] && !end[1]) {
		long long unit = end[0] == 's'   ? 1000
				 : end[0] == 'm' ? 60000
				 : end[0] == 'h' ? 3600000
				 : end[0] == 'd' ? 86400000
						 : 0;
		if (unit) {
			*ret = now_ms - v * unit;
			return 0;
		}
	}
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end)
		return -EINVAL;
	long long ms = 0, off = 0;
	if (*end == 'T' || *end == 't' || *end == ' ') {
		char *e = strptime(end + 1, "%H:%M", &tm);
		if (!e)
			return -EINVAL;
		end = e;
		if (*end == ':') {
			e = strptime(end + 1, "%S", &tm);
			if (!e)
				return -EINVAL;
			end = e;
			if (*end == '.') {
				long long scale = 100;
				for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
					ms += (*end - '0') * scale;
			}
		}
		if (*end == 'Z' || *end == 'z') {
			end++;
		} else if (*end == '+' || *end == '-') {
			int h, m, n = 0;
			if (sscanf(end + 1, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5)
				return -EINVAL;
			off = (h * 60LL + m) * 60000 * (*end == '+' ? 1 : -1);
			end += 1 + n;
		}
	}
	if (*end)
		return -EINVAL;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = (long long)t * 1000 + ms - off;
	return 0;
}

static int write_report(const struct tg_tally *t, const char *format, FILE *out)
{
	if (strcmp(format, "json") == 0)
		return tg_report_json(t, out);
	if (strcmp(format, "html") == 0)
		return tg_report_html(t, out);
	return tg_report_text(t, out);
}

const char *tg_report_verification(const struct tg_tally *t)
{
	switch (t->verified) {
	case 1:
		return "verified: every process's hash chain holds";
	case 0:
		return "NOT VERIFIED: a line was changed, removed, added or moved "
		       "(trainguard verify names it)";
	default:
		return "not checked (standard input, or a log trainguard verify could not read)";
	}
}

/* Runs `trainguard verify` on the logs, quietly: 1 verified, 0 not, -1
 * when it could not check them. */
static int verify_logs(const char *const *files, size_t n)
{
	char **argv = calloc(n + 3, sizeof(*argv));
	int status;

	for (size_t i = 0; i < n; i++)
		if (strcmp(files[i], "-") == 0) {
			free(argv);
			return -1;
		}
	if (!argv)
		return -1;
	argv[0] = "trainguard";
	argv[1] = "verify";
	memcpy(argv + 2, files, n * sizeof(*argv));
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execv("/proc/self/exe", argv);
		_exit(2);
	}
	free(argv);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 0 ? 1 : WEXITSTATUS(status) == 1 ? 0 : -1;
}

static int report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ "rule", required_argument, NULL, 'r' },
		{ "top", required_argument, NULL, 't' },
		{ "paths", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tg_report_opts o = { .top = 10 };
	long members = -1;
	struct tg_tally t = { .o = &o };
	const char *format = "text", *output = NULL;
	const char **rules = NULL;
	size_t nrules = 0;
	FILE **in = NULL;
	int c, status = TG_EXIT_USAGE;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	optind = 1;
	while ((c = getopt_long(argc, argv, "hf:s:r:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json") &&
			    strcmp(optarg, "html")) {
				tg_usage_error(&tg_cmd_report,
					       "--format '%s': not text, json or html", optarg);
				goto out;
			}
			format = optarg;
			break;
		case 's':
			if (parse_since(optarg, now.tv_sec * 1000LL + now.tv_nsec / 1000000,
					&o.since_ms) < 0) {
				tg_usage_error(&tg_cmd_report,
					       "--since '%s': not a time (2026-12-02T08:00:00Z, "
					       "2026-12-02, @EPOCH_SECONDS, or 30m, 2h, 1d ago)",
					       optarg);
				goto out;
			}
			o.since = optarg;
			break;
		case 'r': {
			const char **n = realloc(rules, (nrules + 2) * sizeof(*rules));
			if (!n)
				goto out;
			rules = n;
			rules[nrules++] = optarg;
			rules[nrules] = NULL;
			o.rules = rules;
			break;
		}
		case 't':
		case 'p': {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < (c == 't') || v > 100000) {
				tg_usage_error(&tg_cmd_report,
					       "--%s '%s': not a number of rows from %d to 100000",
					       c == 't' ? "top" : "paths", optarg, c == 't');
				goto out;
			}
			if (c == 't')
				o.top = (size_t)v;
			else
				members = v;
			break;
		}
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(tg_cmd_report.usage, stdout);
			status = 0;
			goto out;
		default:
			tg_usage_error(&tg_cmd_report, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	o.members = members >= 0 ? (size_t)members : (o.top + 1) / 2;
	if (optind >= argc) {
		tg_usage_error(&tg_cmd_report, "no log given: trainguard report [OPTIONS] LOG...");
		goto out;
	}
	/* Every log is opened before any is read: an unreadable one stops the
	 * report before it prints half of its figures. */
	t.files = (const char *const *)argv + optind;
	t.nfiles = (size_t)(argc - optind);
	in = calloc(t.nfiles, sizeof(*in));
	if (!in)
		goto out;
	for (size_t i = 0; i < t.nfiles; i++) {
		in[i] = strcmp(t.files[i], "-") == 0 ? stdin : fopen(t.files[i], "re");
		if (!in[i]) {
			fprintf(stderr, "trainguard: report: cannot open '%s': %s\n", t.files[i],
				strerror(errno));
			goto out;
		}
	}
	for (size_t i = 0; i < t.nfiles; i++) {
		const char *name = strcmp(t.files[i], "-") == 0 ? "<stdin>" : t.files[i];
		if (tg_tally_file(&t, in[i], name) < 0)
			goto out;
	}

	t.verified = verify_logs(t.files, t.nfiles);

	FILE *out = stdout;
	if (output) {
		/* A report names what a job touched: as private as its log. */
		int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		out = fd < 0 ? NULL : fdopen(fd, "w");
		if (!out) {
			fprintf(stderr, "trainguard: report: cannot write '%s': %s\n", output,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
	}
	int r = write_report(&t, format, out);
	if (out != stdout) {
		if (fclose(out) != 0 && r >= 0)
			r = -errno;
	} else if (fflush(out) != 0 && r >= 0) {
		r = -errno;
	}
	if (r < 0) {
		fprintf(stderr, "trainguard: report: cannot write the report to '%s': %s\n",
			output ? output : "<stdout>", strerror(-r));
		goto out;
	}
	status = 0;
out:
	for (size_t i = 0; in && i < t.nfiles; i++)
		if (in[i] && in[i] != stdin)
			fclose(in[i]);
	free(in);
	free(rules);
	tg_tally_free(&t);
	return status;
}

const struct tg_command tg_cmd_report = {
	.name = "report",
	.run = report,
	.synopsis = "report [--format text|json|html] [--since TIME] [--rule ID]... [--top N]\n"
		    "       [--paths N] [-o FILE] LOG...|-\n",
	.usage = "usage: trainguard report [--format text|json|html] [--since TIME] [--rule ID]...\n"
		 "                         [--top N] [--paths N] [-o FILE] LOG...|-\n"
		 "\n"
		 "Reads trainguard logs (OCSF JSON lines) and prints what happened: totals\n"
		 "(denied, would-deny, audited, killed), by rule, by folder and path, by\n"
		 "executable and command line, a per-minute timeline, the first and last\n"
		 "record, and the execs the guard could not follow. A malformed line is\n"
		 "named with its file and number on stderr and skipped.\n"
		 "\n"
		 "  -               read a log from standard input\n"
		 "  --format FMT    text (default), json (one object), html (one\n"
		 "                  self-contained page)\n"
		 "  --since TIME    only records from TIME on: 2026-12-02T08:00:00Z,\n"
		 "                  2026-12-02, @EPOCH_SECONDS, or 30m, 2h, 1d ago\n"
		 "  --rule ID       only records of rule ID (a glob: 'secrets.*');\n"
		 "                  repeatable\n"
		 "  --top N         rows per table (default 10); the rest is one 'N more'\n"
		 "                  row\n"
		 "  --paths N       paths per folder and command lines per program\n"
		 "                  (default: half of --top; 0: none)\n"
		 "  -o, --output FILE\n"
		 "                  write the report to FILE (mode 0600) instead of stdout\n"
		 "\n"
		 "Exit status: 0 the report was written (malformed lines allowed), 2 bad\n"
		 "usage, or a log that cannot be read. See trainguard(1).\n",
};
