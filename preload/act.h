/* Acting on what was decided: an unlink, rename, link or exec is performed
 * on the object the decision was made on, not on the path again (see
 * act.c). A wrapper owns one struct tg_act per call, starts it acting by
 * name (tg_act_init), lets the check hold what it decided, calls the real
 * function with what the act names and releases it. */
#ifndef TG_ACT_H
#define TG_ACT_H

#include <limits.h>
#include <stdbool.h>

/* One end of an unlink, rename or link: the call is made on (DIRFD, NAME). */
struct tg_act_end {
	int dirfd;
	const char *name;
	const char *path; /* the name as the program passed it */
	int held;         /* a folder descriptor the act owns (closed on release), or -1 */
	bool kept;        /* DIRFD is the folder PATH names up to NAME, kept by this
			   * thread (open-parent.c): the guard's, not the act's */
};

struct tg_act {
	struct tg_act_end from, to; /* unlink: FROM; rename, link: the old and the new name */
	int exec_fd;                /* exec: the program held (O_PATH), or -1 */
	bool exec_by_fd;            /* run EXEC_FD itself (execveat AT_EMPTY_PATH) */
	const char *exec_path;      /* else the path to run: the decided one, or the caller's */
	char *real;                 /* exec: the caller's PATH_MAX bytes for the program's
				     * real path, or NULL */
};

/* Starts ACT acting by name on (DIRFD, PATH) and (DIRFD2, PATH2). */
void tg_act_init(struct tg_act *act, int dirfd, const char *path, int dirfd2, const char *path2);

/* Closes what ACT holds; errno is kept. */
void tg_act_release(struct tg_act *act);

/* Holds the folder of END (one of ACT's ends, still by name), whose last
 * component the call acts on itself (never followed), and points END at
 * it. LEX (N bytes) is the absolute, normalized form of END's path the
 * verdict was made on. The folder is the one this thread keeps when the
 * program's path is LEX itself (one readlink proves it is still there,
 * reached without a symlink; the other end's when both are in one
 * folder), else opened for this call. Returns 0 when LEX names the object
 * (a name in DIRFD itself, or a folder reached without a symlink, now
 * held), the length of the real path written into OUT (PATH_MAX bytes,
 * may be LEX) when a symlink was on the way (the folder held is the one it
 * names), -errno when the folder cannot be walked (the call's own answer),
 * or TG_ACT_BY_NAME when nothing could be held (no /proc, the guard's
 * system calls frozen): END stays by name and the caller decides as
 * before. */
#define TG_ACT_BY_NAME (-10000)
int tg_act_hold_folder(struct tg_act *act, struct tg_act_end *end, const char *lex, int n,
		       char *out);

/* True when the kernel names a process run from a descriptor after its
 * file (Linux 6.14 and later), not after the descriptor's number. */
bool tg_act_exec_fd_named(void);

#endif
