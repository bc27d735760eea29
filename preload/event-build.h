/* What the two record builders share (event-record.c builds decisions,
 * event-life.c the lifecycle records): the budgets, the build in
 * progress, and the helpers that put cut, encoded strings and numbers into
 * a record, marking what they had to change. Nothing outside the event
 * builder includes it. */
#ifndef TG_EVENT_BUILD_H
#define TG_EVENT_BUILD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "event-internal.h"

/* Budgets in serialized bytes for the strings of one record. */
struct caps {
	size_t cmd;  /* command lines */
	size_t path; /* paths and folders */
	size_t name; /* file and process names */
	size_t msg;  /* the message */
	size_t text; /* everything else: ids, host, user, reason */
};

/* A string as it goes into the record. */
struct text {
	const char *s;
	size_t len;
};

/* When a record is made: one clock reading for time, time_dt and the uid. */
struct stamp {
	struct timespec ts;
	uint32_t seq;
	char uid[37];
	char dt[40];
};

struct build {
	const struct tg_event *ev;
	const struct tg_proc *proc;
	const struct caps *caps;
	const struct stamp *st;
	bool failed;                   /* a jansson call failed */
	bool exec;                     /* a Process Activity record */
	bool path_pct;                 /* the event's paths are percent-encoded */
	struct text name;              /* actor.process.name, for the message too */
	struct text op;                /* the libc symbol */
	struct text path, path2, rule; /* as written, for the message */
	char flags[TG_FLAG_NAMES_MAX]; /* "O_WRONLY|O_CREAT", when the call has flags */
	json_t *truncated;             /* names of cut fields */
	json_t *encoded;               /* names of percent-encoded fields other than the paths */
};

/* The helpers, in event-record.c. Each sets B->failed when jansson fails;
 * the text ones cut to a budget and mark the field they cut or encoded. */
const char *tg_rec_or_unknown(const char *s);
/* N bytes of the arena; NULL, and the build failed, when it has none. */
void *tg_rec_scratch(struct build *b, size_t n);
void tg_rec_mark(struct build *b, json_t **list, const char *field);
bool tg_rec_cut_copy(struct build *b, const char *s, size_t n, bool pct, size_t cap,
		     struct text *t);
struct text tg_rec_text(struct build *b, const char *s, size_t cap, bool is_path,
			const char *field);
void tg_rec_set(struct build *b, json_t *obj, const char *key, json_t *v);
void tg_rec_set_text(struct build *b, json_t *obj, const char *key, struct text t);
void tg_rec_set_str(struct build *b, json_t *obj, const char *key, const char *s, size_t cap,
		    const char *field);
void tg_rec_set_int(struct build *b, json_t *obj, const char *key, long long v);
void tg_rec_set_enum(struct build *b, json_t *obj, const char *key_id, int id, const char *key,
		     const char *caption);
json_t *tg_rec_object(struct build *b, json_t *parent, const char *key);
void tg_rec_actor(struct build *b, json_t *rec);
void tg_rec_device(struct build *b, json_t *rec);
json_t *tg_rec_metadata(struct build *b, json_t *rec);
void tg_rec_context(struct build *b, json_t *tg);
/* A file object for PATH (path, name, parent_folder, type); FIELD names it
 * in the marks; RET_PATH is the path as written. */
json_t *tg_rec_file(struct build *b, const char *path, const char *field, struct text *ret_path,
		    int type_id);
/* ARGV joined by spaces in the arena, cut a little past the budget. */
const char *tg_rec_join_argv(struct build *b, char *const *argv);

/* The lifecycle record (start, stop, fork, exec, unguarded) of B's event. */
json_t *tg_rec_build_life(struct build *b);

#endif
