/* A read-only view of a compiled policy's alternatives (tg-policy.h,
 * tg_policy_pattern): what a translator into another enforcement layer
 * (the kernel fence) needs, without the matcher's layout leaving policy/. */
#include <string.h>

#include "policy-internal.h"

size_t tg_policy_npatterns(const struct tg_policy *p)
{
	return p->npats;
}

void tg_policy_pattern(const struct tg_policy *p, size_t i, struct tg_pattern_view *ret)
{
	const struct tg_pat *t = &p->pats[i];

	ret->rule = t->rule;
	ret->kind = t->kind == TG_PAT_EXACT  ? TG_PATTERN_EXACT
		    : t->kind == TG_PAT_TREE ? TG_PATTERN_TREE
					     : TG_PATTERN_GLOB;
	ret->lit = t->lit;
	ret->litlen = t->litlen;
	ret->prefix = t->prefix;
	ret->wildcards = t->wildcards;
	ret->name_glob = NULL;
	ret->folder_len = 0;
	ret->tree = t->tree;
	if (t->kind != TG_PAT_GLOB || t->opaque || !t->nameglob)
		return;
	/* The folder is literal when the pattern's literal prefix runs past
	 * it into the last name. */
	size_t dl = 0;
	if (t->dirglob)
		tg_glob_literal(t->dirglob, &dl);
	if (t->litlen > dl && t->lit[dl] == '/' &&
	    !memchr(t->lit + dl + 1, '/', t->litlen - dl - 1)) {
		ret->name_glob = t->nameglob;
		ret->folder_len = dl;
	}
}
