/* The collector's reading of a record (see record-scan.h): a strict JSON
 * grammar walked once, the few fields it needs taken at their exact paths.
 * Building the record with jansson cost the collector about as much as
 * the guard spends making it; this reads the line at memory speed.
 *
 * What a decoder might read otherwise is refused instead of guessed at: a
 * field read here given twice in its object (jansson's verify rejects any
 * duplicate; another reader might take the last), an escape in a key of
 * the objects read here or in a value read here ("p\u0069d"), a pid that
 * is not a plain integer. Bytes above 0x7f are not checked for UTF-8:
 * `trainguard verify` names such a line. */
#include <errno.h>
#include <string.h>

#include "record-scan.h"

enum obj { O_OTHER, O_ROOT, O_ACTOR, O_ACTOR_PROC, O_PROC, O_UNMAPPED, O_TG, O_CHAIN, O_PARENT };
enum leaf { L_NONE, L_LAUNCH, L_PID, L_NAME, L_EVENT, L_ID, L_SEQ, L_ORIGIN };

/* A key of an object read here: the object its value is, or the leaf. */
struct key {
	enum obj in;
	const char *name;
	enum obj child;
	enum leaf leaf;
};

static const struct key keys[] = {
	{ O_ROOT, "actor", O_ACTOR, L_NONE },
	{ O_ROOT, "process", O_PROC, L_NONE },
	{ O_ROOT, "unmapped", O_UNMAPPED, L_NONE },
	{ O_ROOT, "launch_type_id", O_OTHER, L_LAUNCH },
	{ O_ACTOR, "process", O_ACTOR_PROC, L_NONE },
	{ O_ACTOR_PROC, "pid", O_OTHER, L_PID },
	{ O_ACTOR_PROC, "name", O_OTHER, L_NAME },
	{ O_PROC, "pid", O_OTHER, L_PID },
	{ O_PROC, "name", O_OTHER, L_NAME },
	{ O_UNMAPPED, "trainguard", O_TG, L_NONE },
	{ O_TG, "chain", O_CHAIN, L_NONE },
	{ O_TG, "event", O_OTHER, L_EVENT },
	{ O_CHAIN, "id", O_OTHER, L_ID },
	{ O_CHAIN, "seq", O_OTHER, L_SEQ },
	{ O_CHAIN, "origin", O_OTHER, L_ORIGIN },
	{ O_CHAIN, "parent", O_PARENT, L_NONE },
	{ O_PARENT, "id", O_OTHER, L_ID },
	{ O_PARENT, "seq", O_OTHER, L_SEQ },
};

struct scan {
	const char *p, *end;
	const char *why;
	/* What was read, by where. */
	bool has_launch, has_pid[2];
	long long launch, pid[2]; /* [0] actor.process, [1] process */
	char name[2][64], event[16];
	struct tg_record_facts *f;
};

#define MAX_DEPTH 64

static int fail(struct scan *s, const char *why)
{
	if (!s->why)
		s->why = why;
	return -EINVAL;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r'))
		s->p++;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string; its raw bytes (between the quotes) in *RET and *RET_N, and whether
 * it holds an escape. */
static int string(struct scan *s, const char **ret, size_t *ret_n, bool *ret_esc)
{
	bool esc = false;

	if (s->p >= s->end || *s->p != '"')
		return fail(s, "not one JSON record");
	const char *start = ++s->p;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c < 0x20)
			return fail(s, "not one JSON record");
		if (c != '\\') {
			s->p++;
			continue;
		}
		esc = true;
		if (s->end - s->p < 2)
			return fail(s, "not one JSON record");
		char e = s->p[1];
		if (e == 'u') {
			if (s->end - s->p < 6 || !is_hex(s->p[2]) || !is_hex(s->p[3]) ||
			    !is_hex(s->p[4]) || !is_hex(s->p[5]))
				return fail(s, "not one JSON record");
			s->p += 6;
		} else if (strchr("\"\\/bfnrt", e) && e) {
			s->p += 2;
		} else {
			return fail(s, "not one JSON record");
		}
	}
	if (s->p >= s->end)
		return fail(s, "not one JSON record");
	*ret = start;
	*ret_n = (size_t)(s->p - start);
	*ret_esc = esc;
	s->p++;
	return 0;
}

/* A number; *RET_INT is true when it is a plain integer that fits. */
static int number(struct scan *s, long long *ret, bool *ret_int)
{
	const char *start = s->p;
	bool neg = false, integer = true;
	long long v = 0;
	int digits = 0;

	if (s->p < s->end && *s->p == '-') {
		neg = true;
		s->p++;
	}
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return fail(s, "not one JSON record");
	if (*s->p == '0' && s->end - s->p > 1 && s->p[1] >= '0' && s->p[1] <= '9')
		return fail(s, "not one JSON record");
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		if (++digits <= 18)
			v = v * 10 + (*s->p - '0');
		s->p++;
	}
	if (s->p < s->end && *s->p == '.') {
		integer = false;
		s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return fail(s, "not one JSON record");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		integer = false;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return fail(s, "not one JSON record");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	(void)start;
	*ret = neg ? -v : v;
	*ret_int = integer && digits <= 18;
	return 0;
}

static int value(struct scan *s, enum obj what, enum leaf leaf, int depth);

