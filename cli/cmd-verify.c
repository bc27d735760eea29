/* trainguard verify: recompute the hash chains of one or more logs (and,
 * with --seal, the Merkle root a `trainguard run --seal` wrote) and name
 * every line that was changed, removed, added or moved.
 *
 * Each process writes its own chain (docs/events.md): record n of chain C
 * carries "prev", the SHA-256 of the exact bytes of record n-1 of C, and
 * the first record of a chain links to the parent's chain and record at
 * fork or exec time. Lines of many processes interleave in one file; the
 * checks run per chain, the links are resolved at the end across all the
 * logs given. Exit 0 when every line verifies, 1 when one does not (or
 * carries no chain), 2 when a log or the seal cannot be read. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "seal.h"
#include "verify.h"
#include "tg-sha256.h"

enum { EXIT_CLEAN = 0, EXIT_TAMPERED = 1, EXIT_UNREADABLE = 2 };
#define MAX_SHOWN 50

/* Where the report goes: stdout for verify, stderr for lineage (whose
 * stdout may be the statement). */
static FILE *report_to;

/* One line of a chain. */
struct entry {
	uint64_t seq;
	uint8_t hash[TG_SHA256_LEN];
	unsigned file;
	uint64_t line;
};

struct chain {
	char id[64];
	long long pid;
	char name[64];
	struct entry *e; /* in file order */
	size_t n, cap;
	struct entry last;    /* the record the chain goes on from */
	struct entry pending; /* a record after a gap (seq 0: none), see check_record */
};

/* A chain's first record names its parent: resolved once all logs are read. */
struct link {
	size_t child;
	char parent[64];
	uint64_t pseq; /* 0: the parent had written nothing */
	char prev[TG_SHA256_HEX];
	unsigned file;
	uint64_t line;
};

struct verify {
	char **files;
	json_t *index; /* chain id -> index in chains */
	struct chain *chains;
	size_t nchains, capchains;
	struct link *links;
	size_t nlinks, caplinks;
	uint64_t problems, lines, unchained;
	uint64_t roots;  /* chains started with no guarded parent */
	uint64_t unseen; /* chains whose parent wrote no line before them */
};

static void hex(const uint8_t *b, char out[TG_SHA256_HEX])
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < TG_SHA256_LEN; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * TG_SHA256_LEN] = '\0';
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	size_t c = *cap ? *cap * 2 : 16;
	void *q = realloc(p, c * size);
	if (!q) {
		fprintf(stderr, "trainguard: verify: out of memory\n");
		exit(EXIT_UNREADABLE);
	}
	*cap = c;
	return q;
}

/* "FILE:LINE: " and the message; counted, shown up to MAX_SHOWN. */
static void problem(struct verify *v, unsigned file, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void problem(struct verify *v, unsigned file, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	if (++v->problems > MAX_SHOWN)
		return;
	if (line)
		fprintf(report_to, "%s:%llu: ", v->files[file], (unsigned long long)line);
	else
		fprintf(report_to, "%s: ", v->files[file]);
	va_start(ap, fmt);
	vfprintf(report_to, fmt, ap);
	va_end(ap);
	fputc('\n', report_to);
}

static const char *who(const struct chain *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "pid %lld (%s), chain %.12s", c->pid, c->name, c->id);
	return buf;
}

static struct chain *chain_of(struct verify *v, const char *id, bool *created)
{
	json_t *i = json_object_get(v->index, id);

	*created = false;
	if (i)
		return &v->chains[json_integer_value(i)];
	v->chains = grow(v->chains, &v->capchains, v->nchains, sizeof(*v->chains));
	struct chain *c = &v->chains[v->nchains];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	json_object_set_new(v->index, id, json_integer((json_int_t)v->nchains));
	v->nchains++;
	*created = true;
	return c;
}

static void add_entry(struct chain *c, uint64_t seq, const uint8_t *hash, unsigned file,
		      uint64_t line)
{
	c->e = grow(c->e, &c->cap, c->n, sizeof(*c->e));
	c->e[c->n++] = (struct entry){ .seq = seq, .file = file, .line = line };
	memcpy(c->e[c->n - 1].hash, hash, TG_SHA256_LEN);
}

