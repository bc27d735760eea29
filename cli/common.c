/* Helpers every command shares: usage errors, and loading a policy with
 * its diagnostics printed for people (see common.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tg-env.h"

void tg_usage_error(const struct tg_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "trainguard: %s%s", cmd ? cmd->name : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\n(see 'trainguard help %s')\n", cmd->name);
	else
		fputs("\n(see 'trainguard --help')\n", stderr);
}

bool tg_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

const char *tg_rename_in(const char *s, const char *from, const char *to, char *buf, size_t cap)
{
	size_t fl = from ? strlen(from) : 0, tl = strlen(to), o = 0;
	const char *hit;

	if (!fl || !strstr(s, from))
		return s;
	while ((hit = strstr(s, from))) {
		size_t pre = hit - s;
		if (o + pre + tl >= cap)
			return s;
		memcpy(buf + o, s, pre);
		memcpy(buf + o + pre, to, tl);
		o += pre + tl;
		s = hit + fl;
	}
	if (o + strlen(s) >= cap)
		return s;
	strcpy(buf + o, s);
	return buf;
}

void tg_print_diag(enum tg_diag_level lvl, const char *msg, void *ud)
{
	struct tg_diag_count *d = ud;
	char a[8192], b[8192];

	if (d->rename_to) {
		msg = tg_rename_in(msg, d->rename_from_real, d->rename_to, a, sizeof(a));
		msg = tg_rename_in(msg, d->rename_from, d->rename_to, msg == a ? b : a, sizeof(a));
	}
	if (lvl == TG_DIAG_ERROR) {
		d->errors++;
		fprintf(stderr, "%s\n", msg);
	} else if (d->warnings) {
		d->nwarnings++;
		fprintf(stderr, "%s (%s)\n", msg, lvl == TG_DIAG_WARNING ? "warning" : "note");
	}
}

struct tg_load_opts tg_load_opts_for(const char *file, const char *jid, struct tg_diag_count *d)
{
	struct tg_load_opts o = {
		.path = file,
		.frozen_vars = getenv(TG_ENV_VARS),
		.job_id = jid,
		.diag = tg_print_diag,
		.diag_ud = d,
	};
	if (o.frozen_vars && !*o.frozen_vars)
		o.frozen_vars = NULL;
	return o;
}

struct tg_policy *tg_load(const char *file, const char *jid, struct tg_diag_count *d)
{
	struct tg_load_opts o = tg_load_opts_for(file, jid, d);
	struct tg_policy *p = NULL;

	return tg_policy_load(&o, &p) < 0 ? NULL : p;
}

static const char *const builtin_vars[] = { "HOME", "USER", "UID", "PWD", "TMPDIR", "JOB_ID", NULL };

int tg_override_add(struct tg_overrides *o, const struct tg_command *cmd, const char *arg, bool env)
{
	const char *eq = strchr(arg, '=');
	const char *opt = env ? "--env" : "--var";

	if (!eq || eq == arg) {
		tg_usage_error(cmd, "%s '%s' is not NAME=VALUE", opt, arg);
		return -EINVAL;
	}
	if (o->n == TG_MAX_OVERRIDES) {
		tg_usage_error(cmd, "more than %d --var and --env", TG_MAX_OVERRIDES);
		return -EINVAL;
	}
	char *name;
	if (asprintf(&name, "%s%.*s", env ? "ENV:" : "", (int)(eq - arg), arg) < 0)
		return -ENOMEM;
	bool known = strncmp(name, "ENV:", 4) == 0 && name[4];
	for (const char *const *b = builtin_vars; !known && *b; b++)
		known = strcmp(*b, name) == 0;
	if (!known) {
		tg_usage_error(cmd,
			       "--var '%s': '%s' is not a built-in variable (HOME, USER, UID, PWD, "
			       "TMPDIR, JOB_ID) nor ENV:NAME; a policy's own vars are made of "
			       "these, give their parts",
			       arg, name);
		free(name);
		return -EINVAL;
	}
	/* A later value for the same name wins. */
	for (size_t i = 0; i < o->n; i++) {
		if (strcmp(o->v[i].name, name) == 0) {
			free(o->v[i].name);
			o->v[i] = o->v[--o->n];
			break;
		}
	}
	o->v[o->n].name = name;
	o->v[o->n++].value = eq + 1;
	if (strcmp(name, "JOB_ID") == 0)
		o->job_id = eq + 1;
	return 0;
}

void tg_overrides_free(struct tg_overrides *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i].name);
	o->n = 0;
}

static void quiet(enum tg_diag_level lvl, const char *msg, void *ud)
{
}

/* FROZEN with every value of OV set; NULL on ENOMEM. */
static char *apply(const char *frozen, const struct tg_overrides *ov)
{
	char *cur = strdup(frozen ? frozen : "");

	for (size_t i = 0; cur && i < ov->n; i++) {
		char *next = NULL;
		if (tg_frozen_vars_set(cur, ov->v[i].name, ov->v[i].value, &next) < 0)
			next = NULL;
		free(cur);
		cur = next;
	}
	return cur;
}

int tg_load_overridden(const struct tg_load_opts *opts, const struct tg_overrides *ov,
		       struct tg_policy **ret, char **ret_frozen)
{
	struct tg_load_opts o = *opts;
	struct tg_policy *p = NULL;
	char *frozen = NULL;
	int r;

	if (ret_frozen)
		*ret_frozen = NULL;
	if (!ov || ov->n == 0)
		return tg_policy_load(opts, ret);
	/* The loader takes given values only as a job's frozen variables, and
	 * a frozen record must hold every variable the policy names: a first,
	 * silent load from the environment finds which those are. */
	if (!o.frozen_vars) {
		/* Those the environment can carry are put there for that load. */
		for (size_t i = 0; i < ov->n; i++) {
			const char *n = ov->v[i].name;
			if (strncmp(n, "ENV:", 4) == 0)
				setenv(n + 4, ov->v[i].value, 1);
			else if (!strcmp(n, "HOME") || !strcmp(n, "USER") || !strcmp(n, "TMPDIR"))
				setenv(n, ov->v[i].value, 1);
		}
		o.diag = quiet;
		r = tg_policy_load(&o, &p);
		if (r < 0)
			return tg_policy_load(opts, ret); /* prints why */
		o.frozen_vars = tg_policy_frozen_vars(p);
		o.diag = opts->diag;
	}
	frozen = apply(o.frozen_vars, ov);
	tg_policy_free(p);
	if (!frozen)
		return -ENOMEM;
	o.frozen_vars = frozen;
	r = tg_policy_load(&o, ret);
	if (r == 0 && ret_frozen)
		*ret_frozen = frozen;
	else
		free(frozen);
	return r;
}

void tg_show_source(const char *typed, const char *real, const char *source, char *out, size_t cap)
{
	const char *rs = real ? strrchr(real, '/') : NULL;
	const char *ss = strrchr(source, '/');

	if (real && strcmp(source, real) == 0) {
		snprintf(out, cap, "%s", typed);
	} else if (rs && ss && rs - real == ss - source && memcmp(real, source, rs - real) == 0) {
		const char *ts = strrchr(typed, '/');
		snprintf(out, cap, "%.*s%s", ts ? (int)(ts - typed + 1) : 0, typed, ss + 1);
	} else {
		snprintf(out, cap, "%s", source);
	}
}
