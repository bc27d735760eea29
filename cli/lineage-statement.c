/* trainguard lineage: the statement (see lineage.h).
 *
 * The job's events are replayed in time order (ties in log and line
 * order): a file written becomes an output with the digest of its last
 * record; a rename moves an output to its new name (a temporary file
 * renamed into place is never a subject, its final name is); a removal
 * drops it. A file read is an input unless the job wrote it first: a
 * dataset file, or a checkpoint resumed from (an input under a rule the
 * job also wrote under). Only what audit rules allowed is here, so a
 * denied file (a secret) is never listed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lineage.h"
#include "seal.h"

int tg_lin_hash_file(const char *path, char out[TG_SHA256_HEX])
{
	struct tg_sha256 c;
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	tg_sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		tg_sha256_update(&c, buf, (size_t)n);
	int e = n < 0 ? -errno : 0;
	close(fd);
	if (e == 0)
		tg_sha256_final_hex(&c, out);
	return e;
}

static int by_time(const void *pa, const void *pb)
{
	const struct tg_lin_event *a = pa, *b = pb;

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* "2026-07-29T08:00:00Z" */
static json_t *rfc3339(long long ms)
{
	char s[32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !gmtime_r(&t, &tm))
		return json_null();
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(s);
}

/* file://HOST/PATH, with what a URI path cannot hold percent-encoded. */
static json_t *file_uri(const char *host, const char *path)
{
	static const char keep[] = "-._~/!$&'()*+,;=:@";
	size_t n = strlen(path), h = host ? strlen(host) : 0;
	char *u = malloc(8 + h + 3 * n + 1);
	size_t k = 0;

	if (!u)
		return NULL;
	memcpy(u, "file://", 7);
	k = 7;
	memcpy(u + k, host ? host : "", h);
	k += h;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(keep, *p)) {
			u[k++] = (char)*p;
		} else {
			sprintf(u + k, "%%%02X", *p);
			k += 3;
		}
	}
	u[k] = '\0';
	json_t *j = json_string(u);
	free(u);
	return j;
}

/* PATH as a subject is named: relative to the job's working folder when
 * under it. */
static const char *display_name(const struct tg_lineage *l, const char *path)
{
	size_t n = l->cwd ? strlen(l->cwd) : 0;

	if (n > 1 && strncmp(path, l->cwd, n) == 0 && path[n] == '/' && path[n + 1])
		return path + n + 1;
	return path;
}

static json_t *descriptor(const char *name, const char *host, const char *path, const char *sha,
			  json_t *annotations)
{
	json_t *d = json_object();

	json_object_set_new(d, "name", json_string(name));
	json_object_set_new(d, "uri", file_uri(host, path));
	if (sha && sha[0])
		json_object_set_new(d, "digest", json_pack("{s:s}", "sha256", sha));
	if (annotations)
		json_object_set_new(d, "annotations", annotations);
	return d;
}

