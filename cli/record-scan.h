/* What the collector needs to know of a record, read in one pass over its
 * bytes without building it (see record-scan.c): who it speaks for, its
 * hash chain and the parent record it links to, whether it is a stop
 * record. */
#ifndef TG_CLI_RECORD_SCAN_H
#define TG_CLI_RECORD_SCAN_H

#include <stdbool.h>
#include <stddef.h>

struct tg_record_facts {
	bool has_pid;
	long long pid;        /* actor.process.pid, or process.pid of a fork record */
	char chain[65];       /* unmapped.trainguard.chain.id ("" none) */
	long long seq;        /* .seq (0 none) */
	char origin[16];      /* .origin ("" none) */
	char parent[65];      /* .parent.id: the chain a first record links to */
	long long parent_seq; /* .parent.seq (0: the parent had written nothing) */
	bool stop;            /* unmapped.trainguard.event is "stop" */
	char name[64];        /* the process name the pid goes with ("" none) */
};

/* Scans the N bytes at S (one JSON object, no newline). Returns 0 with
 * *RET filled, or -EINVAL with *RET_WHY (static text) when S is not one
 * JSON object, or when a field read here is given twice, or given in a
 * form a decoder would read otherwise (an escape, a non-integer pid). */
int tg_record_scan(const char *s, size_t n, struct tg_record_facts *ret, const char **ret_why);

#endif
