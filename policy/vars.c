/* Variables: ${HOME}, ${ENV:NAME:-default} and the policy's own vars.
 *
 * A job expands its variables once. The first guarded process reads them
 * from its environment and records every value it used (tg_vars_frozen);
 * that record travels to children in TRAINGUARD_VARS, and a child expands
 * from the record alone. A child started with another HOME, working
 * directory or environment therefore gets exactly its parent's policy. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "policy-internal.h"

#define MAX_DEPTH 8

struct var {
	char *name;
	char *value; /* NULL: unset */
};

struct tg_vars {
	struct var *defs; /* the policy's vars */
	size_t ndefs;
	struct var *used; /* builtin and ENV lookups, for the frozen record */
	size_t nused;
	struct var *frozen; /* parsed TRAINGUARD_VARS, or NULL */
	size_t nfrozen;
	bool is_frozen;
	char *job_id;
};

struct buf {
	char *s;
	size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap + n + 1) * 2;
		char *ns = realloc(b->s, cap);
		if (!ns)
			return -ENOMEM;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static int push(struct var **arr, size_t *n, const char *name, const char *value)
{
	struct var *a = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!a)
		return -ENOMEM;
	*arr = a;
	a[*n].name = strdup(name);
	a[*n].value = value ? strdup(value) : NULL;
	if (!a[*n].name || (value && !a[*n].value))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static struct var *find(struct var *arr, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(arr[i].name, name) == 0)
			return &arr[i];
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parses "KEY=pct-value;KEY2;..." (KEY alone: looked up and unset). */
static int parse_frozen(struct tg_vars *v, const char *s)
{
	while (*s) {
		const char *end = strchr(s, ';');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		char *item = strndup(s, n);
		if (!item)
			return -ENOMEM;
		char *eq = strchr(item, '=');
		int r;
		if (eq) {
			*eq = '\0';
			char *o = eq + 1;
			for (char *i = eq + 1; *i; i++) {
				if (*i == '%' && hexval(i[1]) >= 0 && hexval(i[2]) >= 0) {
					*o++ = (char)(hexval(i[1]) * 16 + hexval(i[2]));
					i += 2;
				} else {
					*o++ = *i;
				}
			}
			*o = '\0';
			r = push(&v->frozen, &v->nfrozen, item, eq + 1);
		} else {
			r = push(&v->frozen, &v->nfrozen, item, NULL);
		}
		free(item);
		if (r < 0)
			return r;
		s += n;
		if (*s == ';')
			s++;
	}
	return 0;
}

int tg_vars_new(struct tg_vars **ret, const char *frozen, const char *job_id)
{
	struct tg_vars *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	if (job_id && !(v->job_id = strdup(job_id))) {
		free(v);
		return -ENOMEM;
	}
	if (frozen) {
		v->is_frozen = true;
		r = parse_frozen(v, frozen);
		if (r < 0) {
			tg_vars_free(v);
			return r;
		}
	}
	*ret = v;
	return 0;
}

static void free_arr(struct var *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].value);
	}
	free(a);
}

void tg_vars_free(struct tg_vars *v)
{
	if (!v)
		return;
	free_arr(v->defs, v->ndefs);
	free_arr(v->used, v->nused);
	free_arr(v->frozen, v->nfrozen);
	free(v->job_id);
	free(v);
}

/* The built-in variables, each with the function that reads its live
 * value in this process: TMP (64 bytes) may hold a number, *OWNED a
 * malloc'd value the caller frees. NULL: unset. */
struct builtin {
	const char *name;
	const char *(*value)(const struct tg_vars *v, char *tmp, char **owned);
};

static const char *home_value(const struct tg_vars *v, char *tmp, char **owned)
{
	const char *val = getenv("HOME");

	(void)v, (void)tmp, (void)owned;
	if (!val || !*val) {
		struct passwd *pw = getpwuid(getuid());
		val = pw ? pw->pw_dir : NULL;
	}
	return val;
}

static const char *user_value(const struct tg_vars *v, char *tmp, char **owned)
{
	const char *val = getenv("USER");

	(void)v, (void)owned;
	if (!val || !*val) {
		struct passwd *pw = getpwuid(getuid());
		if (pw) {
			val = pw->pw_name;
		} else {
			snprintf(tmp, 64, "%u", (unsigned)getuid());
			val = tmp;
		}
	}
	return val;
}

