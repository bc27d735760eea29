/* The policy loader: libconfig text -> rules -> compiled patterns.
 *
 * Every problem is reported with the file and line it comes from and, where
 * a word was mistyped, the word that was probably meant. The loader goes on
 * after an error so that one run of `trainguard check` shows all of them,
 * then refuses the policy. Shipped profiles come from the copies embedded at
 * build time, so an edited file on disk cannot weaken them. */
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy-internal.h"
#include "tg-path.h"
#include "tg-sha256.h"

#define MAX_PROFILE_DEPTH 8
#define MAX_ERRORS 50

static const char *const class_words[] = { "read", "write", "create", "delete", "exec",
					   "chmod", "list",  "all",    NULL };
static const char *const top_keys[] = { "version", "mode", "lock_mode", "profiles", "vars",
					"defaults", "rules", "log", "fence", "exec_unguarded",
					NULL };
static const char *const rule_keys[] = { "id", "path", "allow", "deny", "on_deny", "errno",
					 "audit", "create_mode", "reason", NULL };
static const char *const log_keys[] = { "path", "allowed", "digests", NULL };
static const char *const fence_keys[] = { "landlock", "seccomp", NULL };
static const char *const errno_words[] = { "EACCES", "EPERM", "ENOENT", "EROFS", "EXDEV", NULL };
static const char *const on_deny_words[] = { "error", "kill", "quiet", NULL };
static const char *const mode_words[] = { "enforce", "audit", "learn", NULL };
static const char *const shipped[] = { "base", "secrets", "python", "pytorch", "ml-default",
				       NULL };

/* An open-addressing map from strings, for the loader's bookkeeping. */
struct strent {
	const char *key; /* NULL: empty */
	char *val;
	int err;
};
struct strmap {
	struct strent *e;
	size_t n, cap; /* CAP a power of two */
};

struct loader {
	struct tg_policy *p;
	struct tg_vars *vars;
	const struct tg_load_opts *o;
	int errors;
	struct tg_sha256 sha;
	const char *loaded[64]; /* profile names already loaded */
	size_t nloaded;
	bool pdefault[TG_NCLASS];
	unsigned pdefault_set;
	struct strmap ids;   /* rule ids so far (keys borrowed from the rules) */
	struct strmap canon; /* folders resolved so far (real_folder; keys and values owned) */
};

/* One source being read: its name in messages and records. */
struct source {
	const char *display; /* as messages show it */
	const char *record;  /* as records and explain show it */
	const char *dir;     /* folder for NAME.cfg profiles, or NULL */
	bool is_profile;
};

static void report(struct loader *L, enum tg_diag_level lvl, const char *file, int line,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(struct loader *L, enum tg_diag_level lvl, const char *file, int line,
		   const char *fmt, ...)
{
	char msg[1024];
	int n;
	va_list ap;

	if (lvl == TG_DIAG_ERROR && ++L->errors > MAX_ERRORS)
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

#define ERR(L, src, s, ...) report(L, TG_DIAG_ERROR, (src)->display, line_of(s), __VA_ARGS__)
#define WARN(L, src, s, ...) report(L, TG_DIAG_WARNING, (src)->display, line_of(s), __VA_ARGS__)

static int line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

/* " (did you mean "x"?)" or "" */
static const char *hint(char *buf, size_t n, const char *word, const char *const *cands)
{
	const char *s = tg_suggest(word, cands);
	if (!s) {
		buf[0] = '\0';
		return buf;
	}
	snprintf(buf, n, " (did you mean \"%s\"?)", s);
	return buf;
}

static void check_keys(struct loader *L, const struct source *src, config_setting_t *group,
		       const char *const *allowed, const char *what)
{
	int n = config_setting_length(group);
	char h[128];

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		bool ok = false;
		if (!name)
			continue;
		for (const char *const *k = allowed; *k; k++)
			ok |= strcmp(*k, name) == 0;
		if (!ok)
			ERR(L, src, s, "%sunknown key \"%s\"%s", what, name,
			    hint(h, sizeof(h), name, allowed));
	}
}

static bool add_file(struct tg_policy *p, const char *path)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (strcmp(p->files[i], path) == 0)
			return true;
	if (p->nfiles == p->capfiles) {
		size_t cap = p->capfiles ? p->capfiles * 2 : 8;
		const char **f = realloc(p->files, cap * sizeof(*f));
		if (!f)
			return false;
		p->files = f;
		p->capfiles = cap;
	}
	p->files[p->nfiles] = tg_pool_strdup(&p->pool, path);
	return p->files[p->nfiles++] != NULL;
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

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "re");
	if (!fp)
		return NULL;
	char *text = slurp_fp(fp, len);
	fclose(fp);
	return text;
}

static struct tg_pat *new_pat(struct tg_policy *p)
{
	if (p->npats == p->cappats) {
		size_t cap = p->cappats ? p->cappats * 2 : 64;
		struct tg_pat *a = realloc(p->pats, cap * sizeof(*a));
		if (!a)
			return NULL;
		p->pats = a;
		p->cappats = cap;
	}
	struct tg_pat *t = &p->pats[p->npats++];
	memset(t, 0, sizeof(*t));
	return t;
}

/* Splits glob alternative ALT (LEN bytes) for tg_children_alike: less a
 * trailing slash-star-star, a folder part (compiled into T->dirglob) and a
 * last name without "**". Anything else leaves T opaque. */
