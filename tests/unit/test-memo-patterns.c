/* The memo against the walk on the pattern rules users write: generated
 * policies of extension rules ("<folder>/<**>/<*>.{bin,tfrecord}"),
 * "<**>/config.{json,yaml}", character classes, '?', "<**>" in the middle,
 * name trees (".git" anywhere) and plain trees, with random classes,
 * errnos and on_deny; thousands of generated paths decided with the memo
 * (warmed by their neighbours, in two orders) and without it must get the
 * same verdict, rule and pattern included. Then the memo must answer the
 * folders such rules cover, whichever basename rule names the entry, and
 * its cost must not grow with the basename rules that share the folder.
 * Speaks TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy-internal.h"
#include "tap.h"

static void diag(enum tg_diag_level lvl, const char *msg, void *ud)
{
	(void)ud;
	if (lvl == TG_DIAG_ERROR)
		printf("# error: %s\n", msg);
}

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static unsigned next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}
#define PICK(a) (a[next() % (sizeof(a) / sizeof(a[0]))])

static const char *const folders[] = { "/data", "/data/train", "/ckpt", "/srv/job", "/home/u" };
static const char *const shapes[] = {
	"%s/**/*.%s",
	"%s/**/*.{%s,%s}",
	"/**/*.{%s,%s,%s}",
	"/**/config.{json,yaml}",
	"%s/**/shard-[0-9]?.idx",
	"%s/*/x?.%s",
	"%s/**/sub/**/*.%s",
	"/**/.git/**",
	"%s/**",
	"%s/sub/*.%s",
	"%s/[a-c]*/**",
	"%s/**/*[!0-9].%s",
	"/**/m?del*.%s",
	"%s/*.%s",
	"%s/**/data/**",
};
static const char *const exts[] = { "pt", "ckpt", "safetensors", "bin", "tfrecord", "json", "idx" };
static const char *const classes[] = { "read", "write", "create", "delete", "list" };
static const char *const errnos[] = { "EACCES", "EROFS", "EPERM" };
static const char *const on_deny[] = { "error", "quiet", "kill" };

/* The shapes are formats chosen at random. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* NRULES generated rules into a policy text. */
static char *gen_policy(unsigned nrules)
{
	size_t cap = 256 + nrules * 320, n = 0;
	char *s = malloc(cap);

	n += snprintf(s + n, cap - n,
		      "version = 1;\n"
		      "defaults = { read = \"allow\"; list = \"allow\"; write = \"deny\"; "
		      "create = \"deny\"; delete = \"allow\"; };\n"
		      "rules = (\n");
	for (unsigned r = 0; r < nrules; r++) {
		const char *shape = PICK(shapes);
		char pat[256];
		if (!shape) /* never: it tells the compiler the format is there */
			continue;
		snprintf(pat, sizeof(pat), shape, PICK(folders), PICK(exts), PICK(exts),
			 PICK(exts));
		/* A shape without a folder takes the extensions alone. */
		if (strncmp(shape, "/**/", 4) == 0)
			snprintf(pat, sizeof(pat), shape, PICK(exts), PICK(exts), PICK(exts));
		unsigned allow = next() & 31, deny = next() & 31 & ~allow;
		if (!allow && !deny)
			allow = 1;
		n += snprintf(s + n, cap - n, "  { id = \"r%03u\"; path = \"%s\";", r, pat);
		for (int d = 0; d < 2; d++) {
			unsigned m = d ? deny : allow;
			if (!m)
				continue;
			n += snprintf(s + n, cap - n, " %s = [", d ? "deny" : "allow");
			const char *sep = "";
			for (unsigned c = 0; c < 5; c++)
				if (m & (1u << c)) {
					n += snprintf(s + n, cap - n, "%s\"%s\"", sep, classes[c]);
					sep = ", ";
				}
			n += snprintf(s + n, cap - n, "];");
		}
		if (deny && next() % 3 == 0)
			n += snprintf(s + n, cap - n, " errno = \"%s\";", PICK(errnos));
		if (deny && next() % 4 == 0)
			n += snprintf(s + n, cap - n, " on_deny = \"%s\";", PICK(on_deny));
		n += snprintf(s + n, cap - n, " }%s\n", r + 1 < nrules ? "," : "");
	}
	snprintf(s + n, cap - n, ");\n");
	return s;
}

