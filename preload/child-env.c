/* The child environment (see child-env.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "child-env.h"
#include "tg-env.h"

#define PRELOAD_EQ TG_ENV_PRELOAD "="
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
	/* + one entry the caller may append (the hash chain's link), + NULL */
	return n + spec->n + 2;
}

/* True when the LD_PRELOAD value LIST names SELF_PATH as one entry. */
static bool list_keeps(const char *self_path, const char *list)
{
	size_t n = self_path ? strlen(self_path) : 0;

	if (!n)
		return false;
	for (const char *s = list; (s = strstr(s, self_path)); s += n)
		if ((s == list || s[-1] == ':' || s[-1] == ' ') &&
		    (s[n] == '\0' || s[n] == ':' || s[n] == ' '))
			return true;
	return false;
}

bool tg_child_env_keeps_guard(const char *self_path, const char *e)
{
	return strncmp(e, PRELOAD_EQ, PRELOAD_EQ_LEN) == 0 &&
	       list_keeps(self_path, e + PRELOAD_EQ_LEN);
}

int tg_child_env(const struct tg_child_spec *spec, char *const envp[], char **buf, size_t cap)
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
		if (tg_child_env_keeps_guard(spec->self_path, envp[i]))
			preload = envp[i]; /* the child added a library beside ours */
		if (!is_ours(envp[i]))
			buf[n++] = envp[i];
	}
	for (size_t i = 0; i < spec->n; i++) {
		if (preload && strncmp(spec->entries[i], PRELOAD_EQ, PRELOAD_EQ_LEN) == 0)
			buf[n++] = (char *)preload;
		else
			buf[n++] = (char *)spec->entries[i];
	}
	buf[n] = NULL;
	return 0;
}

void tg_restore_environ(const struct tg_child_spec *spec)
{
	char name[64];

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
		if (cur && strcmp(name, TG_ENV_PRELOAD) == 0 && list_keeps(spec->self_path, cur))
			continue;
		setenv(name, eq + 1, 1);
	}
}

void tg_child_env_append(char **buf, char *entry)
{
	size_t n = 0;

	while (buf[n])
		n++;
	buf[n] = entry;
	buf[n + 1] = NULL;
}
