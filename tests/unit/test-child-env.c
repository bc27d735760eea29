/* The child environment (preload/child-env.c): what a child gets for the
 * environment it is given, table-driven. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child-env.h"
#include "tap.h"

#define LIB "/usr/lib/trainguard/libtrainguard.so"

static const struct tg_child_spec spec = {
	.entries = { "LD_PRELOAD=" LIB, "TRAINGUARD_POLICY=/etc/p.cfg", "TRAINGUARD_MODE=enforce" },
	.n = 3,
	.self_path = LIB,
};

/* ENV joined by '|', for comparing. */
static void join(char **env, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; env[i]; i++)
		o += snprintf(out + o, cap - o, "%s%s", i ? "|" : "", env[i]);
}

struct env_case {
	const char *name;
	char *in[6];
	const char *want;
};

static const struct env_case cases[] = {
	{ "empty environment: the saved values",
	  { NULL },
	  "LD_PRELOAD=" LIB "|TRAINGUARD_POLICY=/etc/p.cfg|TRAINGUARD_MODE=enforce" },
	{ "the program's own variables kept, in order",
	  { "A=1", "B=2", NULL },
	  "A=1|B=2|LD_PRELOAD=" LIB "|TRAINGUARD_POLICY=/etc/p.cfg|TRAINGUARD_MODE=enforce" },
	{ "a weaker mode and another policy replaced",
	  { "TRAINGUARD_MODE=audit", "X=y", "TRAINGUARD_POLICY=/tmp/open.cfg", NULL },
	  "X=y|LD_PRELOAD=" LIB "|TRAINGUARD_POLICY=/etc/p.cfg|TRAINGUARD_MODE=enforce" },
	{ "any other TRAINGUARD_ variable dropped",
	  { "TRAINGUARD_ON_ERROR=allow", NULL },
	  "LD_PRELOAD=" LIB "|TRAINGUARD_POLICY=/etc/p.cfg|TRAINGUARD_MODE=enforce" },
	{ "LD_PRELOAD without the guard replaced",
	  { "LD_PRELOAD=/tmp/evil.so", NULL },
	  "LD_PRELOAD=" LIB "|TRAINGUARD_POLICY=/etc/p.cfg|TRAINGUARD_MODE=enforce" },
	{ "LD_PRELOAD adding a library after the guard kept",
	  { "LD_PRELOAD=" LIB ":/opt/other.so", NULL },
	  "LD_PRELOAD=" LIB ":/opt/other.so|TRAINGUARD_POLICY=/etc/p.cfg|TRAINGUARD_MODE=enforce" },
	{ "a library put before the guard moves after it",
	  { "LD_PRELOAD=/tmp/evil.so:" LIB, NULL },
	  "LD_PRELOAD=" LIB ":/tmp/evil.so:" LIB
	  "|TRAINGUARD_POLICY=/etc/p.cfg|TRAINGUARD_MODE=enforce" },
	{ "a library whose name only contains the guard's is no guard",
	  { "LD_PRELOAD=" LIB ".bak", NULL },
	  "LD_PRELOAD=" LIB "|TRAINGUARD_POLICY=/etc/p.cfg|TRAINGUARD_MODE=enforce" },
};

static void test_cases(void)
{
	char *buf[16], got[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct env_case *c = &cases[i];
		char pre[TG_CHILD_PRELOAD_MAX];
		int r = tg_child_env(&spec, (char *const *)c->in, buf, 16, pre, sizeof(pre));
		join(buf, got, sizeof(got));
		ok(r == 0 && strcmp(got, c->want) == 0, "%s (got '%s')", c->name, got);
	}
}

static void test_sizes(void)
{
	char *in[] = { "A=1", "B=2", NULL }, *buf[8], pre[TG_CHILD_PRELOAD_MAX];

	ok(tg_child_env_size(&spec, in) == 2 + 3 + 1 + 1 + 1,
	   "size: entries, saved values, the handoff, one appended entry, NULL");
	ok(tg_child_env_size(&spec, NULL) == 3 + 1 + 1 + 1, "size of a NULL environment");
	ok(tg_child_env(&spec, in, buf, 7, pre, sizeof(pre)) == -ENOBUFS,
	   "a buffer one short is refused");
	ok(tg_child_env(&spec, in, buf, 8, pre, sizeof(pre)) == 0 && buf[5] == NULL,
	   "an exact buffer is enough");
	tg_child_env_append(buf, "TRAINGUARD_CHAIN=x");
	ok(strcmp(buf[5], "TRAINGUARD_CHAIN=x") == 0 && buf[6] == NULL,
	   "the appended entry fits the exact buffer, NULL after it");

	struct tg_child_spec none = { .n = 0 };
	ok(tg_child_env(&none, in, buf, 8, pre, sizeof(pre)) == 0 && buf[0] == in[0] &&
		   buf[1] == in[1] && !buf[2],
	   "not started: the environment as given");
}

/* The handoff entry goes to a child only while its descriptor holds the
 * file it held at start: not once the program closed it or put a file of
 * its own at that number. */
