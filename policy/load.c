/* The policy loader: libconfig text -> rules -> compiled patterns.
 *
 * This file reads the sources (the policy file, its @includes, the
 * profiles it names) and walks each one's top-level keys through the table
 * of load-keys.c; rule.c reads the rules, compile.c turns their patterns
 * into the index's alternatives. Every problem is reported with the file
 * and line it comes from and, where a word was mistyped, the word that was
 * probably meant. The loader goes on after an error so that one run of
 * `trainguard check` shows all of them, then refuses the policy. Shipped
 * profiles come from the copies embedded at build time, so an edited file
 * on disk cannot weaken them. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load-internal.h"

static const char *const shipped[] = { "base", "secrets", "python", "pytorch", "ml-default", NULL };

/* ---- Diagnostics --------------------------------------------------------- */

void tg_report(struct loader *L, enum tg_diag_level lvl, const char *file, int line,
	       const char *fmt, ...)
{
	char msg[1024];
	int n;
	va_list ap;

	if (lvl == TG_DIAG_ERROR && ++L->errors > TG_MAX_ERRORS)
		return;
	if (line > 0)
		n = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
	else
		n = snprintf(msg, sizeof(msg), "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	if (L->o->diag)
		L->o->diag(lvl, msg, L->o->diag_ud);
}

const char *tg_hint(char *buf, size_t n, const char *word, const char *const *cands)
{
	const char *s = tg_suggest(word, cands);
	if (!s) {
		buf[0] = '\0';
		return buf;
	}
	snprintf(buf, n, " (did you mean \"%s\"?)", s);
	return buf;
}

void tg_check_keys(struct loader *L, const struct source *src, config_setting_t *group,
		   const char *const *allowed, const char *what, config_setting_t **found)
{
	int n = config_setting_length(group);
	char h[128];

	for (size_t k = 0; found && allowed[k]; k++)
		found[k] = NULL;
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		bool ok = false;
		if (!name)
			continue;
		for (size_t k = 0; !ok && allowed[k]; k++) {
			ok = strcmp(allowed[k], name) == 0;
			/* libconfig refuses a name twice in one group */
			if (ok && found)
				found[k] = s;
		}
		if (!ok)
			ERR(L, src, s, "%sunknown key \"%s\"%s", what, name,
			    tg_hint(h, sizeof(h), name, allowed));
	}
}

const char *tg_get_string(struct loader *L, const struct source *src, config_setting_t *s,
			  const char *what)
{
	const char *v = config_setting_get_string(s);
	if (!v)
		ERR(L, src, s, "%s must be a string in double quotes", what);
	return v;
}

int tg_list_length(const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return 1;
	return config_setting_is_aggregate(s) ? config_setting_length(s) : -1;
}

config_setting_t *tg_elem(config_setting_t *s, int i)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ? s : config_setting_get_elem(s, i);
}

/* ---- Files --------------------------------------------------------------- */

bool tg_add_file(struct tg_policy *p, const char *path)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (strcmp(p->files[i], path) == 0)
			return true;
	if (p->nfiles == p->capfiles) {
		size_t cap = p->capfiles ? p->capfiles * 2 : 8;
		const char **f = tg_mem_realloc(p->region, p->files, cap * sizeof(*f));
		if (!f)
			return false;
		p->files = f;
		p->capfiles = cap;
	}
	p->files[p->nfiles] = tg_pool_strdup(&p->pool, path);
	return p->files[p->nfiles++] != NULL;
}

/* Files the source the digest is about to cover: KIND 'f' and a file's
 * real path, or 'p' and a shipped profile's name (tg_policy_sources_same
 * reads them again in this order). False when out of memory. */
static bool add_hashed(struct tg_policy *p, char kind, const char *what)
{
	if (p->nhashed == p->caphashed) {
		size_t cap = p->caphashed ? p->caphashed * 2 : 8;
		const char **h = tg_mem_realloc(p->region, p->hashed, cap * sizeof(*h));
		if (!h)
			return false;
		p->hashed = h;
		p->caphashed = cap;
	}
	size_t n = strlen(what);
	char *e = tg_pool_alloc(&p->pool, n + 2);
	if (!e)
		return false;
	e[0] = kind;
	memcpy(e + 1, what, n + 1);
	p->hashed[p->nhashed++] = e;
	return true;
}

/* The whole of the open file FP, NUL-terminated (malloc'd), its length in
 * *LEN; NULL and errno on failure. A policy is read once: hashed and
 * parsed from the same bytes. */