static const char *uid_value(const struct tg_vars *v, char *tmp, char **owned)
{
	(void)v, (void)owned;
	snprintf(tmp, 64, "%u", (unsigned)getuid());
	return tmp;
}

static const char *pwd_value(const struct tg_vars *v, char *tmp, char **owned)
{
	(void)v, (void)tmp;
	return *owned = getcwd(NULL, 0);
}

static const char *tmpdir_value(const struct tg_vars *v, char *tmp, char **owned)
{
	const char *val = getenv("TMPDIR");

	(void)v, (void)tmp, (void)owned;
	return val && *val ? val : "/tmp";
}

static const char *job_id_value(const struct tg_vars *v, char *tmp, char **owned)
{
	(void)tmp, (void)owned;
	return v->job_id;
}

/* The kernel's node name: per-host log paths on a shared folder. */
static const char *hostname_value(const struct tg_vars *v, char *tmp, char **owned)
{
	struct utsname u;

	(void)v, (void)tmp;
	if (uname(&u) < 0)
		return NULL;
	return *owned = strdup(u.nodename);
}

static const struct builtin builtins[] = {
	{ "HOME", home_value },         { "USER", user_value },     { "UID", uid_value },
	{ "PWD", pwd_value },           { "TMPDIR", tmpdir_value }, { "JOB_ID", job_id_value },
	{ "HOSTNAME", hostname_value },
};

static const struct builtin *find_builtin(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}

int tg_vars_define(struct tg_vars *v, const char *name, const char *value)
{
	if (find_builtin(name) || strncmp(name, "ENV:", 4) == 0 || find(v->defs, v->ndefs, name))
		return -EEXIST;
	return push(&v->defs, &v->ndefs, name, value);
}

/* The live value of a builtin or ENV:NAME variable in this process. Returns
 * 0 with *RET set (NULL when unset), or -ENOMEM. *RET is malloc'd. */
static int live_value(struct tg_vars *v, const char *key, char **ret)
{
	char tmp[64];
	const char *val = NULL;
	char *owned = NULL;
	const struct builtin *b;

	if (strncmp(key, "ENV:", 4) == 0)
		val = getenv(key + 4);
	else if ((b = find_builtin(key)))
		val = b->value(v, tmp, &owned);
	*ret = NULL;
	if (val && !(*ret = strdup(val))) {
		free(owned);
		return -ENOMEM;
	}
	free(owned);
	return 0;
}

/* Looks KEY up: policy vars, then the frozen record or the process. */
static int lookup(struct tg_vars *v, const char *key, const char **ret, char *err, size_t errsz)
{
	struct var *d = find(v->defs, v->ndefs, key);
	char *val;
	int r;

	if (d) {
		*ret = d->value;
		return 0;
	}
	if (strncmp(key, "ENV:", 4) != 0 && !find_builtin(key)) {
		snprintf(err, errsz,
			 "unknown variable \"${%s}\" (define it in vars, or use ${ENV:%s})", key,
			 key);
		return -EINVAL;
	}
	d = find(v->used, v->nused, key);
	if (d) {
		*ret = d->value;
		return 0;
	}
	if (v->is_frozen) {
		struct var *f = find(v->frozen, v->nfrozen, key);
		if (!f) {
			snprintf(err, errsz,
				 "variable \"${%s}\" is not in the job's frozen variables "
				 "(TRAINGUARD_VARS); the policy changed after the job started",
				 key);
			return -EINVAL;
		}
		r = push(&v->used, &v->nused, key, f->value);
	} else {
		r = live_value(v, key, &val);
		if (r < 0)
			return r;
		r = push(&v->used, &v->nused, key, val);
		free(val);
	}
	if (r < 0)
		return r;
	*ret = v->used[v->nused - 1].value;
	return 0;
}

/* The index of the '}' closing the reference "${" at IN[I], or N when it
 * is unterminated: defaults may hold ${...} themselves. */
static size_t ref_close(const char *in, size_t n, size_t i)
{
	size_t j = i + 2, level = 1;

	for (; j < n; j++) {
		if (in[j] == '$' && j + 1 < n && in[j + 1] == '{') {
			level++;
			j++;
		} else if (in[j] == '}' && --level == 0) {
			break;
		}
	}
	return j;
}

