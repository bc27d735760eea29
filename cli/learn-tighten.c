/* trainguard learn --tighten: the rules of a policy that the logs show
 * unused or broader than what was used. Every (path, class) of the logs
 * is decided again with the policy: a record names the rule of one class
 * only (unmapped.trainguard.decided_class), and audit-mode logs hold the
 * allowed accesses of rules with audit = true only, so the records alone
 * cannot say which rule allowed what. The paths a rule allowed are then
 * generalized as a draft would be (learn-draft.c) and compared with the
 * rule's own patterns. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "learn.h"

struct rule_use {
	long allowed[TG_NCLASS], denied[TG_NCLASS];
	size_t npaths;
};

static long rule_index(const struct tg_policy *p, const struct tg_rule *r)
{
	for (size_t i = 0; i < tg_policy_nrules(p); i++)
		if (tg_policy_rule(p, i) == r)
			return (long)i;
	return -1;
}

/* True when another of the N patterns, a folder pattern, covers PATS[I]. */
static bool covered_by_other(const struct learn_pattern *pats, int n, int i)
{
	const char *a = pats[i].real;

	for (int j = 0; j < n; j++) {
		const char *b = pats[j].real;
		size_t bl = strlen(b);
		if (j == i || bl < 3 || strcmp(b + bl - 3, "/**") != 0)
			continue;
		if (strncmp(a, b, bl - 2) == 0 || (strncmp(a, b, bl - 3) == 0 && !a[bl - 3]))
			return true;
	}
	return false;
}

