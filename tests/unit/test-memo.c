/* The memo of verdicts by folder must never change a verdict: every path
 * of a generated tree, under a policy of every glob shape, is decided with
 * the memo (warmed by its neighbours, in several orders, from several
 * threads at once) and without it, and the two must agree. Then the memo
 * must actually be used where folders are alike, and not where a glob
 * tells their entries apart. Speaks TAP. */
#include <pthread.h>
#include <stdarg.h>
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

/* Every shape tg_children_alike distinguishes: trees, exact paths, names
 * with wildcards, folders with wildcards, "**" in the middle and at the
 * end, classes, and a trailing tree under a wildcard folder. */
static const char policy[] =
	"version = 1;\n"
	"defaults = { read = \"allow\"; write = \"deny\"; create = \"deny\"; };\n"
	"rules = (\n"
	"  { id = \"data\"; path = \"/data/**\"; allow = [\"read\"]; deny = [\"write\"]; },\n"
	"  { id = \"ckpt\"; path = \"/data/ckpt/*.pt\"; allow = [\"write\", \"create\"]; },\n"
	"  { id = \"shards\"; path = \"/data/set[0-9]/**\"; deny = [\"read\"]; },\n"
	"  { id = \"exact\"; path = \"/data/set1/a/x.bin\"; allow = [\"write\"]; },\n"
	"  { id = \"deep\"; path = \"/**/site-packages/{*.pth,sitecustomize.py}\"; deny = [\"read\"]; },\n"
	"  { id = \"git\"; path = \"/**/.git/**\"; deny = [\"write\"]; },\n"
	"  { id = \"any\"; path = \"/data/*/tmp/*\"; allow = [\"write\", \"create\"]; },\n"
	"  { id = \"py\"; path = \"/usr/lib/python3*/**\"; deny = [\"write\"]; },\n"
	"  { id = \"hist\"; path = \"/home/u/.*_history\"; deny = [\"read\"]; },\n"
	"  { id = \"mid\"; path = \"/srv/**/out/*\"; allow = [\"write\"]; },\n"
	"  { id = \"star\"; path = \"/srv/*\"; allow = [\"create\"]; },\n"
	"  { id = \"q\"; path = \"/opt/m?del/**\"; deny = [\"read\"]; }\n"
	");\n";

static const char *const names[] = {
	"data",
	"ckpt",
	"set1",
	"set2",
	"setx",
	"a",
	"x.bin",
	"y.pt",
	"x.pt",
	"tmp",
	"site-packages",
	"sitecustomize.py",
	"foo.pth",
	".git",
	"config",
	"usr",
	"lib",
	"python3.11",
	"python2",
	"home",
	"u",
	".bash_history",
	"srv",
	"out",
	"opt",
	"model",
	"modxl",
	"m",
	"b",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

#define NPATHS 6000
static char *paths[NPATHS];
static size_t lens[NPATHS];
static const unsigned class_sets[] = {
	TG_BIT(TG_READ),
	TG_BIT(TG_WRITE),
	TG_BIT(TG_CREATE) | TG_BIT(TG_WRITE),
	TG_BIT(TG_READ) | TG_BIT(TG_WRITE),
};
#define NSETS (sizeof(class_sets) / sizeof(class_sets[0]))
static struct tg_verdict want[NPATHS][NSETS];
static struct tg_policy *P;

static unsigned long long rng = 0x2545f4914f6cdd1dULL;
static unsigned next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

static bool same(const struct tg_verdict *a, const struct tg_verdict *b)
{
	return a->allow == b->allow && a->cls == b->cls && a->rule == b->rule &&
	       a->pattern == b->pattern && a->err == b->err && a->on_deny == b->on_deny &&
	       a->audit == b->audit && a->create_mode == b->create_mode && a->denied == b->denied;
}

/* The verdict without the memo. */
static void reference(const char *path, size_t len, unsigned classes, struct tg_verdict *v)
{
	struct tg_memo *m = P->memo;
	P->memo = NULL;
	tg_decide(P, path, len, classes, v);
	P->memo = m;
}

struct worker {
	unsigned seed;
	size_t wrong, hits;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned s = w->seed;

	for (size_t k = 0; k < 4 * NPATHS; k++) {
		s = s * 1103515245u + 12345u;
		size_t i = (s >> 8) % NPATHS, c = (s >> 4) % NSETS;
		struct tg_verdict v;
		if (tg_decide_memo(P, paths[i], lens[i], class_sets[c], &v)) {
			w->hits++;
			w->wrong += !same(&v, &want[i][c]);
		}
		tg_decide(P, paths[i], lens[i], class_sets[c], &v);
		w->wrong += !same(&v, &want[i][c]);
	}
	return NULL;
}

static void test_agrees(void)
{
	for (size_t i = 0; i < NPATHS; i++) {
		char buf[256];
		size_t n = 0;
		unsigned depth = 1 + next() % 6;
		for (unsigned d = 0; d < depth; d++)
			n += snprintf(buf + n, sizeof(buf) - n, "/%s", names[next() % NNAMES]);
		paths[i] = strdup(buf);
		lens[i] = n;
		for (size_t c = 0; c < NSETS; c++)
			reference(paths[i], n, class_sets[c], &want[i][c]);
	}
	size_t wrong = 0;
	for (int round = 0; round < 3; round++) {
		for (size_t k = 0; k < NPATHS; k++) {
			size_t i = round == 0 ? k : round == 1 ? NPATHS - 1 - k : next() % NPATHS;
			for (size_t c = 0; c < NSETS; c++) {
				struct tg_verdict v;
				tg_decide(P, paths[i], lens[i], class_sets[c], &v);
				wrong += !same(&v, &want[i][c]);
			}
		}
	}
	ok(wrong == 0,
	   "%d paths x %zu class sets, three orders: the memo changes no verdict "
	   "(%zu differ)",
	   NPATHS, NSETS, wrong);

	tg_memo_clear(P->memo);
	pthread_t t[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .seed = 7u * i + 1 };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	size_t bad = 0, hits = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		bad += w[i].wrong;
		hits += w[i].hits;
	}
	ok(bad == 0 && hits > 0,
	   "four threads at once agree with the reference (%zu differ, "
	   "%zu memo hits)",
	   bad, hits);
}

