/* trainguard learn: generalizing the paths a job used into patterns.
 *
 * Per access class, the paths that need a rule form a tree of folders,
 * walked from the root. A folder becomes a folder pattern (DIR, a slash
 * and two stars: itself and everything beneath) when at least `siblings`
 * of its entries were used themselves (files read, folders listed) or
 * became folder patterns in turn, or when it holds a folder the job
 * created and removed again (mkdtemp). A file the job created and removed
 * again (a temporary file, a checkpoint written beside its final name and
 * renamed into place) has a name no later run repeats: it becomes DIR, a
 * slash and one star. Everything else stays an exact path.
 *
 * A folder is never generalized when it is the root, a top-level folder
 * other than ${TMPDIR}, ${HOME} itself, or one the caller keeps (a secret
 * lies beneath it); exec is never generalized: only what ran may run.
 * The patterns are written with ${HOME}, ${PWD}, ${TMPDIR} and ${JOB_ID}
 * in place of their values and their other characters escaped. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn.h"

struct gen {
	const struct learn_draft_opts *o;
	const struct learn_log *l;
	struct learn_pattern *out;
	size_t n, cap;
	int err;
};

/* Path order where "/" sorts first, so that a folder's entries are
 * contiguous ("/a/b", "/a/b/c", "/a/b.txt"). */
static int path_cmp(const void *pa, const void *pb)
{
	const unsigned char *a = (const unsigned char *)(*(struct learn_path *const *)pa)->path;
	const unsigned char *b = (const unsigned char *)(*(struct learn_path *const *)pb)->path;

	for (;; a++, b++) {
		unsigned ca = *a == '/' ? 1 : *a, cb = *b == '/' ? 1 : *b;
		if (ca != cb || !ca)
			return (int)ca - (int)cb;
	}
}

static bool is_value(const char *d, size_t dlen, const char *v)
{
	return v && strlen(v) == dlen && memcmp(d, v, dlen) == 0;
}

static bool collapsible(const struct gen *g, const char *d, size_t dlen)
{
	const struct learn_vars *v = g->o->vars;

	if (dlen == 0)
		return false;
	if (is_value(d, dlen, v->home))
		return false;
	if (!memchr(d + 1, '/', dlen - 1) && !is_value(d, dlen, v->tmpdir))
		return false;
	for (size_t i = 0; i < g->o->nkeep; i++)
		if (is_value(d, dlen, g->o->keep[i]))
			return false;
	return true;
}

static char *escaped(const char *s, size_t n, const char *job_id)
{
	size_t jl = job_id ? strlen(job_id) : 0;
	char *out = malloc(n * 2 + 1 + (jl ? n / jl + 1 : 0) * 10), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		/* The job id, as a whole name or inside one when it is long
		 * enough not to appear by chance. */
		if (jl && i + jl <= n && memcmp(s + i, job_id, jl) == 0 &&
		    (jl >= 6 ||
		     ((i == 0 || s[i - 1] == '/') && (i + jl == n || s[i + jl] == '/')))) {
			o = stpcpy(o, "${JOB_ID}");
			i += jl;
			continue;
		}
		if (strchr("*?[]{}\\", s[i]))
			*o++ = '\\';
		*o++ = s[i++];
	}
	*o = '\0';
	return out;
}

char *tg_learn_substitute(const char *path, const struct learn_vars *v)
{
	struct {
		const char *name, *value;
	} c[] = { { "PWD", v->pwd }, { "HOME", v->home }, { "TMPDIR", v->tmpdir } };
	const char *best = NULL;
	size_t bl = 0;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *val = c[i].value;
		size_t vl = val ? strlen(val) : 0;
		while (vl > 1 && val[vl - 1] == '/')
			vl--;
		if (vl <= 1 || vl <= bl || strncmp(path, val, vl) != 0 ||
		    (path[vl] != '/' && path[vl] != '\0'))
			continue;
		best = c[i].name;
		bl = vl;
	}
	char *rest = escaped(path + bl, strlen(path + bl), v->job_id);
	char *out = NULL;
	if (rest && asprintf(&out, "%s%s%s%s", best ? "${" : "", best ? best : "", best ? "}" : "",
			     rest) < 0)
		out = NULL;
	free(rest);
	return out;
}

