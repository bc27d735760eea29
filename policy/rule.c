/* Rule parsing: one `{ id = ...; path = ...; allow = [...]; ... }` group
 * into a struct tg_rule, and each of its patterns through "~" and variable
 * expansion, normalization and brace expansion into compiled alternatives
 * (compile.c). Every field is checked on its own, so that one rule with
 * several mistakes reports them all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load-internal.h"
#include "tg-path.h"

static const char *const rule_keys[] = { "id",      "path",     "allow", "deny",
					 "on_deny", "errno",    "audit", "create_mode",
					 "reason",  "severity", NULL };
/* A rule's settings by key, in the order of rule_keys (tg_check_keys). */
enum {
	K_ID,
	K_PATH,
	K_ALLOW,
	K_DENY,
	K_ON_DENY,
	K_ERRNO,
	K_AUDIT,
	K_CREATE_MODE,
	K_REASON,
	K_SEVERITY,
	NKEYS
};
_Static_assert(sizeof(rule_keys) / sizeof(rule_keys[0]) == NKEYS + 1, "a slot per rule key");

/* allow = ["read", "list"] (or a single string) -> mask */
static unsigned parse_classes(struct loader *L, const struct source *src, config_setting_t *s,
			      const char *rule_id, const char *key)
{
	unsigned mask = 0;
	char h[128];
	int n = tg_list_length(s);

	if (n < 0) {
		ERR(L, src, s,
		    "rule \"%s\": %s must be a list of classes such as [\"read\", \"list\"]",
		    rule_id, key);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *e = tg_elem(s, i);
		const char *w = config_setting_get_string(e);
		int m;
		if (!w)
			ERR(L, src, e, "rule \"%s\": %s must hold class names as strings", rule_id,
			    key);
		else if (tg_words_parse(&tg_class_words, w, &m) == 0)
			mask |= (unsigned)m;
		else
			ERR(L, src, e, "rule \"%s\": unknown access class \"%s\"%s", rule_id, w,
			    tg_hint(h, sizeof(h), w, tg_class_words.word));
	}
	return mask;
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
		ERR(L, src, s,
		    "rule \"%s\": create_mode must be a string of octal digits such as "
		    "\"0640\"",
		    rule_id);
		return -1;
	}
	size_t n = strlen(v);
	if (n == 0 || n > 4 || strspn(v, "01234567") != n) {
		ERR(L, src, s,
		    "rule \"%s\": create_mode \"%s\" is not an octal mode such as \"0640\"",
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

/* ---- Patterns ------------------------------------------------------------ */

struct alt_ctx {
	struct loader *L;
	const struct source *src;
	config_setting_t *s;
	const struct tg_rule *rule;
	const char *pattern;
	unsigned prefix, wildcards;
	int failed;
};

/* Compiles one brace-free alternative, and its canonical twin when its
 * folders go through a symlink. */
static int on_alternative(const char *alt, void *ud)
{
	struct alt_ctx *c = ud;
	char err[256];
	int r = tg_add_alternative(c->L->p, c->rule, c->pattern, alt, c->prefix, c->wildcards, err,
				   sizeof(err));
	if (r < 0) {
		ERR(c->L, c->src, c->s, "rule \"%s\": bad pattern \"%s\": %s", c->rule->id,
		    c->pattern, r == -ENOMEM ? "out of memory" : err);
		c->failed = 1;
		return 1;
	}
	char *canon = tg_canonical_alternative(c->L, c->src, c->s, alt);
	if (canon) {
		r = tg_add_alternative(c->L->p, c->rule, c->pattern, canon, c->prefix, c->wildcards,
				       err, sizeof(err));
		free(canon);
		if (r < 0) {
			c->failed = 1;
			return 1;
		}
	}
	return 0;
}

/* Expands, checks and compiles one pattern TEXT of RULE; stores the
 * pattern as expanded (owned by the policy) in *OUT, or NULL after an
 * error. */
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
		ERR(L, src, s, "rule \"%s\": pattern \"%.80s...\" is longer than %d bytes",
		    rule->id, exp, TG_GLOB_MAX);
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

/* path = "..." or [ "...", ... ]: the patterns of R. */
static void parse_paths(struct loader *L, const struct source *src, config_setting_t *s,
			config_setting_t *const *m, struct tg_rule *r)
{
	config_setting_t *f = m[K_PATH];
	if (!f) {
		ERR(L, src, s, "rule \"%s\" has no path", r->id);
		return;
	}
	int n = tg_list_length(f);
	if (n <= 0) {
		ERR(L, src, f,
		    "rule \"%s\": path must be a pattern or a non-empty list of patterns", r->id);
		return;
	}
	const char **paths = tg_pool_alloc(&L->p->pool, (n + 1) * sizeof(*paths));
	if (!paths) {
		L->errors++;
		return;
	}
	size_t np = 0;
	for (int i = 0; i < n; i++) {
		config_setting_t *e = tg_elem(f, i);
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

/* ---- The rule ------------------------------------------------------------ */

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
		struct tg_rule **a = tg_mem_realloc(p->region, p->rules, cap * sizeof(*a));
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
	struct tg_strent *e = tg_strmap_slot(&L->ids, id);

	if (!e)
		return false; /* the check is lost, not the load */
	if (e->key)
		return true;
	e->key = id;
	L->ids.n++;
	return false;
}

/* id = "...": a valid, unique id, or "?" so that messages can name it. */
static void parse_id(struct loader *L, const struct source *src, config_setting_t *s,
		     config_setting_t *const *m, struct tg_rule *r)
{
	config_setting_t *f = m[K_ID];
	const char *id = NULL;

	if (!f) {
		ERR(L, src, s,
		    "rule without an id: every rule needs id = \"...\" (it names the rule in logs)");
		id = "?";
	} else if ((id = tg_get_string(L, src, f, "id"))) {
		if (!valid_id(id))
			ERR(L, src, f, "rule id \"%s\" may hold only letters, digits and ._:-+@/",
			    id);
	} else {
		id = "?";
	}
	r->id = tg_pool_strdup(&L->p->pool, id);
	if (f && r->id && strcmp(id, "?") != 0 && valid_id(id) && id_taken(L, r->id))
		ERR(L, src, f, "duplicate rule id \"%s\"", id);
}

/* allow and deny: disjoint, and at least one class between them. */
static void parse_allow_deny(struct loader *L, const struct source *src, config_setting_t *s,
			     config_setting_t *const *m, struct tg_rule *r)
{
	config_setting_t *f;

	if ((f = m[K_ALLOW]))
		r->allow = parse_classes(L, src, f, r->id, "allow");
	if ((f = m[K_DENY]))
		r->deny = parse_classes(L, src, f, r->id, "deny");
	if (r->allow & r->deny) {
		char b[64];
		ERR(L, src, s, "rule \"%s\" both allows and denies %s", r->id,
		    tg_classes_str(r->allow & r->deny, b, sizeof(b)));
	}
	if (!(r->allow | r->deny))
		WARN(L, src, s, "rule \"%s\" names no class in allow or deny: it never decides",
		     r->id);
}

/* on_deny, severity, errno, audit, create_mode and reason: how a deny is carried out
 * and logged. */
static void parse_deny_settings(struct loader *L, const struct source *src,
				config_setting_t *const *m, struct tg_rule *r)
{
	config_setting_t *f;
	char h[128], list[96];
	int v;

	if ((f = m[K_ON_DENY])) {
		const char *w = tg_get_string(L, src, f, "on_deny");
		if (w && tg_words_parse(&tg_on_deny_words, w, &v) == 0)
			r->on_deny = v;
		else if (w)
			ERR(L, src, f, "rule \"%s\": on_deny \"%s\" is not %s%s", r->id, w,
			    tg_words_list(&tg_on_deny_words, " or ", list, sizeof(list)),
			    tg_hint(h, sizeof(h), w, tg_on_deny_words.word));
	}
	if ((f = m[K_SEVERITY])) {
		const char *w = tg_get_string(L, src, f, "severity");
		if (w && tg_words_parse(&tg_severity_words, w, &v) == 0)
			r->severity = v;
		else if (w)
			ERR(L, src, f, "rule \"%s\": severity \"%s\" is not %s%s", r->id, w,
			    tg_words_list(&tg_severity_words, " or ", list, sizeof(list)),
			    tg_hint(h, sizeof(h), w, tg_severity_words.word));
	}
	if ((f = m[K_ERRNO])) {
		const char *w = tg_get_string(L, src, f, "errno");
		if (w && tg_words_parse(&tg_errno_words, w, &v) == 0)
			r->err = v;
		else if (w)
			ERR(L, src, f, "rule \"%s\": errno \"%s\" is not one of %s%s", r->id, w,
			    tg_words_list(&tg_errno_words, ", ", list, sizeof(list)),
			    tg_hint(h, sizeof(h), w, tg_errno_words.word));
	}
	if ((f = m[K_AUDIT])) {
		if (config_setting_type(f) != CONFIG_TYPE_BOOL)
			ERR(L, src, f, "rule \"%s\": audit must be true or false", r->id);
		else
			r->audit = config_setting_get_bool(f);
	}
	if ((f = m[K_CREATE_MODE]))
		r->create_mode = parse_create_mode(L, src, f, r->id);
	if ((f = m[K_REASON])) {
		const char *w = tg_get_string(L, src, f, "reason");
		if (w)
			r->reason = tg_pool_strdup(&L->p->pool, w);
	}
}

void tg_parse_rule(struct loader *L, const struct source *src, config_setting_t *s)
{
	struct tg_rule *r;

	if (!config_setting_is_group(s)) {
		ERR(L, src, s, "each rule must be a group { id = \"...\"; path = \"...\"; ... }");
		return;
	}
	config_setting_t *m[NKEYS];
	tg_check_keys(L, src, s, rule_keys, "rule: ", m);
	r = new_rule(L->p);
	if (!r) {
		L->errors++;
		return;
	}
	r->source = src->record;
	r->line = tg_line_of(s);
	r->err = EACCES;
	r->on_deny = TG_ON_DENY_ERROR;
	r->create_mode = -1;
	parse_id(L, src, s, m, r);
	parse_allow_deny(L, src, s, m, r);
	parse_deny_settings(L, src, m, r);
	parse_paths(L, src, s, m, r);
}
