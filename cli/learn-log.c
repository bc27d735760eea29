/* trainguard learn: reading logs. Every decision record (a File System or
 * Process Activity record with unmapped.trainguard.decision) adds the
 * classes it asked for to the entry of its real path, with its count, the
 * process that asked and what it tells about creation (a create, a
 * removal, the mode asked). Records of every mode are used: learn-mode
 * records list every distinct access, audit-mode ones what the policy in
 * force would have refused and what rules with audit = true allowed.
 * The job's id and its first working directory are taken from the
 * records too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "learn.h"

#define HASH_MIN 1024

static size_t hash_slots;
static size_t *hash_table; /* index + 1 into l->paths, 0 = empty */

static size_t hash_of(const char *s)
{
	size_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int rehash(struct learn_log *l)
{
	size_t slots = hash_slots ? hash_slots * 2 : HASH_MIN;
	size_t *t = calloc(slots, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		size_t h = hash_of(l->paths[i]->path) & (slots - 1);
		while (t[h])
			h = (h + 1) & (slots - 1);
		t[h] = i + 1;
	}
	free(hash_table);
	hash_table = t;
	hash_slots = slots;
	return 0;
}

struct learn_path *tg_learn_log_find(const struct learn_log *l, const char *path)
{
	if (!hash_table) {
		/* After tg_learn_log_finish: the paths are sorted. */
		size_t lo = 0, hi = l->n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(l->paths[mid]->path, path);
			if (c == 0)
				return l->paths[mid];
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	for (size_t h = hash_of(path) & (hash_slots - 1); hash_table[h];
	     h = (h + 1) & (hash_slots - 1))
		if (strcmp(l->paths[hash_table[h] - 1]->path, path) == 0)
			return l->paths[hash_table[h] - 1];
	return NULL;
}

static struct learn_path *get(struct learn_log *l, const char *path)
{
	struct learn_path *p = tg_learn_log_find(l, path);

	if (p)
		return p;
	if ((l->n + 1) * 2 > hash_slots && rehash(l) < 0)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct learn_path **a = realloc(l->paths, cap * sizeof(*a));
		if (!a)
			return NULL;
		l->paths = a;
		l->cap = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->path = strdup(path))) {
		free(p);
		return NULL;
	}
	p->mode = -1;
	p->rule_seen_class = -1;
	l->paths[l->n++] = p;
	size_t h = hash_of(path) & (hash_slots - 1);
	while (hash_table[h])
		h = (h + 1) & (hash_slots - 1);
	hash_table[h] = l->n;
	return p;
}

void tg_learn_add_proc(char **procs, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(procs[i], name) == 0)
			return;
	if (*n < LEARN_MAX_PROCS) {
		char *s = strdup(name);
		if (s)
			procs[(*n)++] = s;
	}
}