static struct tg_policy *load(const char *text)
{
	char path[] = "/tmp/tg-memo-pat-XXXXXX";
	int fd = mkstemp(path);
	struct tg_policy *p = NULL;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("Bail out! cannot write the policy\n");
		exit(1);
	}
	close(fd);
	struct tg_load_opts o = { .path = path, .job_id = "memo", .diag = diag };
	int r = tg_policy_load(&o, &p);
	unlink(path);
	return r < 0 ? NULL : p;
}

static const char *const dirnames[] = { "data", "train", "ckpt", "srv",   "job",  "home", "u",
					"sub",  "a",     "b",    "cls-1", ".git", "x" };
static const char *const basenames[] = {
	"x.pt",         "y.ckpt",          "m.safetensors", "config.json", "config.yaml",
	"shard-01.idx", "shard-9a.idx",    "shard-x1.idx",  "f.bin",       "g.tfrecord",
	"x1.bin",       "x1.pt",           "readme",        "x.pt.bak",    "model.pt",
	"mxdel.bin",    "a.json",          "b7.idx",        ".git",        "sub",
	"data",         "config.json.tmp", "9.bin",         "xa.ckpt",
};

#define NPATHS 1500
static char *paths[NPATHS];
static size_t lens[NPATHS];
static const unsigned sets[] = {
	TG_BIT(TG_READ),
	TG_BIT(TG_WRITE),
	TG_BIT(TG_CREATE) | TG_BIT(TG_WRITE),
	TG_BIT(TG_DELETE),
	TG_BIT(TG_READ) | TG_BIT(TG_LIST),
};
#define NSETS (sizeof(sets) / sizeof(sets[0]))

static bool same(const struct tg_verdict *a, const struct tg_verdict *b)
{
	return a->allow == b->allow && a->cls == b->cls && a->rule == b->rule &&
	       a->pattern == b->pattern && a->err == b->err && a->on_deny == b->on_deny &&
	       a->audit == b->audit && a->create_mode == b->create_mode && a->denied == b->denied;
}

static void reference(struct tg_policy *p, const char *path, size_t len, unsigned c,
		      struct tg_verdict *v)
{
	struct tg_memo *m = p->memo;
	p->memo = NULL;
	tg_decide(p, path, len, c, v);
	p->memo = m;
}

static void gen_paths(void)
{
	for (size_t i = 0; i < NPATHS; i++) {
		char buf[256];
		size_t n = 0;
		unsigned depth = next() % 5;
		if (next() % 2)
			n += snprintf(buf, sizeof(buf), "%s", PICK(folders));
		for (unsigned d = 0; d < depth; d++)
			n += snprintf(buf + n, sizeof(buf) - n, "/%s", PICK(dirnames));
		n += snprintf(buf + n, sizeof(buf) - n, "/%s", PICK(basenames));
		free(paths[i]);
		paths[i] = strdup(buf);
		lens[i] = n;
	}
}

/* One generated policy of NRULES rules against the generated paths:
 * returns the verdicts that differ, and counts the memo's answers. */
static size_t differ(struct tg_policy *p, size_t *ret_hits)
{
	static struct tg_verdict want[NPATHS][NSETS];
	size_t wrong = 0, hits = 0;

	for (size_t i = 0; i < NPATHS; i++)
		for (size_t c = 0; c < NSETS; c++)
			reference(p, paths[i], lens[i], sets[c], &want[i][c]);
	for (int round = 0; round < 2; round++) {
		tg_memo_clear(p->memo);
		for (size_t k = 0; k < 2 * NPATHS; k++) {
			size_t i = round == 0 ? k % NPATHS : next() % NPATHS;
			for (size_t c = 0; c < NSETS; c++) {
				struct tg_verdict v;
				if (tg_decide_memo(p, paths[i], lens[i], sets[c], &v)) {
					hits++;
					if (!same(&v, &want[i][c])) {
						wrong++;
						tap_diag("memo: %s class set %zu: rule %s, want %s",
							 paths[i], c, v.rule ? v.rule->id : "-",
							 want[i][c].rule ? want[i][c].rule->id
									 : "-");
					}
				}
				tg_decide(p, paths[i], lens[i], sets[c], &v);
				wrong += !same(&v, &want[i][c]);
			}
		}
	}
	*ret_hits = hits;
	return wrong;
}

