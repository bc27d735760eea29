/* Event records: one OCSF 1.8.0 line per decision (design/EVENTS.md), built
 * with jansson on the hook path.
 *
 * Nothing here touches the program's heap, opens a file or uses stdio: while
 * a record is built, jansson allocates from a per-thread bump arena
 * (mmap'd on first use, reset after each record, free() a no-op), one arena
 * per nesting level so that a signal handler may log while the interrupted
 * code is building a record. Every string is cut to a budget counted in
 * serialized bytes and marked when cut; if the record still does not fit
 * under TG_EVENT_MAX it is rebuilt once with budgets small enough that it
 * always fits. The only system calls are clock_gettime, gettid and, once per
 * thread and level, mmap. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "event.h"

#define ARENA_SIZE   (256 * 1024)
#define ARENA_LEVELS 4
#define ARENA_ALIGN  16

/* initial-exec: no __tls_get_addr, which may call malloc on first use. */
#define TG_TLS __thread __attribute__((tls_model("initial-exec")))

struct arena {
	char *base; /* ARENA_SIZE bytes, or NULL until the level is first used */
	size_t used;
	bool oom;   /* an allocation of the current record failed */
};

static TG_TLS struct arena arenas[ARENA_LEVELS];
/* Records being built by this thread; level N-1 is the innermost. */
static TG_TLS unsigned depth;

/* What jansson allocated with before tg_event_init; used only outside a
 * record (the preload's private jansson: its defaults). */
static json_malloc_t prev_malloc;
static json_free_t prev_free;
static pthread_key_t arena_key;
static bool arena_key_ok;

/* Per-process sequence: the pid in the high half, the last number given in
 * the low half, so that a forked child (another proc->pid) starts again at 1
 * without an atfork handler. */
static _Atomic uint64_t seq_state;

static void *arena_malloc(size_t n)
{
	unsigned d = depth;

	if (d == 0)
		return prev_malloc ? prev_malloc(n) : NULL;
	struct arena *a = &arenas[d - 1];
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (!a->base || need < n || need > ARENA_SIZE - a->used) {
		a->oom = true;
		return NULL;
	}
	void *p = a->base + a->used;
	a->used += need;
	return p;
}

static void arena_free(void *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < ARENA_LEVELS; i++)
		if (arenas[i].base && (char *)p >= arenas[i].base &&
		    (char *)p < arenas[i].base + ARENA_SIZE)
			return;
	if (prev_free)
		prev_free(p);
}

/* Thread exit: give the arenas back, or every short-lived thread that
 * logged once would leave its mappings behind. */
static void arena_release(void *unused)
{
	(void)unused;
	if (depth)
		return;
	for (unsigned i = 0; i < ARENA_LEVELS; i++)
		if (arenas[i].base) {
			munmap(arenas[i].base, ARENA_SIZE);
			arenas[i].base = NULL;
		}
}

static int arena_map(struct arena *a)
{
	if (a->base)
		return 0;
	void *p = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	a->base = p;
	/* A key below PTHREAD_KEY_2NDLEVEL_SIZE (taken at start) needs no allocation. */
	if (arena_key_ok)
		pthread_setspecific(arena_key, a->base);
	return 0;
}

void tg_event_init(void)
{
	static atomic_flag done = ATOMIC_FLAG_INIT;
	struct timespec rt, mono;

	if (atomic_flag_test_and_set(&done))
		return;
	json_get_alloc_funcs(&prev_malloc, &prev_free);
	json_set_alloc_funcs(arena_malloc, arena_free);
	arena_key_ok = pthread_key_create(&arena_key, arena_release) == 0;
	/* jansson would read /dev/urandom for its hash seed on first use. */
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	size_t seed = (size_t)rt.tv_nsec * 2654435761u ^ (size_t)rt.tv_sec ^
		      (size_t)mono.tv_nsec << 7 ^ (size_t)getpid() << 16;
	json_object_seed(seed | 1);
}

/* ---- Names ---------------------------------------------------------------- */

