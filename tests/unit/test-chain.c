/* The hash chain (preload/chain.c) on its own: the slot filled in sorted,
 * canonical JSON; "prev" as the SHA-256 of the previous line's bytes; a
 * failed write not moving the chain on; one-shot chains for a nested record
 * and a vfork child, which leave the process chain as it was; the exec link
 * through TRAINGUARD_CHAIN and a malformed one; a fork child's new chain;
 * a line too long for its buffer; and four threads sealing at once, whose
 * lines form one unbroken chain. TAP. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "chain.h"
#include "tap.h"
#include "tg-env.h"

#define LINE_CAP 4096

static const char record[] = "{\"a\":1,\"unmapped\":{\"trainguard\":{" TG_CHAIN_SLOT
			     ",\"op\":\"open\"}}}\n";

/* A fresh line holding the slot. */
static size_t fresh(char *buf)
{
	memcpy(buf, record, sizeof(record));
	return sizeof(record) - 1;
}

static json_t *chain_of(const char *line, size_t len)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	json_t *c = json_object_get(json_object_get(json_object_get(rec, "unmapped"), "trainguard"),
				    "chain");
	json_incref(c);
	json_decref(rec);
	return c;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "";
}

static long long num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static void line_hash(const char *line, size_t len, char out[TG_SHA256_HEX])
{
	tg_sha256_hex(line, len - 1, out); /* without its newline */
}

/* The canonical form of LINE equals LINE (sorted keys, no spaces). */
static bool canonical(const char *line, size_t len)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	char *s = rec ? json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	bool same = s && strlen(s) == len - 1 && memcmp(s, line, len - 1) == 0;
	free(s);
	json_decref(rec);
	return same;
}

static char first_hash[TG_SHA256_HEX], second_hash[TG_SHA256_HEX];

static void test_sequence(void)
{
	char a[LINE_CAP], b[LINE_CAP], c[LINE_CAP];
	struct tg_chain_tx tx;
	pid_t me = getpid();

	tg_chain_start(NULL, me);
	ok(strlen(tg_chain_id()) == 32, "the chain id is 128 bits of hex");

	size_t la = fresh(a);
	ok(tg_chain_seal(a, &la, sizeof(a), me, &tx) == 1, "a record joins the process chain");
	tg_chain_commit(&tx, true);
	json_t *ca = chain_of(a, la);
	ok(ca && strcmp(str(ca, "id"), tg_chain_id()) == 0 && num(ca, "seq") == 1 &&
		   strcmp(str(ca, "origin"), "start") == 0 && !json_object_get(ca, "prev") &&
		   !json_object_get(ca, "parent"),
	   "the first record: seq 1, origin start, no parent, no prev");
	ok(canonical(a, la) && a[la - 1] == '\n',
	   "the filled line is canonical JSON and ends in a newline");
	line_hash(a, la, first_hash);

	size_t lb = fresh(b);
	tg_chain_seal(b, &lb, sizeof(b), me, &tx);
	tg_chain_commit(&tx, true);
	json_t *cb = chain_of(b, lb);
	ok(num(cb, "seq") == 2 && strcmp(str(cb, "prev"), first_hash) == 0 &&
		   !json_object_get(cb, "origin"),
	   "the second record: seq 2, prev = SHA-256 of the first line's bytes");
	line_hash(b, lb, second_hash);

	/* A write that failed: the next record takes the same place. */
	size_t lc = fresh(c);
	tg_chain_seal(c, &lc, sizeof(c), me, &tx);
	tg_chain_commit(&tx, false);
	lc = fresh(c);
	tg_chain_seal(c, &lc, sizeof(c), me, &tx);
	tg_chain_commit(&tx, true);
	json_t *cc = chain_of(c, lc);
	ok(num(cc, "seq") == 3 && strcmp(str(cc, "prev"), second_hash) == 0,
	   "after a failed write the chain goes on from the last written line");
	line_hash(c, lc, second_hash); /* now the last: seq 3 */

	char plain[] = "{\"a\":1}\n";
	size_t lp = strlen(plain);
	ok(tg_chain_seal(plain, &lp, sizeof(plain), me, &tx) == 0 && lp == strlen("{\"a\":1}\n") &&
		   strcmp(plain, "{\"a\":1}\n") == 0,
	   "a line without the slot is left alone");
	tg_chain_commit(&tx, true);
	json_decref(ca);
	json_decref(cb);
	json_decref(cc);
}

