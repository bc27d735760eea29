/* What a program file is, from its mode and first bytes: why the guard
 * cannot follow it into the child (the loader drops LD_PRELOAD for set-id
 * and capability binaries, and cannot load it into static or 32-bit ones),
 * the interpreter of a script, and the program the dynamic loader is
 * asked to run. Pure: the caller reads the file
 * (decide.c), and tests/unit/test-exec-inspect.c pins the table. */
#ifndef TG_EXEC_INSPECT_H
#define TG_EXEC_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Bytes of the file the inspection reads. */
#define TG_EXEC_HEAD 4096

/* Classifies a regular file of mode MODE whose first N bytes are HEAD
 * (CAPS: it carries file capabilities). Returns why it runs unguarded
 * ("setuid", "setgid", "capabilities", "static", "elf32") or NULL, and
 * writes a script's interpreter into INTERP (CAP bytes; "" when none, or
 * when it does not fit). */
const char *tg_exec_inspect(mode_t mode, bool caps, const unsigned char *head, size_t n,
			    char *interp, size_t cap);

/* When PATH (the program file, real path) is the dynamic loader run as a
 * program ("ld-linux-x86-64.so.2 [options] PROG [args]"), the index in
 * ARGV of the program it will load, skipping the loader's options and
 * their values; 0 when PATH is not the loader or names no program
 * (--help, --version, --list-tunables). The loader is known by its file
 * name: ld-linux*, ld-*.so*, ld.so*. */
int tg_exec_loader_target(const char *path, char *const argv[]);

#endif