static int split_glob(struct tg_policy *p, struct tg_pat *t, const char *alt, size_t len)
{
	size_t slash = 0, stars = 0;
	bool star_run = false;
	char dir[TG_GLOB_MAX + 1];

	t->opaque = true;
	while (len >= 3 && memcmp(alt + len - 3, "/**", 3) == 0 && (len == 3 || alt[len - 4] != '\\')) {
		t->tree = true;
		len -= 3;
	}
	for (size_t i = 0; i < len; i++) {
		if (alt[i] == '\\') {
			i++;
			star_run = false;
			continue;
		}
		if (alt[i] == '[') {
			/* A class: '/' is never a member that matches. */
			size_t j = i + 1;
			if (j < len && (alt[j] == '!' || alt[j] == '^'))
				j++;
			if (j < len && alt[j] == ']')
				j++;
			for (; j < len && alt[j] != ']'; j++) {
				if (alt[j] == '/')
					return 0;
				if (alt[j] == '\\')
					j++;
			}
			i = j;
			star_run = false;
			continue;
		}
		if (alt[i] == '/') {
			slash = i;
			stars = 0;
		} else if (alt[i] == '*' && star_run) {
			stars++; /* a "**" in the current name */
		}
		star_run = alt[i] == '*';
	}
	if (len == 0 || alt[0] != '/' || stars || slash + 1 >= len)
		return 0;
	t->name_any = len - slash == 2 && alt[slash + 1] == '*';
	if (strcspn(alt + slash + 1, "*?[\\") >= len - slash - 1) {
		t->namelen = len - slash - 1;
		if (!(t->name = tg_pool_strndup(&p->pool, alt + slash + 1, t->namelen)))
			return -ENOMEM;
	} else {
		memcpy(dir, alt + slash + 1, len - slash - 1);
		dir[len - slash - 1] = '\0';
		if (tg_glob_compile(dir, &t->nameglob, NULL, 0) < 0)
			return 0;
	}
	if (slash > 0) {
		memcpy(dir, alt, slash);
		dir[slash] = '\0';
		if (tg_glob_compile(dir, &t->dirglob, NULL, 0) < 0)
			return 0; /* not splittable: stays opaque */
	}
	t->opaque = false;
	return 0;
}

/* Adds one brace-free alternative ALT of PATTERN for RULE. */
static int add_alternative(struct tg_policy *p, const struct tg_rule *rule, const char *pattern,
			   const char *alt, unsigned prefix, unsigned wildcards, char *err,
			   size_t errsz)
{
	struct tg_glob *g;
	int r = tg_glob_compile(alt, &g, err, errsz);
	if (r < 0)
		return r;
	struct tg_pat *t = new_pat(p);
	if (!t) {
		tg_glob_free(g);
		return -ENOMEM;
	}
	size_t litlen;
	const char *lit = tg_glob_literal(g, &litlen);
	size_t plain = strcspn(alt, "*?[\\");
	size_t altlen = strlen(alt);
	t->glob = g;
	t->lit = lit;
	t->litlen = litlen;
	if (plain == altlen && altlen == litlen)
		t->kind = TG_PAT_EXACT;
	else if (plain == litlen + 1 && altlen == litlen + 3 && strcmp(alt + litlen, "/**") == 0)
		t->kind = TG_PAT_TREE;
	else
		t->kind = TG_PAT_GLOB;
	if (t->kind != TG_PAT_GLOB) {
		char *key = tg_pool_alloc(&p->pool, litlen + 2);
		if (!key)
			return -ENOMEM;
		memcpy(key, lit, litlen);
		key[litlen] = '/';
		t->key = key;
		t->anchor = litlen + 1;
	} else {
		/* Every path starts with "/", the shortest key. */
		t->key = litlen ? lit : "/";
		t->anchor = 1;
		for (size_t i = litlen; i > 0; i--)
			if (lit[i - 1] == '/') {
				t->anchor = i;
				break;
			}
	}
	t->rule = rule;
	t->pattern = pattern;
	t->prefix = prefix;
	t->wildcards = wildcards;
	return t->kind == TG_PAT_GLOB ? split_glob(p, t, alt, altlen) : 0;
}

/* The real path of the literal folders of ALT ("/var/run/secrets/x*" ->
 * "/run/secrets/x*"), or NULL when it is already canonical. */
static size_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 32));
}

/* The entry for KEY in M: the one holding it, or the empty one where it
 * goes (its key NULL). NULL when the map cannot grow. */
static struct strent *strmap_slot(struct strmap *m, const char *key)
{
	if (m->n * 2 >= m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct strent *t = calloc(cap, sizeof(*t));
		if (!t)
			return NULL;
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].key) {
				size_t k = str_hash(m->e[i].key) & (cap - 1);
				while (t[k].key)
					k = (k + 1) & (cap - 1);
				t[k] = m->e[i];
			}
		free(m->e);
		m->e = t;
		m->cap = cap;
	}
	size_t k = str_hash(key) & (m->cap - 1);
	while (m->e[k].key && strcmp(m->e[k].key, key) != 0)
		k = (k + 1) & (m->cap - 1);
	return &m->e[k];
}

/* realpath(FOLDER), remembered for the load: the rules of a policy share
 * their folders, and each realpath is a system call per component.
 * Returns the real path (owned by L), or NULL with errno. */
static const char *real_folder(struct loader *L, const char *folder)
{
	struct strent *e = strmap_slot(&L->canon, folder);

	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	if (e->key) {
		errno = e->err;
		return e->val;
	}
	char real[PATH_MAX], *key = strdup(folder);
	if (!key) {
		errno = ENOMEM;
		return NULL;
	}
	e->key = key;
	if (realpath(folder, real))
		e->val = strdup(real);
	else
		e->err = errno;
	L->canon.n++;
	errno = e->err;
	return e->val;
}

