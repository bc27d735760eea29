/* Between the files of the decision (decide.c, decide-refer.c,
 * decide-exec.c): each kind of request gets the two path buffers of the
 * one tg_check() frame, A and B (PATH_MAX bytes each), instead of its own:
 * the stack budget (meson.build) has room for these two only. */
#ifndef TG_DECIDE_INTERNAL_H
#define TG_DECIDE_INTERNAL_H

#include "decide.h"

int tg_check_rename(struct tg_req *req, char *a, char *b);
int tg_check_link(struct tg_req *req, char *a, char *b);
int tg_check_exec(struct tg_req *req, char *a, char *b);

/* The folder of PATH (absolute, decided as A, N bytes), held by the guard
 * and checked (open-parent.c), when REQ can act from it (WANT_PARENT) and
 * normalizing changed nothing: the descriptor (> 0), else 0. */
int tg_held_parent(const struct tg_req *req, const char *path, const char *a, int n);

#endif