/* Checks one record REC (line LINE of FILE, whose bytes hash to HASH). */
static void check_record(struct verify *v, json_t *rec, const uint8_t *hash, unsigned file,
			 uint64_t line)
{
	json_t *tg = json_object_get(json_object_get(rec, "unmapped"), "trainguard");
	json_t *ch = json_object_get(tg, "chain");
	json_t *proc = json_object_get(json_object_get(rec, "actor"), "process");
	const char *id = json_string_value(json_object_get(ch, "id"));
	json_t *jseq = json_object_get(ch, "seq");
	const char *prev = json_string_value(json_object_get(ch, "prev"));
	char w[160], expect[TG_SHA256_HEX];
	bool created;

	if (!json_is_object(ch) || !id || !*id || !json_is_integer(jseq) ||
	    json_integer_value(jseq) < 1) {
		v->unchained++;
		problem(v, file, line, "%s",
			json_is_string(ch)
				? "the chain slot was never filled"
				: "no chain fields: written by a trainguard without hash "
				  "chains, or added by someone else");
		return;
	}
	uint64_t seq = (uint64_t)json_integer_value(jseq);
	struct chain *c = chain_of(v, id, &created);
	if (created) {
		c->pid = json_integer_value(json_object_get(proc, "pid"));
		snprintf(c->name, sizeof(c->name), "%s",
			 json_string_value(json_object_get(proc, "name")) ?: "?");
	}
	who(c, w, sizeof(w));

	if (created && seq != 1) {
		problem(v, file, line,
			"%s: the chain starts at seq %llu: its lines 1..%llu are missing "
			"(deleted), or this line comes from another log (spliced)",
			w, (unsigned long long)seq, (unsigned long long)seq - 1);
	} else if (created) {
		json_t *parent = json_object_get(ch, "parent");
		const char *pid = json_string_value(json_object_get(parent, "id"));
		if (!pid) {
			v->roots++;
		} else {
			v->links = grow(v->links, &v->caplinks, v->nlinks, sizeof(*v->links));
			struct link *k = &v->links[v->nlinks++];
			memset(k, 0, sizeof(*k));
			k->child = (size_t)(c - v->chains);
			snprintf(k->parent, sizeof(k->parent), "%s", pid);
			json_t *ps = json_object_get(parent, "seq");
			k->pseq = json_is_integer(ps) ? (uint64_t)json_integer_value(ps) : 0;
			snprintf(k->prev, sizeof(k->prev), "%s", prev ? prev : "");
			k->file = file;
			k->line = line;
		}
	} else {
		/* After a gap the chain is not moved on at once: when the next
		 * record goes on from before the gap, the line after the gap was
		 * the odd one (inserted, or moved earlier), and one problem is
		 * reported, not one per line that follows. */
		const struct entry *last = &c->last, *pend = c->pending.seq ? &c->pending : NULL;
		const struct entry *from = seq == last->seq + 1           ? last
					   : pend && seq == pend->seq + 1 ? pend
									  : NULL;
		if (from) {
			hex(from->hash, expect);
			if (!prev || strcmp(prev, expect) != 0)
				problem(v, file, line,
					"%s, seq %llu: \"prev\" does not match the hash of %s:%llu "
					"(seq %llu): that line was changed after it was written, or "
					"this one was",
					w, (unsigned long long)seq, v->files[from->file],
					(unsigned long long)from->line,
					(unsigned long long)from->seq);
			if (from == pend || (pend && pend->seq <= seq))
				c->pending.seq = 0;
			c->last = (struct entry){ .seq = seq, .file = file, .line = line };
			memcpy(c->last.hash, hash, TG_SHA256_LEN);
		} else if (seq > last->seq + 1) {
			char gap[64];
			if (seq == last->seq + 2)
				snprintf(gap, sizeof(gap), "seq %llu is",
					 (unsigned long long)seq - 1);
			else
				snprintf(gap, sizeof(gap), "seq %llu..%llu are",
					 (unsigned long long)last->seq + 1,
					 (unsigned long long)seq - 1);
			problem(v, file, line,
				"%s, seq %llu follows seq %llu (%s:%llu): %s missing (deleted), "
				"or this line was moved here (reordered) or inserted",
				w, (unsigned long long)seq, (unsigned long long)last->seq,
				v->files[last->file], (unsigned long long)last->line, gap);
			c->pending = (struct entry){ .seq = seq, .file = file, .line = line };
			memcpy(c->pending.hash, hash, TG_SHA256_LEN);
		} else {
			problem(v, file, line,
				"%s, seq %llu comes after seq %llu (%s:%llu): this line was "
				"moved (reordered), duplicated or inserted",
				w, (unsigned long long)seq, (unsigned long long)last->seq,
				v->files[last->file], (unsigned long long)last->line);
		}
	}
	if (created) {
		c->last = (struct entry){ .seq = seq, .file = file, .line = line };
		memcpy(c->last.hash, hash, TG_SHA256_LEN);
	}
	add_entry(c, seq, hash, file, line);
}

/* Reads one log; feeds MERKLE when not NULL. Returns -errno when it cannot
 * be read. */