static const struct {
	int err;
	const char *name;
} errno_names[] = {
	{ EPERM, "EPERM" },	      { ENOENT, "ENOENT" },	  { ESRCH, "ESRCH" },
	{ EINTR, "EINTR" },	      { EIO, "EIO" },		  { ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" },	      { ENOEXEC, "ENOEXEC" },	  { EBADF, "EBADF" },
	{ ECHILD, "ECHILD" },	      { EAGAIN, "EAGAIN" },	  { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },	      { EFAULT, "EFAULT" },	  { EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" },	      { EXDEV, "EXDEV" },	  { ENODEV, "ENODEV" },
	{ ENOTDIR, "ENOTDIR" },	      { EISDIR, "EISDIR" },	  { EINVAL, "EINVAL" },
	{ ENFILE, "ENFILE" },	      { EMFILE, "EMFILE" },	  { ENOTTY, "ENOTTY" },
	{ ETXTBSY, "ETXTBSY" },	      { EFBIG, "EFBIG" },	  { ENOSPC, "ENOSPC" },
	{ ESPIPE, "ESPIPE" },	      { EROFS, "EROFS" },	  { EMLINK, "EMLINK" },
	{ EPIPE, "EPIPE" },	      { ENAMETOOLONG, "ENAMETOOLONG" }, { ENOSYS, "ENOSYS" },
	{ ENOTEMPTY, "ENOTEMPTY" },   { ELOOP, "ELOOP" },	  { EOVERFLOW, "EOVERFLOW" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { EDQUOT, "EDQUOT" },	  { ESTALE, "ESTALE" },
	{ ECANCELED, "ECANCELED" },   { ENOMEDIUM, "ENOMEDIUM" },
};

static const char *errno_name(int e)
{
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].err == e)
			return errno_names[i].name;
	return NULL;
}

/* glibc defines O_LARGEFILE as 0 on 64-bit targets; name the kernel's bit. */
#if O_LARGEFILE != 0
#define TG_O_LARGEFILE O_LARGEFILE
#elif defined(__x86_64__) || defined(__i386__)
#define TG_O_LARGEFILE 0100000
#elif defined(__aarch64__)
#define TG_O_LARGEFILE 0400000
#else
#define TG_O_LARGEFILE 0
#endif

/* In EVENTS.md order; SUPERSET names a flag that contains this one, which is
 * then named alone (O_TMPFILE holds O_DIRECTORY, O_SYNC holds O_DSYNC). */
static const struct {
	int bits, superset;
	const char *name;
} open_flags[] = {
	{ O_CREAT, 0, "O_CREAT" },
	{ O_EXCL, 0, "O_EXCL" },
	{ O_TRUNC, 0, "O_TRUNC" },
	{ O_APPEND, 0, "O_APPEND" },
	{ O_NOFOLLOW, 0, "O_NOFOLLOW" },
	{ O_DIRECTORY, O_TMPFILE, "O_DIRECTORY" },
	{ O_CLOEXEC, 0, "O_CLOEXEC" },
	{ O_TMPFILE, 0, "O_TMPFILE" },
	{ O_PATH, 0, "O_PATH" },
	{ O_NONBLOCK, 0, "O_NONBLOCK" },
	{ O_SYNC, 0, "O_SYNC" },
	{ O_DSYNC, O_SYNC, "O_DSYNC" },
	{ O_NOATIME, 0, "O_NOATIME" },
	{ O_NOCTTY, 0, "O_NOCTTY" },
	{ O_DIRECT, 0, "O_DIRECT" },
	{ TG_O_LARGEFILE, 0, "O_LARGEFILE" },
};

/* ---- Small formatting without stdio ---------------------------------------- */

/* Writes V in decimal, at least WIDTH digits; returns the length. */
static size_t put_dec(char *out, uint64_t v, unsigned width)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static size_t put_hex(char *out, uint64_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned i = 0; i < digits; i++)
		out[i] = hex[(v >> (4 * (digits - 1 - i))) & 15];
	return digits;
}

/* "0644": a leading 0, then at least three octal digits. */
static void put_octal_mode(char out[16], unsigned mode)
{
	char tmp[12];
	size_t n = 0, o = 0;

	do {
		tmp[n++] = (char)('0' + (mode & 7));
		mode >>= 3;
	} while (mode || n < 3);
	out[o++] = '0';
	while (n)
		out[o++] = tmp[--n];
	out[o] = '\0';
}

/* Days since 1970-01-01 to a civil date (H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms"): gmtime_r may read /etc/localtime. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* RFC 3339 in UTC with nanoseconds: 2026-07-29T08:00:01.456789000Z. */
static void put_rfc3339(char out[40], const struct timespec *ts)
{
	int64_t days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400, y;
	unsigned m, d;
	size_t n = 0;

	if (secs < 0)
		secs += 86400, days--;
	civil_from_days(days, &y, &m, &d);
	n += put_dec(out + n, (uint64_t)(y < 0 ? 0 : y), 4);
	out[n++] = '-';
	n += put_dec(out + n, m, 2);
	out[n++] = '-';
	n += put_dec(out + n, d, 2);
	out[n++] = 'T';
	n += put_dec(out + n, (uint64_t)secs / 3600, 2);
	out[n++] = ':';
	n += put_dec(out + n, (uint64_t)secs / 60 % 60, 2);
	out[n++] = ':';
	n += put_dec(out + n, (uint64_t)secs % 60, 2);
	out[n++] = '.';
	n += put_dec(out + n, (uint64_t)ts->tv_nsec, 9);
	out[n++] = 'Z';
	out[n] = '\0';
}

/* A UUIDv7 (RFC 9562): the millisecond, the sub-millisecond fraction in
 * rand_a (method 3), then pid and sequence in rand_b: unique per record of
 * a host without a random source. */
static void put_uuid7(char out[37], const struct timespec *ts, uint32_t pid, uint32_t seq)
{
	uint64_t ms = (uint64_t)ts->tv_sec * 1000 + (uint64_t)ts->tv_nsec / 1000000;
	uint64_t sub = ((uint64_t)(ts->tv_nsec % 1000000) << 12) / 1000000;
	uint64_t hi = ms << 16 | 0x7000 | sub;
	uint64_t lo = (uint64_t)2 << 62 | (uint64_t)(pid & 0x3fffffff) << 32 | seq;
	size_t n = 0;

	n += put_hex(out + n, hi >> 32, 8);
	out[n++] = '-';
	n += put_hex(out + n, hi >> 16, 4);
	out[n++] = '-';
	n += put_hex(out + n, hi, 4);
	out[n++] = '-';
	n += put_hex(out + n, lo >> 48, 4);
	out[n++] = '-';
	n += put_hex(out + n, lo, 12);
	out[n] = '\0';
}