/* The memo is used for folders whose entries the policy tells apart by
 * their last name alone (and gives the verdict the walk gives), and only
 * there. */
static void expect_memo(const char *first, const char *then, unsigned classes, bool hit)
{
	struct tg_verdict v, r;

	tg_memo_clear(P->memo);
	tg_decide(P, first, strlen(first), classes, &v);
	bool got = tg_decide_memo(P, then, strlen(then), classes, &v);
	if (hit) {
		reference(then, strlen(then), classes, &r);
		ok(got && same(&v, &r), "after %s, %s comes from the memo", first, then);
	} else {
		ok(!got, "after %s, %s does not come from the memo", first, then);
	}
}

static void test_used(void)
{
	unsigned R = TG_BIT(TG_READ), W = TG_BIT(TG_WRITE);

	expect_memo("/data/set2/a/y.pt", "/data/set2/a/z.pt", R, true);
	expect_memo("/data/set1/a/y.pt", "/data/set1/a/z.pt", R, false); /* a rule for x.bin */
	expect_memo("/data/set2/a/y.pt", "/data/set2/a/.git", W,
		    true); /* <**>/.git/<**>: by name */
	expect_memo("/data/set2/a/.git", "/data/set2/a/y.pt", W, true);
	expect_memo("/data/ckpt/y.pt", "/data/ckpt/y.txt", W, true); /* *.pt: by name */
	expect_memo("/data/ckpt/sub/y.pt", "/data/ckpt/sub/z", W, true);
	expect_memo("/data/setx/tmp/f", "/data/setx/tmp/g", W, true); /* /data/<*>/tmp/<*> */
	expect_memo("/data/set1/y", "/data/set1/z", R, true);         /* under set[0-9] */
	expect_memo("/data/y", "/data/set1", R, false);               /* set[0-9] names entries */
	expect_memo("/lib/site-packages/a.py", "/lib/site-packages/b.pth", R, true);
	expect_memo("/lib/python/a.py", "/lib/python/b.pth", R, true);
	expect_memo("/usr/lib/python3.11/os.py", "/usr/lib/python3.11/re.py", W, true);
	expect_memo("/usr/lib/a", "/usr/lib/python3.11", W, true);
	expect_memo("/home/u/.bash_history", "/home/u/.profile", R, true);
	expect_memo("/srv/a/out/x", "/srv/a/out/y", W, true);
	expect_memo("/srv/a/x", "/srv/a/out", W, true); /* out/<*> names out's entries only */
	expect_memo("/srv/x", "/srv/y", TG_BIT(TG_CREATE), true); /* /srv/<*>: every entry */
	expect_memo("/data/set2/a/y.pt", "/data/set2/a/../a/z.pt", R, false); /* not normal */
	expect_memo("/data/set2/a/y.pt", "/data/set2//a/z.pt", R, false);
	expect_memo("/data/set2/a/y.pt", "/data/set2/a/..", R, false);
	expect_memo("/data/set2/a/y.pt", "/data/set2/a/.", R, false);
	expect_memo("/data/set2/a/y.pt", "/data/set2/a/", R, false);

	struct tg_verdict v;
	tg_memo_clear(P->memo);
	tg_decide(P, "/data/set2/a/y.pt", 17, R, &v);
	ok(!tg_decide_memo(P, "/data/set2/a/z.pt", 17, W, &v),
	   "a verdict for read is not one for write");
}

/* Each thread tries the slot of its last hit before hashing: a guess that
 * must be checked whole. Folders of one length with other verdicts, in
 * turn; one folder for other classes; the memo cleared under the guess. */