static int verify_file(struct verify *v, unsigned file, struct tg_merkle *merkle,
		       uint64_t *ret_lines)
{
	FILE *f = fopen(v->files[file], "re");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t line = 0;
	bool torn = false;

	if (!f)
		return -errno;
	while ((n = getline(&buf, &cap, f)) > 0) {
		uint8_t hash[TG_SHA256_LEN];
		struct tg_sha256 h;
		size_t len = (size_t)n;

		line++;
		if (buf[len - 1] == '\n')
			len--;
		else
			torn = true;
		if (merkle)
			tg_merkle_add(merkle, buf, len);
		tg_sha256_init(&h);
		tg_sha256_update(&h, buf, len);
		tg_sha256_final(&h, hash);
		json_t *rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(rec))
			problem(v, file, line, "not a JSON record: the line was damaged or edited");
		else
			check_record(v, rec, hash, file, line);
		json_decref(rec);
	}
	int err = ferror(f) ? -EIO : 0;
	fclose(f);
	free(buf);
	if (torn)
		problem(v, file, line,
			"the last line has no newline: a write was cut off, or "
			"the file was cut");
	v->lines += line;
	*ret_lines = line;
	return err;
}

static const struct entry *find_entry(const struct chain *c, uint64_t seq)
{
	for (size_t i = c->n; i-- > 0;)
		if (c->e[i].seq == seq)
			return &c->e[i];
	return NULL;
}

/* Each chain's first record against the parent record it names. */
static void resolve_links(struct verify *v)
{
	char w[160], expect[TG_SHA256_HEX];

	for (size_t i = 0; i < v->nlinks; i++) {
		const struct link *k = &v->links[i];
		json_t *pi = json_object_get(v->index, k->parent);
		who(&v->chains[k->child], w, sizeof(w));
		if (!pi) {
			if (k->pseq)
				problem(v, k->file, k->line,
					"%s: its parent chain %.12s had written %llu line(s), none "
					"of which is in the log: they were deleted, or this line "
					"comes from another log (spliced)",
					w, k->parent, (unsigned long long)k->pseq);
			else
				v->unseen++; /* a parent that logged nothing */
			continue;
		}
		if (!k->pseq)
			continue;
		const struct chain *p = &v->chains[json_integer_value(pi)];
		const struct entry *e = find_entry(p, k->pseq);
		if (!e) {
			problem(v, k->file, k->line,
				"%s: links to seq %llu of its parent (pid %lld, chain %.12s), "
				"which is missing from the log (deleted)",
				w, (unsigned long long)k->pseq, p->pid, p->id);
			continue;
		}
		hex(e->hash, expect);
		if (strcmp(k->prev, expect) != 0)
			problem(v, k->file, k->line,
				"%s: \"prev\" does not match its parent's line %s:%llu (pid %lld, "
				"seq %llu): that line was changed, or this one was",
				w, v->files[e->file], (unsigned long long)e->line, p->pid,
				(unsigned long long)e->seq);
		else if (e->file == k->file && e->line > k->line)
			problem(v, k->file, k->line,
				"%s: comes before its parent's line %llu it was started after "
				"(reordered)",
				w, (unsigned long long)e->line);
	}
}

static int check_seal(struct verify *v, const char *seal, const struct tg_merkle *at_seal,
		      const struct tg_merkle *all, uint64_t sealed, const char *root)
{
	uint8_t r[TG_SHA256_LEN];
	char got[TG_SHA256_HEX];
	uint64_t n = all->leaves;

	if (n < sealed) {
		problem(v, 0, n,
			"the log ends here, but the seal '%s' covers %llu lines: lines "
			"%llu..%llu were cut off (or the log was rewritten)",
			seal, (unsigned long long)sealed, (unsigned long long)n + 1,
			(unsigned long long)sealed);
		return 0;
	}
	tg_merkle_root(at_seal, r);
	hex(r, got);
	if (strcmp(got, root) != 0) {
		problem(v, 0, 0,
			"the first %llu lines do not match the Merkle root of the seal '%s': "
			"the log was changed after it was sealed (a line edited, added, "
			"removed or moved, or the whole log rewritten)",
			(unsigned long long)sealed, seal);
		return 0;
	}
	if (n > sealed)
		problem(v, 0, sealed + 1, "lines %llu..%llu were added after the seal '%s'",
			(unsigned long long)sealed + 1, (unsigned long long)n, seal);
	return 1;
}

