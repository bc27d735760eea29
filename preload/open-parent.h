/* The open where openat2 is missing: from the folder's descriptor (see
 * open-parent.c). */
#ifndef TG_OPEN_PARENT_H
#define TG_OPEN_PARENT_H

#include "decide.h"

/* Decides and opens REQ (a request open.c has filled) from a descriptor of
 * its folder, with O_NOFOLLOW, so that a symlink swapped in meanwhile
 * cannot redirect the open; a link in the last place is followed the same
 * way. NAMED (PATH_MAX bytes) receives the path decided on. Returns 0 with
 * the descriptor in *RET_FD, -errno (a refusal or the open's own error),
 * or 1 when the program's own open must be made (O_PATH, O_TMPFILE, a
 * name ending in "/", "." or "..", a magic link). */
int tg_open_parent(struct tg_req *req, char *named, int *ret_fd);

#endif