static uint32_t next_sequence(pid_t pid)
{
	uint64_t old = atomic_load(&seq_state), next;

	do {
		uint32_t s = (uint32_t)(old >> 32) == (uint32_t)pid ? (uint32_t)old + 1 : 1;
		next = (uint64_t)(uint32_t)pid << 32 | s;
	} while (!atomic_compare_exchange_weak(&seq_state, &old, next));
	return (uint32_t)next;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* ---- Text: UTF-8 check, percent-encoding, cutting ------------------------- */

/* Length of the well-formed UTF-8 sequence at S (N bytes left), 0 if none:
 * the same rules as jansson (no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

static bool is_ctl(unsigned c)
{
	return c < 0x20 || c == 0x7f;
}

/* Bytes a unit takes in the serialized line: jansson escapes '"' and '\'. */
static size_t json_cost(unsigned c, size_t len)
{
	return c == '"' || c == '\\' ? 2 : len;
}

/* Does S need percent-encoding in the part that fits in CAP? Every byte
 * costs at least one, so nothing past CAP + 4 bytes is ever looked at. */
static bool needs_percent(const char *s, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, cap + 4), cost = 0;

	for (size_t i = 0; i < n && cost <= cap;) {
		size_t l = utf8_len(u + i, n - i);
		if (l == 0 || (l == 1 && is_ctl(u[i])))
			return true;
		cost += json_cost(u[i], l);
		i += l;
	}
	return false;
}

struct caps {
	size_t cmd;  /* command lines */
	size_t path; /* paths and folders */
	size_t name; /* file and process names */
	size_t msg;  /* the message */
	size_t text; /* everything else: ids, host, user, reason */
};

/* Budgets in serialized bytes. The first keep whole paths; the second
 * bound any record below 16 KiB whatever its strings hold: at most two
 * command lines (4 KiB), eight paths (4 KiB), four names (1 KiB), the message
 * (0.5 KiB), thirteen short strings (1.6 KiB) and about 2.5 KiB of keys,
 * numbers and markers; 13.7 KiB measured with every string at its worst. */
static const struct caps tiers[] = {
	{ .cmd = 4096, .path = 4096, .name = 1024, .msg = 2048, .text = 1024 },
	{ .cmd = 2048, .path = 512, .name = 256, .msg = 512, .text = 128 },
};

/* A string as it goes into the record. */
struct text {
	const char *s;
	size_t len;
};

struct build {
	const struct tg_event *ev;
	const struct tg_proc *proc;
	const struct caps *caps;
	bool failed;       /* a jansson call failed */
	bool path_pct;     /* the event's paths are percent-encoded */
	struct text name;  /* actor.process.name, for the message too */
	json_t *truncated; /* names of cut fields */
	json_t *encoded;   /* names of percent-encoded fields other than the paths */
};

static void mark(struct build *b, json_t **list, const char *field)
{
	if (!*list && !(*list = json_array()))
		b->failed = true;
	else if (json_array_append_new(*list, json_string(field)))
		b->failed = true;
}

static void *scratch(struct build *b, size_t n)
{
	void *p = arena_malloc(n);
	if (!p)
		b->failed = true;
	return p;
}

/* Copies N bytes of S into the arena so that they take at most CAP bytes in
 * the line, percent-encoding (control bytes, ill-formed UTF-8 and '%') when
 * PCT. Returns false when the copy is shorter than S. */
static bool cut_copy(struct build *b, const char *s, size_t n, bool pct, size_t cap,
		     struct text *t)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t cost = 0, o = 0, i = 0;
	char *out = scratch(b, (n < cap ? (pct ? 3 * n : n) : cap) + 1);

	t->s = "";
	t->len = 0;
	if (!out)
		return true;
	while (i < n) {
		size_t l = utf8_len(u + i, n - i);
		bool enc = l == 0 || (l == 1 && (is_ctl(u[i]) || (pct && u[i] == '%')));
		if (enc && !pct)
			break; /* past the part needs_percent looked at: cut here */
		size_t c = enc ? 3 : json_cost(u[i], l);
		if (cost + c > cap)
			break;
		if (enc) {
			out[o++] = '%';
			out[o++] = hex[u[i] >> 4];
			out[o++] = hex[u[i] & 15];
			i++;
		} else {
			memcpy(out + o, s + i, l);
			o += l, i += l;
		}
		cost += c;
	}
	out[o] = '\0';
	t->s = out;
	t->len = o;
	return i == n;
}

/* A string field: cut to CAP and marked as FIELD when cut. Paths of the
 * event follow path_pct; any other string is percent-encoded only if it must
 * be, and then listed under unmapped.trainguard.percent_encoded. */
static struct text text_of(struct build *b, const char *s, size_t cap, bool is_path,
			   const char *field)
{
	struct text t;
	bool pct = is_path ? b->path_pct : needs_percent(s, cap);

	if (!cut_copy(b, s, strnlen(s, cap + 4), pct, cap, &t))
		mark(b, &b->truncated, field);
	if (pct && !is_path)
		mark(b, &b->encoded, field);
	return t;
}