static char *canonical_alternative(struct loader *L, const struct source *src,
				   config_setting_t *s, const char *alt)
{
	size_t w = strcspn(alt, "*?[\\");
	size_t dir = 0;
	char buf[PATH_MAX];
	const char *real = NULL;

	/* /proc/self is this process at load time: the guard names every
	 * process's own entries /proc/self, so such patterns stay as written. */
	if (strncmp(alt, "/proc/", 6) == 0)
		return NULL;
	for (size_t i = 0; i < w; i++)
		if (alt[i] == '/')
			dir = i;
	if (dir == 0 || dir >= sizeof(buf))
		return NULL;
	/* Walk up to the longest folder that exists. */
	memcpy(buf, alt, dir);
	buf[dir] = '\0';
	size_t have = dir;
	while (have > 0) {
		if ((real = real_folder(L, buf)))
			break;
		if (errno == EACCES) {
			WARN(L, src, s, "cannot read '%s' to canonicalize the pattern \"%s\": "
			     "it is matched as written", buf, alt);
			return NULL;
		}
		while (have > 0 && buf[have] != '/')
			have--;
		buf[have] = '\0';
	}
	if (have == 0 || strcmp(real, buf) == 0)
		return NULL;
	size_t rl = strlen(real);
	if (strcmp(real, "/") == 0)
		rl = 0;
	char *out = malloc(rl + strlen(alt + have) + 1);
	if (!out)
		return NULL;
	memcpy(out, real, rl);
	strcpy(out + rl, alt + have);
	return out;
}

struct alt_ctx {
	struct loader *L;
	const struct source *src;
	config_setting_t *s;
	const struct tg_rule *rule;
	const char *pattern;
	unsigned prefix, wildcards;
	int failed;
};

static int on_alternative(const char *alt, void *ud)
{
	struct alt_ctx *c = ud;
	char err[256];
	int r = add_alternative(c->L->p, c->rule, c->pattern, alt, c->prefix, c->wildcards, err,
				sizeof(err));
	if (r < 0) {
		ERR(c->L, c->src, c->s, "rule \"%s\": bad pattern \"%s\": %s", c->rule->id,
		    c->pattern, r == -ENOMEM ? "out of memory" : err);
		c->failed = 1;
		return 1;
	}
	char *canon = canonical_alternative(c->L, c->src, c->s, alt);
	if (canon) {
		r = add_alternative(c->L->p, c->rule, c->pattern, canon, c->prefix, c->wildcards,
				    err, sizeof(err));
		free(canon);
		if (r < 0) {
			c->failed = 1;
			return 1;
		}
	}
	return 0;
}

/* Expands, checks and compiles one pattern of RULE. */
static void add_pattern(struct loader *L, const struct source *src, config_setting_t *s,
			struct tg_rule *rule, const char *text, const char **out)
{
	char err[512], *exp = NULL, *tilde = NULL;
	const char *in = text;
	char norm[TG_GLOB_MAX + 1];

	*out = NULL;
	if (text[0] == '~' && (text[1] == '/' || text[1] == '\0')) {
		if (asprintf(&tilde, "${HOME}%s", text + 1) < 0)
			return;
		in = tilde;
	}
	if (tg_vars_expand(L->vars, in, &exp, err, sizeof(err)) < 0) {
		ERR(L, src, s, "rule \"%s\": %s", rule->id, err);
		goto out;
	}
	if (exp[0] != '/') {
		ERR(L, src, s,
		    "rule \"%s\": pattern \"%s\" is relative; patterns must be absolute "
		    "(write ${PWD}/%s for the working directory)",
		    rule->id, exp, exp);
		goto out;
	}
	int n = tg_path_normalize(NULL, 0, exp, norm, sizeof(norm));
	if (n < 0) {
		ERR(L, src, s, "rule \"%s\": pattern \"%.80s...\" is longer than %d bytes", rule->id,
		    exp, TG_GLOB_MAX);
		goto out;
	}
	/* A trailing slash is dropped ("/x/" is "/x"); wildcards are kept. */
	const char *pattern = tg_pool_strdup(&L->p->pool, norm);
	if (!pattern)
		goto out;
	struct alt_ctx c = { L, src, s, rule, pattern, 0, 0, 0 };
	tg_glob_specificity(pattern, &c.prefix, &c.wildcards);
	int r = tg_glob_braces(pattern, on_alternative, &c);
	if (r < 0 && !c.failed)
		ERR(L, src, s, "rule \"%s\": bad pattern \"%s\": %s", rule->id, pattern,
		    r == -E2BIG ? "too many alternatives, or one too long"
				: "unbalanced '{' and '}'");
	else if (!c.failed)
		*out = pattern;
out:
	free(tilde);
	free(exp);
}

/* allow = ["read", "list"] (or a single string) -> mask */
static unsigned parse_classes(struct loader *L, const struct source *src, config_setting_t *s,
			      const char *rule_id, const char *key)
{
	unsigned mask = 0;
	char h[128];
	int n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		n = 1;
	} else if (config_setting_is_aggregate(s)) {
		n = config_setting_length(s);
	} else {
		ERR(L, src, s, "rule \"%s\": %s must be a list of classes such as [\"read\", \"list\"]",
		    rule_id, key);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING
					      ? s
					      : config_setting_get_elem(s, i);
		const char *w = config_setting_get_string(e);
		if (!w) {
			ERR(L, src, e, "rule \"%s\": %s must hold class names as strings", rule_id,
			    key);
			continue;
		}
		if (strcmp(w, "all") == 0) {
			mask |= TG_ALL;
			continue;
		}
		bool found = false;
		for (unsigned c = 0; c < TG_NCLASS; c++)
			if (strcmp(w, tg_class_name(c)) == 0) {
				mask |= TG_BIT(c);
				found = true;
			}
		if (!found)
			ERR(L, src, e, "rule \"%s\": unknown access class \"%s\"%s", rule_id, w,
			    hint(h, sizeof(h), w, class_words));
	}
	return mask;
}

static const char *get_string(struct loader *L, const struct source *src, config_setting_t *s,
			      const char *what)
{
	const char *v = config_setting_get_string(s);
	if (!v)
		ERR(L, src, s, "%s must be a string in double quotes", what);
	return v;
}