static void test_oneshot(void)
{
	char outer[LINE_CAP], inner[LINE_CAP], v[LINE_CAP], next[LINE_CAP];
	struct tg_chain_tx to, ti, tv, tn;
	pid_t me = getpid();

	/* A signal handler logging while its thread holds the lock. */
	size_t lo = fresh(outer), li = fresh(inner);
	ok(tg_chain_seal(outer, &lo, sizeof(outer), me, &to) == 1, "outer record holds the chain");
	ok(tg_chain_seal(inner, &li, sizeof(inner), me, &ti) == 0,
	   "a nested record does not wait for the lock its own thread holds");
	tg_chain_commit(&ti, true);
	json_t *ci = chain_of(inner, li);
	json_t *pi = json_object_get(ci, "parent");
	ok(strcmp(str(ci, "origin"), "nested") == 0 && num(ci, "seq") == 1 &&
		   strcmp(str(ci, "id"), tg_chain_id()) != 0 &&
		   strcmp(str(pi, "id"), tg_chain_id()) == 0 && num(pi, "seq") == 3 &&
		   strcmp(str(ci, "prev"), second_hash) == 0,
	   "the nested record is a one-shot chain linked to the last committed record");
	tg_chain_commit(&to, true);
	json_t *co = chain_of(outer, lo);
	ok(num(co, "seq") == 4 && strcmp(str(co, "prev"), second_hash) == 0,
	   "the outer record keeps its place (seq 4)");
	line_hash(outer, lo, second_hash);

	/* A vfork child: another pid, the parent's memory. */
	size_t lv = fresh(v);
	ok(tg_chain_seal(v, &lv, sizeof(v), me + 100000, &tv) == 0,
	   "a vfork child's record is one-shot");
	tg_chain_commit(&tv, true);
	json_t *cv = chain_of(v, lv);
	ok(strcmp(str(cv, "origin"), "vfork") == 0 &&
		   num(json_object_get(cv, "parent"), "seq") == 4 &&
		   strcmp(str(cv, "prev"), second_hash) == 0,
	   "linked to the parent's seq 4");
	size_t ln = fresh(next);
	tg_chain_seal(next, &ln, sizeof(next), me, &tn);
	tg_chain_commit(&tn, true);
	json_t *cn = chain_of(next, ln);
	ok(num(cn, "seq") == 5 && strcmp(str(cn, "prev"), second_hash) == 0,
	   "the vfork child left the process chain as it was");
	line_hash(next, ln, second_hash);
	json_decref(ci);
	json_decref(co);
	json_decref(cv);
	json_decref(cn);
}

static void test_env_and_exec(void)
{
	char env[TG_CHAIN_ENV_MAX], want[TG_CHAIN_ENV_MAX], parent[TG_CHAIN_ID_HEX], line[LINE_CAP];
	struct tg_chain_tx tx;

	snprintf(parent, sizeof(parent), "%s", tg_chain_id());
	int n = tg_chain_env(env, sizeof(env));
	snprintf(want, sizeof(want), TG_ENV_CHAIN "=%s.5.%s", parent, second_hash);
	ok(n > 0 && strcmp(env, want) == 0,
	   "TRAINGUARD_CHAIN names the id, the last seq and its hash");
	if (n <= 0 || strcmp(env, want) != 0)
		tap_diag("got '%s'", env);

	/* The exec'd image starts from that value. */
	tg_chain_start(env + strlen(TG_ENV_CHAIN) + 1, getpid());
	size_t l = fresh(line);
	tg_chain_seal(line, &l, sizeof(line), getpid(), &tx);
	tg_chain_commit(&tx, true);
	json_t *c = chain_of(line, l);
	json_t *p = json_object_get(c, "parent");
	ok(strcmp(str(c, "origin"), "exec") == 0 && strcmp(str(p, "id"), parent) == 0 &&
		   num(p, "seq") == 5 && strcmp(str(c, "prev"), second_hash) == 0 &&
		   strcmp(str(c, "id"), parent) != 0 && num(c, "seq") == 1,
	   "an exec'd image: a new chain whose first record links to the parent's seq 5");
	ok(canonical(line, l), "the genesis record is canonical JSON");
	json_decref(c);

	/* A parent that had written nothing: the id alone. */
	char bare[TG_CHAIN_ID_HEX];
	snprintf(bare, sizeof(bare), "%s", tg_chain_id());
	tg_chain_start(bare, getpid());
	l = fresh(line);
	tg_chain_seal(line, &l, sizeof(line), getpid(), &tx);
	tg_chain_commit(&tx, true);
	c = chain_of(line, l);
	p = json_object_get(c, "parent");
	ok(strcmp(str(p, "id"), bare) == 0 && !json_object_get(p, "seq") &&
		   !json_object_get(c, "prev"),
	   "a parent with no record yet: the link names its id only");
	json_decref(c);

	static const char *const bad[] = { "", "xyz", "0123456789abcdef0123456789abcdeg",
					   "0123456789abcdef0123456789abcdef.1",
					   "0123456789abcdef0123456789abcdef.1.00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tg_chain_start(bad[i], getpid());
		l = fresh(line);
		tg_chain_seal(line, &l, sizeof(line), getpid(), &tx);
		tg_chain_commit(&tx, true);
		c = chain_of(line, l);
		ok(strcmp(str(c, "origin"), "start") == 0 && !json_object_get(c, "parent"),
		   "a malformed TRAINGUARD_CHAIN '%s' starts a root chain", bad[i]);
		json_decref(c);
	}
}

