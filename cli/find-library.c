/* tg_find_library(): the path of libtrainguard.so for the running command.
 *
 * An installed command must not need TRAINGUARD_LIBRARY: it derives its
 * install prefix from its own path (/proc/self/exe) and looks in that
 * prefix's libdir, so an install under any prefix, a tree unpacked with
 * `dpkg-deb -x` or a copy of <prefix> moved elsewhere finds the library it
 * was installed with before the configured one. The relative bindir and
 * libdir come from meson (TG_BINDIR_REL, TG_LIBDIR_REL in tg-config.h);
 * when either was configured outside the prefix, that step is skipped. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "find-library.h"
#include "tg-config.h"
#include "tg-env.h"

#define LIB_NAME "libtrainguard.so"

static int readable_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

/* Copies the real path of CAND to RET_PATH when it is a readable file. */
static int take(const char *cand, char *ret_path, size_t cap)
{
	char real[PATH_MAX];

	if (!readable_file(cand) || !realpath(cand, real))
		return -ENOENT;
	if (strlen(real) >= cap)
		return -ENAMETOOLONG;
	strcpy(ret_path, real);
	return 0;
}

/* The folder of the running command, links resolved. */
static int self_dir(char *buf, size_t cap)
{
	ssize_t l = readlink("/proc/self/exe", buf, cap - 1);
	char *slash;

	if (l <= 0 || (size_t)l >= cap - 1)
		return -ENOENT;
	buf[l] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	return 0;
}

/* The folders of steps 2 to 4, each without the trailing file name; an
 * empty string where a step does not apply. */
struct places {
	char build[PATH_MAX];
	char prefix[PATH_MAX];
	const char *libdir;
};

static void find_places(struct places *pl)
{
	const char *bindir = TG_BINDIR_REL, *libdir = TG_LIBDIR_REL;
	char dir[PATH_MAX];
	size_t dl, bl = strlen(bindir);
	int n;

	pl->build[0] = pl->prefix[0] = '\0';
	pl->libdir = TG_LIBDIR;
	if (self_dir(dir, sizeof(dir)) < 0)
		return;
	n = snprintf(pl->build, sizeof(pl->build), "%s/../preload", dir);
	if (n < 0 || (size_t)n >= sizeof(pl->build))
		pl->build[0] = '\0';
	/* <prefix>/<bindir>: the folder must end in "/<bindir>". */
	dl = strlen(dir);
	if (!bl || !*libdir || dl <= bl || dir[dl - bl - 1] != '/' ||
	    strcmp(dir + dl - bl, bindir) != 0)
		return;
	dir[dl - bl - 1] = '\0';
	n = snprintf(pl->prefix, sizeof(pl->prefix), "%s/%s/trainguard", dir, libdir);
	if (n < 0 || (size_t)n >= sizeof(pl->prefix))
		pl->prefix[0] = '\0';
}

int tg_find_library(char *ret_path, size_t cap, enum tg_lib_source *ret_source)
{
	const char *env = getenv(TG_ENV_LIBRARY);
	char cand[PATH_MAX + sizeof("/" LIB_NAME)];
	struct places pl;
	int r;

	if (env && *env) {
		r = take(env, ret_path, cap);
		if (r == 0 && ret_source)
			*ret_source = TG_LIB_ENV;
		return r == -ENOENT ? -EINVAL : r;
	}
	find_places(&pl);
	const struct {
		const char *dir;
		enum tg_lib_source source;
	} steps[] = {
		{ pl.build, TG_LIB_BUILD_TREE },
		{ pl.prefix, TG_LIB_PREFIX },
		{ pl.libdir, TG_LIB_LIBDIR },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (!*steps[i].dir)
			continue;
		snprintf(cand, sizeof(cand), "%s/" LIB_NAME, steps[i].dir);
		r = take(cand, ret_path, cap);
		if (r == -ENOENT)
			continue;
		if (r == 0 && ret_source)
			*ret_source = steps[i].source;
		return r;
	}
	return -ENOENT;
}

int tg_library_places(char *buf, size_t cap)
{
	char real[PATH_MAX];
	const char *dirs[3];
	struct places pl;
	size_t n = 0, len = 0;

	if (!cap)
		return -ENAMETOOLONG;
	find_places(&pl);
	/* The build folder is named as it resolves, when it exists. */
	if (*pl.build && realpath(pl.build, real))
		dirs[n++] = real;
	if (*pl.prefix && strcmp(pl.prefix, pl.libdir) != 0)
		dirs[n++] = pl.prefix;
	dirs[n++] = pl.libdir;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
		int w = snprintf(buf + len, cap - len, "%s'%s'", sep, dirs[i]);

		if (w < 0 || (size_t)w >= cap - len)
			return -ENAMETOOLONG;
		len += w;
	}
	return 0;
}
