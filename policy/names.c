/* The words of the policy language for each enum (classes, modes, on_deny,
 * errnos, allow/deny) in one table each, read by the parser and by every
 * printer, and the "did you mean" suggester that names the closest word.
 *
 * A table lists its words in the order messages list them ("enforce, audit
 * or learn"), which is also the order the suggester prefers between two
 * equally close words; each word carries the value it stands for. Where a
 * table's order is the enum's, the name of a value is an index; else a
 * walk of a handful of entries. Nothing here allocates: the guard names
 * classes and modes in records on its hook path. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy-internal.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The classes in enum order, then "all". */
static const char *const class_word[] = { "read",  "write", "create", "delete", "exec",
					  "chmod", "list",  "all",    NULL };
static const int class_value[] = { TG_BIT(TG_READ),   TG_BIT(TG_WRITE),
				   TG_BIT(TG_CREATE), TG_BIT(TG_DELETE),
				   TG_BIT(TG_EXEC),   TG_BIT(TG_CHMOD),
				   TG_BIT(TG_LIST),   TG_ALL };
_Static_assert(N_OF(class_word) == TG_NCLASS + 2 && N_OF(class_value) == TG_NCLASS + 1,
	       "one word per class, and \"all\"");
const struct tg_words tg_class_words = { class_word, class_value };

static const char *const mode_word[] = { "enforce", "audit", "learn", NULL };
static const int mode_value[] = { TG_ENFORCE, TG_AUDIT, TG_LEARN };
const struct tg_words tg_mode_words = { mode_word, mode_value };

static const char *const fence_mode_word[] = { "auto", "require", "off", NULL };
static const int fence_mode_value[] = { TG_FENCE_AUTO, TG_FENCE_REQUIRE, TG_FENCE_OFF };
const struct tg_words tg_fence_mode_words = { fence_mode_word, fence_mode_value };

static const char *const on_deny_word[] = { "error", "kill", "quiet", NULL };
static const int on_deny_value[] = { TG_ON_DENY_ERROR, TG_ON_DENY_KILL, TG_ON_DENY_QUIET };
const struct tg_words tg_on_deny_words = { on_deny_word, on_deny_value };

static const char *const severity_word[] = { "informational", "low",      "medium",
					     "high",          "critical", NULL };
static const int severity_value[] = { TG_SEVERITY_INFORMATIONAL, TG_SEVERITY_LOW,
				      TG_SEVERITY_MEDIUM, TG_SEVERITY_HIGH, TG_SEVERITY_CRITICAL };
const struct tg_words tg_severity_words = { severity_word, severity_value };

/* The errnos a rule may name: what a denied file operation may plausibly
 * answer. Any other errno is named by tg_errno_symbol(). */
static const char *const errno_word[] = { "EACCES", "EPERM", "ENOENT", "EROFS", "EXDEV", NULL };
static const int errno_value[] = { EACCES, EPERM, ENOENT, EROFS, EXDEV };
const struct tg_words tg_errno_words = { errno_word, errno_value };

static const char *const decision_word[] = { "allow", "deny", NULL };
static const int decision_value[] = { true, false };
const struct tg_words tg_decision_words = { decision_word, decision_value };

int tg_words_parse(const struct tg_words *t, const char *word, int *ret)
{
	for (size_t i = 0; t->word[i]; i++)
		if (strcmp(word, t->word[i]) == 0) {
			*ret = t->value[i];
			return 0;
		}
	return -EINVAL;
}

const char *tg_words_name(const struct tg_words *t, int value)
{
	for (size_t i = 0; t->word[i]; i++)
		if (t->value[i] == value)
			return t->word[i];
	return NULL;
}

const char *tg_words_list(const struct tg_words *t, const char *last_sep, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; t->word[i] && used < n; i++) {
		const char *sep = i == 0 ? "" : t->word[i + 1] ? ", " : last_sep;
		int k = snprintf(buf + used, n - used, "%s%s", sep, t->word[i]);
		if (k < 0)
			break;
		used += (size_t)k;
	}
	return buf;
}

const char *tg_class_name(enum tg_class c)
{
	return (unsigned)c < TG_NCLASS ? class_word[c] : NULL;
}

int tg_class_parse(const char *s, enum tg_class *ret)
{
	for (unsigned c = 0; c < TG_NCLASS; c++)
		if (strcmp(s, class_word[c]) == 0) {
			*ret = c;
			return 0;
		}
	return -EINVAL;
}

const char *tg_mode_name(enum tg_mode m)
{
	return (unsigned)m < N_OF(mode_value) ? mode_word[m] : NULL;
}

int tg_mode_parse(const char *s, enum tg_mode *ret)
{
	int v;

	if (tg_words_parse(&tg_mode_words, s, &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

const char *tg_fence_mode_name(enum tg_fence_mode m)
{
	return (unsigned)m < N_OF(fence_mode_value) ? fence_mode_word[m] : NULL;
}

int tg_fence_mode_parse(const char *s, enum tg_fence_mode *ret)
{
	int v;

	if (!s || tg_words_parse(&tg_fence_mode_words, s, &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

const char *tg_on_deny_name(enum tg_on_deny o)
{
	return tg_words_name(&tg_on_deny_words, o);
}

const char *tg_severity_name(enum tg_severity s)
{
	return tg_words_name(&tg_severity_words, s);
}

int tg_on_deny_parse(const char *s, enum tg_on_deny *ret)
{
	int v;

	if (tg_words_parse(&tg_on_deny_words, s, &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

const char *tg_errno_name(int e)
{
	return tg_words_name(&tg_errno_words, e);
}

int tg_errno_parse(const char *s)
{
	int v;

	return tg_words_parse(&tg_errno_words, s, &v) < 0 ? -EINVAL : v;
}

const char *tg_errno_symbol(int e)
{
	return e > 0 ? strerrorname_np(e) : NULL;
}

const char *tg_verdict_name(bool allow)
{
	return allow ? decision_word[0] : decision_word[1];
}

const char *tg_classes_str(unsigned mask, char *buf, size_t bufsz)
{
	size_t n = 0;

	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned c = 0; c < TG_NCLASS; c++) {
		if (!(mask & TG_BIT(c)))
			continue;
		size_t l = strlen(class_word[c]);
		if (n + l + 2 > bufsz)
			break;
		if (n)
			buf[n++] = ',';
		memcpy(buf + n, class_word[c], l + 1);
		n += l;
	}
	return buf;
}

/* Damerau-free Levenshtein distance, capped: words here are short. */
static unsigned distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *tg_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	unsigned bestd = 3;

	for (; *candidates; candidates++) {
		unsigned d = distance(word, *candidates);
		if (d < bestd) {
			bestd = d;
			best = *candidates;
		}
	}
	return best;
}
