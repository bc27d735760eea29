/* Golden decision tables for the policy engine: every statement of
 * POLICY.md's "Which classes one call asks for" and "Which rule decides",
 * create_mode masks, canonicalized prefixes, frozen variables, and a
 * 10,000-rule policy. Speaks TAP. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tg-policy.h"

static char tmpdir[] = "/tmp/tg-unit-XXXXXX";

static void diag(enum tg_diag_level lvl, const char *msg, void *ud)
{
	if (ud)
		printf("# %s: %s\n", lvl == TG_DIAG_ERROR ? "error" : "warning", msg);
}

/* Writes TEXT to a file and loads it; NULL when it does not load. */
static struct tg_policy *load_text(const char *text, const char *frozen)
{
	static int seq;
	char path[256];
	struct tg_policy *p = NULL;

	snprintf(path, sizeof(path), "%s/p%d.cfg", tmpdir, seq++);
	FILE *f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	struct tg_load_opts o = { .path = path,
				  .frozen_vars = frozen,
				  .job_id = "job-1",
				  .diag = diag,
				  .diag_ud = (void *)1 };
	if (tg_policy_load(&o, &p) < 0)
		return NULL;
	return p;
}

struct row {
	const char *cls; /* class name */
	const char *path;
	const char *expect; /* "allow" or "deny" */
	const char *rule;   /* deciding rule id, or "default:CLASS" */
	int err;            /* errno for a deny */
};

static int class_of(const char *name)
{
	for (unsigned c = 0; c < TG_NCLASS; c++)
		if (strcmp(tg_class_name(c), name) == 0)
			return c;
	return -1;
}