static void test_handoff(void)
{
	char *in[] = { "A=1", NULL }, *buf[16], pre[TG_CHILD_PRELOAD_MAX], got[1024];
	struct tg_child_spec h = spec;
	struct stat st;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		ok(0, "handoff: /dev/null opens");
		return;
	}
	h.handoff = "TRAINGUARD_HANDOFF=7";
	h.handoff_fd = fd;
	h.handoff_dev = st.st_dev;
	h.handoff_ino = st.st_ino;
	tg_child_env(&h, in, buf, 16, pre, sizeof(pre));
	join(buf, got, sizeof(got));
	ok(strstr(got, "|TRAINGUARD_HANDOFF=7") != NULL, "handoff: given while the file is there");
	h.handoff_ino++;
	tg_child_env(&h, in, buf, 16, pre, sizeof(pre));
	join(buf, got, sizeof(got));
	ok(!strstr(got, "HANDOFF"), "handoff: another file at the number: not given");
	h.handoff_ino--;
	close(fd);
	tg_child_env(&h, in, buf, 16, pre, sizeof(pre));
	join(buf, got, sizeof(got));
	ok(!strstr(got, "HANDOFF"), "handoff: closed: not given");
	char *forged[] = { "TRAINGUARD_HANDOFF=7", NULL };
	tg_child_env(&h, forged, buf, 16, pre, sizeof(pre));
	join(buf, got, sizeof(got));
	ok(!strstr(got, "HANDOFF"), "handoff: the program's own value is dropped");
}

static void test_keeps_guard(void)
{
	ok(tg_child_env_keeps_guard(LIB, "LD_PRELOAD=" LIB), "keeps: the guard alone");
	ok(tg_child_env_keeps_guard(LIB, "LD_PRELOAD=/a.so " LIB " /b.so"), "keeps: spaces");
	ok(!tg_child_env_keeps_guard(LIB, "LD_PRELOAD=/x" LIB), "keeps: not a suffix of another");
	ok(!tg_child_env_keeps_guard(LIB, "PATH=" LIB), "keeps: only LD_PRELOAD");
	ok(!tg_child_env_keeps_guard(NULL, "LD_PRELOAD=" LIB), "keeps: no library known");
}

/* A parent that had ASan first keeps it first in its children, and a
 * list too long to rebuild falls back to the parent's. */
static void test_preload_order(void)
{
	static const struct tg_child_spec asan = {
		.entries = { "LD_PRELOAD=/opt/asan.so:" LIB },
		.n = 1,
		.self_path = LIB,
	};
	char pre[TG_CHILD_PRELOAD_MAX], small[8];
	const char *p;

	ok(tg_child_preload(&asan, "/opt/asan.so:" LIB ":/opt/x.so", pre, sizeof(pre)) == NULL,
	   "preload: the parent's head kept, a library after it too");
	p = tg_child_preload(&asan, LIB, pre, sizeof(pre));
	ok(p && strcmp(p, "LD_PRELOAD=/opt/asan.so:" LIB ":" LIB) == 0,
	   "preload: a list that dropped ASan gets the parent's head back (got '%s')", p);
	p = tg_child_preload(&spec, "/tmp/evil.so:" LIB, small, sizeof(small));
	ok(p && strcmp(p, "LD_PRELOAD=" LIB) == 0, "preload: no room: the parent's entry alone");
	p = tg_child_preload(&spec, "/tmp/evil.so", pre, sizeof(pre));
	ok(p && strcmp(p, "LD_PRELOAD=" LIB) == 0,
	   "preload: a list without the guard: the parent's");
}

static void test_restore(void)
{
	setenv("TRAINGUARD_ON_ERROR", "allow", 1);
	setenv("TRAINGUARD_LOG", "/nonexistent/log", 1);
	setenv("TRAINGUARD_MODE", "audit", 1);
	unsetenv("TRAINGUARD_POLICY");
	setenv("LD_PRELOAD", "/opt/asan.so:" LIB, 1);
	tg_restore_environ(&spec);
	ok(strcmp(getenv("TRAINGUARD_MODE"), "enforce") == 0, "restore: the mode put back");
	ok(getenv("TRAINGUARD_POLICY") && strcmp(getenv("TRAINGUARD_POLICY"), "/etc/p.cfg") == 0,
	   "restore: the policy put back");
	ok(strcmp(getenv("LD_PRELOAD"), LIB ":/opt/asan.so:" LIB) == 0,
	   "restore: a library put before the guard moves after it (got '%s')",
	   getenv("LD_PRELOAD"));
	ok(!getenv("TRAINGUARD_ON_ERROR") && !getenv("TRAINGUARD_LOG"),
	   "restore: TRAINGUARD_ variables the parent did not have are removed");
	setenv("LD_PRELOAD", LIB ":/opt/other.so", 1);
	tg_restore_environ(&spec);
	ok(strcmp(getenv("LD_PRELOAD"), LIB ":/opt/other.so") == 0,
	   "restore: a library after the guard is left alone");
}

int main(void)
{
	test_cases();
	test_sizes();
	test_handoff();
	test_keeps_guard();
	test_preload_order();
	test_restore();
	printf("1..%u\n", n_test);
	return n_failed ? 1 : 0;
}