char *tg_learn_cfg_quote(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Adds entries E[lo, hi) of class C under the real pattern D + SUFFIX. */
static void emit(struct gen *g, const char *d, size_t dlen, const char *suffix, unsigned c,
		 struct learn_path **e, size_t lo, size_t hi)
{
	char *real = NULL;

	if (g->err)
		return;
	if (asprintf(&real, "%.*s%s", (int)dlen, d, suffix) < 0) {
		g->err = -ENOMEM;
		return;
	}
	struct learn_pattern *p = NULL;
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->out[i].real, real) == 0)
			p = &g->out[i];
	if (!p) {
		if (g->n == g->cap) {
			size_t cap = g->cap ? g->cap * 2 : 64;
			struct learn_pattern *a = realloc(g->out, cap * sizeof(*a));
			if (!a) {
				free(real);
				g->err = -ENOMEM;
				return;
			}
			g->out = a;
			g->cap = cap;
		}
		p = &g->out[g->n++];
		memset(p, 0, sizeof(*p));
		p->real = real;
		p->mode = -1;
		char *dir = strndup(d, dlen ? dlen : 1);
		char *sub = dir ? tg_learn_substitute(dir, g->o->vars) : NULL;
		if (sub && dlen == 0)
			sub[0] = '\0'; /* the root: an empty folder name */
		if (!sub || asprintf(&p->text, "%s%s", sub, suffix) < 0) {
			p->text = NULL;
			g->err = -ENOMEM;
		}
		free(dir);
		free(sub);
	} else {
		free(real);
	}
	p->classes |= TG_BIT(c);
	p->covered[c] += hi - lo;
	if (p->covered[c] > p->npaths)
		p->npaths = p->covered[c];
	for (size_t i = lo; i < hi; i++) {
		p->count[c] += e[i]->count[c];
		for (size_t k = 0; k < e[i]->nprocs; k++) {
			/* The process name, without its pid and command. */
			char name[128];
			size_t nl = strcspn(e[i]->procs[k], " ");
			snprintf(name, sizeof(name), "%.*s", (int)nl, e[i]->procs[k]);
			tg_learn_add_proc(p->procs, &p->nprocs, name);
		}
		if (c == TG_CREATE && e[i]->created) {
			if (e[i]->mode >= 0)
				p->mode = (p->mode < 0 ? 0 : p->mode) | e[i]->mode;
			/* A file renamed away or removed took its mode with it. */
			if (e[i]->mode_unknown && !e[i]->removed)
				p->mode_partial = true;
		}
	}
}

/* True when the path D + "/" + NAME (NL bytes) was created and removed
 * again during the job, whatever class this walk is about. */
static bool transient(const struct gen *g, const char *d, size_t dlen, const char *name, size_t nl)
{
	char path[PATH_MAX];

	if (dlen + 1 + nl >= sizeof(path))
		return false;
	memcpy(path, d, dlen);
	path[dlen] = '/';
	memcpy(path + dlen + 1, name, nl);
	path[dlen + 1 + nl] = '\0';
	const struct learn_path *p = tg_learn_log_find(g->l, path);
	return p && p->created && p->removed;
}

/* The end of the group of entries E[i, hi) named NAME (NL bytes) below
 * a folder of DLEN bytes. */
static size_t group_end(struct learn_path **e, size_t i, size_t hi, size_t dlen, const char *name,
			size_t nl)
{
	size_t j = i + 1;
	while (j < hi && strncmp(e[j]->path + dlen + 1, name, nl) == 0 &&
	       (e[j]->path[dlen + 1 + nl] == '/' || e[j]->path[dlen + 1 + nl] == '\0'))
		j++;
	return j;
}