/* Replays L's events into INS and OUTS (path -> entry). */
static void replay(struct tg_lineage *l, json_t *ins, json_t *outs)
{
	json_t *written_rules = json_object(), *produced = json_object();

	qsort(l->ev, l->nev, sizeof(*l->ev), by_time);
	for (size_t i = 0; i < l->nev; i++)
		if (l->ev[i].kind == TG_LIN_WRITE && l->ev[i].rule)
			json_object_set_new(written_rules, l->ev[i].rule, json_true());
	for (size_t i = 0; i < l->nev; i++) {
		const struct tg_lin_event *e = &l->ev[i];
		json_t *o;
		switch (e->kind) {
		case TG_LIN_READ:
			if (json_object_get(produced, e->path))
				break; /* the job's own output, read back */
			o = json_object_get(ins, e->path);
			if (!o) {
				bool ckpt = e->rule && json_object_get(written_rules, e->rule);
				o = json_pack("{s:s, s:s?, s:s?, s:s?, s:I, s:I, s:I}", "role",
					      ckpt ? "checkpoint_in" : "dataset", "host", e->host,
					      "rule", e->rule, "timing", e->timing, "count",
					      (json_int_t)0, "size", (json_int_t)e->size, "first",
					      (json_int_t)e->time);
				json_object_set_new(ins, e->path, o);
			}
			json_object_set_new(
				o, "count",
				json_integer(json_integer_value(json_object_get(o, "count")) +
					     (json_int_t)e->count));
			if (e->sha256[0]) {
				const char *had = json_string_value(json_object_get(o, "sha256"));
				if (!had)
					json_object_set_new(o, "sha256", json_string(e->sha256));
				else if (strcmp(had, e->sha256) != 0)
					json_object_set_new(o, "changed", json_true());
			}
			break;
		case TG_LIN_WRITE:
			o = json_pack("{s:s?, s:s?, s:s?, s:I}", "host", e->host, "rule", e->rule,
				      "timing", e->timing, "size", (json_int_t)e->size);
			if (e->sha256[0])
				json_object_set_new(o, "sha256", json_string(e->sha256));
			json_object_set_new(outs, e->path, o);
			json_object_set_new(produced, e->path, json_true());
			break;
		case TG_LIN_RENAME:
			o = json_object_get(outs, e->path);
			if (o) {
				json_object_set(outs, e->path2, o);
				json_object_del(outs, e->path);
				json_object_set_new(produced, e->path2, json_true());
			}
			break;
		case TG_LIN_DELETE:
			json_object_del(outs, e->path);
			break;
		}
	}
	json_decref(written_rules);
	json_decref(produced);
}

static json_t *subjects(const struct tg_lineage *l, json_t *outs)
{
	json_t *arr = json_array(), *o;
	const char *path;

	json_object_foreach(outs, path, o)
	{
		char sha[TG_SHA256_HEX] = "";
		const char *timing = json_string_value(json_object_get(o, "timing"));
		const char *have = json_string_value(json_object_get(o, "sha256"));
		if (have) {
			snprintf(sha, sizeof(sha), "%s", have);
		} else if (tg_lin_hash_file(path, sha) == 0) {
			/* No digest in the log (log.digests = "none", or none could
			 * be taken): the file as it is now, and said so. */
			timing = "at_lineage";
		} else {
			fprintf(stderr,
				"trainguard: lineage: '%s' was written but has no digest in the "
				"log and cannot be read now: not a subject\n",
				path);
			continue;
		}
		json_t *ann = json_pack("{s:s, s:s}", "trainguard_role", "checkpoint_out",
					"trainguard_path", path);
		if (timing)
			json_object_set_new(ann, "trainguard_digestTiming", json_string(timing));
		json_t *v = json_object_get(o, "rule");
		if (v)
			json_object_set(ann, "trainguard_rule", v);
		if (json_integer_value(json_object_get(o, "size")) >= 0)
			json_object_set(ann, "trainguard_size", json_object_get(o, "size"));
		json_array_append_new(arr, descriptor(display_name(l, path),
						      json_string_value(json_object_get(o, "host")),
						      path, sha, ann));
	}
	return arr;
}

static json_t *dependencies(json_t *ins)
{
	json_t *arr = json_array(), *o;
	const char *path;

	json_object_foreach(ins, path, o)
	{
		const char *sha = json_string_value(json_object_get(o, "sha256"));
		json_t *ann = json_pack("{s:O, s:s, s:O}", "trainguard_role",
					json_object_get(o, "role"), "trainguard_path", path,
					"trainguard_accessCount", json_object_get(o, "count"));
		const char *timing = json_string_value(json_object_get(o, "timing"));
		if (timing)
			json_object_set_new(ann, "trainguard_digestTiming", json_string(timing));
		if (json_object_get(o, "rule"))
			json_object_set(ann, "trainguard_rule", json_object_get(o, "rule"));
		if (json_integer_value(json_object_get(o, "size")) >= 0)
			json_object_set(ann, "trainguard_size", json_object_get(o, "size"));
		json_object_set_new(ann, "trainguard_firstAccess",
				    rfc3339(json_integer_value(json_object_get(o, "first"))));
		if (json_is_true(json_object_get(o, "changed")))
			json_object_set_new(ann, "trainguard_changedDuringRun", json_true());
		json_array_append_new(arr, descriptor(path,
						      json_string_value(json_object_get(o, "host")),
						      path, sha, ann));
	}
	return arr;
}