static int parse_create_mode(struct loader *L, const struct source *src, config_setting_t *s,
			     const char *rule_id)
{
	int t = config_setting_type(s);

	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
		ERR(L, src, s,
		    "rule \"%s\": create_mode must be a string of octal digits such as \"0640\": "
		    "libconfig reads a bare 0%d as the decimal number %d",
		    rule_id, config_setting_get_int(s), config_setting_get_int(s));
		return -1;
	}
	const char *v = config_setting_get_string(s);
	if (!v) {
		ERR(L, src, s, "rule \"%s\": create_mode must be a string of octal digits such as "
		    "\"0640\"", rule_id);
		return -1;
	}
	size_t n = strlen(v);
	if (n == 0 || n > 4 || strspn(v, "01234567") != n) {
		ERR(L, src, s, "rule \"%s\": create_mode \"%s\" is not an octal mode such as \"0640\"",
		    rule_id, v);
		return -1;
	}
	long m = strtol(v, NULL, 8);
	if (m > 0777) {
		ERR(L, src, s,
		    "rule \"%s\": create_mode \"%s\" sets bits above 0777 (set-id or sticky); "
		    "a mask may only keep permission bits",
		    rule_id, v);
		return -1;
	}
	return (int)m;
}

static bool valid_id(const char *id)
{
	if (!*id)
		return false;
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr("._:-+@/", *c)))
			return false;
	return true;
}

static struct tg_rule *new_rule(struct tg_policy *p)
{
	struct tg_rule *r = tg_pool_alloc(&p->pool, sizeof(*r));

	if (!r)
		return NULL;
	if (p->nrules == p->caprules) {
		size_t cap = p->caprules ? p->caprules * 2 : 64;
		struct tg_rule **a = realloc(p->rules, cap * sizeof(*a));
		if (!a)
			return NULL;
		p->rules = a;
		p->caprules = cap;
	}
	p->rules[p->nrules++] = r;
	return r;
}

/* True when ID was taken by an earlier rule; else files it (ID must live
 * as long as the load). A set, so 10,000 rules cost 10,000 probes. */
static bool id_taken(struct loader *L, const char *id)
{
	struct strent *e = strmap_slot(&L->ids, id);

	if (!e)
		return false; /* the check is lost, not the load */
	if (e->key)
		return true;
	e->key = id;
	L->ids.n++;
	return false;
}

static void parse_rule(struct loader *L, const struct source *src, config_setting_t *s)
{
	struct tg_policy *p = L->p;
	struct tg_rule *r;
	config_setting_t *f;
	char h[128];

	if (!config_setting_is_group(s)) {
		ERR(L, src, s, "each rule must be a group { id = \"...\"; path = \"...\"; ... }");
		return;
	}
	check_keys(L, src, s, rule_keys, "rule: ");
	r = new_rule(p);
	if (!r) {
		L->errors++;
		return;
	}
	r->source = src->record;
	r->line = line_of(s);
	r->err = EACCES;
	r->on_deny = TG_ON_DENY_ERROR;
	r->create_mode = -1;

	const char *id = NULL;
	f = config_setting_get_member(s, "id");
	if (!f) {
		ERR(L, src, s, "rule without an id: every rule needs id = \"...\" (it names the rule in logs)");
		id = "?";
	} else if ((id = get_string(L, src, f, "id"))) {
		if (!valid_id(id))
			ERR(L, src, f, "rule id \"%s\" may hold only letters, digits and ._:-+@/", id);
	} else {
		id = "?";
	}
	r->id = tg_pool_strdup(&p->pool, id);
	if (f && r->id && strcmp(id, "?") != 0 && valid_id(id) && id_taken(L, r->id))
		ERR(L, src, f, "duplicate rule id \"%s\"", id);

	if ((f = config_setting_get_member(s, "allow")))
		r->allow = parse_classes(L, src, f, r->id, "allow");
	if ((f = config_setting_get_member(s, "deny")))
		r->deny = parse_classes(L, src, f, r->id, "deny");
	if (r->allow & r->deny) {
		char b[64];
		ERR(L, src, s, "rule \"%s\" both allows and denies %s", r->id,
		    tg_classes_str(r->allow & r->deny, b, sizeof(b)));
	}
	if (!(r->allow | r->deny))
		WARN(L, src, s, "rule \"%s\" names no class in allow or deny: it never decides",
		     r->id);

	if ((f = config_setting_get_member(s, "on_deny"))) {
		const char *v = get_string(L, src, f, "on_deny");
		if (v && strcmp(v, "error") == 0)
			r->on_deny = TG_ON_DENY_ERROR;
		else if (v && strcmp(v, "kill") == 0)
			r->on_deny = TG_ON_DENY_KILL;
		else if (v && strcmp(v, "quiet") == 0)
			r->on_deny = TG_ON_DENY_QUIET;
		else if (v)
			ERR(L, src, f, "rule \"%s\": on_deny \"%s\" is not error, kill or quiet%s",
			    r->id, v, hint(h, sizeof(h), v, on_deny_words));
	}
	if ((f = config_setting_get_member(s, "errno"))) {
		const char *v = get_string(L, src, f, "errno");
		int e = v ? tg_errno_parse(v) : -EINVAL;
		if (e > 0)
			r->err = e;
		else if (v)
			ERR(L, src, f,
			    "rule \"%s\": errno \"%s\" is not one of EACCES, EPERM, ENOENT, EROFS, "
			    "EXDEV%s",
			    r->id, v, hint(h, sizeof(h), v, errno_words));
	}
	if ((f = config_setting_get_member(s, "audit"))) {
		if (config_setting_type(f) != CONFIG_TYPE_BOOL)
			ERR(L, src, f, "rule \"%s\": audit must be true or false", r->id);
		else
			r->audit = config_setting_get_bool(f);
	}
	if ((f = config_setting_get_member(s, "create_mode")))
		r->create_mode = parse_create_mode(L, src, f, r->id);
	if ((f = config_setting_get_member(s, "reason"))) {
		const char *v = get_string(L, src, f, "reason");
		if (v)
			r->reason = tg_pool_strdup(&p->pool, v);
	}

	f = config_setting_get_member(s, "path");
	if (!f) {
		ERR(L, src, s, "rule \"%s\" has no path", r->id);
		return;
	}
	int n = config_setting_type(f) == CONFIG_TYPE_STRING ? 1
		: config_setting_is_aggregate(f)	      ? config_setting_length(f)
							      : -1;
	if (n <= 0) {
		ERR(L, src, f, "rule \"%s\": path must be a pattern or a non-empty list of patterns",
		    r->id);
		return;
	}
	const char **paths = tg_pool_alloc(&p->pool, (n + 1) * sizeof(*paths));
	if (!paths) {
		L->errors++;
		return;
	}
	size_t np = 0;
	for (int i = 0; i < n; i++) {
		config_setting_t *e = n == 1 && config_setting_type(f) == CONFIG_TYPE_STRING
					      ? f
					      : config_setting_get_elem(f, i);
		const char *v = config_setting_get_string(e);
		if (!v) {
			ERR(L, src, e, "rule \"%s\": each path must be a string", r->id);
			continue;
		}
		add_pattern(L, src, e, r, v, &paths[np]);
		if (paths[np])
			np++;
	}
	r->paths = paths;
	r->npaths = np;
}

