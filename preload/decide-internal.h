/* Between the files of the decision (decide.c, decide-refer.c,
 * decide-exec.c): each kind of request gets the two path buffers of the
 * one tg_check() frame, A and B (PATH_MAX bytes each), instead of its own:
 * the stack budget (meson.build) has room for these two only. */
#ifndef TG_DECIDE_INTERNAL_H
#define TG_DECIDE_INTERNAL_H

#include "act.h"
#include "decide.h"

int tg_check_rename(struct tg_req *req, char *a, char *b);
int tg_check_link(struct tg_req *req, char *a, char *b);
int tg_check_exec(struct tg_req *req, char *a, char *b);

/* REQ's object (its DIRFD, PATH, CLASSES), decided as D->path (*N bytes,
 * verdict D->v, absolute and normalized), acted on from its folder, held
 * in END of REQ->act (act.h): decided again on the real path, written to A
 * (PATH_MAX bytes) and named by D->path, when a symlink was on the way;
 * probed as tg_decide_real does when nothing can be held. Returns 0, or
 * -errno: the kernel's answer for a folder that cannot be walked, for the
 * caller to give once the policy has had its say (tg_conclude). */
int tg_decide_held(const struct tg_req *req, struct tg_act_end *end, struct tg_decided *d, char *a,
		   int *n);

#endif
