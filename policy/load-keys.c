/* The top-level keys of a policy, one function each, and the table the
 * loader's walk (load.c) calls them from: version, mode, exec_unguarded,
 * lock_mode, vars, log, fence, profiles, defaults and rules. A key that
 * only the job's policy may set is refused in a profile by the walk, from
 * the table's job_only column. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "load-internal.h"

static void key_version(struct loader *L, const struct source *src, config_setting_t *s, int depth)
{
	(void)depth;
	if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_get_int(s) != 1)
		ERR(L, src, s, "version must be 1");
}

static void key_mode(struct loader *L, const struct source *src, config_setting_t *s, int depth)
{
	const char *v = tg_get_string(L, src, s, "mode");
	char h[128], list[64];

	(void)depth;
	if (v && tg_mode_parse(v, &L->p->mode) < 0)
		ERR(L, src, s, "mode \"%s\" is not %s%s", v,
		    tg_words_list(&tg_mode_words, " or ", list, sizeof(list)),
		    tg_hint(h, sizeof(h), v, tg_mode_words.word));
}

static void key_exec_unguarded(struct loader *L, const struct source *src, config_setting_t *s,
			       int depth)
{
	const char *v = tg_get_string(L, src, s, "exec_unguarded");

	(void)depth;
	if (v && strcmp(v, "deny") == 0)
		L->p->deny_unguarded = true;
	else if (v && strcmp(v, "log") != 0)
		ERR(L, src, s, "exec_unguarded must be \"log\" or \"deny\"");
}

static void key_lock_mode(struct loader *L, const struct source *src, config_setting_t *s,
			  int depth)
{
	(void)depth;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		ERR(L, src, s, "lock_mode must be true or false");
	else
		L->p->lock_mode = config_setting_get_bool(s);
}

static void key_vars(struct loader *L, const struct source *src, config_setting_t *s, int depth)
{
	(void)depth;
	if (!config_setting_is_group(s)) {
		ERR(L, src, s, "vars must be a group such as { DATA = \"/datasets\"; }");
		return;
	}
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
			ERR(L, src, e, "vars: \"%s\" is a built-in variable or defined twice",
			    name);
		free(exp);
	}
}

static void log_path(struct loader *L, const struct source *src, config_setting_t *e)
{
	const char *v = tg_get_string(L, src, e, "log.path");
	char err[512], *exp = NULL;

	if (v && tg_vars_expand(L->vars, v, &exp, err, sizeof(err)) < 0)
		ERR(L, src, e, "log.path: %s", err);
	else if (exp)
		L->p->log_path = tg_pool_strdup(&L->p->pool, exp);
	free(exp);
}

static void key_log(struct loader *L, const struct source *src, config_setting_t *s, int depth)
{
	static const char *const log_keys[] = { "path", "allowed", "digests", "digest_max", NULL };
	config_setting_t *e;

	(void)depth;
	if (!config_setting_is_group(s)) {
		ERR(L, src, s, "log must be a group such as { path = \"/var/log/x.jsonl\"; }");
		return;
	}
	tg_check_keys(L, src, s, log_keys, "log: ", NULL);
	if ((e = config_setting_get_member(s, "path")))
		log_path(L, src, e);
	if ((e = config_setting_get_member(s, "allowed"))) {
		if (config_setting_type(e) != CONFIG_TYPE_BOOL)
			ERR(L, src, e, "log.allowed must be true or false");
		else
			L->p->log_allowed = config_setting_get_bool(e);
	}
	if ((e = config_setting_get_member(s, "digests"))) {
		const char *v = tg_get_string(L, src, e, "log.digests");
		if (v && strcmp(v, "none") != 0 && strcmp(v, "audited") != 0)
			ERR(L, src, e, "log.digests must be \"none\" or \"audited\"");
		else if (v)
			L->p->no_digests = strcmp(v, "none") == 0;
	}
	if ((e = config_setting_get_member(s, "digest_max"))) {
		int t = config_setting_type(e);
		long long n = t == CONFIG_TYPE_INT64 ? config_setting_get_int64(e)
			      : t == CONFIG_TYPE_INT ? config_setting_get_int(e)
						     : -1;
		if (n < 0)
			ERR(L, src, e, "log.digest_max must be a size in bytes (0: no limit)");
		else
			L->p->digest_max = n;
	}
}

static void fence_layer(struct loader *L, const struct source *src, config_setting_t *e,
			const char *key, enum tg_fence_mode *ret)
{
	const char *v = tg_get_string(L, src, e, key);
	char h[128], list[64];

	if (v && tg_fence_mode_parse(v, ret) < 0)
		ERR(L, src, e, "%s \"%s\" is not %s%s", key, v,
		    tg_words_list(&tg_fence_mode_words, " or ", list, sizeof(list)),
		    tg_hint(h, sizeof(h), v, tg_fence_mode_words.word));
}

/* fence = { landlock = "auto"; seccomp = "require"; }: how the kernel
 * fence (fence/) is installed; `trainguard run --fence` overrides both. */