static void set(struct build *b, json_t *obj, const char *key, json_t *v)
{
	if (!obj || !v || json_object_set_new(obj, key, v))
		b->failed = true;
}

static void set_text(struct build *b, json_t *obj, const char *key, struct text t)
{
	set(b, obj, key, json_stringn(t.s, t.len));
}

static void set_str(struct build *b, json_t *obj, const char *key, const char *s, size_t cap,
		    const char *field)
{
	set_text(b, obj, key, text_of(b, s, cap, false, field));
}

static void set_int(struct build *b, json_t *obj, const char *key, long long v)
{
	set(b, obj, key, json_integer(v));
}

static json_t *new_object(struct build *b, json_t *parent, const char *key)
{
	json_t *o = json_object();
	set(b, parent, key, o);
	return o;
}

/* Splits a path into its folder (none for "/" and bare names) and last
 * name; "/" is its own name. Trailing slashes are not part of the name. */
static void split_path(const char *path, size_t *dirlen, const char **name, size_t *namelen,
		       bool *has_dir)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *slash = memrchr(path, '/', n);
	if (n == 1 && path[0] == '/') {
		*name = path, *namelen = 1, *has_dir = false, *dirlen = 0;
	} else if (!slash) {
		*name = path, *namelen = n, *has_dir = false, *dirlen = 0;
	} else {
		*name = slash + 1;
		*namelen = n - (size_t)(slash + 1 - path);
		*has_dir = true;
		*dirlen = slash == path ? 1 : (size_t)(slash - path);
	}
}

/* A file object for PATH (an event path) under FIELD ("file"). */
static json_t *file_object(struct build *b, const char *path, const char *field,
			   struct text *path_text, int type_id)
{
	static const char *const type_names[] = { "Unknown", "Regular File", "Folder" };
	char label[48];
	json_t *f = json_object();
	size_t dirlen, namelen, fl = strlen(field);
	const char *name;
	bool has_dir;
	struct text t;

	if (fl > sizeof(label) - 16)
		fl = sizeof(label) - 16;
	memcpy(label, field, fl);
	split_path(path, &dirlen, &name, &namelen, &has_dir);

	strcpy(label + fl, ".path");
	*path_text = text_of(b, path, b->caps->path, true, label);
	set_text(b, f, "path", *path_text);

	strcpy(label + fl, ".name");
	if (!cut_copy(b, name, namelen, b->path_pct, b->caps->name, &t))
		mark(b, &b->truncated, label);
	set_text(b, f, "name", t);

	if (has_dir) {
		strcpy(label + fl, ".parent_folder");
		if (!cut_copy(b, path, dirlen, b->path_pct, b->caps->path, &t))
			mark(b, &b->truncated, label);
		set_text(b, f, "parent_folder", t);
	}
	set_int(b, f, "type_id", type_id);
	set(b, f, "type", json_string(type_names[type_id]));
	return f;
}

/* ---- Classification ---------------------------------------------------- */

enum { FILE_CLASS = 1001, PROCESS_CLASS = 1007 };

static bool is_exec_op(const char *op)
{
	/* A spawn's file action opens a file: File System Activity. */
	if (has_prefix(op, "posix_spawn_file_actions"))
		return false;
	return has_prefix(op, "exec") || has_prefix(op, "fexecve") ||
	       has_prefix(op, "posix_spawn") || has_prefix(op, "system") || has_prefix(op, "popen");
}

static bool is_open_op(const char *op)
{
	while (*op == '_')
		op++; /* __open_2, __open64_2, __openat_2 */
	return has_prefix(op, "open") || has_prefix(op, "fopen") || has_prefix(op, "freopen");
}

/* File System Activity id and caption for a non-exec call; 99 takes the
 * libc symbol as its name. */
static int file_activity(const struct tg_event *ev, const char **name)
{
	static const struct {
		enum tg_class cls;
		int id;
		const char *name;
	} by_class[] = {
		{ TG_CREATE, 1, "Create" },	    { TG_DELETE, 4, "Delete" },
		{ TG_CHMOD, 6, "Set Attributes" }, { TG_WRITE, 3, "Update" },
		{ TG_READ, 2, "Read" },
	};

	if (strstr(ev->op, "rename")) {
		*name = "Rename";
		return 5;
	}
	if (is_open_op(ev->op)) {
		*name = "Open";
		return 14;
	}
	for (size_t i = 0; i < sizeof(by_class) / sizeof(by_class[0]); i++)
		if (ev->classes & TG_BIT(by_class[i].cls)) {
			*name = by_class[i].name;
			return by_class[i].id;
		}
	*name = NULL;
	return 99;
}

/* Folders only when the call itself says so; nothing is stat()ed. */
static int file_type_id(const struct tg_event *ev)
{
	const char *op = ev->op;

	if (has_prefix(op, "mkdir") || has_prefix(op, "rmdir") || has_prefix(op, "opendir"))
		return 2;
	return 0;
}

static const char *decision_name(enum tg_decision d)
{
	switch (d) {
	case TG_DEC_DENY:
		return "deny";
	case TG_DEC_WOULD_DENY:
		return "would_deny";
	case TG_DEC_ALLOW:
		return "allow";
	case TG_DEC_LEARN:
		return "learn";
	}
	return "unknown";
}