static int literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, "not one JSON record");
	s->p += n;
	return 0;
}

static void copy(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A leaf read here: its value in the one form every decoder agrees on. */
static int take_leaf(struct scan *s, enum obj in, enum leaf leaf)
{
	struct tg_record_facts *f = s->f;
	const char *str;
	size_t n;
	bool esc, integer;
	long long v;
	int side = in == O_PROC;

	skip_ws(s);
	if (leaf == L_LAUNCH || leaf == L_PID || leaf == L_SEQ) {
		if (s->p >= s->end || (*s->p != '-' && (*s->p < '0' || *s->p > '9')))
			return leaf == L_PID ? fail(s, "its pid is not an integer")
					     : value(s, O_OTHER, L_NONE, 1);
		if (number(s, &v, &integer) < 0)
			return -EINVAL;
		if (!integer)
			return fail(s, leaf == L_PID ? "its pid is not an integer"
						     : "a number read here is not an integer");
		if (leaf == L_LAUNCH) {
			s->has_launch = true;
			s->launch = v;
		} else if (leaf == L_PID) {
			s->has_pid[side] = true;
			s->pid[side] = v;
		} else if (in == O_PARENT) {
			f->parent_seq = v;
		} else {
			f->seq = v;
		}
		return 0;
	}
	if (s->p >= s->end || *s->p != '"')
		return value(s, O_OTHER, L_NONE, 1);
	if (string(s, &str, &n, &esc) < 0)
		return -EINVAL;
	if (esc && leaf != L_NAME)
		return fail(s, "an escape in a field read here");
	switch (leaf) {
	case L_NAME:
		copy(s->name[side], sizeof(s->name[side]), str, n);
		break;
	case L_EVENT:
		copy(s->event, sizeof(s->event), str, n);
		break;
	case L_ID:
		if (n >= sizeof(f->chain))
			return fail(s, "its chain id is too long");
		if (in == O_PARENT)
			copy(f->parent, sizeof(f->parent), str, n);
		else
			copy(f->chain, sizeof(f->chain), str, n);
		break;
	case L_ORIGIN:
		copy(f->origin, sizeof(f->origin), str, n);
		break;
	default:
		break;
	}
	return 0;
}

static int object(struct scan *s, enum obj what, int depth)
{
	unsigned seen = 0;

	s->p++; /* '{' */
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		const char *k;
		size_t kn;
		bool esc;

		skip_ws(s);
		if (string(s, &k, &kn, &esc) < 0)
			return -EINVAL;
		if (esc && what != O_OTHER)
			return fail(s, "an escaped key in an object read here");
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return fail(s, "not one JSON record");
		s->p++;
		const struct key *key = NULL;
		for (size_t i = 0; what != O_OTHER && i < sizeof(keys) / sizeof(keys[0]); i++)
			if (keys[i].in == what && strlen(keys[i].name) == kn &&
			    memcmp(keys[i].name, k, kn) == 0)
				key = &keys[i];
		int r;
		if (key) {
			unsigned bit = 1u << (key - keys);
			if (seen & bit)
				return fail(s, "a field read here is given twice");
			seen |= bit;
			r = key->leaf != L_NONE ? take_leaf(s, what, key->leaf)
						: value(s, key->child, L_NONE, depth + 1);
		} else {
			r = value(s, O_OTHER, L_NONE, depth + 1);
		}
		if (r < 0)
			return r;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return 0;
		}
		return fail(s, "not one JSON record");
	}
}

static int array(struct scan *s, int depth)
{
	s->p++; /* '[' */
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (value(s, O_OTHER, L_NONE, depth + 1) < 0)
			return -EINVAL;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return fail(s, "not one JSON record");
	}
}

static int value(struct scan *s, enum obj what, enum leaf leaf, int depth)
{
	const char *str;
	size_t n;
	bool esc, integer;
	long long v;

	(void)leaf;
	if (depth > MAX_DEPTH)
		return fail(s, "nested too deep");
	skip_ws(s);
	if (s->p >= s->end)
		return fail(s, "not one JSON record");
	switch (*s->p) {
	case '{':
		return object(s, what, depth);
	case '[':
		return array(s, depth);
	case '"':
		return string(s, &str, &n, &esc);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		return number(s, &v, &integer);
	}
}

int tg_record_scan(const char *str, size_t n, struct tg_record_facts *ret, const char **ret_why)
{
	struct scan s = { .p = str, .end = str + n, .f = ret };

	memset(ret, 0, sizeof(*ret));
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{') {
		*ret_why = "not one JSON record";
		return -EINVAL;
	}
	int r = value(&s, O_ROOT, L_NONE, 1);
	skip_ws(&s);
	if (r == 0 && s.p != s.end)
		r = fail(&s, "not one JSON record");
	if (r < 0) {
		*ret_why = s.why ? s.why : "not one JSON record";
		return -EINVAL;
	}
	/* The fork record is the child's, about itself: its actor is the
	 * parent. */
	int side = s.has_launch && s.launch == 2 ? 1 : 0;
	ret->has_pid = s.has_pid[side];
	ret->pid = s.pid[side];
	memcpy(ret->name, s.name[side], sizeof(ret->name));
	ret->stop = strcmp(s.event, "stop") == 0;
	return 0;
}
