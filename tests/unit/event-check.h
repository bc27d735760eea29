/* The event tests' shared helpers (event-check.c). */
#ifndef TG_TEST_EVENT_CHECK_H
#define TG_TEST_EVENT_CHECK_H
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "event-internal.h"

/* TAP (tap.h, made once in event-check.c) */
int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_done(void);

/* Looking into a record: PATH is dotted, array indexes as numbers. */
json_t *at(json_t *root, const char *path);
void is_str(json_t *r, const char *what, const char *path, const char *want);
void is_int(json_t *r, const char *what, const char *path, long long want);
void is_bool(json_t *r, const char *what, const char *path, bool want);
void absent(json_t *r, const char *what, const char *path);
void is_strs(json_t *r, const char *what, const char *path, const char *want);
bool has_str(json_t *arr, const char *want);
size_t max_keys(json_t *v);
long long now_ms(void);

/* A line checked for its byte form, kept for the OCSF check, and parsed. */
json_t *check_line(const char *what, const char *buf, int r);
json_t *record(const char *what, const struct tg_event *ev, const struct tg_proc *p);
void keep_line(const char *line, size_t len);
void common(json_t *rec, const char *what, const struct tg_proc *p, long long t0);
void run_validator(void);
int finish(void);

/* Fixtures */
extern struct tg_proc proc;
extern const struct tg_rule rule_ro, rule_secrets, rule_datasets, rule_tools;
struct tg_event event(const char *op, int flags, const char *path, unsigned classes,
		      const struct tg_verdict *v, enum tg_decision d, enum tg_mode m, int err);

/* The tests, by file */
void test_encoding(void), test_long(void), test_text(void);
void test_nesting_hook(void), test_nesting_signal(void), test_threads(void);
#endif
