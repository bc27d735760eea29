/* Paths and variables as the loader expands them, for the command: the
 * path a user hands to `trainguard explain` ("~/.ssh/id_rsa",
 * "${DATA}/x"), and the values `trainguard check --var` gives variables.
 *
 * The loader keeps no variables once a policy is compiled, so the policy's
 * own `vars` are read again here from its file, in order, exactly as the
 * loader defines them. */
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

/* Defines the policy's own vars from FILE, as the loader does. */
static int define_policy_vars(struct tg_vars *v, const char *file, char *err, size_t errsz)
{
	char real[PATH_MAX];
	config_t cfg;
	int r = 0;

	if (!realpath(file, real)) {
		snprintf(err, errsz, "cannot read the policy '%s': %s", file, strerror(errno));
		return -ENOENT;
	}
	config_init(&cfg);
	char *slash = strrchr(real, '/');
	*slash = '\0';
	config_set_include_dir(&cfg, *real ? real : "/");
	*slash = '/';
	if (!config_read_file(&cfg, real)) {
		snprintf(err, errsz, "%s:%d: %s", file, config_error_line(&cfg),
			 config_error_text(&cfg));
		r = -EINVAL;
		goto out;
	}
	config_setting_t *s = config_setting_get_member(config_root_setting(&cfg), "vars");
	for (int i = 0; s && config_setting_is_group(s) && i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, i);
		const char *val = config_setting_get_string(e);
		char *exp = NULL;
		if (!val)
			continue; /* the loader refused it already */
		r = tg_vars_expand(v, val, &exp, err, errsz);
		if (r < 0)
			goto out;
		r = tg_vars_define(v, config_setting_name(e), exp);
		free(exp);
		if (r < 0 && r != -EEXIST)
			goto out;
		r = 0;
	}
out:
	config_destroy(&cfg);
	return r;
}

int tg_policy_expand(const struct tg_load_opts *opts, const char *text, char **ret, char *err,
		     size_t errsz)
{
	struct tg_vars *v = NULL;
	char *tilde = NULL, *exp = NULL;
	int r;

	r = tg_vars_new(&v, opts->frozen_vars, opts->job_id);
	if (r < 0)
		return r;
	if (opts->path) {
		r = define_policy_vars(v, opts->path, err, errsz);
		if (r < 0)
			goto out;
	}
	if (text[0] == '~' && (text[1] == '/' || text[1] == '\0')) {
		if (asprintf(&tilde, "${HOME}%s", text + 1) < 0) {
			r = -ENOMEM;
			goto out;
		}
		text = tilde;
	}
	r = tg_vars_expand(v, text, &exp, err, errsz);
	if (r == 0)
		*ret = exp;
out:
	free(tilde);
	tg_vars_free(v);
	return r;
}

/* Appends S to the frozen record OUT (at O), percent-encoding as
 * tg_vars_frozen does. */
static size_t put_encoded(char *out, size_t o, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '%' || *c == ';' || *c == '=' || *c < 0x20 || *c >= 0x7f)
			o += sprintf(out + o, "%%%02X", *c);
		else
			out[o++] = (char)*c;
	}
	out[o] = '\0';
	return o;
}

int tg_frozen_vars_set(const char *frozen, const char *name, const char *value, char **ret)
{
	size_t nl = strlen(name), fl = frozen ? strlen(frozen) : 0;
	char *out = malloc(fl + nl + 3 * strlen(value) + 3);
	size_t o = 0;

	if (!out)
		return -ENOMEM;
	out[0] = '\0';
	/* Every item but NAME's, as it was. */
	for (const char *s = frozen; s && *s;) {
		size_t n = strcspn(s, ";");
		size_t kl = strcspn(s, "=;");
		if (!(kl == nl && memcmp(s, name, nl) == 0)) {
			if (o)
				out[o++] = ';';
			memcpy(out + o, s, n);
			o += n;
			out[o] = '\0';
		}
		s += n + (s[n] == ';');
	}
	if (o)
		out[o++] = ';';
	memcpy(out + o, name, nl);
	o += nl;
	out[o++] = '=';
	put_encoded(out, o, value);
	*ret = out;
	return 0;
}

/* Reads the source of rule R: a shipped profile's text, or the file. */
static bool read_source(const struct tg_rule *r, config_t *cfg)
{
	const char *name = NULL;

	if (strncmp(r->source, "profile:", 8) == 0)
		name = r->source + 8;
	else if (strncmp(r->source, "embedded:", 9) == 0)
		name = r->source + 9;
	if (name) {
		const char *text = tg_profile_text(name);
		return text && config_read_string(cfg, text);
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", r->source);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		config_set_include_dir(cfg, *dir ? dir : "/");
	}
	return config_read_file(cfg, r->source);
}

char *tg_rule_typed_pattern(const struct tg_rule *r, size_t k)
{
	config_t cfg;
	char *out = NULL;

	config_init(&cfg);
	if (!read_source(r, &cfg))
		goto out;
	config_setting_t *rules = config_setting_get_member(config_root_setting(&cfg), "rules");
	for (int i = 0; rules && i < config_setting_length(rules); i++) {
		config_setting_t *e = config_setting_get_elem(rules, i);
		const char *id = NULL;
		if (!config_setting_lookup_string(e, "id", &id) || strcmp(id, r->id) != 0)
			continue;
		config_setting_t *path = config_setting_get_member(e, "path");
		const char *text = NULL;
		if (path && config_setting_type(path) == CONFIG_TYPE_STRING && k == 0)
			text = config_setting_get_string(path);
		else if (path && config_setting_is_aggregate(path))
			text = config_setting_get_string_elem(path, (int)k);
		if (text)
			out = strdup(text);
		break;
	}
out:
	config_destroy(&cfg);
	return out;
}