static void parse_defaults(struct loader *L, const struct source *src, config_setting_t *g)
{
	char h[128];

	if (!config_setting_is_group(g)) {
		ERR(L, src, g, "defaults must be a group such as { read = \"allow\"; write = \"deny\"; }");
		return;
	}
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, i);
		const char *name = config_setting_name(e);
		const char *v = config_setting_get_string(e);
		unsigned mask = 0;
		for (unsigned c = 0; c < TG_NCLASS; c++)
			if (strcmp(name, tg_class_name(c)) == 0)
				mask = TG_BIT(c);
		if (strcmp(name, "all") == 0)
			mask = TG_ALL;
		if (!mask) {
			ERR(L, src, e, "defaults: unknown access class \"%s\"%s", name,
			    hint(h, sizeof(h), name, class_words));
			continue;
		}
		if (!v || (strcmp(v, "allow") != 0 && strcmp(v, "deny") != 0)) {
			ERR(L, src, e, "defaults: %s must be \"allow\" or \"deny\"", name);
			continue;
		}
		bool allow = strcmp(v, "allow") == 0;
		for (unsigned c = 0; c < TG_NCLASS; c++) {
			if (!(mask & TG_BIT(c)))
				continue;
			if (!src->is_profile) {
				L->p->defaults[c] = allow;
				L->p->defaults_set |= TG_BIT(c);
			} else if (!(L->pdefault_set & TG_BIT(c))) {
				L->pdefault[c] = allow;
				L->pdefault_set |= TG_BIT(c);
			} else {
				/* Between profiles that disagree, deny wins. */
				L->pdefault[c] = L->pdefault[c] && allow;
			}
		}
	}
}

static void load_source(struct loader *L, const struct source *src, config_t *cfg, int depth);

static void load_profile(struct loader *L, const struct source *from, config_setting_t *e,
			 const char *name, int depth)
{
	char h[128];

	for (size_t i = 0; i < L->nloaded; i++)
		if (strcmp(L->loaded[i], name) == 0)
			return; /* loaded once, whoever names it */
	if (depth >= MAX_PROFILE_DEPTH) {
		ERR(L, from, e, "profiles nest deeper than %d levels", MAX_PROFILE_DEPTH);
		return;
	}
	if (L->nloaded == sizeof(L->loaded) / sizeof(L->loaded[0])) {
		ERR(L, from, e, "too many profiles");
		return;
	}
	L->loaded[L->nloaded++] = tg_pool_strdup(&L->p->pool, name);

	config_t cfg;
	config_init(&cfg);
	const char *text = tg_profile_text(name);
	struct source src = { 0 };
	char *path = NULL;
	if (text) {
		char *disp;
		if (asprintf(&disp, "profile:%s", name) < 0)
			goto out;
		src.display = src.record = tg_pool_strdup(&L->p->pool, disp);
		free(disp);
		src.is_profile = true;
		tg_sha256_update(&L->sha, text, strlen(text));
		if (!config_read_string(&cfg, text)) {
			ERR(L, &src, NULL, "line %d: %s", config_error_line(&cfg),
			    config_error_text(&cfg));
			goto out;
		}
	} else {
		if (strchr(name, '/') || !*name || name[0] == '.') {
			ERR(L, from, e, "profile \"%s\" is not a profile name%s", name,
			    hint(h, sizeof(h), name, shipped));
			goto out;
		}
		/* Messages name the file as the user would: beside the policy
		 * as the policy itself was named. */
		const char *slash = strrchr(from->display, '/');
		char *disp = NULL;
		if (slash ? asprintf(&disp, "%.*s/%s.cfg", (int)(slash - from->display),
				     from->display, name) < 0
			  : asprintf(&disp, "%s.cfg", name) < 0)
			goto out;
		src.display = tg_pool_strdup(&L->p->pool, disp);
		free(disp);
		if (!from->dir || asprintf(&path, "%s/%s.cfg", from->dir, name) < 0 ||
		    access(path, R_OK) != 0) {
			ERR(L, from, e,
			    "profile \"%s\" not found: it is not shipped%s and there is no '%s'",
			    name, hint(h, sizeof(h), name, shipped), src.display);
			goto out;
		}
		src.record = tg_pool_strdup(&L->p->pool, path);
		src.dir = from->dir;
		src.is_profile = true;
		if (!add_file(L->p, path)) {
			L->errors++;
			goto out;
		}
		size_t tn = 0;
		char *body = slurp(path, &tn);
		if (body)
			tg_sha256_update(&L->sha, body, tn);
		config_set_include_dir(&cfg, from->dir);
		bool parsed = body ? config_read_string(&cfg, body) : config_read_file(&cfg, path);
		free(body);
		if (!parsed) {
			report(L, TG_DIAG_ERROR,
			       config_error_file(&cfg) ? config_error_file(&cfg) : path,
			       config_error_line(&cfg), "%s", config_error_text(&cfg));
			goto out;
		}
	}
	load_source(L, &src, &cfg, depth + 1);
out:
	free(path);
	config_destroy(&cfg);
}