static void key_fence(struct loader *L, const struct source *src, config_setting_t *s, int depth)
{
	static const char *const fence_keys[] = { "landlock", "seccomp", NULL };
	config_setting_t *e;

	(void)depth;
	if (!config_setting_is_group(s)) {
		ERR(L, src, s,
		    "fence must be a group such as { landlock = \"auto\"; "
		    "seccomp = \"auto\"; }");
		return;
	}
	tg_check_keys(L, src, s, fence_keys, "fence: ", NULL);
	if ((e = config_setting_get_member(s, "landlock")))
		fence_layer(L, src, e, "fence.landlock", &L->p->fence_landlock);
	if ((e = config_setting_get_member(s, "seccomp")))
		fence_layer(L, src, e, "fence.seccomp", &L->p->fence_seccomp);
}

static void key_profiles(struct loader *L, const struct source *src, config_setting_t *s, int depth)
{
	int n = tg_list_length(s);

	if (n < 0)
		ERR(L, src, s, "profiles must be a list such as [\"base\", \"secrets\"]");
	for (int i = 0; i < n; i++) {
		config_setting_t *e = tg_elem(s, i);
		const char *v = config_setting_get_string(e);
		if (!v)
			ERR(L, src, e, "profiles must hold profile names as strings");
		else
			tg_load_profile(L, src, e, v, depth);
	}
}

/* Sets the default of the classes in MASK: the policy's own, or between
 * profiles, where deny wins over allow. */
static void set_default(struct loader *L, const struct source *src, unsigned mask, bool allow)
{
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

static void key_defaults(struct loader *L, const struct source *src, config_setting_t *g, int depth)
{
	char h[128];

	(void)depth;
	if (!config_setting_is_group(g)) {
		ERR(L, src, g,
		    "defaults must be a group such as { read = \"allow\"; write = \"deny\"; }");
		return;
	}
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, i);
		const char *name = config_setting_name(e);
		const char *v = config_setting_get_string(e);
		int mask, allow;
		if (tg_words_parse(&tg_class_words, name, &mask) < 0) {
			ERR(L, src, e, "defaults: unknown access class \"%s\"%s", name,
			    tg_hint(h, sizeof(h), name, tg_class_words.word));
			continue;
		}
		if (!v || tg_words_parse(&tg_decision_words, v, &allow) < 0) {
			ERR(L, src, e, "defaults: %s must be \"allow\" or \"deny\"", name);
			continue;
		}
		set_default(L, src, (unsigned)mask, allow);
	}
}

static void key_rules(struct loader *L, const struct source *src, config_setting_t *s, int depth)
{
	(void)depth;
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		ERR(L, src, s, "rules must be a list: rules = ( { ... }, { ... } );");
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, i);
		/* A rule from an @include names its own file. */
		const char *file = config_setting_source_file(e);
		struct source inc = *src;
		if (file && !src->is_profile && strcmp(file, src->display) != 0) {
			inc.display = inc.record = tg_pool_strdup(&L->p->pool, file);
			tg_add_file(L->p, file);
		}
		tg_parse_rule(L, &inc, e);
	}
}

const struct tg_top_key tg_top_keys[] = {
	{ "version", false, key_version, "missing \"version = 1;\" (the policy language version)" },
	{ "mode", true, key_mode, NULL },
	{ "exec_unguarded", true, key_exec_unguarded, NULL },
	{ "lock_mode", true, key_lock_mode, NULL },
	{ "vars", true, key_vars, NULL },
	{ "log", true, key_log, NULL },
	{ "fence", true, key_fence, NULL },
	{ "profiles", false, key_profiles, NULL },
	{ "defaults", false, key_defaults, NULL },
	{ "rules", false, key_rules, NULL },
	{ NULL, false, NULL, NULL },
};