static void test_guess(void)
{
	const char *const alt[] = { "/data/ckpt/z", "/data/set2/z", "/data/setx/z" };
	unsigned R = TG_BIT(TG_READ), W = TG_BIT(TG_WRITE);
	struct tg_verdict v, r;
	size_t bad = 0, hits = 0;

	tg_memo_clear(P->memo);
	for (int i = 0; i < 3; i++)
		tg_decide(P, alt[i], strlen(alt[i]), R, &v);
	for (int k = 0; k < 30; k++) {
		const char *p = alt[k % 3];
		bool got = tg_decide_memo(P, p, strlen(p), R, &v);
		reference(p, strlen(p), R, &r);
		hits += got;
		bad += got && !same(&v, &r);
	}
	ok(bad == 0 && hits == 30,
	   "folders of one length in turn: %zu of 30 from the memo, %zu wrong", hits, bad);
	ok(tg_decide_memo(P, alt[1], strlen(alt[1]), R, &v) &&
		   !tg_decide_memo(P, alt[1], strlen(alt[1]), W, &v),
	   "the guessed slot's verdict for read is not one for write");
	ok(tg_decide_memo(P, alt[1], strlen(alt[1]), R, &v), "the guess is filled");
	reference(alt[1], strlen(alt[1]), R, &r);
	ok(tg_decide_memo_name(P, "/data/set2/", 11, "z", R, &v) && same(&v, &r) &&
		   !tg_decide_memo_name(P, "/data/set2/", 11, "a/z", R, &v) &&
		   !tg_decide_memo_name(P, "/data/set2/", 11, "z/", R, &v) &&
		   !tg_decide_memo_name(P, "/data/set2/", 11, "..", R, &v) &&
		   !tg_decide_memo_name(P, "/data/set2/", 11, ".", R, &v) &&
		   !tg_decide_memo_name(P, "/data/set2/", 11, "", R, &v),
	   "a string is decided in place only when it is one plain name");
	tg_memo_clear(P->memo);
	ok(!tg_decide_memo(P, alt[1], strlen(alt[1]), R, &v) &&
		   !tg_decide_memo_in(P, "/data/set2/", 11, "z", 1, R, &v),
	   "a cleared memo answers nothing, guessed slot included");
}

int main(void)
{
	char path[] = "/tmp/tg-memo-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, policy, sizeof(policy) - 1) != (ssize_t)(sizeof(policy) - 1)) {
		printf("Bail out! cannot write the policy\n");
		return 1;
	}
	close(fd);
	struct tg_load_opts o = { .path = path, .job_id = "memo", .diag = diag };
	int r = tg_policy_load(&o, &P);
	unlink(path);
	ok(r == 0, "the policy of every glob shape loads");
	if (r < 0)
		return 1;
	test_agrees();
	test_used();
	test_guess();

	/* Sibling folders that differ in one late byte, opened in turn (a
	 * data loader's classes, the matcher benchmark), all stay filed. */
	{
		char dirs[64][64];
		size_t kept = 0;
		struct tg_verdict v;
		tg_memo_clear(P->memo);
		for (int i = 0; i < 64; i++) {
			snprintf(dirs[i], sizeof(dirs[i]), "/data/set2/train/cls-%03d/x.bin", i);
			tg_decide(P, dirs[i], strlen(dirs[i]), TG_BIT(TG_READ), &v);
		}
		for (int i = 0; i < 64; i++)
			kept += tg_decide_memo(P, dirs[i], strlen(dirs[i]), TG_BIT(TG_READ), &v);
		ok(kept >= 56, "64 sibling folders decided in turn: %zu of them still in the memo",
		   kept);
	}

	/* TRAINGUARD_MEMO=off: the same verdicts, none from the memo. */
	tg_policy_set_memo(P, false);
	size_t wrong = 0, hits = 0;
	for (size_t i = 0; i < NPATHS; i++) {
		struct tg_verdict v;
		hits += tg_decide_memo(P, paths[i], lens[i], class_sets[0], &v);
		tg_decide(P, paths[i], lens[i], class_sets[0], &v);
		wrong += !same(&v, &want[i][0]);
		tg_decide(P, paths[i], lens[i], class_sets[0], &v);
		hits += tg_decide_memo(P, paths[i], lens[i], class_sets[0], &v);
	}
	ok(wrong == 0 && hits == 0,
	   "memo off: the same verdicts (%zu differ), none from the memo "
	   "(%zu)",
	   wrong, hits);
	tg_policy_set_memo(P, true);
	tg_decide(P, "/data/set2/a/y.pt", 17, TG_BIT(TG_READ), &want[0][0]);
	ok(tg_decide_memo(P, "/data/set2/a/z.pt", 17, TG_BIT(TG_READ), &want[0][1]),
	   "memo on again: used again");
	tg_policy_free(P);
	for (size_t i = 0; i < NPATHS; i++)
		free(paths[i]);
	return tap_done();
}
