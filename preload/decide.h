/* The decision: one request per call, decided once, concluded once.
 *
 * A wrapper fills a struct tg_req with everything its libc call says
 * (operation, paths, flags, follow or not, classes, mode, argv) and asks
 * tg_check(). The check turns the paths into the names policies use
 * (absolute, normalized, through symlinks as the kernel walks them),
 * decides each on the policy, and concludes: records, kills under
 * on_deny = "kill", narrows a create mode. The open family has its own
 * door (open.h), which decides and opens in one go. */
#ifndef TG_DECIDE_H
#define TG_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "tg-policy.h"

enum tg_req_kind {
	TG_REQ_PATH,     /* CLASSES on (DIRFD, PATH), or on DIRFD itself with ON_FD */
	TG_REQ_FD_WRITE, /* a write on DIRFD, a descriptor the guard never saw:
			  * only a rule refuses it, not the default */
	TG_REQ_HIDDEN,   /* the stat family: refused only by a rule answering ENOENT */
	TG_REQ_CHMOD,    /* class chmod; a chmod to MODE is clamped to the place's
			  * create_mode (MODE out), and refused for set-id bits there */
	TG_REQ_RENAME,   /* delete at PATH, create (and delete) at PATH2, refer rule */
	TG_REQ_LINK,     /* a hard link: create at PATH2, refer rule against PATH */
	TG_REQ_SYMLINK,  /* create at PATH2; PATH is the link's text, recorded */
	TG_REQ_EXEC,     /* exec of the program file PATH; ARGV is recorded */
};

struct tg_act;

struct tg_req {
	const char *op;     /* the libc symbol, for the record */
	const char *path;   /* as the program passed it (NULL: nothing to decide) */
	const char *path2;  /* rename, link, symlink: the new name */
	char *const *argv;  /* exec */
	struct tg_act *act; /* unlink, rename, link, exec: what the call acts on, held
			     * by the check (act.h); NULL acts by name */
	int dirfd;          /* AT_FDCWD, or the descriptor PATH starts from */
	int dirfd2;         /* the new name's */
	int flags;          /* open flags, or -1 */
	int mode;           /* in: a create's mode or chmod's target, -1 for none;
			     * out: the create mode applied */
	unsigned classes;
	unsigned at_flags;    /* renameat2's RENAME_* flags */
	uint8_t kind;         /* enum tg_req_kind */
	bool is_dir;          /* a mkdir: create_mode adds search bits */
	bool nofollow;        /* PATH's last symlink is the object itself */
	bool follow_old;      /* linkat AT_SYMLINK_FOLLOW: the link's target is linked */
	bool on_fd;           /* the object is descriptor DIRFD (fchmod, AT_EMPTY_PATH) */
	bool spawns;          /* exec in a child the call makes: on_deny = "kill" refuses
			     * the call instead of killing its caller */
	uint8_t fd_state;     /* out, TG_REQ_FD_WRITE: what the descriptor table keeps */
	uint8_t kernel_first; /* enum tg_kernel_first: how the kernel fails first */
	bool may_aggregate;   /* an open: an audited allow may join its file's
			     * aggregated record once opened (aggregate.h) */
	bool audit_later;     /* out: tg_conclude left that record to the caller */
	int mode_asked;       /* out with AUDIT_LATER: the mode asked when create_mode
			     * narrowed it (MODE is then the mode applied), or -1 */
};

/* A refused call the kernel would have failed anyway gets the kernel's
 * answer and no record (a mkdir -p of an existing folder, an unlink of a
 * missing file): checked on PATH with one fstatat, on the deny path only,
 * and never when a rule hides the path (errno ENOENT). */
enum tg_kernel_first {
	TG_FIRST_NONE,
	TG_FIRST_EXISTS,  /* mkdir: EEXIST when PATH exists (a dangling link too) */
	TG_FIRST_MISSING, /* unlink, rmdir, rename's source: ENOENT, ENOTDIR when
			   * PATH cannot be found */
};

/* TG_REQ_FD_WRITE's answer for the descriptor table (see fdtable.h). */
enum { TG_REQ_FD_NONE, TG_REQ_FD_PASS, TG_REQ_FD_DENY };

/* Decides REQ. Returns 0 to let the call through (REQ->mode may have been
 * narrowed by a create_mode), or -errno to refuse it. errno is kept. */
int tg_check(struct tg_req *req);

/* For the open path (open.c): the pieces of a decision. */

/* The absolute, normalized path of (DIRFD, PATH) into OUT (CAP bytes):
 * its length, or -errno. */
int tg_absolute(int dirfd, const char *path, char *out, size_t cap);

/* A name the guard cannot turn into a path gets the kernel's own answer
 * (0: let the call fail by itself); one only too long once joined to its
 * folder cannot be decided and is refused (-ENAMETOOLONG). */
int tg_undecidable(int n, const char *path);

/* V decided on PATH (N bytes, lexical) holds for the object the kernel
 * reaches; when a symlink is on the way, decides again on the real path,
 * which then replaces PATH (PATH_MAX bytes). Returns PATH's length. */
int tg_decide_real(const struct tg_req *req, char *path, int n, struct tg_verdict *v);

/* True when an access with verdict V leaves no record. */
bool tg_records_nothing(const struct tg_verdict *v);

/* Learn mode: (PATH, CLASSES) was recorded already. */
bool tg_learned_already(const char *path, size_t n, unsigned classes);

/* What one decision found, for tg_conclude. */
struct tg_decided {
	const char *path;  /* decided on, as policies name it */
	const char *path2; /* the other end of a rename or link, or NULL */
	struct tg_verdict v;
	int err;               /* overrides v.err (0: none): EXDEV for the refer rule */
	const char *unguarded; /* exec: why the child runs without the guard */
};

/* The end of every decision on REQ: records, kills under on_deny =
 * "kill" (this process, checked: a vfork child's cache is its parent's),
 * narrows REQ->mode. Returns 0 or -errno. */
int tg_conclude(struct tg_req *req, const struct tg_decided *d);

/* Start-up: the learn set (learn mode only). */
void tg_learn_init(void);

#endif