static void table(const char *title, struct tg_policy *p, const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		struct tg_verdict v;
		char want_rule[64], got_rule[64];
		int c = class_of(r->cls);

		if (!p || c < 0) {
			ok(0, "%s: %s %s (policy did not load)", title, r->cls, r->path);
			continue;
		}
		tg_decide(p, r->path, strlen(r->path), TG_BIT(c), &v);
		snprintf(want_rule, sizeof(want_rule), "%s", r->rule);
		snprintf(got_rule, sizeof(got_rule), "%s%s",
			 v.rule ? v.rule->id : "default:", v.rule ? "" : r->cls);
		bool allow = strcmp(r->expect, "allow") == 0;
		bool good = v.allow == allow && strcmp(want_rule, got_rule) == 0 &&
			    (allow || v.err == r->err);
		ok(good, "%s: %s %s -> %s by %s (got %s by %s, errno %d)", title, r->cls, r->path,
		   r->expect, r->rule, v.allow ? "allow" : "deny", got_rule, v.err);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const precedence =
	"version = 1;\n"
	"defaults = { read = \"allow\"; write = \"deny\"; create = \"deny\"; delete = \"deny\";\n"
	"             exec = \"allow\"; chmod = \"deny\"; list = \"allow\"; };\n"
	"rules = (\n"
	"  { id = \"x-any\"; path = \"/x/**\"; allow = [\"write\", \"create\"]; },\n"
	"  { id = \"x-y\"; path = \"/x/y/**\"; deny = [\"write\"]; errno = \"EROFS\"; },\n"
	"  { id = \"x-y-exact\"; path = \"/x/y\"; allow = [\"write\"]; },\n"
	"  { id = \"x-y-z-star\"; path = \"/x/y/z*\"; allow = [\"write\"]; },\n"
	"  { id = \"tie-allow\"; path = \"/t/**\"; allow = [\"read\"]; },\n"
	"  { id = \"tie-deny\"; path = \"/t/**\"; deny = [\"read\"]; errno = \"EPERM\"; },\n"
	"  { id = \"b-error\"; path = \"/k/**\"; deny = [\"read\"]; },\n"
	"  { id = \"a-quiet\"; path = \"/k/**\"; deny = [\"read\"]; on_deny = \"quiet\"; },\n"
	"  { id = \"c-kill\"; path = \"/k2/**\"; deny = [\"read\"]; on_deny = \"kill\"; },\n"
	"  { id = \"a-error\"; path = \"/k2/**\"; deny = [\"read\"]; errno = \"ENOENT\"; },\n"
	"  { id = \"z-err\"; path = \"/k3/**\"; deny = [\"read\"]; errno = \"EPERM\"; },\n"
	"  { id = \"y-err\"; path = \"/k3/**\"; deny = [\"read\"]; errno = \"EROFS\"; },\n"
	"  { id = \"cache\"; path = \"/home/u/.cache/**\"; deny = [\"read\", \"write\"]; },\n"
	"  { id = \"torch\"; path = \"/home/u/.cache/torch/**\"; allow = [\"read\", \"write\"]; },\n"
	"  { id = \"only-write\"; path = \"/w/**\"; allow = [\"write\"]; },\n"
	"  { id = \"brace\"; path = \"/b/{one,two}/*.pt\"; allow = [\"create\"]; },\n"
	"  { id = \"dot\"; path = \"/h/**\"; deny = [\"read\"]; },\n"
	"  { id = \"everything\"; path = \"/**\"; allow = [\"delete\"]; }\n"
	");\n";

static const struct row precedence_rows[] = {
	/* 1. the most specific matching rule that names the class decides */
	{ "write", "/x/a", "allow", "x-any", 0 },
	{ "write", "/x/y/a", "deny", "x-y", EROFS },
	/* a trailing slash-star-star counts as wildcard with its slash: the
	 * rules x-y and x-y-exact share the prefix "/x/y"; fewer wildcards wins */
	{ "write", "/x/y", "allow", "x-y-exact", 0 },
	/* "/x/y/z*" has the longer prefix "/x/y/z" */
	{ "write", "/x/y/zz", "allow", "x-y-z-star", 0 },
	{ "write", "/x/yz", "allow", "x-any", 0 },
	/* a pattern ending in slash-star-star matches its folder itself */
	{ "create", "/x", "allow", "x-any", 0 },
	/* 2. tied and in conflict: deny wins */
	{ "read", "/t/f", "deny", "tie-deny", EPERM },
	/* tied denies: the stronger on_deny, then the smaller id */
	{ "read", "/k/f", "deny", "b-error", EACCES },
	{ "read", "/k2/f", "deny", "c-kill", EACCES },
	{ "read", "/k3/f", "deny", "y-err", EROFS },
	/* 3. no rule names the class: defaults.C */
	{ "chmod", "/x/a", "deny", "default:chmod", EACCES },
	/* a pattern of slash-star-star alone matches every path */
	{ "delete", "/x/a", "allow", "everything", 0 },
	{ "read", "/w/f", "allow", "default:read", 0 },
	{ "exec", "/x/y/a", "allow", "default:exec", 0 },
	{ "write", "/elsewhere", "deny", "default:write", EACCES },
	/* 4. an allow hole in a deny, and the reverse */
	{ "read", "/home/u/.cache/torch/hub/m.pt", "allow", "torch", 0 },
	{ "read", "/home/u/.cache/pip/x", "deny", "cache", EACCES },
	/* braces expand; the specificity is the written pattern's */
	{ "create", "/b/one/m.pt", "allow", "brace", 0 },
	{ "create", "/b/two/m.pt", "allow", "brace", 0 },
	{ "create", "/b/three/m.pt", "deny", "default:create", EACCES },
	/* dot-files are matched by wildcards */
	{ "read", "/h/.ssh/id_rsa", "deny", "dot", EACCES },
};

/* The same rules in reverse order must decide the same way. */
static char *reverse_rules(const char *text)
{
	const char *start = strstr(text, "rules = (\n") + strlen("rules = (\n");
	const char *end = strstr(text, ");\n");
	char *lines[64];
	size_t n = 0;
	char *body = strndup(start, end - start);
	for (char *l = strtok(body, "\n"); l && n < 64; l = strtok(NULL, "\n"))
		lines[n++] = l;
	char *out = malloc(strlen(text) + 64);
	size_t o = start - text;
	memcpy(out, text, o);
	for (size_t i = n; i-- > 0;) {
		size_t len = strlen(lines[i]);
		if (lines[i][len - 1] == ',')
			len--;
		memcpy(out + o, lines[i], len);
		o += len;
		out[o++] = i ? ',' : ' ';
		out[o++] = '\n';
	}
	strcpy(out + o, end);
	free(body);
	return out;
}

static void test_open_classes(void)
{
	static const struct {
		int flags;
		unsigned want;
		const char *what;
	} t[] = {
		{ O_RDONLY, TG_BIT(TG_READ), "O_RDONLY asks read" },
		{ O_WRONLY, TG_BIT(TG_WRITE), "O_WRONLY asks write" },
		{ O_RDWR, TG_BIT(TG_READ) | TG_BIT(TG_WRITE), "O_RDWR asks read and write" },
		{ O_RDONLY | O_TRUNC, TG_BIT(TG_READ) | TG_BIT(TG_WRITE), "O_TRUNC asks write" },
		{ O_WRONLY | O_APPEND, TG_BIT(TG_WRITE), "O_APPEND asks write" },
		{ O_WRONLY | O_CREAT, TG_BIT(TG_WRITE) | TG_BIT(TG_CREATE),
		  "O_CREAT asks create and write" },
		{ O_WRONLY | O_CREAT | O_EXCL, TG_BIT(TG_WRITE) | TG_BIT(TG_CREATE),
		  "O_WRONLY|O_CREAT|O_EXCL still asks write for O_WRONLY" },
		{ O_RDONLY | O_CREAT | O_EXCL, TG_BIT(TG_READ) | TG_BIT(TG_CREATE),
		  "O_CREAT|O_EXCL asks create, not write" },
		{ O_RDONLY | O_DIRECTORY, TG_BIT(TG_LIST), "O_DIRECTORY asks list" },
		{ O_PATH, 0, "O_PATH asks nothing" },
		{ O_TMPFILE | O_RDWR, TG_BIT(TG_CREATE) | TG_BIT(TG_WRITE),
		  "O_TMPFILE asks create and write" },
	};
	for (size_t i = 0; i < N(t); i++) {
		char got[64], want[64];
		unsigned g = tg_open_classes(t[i].flags);
		ok(g == t[i].want, "%s (got %s, want %s)", t[i].what,
		   tg_classes_str(g, got, sizeof(got)),
		   tg_classes_str(t[i].want, want, sizeof(want)));
	}
}

static void test_create_mode(void)
{
	struct tg_policy *p = load_text(
		"version = 1;\n"
		"rules = (\n"
		"  { id = \"ckpt\"; path = \"/ckpt/**\"; allow = [\"create\", \"write\"]; "
		"create_mode = \"0640\"; },\n"
		"  { id = \"tmp\"; path = \"/tmp/**\"; allow = [\"create\"]; deny = [\"exec\"]; "
		"create_mode = \"0600\"; },\n"
		"  { id = \"nomask\"; path = \"/free/**\"; allow = [\"create\"]; }\n"
		");\n",
		NULL);
	struct tg_verdict v;
	unsigned cw = TG_BIT(TG_CREATE) | TG_BIT(TG_WRITE);

	ok(p != NULL, "create_mode policy loads");
	if (!p)
		return;
	tg_decide(p, "/ckpt/e1.pt", 11, cw, &v);
	ok(v.allow && v.create_mode == 0640, "create_mode 0640 reaches the verdict (got %o)",
	   v.create_mode);
	tg_decide(p, "/tmp/x", 6, cw, &v);
	ok(v.allow && v.create_mode == 0600, "create_mode 0600 for /tmp (got %o)", v.create_mode);
	tg_decide(p, "/free/x", 7, cw, &v);
	ok(v.allow && v.create_mode == -1, "no create_mode: -1 (got %d)", v.create_mode);
	tg_decide(p, "/ckpt/e1.pt", 11, TG_BIT(TG_WRITE), &v);
	ok(v.create_mode == -1, "create_mode only when create is asked");
	tg_decide(p, "/tmp/x", 6, TG_BIT(TG_EXEC), &v);
	ok(!v.allow && v.rule && strcmp(v.rule->id, "tmp") == 0, "exec from /tmp denied by tmp");
	tg_policy_free(p);
}

static void test_canonical(void)
{
	/* Debian: /var/run -> /run. Patterns are matched in real-path space,
	 * so the literal prefix is canonicalized at load, and the pattern as
	 * written keeps matching a lexical path. */
	char real[4096];
	if (!realpath("/var/run", real) || strcmp(real, "/run") != 0) {
		printf("ok %u # SKIP /var/run is not a symlink to /run here\n", ++n_test);
		return;
	}
	struct tg_policy *p = load_text(
		"version = 1;\n"
		"rules = ( { id = \"k8s\"; path = \"/var/run/secrets/**\"; deny = [\"read\"]; } );\n",
		NULL);
	struct tg_verdict v;
	ok(p != NULL, "canonicalization policy loads");
	if (!p)
		return;
	tg_decide(p, "/run/secrets/kubernetes.io/token", 32, TG_BIT(TG_READ), &v);
	ok(!v.allow, "/var/run/secrets/** denies /run/secrets/... (canonical)");
	tg_decide(p, "/var/run/secrets/kubernetes.io/token", 36, TG_BIT(TG_READ), &v);
	ok(!v.allow, "/var/run/secrets/** denies /var/run/secrets/... (as written)");
	tg_decide(p, "/run/other", 10, TG_BIT(TG_READ), &v);
	ok(v.allow, "/run/other is not covered");
	tg_policy_free(p);
}

/* Folders resolved one by one from the root (each remembered for the
 * load) must land where realpath lands: a relative link, a link inside a
 * folder reached through a link, an absolute link, a missing folder under
 * a link, and a file where a folder is expected. */
static void test_canonical_links(void)
{
	char path[4200], text[4096];
	char *t = realpath(tmpdir, NULL);
	if (!t) {
		printf("ok %u # SKIP cannot resolve the test folder\n", ++n_test);
		return;
	}
	const char *mk[] = { "real", "real/sub", "real/sub/deep", "other", "other/x" };
	for (size_t i = 0; i < sizeof(mk) / sizeof(mk[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t, mk[i]);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/lnk", t);
	ok(symlink("real", path) == 0, "relative link made");
	snprintf(path, sizeof(path), "%s/real/up", t);
	ok(symlink("../other", path) == 0, "link inside a linked folder made");
	snprintf(text, sizeof(text), "%s/real/sub", t);
	snprintf(path, sizeof(path), "%s/abs", t);
	ok(symlink(text, path) == 0, "absolute link made");
	snprintf(path, sizeof(path), "%s/file", t);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	snprintf(text, sizeof(text),
		 "version = 1;\n"
		 "rules = ( { id = \"a\"; path = \"%s/lnk/sub/**\"; deny = [\"read\"]; },\n"
		 "  { id = \"b\"; path = \"%s/lnk/up/x/*.pt\"; deny = [\"read\"]; },\n"
		 "  { id = \"c\"; path = \"%s/abs/deep/f\"; deny = [\"read\"]; },\n"
		 "  { id = \"d\"; path = \"%s/lnk/gone/y/z\"; deny = [\"read\"]; },\n"
		 "  { id = \"e\"; path = \"%s/file/x/**\"; deny = [\"read\"]; } );\n",
		 t, t, t, t, t);
	struct tg_policy *p = load_text(text, NULL);
	ok(p != NULL, "policy over links loads");
	if (!p) {
		free(t);
		return;
	}
	const struct {
		const char *rel, *rule;
	} rows[] = {
		{ "real/sub/q", "a" },     { "lnk/sub/q", "a" },       { "other/x/m.pt", "b" },
		{ "lnk/up/x/m.pt", "b" },  { "real/sub/deep/f", "c" }, { "abs/deep/f", "c" },
		{ "real/gone/y/z", "d" },  { "lnk/gone/y/z", "d" },    { "file/x/q", "e" },
		{ "other/x/m.ptx", NULL }, { "real/q", NULL },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tg_verdict v;
		int n = snprintf(path, sizeof(path), "%s/%s", t, rows[i].rel);
		tg_decide(p, path, (size_t)n, TG_BIT(TG_READ), &v);
		if (rows[i].rule)
			ok(!v.allow && v.rule && strcmp(v.rule->id, rows[i].rule) == 0,
			   "%s is denied by rule %s", rows[i].rel, rows[i].rule);
		else
			ok(v.allow, "%s is allowed", rows[i].rel);
	}
	tg_policy_free(p);
	free(t);
}

static void test_vars(void)
{
	const char *text =
		"version = 1;\n"
		"vars = { DATA = \"${ENV:TG_UNIT_DATA:-/default/data}\"; };\n"
		"rules = ( { id = \"d\"; path = \"${DATA}/**\"; deny = [\"write\"]; },\n"
		"          { id = \"h\"; path = \"~/.ssh/**\"; deny = [\"read\"]; },\n"
		"          { id = \"j\"; path = \"/ckpt/${JOB_ID}/**\"; allow = [\"write\"]; } );\n";
	struct tg_verdict v;

	setenv("TG_UNIT_DATA", "/env/data", 1);
	setenv("HOME", "/home/first", 1);
	struct tg_policy *p = load_text(text, NULL);
	ok(p != NULL, "variables policy loads");
	if (!p)
		return;
	tg_decide(p, "/env/data/x", 11, TG_BIT(TG_WRITE), &v);
	ok(!v.allow && v.rule, "${ENV:X:-d} takes the environment's value");
	tg_decide(p, "/home/first/.ssh/id_rsa", 23, TG_BIT(TG_READ), &v);
	ok(!v.allow, "~ expands to ${HOME}");
	tg_decide(p, "/ckpt/job-1/e.pt", 16, TG_BIT(TG_WRITE), &v);
	ok(v.allow && v.rule, "${JOB_ID} expands to the job id");

	/* A child with another environment gets the first process's values. */
	char *frozen = strdup(tg_policy_frozen_vars(p));
	tg_policy_free(p);
	setenv("TG_UNIT_DATA", "/other/data", 1);
	setenv("HOME", "/home/second", 1);
	p = load_text(text, frozen);
	ok(p != NULL, "the same policy loads from the frozen variables (%s)", frozen);
	if (p) {
		tg_decide(p, "/env/data/x", 11, TG_BIT(TG_WRITE), &v);
		ok(!v.allow && v.rule, "frozen: DATA is still /env/data");
		tg_decide(p, "/other/data/x", 13, TG_BIT(TG_WRITE), &v);
		ok(!v.rule, "frozen: the child's own TG_UNIT_DATA is not used");
		tg_decide(p, "/home/first/.ssh/id_rsa", 23, TG_BIT(TG_READ), &v);
		ok(!v.allow, "frozen: HOME is still the first process's");
		tg_policy_free(p);
	}
	unsetenv("TG_UNIT_DATA");
	p = load_text(text, NULL);
	if (p) {
		tg_decide(p, "/default/data/x", 15, TG_BIT(TG_WRITE), &v);
		ok(!v.allow && v.rule, "${ENV:X:-default} falls back to its default");
		tg_policy_free(p);
	} else {
		ok(0, "${ENV:X:-default} falls back to its default (did not load)");
	}
	free(frozen);
}

static void test_self_protection(void)
{
	struct tg_policy *p = load_text("version = 1;\n"
					"rules = ( { id = \"all\"; path = \"/**\"; "
					"allow = [\"all\"]; } );\n",
					NULL);
	struct tg_verdict v;
	char cfg[4096];

	ok(p != NULL, "allow-everything policy loads");
	if (!p)
		return;
	snprintf(cfg, sizeof(cfg), "%s", tg_policy_file(p, 0));
	tg_decide(p, cfg, strlen(cfg), TG_BIT(TG_WRITE), &v);
	ok(!v.allow && v.rule && strcmp(v.rule->id, TG_RULE_SELF) == 0,
	   "the policy file is never writable, even under allow all");
	tg_decide(p, cfg, strlen(cfg), TG_BIT(TG_DELETE), &v);
	ok(!v.allow, "the policy file is never deletable");
	tg_decide(p, cfg, strlen(cfg), TG_BIT(TG_READ), &v);
	ok(v.allow, "the policy file stays readable");
	snprintf(cfg, sizeof(cfg), "%s/planted.cfg", tmpdir);
	tg_decide(p, cfg, strlen(cfg), TG_BIT(TG_CREATE), &v);
	ok(!v.allow, "no profile can be planted beside the policy");
	const char *mine[] = { "/var/log/tg/job.jsonl", NULL };
	tg_policy_protect(p, mine, 2);
	tg_decide(p, "/var/log/tg/job.jsonl", 21, TG_BIT(TG_WRITE), &v);
	ok(!v.allow, "a protected log is never writable");
	tg_decide(p, "/var/log/tg/other", 17, TG_BIT(TG_WRITE), &v);
	ok(v.allow, "its neighbours are");
	tg_policy_free(p);
}

static void test_many_rules(void)
{
	size_t n = 10000, cap = n * 120 + 256;
	char *text = malloc(cap);
	size_t o = snprintf(text, cap, "version = 1;\nrules = (\n");
	for (size_t i = 0; i < n; i++)
		o += snprintf(text + o, cap - o,
			      "{ id = \"r%zu\"; path = \"/data/set%zu/**\"; %s = [\"read\"]; }%s\n",
			      i, i, i % 2 ? "allow" : "deny", i + 1 < n ? "," : "");
	snprintf(text + o, cap - o, ");\n");
	struct tg_policy *p = load_text(text, NULL);
	free(text);
	ok(p != NULL, "a 10,000-rule policy loads");
	if (!p)
		return;
	bool good = true;
	for (size_t i = 0; i < n; i += 997) {
		char path[64];
		struct tg_verdict v;
		int len = snprintf(path, sizeof(path), "/data/set%zu/shard", i);
		tg_decide(p, path, len, TG_BIT(TG_READ), &v);
		char want[32];
		snprintf(want, sizeof(want), "r%zu", i);
		good &= v.rule && strcmp(v.rule->id, want) == 0 && v.allow == (i % 2 == 1);
	}
	ok(good, "each of 10,000 rules decides its own folder");
	tg_policy_free(p);
}

/* One table per enum: every name a printer gives parses back to its value,
 * and the errno a rule may name is named alike by both functions. */
static void test_names(void)
{
	for (unsigned c = 0; c < TG_NCLASS; c++) {
		enum tg_class back = TG_NCLASS;
		ok(tg_class_name(c) && tg_class_parse(tg_class_name(c), &back) == 0 && back == c,
		   "class %u is named '%s' and parses back", c, tg_class_name(c));
	}
	enum tg_class cls;
	ok(tg_class_name(TG_NCLASS) == NULL && tg_class_parse("all", &cls) == -EINVAL,
	   "no class past the last; 'all' is a mask, not a class");
	for (enum tg_mode m = TG_ENFORCE; m <= TG_LEARN; m++) {
		enum tg_mode back = (enum tg_mode) - 1;
		ok(tg_mode_name(m) && tg_mode_parse(tg_mode_name(m), &back) == 0 && back == m,
		   "mode '%s' parses back", tg_mode_name(m));
	}
	for (enum tg_on_deny o = TG_ON_DENY_QUIET; o <= TG_ON_DENY_KILL; o++) {
		enum tg_on_deny back = (enum tg_on_deny) - 1;
		ok(tg_on_deny_name(o) && tg_on_deny_parse(tg_on_deny_name(o), &back) == 0 &&
			   back == o,
		   "on_deny '%s' parses back", tg_on_deny_name(o));
	}
	ok(tg_on_deny_name(TG_ON_DENY_KILL + 1) == NULL && tg_mode_name(TG_LEARN + 1) == NULL &&
		   tg_on_deny_parse("kil", &(enum tg_on_deny){ 0 }) == -EINVAL,
	   "out-of-range values have no name; a misspelling does not parse");
	static const int rule_errnos[] = { EACCES, EPERM, ENOENT, EROFS, EXDEV };
	for (size_t i = 0; i < N(rule_errnos); i++) {
		const char *n = tg_errno_name(rule_errnos[i]);
		const char *sym = tg_errno_symbol(rule_errnos[i]);
		ok(n && sym && strcmp(n, sym) == 0, "errno %d is '%s' for rules and records alike",
		   rule_errnos[i], n ? n : "(null)");
	}
	ok(tg_errno_name(EFAULT) == NULL && tg_errno_symbol(EFAULT) &&
		   strcmp(tg_errno_symbol(EFAULT), "EFAULT") == 0 && tg_errno_symbol(0) == NULL &&
		   tg_errno_symbol(-1) == NULL,
	   "a rule may not name EFAULT, a record may; 0 and negatives have no name");
	ok(strcmp(tg_verdict_name(true), "allow") == 0 &&
		   strcmp(tg_verdict_name(false), "deny") == 0,
	   "verdicts are named allow and deny");
}

/* tg_policy_rule_below against the scan it replaced (every alternative,
 * in order), on random policies: literal rules, trees, globs, allow-only
 * rules, over folders at every depth, the root, and names that share a
 * prefix with a rule's folder without being above it ("/d/ab" vs "/d/a"). */
static const struct tg_rule *rule_below_by_scan(const struct tg_policy *p, const char *path,
						size_t n)
{
	size_t at = n == 1 ? 0 : n;
	for (size_t i = 0; i < tg_policy_npatterns(p); i++) {
		struct tg_pattern_view pv;
		tg_policy_pattern(p, i, &pv);
		if (pv.rule && pv.rule->deny && pv.litlen > at + 1 &&
		    memcmp(pv.lit, path, at) == 0 && pv.lit[at] == '/')
			return pv.rule;
	}
	return NULL;
}

static void test_rule_below(void)
{
	static const char *names[] = { "a", "ab", "b", "a.b", "a-" };
	static const char *tails[] = { "", "/**", "/*.pt", "/x/**/*.{bin,pt}", "?" };
	unsigned seed = 12345, bad = 0, checked = 0, hits = 0;
	char *text = malloc(1 << 16);

	for (int round = 0; round < 20; round++) {
		size_t len = (size_t)sprintf(text, "version = 1;\nrules = (\n");
		int nrules = 1 + (int)(rand_r(&seed) % 40);
		for (int r = 0; r < nrules; r++) {
			char path[128] = "";
			int depth = 1 + (int)(rand_r(&seed) % 3);
			for (int k = 0; k < depth; k++) {
				strcat(path, "/");
				strcat(path, names[rand_r(&seed) % 5]);
			}
			bool allow = rand_r(&seed) % 4 == 0;
			len += (size_t)sprintf(
				text + len,
				"%s{ id = \"r%d\"; path = \"/d%s%s\"; %s = [\"%s\"]; }\n",
				r ? "," : "", r, path, tails[rand_r(&seed) % 5],
				allow ? "allow" : "deny", allow ? "read" : "write");
		}
		strcpy(text + len, ");\n");
		struct tg_policy *p = load_text(text, NULL);
		if (!p) {
			bad++;
			continue;
		}
		const char *folders[] = { "/",         "/d",     "/d/a",      "/d/ab",
					  "/d/a/a",    "/d/a/b", "/d/b/ab",   "/d/a.b",
					  "/d/a-/a.b", "/e",     "/d/a/ab/a", "/c" };
		for (size_t f = 0; f < sizeof(folders) / sizeof(folders[0]); f++) {
			size_t n = strlen(folders[f]);
			const struct tg_rule *want = rule_below_by_scan(p, folders[f], n);
			checked++;
			hits += want != NULL;
			if (tg_policy_rule_below(p, folders[f], n) != want) {
				bad++;
				tap_diag("round %d, %s: the scan says %s", round, folders[f],
					 want ? want->id : "none");
			}
		}
		tg_policy_free(p);
	}
	ok(bad == 0 && hits > 0 && hits < checked,
	   "the rule below a folder is the scan's on %u folders of 20 random policies (%u with one)",
	   checked, hits);
	free(text);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot create a temporary folder\n");
		return 1;
	}
	test_open_classes();
	test_names();

	struct tg_policy *p = load_text(precedence, NULL);
	ok(p != NULL, "the precedence policy loads");
	table("precedence", p, precedence_rows, N(precedence_rows));
	tg_policy_free(p);

	char *rev = reverse_rules(precedence);
	p = load_text(rev, NULL);
	ok(p != NULL, "the precedence policy loads with its rules reversed");
	table("reversed", p, precedence_rows, N(precedence_rows));
	tg_policy_free(p);
	free(rev);

	test_create_mode();
	test_canonical();
	test_canonical_links();
	test_rule_below();
	test_vars();
	test_self_protection();
	test_many_rules();

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	printf("1..%u\n", n_test);
	return n_failed ? 1 : 0;
}