static void load_source(struct loader *L, const struct source *src, config_t *cfg, int depth)
{
	config_setting_t *root = config_root_setting(cfg), *s;
	struct tg_policy *p = L->p;
	char h[128];

	check_keys(L, src, root, top_keys, "");

	s = config_setting_get_member(root, "version");
	if (!s)
		ERR(L, src, NULL, "missing \"version = 1;\" (the policy language version)");
	else if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_get_int(s) != 1)
		ERR(L, src, s, "version must be 1");

	if (src->is_profile) {
		static const char *const top_only[] = { "mode", "lock_mode", "log", "fence", "vars",
							"exec_unguarded" };
		for (size_t i = 0; i < sizeof(top_only) / sizeof(top_only[0]); i++)
			if ((s = config_setting_get_member(root, top_only[i])))
				ERR(L, src, s, "\"%s\" belongs in the job's policy, not in a profile",
				    top_only[i]);
	} else {
		if ((s = config_setting_get_member(root, "mode"))) {
			const char *v = get_string(L, src, s, "mode");
			if (v && tg_mode_parse(v, &p->mode) < 0)
				ERR(L, src, s, "mode \"%s\" is not enforce, audit or learn%s", v,
				    hint(h, sizeof(h), v, mode_words));
		}
		if ((s = config_setting_get_member(root, "exec_unguarded"))) {
			const char *v = get_string(L, src, s, "exec_unguarded");
			if (v && strcmp(v, "deny") == 0)
				p->deny_unguarded = true;
			else if (v && strcmp(v, "log") != 0)
				ERR(L, src, s, "exec_unguarded must be \"log\" or \"deny\"");
		}
		if ((s = config_setting_get_member(root, "lock_mode"))) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				ERR(L, src, s, "lock_mode must be true or false");
			else
				p->lock_mode = config_setting_get_bool(s);
		}
		if ((s = config_setting_get_member(root, "vars"))) {
			if (!config_setting_is_group(s)) {
				ERR(L, src, s, "vars must be a group such as { DATA = \"/datasets\"; }");
			} else {
				for (int i = 0; i < config_setting_length(s); i++) {
					config_setting_t *e = config_setting_get_elem(s, i);
					const char *name = config_setting_name(e);
					const char *v = config_setting_get_string(e);
					char err[512], *exp = NULL;
					if (!v) {
						ERR(L, src, e, "vars: %s must be a string", name);
						continue;
					}
					if (tg_vars_expand(L->vars, v, &exp, err, sizeof(err)) < 0) {
						ERR(L, src, e, "vars: %s: %s", name, err);
						continue;
					}
					if (tg_vars_define(L->vars, name, exp) < 0)
						ERR(L, src, e,
						    "vars: \"%s\" is a built-in variable or defined twice",
						    name);
					free(exp);
				}
			}
		}
		if ((s = config_setting_get_member(root, "log"))) {
			if (!config_setting_is_group(s)) {
				ERR(L, src, s, "log must be a group such as { path = \"/var/log/x.jsonl\"; }");
			} else {
				check_keys(L, src, s, log_keys, "log: ");
				config_setting_t *e;
				if ((e = config_setting_get_member(s, "path"))) {
					const char *v = get_string(L, src, e, "log.path");
					char err[512], *exp = NULL;
					if (v && tg_vars_expand(L->vars, v, &exp, err, sizeof(err)) < 0)
						ERR(L, src, e, "log.path: %s", err);
					else if (exp)
						p->log_path = tg_pool_strdup(&p->pool, exp);
					free(exp);
				}
				if ((e = config_setting_get_member(s, "allowed"))) {
					if (config_setting_type(e) != CONFIG_TYPE_BOOL)
						ERR(L, src, e, "log.allowed must be true or false");
					else
						p->log_allowed = config_setting_get_bool(e);
				}
				if ((e = config_setting_get_member(s, "digests"))) {
					const char *v = get_string(L, src, e, "log.digests");
					if (v && strcmp(v, "none") != 0 && strcmp(v, "audited") != 0)
						ERR(L, src, e, "log.digests must be \"none\" or \"audited\"");
					else if (v && strcmp(v, "audited") == 0)
						WARN(L, src, e, "log.digests = \"audited\" is accepted "
						     "but digests are not computed yet");
				}
			}
		}
		if ((s = config_setting_get_member(root, "fence"))) {
			if (config_setting_is_group(s))
				check_keys(L, src, s, fence_keys, "fence: ");
			WARN(L, src, s, "the kernel fence (Landlock, seccomp) is not built yet: "
			     "\"fence\" is accepted and ignored");
		}
	}

	if ((s = config_setting_get_member(root, "profiles"))) {
		int n = config_setting_type(s) == CONFIG_TYPE_STRING ? 1
			: config_setting_is_aggregate(s)	       ? config_setting_length(s)
							       : -1;
		if (n < 0)
			ERR(L, src, s, "profiles must be a list such as [\"base\", \"secrets\"]");
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING
						      ? s
						      : config_setting_get_elem(s, i);
			const char *v = config_setting_get_string(e);
			if (!v)
				ERR(L, src, e, "profiles must hold profile names as strings");
			else
				load_profile(L, src, e, v, depth);
		}
	}

	if ((s = config_setting_get_member(root, "defaults")))
		parse_defaults(L, src, s);

	if ((s = config_setting_get_member(root, "rules"))) {
		if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
			ERR(L, src, s, "rules must be a list: rules = ( { ... }, { ... } );");
		} else {
			for (int i = 0; i < config_setting_length(s); i++) {
				config_setting_t *e = config_setting_get_elem(s, i);
				/* A rule from an @include names its own file. */
				const char *file = config_setting_source_file(e);
				struct source inc = *src;
				if (file && !src->is_profile && strcmp(file, src->display) != 0) {
					inc.display = inc.record = tg_pool_strdup(&p->pool, file);
					add_file(p, file);
				}
				parse_rule(L, &inc, e);
			}
		}
	}
}