static const char *decision_verb(enum tg_decision d)
{
	switch (d) {
	case TG_DEC_DENY:
		return "denied";
	case TG_DEC_WOULD_DENY:
		return "would deny";
	case TG_DEC_ALLOW:
		return "allowed";
	case TG_DEC_LEARN:
		return "learned";
	}
	return "decided";
}

static const char *or_unknown(const char *s)
{
	return s ? s : "unknown";
}

/* Names of the flags in "O_WRONLY|O_CREAT" form into OUT (at least 512
 * bytes) and, when ARR is set, as an array. */
static void decode_flags(struct build *b, int flags, char *out, json_t *arr)
{
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	unsigned rest = (unsigned)flags & ~(unsigned)O_ACCMODE;
	size_t n = 0;

#define ADD(s)                                                              \
	do {                                                                \
		size_t l_ = strlen(s);                                      \
		if (n)                                                      \
			out[n++] = '|';                                     \
		memcpy(out + n, s, l_);                                     \
		n += l_;                                                    \
		if (arr && json_array_append_new(arr, json_string(s)))      \
			b->failed = true;                                   \
	} while (0)

	ADD(acc[flags & O_ACCMODE]);
	unsigned named = 0;
	for (size_t i = 0; i < sizeof(open_flags) / sizeof(open_flags[0]); i++) {
		unsigned bits = (unsigned)open_flags[i].bits, sup = (unsigned)open_flags[i].superset;
		if (!bits || (rest & bits) != bits)
			continue;
		if (sup && ((unsigned)flags & sup) == sup)
			continue;
		ADD(open_flags[i].name);
		named |= bits;
	}
	rest &= ~named;
	if (rest) {
		char hex[16] = "0x";
		size_t digits = 1;
		while (digits < 8 && rest >> (4 * digits))
			digits++;
		hex[2 + put_hex(hex + 2, rest, (unsigned)digits)] = '\0';
		ADD(hex);
	}
#undef ADD
	out[n] = '\0';
}

/* ---- The record ---------------------------------------------------------- */

struct stamp {
	struct timespec ts;
	uint32_t seq;
	char uid[37];
	char dt[40];
};

static json_t *user_object(struct build *b)
{
	char uid[24];
	json_t *u = json_object();

	uid[put_dec(uid, b->proc->uid, 1)] = '\0';
	set(b, u, "uid", json_string(uid));
	if (b->proc->user)
		set_str(b, u, "name", b->proc->user, b->caps->text, "actor.user.name");
	return u;
}

static void actor(struct build *b, json_t *rec)
{
	const struct tg_proc *p = b->proc;
	json_t *a = new_object(b, rec, "actor");
	json_t *proc = new_object(b, a, "process");

	set_int(b, proc, "pid", p->pid);
	set_int(b, proc, "ptid", (long long)(b->proc->tid ? b->proc->tid : syscall(SYS_gettid)));
	if (p->name)
		set_text(b, proc, "name", b->name);
	if (p->cmd_line)
		set_str(b, proc, "cmd_line", p->cmd_line, b->caps->cmd, "actor.process.cmd_line");
	if (p->start_ms > 0)
		set_int(b, proc, "created_time", p->start_ms);
	if (p->cwd)
		set_str(b, proc, "working_directory", p->cwd, b->caps->path,
			"actor.process.working_directory");
	if (p->exe) {
		json_t *f = new_object(b, proc, "file");
		size_t dirlen, namelen;
		const char *name;
		bool has_dir;

		split_path(p->exe, &dirlen, &name, &namelen, &has_dir);
		set_str(b, f, "path", p->exe, b->caps->path, "actor.process.file.path");
		/* The name is cut from the whole path, so it is the real last name. */
		struct text t;
		bool pct = needs_percent(name, b->caps->name);
		if (!cut_copy(b, name, namelen, pct, b->caps->name, &t))
			mark(b, &b->truncated, "actor.process.file.name");
		if (pct)
			mark(b, &b->encoded, "actor.process.file.name");
		set_text(b, f, "name", t);
		set_int(b, f, "type_id", 1);
		set(b, f, "type", json_string("Regular File"));
	}
	set(b, proc, "user", user_object(b));
	json_t *parent = new_object(b, proc, "parent_process");
	set_int(b, parent, "pid", p->ppid);
	set(b, a, "user", user_object(b));
}

/* The launched program of an exec decision (Process Activity). */
static void process(struct build *b, json_t *rec, const struct stamp *st, bool exec,
		    struct text *path_text)
{
	const struct tg_event *ev = b->ev;
	json_t *proc = new_object(b, rec, "process");
	json_t *f = file_object(b, ev->path ? ev->path : "", "process.file", path_text, 0);

	set(b, proc, "file", f);
	set(b, proc, "name", json_incref(json_object_get(f, "name")));
	/* exec keeps the pid; a spawned child has none yet, so it is named by
	 * this record's uid. */
	if (exec)
		set_int(b, proc, "pid", b->proc->pid);
	else
		set(b, proc, "uid", json_string(st->uid));
	json_t *parent = new_object(b, proc, "parent_process");
	set_int(b, parent, "pid", exec ? b->proc->ppid : b->proc->pid);

