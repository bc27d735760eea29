/* What the parts of the event builder share, and nothing else includes:
 * the per-thread arena jansson allocates from (event-arena.c), the text
 * helpers that make a string fit a record (event-text.c) and the names of
 * flags, errors and decisions (event-names.c). The record itself is
 * event-record.c; the OCSF numbers and words are ocsf.h. None of these
 * functions allocates from the heap, takes a lock or uses stdio. */
#ifndef TG_EVENT_INTERNAL_H
#define TG_EVENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "event.h"

/* ---- event-arena.c ---------------------------------------------------------- */

/* Enters the next nesting level of this thread's arenas, mapping it on
 * first use, and writes the level to leave to RET_LEVEL. Returns 0, or
 * -ENOMEM (nothing entered) when every level is in use or the mapping
 * failed. A signal handler that runs after the entry builds in the next
 * level. */
int tg_arena_enter(unsigned *ret_level);
void tg_arena_leave(unsigned level);

/* Forgets what the current level holds, for the next try of a record. */
void tg_arena_reset(void);

/* True when an allocation of the current level failed since the reset. */
bool tg_arena_oom(void);

/* N bytes of the current level, 16-aligned, or NULL when it is full (which
 * tg_arena_oom() then reports) or no level is entered. Never freed. */
void *tg_arena_alloc(size_t n);

/* ---- event-text.c ----------------------------------------------------------- */

/* Writes V in decimal, at least WIDTH digits, and returns the length (no
 * terminating NUL). */
size_t tg_put_dec(char *out, uint64_t v, unsigned width);

/* Writes the low DIGITS hex digits of V (lower case); returns DIGITS. */
size_t tg_put_hex(char *out, uint64_t v, unsigned digits);

/* "0644": a leading 0, then at least three octal digits; NUL-terminated. */
void tg_put_octal_mode(char out[16], unsigned mode);

/* RFC 3339 in UTC with nanoseconds: 2026-07-29T08:00:01.456789000Z. */
void tg_put_rfc3339(char out[40], const struct timespec *ts);

/* A UUIDv7 (RFC 9562) of TS with PID and SEQ in its random part. */
void tg_put_uuid7(char out[37], const struct timespec *ts, uint32_t pid, uint32_t seq);

/* Does the part of S that fits in CAP serialized bytes hold a control byte
 * or ill-formed UTF-8, so that it must be percent-encoded? */
bool tg_text_needs_percent(const char *s, size_t cap);

/* Bytes tg_text_cut() may write for N bytes of input (with the NUL). */
size_t tg_text_cut_room(size_t n, bool pct, size_t cap);

/* Copies N bytes of S into OUT (tg_text_cut_room() bytes) so that they take
 * at most CAP bytes in the serialized line, percent-encoding control
 * bytes, ill-formed UTF-8 and '%' when PCT. Returns the length written;
 * RET_WHOLE says whether all of S was kept. */
size_t tg_text_cut(const char *s, size_t n, bool pct, size_t cap, char *out, bool *ret_whole);

/* Splits PATH into its folder (RET_DIRLEN bytes; none for "/" and bare
 * names, then RET_HAS_DIR is false) and last name; "/" is its own name,
 * trailing slashes are not part of the name. */
void tg_split_path(const char *path, size_t *ret_dirlen, const char **ret_name, size_t *ret_namelen,
		   bool *ret_has_dir);

/* ---- event-names.c ---------------------------------------------------------- */

/* Longest tg_open_flag_names() output, with the NUL. */
#define TG_FLAG_NAMES_MAX 512

/* FLAGS as "O_WRONLY|O_CREAT|0x40000000" into OUT (TG_FLAG_NAMES_MAX bytes):
 * the access mode, each named flag in EVENTS.md order, then the bits
 * without a name in hex. Returns the length. */
size_t tg_open_flag_names(int flags, char out[TG_FLAG_NAMES_MAX]);

/* status_code: "OK" for 0, the errno's name ("EACCES"), or "errno:N".
 * OUT holds 24 bytes. */
void tg_errno_code(int err, char out[24]);

/* "deny", "would_deny", ... and "denied", "would deny", ... */
const char *tg_decision_name(enum tg_decision d);
const char *tg_decision_verb(enum tg_decision d);

#endif