/* Protection the job can never lift: PATTERN (escaped) for DENY. */
static int add_builtin(struct tg_policy *p, const char *path, const char *suffix)
{
	size_t n = strlen(path);
	char *esc = malloc(2 * n + strlen(suffix) + 1), *o = esc;
	char err[128];
	int r;

	if (!esc)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (strchr("*?[]{}\\", path[i]))
			*o++ = '\\';
		*o++ = path[i];
	}
	strcpy(o, suffix);
	const char *pattern = tg_pool_strdup(&p->pool, esc);
	r = pattern ? add_alternative(p, &p->self_rule, pattern, esc, TG_PREFIX_BUILTIN, 0, err,
				      sizeof(err))
		    : -ENOMEM;
	free(esc);
	return r;
}

int tg_policy_protect(struct tg_policy *p, const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = paths[i] ? add_builtin(p, paths[i], "") : 0;
		if (r < 0)
			return r;
	}
	return tg_policy_index(p);
}

static int cmp_pattern(const void *a, const void *b)
{
	const struct tg_pat *x = *(const struct tg_pat *const *)a;
	const struct tg_pat *y = *(const struct tg_pat *const *)b;
	return strcmp(x->pattern, y->pattern);
}

/* Rules tie only when their patterns are equally specific; the ties worth a
 * warning are the same pattern allowed by one rule and denied by another.
 * Sorting by pattern finds them in O(n log n), even for 10,000 rules. */
static void warn_conflicts(struct loader *L)
{
	struct tg_policy *p = L->p;
	const struct tg_pat **v = malloc((p->npats + 1) * sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < p->npats; i++)
		v[i] = &p->pats[i];
	qsort(v, p->npats, sizeof(*v), cmp_pattern);
	for (size_t i = 0; i < p->npats; i++) {
		for (size_t j = i + 1; j < p->npats && strcmp(v[i]->pattern, v[j]->pattern) == 0;
		     j++) {
			const struct tg_rule *a = v[i]->rule, *b = v[j]->rule;
			unsigned clash = (a->allow & b->deny) | (a->deny & b->allow);
			if (a == b || !clash)
				continue;
			if (a->line > b->line || (a->line == b->line && strcmp(a->source, b->source) > 0)) {
				const struct tg_rule *t = a;
				a = b;
				b = t;
			}
			char cls[64];
			report(L, TG_DIAG_WARNING, a->source, a->line,
			       "rules \"%s\" and \"%s\" (%s:%d) are equally specific for \"%s\" and "
			       "disagree on %s: deny wins",
			       a->id, b->id, b->source, b->line, v[i]->pattern,
			       tg_classes_str(clash, cls, sizeof(cls)));
			i = j; /* one warning per pattern */
			break;
		}
	}
	free(v);
}

