/* The open where openat2 is missing: from the folder's descriptor (see
 * open-parent.c). */
#ifndef TG_OPEN_PARENT_H
#define TG_OPEN_PARENT_H

#include <stdbool.h>
#include <stddef.h>

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
 * 0 for the root) as this thread keeps it, checked to be still at PATH
 * with no symlink on the way (one readlink; a folder found moved or
 * replaced is let go): the descriptor (the guard's: not to be closed), or
 * 0. For calls that act on a name in a folder (act.c). */
int tg_held_folder(const char *path, size_t plen);

/* FD, a folder just opened whose real path is PATH (as above), kept by this
 * thread, in a slot other than the one holding BUSY (a kept descriptor the
 * call in progress acts from, or -1): true when kept (the guard closes it
 * later; the caller must not), false when it cannot be (a path too long
 * for a slot, a vfork child). */
bool tg_held_keep(int fd, const char *path, size_t plen, int busy);

#endif