/* A reference's body "NAME" or "ENV:NAME:-default", split. */
struct ref {
	char key[256];
	const char *dflt; /* NULL: no default */
	size_t dlen;
};

static int parse_ref(const char *body, size_t blen, struct ref *r, char *err, size_t errsz)
{
	size_t klen = blen;

	r->dflt = NULL;
	r->dlen = 0;
	if (blen > 4 && strncmp(body, "ENV:", 4) == 0) {
		const char *sep = memmem(body, blen, ":-", 2);
		if (sep) {
			klen = sep - body;
			r->dflt = sep + 2;
			r->dlen = blen - klen - 2;
		}
	}
	if (klen == 0 || klen >= sizeof(r->key) ||
	    (klen == 4 && r->dflt == NULL && strncmp(body, "ENV:", 4) == 0)) {
		snprintf(err, errsz, "bad variable reference \"${%.*s}\"", (int)blen, body);
		return -EINVAL;
	}
	memcpy(r->key, body, klen);
	r->key[klen] = '\0';
	return 0;
}

static int expand(struct tg_vars *v, const char *in, size_t n, struct buf *out, int depth,
		  char *err, size_t errsz)
{
	if (depth > MAX_DEPTH) {
		snprintf(err, errsz, "variables nest deeper than %d levels", MAX_DEPTH);
		return -EINVAL;
	}
	for (size_t i = 0; i < n;) {
		if (in[i] != '$' || i + 1 >= n || in[i + 1] != '{') {
			/* Plain text up to the next '$', in one copy. */
			size_t j = i + 1;
			while (j < n && in[j] != '$')
				j++;
			int r = buf_add(out, in + i, j - i);
			if (r < 0)
				return r;
			i = j;
			continue;
		}
		size_t j = ref_close(in, n, i);
		if (j >= n) {
			snprintf(err, errsz, "unterminated \"${\" in \"%.*s\"", (int)n, in);
			return -EINVAL;
		}
		struct ref ref;
		const char *val;
		int r = parse_ref(in + i + 2, j - (i + 2), &ref, err, errsz);
		if (r == 0)
			r = lookup(v, ref.key, &val, err, errsz);
		if (r < 0)
			return r;
		if (val) {
			r = buf_add(out, val, strlen(val));
		} else if (ref.dflt) {
			r = expand(v, ref.dflt, ref.dlen, out, depth + 1, err, errsz);
		} else {
			snprintf(err, errsz,
				 "variable \"${%s}\" is not set and has no default "
				 "(write ${%s:-value} to give one)",
				 ref.key, ref.key);
			return -EINVAL;
		}
		if (r < 0)
			return r;
		i = j + 1;
	}
	return 0;
}

int tg_vars_expand(struct tg_vars *v, const char *in, char **ret, char *err, size_t errsz)
{
	struct buf out = { 0 };
	int r;

	r = buf_add(&out, "", 0);
	if (r == 0)
		r = expand(v, in, strlen(in), &out, 0, err, errsz);
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, errsz, "out of memory");
		free(out.s);
		return r == -ENOMEM ? r : -EINVAL;
	}
	*ret = out.s;
	return 0;
}

char *tg_vars_frozen(struct tg_vars *v)
{
	struct buf out = { 0 };

	if (buf_add(&out, "", 0) < 0)
		return NULL;
	for (size_t i = 0; i < v->nused; i++) {
		if (i && buf_add(&out, ";", 1) < 0)
			goto fail;
		if (buf_add(&out, v->used[i].name, strlen(v->used[i].name)) < 0)
			goto fail;
		if (!v->used[i].value)
			continue;
		if (buf_add(&out, "=", 1) < 0)
			goto fail;
		for (const unsigned char *c = (const unsigned char *)v->used[i].value; *c; c++) {
			char enc[4];
			if (*c == '%' || *c == ';' || *c == '=' || *c < 0x20 || *c >= 0x7f) {
				snprintf(enc, sizeof(enc), "%%%02X", *c);
				if (buf_add(&out, enc, 3) < 0)
					goto fail;
			} else if (buf_add(&out, (const char *)c, 1) < 0) {
				goto fail;
			}
		}
	}
	return out.s;
fail:
	free(out.s);
	return NULL;
}