static int verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seal", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *seal = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seal = optarg;
			break;
		case 'h':
			fputs(tg_cmd_verify.usage, stdout);
			return 0;
		default:
			tg_usage_error(&tg_cmd_verify, "unknown option '%s'", argv[optind - 1]);
			return EXIT_UNREADABLE;
		}
	}
	if (optind >= argc) {
		tg_usage_error(&tg_cmd_verify,
			       "no log given: trainguard verify [--seal FILE] LOG...");
		return EXIT_UNREADABLE;
	}
	if (seal && argc - optind != 1) {
		tg_usage_error(&tg_cmd_verify, "--seal checks one log, not %d", argc - optind);
		return EXIT_UNREADABLE;
	}
	return tg_verify_logs(argv + optind, argc - optind, seal, stdout);
}

int tg_verify_logs(char **files, int nfiles, const char *seal, FILE *report)
{
	struct verify v = { 0 };
	int rc = EXIT_CLEAN;

	report_to = report;

	uint64_t sealed = 0;
	char root[TG_SHA256_HEX];
	if (seal) {
		int r = tg_seal_read(seal, &sealed, root);
		if (r < 0) {
			fprintf(stderr, "trainguard: cannot read the seal '%s': %s\n", seal,
				r == -EINVAL ? "not a trainguard seal" : strerror(-r));
			return EXIT_UNREADABLE;
		}
	}

	/* With a seal, the tree is kept as it was at the sealed line count. */
	struct tg_merkle *all = seal ? calloc(2, sizeof(*all)) : NULL;
	v.files = files;
	v.index = json_object();
	for (int i = 0; i < nfiles; i++) {
		uint64_t n;
		int r = verify_file(&v, (unsigned)i, all, &n);
		if (r < 0) {
			fprintf(stderr, "trainguard: cannot read the log '%s': %s\n", files[i],
				strerror(-r));
			rc = EXIT_UNREADABLE;
		}
	}
	if (rc == EXIT_CLEAN && seal) {
		/* Recomputed up to the sealed count (the log may go on). */
		tg_merkle_init(&all[1]);
		FILE *f = fopen(v.files[0], "re");
		char *buf = NULL;
		size_t cap = 0;
		ssize_t n;
		while (f && all[1].leaves < sealed && (n = getline(&buf, &cap, f)) > 0)
			tg_merkle_add(&all[1], buf, buf[n - 1] == '\n' ? (size_t)n - 1 : (size_t)n);
		if (f)
			fclose(f);
		free(buf);
		if (check_seal(&v, seal, &all[1], &all[0], sealed, root))
			fprintf(report_to, "%s: %llu sealed lines match the seal '%s'\n",
				v.files[0], (unsigned long long)sealed, seal);
	}
	free(all);
	if (rc == EXIT_CLEAN) {
		resolve_links(&v);
		if (v.problems > MAX_SHOWN)
			fprintf(report_to, "... and %llu more\n",
				(unsigned long long)(v.problems - MAX_SHOWN));
		if (v.unchained && v.unchained == v.lines)
			fprintf(report_to,
				"no line carries chain fields: written by a trainguard without hash "
				"chains; nothing could be verified\n");
		if (v.problems) {
			fprintf(report_to, "NOT VERIFIED: %llu problem%s in %llu lines\n",
				(unsigned long long)v.problems, v.problems == 1 ? "" : "s",
				(unsigned long long)v.lines);
			rc = EXIT_TAMPERED;
		} else {
			fprintf(report_to,
				"verified: %llu lines, %zu chains (%llu started the job, %llu linked to "
				"a parent with no line)%s\n",
				(unsigned long long)v.lines, v.nchains, (unsigned long long)v.roots,
				(unsigned long long)v.unseen,
				seal ? "" : "; a cut tail is caught only with --seal");
		}
	}
	for (size_t i = 0; i < v.nchains; i++)
		free(v.chains[i].e);
	free(v.chains);
	free(v.links);
	json_decref(v.index);
	return rc;
}

const struct tg_command tg_cmd_verify = {
	.name = "verify",
	.run = verify,
	.synopsis = "verify [--seal FILE] LOG...\n",
	.usage = "usage: trainguard verify [--seal FILE] LOG...\n"
		 "\n"
		 "Recomputes the hash chain every guarded process writes into its\n"
		 "records and names each line that was changed, removed, added or moved\n"
		 "since it was written. The logs of one job may be given together (lines\n"
		 "of many processes interleave; links between them are checked across\n"
		 "all the logs).\n"
		 "\n"
		 "  --seal FILE   also check the seal 'trainguard run --seal FILE' wrote\n"
		 "                at the end of the job: catches a cut tail and a log\n"
		 "                rewritten as a whole (one LOG only)\n"
		 "\n"
		 "Without --seal, lines cut from the end of a process's chain cannot be\n"
		 "told from a process that stopped logging. Exit status: 0 every line\n"
		 "verifies; 1 some line does not, or carries no chain; 2 a log or the\n"
		 "seal cannot be read, or bad usage. See trainguard(1).\n",
};
