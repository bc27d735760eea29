/* Helpers every command shares: usage errors, and loading a policy with
 * its diagnostics printed for people (see common.h). */
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