	if (ev->argv) {
		size_t cap = b->caps->cmd + 4, n = 0;
		char *line = scratch(b, cap + 1);
		if (!line)
			return;
		for (char *const *a = ev->argv; *a && n < cap; a++) {
			size_t l = strnlen(*a, cap - n);
			if (a != ev->argv && n < cap)
				line[n++] = ' ';
			if (l > cap - n)
				l = cap - n;
			memcpy(line + n, *a, l);
			n += l;
		}
		line[n] = '\0';
		set_str(b, proc, "cmd_line", line, b->caps->cmd, "process.cmd_line");
	}
}

static void policy(struct build *b, json_t *rec, struct text *rule_text)
{
	const struct tg_verdict *v = b->ev->verdict;
	const struct tg_rule *r = v->rule;
	json_t *pol = new_object(b, rec, "policy");
	json_t *data = new_object(b, pol, "data");

	if (r) {
		*rule_text = text_of(b, or_unknown(r->id), b->caps->text, false, "policy.uid");
		if (r->reason)
			set_str(b, pol, "desc", r->reason, b->caps->text, "policy.desc");
		if (r->source)
			set_str(b, data, "source", r->source, b->caps->path, "policy.data.source");
		if (r->line > 0)
			set_int(b, data, "line", r->line);
		if (v->pattern)
			set_str(b, data, "pattern", v->pattern, b->caps->text, "policy.data.pattern");
	} else {
		char uid[48] = "default:";
		const char *cls = or_unknown(tg_class_name(v->cls));
		size_t l = strnlen(cls, sizeof(uid) - 9);
		memcpy(uid + 8, cls, l);
		uid[8 + l] = '\0';
		*rule_text = text_of(b, uid, b->caps->text, false, "policy.uid");
		if (b->proc->policy_source)
			set_str(b, data, "source", b->proc->policy_source, b->caps->path,
				"policy.data.source");
	}
	set_text(b, pol, "uid", *rule_text);
	set_text(b, pol, "name", *rule_text);
	set(b, pol, "is_applied", json_true());
	if (b->proc->policy_sha256)
		set_str(b, data, "sha256", b->proc->policy_sha256, b->caps->text,
			"policy.data.sha256");
}

/* "denied open64(O_WRONLY|O_CREAT) of /x/y by python3 (rule dataset-read-only)" */
static void message(struct build *b, json_t *rec, struct text op, const char *flags,
		    struct text path, struct text path2, struct text by, struct text rule)
{
	const char *verb = decision_verb(b->ev->decision);
	size_t fl = flags ? strlen(flags) : 0;
	size_t cap = strlen(verb) + op.len + fl + path.len + path2.len + by.len + rule.len + 64;
	char *m = scratch(b, cap), pid[24];
	size_t n = 0;

	if (!m)
		return;
#define PUT(s, l) (memcpy(m + n, (s), (l)), n += (l))
#define LIT(s)	  PUT(s, sizeof(s) - 1)
	PUT(verb, strlen(verb));
	LIT(" ");
	PUT(op.s, op.len);
	if (flags) {
		LIT("(");
		PUT(flags, fl);
		LIT(")");
	}
	LIT(" of ");
	PUT(path.s, path.len);
	if (path2.len) {
		LIT(" and ");
		PUT(path2.s, path2.len);
	}
	LIT(" by ");
	if (by.len) {
		PUT(by.s, by.len);
	} else {
		LIT("pid ");
		PUT(pid, put_dec(pid, (uint64_t)b->proc->pid, 1));
	}
	if (rule.len) {
		LIT(" (rule ");
		PUT(rule.s, rule.len);
		LIT(")");
	}
#undef LIT
#undef PUT
	struct text t;
	if (!cut_copy(b, m, n, false, b->caps->msg, &t))
		mark(b, &b->truncated, "message");
	set_text(b, rec, "message", t);
}

