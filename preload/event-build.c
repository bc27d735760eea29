/* The toolkit every record is built with (event-build.h): fields set on
 * jansson objects, each string cut to its budget and marked when cut or
 * percent-encoded, and any failure of jansson or the arena kept in the
 * build, so a record is checked once at its end. event-record.c builds
 * the decisions' records with it, event-life.c the process's own. */
#include <string.h>

#include <jansson.h>

#include "event-build.h"

const char *tg_rec_or_unknown(const char *s)
{
	return s ? s : "unknown";
}

void tg_rec_mark(struct build *b, json_t **list, const char *field)
{
	if (!*list && !(*list = json_array()))
		b->failed = true;
	else if (json_array_append_new(*list, json_string(field)))
		b->failed = true;
}

void *tg_rec_scratch(struct build *b, size_t n)
{
	void *p = tg_arena_alloc(n);
	if (!p)
		b->failed = true;
	return p;
}

/* N bytes of S as they go into the record under the budget CAP (see
 * tg_text_cut); false when the copy is shorter than S. */
bool tg_rec_cut_copy(struct build *b, const char *s, size_t n, bool pct, size_t cap, struct text *t)
{
	char *out = tg_rec_scratch(b, tg_text_cut_room(n, pct, cap));
	bool whole;

	t->s = "";
	t->len = 0;
	if (!out)
		return true;
	t->len = tg_text_cut(s, n, pct, cap, out, &whole);
	t->s = out;
	return whole;
}

/* A string field: cut to CAP and marked as FIELD when cut. Paths of the
 * event follow path_pct; any other string is percent-encoded only if it must
 * be, and then listed under unmapped.trainguard.percent_encoded. */
struct text tg_rec_text(struct build *b, const char *s, size_t cap, bool is_path, const char *field)
{
	struct text t;
	bool pct = is_path ? b->path_pct : tg_text_needs_percent(s, cap);

	if (!tg_rec_cut_copy(b, s, strnlen(s, cap + 4), pct, cap, &t))
		tg_rec_mark(b, &b->truncated, field);
	if (pct && !is_path)
		tg_rec_mark(b, &b->encoded, field);
	return t;
}

void tg_rec_set(struct build *b, json_t *obj, const char *key, json_t *v)
{
	if (!obj || !v || json_object_set_new(obj, key, v))
		b->failed = true;
}

void tg_rec_set_text(struct build *b, json_t *obj, const char *key, struct text t)
{
	tg_rec_set(b, obj, key, json_stringn(t.s, t.len));
}

void tg_rec_set_str(struct build *b, json_t *obj, const char *key, const char *s, size_t cap,
		    const char *field)
{
	tg_rec_set_text(b, obj, key, tg_rec_text(b, s, cap, false, field));
}

void tg_rec_set_int(struct build *b, json_t *obj, const char *key, long long v)
{
	tg_rec_set(b, obj, key, json_integer(v));
}

/* An id and its caption: "severity_id": 4 with "severity": "High". */
void tg_rec_set_enum(struct build *b, json_t *obj, const char *key_id, int id, const char *key,
		     const char *caption)
{
	tg_rec_set_int(b, obj, key_id, id);
	tg_rec_set(b, obj, key, json_string(caption));
}

json_t *tg_rec_object(struct build *b, json_t *parent, const char *key)
{
	json_t *o = json_object();
	tg_rec_set(b, parent, key, o);
	return o;
}
