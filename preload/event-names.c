/* The names a record gives to numbers: open(2) flags (in EVENTS.md order),
 * errno values (glibc's own table, strerrorname_np) and decisions. */
#include <fcntl.h>
#include <string.h>

#include "event-internal.h"

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

/* SUPERSET names a flag that contains this one, which is then named alone
 * (O_TMPFILE holds O_DIRECTORY, O_SYNC holds O_DSYNC). */
static const struct {
	int bits, superset;
	const char *name;
} open_flags[] = {
	{ O_CREAT, 0, "O_CREAT" },       { O_EXCL, 0, "O_EXCL" },
	{ O_TRUNC, 0, "O_TRUNC" },       { O_APPEND, 0, "O_APPEND" },
	{ O_NOFOLLOW, 0, "O_NOFOLLOW" }, { O_DIRECTORY, O_TMPFILE, "O_DIRECTORY" },
	{ O_CLOEXEC, 0, "O_CLOEXEC" },   { O_TMPFILE, 0, "O_TMPFILE" },
	{ O_PATH, 0, "O_PATH" },         { O_NONBLOCK, 0, "O_NONBLOCK" },
	{ O_SYNC, 0, "O_SYNC" },         { O_DSYNC, O_SYNC, "O_DSYNC" },
	{ O_NOATIME, 0, "O_NOATIME" },   { O_NOCTTY, 0, "O_NOCTTY" },
	{ O_DIRECT, 0, "O_DIRECT" },     { TG_O_LARGEFILE, 0, "O_LARGEFILE" },
};

static size_t add_name(char *out, size_t n, const char *name)
{
	size_t l = strlen(name);

	if (n)
		out[n++] = '|';
	memcpy(out + n, name, l);
	return n + l;
}

size_t tg_open_flag_names(int flags, char out[TG_FLAG_NAMES_MAX])
{
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	unsigned rest = (unsigned)flags & ~(unsigned)O_ACCMODE, named = 0;
	size_t n = add_name(out, 0, acc[flags & O_ACCMODE]);

	for (size_t i = 0; i < sizeof(open_flags) / sizeof(open_flags[0]); i++) {
		unsigned bits = (unsigned)open_flags[i].bits,
			 sup = (unsigned)open_flags[i].superset;
		if (!bits || (rest & bits) != bits)
			continue;
		if (sup && ((unsigned)flags & sup) == sup)
			continue;
		n = add_name(out, n, open_flags[i].name);
		named |= bits;
	}
	rest &= ~named;
	if (rest) {
		char hex[16] = "0x";
		unsigned digits = 1;
		while (digits < 8 && rest >> (4 * digits))
			digits++;
		hex[2 + tg_put_hex(hex + 2, rest, digits)] = '\0';
		n = add_name(out, n, hex);
	}
	out[n] = '\0';
	return n;
}

void tg_errno_code(int err, char out[24])
{
	/* strerrorname_np names every errno glibc knows (0 is "0"). */
	const char *name = err > 0 ? strerrorname_np(err) : NULL;
	size_t l = name ? strnlen(name, 23) : 0;

	if (err == 0) {
		memcpy(out, "OK", 3);
	} else if (l) {
		memcpy(out, name, l);
		out[l] = '\0';
	} else {
		memcpy(out, "errno:", 6);
		out[6 + tg_put_dec(out + 6, (uint64_t)(err < 0 ? -(int64_t)err : err), 1)] = '\0';
	}
}

const char *tg_decision_name(enum tg_decision d)
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
	case TG_DEC_CLAMP:
		return "clamp";
	}
	return "unknown";
}

const char *tg_decision_verb(enum tg_decision d)
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
	case TG_DEC_CLAMP:
		return "clamped";
	}
	return "decided";
}
