/* trainguard lineage: reading the logs (see lineage.h).
 *
 * A job's lineage is in three kinds of records: the aggregated records of
 * audit rules (unmapped.trainguard.aggregated: a file opened for reading,
 * or for writing, with its digest), the renames and removals allowed under
 * audit rules, and the lifecycle records (start: policy, mode, host,
 * command; stop: the end). Records of another job id are skipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage.h"

static const char *str_at(json_t *obj, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(obj, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_string_value(v);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void add_unique(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	if (!s)
		return;
	json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return;
	json_array_append_new(arr, json_string(s));
}

static bool has_class(json_t *tg, const char *cls)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(tg, "classes"), i,
			   v) if (json_string_value(v) &&
				  strcmp(json_string_value(v), cls) == 0) return true;
	return false;
}

static bool starts(const char *s, const char *p)
{
	return s && strncmp(s, p, strlen(p)) == 0;
}

static struct tg_lin_event *new_event(struct tg_lineage *l)
{
	if (l->nev == l->capev) {
		size_t cap = l->capev ? l->capev * 2 : 256;
		struct tg_lin_event *e = realloc(l->ev, cap * sizeof(*e));
		if (!e)
			return NULL;
		l->ev = e;
		l->capev = cap;
	}
	struct tg_lin_event *e = &l->ev[l->nev++];
	memset(e, 0, sizeof(*e));
	e->size = -1;
	return e;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void lifecycle(struct tg_lineage *l, json_t *rec, json_t *tg, long long time)
{
	const char *event = json_string_value(json_object_get(tg, "event"));

	if (event && strcmp(event, "start") == 0) {
		const char *src = json_string_value(json_object_get(tg, "policy_source"));
		const char *sha = json_string_value(json_object_get(tg, "policy_sha256"));
		if (src || sha) {
			size_t i;
			json_t *p;
			bool seen = false;
			json_array_foreach(l->policies, i, p)
				seen = seen ||
				       (same(json_string_value(json_object_get(p, "source")),
					     src) &&
					same(json_string_value(json_object_get(p, "sha256")), sha));
			if (!seen)
				json_array_append_new(l->policies,
						      json_pack("{s:s?, s:s?}", "source", src,
								"sha256", sha));
		}
		if (!l->mode)
			l->mode = dup_or_null(json_string_value(json_object_get(tg, "mode")));
		if (!l->version)
			l->version = dup_or_null(str_at(rec, "metadata", "product", "version"));
		/* The job's command: the first process started (the chain's root). */
		if (!l->cmd_line || (time && time < l->started)) {
			free(l->cmd_line);
			free(l->cwd);
			l->cmd_line = dup_or_null(str_at(rec, "actor", "process", "cmd_line"));
			l->cwd = dup_or_null(str_at(rec, "actor", "process", "working_directory"));
		}
	}
	if (time && (!l->started || time < l->started))
		l->started = time;
	if (time > l->finished)
		l->finished = time;
}

/* One file record of the job: an event, or nothing. */
static int file_record(struct tg_lineage *l, json_t *rec, json_t *tg, unsigned file, uint64_t line,
		       long long time)
{
	const char *decision = json_string_value(json_object_get(tg, "decision"));
	const char *op = json_string_value(json_object_get(tg, "op"));
	const char *path = str_at(rec, "file", "path", NULL);
	enum tg_lin_kind kind;

	if (!decision || strcmp(decision, "allow") != 0 || !path || !op)
		return 0;
	if (json_is_true(json_object_get(tg, "aggregated")))
		kind = has_class(tg, "write") || has_class(tg, "create") ? TG_LIN_WRITE
									 : TG_LIN_READ;
	else if (starts(op, "rename"))
		kind = TG_LIN_RENAME;
	else if (starts(op, "unlink") || strcmp(op, "remove") == 0)
		kind = TG_LIN_DELETE;
	else
		return 0;
	if (json_object_get(tg, "path_encoding"))
		return 0; /* a percent-encoded name is no file's name */
	struct tg_lin_event *e = new_event(l);
	if (!e)
		return -ENOMEM;
	e->kind = kind;
	e->time = time;
	e->file = file;
	e->line = line;
	e->rule = dup_or_null(str_at(rec, "policy", "uid", NULL));
	e->host = dup_or_null(str_at(rec, "device", "hostname", NULL));
	json_int_t count = json_integer_value(json_object_get(rec, "count"));
	e->count = count > 0 ? (unsigned long)count : 1;
	json_t *size = json_object_get(json_object_get(rec, "file"), "size");
	if (json_is_integer(size))
		e->size = json_integer_value(size);
	if (kind == TG_LIN_RENAME) {
		const char *other = json_string_value(json_object_get(tg, "path2"));
		if (!other)
			return 0;
		/* Each end of a rename is decided, and recorded, on its own: the
		 * new name's record asks to create, and names the old as path2. */
		bool new_end = has_class(tg, "create");
		e->path = strdup(new_end ? other : path);
		e->path2 = strdup(new_end ? path : other);
	} else {
		e->path = strdup(path);
	}
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(json_object_get(rec, "file"), "hashes"), i, h)
	{
		const char *v = json_string_value(json_object_get(h, "value"));
		if (json_integer_value(json_object_get(h, "algorithm_id")) == 3 && v &&
		    strlen(v) == TG_SHA256_HEX - 1)
			memcpy(e->sha256, v, TG_SHA256_HEX);
	}
	e->timing = dup_or_null(json_string_value(json_object_get(tg, "digest")));
	return 0;
}

int tg_lin_read(struct tg_lineage *l, const char *path, unsigned file)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t line = 0;
	int r = 0;

	if (!f)
		return -errno;
	if (!l->hosts) {
		l->hosts = json_array();
		l->policies = json_array();
	}
	while (r == 0 && (n = getline(&buf, &cap, f)) > 0) {
		line++;
		json_t *rec = json_loadb(buf, (size_t)n, 0, NULL);
		json_t *tg = json_object_get(json_object_get(rec, "unmapped"), "trainguard");
		const char *job = str_at(rec, "metadata", "correlation_uid", NULL);
		if (!json_is_object(rec) || !job) {
			json_decref(rec);
			continue;
		}
		if (!l->job_id)
			l->job_id = strdup(job);
		if (strcmp(job, l->job_id) != 0) {
			l->other_jobs++;
			json_decref(rec);
			continue;
		}
		l->records++;
		long long time = json_integer_value(json_object_get(rec, "time"));
		add_unique(l->hosts, str_at(rec, "device", "hostname", NULL));
		json_int_t cls = json_integer_value(json_object_get(rec, "class_uid"));
		if (cls == 1008)
			lifecycle(l, rec, tg, time);
		else if (cls == 1001)
			r = file_record(l, rec, tg, file, line, time);
		if (time > l->finished)
			l->finished = time;
		json_decref(rec);
	}
	if (r == 0 && ferror(f))
		r = -EIO;
	fclose(f);
	free(buf);
	return r;
}

void tg_lin_free(struct tg_lineage *l)
{
	for (size_t i = 0; i < l->nev; i++) {
		free(l->ev[i].path);
		free(l->ev[i].path2);
		free(l->ev[i].timing);
		free(l->ev[i].rule);
		free(l->ev[i].host);
	}
	free(l->ev);
	json_decref(l->hosts);
	json_decref(l->policies);
	free(l->job_id);
	free(l->mode);
	free(l->cmd_line);
	free(l->cwd);
	free(l->version);
}