static json_t *byproducts(const struct tg_lineage *l, char **logs, int nlogs, const char *seal)
{
	json_t *arr = json_array(), *p;
	char host[256] = "", real[PATH_MAX], sha[TG_SHA256_HEX];
	size_t i;

	gethostname(host, sizeof(host) - 1);
	json_array_foreach(l->policies, i, p)
	{
		const char *src = json_string_value(json_object_get(p, "source"));
		json_t *d = json_object();
		json_object_set_new(d, "name", json_string(src ? src : "policy"));
		if (src && src[0] == '/')
			json_object_set_new(d, "uri",
					    file_uri(json_string_value(json_array_get(l->hosts, 0)),
						     src));
		if (json_object_get(p, "sha256"))
			json_object_set_new(d, "digest",
					    json_pack("{s:O}", "sha256",
						      json_object_get(p, "sha256")));
		json_object_set_new(d, "annotations",
				    json_pack("{s:s, s:s}", "trainguard_role", "policy",
					      "trainguard_digestOf",
					      "the policy's files as loaded, in order"));
		json_array_append_new(arr, d);
	}
	for (int k = 0; k < nlogs; k++) {
		const char *abs = realpath(logs[k], real) ? real : logs[k];
		const char *base = strrchr(abs, '/') ? strrchr(abs, '/') + 1 : abs;
		char name[PATH_MAX + 32];
		snprintf(name, sizeof(name), "trainguard-log:%s", base);
		if (tg_lin_hash_file(logs[k], sha) != 0)
			continue;
		json_t *d = descriptor(name, host, abs, sha,
				       json_pack("{s:s}", "trainguard_role", "log"));
		json_object_set_new(d, "mediaType", json_string("application/x-ndjson"));
		json_array_append_new(arr, d);
	}
	if (seal) {
		uint64_t lines = 0;
		char root[TG_SHA256_HEX];
		const char *abs = realpath(seal, real) ? real : seal;
		if (tg_lin_hash_file(seal, sha) == 0 && tg_seal_read(seal, &lines, root) == 0)
			json_array_append_new(
				arr,
				descriptor("trainguard-seal", host, abs, sha,
					   json_pack("{s:s, s:s, s:s, s:I}", "trainguard_role",
						     "seal", "trainguard_algorithm",
						     TG_SEAL_ALGORITHM, "trainguard_merkleRoot",
						     root, "trainguard_lines", (json_int_t)lines)));
	}
	return arr;
}

json_t *tg_lin_statement(struct tg_lineage *l, char **logs, int nlogs, const char *seal)
{
	json_t *ins = json_object(), *outs = json_object();

	replay(l, ins, outs);
	json_t *external = json_object();
	if (l->cmd_line)
		json_object_set_new(external, "command", json_string(l->cmd_line));
	if (l->cwd)
		json_object_set_new(external, "workingDirectory", json_string(l->cwd));
	json_t *internal = json_pack(
		"{s:s?, s:s?, s:O, s:s?, s:s}", "mode", l->mode, "jobId", l->job_id, "hosts",
		l->hosts, "trainguardVersion", l->version, "digestPolicy",
		"files read: at their first open in each process, before the program reads "
		"(cached by device, inode, size, mtime); files written: at the close of "
		"their last descriptor, or at their rename");
	json_t *st = json_pack(
		"{s:s, s:o, s:s, s:{s:{s:s, s:o, s:o, s:o}, s:{s:{s:s, s:{s:s?}}, s:{s:s?, s:o, "
		"s:o}, s:o}}}",
		"_type", "https://in-toto.io/Statement/v1", "subject", subjects(l, outs),
		"predicateType", "https://slsa.dev/provenance/v1", "predicate", "buildDefinition",
		"buildType", TG_LIN_BUILD_TYPE, "externalParameters", external,
		"internalParameters", internal, "resolvedDependencies", dependencies(ins),
		"runDetails", "builder", "id", TG_LIN_BUILDER_ID, "version", "trainguard",
		l->version, "metadata", "invocationId", l->job_id, "startedOn", rfc3339(l->started),
		"finishedOn", rfc3339(l->finished), "byproducts", byproducts(l, logs, nlogs, seal));
	json_decref(ins);
	json_decref(outs);
	return st;
}