static json_t *build_record(struct build *b, const struct stamp *st)
{
	const struct tg_event *ev = b->ev;
	const struct tg_proc *p = b->proc;
	const struct tg_verdict *v = ev->verdict;
	const char *path = ev->path ? ev->path : "";
	bool exec_op = is_exec_op(ev->op);
	int cls = exec_op ? PROCESS_CLASS : FILE_CLASS, activity;
	const char *activity_name;
	json_t *rec = json_object();

	if (!rec) {
		b->failed = true;
		return NULL;
	}
	/* One encoding for all the event's paths, so that one marker says it.
	 * The name is checked apart: it may lie past the part of PATH kept. */
	size_t dirlen, namelen;
	const char *name;
	bool has_dir;
	split_path(path, &dirlen, &name, &namelen, &has_dir);
	b->path_pct = needs_percent(path, b->caps->path) || needs_percent(name, b->caps->name) ||
		      (ev->path_requested && needs_percent(ev->path_requested, b->caps->path)) ||
		      (ev->path2 && needs_percent(ev->path2, b->caps->path));
	if (p->name)
		b->name = text_of(b, p->name, b->caps->name, false, "actor.process.name");

	/* Classification and time. */
	if (exec_op) {
		activity = 1;
		activity_name = "Launch";
	} else {
		activity = file_activity(ev, &activity_name);
	}
	struct text op = text_of(b, ev->op, b->caps->text, false, "unmapped.trainguard.op");
	char type_name[64];
	const char *class_name = exec_op ? "Process Activity" : "File System Activity";
	size_t cl = strlen(class_name), al;
	const char *type_activity = activity == 99 ? "Other" : activity_name;
	al = strlen(type_activity);
	memcpy(type_name, class_name, cl);
	memcpy(type_name + cl, ": ", 2);
	memcpy(type_name + cl + 2, type_activity, al + 1);

	set_int(b, rec, "category_uid", 1);
	set(b, rec, "category_name", json_string("System Activity"));
	set_int(b, rec, "class_uid", cls);
	set(b, rec, "class_name", json_string(class_name));
	set_int(b, rec, "activity_id", activity);
	if (activity == 99)
		set_text(b, rec, "activity_name", op);
	else
		set(b, rec, "activity_name", json_string(activity_name));
	set_int(b, rec, "type_uid", (long long)cls * 100 + activity);
	set(b, rec, "type_name", json_string(type_name));
	set_int(b, rec, "time", (long long)st->ts.tv_sec * 1000 + st->ts.tv_nsec / 1000000);
	set(b, rec, "time_dt", json_string(st->dt));

	/* Decision and outcome. */
	static const struct {
		int severity, action, disposition;
		const char *sev_name, *action_name, *disp_name;
		bool alert;
	} outcome[] = {
		[TG_DEC_DENY] = { 4, 2, 2, "High", "Denied", "Blocked", true },
		[TG_DEC_WOULD_DENY] = { 3, 1, 15, "Medium", "Allowed", "Detected", true },
		[TG_DEC_ALLOW] = { 1, 1, 1, "Informational", "Allowed", "Allowed", false },
		[TG_DEC_LEARN] = { 1, 1, 1, "Informational", "Allowed", "Allowed", false },
	};
	unsigned d = (unsigned)ev->decision <= TG_DEC_LEARN ? (unsigned)ev->decision : TG_DEC_ALLOW;
	set_int(b, rec, "severity_id", outcome[d].severity);
	set(b, rec, "severity", json_string(outcome[d].sev_name));
	set_int(b, rec, "action_id", outcome[d].action);
	set(b, rec, "action", json_string(outcome[d].action_name));
	set_int(b, rec, "disposition_id", outcome[d].disposition);
	set(b, rec, "disposition", json_string(outcome[d].disp_name));
	set(b, rec, "is_alert", json_boolean(outcome[d].alert));

	char code[24];
	const char *ename = errno_name(ev->err);
	if (ev->err == 0) {
		strcpy(code, "OK");
	} else if (ename) {
		strcpy(code, ename);
	} else {
		memcpy(code, "errno:", 6);
		code[6 + put_dec(code + 6, (uint64_t)(ev->err < 0 ? -ev->err : ev->err), 1)] = '\0';
	}
	set_int(b, rec, "status_id", ev->err ? 2 : 1);
	set(b, rec, "status", json_string(ev->err ? "Failure" : "Success"));
	set(b, rec, "status_code", json_string(code));

	/* Who, where, what. */
	actor(b, rec);
	json_t *dev = new_object(b, rec, "device");
	set_str(b, dev, "hostname", or_unknown(p->hostname), b->caps->text, "device.hostname");
	set_int(b, dev, "type_id", 1);
	set(b, dev, "type", json_string("Server"));

	struct text path_text, path2_text = { "", 0 }, rule_text = { "", 0 };
	json_t *obs = json_object();
	if (exec_op) {
		bool spawn = has_prefix(ev->op, "posix_spawn") || has_prefix(ev->op, "system") ||
			     has_prefix(ev->op, "popen");
		set_int(b, rec, "launch_type_id", spawn ? 1 : 3);
		set(b, rec, "launch_type", json_string(spawn ? "Spawn" : "Exec"));
		process(b, rec, st, !spawn, &path_text);
		set(b, obs, "name", json_string("process.file.path"));
	} else {
		set(b, rec, "file", file_object(b, path, "file", &path_text, file_type_id(ev)));
		set(b, obs, "name", json_string("file.path"));
		if (ev->flags >= 0)
			set_int(b, rec, "access_mask", ev->flags);
	}
	set_int(b, obs, "type_id", 45);
	set(b, obs, "type", json_string("File Path"));
	set_text(b, obs, "value", path_text);
	json_t *observables = json_array();
	if (!observables || json_array_append_new(observables, obs))
		b->failed = true;
	set(b, rec, "observables", observables);

	if (v)
		policy(b, rec, &rule_text);

	/* Metadata. */
	json_t *meta = new_object(b, rec, "metadata");
	json_t *product = new_object(b, meta, "product");
	set(b, meta, "version", json_string("1.8.0"));
	set(b, product, "name", json_string("trainguard"));
	set(b, product, "vendor_name", json_string("trainguard"));
	if (p->version)
		set_str(b, product, "version", p->version, b->caps->text,
			"metadata.product.version");
	json_t *profiles = json_array();
	if (!profiles || json_array_append_new(profiles, json_string("security_control")) ||
	    json_array_append_new(profiles, json_string("datetime")))
		b->failed = true;
	set(b, meta, "profiles", profiles);
	set(b, meta, "uid", json_string(st->uid));
	set_int(b, meta, "sequence", st->seq);
	if (p->job_id)
		set_str(b, meta, "correlation_uid", p->job_id, b->caps->text,
			"metadata.correlation_uid");
	set(b, meta, "log_name", json_string("trainguard"));

	/* Ours. */
	json_t *tg = new_object(b, new_object(b, rec, "unmapped"), "trainguard");
	char flags[512];
	set_text(b, tg, "op", op);
	if (ev->flags >= 0) {
		json_t *arr = json_array();
		decode_flags(b, ev->flags, flags, arr);
		set(b, tg, "flags", arr);
	}
	if (ev->dirfd == AT_FDCWD) {
		set(b, tg, "dirfd", json_string("AT_FDCWD"));
	} else {
		char fd[24];
		size_t l = ev->dirfd < 0 ? (fd[0] = '-', 1) : 0;
		fd[l + put_dec(fd + l, (uint64_t)(ev->dirfd < 0 ? -(int64_t)ev->dirfd : ev->dirfd),
			       1)] = '\0';
		set(b, tg, "dirfd", json_string(fd));
	}
	if (ev->path_requested)
		set_text(b, tg, "path_requested",
			 text_of(b, ev->path_requested, b->caps->path, true,
				 "unmapped.trainguard.path_requested"));
	if (ev->path2) {
		path2_text = text_of(b, ev->path2, b->caps->path, true, "unmapped.trainguard.path2");
		set_text(b, tg, "path2", path2_text);
	}
	if (b->path_pct)
		set(b, tg, "path_encoding", json_string("percent"));
	json_t *classes = json_array();
	for (unsigned c = 0; c < TG_NCLASS; c++) {
		const char *cname = tg_class_name(c);
		if ((ev->classes & TG_BIT(c)) && cname &&
		    (!classes || json_array_append_new(classes, json_string(cname))))
			b->failed = true;
	}
	set(b, tg, "classes", classes);
	if (v)
		set(b, tg, "decided_class", json_string(or_unknown(tg_class_name(v->cls))));
	set(b, tg, "decision", json_string(decision_name(ev->decision)));
	set(b, tg, "mode", json_string(or_unknown(tg_mode_name(ev->mode))));
	set_int(b, tg, "errno", ev->err);
	char mode[16];
	if (ev->mode_requested >= 0) {
		put_octal_mode(mode, (unsigned)ev->mode_requested);
		set(b, tg, "mode_requested", json_string(mode));
	}
	if (ev->mode_applied >= 0) {
		put_octal_mode(mode, (unsigned)ev->mode_applied);
		set(b, tg, "mode_applied", json_string(mode));
	}
	if (v && v->rule && v->rule->reason)
		set_str(b, tg, "reason", v->rule->reason, b->caps->text,
			"unmapped.trainguard.reason");
	if (ev->unguarded)
		set(b, tg, "unguarded", json_string(ev->unguarded));

	message(b, rec, op, ev->flags >= 0 ? flags : NULL, path_text, path2_text, b->name,
		rule_text);

	/* Last, so that they list every field above. */
	if (b->encoded)
		set(b, tg, "percent_encoded", b->encoded);
	if (b->truncated) {
		set(b, tg, "truncated", b->truncated);
		set(b, meta, "is_truncated", json_true());
	}
	b->encoded = b->truncated = NULL;
	return rec;
}

