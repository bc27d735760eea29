/* Replays fuzz corpora through a fuzz target without libFuzzer, as TAP.
 *
 * Usage: fuzz-replay-NAME FILE-OR-FOLDER... Every regular file named, and
 * every regular file directly inside a folder named, is fed once to
 * LLVMFuzzerTestOneInput() in name order. An input that breaks an
 * invariant aborts the run, which meson reports as a failure; an input
 * that cannot be read is a "not ok". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../unit/tap.h"
#include "fuzz.h"

struct list {
	char **v;
	size_t n, cap;
};

/* Appends PATH, which the list then owns. */
static int add(struct list *l, char *path)
{
	if (!path)
		return -ENOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			free(path);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = path;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(struct list *l, const char *arg)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (stat(arg, &st) < 0) {
		fprintf(stderr, "replay: cannot read '%s': %s\n", arg, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode))
		return add(l, strdup(arg));
	d = opendir(arg);
	if (!d) {
		fprintf(stderr, "replay: cannot list '%s': %s\n", arg, strerror(errno));
		return -errno;
	}
	while (r == 0 && (e = readdir(d))) {
		char *p;

		/* Skips ".", ".." and editor or libFuzzer dot-files. */
		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", arg, e->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			r = add(l, p);
		else
			free(p);
	}
	closedir(d);
	return r;
}

static int replay(const char *path)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			uint8_t *b = realloc(buf, cap);

			if (!b) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = b;
		}
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	/* An exact-size copy, so ASan sees a read past the input as such. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return -ENOMEM;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	struct list l = { 0 };

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE-OR-FOLDER...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (collect(&l, argv[i]) < 0)
			ok(0, "%s can be read", argv[i]);
	qsort(l.v, l.n, sizeof(*l.v), cmp);
	if (l.n == 0)
		tap_diag("no corpus files found");
	for (size_t i = 0; i < l.n; i++) {
		int r = replay(l.v[i]);

		ok(r >= 0, "%s%s%s", l.v[i], r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		fflush(stdout);
		free(l.v[i]);
	}
	free(l.v);
	return tap_done();
}