static char *slurp_fp(FILE *fp, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		n += fread(buf + n, 1, cap - n - 1, fp);
		if (ferror(fp)) {
			free(buf);
			errno = EIO;
			return NULL;
		}
		if (n < cap - 1)
			break;
		char *grown = realloc(buf, cap * 2);
		if (!grown)
			free(buf);
		buf = grown;
		cap *= 2;
	}
	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

char *tg_slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "re");
	if (!fp)
		return NULL;
	char *text = slurp_fp(fp, len);
	fclose(fp);
	return text;
}

/* Reports libconfig's parse error in CFG, naming FILE when it names none. */
static void report_syntax(struct loader *L, config_t *cfg, const char *file)
{
	tg_report(L, TG_DIAG_ERROR, config_error_file(cfg) ? config_error_file(cfg) : file,
		  config_error_line(cfg), "%s", config_error_text(cfg));
}

/* ---- The walk ------------------------------------------------------------ */

/* Calls each top-level key's function, in table order, on the settings of
 * the parsed source SRC. */
static void load_source(struct loader *L, const struct source *src, config_t *cfg, int depth)
{
	config_setting_t *root = config_root_setting(cfg);
	const char *names[16];
	size_t n = 0;

	for (const struct tg_top_key *k = tg_top_keys; k->name; k++)
		names[n++] = k->name;
	names[n] = NULL;
	tg_check_keys(L, src, root, names, "", NULL);
	for (const struct tg_top_key *k = tg_top_keys; k->name; k++) {
		config_setting_t *s = config_setting_get_member(root, k->name);
		if (!s) {
			if (k->missing)
				ERR(L, src, NULL, "%s", k->missing);
		} else if (k->job_only && src->is_profile) {
			ERR(L, src, s, "\"%s\" belongs in the job's policy, not in a profile",
			    k->name);
		} else {
			k->parse(L, src, s, depth);
		}
	}
}

/* Reads the shipped profile NAME (TEXT) into CFG; false after an error. */
static bool read_shipped(struct loader *L, struct source *src, config_t *cfg, const char *name,
			 const char *text)
{
	char *disp;

	if (asprintf(&disp, "profile:%s", name) < 0)
		return false;
	src->display = src->record = tg_pool_strdup(&L->p->pool, disp);
	free(disp);
	src->is_profile = true;
	tg_sha256_update(&L->sha, text, strlen(text));
	if (!add_hashed(L->p, 'p', name))
		L->errors++;
	if (!config_read_string(cfg, text)) {
		ERR(L, src, NULL, "line %d: %s", config_error_line(cfg), config_error_text(cfg));
		return false;
	}
	return true;
}

/* Reads the profile NAME.cfg beside FROM (named by its setting E) into
 * CFG; false after an error. */
static bool read_local(struct loader *L, const struct source *from, config_setting_t *e,
		       struct source *src, config_t *cfg, const char *name)
{
	char h[128], *disp = NULL, *path = NULL;
	bool ok = false;

	if (strchr(name, '/') || !*name || name[0] == '.') {
		ERR(L, from, e, "profile \"%s\" is not a profile name%s", name,
		    tg_hint(h, sizeof(h), name, shipped));
		return false;
	}
	/* Messages name the file as the user would: beside the policy as the
	 * policy itself was named. */
	const char *slash = strrchr(from->display, '/');
	if (slash ? asprintf(&disp, "%.*s/%s.cfg", (int)(slash - from->display), from->display,
			     name) < 0
		  : asprintf(&disp, "%s.cfg", name) < 0)
		return false;
	src->display = tg_pool_strdup(&L->p->pool, disp);
	free(disp);
	if (!from->dir || asprintf(&path, "%s/%s.cfg", from->dir, name) < 0 ||
	    access(path, R_OK) != 0) {
		ERR(L, from, e,
		    "profile \"%s\" not found: it is not shipped%s and there is no '%s'", name,
		    tg_hint(h, sizeof(h), name, shipped), src->display);
		goto out;
	}
	src->record = tg_pool_strdup(&L->p->pool, path);
	src->dir = from->dir;
	src->is_profile = true;
	if (!tg_add_file(L->p, path)) {
		L->errors++;
		goto out;
	}
	size_t tn = 0;
	char *body = tg_slurp(path, &tn);
	if (body) {
		tg_sha256_update(&L->sha, body, tn);
		if (!add_hashed(L->p, 'f', path))
			L->errors++;
	} else {
		/* Parsed from the file, unhashed: a child cannot check it. */
		L->p->unhashed = true;
	}
	config_set_include_dir(cfg, from->dir);
	bool parsed = body ? config_read_string(cfg, body) : config_read_file(cfg, path);
	free(body);
	if (!parsed)
		report_syntax(L, cfg, path);
	ok = parsed;
out:
	free(path);
	return ok;
}

