/* The child environment (see child-env.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "child-env.h"
#include "tg-env.h"

#define PRELOAD_EQ     TG_ENV_PRELOAD "="
#define PRELOAD_EQ_LEN (sizeof(PRELOAD_EQ) - 1)

static bool is_ours(const char *entry)
{
	return strncmp(entry, PRELOAD_EQ, PRELOAD_EQ_LEN) == 0 ||
	       strncmp(entry, TG_ENV_PREFIX, sizeof(TG_ENV_PREFIX) - 1) == 0;
}

size_t tg_child_env_size(const struct tg_child_spec *spec, char *const envp[])
{
	size_t n = 0;

	if (envp)
		while (envp[n])
			n++;
	/* + the handoff, + one entry the caller may append (the hash chain's
	 * link), + NULL */
	return n + spec->n + 3;
}

bool tg_child_handoff_live(const struct tg_child_spec *spec)
{
	struct stat st;

	return spec->handoff && fstat(spec->handoff_fd, &st) == 0 &&
	       st.st_dev == spec->handoff_dev && st.st_ino == spec->handoff_ino;
}

/* Where the LD_PRELOAD value LIST names SELF_PATH as one entry: the
 * offset just past it, or -1. */
static long guard_end(const char *self_path, const char *list)
{
	size_t n = self_path ? strlen(self_path) : 0;

	if (!n)
		return -1;
	for (const char *s = list; (s = strstr(s, self_path)); s += n)
		if ((s == list || s[-1] == ':' || s[-1] == ' ') &&
		    (s[n] == '\0' || s[n] == ':' || s[n] == ' '))
			return (long)(s - list + n);
	return -1;
}

static bool list_keeps(const char *self_path, const char *list)
{
	return guard_end(self_path, list) >= 0;
}

bool tg_child_env_keeps_guard(const char *self_path, const char *e)
{
	return strncmp(e, PRELOAD_EQ, PRELOAD_EQ_LEN) == 0 &&
	       list_keeps(self_path, e + PRELOAD_EQ_LEN);
}

/* The saved LD_PRELOAD entry, or NULL. */
static const char *saved_preload(const struct tg_child_spec *spec)
{
	for (size_t i = 0; i < spec->n; i++)
		if (strncmp(spec->entries[i], PRELOAD_EQ, PRELOAD_EQ_LEN) == 0)
			return spec->entries[i];
	return NULL;
}

const char *tg_child_preload(const struct tg_child_spec *spec, const char *list, char *scratch,
			     size_t cap)
{
	const char *saved = saved_preload(spec);

	if (!saved || !list || !list_keeps(spec->self_path, list))
		return saved;
	/* What the parent loaded up to and including the guard must open the
	 * child's list too (ASan, when it came first, stays first): a library
	 * put before the guard would run its constructor, and bind its
	 * symbols, ahead of it. */
	const char *sv = saved + PRELOAD_EQ_LEN;
	long head = guard_end(spec->self_path, sv);
	if (head >= 0 && strncmp(list, sv, (size_t)head) == 0 &&
	    (list[head] == '\0' || list[head] == ':' || list[head] == ' '))
		return NULL; /* the child's own entry is fine as it is */
	/* Else the parent's list first, then the child's (a library listed
	 * twice is loaded once, at its first place). */
	size_t sl = strlen(saved), ll = strlen(list);
	if (sl + 1 + ll + 1 > cap)
		return saved; /* no room: the child gets what the parent had */
	memcpy(scratch, saved, sl);
	scratch[sl] = ':';
	memcpy(scratch + sl + 1, list, ll + 1);
	return scratch;
}

int tg_child_env(const struct tg_child_spec *spec, char *const envp[], char **buf, size_t cap,
		 char *scratch, size_t scratch_cap)
{
	const char *preload = NULL;
	size_t n = 0;

	if (cap < tg_child_env_size(spec, envp))
		return -ENOBUFS;
	if (spec->n == 0) {
		/* Not started (or running unguarded): the environment as given. */
		for (size_t i = 0; envp && envp[i]; i++)
			buf[n++] = envp[i];
		buf[n] = NULL;
		return 0;
	}
	for (size_t i = 0; envp && envp[i]; i++) {
		if (tg_child_env_keeps_guard(spec->self_path, envp[i])) {
			/* The child added a library beside ours. */
			const char *p = tg_child_preload(spec, envp[i] + PRELOAD_EQ_LEN, scratch,
							 scratch_cap);
			preload = p ? p : envp[i];
		}
		if (!is_ours(envp[i]))
			buf[n++] = envp[i];
	}
	for (size_t i = 0; i < spec->n; i++) {
		if (preload && strncmp(spec->entries[i], PRELOAD_EQ, PRELOAD_EQ_LEN) == 0)
			buf[n++] = (char *)preload;
		else
			buf[n++] = (char *)spec->entries[i];
	}
	if (tg_child_handoff_live(spec))
		buf[n++] = (char *)spec->handoff;
	buf[n] = NULL;
	return 0;
}

static bool saved_name(const struct tg_child_spec *spec, const char *e, size_t n)
{
	for (size_t i = 0; i < spec->n; i++)
		if (strncmp(spec->entries[i], e, n) == 0 && spec->entries[i][n] == '=')
			return true;
	return false;
}

void tg_restore_environ(const struct tg_child_spec *spec)
{
	extern char **environ;
	char name[64], scratch[TG_CHILD_PRELOAD_MAX];

	if (spec->n == 0)
		return;
	/* Every TRAINGUARD_ variable the parent did not start with goes: a
	 * policy, log or TRAINGUARD_ON_ERROR the program set for its shell
	 * would otherwise weaken the child. */
	for (bool again = true; again;) {
		again = false;
		for (char **e = environ; e && *e; e++) {
			const char *eq = strchr(*e, '=');
			size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
			if (strncmp(*e, TG_ENV_PREFIX, sizeof(TG_ENV_PREFIX) - 1) != 0 ||
			    saved_name(spec, *e, n) || n >= sizeof(name))
				continue;
			memcpy(name, *e, n);
			name[n] = '\0';
			unsetenv(name);
			again = true;
			break;
		}
	}
	for (size_t i = 0; i < spec->n; i++) {
		const char *e = spec->entries[i], *eq = strchr(e, '=');
		size_t n = eq ? (size_t)(eq - e) : 0;
		if (!n || n >= sizeof(name))
			continue;
		memcpy(name, e, n);
		name[n] = '\0';
		const char *cur = getenv(name);
		if (cur && strcmp(cur, eq + 1) == 0)
			continue;
		if (cur && strcmp(name, TG_ENV_PRELOAD) == 0) {
			const char *p = tg_child_preload(spec, cur, scratch, sizeof(scratch));
			if (!p)
				continue; /* keeps the guard where the parent had it */
			if (p == scratch)
				eq = scratch + PRELOAD_EQ_LEN - 1;
		}
		setenv(name, eq + 1, 1);
	}
	/* Gone with the other variables not saved; back while it is ours. */
	if (tg_child_handoff_live(spec))
		setenv(TG_ENV_HANDOFF, strchr(spec->handoff, '=') + 1, 1);
}

void tg_child_env_append(char **buf, char *entry)
{
	size_t n = 0;

	while (buf[n])
		n++;
	buf[n] = entry;
	buf[n + 1] = NULL;
}
