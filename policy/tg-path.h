/* Lexical path normalization: no system call, no allocation.
 *
 * The guard decides on the absolute, lexically normalized path of every
 * access. Normalization collapses "//" and "/./", resolves ".." against the
 * preceding component (".." at the root stays at the root) and drops a
 * trailing slash (the root itself stays "/"). It never looks at the file
 * system: symlinks are the business of the caller (see preload/guard.c). */
#ifndef TG_PATH_H
#define TG_PATH_H

#include <stddef.h>

/* Normalizes PATH into OUT (capacity OUTSZ, NUL-terminated on success).
 * A relative PATH is taken relative to BASE (BASE_LEN bytes, absolute; may
 * itself be unnormalized). An absolute PATH ignores BASE, which may then be
 * NULL.
 *
 * Returns the length of OUT (>= 1), or
 *   -EINVAL        PATH is empty or NULL, or relative with no absolute BASE,
 *   -ENAMETOOLONG  the result (or an intermediate) does not fit in OUTSZ. */
int tg_path_normalize(const char *base, size_t base_len, const char *path, char *out,
		      size_t outsz);

/* Length of the parent folder of the normalized path P of length LEN
 * ("/a/b" -> 2 for "/a", "/a" -> 1 for "/", "/" -> 1). */
size_t tg_path_parent_len(const char *p, size_t len);

#endif