int tg_policy_load(const struct tg_load_opts *opts, struct tg_policy **ret)
{
	struct tg_policy *p = calloc(1, sizeof(*p));
	struct loader L = { .p = p, .o = opts };
	config_t cfg;
	struct source src = { 0 };
	int r = -EINVAL;
	char *dir = NULL, *ftext = NULL;

	if (!p)
		return -ENOMEM;
	for (unsigned c = 0; c < TG_NCLASS; c++)
		p->defaults[c] = true;
	p->self_rule.id = TG_RULE_SELF;
	p->self_rule.source = "builtin";
	p->self_rule.deny = TG_BIT(TG_WRITE) | TG_BIT(TG_CREATE) | TG_BIT(TG_DELETE) |
			    TG_BIT(TG_CHMOD);
	p->self_rule.err = EACCES;
	p->self_rule.on_deny = TG_ON_DENY_ERROR;
	p->self_rule.create_mode = -1;
	p->self_rule.reason = "the guard's own policy, log and library are never modified by the job";

	tg_sha256_init(&L.sha);
	if (tg_vars_new(&L.vars, opts->frozen_vars, opts->job_id) < 0) {
		free(p);
		return -ENOMEM;
	}
	config_init(&cfg);

	if (!opts->path) {
		/* The embedded default is the shipped ml-default profile read as a
		 * policy of its own. */
		const char *name = opts->embedded ? opts->embedded : "ml-default";
		const char *text = tg_profile_text(name);
		char *disp;
		if (!text || asprintf(&disp, "embedded:%s", name) < 0) {
			report(&L, TG_DIAG_ERROR, name, 0, "no such embedded profile");
			goto done;
		}
		src.display = src.record = tg_pool_strdup(&p->pool, disp);
		free(disp);
		tg_sha256_update(&L.sha, text, strlen(text));
		if (!config_read_string(&cfg, text)) {
			report(&L, TG_DIAG_ERROR, src.display, config_error_line(&cfg), "%s",
			       config_error_text(&cfg));
			goto done;
		}
		L.loaded[L.nloaded++] = name;
	} else {
		char real[PATH_MAX];
		FILE *fp = fopen(opts->path, "re");
		if (!fp) {
			int e = errno;
			report(&L, TG_DIAG_ERROR, opts->path, 0, "cannot read the policy: %s",
			       strerror(e));
			r = e == ENOENT ? -ENOENT : -EINVAL;
			goto done;
		}
		size_t tn = 0;
		ftext = slurp_fp(fp, &tn);
		fclose(fp);
		if (!ftext) {
			report(&L, TG_DIAG_ERROR, opts->path, 0, "cannot read the policy: %s",
			       strerror(errno));
			goto done;
		}
		tg_sha256_update(&L.sha, ftext, tn);
		if (!realpath(opts->path, real)) {
			report(&L, TG_DIAG_ERROR, opts->path, 0, "cannot resolve the policy path: %s",
			       strerror(errno));
			goto done;
		}
		dir = strdup(real);
		if (!dir || !add_file(p, real))
			goto done;
		*strrchr(dir, '/') = '\0';
		if (!*dir)
			strcpy(dir, "/");
		src.display = opts->path;
		src.record = p->files[0];
		src.dir = dir;
		config_set_include_dir(&cfg, dir);
		if (!config_read_string(&cfg, ftext)) {
			report(&L, TG_DIAG_ERROR,
			       config_error_file(&cfg) ? config_error_file(&cfg) : opts->path,
			       config_error_line(&cfg), "%s", config_error_text(&cfg));
			goto done;
		}
	}
	p->source = tg_pool_strdup(&p->pool, src.record);
	load_source(&L, &src, &cfg, 0);

	/* Classes the policy left open take its profiles' defaults. */
	for (unsigned c = 0; c < TG_NCLASS; c++)
		if (!(p->defaults_set & TG_BIT(c)) && (L.pdefault_set & TG_BIT(c)))
			p->defaults[c] = L.pdefault[c];
	p->defaults_set |= L.pdefault_set;

	/* The job may never rewrite its policy, nor plant a profile beside it. */
	for (size_t i = 0; i < p->nfiles; i++) {
		char d[PATH_MAX];
		snprintf(d, sizeof(d), "%s", p->files[i]);
		char *slash = strrchr(d, '/');
		if (add_builtin(p, p->files[i], "") < 0)
			L.errors++;
		if (slash) {
			slash[1] = '\0';
			if (add_builtin(p, d, "*.cfg") < 0)
				L.errors++;
		}
	}
	if (!opts->errors_only)
		warn_conflicts(&L);
	if (L.errors == 0 && tg_policy_index(p) < 0)
		L.errors++;
	if (L.errors == 0) {
		unsigned char digest[32];
		tg_sha256_final(&L.sha, digest);
		for (int i = 0; i < 32; i++)
			snprintf(p->sha256 + 2 * i, 3, "%02x", digest[i]);
		char *fz = tg_vars_frozen(L.vars);
		p->frozen = fz ? tg_pool_strdup(&p->pool, fz) : NULL;
		free(fz);
		if (p->frozen)
			r = 0;
		else
			r = -ENOMEM;
	} else if (L.errors > MAX_ERRORS) {
		report(&L, TG_DIAG_NOTE, src.display ? src.display : "policy", 0,
		       "%d more errors not shown", L.errors - MAX_ERRORS);
	}
done:
	config_destroy(&cfg);
	tg_vars_free(L.vars);
	free(dir);
	free(ftext);
	free(L.ids.e);
	for (size_t i = 0; i < L.canon.cap; i++) {
		free((char *)L.canon.e[i].key);
		free(L.canon.e[i].val);
	}
	free(L.canon.e);
	if (r < 0) {
		tg_policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void tg_policy_free(struct tg_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->npats; i++) {
		tg_glob_free(p->pats[i].glob);
		tg_glob_free(p->pats[i].dirglob);
		tg_glob_free(p->pats[i].nameglob);
	}
	free(p->parents);
	tg_memo_free(p->memo);
	free(p->pats);
	free(p->rules);
	free(p->files);
	free(p->order);
	free(p->slots);
	tg_pool_free(&p->pool);
	free(p);
}

enum tg_mode tg_policy_mode(const struct tg_policy *p)
{
	return p->mode;
}

bool tg_policy_lock_mode(const struct tg_policy *p)
{
	return p->lock_mode;
}

const char *tg_policy_log_path(const struct tg_policy *p)
{
	return p->log_path;
}

bool tg_policy_log_allowed(const struct tg_policy *p)
{
	return p->log_allowed;
}

const char *tg_policy_source(const struct tg_policy *p)
{
	return p->source;
}

const char *tg_policy_sha256(const struct tg_policy *p)
{
	return p->sha256;
}

size_t tg_policy_nfiles(const struct tg_policy *p)
{
	return p->nfiles;
}

const char *tg_policy_file(const struct tg_policy *p, size_t i)
{
	return i < p->nfiles ? p->files[i] : NULL;
}

size_t tg_policy_nrules(const struct tg_policy *p)
{
	return p->nrules;
}

const struct tg_rule *tg_policy_rule(const struct tg_policy *p, size_t i)
{
	return i < p->nrules ? p->rules[i] : NULL;
}

const char *tg_policy_frozen_vars(const struct tg_policy *p)
{
	return p->frozen;
}

bool tg_policy_default(const struct tg_policy *p, enum tg_class c)
{
	return p->defaults[c];
}

unsigned tg_policy_defaults_named(const struct tg_policy *p)
{
	return p->defaults_set;
}

bool tg_policy_hides(const struct tg_policy *p)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i]->err == ENOENT && (p->rules[i]->deny & TG_BIT(TG_READ)))
			return true;
	return false;
}

bool tg_policy_deny_unguarded(const struct tg_policy *p)
{
	return p->deny_unguarded;
}
