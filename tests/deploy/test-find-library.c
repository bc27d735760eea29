/* tg_find_library() on fake install trees (TAP). The test copies itself
 * into a temporary folder laid out as a build folder, an install prefix, a
 * link to an install and a lone binary, runs each copy (so /proc/self/exe
 * is really that path) and checks which library it names and why. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "find-library.h"
#include "tap.h"
#include "tg-config.h"
#include "tg-env.h"

static char root[PATH_MAX];

/* The child: prints "RC SOURCE PATH" and the places for a message. */
static int child(int argc, char **argv)
{
	char path[PATH_MAX] = "untouched", places[4 * PATH_MAX];
	size_t cap = argc > 2 ? strtoul(argv[2], NULL, 10) : sizeof(path);
	enum tg_lib_source src = (enum tg_lib_source) - 1;
	int rc = tg_find_library(path, cap, &src);

	printf("%d %d %s\n", rc, (int)src, path);
	tg_library_places(places, sizeof(places));
	printf("%s\n", places);
	return 0;
}

static void mkdirs(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

/* Writes a file at ROOT/REL (a fake library: only its presence counts). */
static void touch(const char *rel, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (!f) {
		printf("Bail out! cannot create '%s': %s\n", p, strerror(errno));
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* Copies this test program to ROOT/REL, mode 0755. */
static void install_self(const char *rel)
{
	char p[PATH_MAX], buf[65536];
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	out = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (in < 0 || out < 0) {
		printf("Bail out! cannot copy the test to '%s': %s\n", p, strerror(errno));
		exit(1);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			exit(1);
	close(in);
	close(out);
}

struct result {
	int rc, source;
	char path[PATH_MAX], places[4 * PATH_MAX];
};

/* Runs ROOT/REL --child [CAP] with TRAINGUARD_LIBRARY = ENV (NULL: unset). */
static void run(const char *rel, const char *env, const char *cap, struct result *r)
{
	char p[PATH_MAX], out[6 * PATH_MAX];
	int fds[2];
	ssize_t n, len = 0;
	pid_t pid;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	memset(r, 0, sizeof(*r));
	r->rc = 1;
	if (pipe(fds) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		if (env)
			setenv(TG_ENV_LIBRARY, env, 1);
		else
			unsetenv(TG_ENV_LIBRARY);
		execl(p, p, "--child", cap, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(fds[0]);
	waitpid(pid, NULL, 0);
	char *nl = strchr(out, '\n');
	if (!nl || sscanf(out, "%d %d %4095s", &r->rc, &r->source, r->path) != 3)
		return;
	snprintf(r->places, sizeof(r->places), "%s", nl + 1);
	r->places[strcspn(r->places, "\n")] = '\0';
}

/* The real path of ROOT/REL. */
static const char *at(const char *rel)
{
	static char p[PATH_MAX], real[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return realpath(p, real) ? real : p;
}

static void expect(const struct result *r, int rc, int source, const char *path, const char *what)
{
	ok(r->rc == rc && (rc < 0 || (r->source == source && strcmp(r->path, path) == 0)),
	   "%s (rc %d source %d '%s'; want rc %d source %d '%s')", what, r->rc, r->source, r->path,
	   rc, source, rc < 0 ? "-" : path);
}

int main(int argc, char **argv)
{
	char lib_rel[PATH_MAX], link_rel[PATH_MAX], bin_rel[PATH_MAX], want[PATH_MAX];
	char installed[PATH_MAX + 32];
	struct result r;

	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return child(argc, argv);
	if (!*TG_BINDIR_REL || !*TG_LIBDIR_REL) {
		printf("1..0 # SKIP bindir or libdir configured outside the prefix: "
		       "no prefix-relative lookup to test\n");
		return 0;
	}
	snprintf(root, sizeof(root), "%s/tg-find-library.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	/* The library the configured libdir may hold: the fallback answer. */
	snprintf(installed, sizeof(installed), "%s/libtrainguard.so", TG_LIBDIR);
	int have_installed = access(installed, R_OK) == 0;
	char installed_real[PATH_MAX];
	if (!have_installed || !realpath(installed, installed_real))
		have_installed = 0;

	/* An install under a prefix: pfx/<bindir>/trainguard, pfx/<libdir>/trainguard/. */
	snprintf(bin_rel, sizeof(bin_rel), "pfx/%s", TG_BINDIR_REL);
	mkdirs(bin_rel);
	snprintf(bin_rel, sizeof(bin_rel), "pfx/%s/trainguard", TG_BINDIR_REL);
	install_self(bin_rel);
	snprintf(lib_rel, sizeof(lib_rel), "pfx/%s/trainguard", TG_LIBDIR_REL);
	mkdirs(lib_rel);
	snprintf(lib_rel, sizeof(lib_rel), "pfx/%s/trainguard/libtrainguard.so", TG_LIBDIR_REL);
	touch(lib_rel, "prefix\n");
	snprintf(want, sizeof(want), "%s", at(lib_rel));

	run(bin_rel, NULL, NULL, &r);
	expect(&r, 0, TG_LIB_PREFIX, want,
	       "an installed command finds <prefix>/<libdir>/trainguard/");
	ok(strstr(r.places, want) != NULL || strstr(r.places, at("pfx")) != NULL,
	   "the places for a message name the prefix's libdir (%s)", r.places);
	ok(strstr(r.places, TG_LIBDIR) != NULL, "the places name the configured libdir '%s' (%s)",
	   TG_LIBDIR, r.places);

	run(bin_rel, "", NULL, &r);
	expect(&r, 0, TG_LIB_PREFIX, want, "an empty TRAINGUARD_LIBRARY counts as unset");

	/* TRAINGUARD_LIBRARY wins, and a wrong one is an error, not a fallback. */
	mkdirs("elsewhere");
	touch("elsewhere/libtrainguard.so", "env\n");
	char env_lib[PATH_MAX];
	snprintf(env_lib, sizeof(env_lib), "%s", at("elsewhere/libtrainguard.so"));
	run(bin_rel, env_lib, NULL, &r);
	expect(&r, 0, TG_LIB_ENV, env_lib, "TRAINGUARD_LIBRARY comes first");
	char missing[PATH_MAX + 16];
	snprintf(missing, sizeof(missing), "%s/missing.so", root);
	run(bin_rel, missing, NULL, &r);
	ok(r.rc == -EINVAL && strcmp(r.path, "untouched") == 0,
	   "a TRAINGUARD_LIBRARY naming no file is -EINVAL, nothing written (rc %d '%s')", r.rc,
	   r.path);
	run(bin_rel, at("elsewhere"), NULL, &r);
	ok(r.rc == -EINVAL, "a TRAINGUARD_LIBRARY naming a folder is -EINVAL (rc %d)", r.rc);

	/* A link to the command (e.g. /usr/local/bin/trainguard -> an install in
	 * /opt) finds the library of the install it points to, not of the link's
	 * folder. */
	snprintf(link_rel, sizeof(link_rel), "links/%s", TG_BINDIR_REL);
	mkdirs(link_rel);
	char decoy[PATH_MAX];
	snprintf(decoy, sizeof(decoy), "links/%s/trainguard", TG_LIBDIR_REL);
	mkdirs(decoy);
	snprintf(decoy, sizeof(decoy), "links/%s/trainguard/libtrainguard.so", TG_LIBDIR_REL);
	touch(decoy, "decoy\n");
	snprintf(link_rel, sizeof(link_rel), "%s/links/%s/trainguard", root, TG_BINDIR_REL);
	char target[PATH_MAX + 16];
	snprintf(target, sizeof(target), "%s/%s", root, bin_rel);
	ok(symlink(target, link_rel) == 0, "made a link to the installed command");
	snprintf(link_rel, sizeof(link_rel), "links/%s/trainguard", TG_BINDIR_REL);
	run(link_rel, NULL, NULL, &r);
	expect(&r, 0, TG_LIB_PREFIX, want, "a link to the command finds the library of its target");

	/* Too small a buffer: -ENAMETOOLONG, nothing written. */
	run(bin_rel, NULL, "8", &r);
	ok(r.rc == -ENAMETOOLONG && strcmp(r.path, "untouched") == 0,
	   "a path longer than CAP is -ENAMETOOLONG (rc %d '%s')", r.rc, r.path);

	/* A meson build folder: build/cli/trainguard beside build/preload/. */
	mkdirs("build/cli");
	mkdirs("build/preload");
	install_self("build/cli/trainguard");
	touch("build/preload/libtrainguard.so", "build\n");
	snprintf(want, sizeof(want), "%s", at("build/preload/libtrainguard.so"));
	run("build/cli/trainguard", NULL, NULL, &r);
	expect(&r, 0, TG_LIB_BUILD_TREE, want, "the build folder's command finds ../preload/");

	/* The prefix without its library, and a command outside any bindir: the
	 * configured libdir or nothing. */
	unlink(at(lib_rel));
	run(bin_rel, NULL, NULL, &r);
	if (have_installed)
		expect(&r, 0, TG_LIB_LIBDIR, installed_real,
		       "a prefix without the library falls back to the configured libdir");
	else
		expect(&r, -ENOENT, 0, "", "a prefix without the library, none installed: -ENOENT");
	mkdirs("flat");
	touch("flat/libtrainguard.so", "flat\n");
	install_self("flat/trainguard");
	run("flat/trainguard", NULL, NULL, &r);
	if (have_installed)
		expect(&r, 0, TG_LIB_LIBDIR, installed_real,
		       "a command outside a bindir does not take a library beside itself");
	else
		expect(&r, -ENOENT, 0, "",
		       "a command outside a bindir does not take a library beside itself");

	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	printf("1..%u\n", n_test);
	return n_failed ? 1 : 0;
}