/* Whether the folder D (E[lo, hi) are D or beneath it) becomes a folder
 * pattern for class C: SIBLINGS of its entries were used themselves or
 * became folder patterns, or it holds a folder created and removed again
 * (mkdtemp). */
static bool collapses(const struct gen *g, const char *d, size_t dlen, unsigned c,
		      struct learn_path **e, size_t lo, size_t hi)
{
	if (c == TG_EXEC || !collapsible(g, d, dlen))
		return false;
	bool touched = lo < hi && strlen(e[lo]->path) == dlen;
	size_t score = 0;

	for (size_t i = lo + touched; i < hi;) {
		const char *name = e[i]->path + dlen + 1;
		size_t nl = strcspn(name, "/"), j = group_end(e, i, hi, dlen, name, nl);
		bool head = name[nl] == '\0';
		if (j - i > (size_t)head && transient(g, d, dlen, name, nl))
			return true; /* a temporary folder with entries */
		if (head)
			score++;
		else if (collapses(g, e[i]->path, dlen + 1 + nl, c, e, i, j))
			score++;
		i = j;
	}
	return score >= g->o->siblings;
}

/* E[lo, hi) are D itself or beneath D (D of DLEN bytes, "" for the root). */
static void walk(struct gen *g, const char *d, size_t dlen, unsigned c, struct learn_path **e,
		 size_t lo, size_t hi)
{
	bool touched = lo < hi && strlen(e[lo]->path) == dlen && dlen > 0;

	if (collapses(g, d, dlen, c, e, lo, hi)) {
		emit(g, d, dlen, "/**", c, e, lo, hi);
		return;
	}
	if (touched)
		emit(g, d, dlen, "", c, e, lo, lo + 1);
	bool can = c != TG_EXEC && collapsible(g, d, dlen);
	for (size_t i = lo + touched; i < hi;) {
		const char *name = e[i]->path + dlen + 1;
		size_t nl = strcspn(name, "/"), j = group_end(e, i, hi, dlen, name, nl);
		/* A temporary file: its name will differ next time. */
		if (can && j - i == 1 && name[nl] == '\0' && transient(g, d, dlen, name, nl))
			emit(g, d, dlen, "/*", c, e, i, j);
		else
			walk(g, e[i]->path, dlen + 1 + nl, c, e, i, j);
		i = j;
	}
}

static int by_text(const void *a, const void *b)
{
	const struct learn_pattern *x = a, *y = b;
	return strcmp(x->text, y->text);
}

int tg_learn_generalize(const struct learn_log *l, const struct learn_draft_opts *o,
			struct learn_pattern **ret)
{
	struct gen g = { .o = o, .l = o->all ? o->all : l };
	struct learn_path **e = malloc((l->n + 1) * sizeof(*e));

	if (!e)
		return -ENOMEM;
	for (unsigned c = 0; c < TG_NCLASS && !g.err; c++) {
		size_t n = 0;
		for (size_t i = 0; i < l->n; i++)
			if (l->paths[i]->need & TG_BIT(c))
				e[n++] = l->paths[i];
		if (!n)
			continue;
		qsort(e, n, sizeof(*e), path_cmp);
		walk(&g, "", 0, c, e, 0, n);
	}
	free(e);
	if (g.err) {
		tg_learn_patterns_free(g.out, g.n);
		return g.err;
	}
	if (g.n)
		qsort(g.out, g.n, sizeof(*g.out), by_text);
	*ret = g.out;
	return (int)g.n;
}

void tg_learn_patterns_free(struct learn_pattern *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].real);
		free(p[i].text);
		for (size_t k = 0; k < p[i].nprocs; k++)
			free(p[i].procs[k]);
	}
	free(p);
}