static void test_generated(void)
{
	static const unsigned sizes[] = { 8, 30, 30, 120, 400 };
	size_t wrong = 0, hits = 0, asked = 0, loaded = 0;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		for (int rep = 0; rep < 3; rep++) {
			char *text = gen_policy(sizes[k]);
			struct tg_policy *p = load(text);
			free(text);
			if (!p)
				continue;
			loaded++;
			gen_paths();
			size_t h;
			wrong += differ(p, &h);
			hits += h;
			asked += 4 * NPATHS * NSETS;
			tg_policy_free(p);
		}
	ok(loaded == 15, "15 generated pattern policies load (%zu did)", loaded);
	ok(wrong == 0,
	   "%zu decisions with and without the memo: the same verdicts, rules and "
	   "patterns (%zu differ)",
	   asked, wrong);
	ok(hits > asked / 20, "the memo answers a share of them (%zu of %zu)", hits, asked);
	for (size_t i = 0; i < NPATHS; i++)
		free(paths[i]);
}

/* The policy of a job that writes extension rules, and the folders they
 * cover: each must come from the memo, whichever rule names the file. */
static void test_covered(void)
{
	static const char text[] =
		"version = 1;\n"
		"defaults = { read = \"allow\"; write = \"deny\"; create = \"deny\"; delete = \"deny\"; };\n"
		"rules = (\n"
		"  { id = \"data\"; path = \"/data/**\"; allow = [\"read\"]; deny = [\"write\"]; },\n"
		"  { id = \"shards\"; path = \"/data/**/*.{bin,tfrecord}\"; allow = [\"read\"];\n"
		"    deny = [\"write\", \"delete\"]; errno = \"EROFS\"; },\n"
		"  { id = \"ckpt\"; path = \"/**/*.{pt,ckpt,safetensors}\"; deny = [\"delete\"]; },\n"
		"  { id = \"cfg\"; path = \"/**/config.{json,yaml}\"; deny = [\"write\"]; },\n"
		"  { id = \"idx\"; path = \"/data/**/shard-[0-9]?.idx\"; deny = [\"read\"]; },\n"
		"  { id = \"git\"; path = \"/**/.git/**\"; deny = [\"write\"]; }\n"
		");\n";
	static const char *const files[] = { "000001.bin",  "a.tfrecord",   "m.pt",
					     "config.yaml", "shard-12.idx", "shard-1.idx",
					     "notes.txt",   ".git" };
	struct tg_policy *p = load(text);
	size_t bad = 0, missed = 0;

	ok(p != NULL, "the extension-rule policy loads");
	if (!p)
		return;
	for (unsigned c = 0; c < 4; c++) {
		tg_memo_clear(p->memo);
		struct tg_verdict v, r;
		tg_decide(p, "/data/train/cls-001/000000.bin", 30, TG_BIT(c), &v);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char path[128];
			int n = snprintf(path, sizeof(path), "/data/train/cls-001/%s", files[i]);
			if (!tg_decide_memo(p, path, n, TG_BIT(c), &v)) {
				missed++;
				tap_diag("%s (class %u) did not come from the memo", path, c);
				continue;
			}
			reference(p, path, n, TG_BIT(c), &r);
			bad += !same(&v, &r);
		}
	}
	ok(missed == 0 && bad == 0,
	   "after one file of a shard folder, its shards, checkpoints, "
	   "configs, indexes and others come from the memo (%zu missed, %zu differ)",
	   missed, bad);
	tg_policy_free(p);
}

int main(void)
{
	test_generated();
	test_covered();
	return tap_done();
}
