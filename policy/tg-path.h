/* Lexical path normalization: no system call, no allocation.
 *
 * The guard decides on the absolute, lexically normalized path of every
 * access. Normalization collapses "//" and "/./", resolves ".." against the
 * preceding component (".." at the root stays at the root) and drops a
 * trailing slash (the root itself stays "/"). It never looks at the file
 * system: symlinks are the business of the caller (see preload/decide.c and preload/resolve.c). */
#ifndef TG_PATH_H
#define TG_PATH_H

#include <stddef.h>

/* Normalizes PATH into OUT (capacity OUTSZ, NUL-terminated on success).
 * A relative PATH is taken relative to BASE (BASE_LEN bytes, or up to its
 * first NUL; absolute; may itself be unnormalized). An absolute PATH ignores
 * BASE, which may then be NULL. OUT must not overlap BASE or PATH. The
 * input may be of any length: only what OUT holds is bounded.
 *
 * Returns the length of OUT (>= 1), or
 *   -EINVAL        PATH is empty or NULL, or relative with no absolute BASE,
 *                  or OUT is NULL,
 *   -ENAMETOOLONG  the result (or an intermediate: "/<5000 bytes>/.." fails
 *                  in a PATH_MAX buffer) does not fit in OUTSZ.
 * On failure OUT holds the empty string (when OUTSZ > 0). */
int tg_path_normalize(const char *base, size_t base_len, const char *path, char *out, size_t outsz);

/* The length of P when it is absolute and already normalized (the common
 * case, which then needs no copy), else 0. */
size_t tg_path_is_normal(const char *p);

/* The length of P when it is relative and needs no normalizing to be
 * joined to a normalized folder: no empty, "." or ".." component and no
 * trailing slash ("a/b.bin"; not "a//b", "./a", "a/"). Else 0. */
size_t tg_path_rel_normal(const char *p);

/* Length of the parent folder of the normalized path P of length LEN
 * ("/a/b" -> 2 for "/a", "/a" -> 1 for "/", "/" -> 1; 0 when P has no '/'). */
size_t tg_path_parent_len(const char *p, size_t len);

#endif
