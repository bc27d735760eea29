/* trainguard lineage: one in-toto Statement v1 with a SLSA Provenance v1
 * predicate for a job, from the aggregated records of its audit rules.
 *
 * lineage-log.c reads the logs into the job's events (files read, written,
 * renamed, removed) and facts (policy, mode, hosts, times);
 * lineage-statement.c replays the events in time order into the inputs
 * (resolvedDependencies) and outputs (subjects) and writes the statement
 * and the optional OpenLineage events; lineage-check.c is --check;
 * cmd-lineage.c parses the command line and refuses a log verify refuses. */
#ifndef TG_CLI_LINEAGE_H
#define TG_CLI_LINEAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tg-sha256.h"

#define TG_LIN_BUILD_TYPE "https://trainguard.dev/lineage/training-run/v1"
#define TG_LIN_BUILDER_ID "https://trainguard.dev/lineage/trainguard-run/v1"

enum tg_lin_kind { TG_LIN_READ, TG_LIN_WRITE, TG_LIN_RENAME, TG_LIN_DELETE };

/* One file event of the job. Strings are owned. */
struct tg_lin_event {
	enum tg_lin_kind kind;
	long long time; /* epoch ms */
	unsigned file;  /* which log */
	uint64_t line;
	char *path;
	char *path2;                /* rename: the new name */
	char sha256[TG_SHA256_HEX]; /* "" when the record has none */
	char *timing;               /* unmapped.trainguard.digest, or NULL */
	char *rule;                 /* policy.uid */
	char *host;
	unsigned long count;
	long long size; /* -1: unknown */
};

/* What the logs say about one job. */
struct tg_lineage {
	char *job_id; /* the job wanted, or the first one met */
	struct tg_lin_event *ev;
	size_t nev, capev;
	json_t *hosts;    /* array of host names, each once */
	json_t *policies; /* array of {source, sha256}, each once */
	char *mode, *cmd_line, *cwd, *version;
	long long started, finished; /* epoch ms, 0: unknown */
	unsigned long other_jobs;    /* records of other jobs, skipped */
	unsigned long records;       /* records of this job */
};

/* Adds the records of the log PATH (the FILE-th given) to L. Returns 0, or
 * -errno when it cannot be read. */
int tg_lin_read(struct tg_lineage *l, const char *path, unsigned file);

void tg_lin_free(struct tg_lineage *l);

/* The statement for L, whose records came from the NLOGS logs LOGS (and
 * SEAL, or NULL). NULL on allocation failure. Warnings go to stderr. */
json_t *tg_lin_statement(struct tg_lineage *l, char **logs, int nlogs, const char *seal);

/* The OpenLineage RunEvents (START and COMPLETE) for the statement ST,
 * one JSON line each, into OUT. Returns 0 or -errno. */
int tg_lin_openlineage(const struct tg_lineage *l, json_t *st, const char *out);

/* The SHA-256 of the file PATH, in hex. Returns 0 or -errno. */
int tg_lin_hash_file(const char *path, char out[TG_SHA256_HEX]);

/* --check: recomputes the digests of STATEMENT's subjects (under ROOT when
 * not NULL) and prints each mismatch. Returns 0 all match, 1 one does not
 * (or is missing), 2 the statement cannot be read. */
int tg_lin_check(const char *statement, const char *root);

#endif
