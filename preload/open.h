/* The open family's door: decides an open and makes it, so that the
 * kernel opens the very object decided on (see open.c, resolve.c). */
#ifndef TG_OPEN_H
#define TG_OPEN_H

#include <stdbool.h>

#include "decide.h"

/* Decides and opens REQ, of which only OP, DIRFD, PATH, FLAGS and MODE
 * (the create mode & 07777 with O_CREAT or O_TMPFILE, else -1) are read:
 * the rest is set here, when the decision needs it (the common case does
 * not, and saves a wrapper zeroing the whole request). Returns 0 with the
 * descriptor in *RET_FD, -errno to refuse (or the open's own error), or 1
 * when the caller must call the real function itself (guard inactive,
 * O_PATH, no openat2, a magic link), with REQ->mode narrowed by a
 * create_mode. errno is kept. */
int tg_open(struct tg_req *req, int *ret_fd);

/* True when CLASSES on (DIRFD, PATH) would be allowed with nothing to
 * record, and a file created with MODE (-1: none) nothing to narrow, on
 * the lexical path: the policy's verdict alone, no system call, no record.
 * False also when the guard is inactive. */
bool tg_open_quiet(int dirfd, const char *path, unsigned classes, int mode);

#endif