int tg_event_format(const struct tg_event *ev, const struct tg_proc *proc, char *buf,
		    size_t cap)
{
	struct stamp st;
	int r = -EINVAL;

	if (!ev || !proc || !ev->op || !buf || cap < TG_EVENT_MAX)
		return -EINVAL;

	unsigned level = depth;
	if (level >= ARENA_LEVELS)
		return -ENOMEM;
	depth = level + 1;
	/* A handler that runs from here on builds in the next level. */
	atomic_signal_fence(memory_order_seq_cst);
	struct arena *a = &arenas[level];
	if (arena_map(a) < 0) {
		r = -ENOMEM;
		goto out;
	}

	clock_gettime(CLOCK_REALTIME, &st.ts);
	st.seq = next_sequence(proc->pid);
	put_uuid7(st.uid, &st.ts, (uint32_t)proc->pid, st.seq);
	put_rfc3339(st.dt, &st.ts);

	for (size_t t = 0; t < sizeof(tiers) / sizeof(tiers[0]); t++) {
		struct build b = { .ev = ev, .proc = proc, .caps = &tiers[t] };

		a->used = 0;
		a->oom = false;
		json_t *rec = build_record(&b, &st);
		size_t n = 0;
		/* The bytes of json_dumps(), written straight into BUF. JSON_SORT_KEYS
		 * sorts with qsort, which in glibc takes a heap buffer once an
		 * object's keys exceed 1 KiB: keep every object under 64 keys. */
		if (rec && !b.failed)
			n = json_dumpb(rec, buf, TG_EVENT_MAX - 2, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(rec);
		if (a->oom) {
			r = -ENOMEM;
			break;
		}
		if (b.failed || n == 0) {
			r = -EINVAL;
			break;
		}
		if (n <= TG_EVENT_MAX - 2) {
			buf[n] = '\n';
			buf[n + 1] = '\0';
			r = (int)n + 1;
			break;
		}
		r = -EINVAL; /* too long even with the small budgets: a bug */
	}
out:
	a->used = 0;
	a->oom = false;
	atomic_signal_fence(memory_order_seq_cst);
	depth = level;
	return r;
}
