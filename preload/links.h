/* Symlinked folders on the way to the files opened (see links.c). */
#ifndef TG_LINKS_H
#define TG_LINKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* How many slots were ever filed: 0 while no link was met, and then the
 * open path pays one load. */
extern _Atomic unsigned tg_links_used;

/* The absolute, normalized PATH (LEN bytes) starts with a link the guard
 * knows: reads the link (one readlink) and writes into ABS (PATH_MAX
 * bytes) the folder it names now joined to the rest of PATH, its length
 * in *RET_N. Returns 0, or 1 when PATH is not below a known link or the
 * link changed (then it is refreshed for the next call). The caller opens
 * ABS with RESOLVE_NO_SYMLINKS and decides on it. */
int tg_links_open(const char *path, size_t len, char *abs, int *ret_n);

/* ABS (N bytes), made by tg_links_open, met a symlink: when the folder a
 * link names is itself behind one, that link is left to the resolver. */
void tg_links_loop(const char *abs, size_t n);

/* PATH (absolute, as the program wrote it) was opened through a symlinked
 * folder: files the first link on its way, when joining is all it needs.
 * A few readlinks, once per link. */
void tg_links_learn(const char *path);

#endif