static void test_fork(void)
{
	char line[LINE_CAP], parent[TG_CHAIN_ID_HEX], h[TG_SHA256_HEX];
	struct tg_chain_tx tx;
	int fds[2];

	size_t l = fresh(line);
	tg_chain_seal(line, &l, sizeof(line), getpid(), &tx);
	tg_chain_commit(&tx, true);
	line_hash(line, l, h);
	snprintf(parent, sizeof(parent), "%s", tg_chain_id());
	if (pipe(fds) < 0) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	tg_chain_fork_prepare();
	pid_t pid = fork();
	if (pid == 0) {
		tg_chain_fork_child(getpid());
		l = fresh(line);
		tg_chain_seal(line, &l, sizeof(line), getpid(), &tx);
		tg_chain_commit(&tx, true);
		(void)!write(fds[1], line, l);
		_exit(0);
	}
	tg_chain_fork_parent();
	close(fds[1]);
	ssize_t n = read(fds[0], line, sizeof(line));
	close(fds[0]);
	waitpid(pid, NULL, 0);
	json_t *c = n > 0 ? chain_of(line, (size_t)n) : NULL;
	json_t *p = json_object_get(c, "parent");
	ok(c && strcmp(str(c, "origin"), "fork") == 0 && strcmp(str(p, "id"), parent) == 0 &&
		   num(p, "seq") == 2 && strcmp(str(c, "prev"), h) == 0 &&
		   strcmp(str(c, "id"), parent) != 0 && num(c, "seq") == 1,
	   "a fork child starts its own chain linked to the parent's last record");
	json_decref(c);

	/* The parent's lock was given back: this does not hang. */
	l = fresh(line);
	ok(tg_chain_seal(line, &l, sizeof(line), getpid(), &tx) == 1,
	   "the parent goes on after fork");
	tg_chain_commit(&tx, true);
}

static void test_too_long(void)
{
	char line[sizeof(record) + 8];
	struct tg_chain_tx tx;
	size_t l = fresh(line);

	ok(tg_chain_seal(line, &l, sizeof(line), getpid(), &tx) == -ENOSPC &&
		   l == sizeof(record) - 1 && memcmp(line, record, l) == 0,
	   "a slot that cannot be filled in the buffer: -ENOSPC, the line unchanged");
	tg_chain_commit(&tx, true);
	l = fresh(line);
	char big[LINE_CAP];
	memcpy(big, line, l);
	ok(tg_chain_seal(big, &l, sizeof(big), getpid(), &tx) == 1, "and the lock was released");
	tg_chain_commit(&tx, true);
}

/* ---- threads: the chain in commit order is the file's order ------------- */

#define THREADS    4
#define PER_THREAD 2000
static char *lines[THREADS * PER_THREAD];
static size_t nlines;

static void *writer(void *arg)
{
	char buf[LINE_CAP];
	struct tg_chain_tx tx;

	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		size_t l = fresh(buf);
		if (tg_chain_seal(buf, &l, sizeof(buf), getpid(), &tx) == 1)
			lines[nlines++] = strndup(buf, l); /* under the chain lock: "the write" */
		tg_chain_commit(&tx, true);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[THREADS];
	char h[TG_SHA256_HEX] = "";
	bool good = true;

	tg_chain_start(NULL, getpid());
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, writer, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ok(nlines == THREADS * PER_THREAD, "every record of %d threads joined the chain", THREADS);
	for (size_t i = 0; i < nlines && good; i++) {
		json_t *c = chain_of(lines[i], strlen(lines[i]));
		good = num(c, "seq") == (long long)i + 1 &&
		       (i == 0 || strcmp(str(c, "prev"), h) == 0);
		if (!good)
			tap_diag("line %zu: seq %lld", i, num(c, "seq"));
		line_hash(lines[i], strlen(lines[i]), h);
		json_decref(c);
		free(lines[i]);
	}
	ok(good, "the lines in write order form one unbroken chain (seq and prev)");
}

int main(void)
{
	test_sequence();
	test_oneshot();
	test_env_and_exec();
	test_fork();
	test_too_long();
	test_threads();
	return tap_done();
}
