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

/* The folder PATH (PLEN bytes: absolute, normalized, no trailing slash;
 * 0 for the root) held by this thread, checked to be still at PATH with no
 * symlink on the way (one readlink), or opened and held now: the
 * descriptor (the guard's: not to be closed), or -errno when it cannot be
 * held (-ELOOP: a symlink on the way). For calls that act on a name in a
 * folder (unlink) from the folder decided on. */
int tg_held_folder(const char *path, size_t plen);

#endif