static const char *str_at(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *const decisions[] = { "learn", "allow", "would_deny", "deny" };

static int add_record(struct learn_log *l, json_t *rec)
{
	json_t *t = json_object_get(json_object_get(rec, "unmapped"), "trainguard");
	const char *decision = str_at(t, "decision", NULL, NULL);
	const char *mode = str_at(t, "mode", NULL, NULL);
	const char *path = str_at(rec, "file", "path", NULL);
	json_int_t cls = json_integer_value(json_object_get(rec, "class_uid"));

	if (!decision)
		return 0; /* start, stop, process links */
	if (cls == 1007)
		path = str_at(rec, "process", "file", "path");
	if (!path || path[0] != '/' || str_at(t, "path_encoding", NULL, NULL)) {
		l->skipped++;
		return 0;
	}
	size_t d = 0;
	while (d < 4 && strcmp(decisions[d], decision) != 0)
		d++;
	if (d == 4) {
		l->skipped++;
		return 0;
	}
	l->decisions++;
	l->by_decision[d]++;
	if (mode && strcmp(mode, "learn") == 0)
		l->complete = true;

	unsigned classes = 0;
	json_t *arr = json_object_get(t, "classes"), *v;
	size_t i;
	json_array_foreach(arr, i, v)
	{
		for (unsigned k = 0; k < TG_NCLASS; k++)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), tg_class_name(k)) == 0)
				classes |= TG_BIT(k);
	}
	if (!classes)
		return 0;
	/* OCSF's count (aggregated audit records, folded refusals), or
	 * unmapped.trainguard.count in older logs. */
	long count = 1;
	json_int_t ocsf = json_integer_value(json_object_get(rec, "count"));
	json_int_t ours = json_integer_value(json_object_get(t, "count"));
	if ((ocsf > ours ? ocsf : ours) > 1)
		count = (long)(ocsf > ours ? ocsf : ours);

	struct learn_path *p = get(l, path);
	if (!p)
		return -ENOMEM;
	p->used |= classes;
	for (unsigned k = 0; k < TG_NCLASS; k++)
		if (classes & TG_BIT(k))
			p->count[k] += count;
	if (classes & TG_BIT(TG_CREATE)) {
		p->created = true;
		const char *m = str_at(t, "mode_requested", NULL, NULL);
		char *end;
		long bits = m ? strtol(m, &end, 8) : -1;
		if (m && *end == '\0' && bits >= 0 && bits <= 07777)
			p->mode = (p->mode < 0 ? 0 : p->mode) | (int)(bits & 0777);
		else
			p->mode_unknown = true;
	}
	if ((classes & TG_BIT(TG_DELETE)) && !(classes & TG_BIT(TG_CREATE)))
		p->removed = true;

	json_t *proc = json_object_get(json_object_get(rec, "actor"), "process");
	const char *name = str_at(proc, "name", NULL, NULL);
	const char *cmd = str_at(proc, "cmd_line", NULL, NULL);
	char who[512];
	snprintf(who, sizeof(who), "%s (pid %lld%s%.200s)", name ? name : "?",
		 (long long)json_integer_value(json_object_get(proc, "pid")), cmd ? ": " : "",
		 cmd ? cmd : "");
	tg_learn_add_proc(p->procs, &p->nprocs, who);

	/* What the record says decided its class, for --tighten. */
	const char *uid = str_at(rec, "policy", "uid", NULL);
	const char *dc = str_at(t, "decided_class", NULL, NULL);
	if (uid && dc && !p->rule_seen) {
		for (unsigned k = 0; k < TG_NCLASS; k++)
			if (strcmp(dc, tg_class_name(k)) == 0)
				p->rule_seen_class = (int)k;
		p->rule_seen = strdup(uid);
	}

	/* The job: its id, and the working directory of its first process. */
	const char *jid = str_at(rec, "metadata", "correlation_uid", NULL);
	if (jid) {
		if (!l->job_id)
			l->job_id = strdup(jid);
		else if (strcmp(l->job_id, jid) != 0)
			l->several_jobs = true;
	}
	const char *cwd = str_at(proc, "working_directory", NULL, NULL);
	json_t *ct = json_object_get(proc, "created_time");
	long long created = json_is_integer(ct) ? json_integer_value(ct) : (1LL << 62);
	if (cwd && (!l->pwd || created < l->pwd_time)) {
		free(l->pwd);
		l->pwd = strdup(cwd);
		l->pwd_time = created;
	}

	/* A shipped profile's rule with its expanded pattern: HOME may be
	 * read back from a "~/" pattern. */
	const char *src = str_at(rec, "policy", "data", "source");
	const char *pat = str_at(rec, "policy", "data", "pattern");
	if (uid && pat && src && strncmp(src, "profile:", 8) == 0 && l->nrule_patterns < 64) {
		for (i = 0; i < l->nrule_patterns; i++)
			if (strcmp(l->rule_patterns[2 * i], uid) == 0 &&
			    strcmp(l->rule_patterns[2 * i + 1], pat) == 0)
				return 0;
		char **a = realloc(l->rule_patterns, (l->nrule_patterns + 1) * 2 * sizeof(*a));
		if (!a)
			return -ENOMEM;
		l->rule_patterns = a;
		a[2 * l->nrule_patterns] = strdup(uid);
		a[2 * l->nrule_patterns + 1] = strdup(pat);
		l->nrule_patterns++;
	}
	return 0;
}

int tg_learn_log_read(struct learn_log *l, const char *file)
{
	FILE *f = fopen(file, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = 0;
	size_t lineno = 0, bad = 0;

	if (!f) {
		r = -errno;
		fprintf(stderr, "trainguard: learn: cannot read the log '%s': %s\n", file,
			strerror(errno));
		return r;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (n <= 1)
			continue;
		json_error_t err;
		json_t *rec = json_loads(line, 0, &err);
		if (!json_is_object(rec)) {
			if (bad++ < 3)
				fprintf(stderr,
					"trainguard: learn: '%s':%zu: not a JSON record (%s); "
					"skipped\n",
					file, lineno, err.text);
			json_decref(rec);
			continue;
		}
		l->records++;
		r = add_record(l, rec);
		json_decref(rec);
		if (r < 0)
			break;
	}
	free(line);
	fclose(f);
	if (r == -ENOMEM)
		fprintf(stderr, "trainguard: learn: out of memory reading '%s'\n", file);
	return r;
}

static int by_path(const void *a, const void *b)
{
	return strcmp((*(struct learn_path *const *)a)->path,
		      (*(struct learn_path *const *)b)->path);
}

void tg_learn_log_finish(struct learn_log *l)
{
	if (l->n)
		qsort(l->paths, l->n, sizeof(*l->paths), by_path);
	free(hash_table);
	hash_table = NULL;
	hash_slots = 0;
}

void tg_learn_log_free(struct learn_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct learn_path *p = l->paths[i];
		for (size_t k = 0; k < p->nprocs; k++)
			free(p->procs[k]);
		free(p->rule_seen);
		free(p->path);
		free(p);
	}
	for (size_t i = 0; i < 2 * l->nrule_patterns; i++)
		free(l->rule_patterns[i]);
	free(l->rule_patterns);
	free(l->paths);
	free(l->job_id);
	free(l->pwd);
	free(hash_table);
	hash_table = NULL;
	hash_slots = 0;
	memset(l, 0, sizeof(*l));
}
