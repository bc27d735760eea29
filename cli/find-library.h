/* Where the command finds libtrainguard.so: one function, used by `run`
 * (and whatever else needs the library's path), so that an installed,
 * relocated or build-tree command each find the library that belongs to it. */
#ifndef TG_FIND_LIBRARY_H
#define TG_FIND_LIBRARY_H

#include <stddef.h>

/* Where tg_find_library() found the library. */
enum tg_lib_source {
	TG_LIB_ENV,        /* TRAINGUARD_LIBRARY */
	TG_LIB_BUILD_TREE, /* <dir of the command>/../preload/ in a meson build folder */
	TG_LIB_PREFIX,     /* <prefix>/<libdir>/trainguard/, prefix taken from the command's path */
	TG_LIB_LIBDIR,     /* the libdir configured at build time (TG_LIBDIR) */
};

/* Finds libtrainguard.so, in this order:
 *  1. TRAINGUARD_LIBRARY when set and not empty; nothing else is tried then,
 *     so a wrong value is reported instead of silently replaced;
 *  2. beside the command in the build folder (<bindir>/../preload/);
 *  3. relative to the command's own install prefix: /proc/self/exe (links
 *     resolved) is <prefix>/<bindir>/trainguard, the library is
 *     <prefix>/<libdir>/trainguard/libtrainguard.so, bindir and libdir as
 *     configured; a copied or relocated install finds its own library;
 *  4. the configured TG_LIBDIR.
 * Writes the real path (links resolved, at most CAP bytes with the NUL) to
 * RET_PATH and, when RET_SOURCE is not NULL, where it was found; neither is
 * written on failure. Returns 0; -EINVAL when TRAINGUARD_LIBRARY names no
 * readable regular file; -ENOENT when no place holds the library;
 * -ENAMETOOLONG when the path does not fit CAP. */
int tg_find_library(char *ret_path, size_t cap, enum tg_lib_source *ret_source);

/* The folders step 2 to 4 look in, for a message: "'A', 'B' and 'C'"
 * (places that do not apply are left out). Returns 0 or -ENAMETOOLONG
 * (BUF then holds as much as fits). */
int tg_library_places(char *buf, size_t cap);

#endif