int tg_learn_tighten(struct learn *x)
{
	struct tg_policy *p = tg_learn_load(x, x->tighten, NULL, true);
	char real[PATH_MAX];
	int status = TG_EXIT_USAGE;

	if (!p)
		return status;
	size_t nr = tg_policy_nrules(p);
	struct rule_use *use = calloc(nr + 1, sizeof(*use));
	long *decider = calloc(x->log.n * TG_NCLASS + 1, sizeof(*decider));
	long deflt[TG_NCLASS] = { 0 };
	size_t mismatch = 0, findings = 0;
	const char *mine = realpath(x->tighten, real) ? real : x->tighten;

	if (!use || !decider)
		goto out;
	for (size_t i = 0; i < x->log.n; i++) {
		struct learn_path *lp = x->log.paths[i];
		for (unsigned k = 0; k < TG_NCLASS; k++) {
			decider[i * TG_NCLASS + k] = -2;
			if (!(lp->used & TG_BIT(k)))
				continue;
			struct tg_verdict v;
			tg_decide(p, lp->path, strlen(lp->path), TG_BIT(k), &v);
			long ri = v.rule ? rule_index(p, v.rule) : -1;
			decider[i * TG_NCLASS + k] = ri;
			if (ri < 0) {
				if (v.allow)
					deflt[k] += lp->count[k];
			} else if (v.allow) {
				use[ri].allowed[k] += lp->count[k];
			} else {
				use[ri].denied[k] += lp->count[k];
			}
			if (lp->rule_seen && lp->rule_seen_class == (int)k) {
				char dname[64];
				snprintf(dname, sizeof(dname), "default:%s", tg_class_name(k));
				if (strcmp(lp->rule_seen, v.rule ? v.rule->id : dname) != 0)
					mismatch++;
			}
		}
	}

	printf("policy: %s (%zu decision records, %zu paths; %s)\n", x->tighten, x->log.decisions,
	       x->log.n,
	       x->log.complete ? "learn-mode logs: every access is there"
			       : "not learn-mode logs: only the allowed accesses of rules with "
				 "audit = true are there");
	for (size_t ri = 0; ri < nr; ri++) {
		const struct tg_rule *r = tg_policy_rule(p, ri);
		if (strcmp(r->source, mine) != 0 || !r->allow)
			continue;
		unsigned used = 0;
		long total = 0;
		for (unsigned k = 0; k < TG_NCLASS; k++) {
			if (use[ri].allowed[k])
				used |= TG_BIT(k);
			total += use[ri].allowed[k];
		}
		char cls[128];
		if (!x->log.complete && !r->audit) {
			printf("unknown: rule \"%s\" (line %d): its allowed accesses are not logged "
			       "in audit mode (no audit = true, no log.allowed)\n",
			       r->id, r->line);
			continue;
		}
		if (!used) {
			findings++;
			printf("unused: rule \"%s\" (line %d) allows %s; no access used it\n",
			       r->id, r->line, tg_classes_str(r->allow, cls, sizeof(cls)));
			continue;
		}
		if (r->allow & ~used) {
			findings++;
			printf("broader: rule \"%s\" (line %d) allows %s, which no access used",
			       r->id, r->line, tg_classes_str(r->allow & ~used, cls, sizeof(cls)));
			printf(" (used: %s, %ld accesses)\n",
			       tg_classes_str(used, cls, sizeof(cls)), total);
		}
		/* The paths it allowed, generalized as a draft would be. */
		struct learn_log sub = { 0 };
		sub.paths = calloc(x->log.n + 1, sizeof(*sub.paths));
		if (!sub.paths)
			goto out;
		for (size_t i = 0; i < x->log.n; i++) {
			unsigned m = 0;
			for (unsigned k = 0; k < TG_NCLASS; k++)
				if (decider[i * TG_NCLASS + k] == (long)ri &&
				    (r->allow & TG_BIT(k)))
					m |= TG_BIT(k);
			x->log.paths[i]->need = m;
			if (m)
				sub.paths[sub.n++] = x->log.paths[i];
		}
		struct learn_draft_opts o = { .siblings = x->siblings,
					      .vars = &x->vars,
					      .all = &x->log };
		struct learn_pattern *pats = NULL;
		int n = tg_learn_generalize(&sub, &o, &pats);
		bool narrower = false;
		for (int i = 0; i < n; i++) {
			bool same = false;
			for (size_t k = 0; k < r->npaths; k++)
				same |= strcmp(pats[i].real, r->paths[k]) == 0;
			narrower |= !same;
		}
		if (narrower) {
			findings++;
			printf("broader: rule \"%s\" (line %d), path", r->id, r->line);
			for (size_t k = 0; k < r->npaths; k++) {
				char *typed = tg_rule_typed_pattern(r, k);
				printf(" '%s'", typed ? typed : r->paths[k]);
				free(typed);
			}
			printf(": the %zu paths it allowed fit in", sub.n);
			for (int i = 0; i < n; i++)
				if (!covered_by_other(pats, n, i))
					printf(" '%s'", pats[i].text);
			printf("\n");
		}
		for (size_t k = 0; k < r->npaths && r->npaths > 1; k++) {
			bool hit = false;
			for (size_t i = 0; i < sub.n && !hit; i++) {
				struct tg_verdict v;
				tg_decide(p, sub.paths[i]->path, strlen(sub.paths[i]->path),
					  sub.paths[i]->need & -sub.paths[i]->need, &v);
				hit = v.pattern && strcmp(v.pattern, r->paths[k]) == 0;
			}
			if (!hit) {
				findings++;
				char *typed = tg_rule_typed_pattern(r, k);
				printf("broader: rule \"%s\" (line %d): pattern '%s' matched no access\n",
				       r->id, r->line, typed ? typed : r->paths[k]);
				free(typed);
			}
		}
		tg_learn_patterns_free(pats, n > 0 ? n : 0);
		free(sub.paths);
	}
	for (unsigned k = 0; k < TG_NCLASS; k++) {
		if (deflt[k])
			printf("default: defaults.%s allowed %ld accesses: rules could name them and "
			       "the default deny\n",
			       tg_class_name(k), deflt[k]);
	}
	if (mismatch)
		printf("note: %zu records name another rule than this policy decides now: the "
		       "logs were made with another policy or other variable values\n",
		       mismatch);
	status = findings ? TG_EXIT_INVALID : 0;
out:
	free(use);
	free(decider);
	tg_policy_free(p);
	return status;
}
