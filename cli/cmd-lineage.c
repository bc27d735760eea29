/* trainguard lineage: a job's in-toto Statement v1 (SLSA Provenance v1)
 * from its logs, and --check of the outputs it names (see lineage.h).
 *
 * A log is refused unless `trainguard verify` passes it (the same code,
 * verify.h): a statement made from an edited log would vouch for the
 * edit. --force writes it anyway and marks it (internalParameters
 * verified = false). Exit 0 written, 1 a log does not verify (no
 * statement), 2 unreadable input or bad usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "lineage.h"
#include "verify.h"

enum { LIN_OK = 0, LIN_REFUSED = 1, LIN_UNREADABLE = 2 };

static int write_statement(json_t *st, const char *out)
{
	FILE *f = out ? fopen(out, "we") : stdout;

	if (!f)
		return -errno;
	int r = json_dumpf(st, f, JSON_INDENT(2)) < 0 || fputc('\n', f) < 0 ? -EIO : 0;
	if (out && fclose(f) != 0 && r == 0)
		r = -errno;
	else if (!out && fflush(f) != 0)
		r = -errno;
	return r;
}

static int lineage(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "seal", required_argument, NULL, 's' },
		{ "openlineage", required_argument, NULL, 'L' },
		{ "job-id", required_argument, NULL, 'j' },
		{ "check", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL, *seal = NULL, *ol = NULL, *job = NULL, *check = NULL, *root = NULL;
	bool force = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 's':
			seal = optarg;
			break;
		case 'L':
			ol = optarg;
			break;
		case 'j':
			job = optarg;
			break;
		case 'c':
			check = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'h':
			fputs(tg_cmd_lineage.usage, stdout);
			return 0;
		default:
			tg_usage_error(&tg_cmd_lineage, "unknown option '%s'", argv[optind - 1]);
			return LIN_UNREADABLE;
		}
	}
	if (check) {
		if (optind < argc) {
			tg_usage_error(&tg_cmd_lineage, "--check takes a statement, not logs");
			return LIN_UNREADABLE;
		}
		return tg_lin_check(check, root);
	}
	if (root) {
		tg_usage_error(&tg_cmd_lineage, "--root goes with --check");
		return LIN_UNREADABLE;
	}
	if (optind >= argc) {
		tg_usage_error(&tg_cmd_lineage, "no log given: trainguard lineage LOG...");
		return LIN_UNREADABLE;
	}
	if (seal && argc - optind != 1) {
		tg_usage_error(&tg_cmd_lineage, "--seal checks one log, not %d", argc - optind);
		return LIN_UNREADABLE;
	}

	/* The checks of verify first; their report goes to stderr, stdout
	 * may be the statement. */
	int v = tg_verify_logs(argv + optind, argc - optind, seal, stderr);
	if (v == LIN_UNREADABLE)
		return LIN_UNREADABLE;
	if (v != 0 && !force) {
		fprintf(stderr,
			"trainguard: lineage: the log does not verify (above): no statement "
			"is written from it; --force writes one anyway, marked unverified\n");
		return LIN_REFUSED;
	}

	struct tg_lineage l = { .job_id = job ? strdup(job) : NULL };
	int rc = LIN_OK;
	for (int i = optind; i < argc; i++) {
		int r = tg_lin_read(&l, argv[i], (unsigned)(i - optind));
		if (r < 0) {
			fprintf(stderr, "trainguard: lineage: cannot read the log '%s': %s\n",
				argv[i], strerror(-r));
			rc = LIN_UNREADABLE;
		}
	}
	if (rc == LIN_OK && !l.records) {
		fprintf(stderr, "trainguard: lineage: no record of %s%s%s in the logs\n",
			l.job_id ? "job '" : "any job", l.job_id ? l.job_id : "",
			l.job_id ? "'" : "");
		rc = LIN_UNREADABLE;
	}
	json_t *st = rc == LIN_OK ? tg_lin_statement(&l, argv + optind, argc - optind, seal) : NULL;
	if (rc == LIN_OK && !st) {
		fprintf(stderr, "trainguard: lineage: out of memory\n");
		rc = LIN_UNREADABLE;
	}
	if (st) {
		json_t *internal = json_object_get(json_object_get(json_object_get(st, "predicate"),
								   "buildDefinition"),
						   "internalParameters");
		json_object_set_new(internal, "verified", json_boolean(v == 0));
		if (l.other_jobs)
			fprintf(stderr,
				"trainguard: lineage: %lu records of other jobs skipped (job '%s'; "
				"--job-id picks another)\n",
				l.other_jobs, l.job_id);
		int r = write_statement(st, out);
		if (r < 0) {
			fprintf(stderr, "trainguard: lineage: cannot write '%s': %s\n",
				out ? out : "stdout", strerror(-r));
			rc = LIN_UNREADABLE;
		}
		if (r == 0 && ol && (r = tg_lin_openlineage(&l, st, ol)) < 0) {
			fprintf(stderr, "trainguard: lineage: cannot write '%s': %s\n", ol,
				strerror(-r));
			rc = LIN_UNREADABLE;
		}
		if (r == 0 && out)
			fprintf(stderr, "%s: %zu subjects, %zu dependencies%s\n", out,
				json_array_size(json_object_get(st, "subject")),
				json_array_size(json_object_get(
					json_object_get(json_object_get(st, "predicate"),
							"buildDefinition"),
					"resolvedDependencies")),
				v == 0 ? "" : " (from a log that does not verify: --force)");
	}
	json_decref(st);
	tg_lin_free(&l);
	return rc;
}

const struct tg_command tg_cmd_lineage = {
	.name = "lineage",
	.run = lineage,
	.synopsis = "lineage [-o STATEMENT] [--force] [--seal FILE] [--openlineage FILE] LOG...\n"
		    "lineage --check STATEMENT [--root DIR]\n",
	.usage = "usage: trainguard lineage [-o STATEMENT] [--force] [--seal FILE]\n"
		 "                          [--openlineage FILE] [--job-id ID] LOG...\n"
		 "       trainguard lineage --check STATEMENT [--root DIR]\n"
		 "\n"
		 "Writes one in-toto Statement v1 with a SLSA Provenance v1 predicate for a\n"
		 "job, from the records its audit rules wrote: the files it wrote (after\n"
		 "renames, not those it removed) are the subjects, the files it read are\n"
		 "resolvedDependencies, the policy and the logs are byproducts, each with\n"
		 "its SHA-256. The logs of all the job's processes and hosts may be given\n"
		 "together. A log that 'trainguard verify' refuses is refused.\n"
		 "\n"
		 "  -o, --output FILE     the statement (default: stdout)\n"
		 "  --force               write it from a log that does not verify\n"
		 "                        (internalParameters.verified is then false)\n"
		 "  --seal FILE           check the log against its seal, name the seal\n"
		 "                        among the byproducts (one LOG only)\n"
		 "  --openlineage FILE    also write OpenLineage START and COMPLETE events\n"
		 "  --job-id ID           the job (default: the first one in the logs)\n"
		 "  --check STATEMENT     hash the subjects again; report each mismatch\n"
		 "  --root DIR            with --check: look for subjects under DIR\n"
		 "\n"
		 "Exit status: 0 written, or every subject matches; 1 a log does not\n"
		 "verify, or a subject does not match or is missing; 2 unreadable input\n"
		 "or bad usage. See trainguard-lineage(1).\n",
};