void tg_load_profile(struct loader *L, const struct source *from, config_setting_t *e,
		     const char *name, int depth)
{
	for (size_t i = 0; i < L->nloaded; i++)
		if (strcmp(L->loaded[i], name) == 0)
			return; /* loaded once, whoever names it */
	if (depth >= TG_MAX_PROFILE_DEPTH) {
		ERR(L, from, e, "profiles nest deeper than %d levels", TG_MAX_PROFILE_DEPTH);
		return;
	}
	if (L->nloaded == sizeof(L->loaded) / sizeof(L->loaded[0])) {
		ERR(L, from, e, "too many profiles");
		return;
	}
	L->loaded[L->nloaded++] = tg_pool_strdup(&L->p->pool, name);

	config_t cfg;
	struct source src = { 0 };
	const char *text = tg_profile_text(name);
	config_init(&cfg);
	if (text ? read_shipped(L, &src, &cfg, name, text)
		 : read_local(L, from, e, &src, &cfg, name))
		load_source(L, &src, &cfg, depth + 1);
	config_destroy(&cfg);
}

/* ---- The policy ---------------------------------------------------------- */

/* Reads the embedded profile NAME (NULL: ml-default) as a policy of its
 * own into CFG; false after an error. */
static bool read_embedded(struct loader *L, struct source *src, config_t *cfg, const char *name)
{
	const char *text;
	char *disp;

	name = name ? name : "ml-default";
	text = tg_profile_text(name);
	if (!text || asprintf(&disp, "embedded:%s", name) < 0) {
		tg_report(L, TG_DIAG_ERROR, name, 0, "no such embedded profile");
		return false;
	}
	src->display = src->record = tg_pool_strdup(&L->p->pool, disp);
	free(disp);
	tg_sha256_update(&L->sha, text, strlen(text));
	if (!add_hashed(L->p, 'p', name))
		L->errors++;
	if (!config_read_string(cfg, text)) {
		tg_report(L, TG_DIAG_ERROR, src->display, config_error_line(cfg), "%s",
			  config_error_text(cfg));
		return false;
	}
	L->loaded[L->nloaded++] = name;
	return true;
}

/* Reads the policy file PATH into CFG; its folder (malloc'd, for local
 * profiles and @include) goes to *DIR. Returns 0, or -ENOENT or -EINVAL
 * after an error. */
static int read_policy_file(struct loader *L, struct source *src, config_t *cfg, const char *path,
			    char **dir)
{
	char real[PATH_MAX], *text = NULL;
	size_t tn = 0;
	int r = -EINVAL;
	FILE *fp = fopen(path, "re");

	if (!fp) {
		int e = errno;
		tg_report(L, TG_DIAG_ERROR, path, 0, "cannot read the policy: %s", strerror(e));
		return e == ENOENT ? -ENOENT : -EINVAL;
	}
	text = slurp_fp(fp, &tn);
	fclose(fp);
	if (!text) {
		tg_report(L, TG_DIAG_ERROR, path, 0, "cannot read the policy: %s", strerror(errno));
		return -EINVAL;
	}
	tg_sha256_update(&L->sha, text, tn);
	if (!realpath(path, real)) {
		tg_report(L, TG_DIAG_ERROR, path, 0, "cannot resolve the policy path: %s",
			  strerror(errno));
		goto out;
	}
	*dir = strdup(real);
	if (!*dir || !tg_add_file(L->p, real) || !add_hashed(L->p, 'f', real))
		goto out;
	*strrchr(*dir, '/') = '\0';
	if (!**dir)
		strcpy(*dir, "/");
	src->display = path;
	src->record = L->p->files[0];
	src->dir = *dir;
	config_set_include_dir(cfg, *dir);
	if (!config_read_string(cfg, text)) {
		report_syntax(L, cfg, path);
		goto out;
	}
	r = 0;
out:
	free(text);
	return r;
}

/* A new policy, in a region of its own when IN_REGION. */
static struct tg_policy *new_policy(bool in_region)
{
	struct tg_region *r = in_region ? tg_region_new() : NULL;
	struct tg_policy *p = tg_mem_alloc(r, sizeof(*p));