/* A UUID (version 8, RFC 9562: custom) from the SHA-256 of the job id, so
 * that one job's events share a runId whoever computes them. */
static void run_uuid(const char *job, char out[37])
{
	uint8_t h[TG_SHA256_LEN];
	struct tg_sha256 c;

	tg_sha256_init(&c);
	tg_sha256_update(&c, job, strlen(job));
	tg_sha256_final(&c, h);
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x80);
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
	size_t k = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		k += (size_t)sprintf(out + k, "%02x", h[i]);
	}
	out[k] = '\0';
}

static json_t *datasets(json_t *list, const char *producer)
{
	json_t *arr = json_array(), *d;
	size_t i;

	json_array_foreach(list, i, d)
	{
		json_t *ann = json_object_get(d, "annotations");
		const char *path = json_string_value(json_object_get(ann, "trainguard_path"));
		const char *uri = json_string_value(json_object_get(d, "uri"));
		const char *sha = json_string_value(
			json_object_get(json_object_get(d, "digest"), "sha256"));
		if (!path || !uri)
			continue;
		/* namespace file://HOST, name the path (OpenLineage naming). */
		const char *slash = strchr(uri + 7, '/');
		json_t *ns = json_stringn(uri, slash ? (size_t)(slash - uri) : strlen(uri));
		json_t *facets = json_object();
		if (sha) {
			char v[80];
			snprintf(v, sizeof(v), "sha256:%s", sha);
			json_object_set_new(facets, "version",
					    json_pack("{s:s, s:s, s:s}", "_producer", producer,
						      "_schemaURL",
						      "https://openlineage.io/spec/facets/1-0-1/"
						      "DatasetVersionDatasetFacet.json#/$defs/"
						      "DatasetVersionDatasetFacet",
						      "datasetVersion", v));
		}
		json_array_append_new(arr, json_pack("{s:o, s:s, s:o}", "namespace", ns, "name",
						     path, "facets", facets));
	}
	return arr;
}

int tg_lin_openlineage(const struct tg_lineage *l, json_t *st, const char *out)
{
	char id[37], producer[128];
	json_t *pred = json_object_get(st, "predicate");
	json_t *meta = json_object_get(json_object_get(pred, "runDetails"), "metadata");

	run_uuid(l->job_id ? l->job_id : "", id);
	snprintf(producer, sizeof(producer), "https://trainguard.dev/v%s",
		 l->version ? l->version : "0");
	json_t *ins = datasets(json_object_get(json_object_get(pred, "buildDefinition"),
					       "resolvedDependencies"),
			       producer);
	json_t *outs = datasets(json_object_get(st, "subject"), producer);
	FILE *f = fopen(out, "we");
	if (!f)
		return -errno;
	static const char *const types[] = { "START", "COMPLETE" };
	json_t *none = json_array();
	for (int k = 0; k < 2; k++) {
		json_t *ev = json_pack(
			"{s:s, s:O, s:s, s:s, s:{s:s}, s:{s:s, s:s}, s:O, s:O}", "eventType",
			types[k], "eventTime",
			json_object_get(meta, k ? "finishedOn" : "startedOn"), "producer", producer,
			"schemaURL",
			"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent", "run",
			"runId", id, "job", "namespace", "trainguard", "name",
			l->job_id ? l->job_id : "", "inputs", ins, "outputs", k ? outs : none);
		if (!ev || json_dumpf(ev, f, JSON_COMPACT | JSON_SORT_KEYS) < 0 ||
		    fputc('\n', f) < 0) {
			json_decref(ev);
			json_decref(none);
			fclose(f);
			return -EIO;
		}
		json_decref(ev);
	}
	json_decref(ins);
	json_decref(outs);
	json_decref(none);
	return fclose(f) == 0 ? 0 : -errno;
}
