/* The compiled policy as an object: its lifetime and what the guard and
 * the command read from it after loading (settings, files, rules). Loading
 * is load.c's; deciding is match.c's. */
#include <errno.h>
#include <stdlib.h>

#include "policy-internal.h"

void tg_policy_free(struct tg_policy *p)
{
	if (!p)
		return;
	struct tg_region *r = p->region;

	for (size_t i = 0; i < p->npats; i++) {
		struct tg_glob *g[] = { p->pats[i].glob, p->pats[i].dirglob, p->pats[i].nameglob };
		for (size_t k = 0; k < 3; k++)
			if (r)
				tg_mem_free(r, g[k]);
			else
				tg_glob_free(g[k]);
	}
	tg_mem_free(r, p->parents);
	tg_mem_free(r, p->denying);
	tg_memo_free(p->memo);
	tg_mem_free(r, p->pats);
	tg_mem_free(r, p->rules);
	tg_mem_free(r, p->files);
	tg_mem_free(r, p->hashed);
	tg_mem_free(r, p->order);
	tg_mem_free(r, p->slots);
	tg_pool_free(&p->pool);
	tg_mem_free(r, p);
	tg_region_free(r);
}

enum tg_mode tg_policy_mode(const struct tg_policy *p)
{
	return p->mode;
}

bool tg_policy_lock_mode(const struct tg_policy *p)
{
	return p->lock_mode;
}

enum tg_fence_mode tg_policy_fence_landlock(const struct tg_policy *p)
{
	return p->fence_landlock;
}

enum tg_fence_mode tg_policy_fence_seccomp(const struct tg_policy *p)
{
	return p->fence_seccomp;
}

const char *tg_policy_log_path(const struct tg_policy *p)
{
	return p->log_path;
}

bool tg_policy_log_allowed(const struct tg_policy *p)
{
	return p->log_allowed;
}

bool tg_policy_digests(const struct tg_policy *p)
{
	return !p->no_digests;
}

long long tg_policy_digest_max(const struct tg_policy *p)
{
	return p->digest_max;
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