	if (!p) {
		tg_region_free(r);
		return NULL;
	}
	p->region = p->pool.region = r;
	for (unsigned c = 0; c < TG_NCLASS; c++)
		p->defaults[c] = true;
	/* The strings of the policy's own rule are the policy's, not the
	 * library's: a region handed to a child points at nothing outside it. */
	p->self_rule.id = tg_pool_strdup(&p->pool, TG_RULE_SELF);
	p->self_rule.source = tg_pool_strdup(&p->pool, "builtin");
	p->self_rule.deny = TG_BIT(TG_WRITE) | TG_BIT(TG_CREATE) | TG_BIT(TG_DELETE) |
			    TG_BIT(TG_CHMOD);
	p->self_rule.err = EACCES;
	p->self_rule.on_deny = TG_ON_DENY_ERROR;
	p->self_rule.create_mode = -1;
	p->self_rule.reason = tg_pool_strdup(
		&p->pool, "the guard's own policy, log and library are never modified by the job");
	if (!p->self_rule.id || !p->self_rule.source || !p->self_rule.reason) {
		tg_policy_free(p);
		return NULL;
	}
	return p;
}

/* What follows the walk: the profiles' defaults, the guard's protection of
 * the policy's files, the conflict warnings, the index, the digest and the
 * frozen variables. Returns 0, -EINVAL or -ENOMEM. */
static int finish(struct loader *L, const struct source *src)
{
	struct tg_policy *p = L->p;

	/* Classes the policy left open take its profiles' defaults. */
	for (unsigned c = 0; c < TG_NCLASS; c++)
		if (!(p->defaults_set & TG_BIT(c)) && (L->pdefault_set & TG_BIT(c)))
			p->defaults[c] = L->pdefault[c];
	p->defaults_set |= L->pdefault_set;

	/* The job may never rewrite its policy, nor plant a profile beside it. */
	for (size_t i = 0; i < p->nfiles; i++) {
		char d[PATH_MAX];
		snprintf(d, sizeof(d), "%s", p->files[i]);
		char *slash = strrchr(d, '/');
		if (tg_add_builtin(p, p->files[i], "") < 0)
			L->errors++;
		if (slash) {
			slash[1] = '\0';
			if (tg_add_builtin(p, d, "*.cfg") < 0)
				L->errors++;
		}
	}
	if (!L->o->errors_only)
		tg_warn_conflicts(L);
	if (L->errors == 0 && !L->o->defer_index && tg_policy_index(p) < 0)
		L->errors++;
	if (L->errors > TG_MAX_ERRORS)
		tg_report(L, TG_DIAG_NOTE, src->display ? src->display : "policy", 0,
			  "%d more errors not shown", L->errors - TG_MAX_ERRORS);
	if (L->errors)
		return -EINVAL;

	unsigned char digest[32];
	tg_sha256_final(&L->sha, digest);
	for (int i = 0; i < 32; i++)
		snprintf(p->sha256 + 2 * i, 3, "%02x", digest[i]);
	char *fz = tg_vars_frozen(L->vars);
	p->frozen = fz ? tg_pool_strdup(&p->pool, fz) : NULL;
	free(fz);
	return p->frozen ? 0 : -ENOMEM;
}

int tg_policy_load(const struct tg_load_opts *opts, struct tg_policy **ret)
{
	struct tg_policy *p = new_policy(opts->region);
	struct loader L = { .p = p, .o = opts };
	struct source src = { 0 };
	config_t cfg;
	char *dir = NULL;
	int r;

	if (!p)
		return -ENOMEM;
	tg_sha256_init(&L.sha);
	if (tg_vars_new(&L.vars, opts->frozen_vars, opts->job_id) < 0) {
		tg_policy_free(p);
		return -ENOMEM;
	}
	config_init(&cfg);
	if (!opts->path)
		r = read_embedded(&L, &src, &cfg, opts->embedded) ? 0 : -EINVAL;
	else
		r = read_policy_file(&L, &src, &cfg, opts->path, &dir);
	if (r == 0) {
		p->source = tg_pool_strdup(&p->pool, src.record);
		load_source(&L, &src, &cfg, 0);
		r = finish(&L, &src);
	}
	config_destroy(&cfg);
	tg_vars_free(L.vars);
	free(dir);
	tg_strmap_free(&L.ids, false);
	tg_strmap_free(&L.canon, true);
	if (r < 0) {
		tg_policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}
