/* The environment a child gets: the program's, without LD_PRELOAD and
 * TRAINGUARD_*, plus the values saved at start, so that a program that
 * clears its environment cannot change what its children run under; a
 * library the program lists before the guard is moved after what the
 * parent loaded (the guard comes first, as it did in the parent).
 *
 * Pure functions over a spec (one fstat of the handoff descriptor aside),
 * no allocation: safe in a vfork child, and unit-tested
 * (tests/unit/test-child-env.c). */
#ifndef TG_CHILD_ENV_H
#define TG_CHILD_ENV_H

#include <stdbool.h>
#include <stddef.h>

#define TG_CHILD_ENV_MAX 12

/* What start-up saved. */
struct tg_child_spec {
	const char *entries[TG_CHILD_ENV_MAX]; /* "NAME=value", LD_PRELOAD first */
	size_t n;
	const char *self_path; /* this library, absolute; NULL when unknown */
	/* "TRAINGUARD_HANDOFF=<fd>" (NULL: none), given only while HANDOFF_FD
	 * is still the file of that device and inode (preload/handoff.h). */
	const char *handoff;
	int handoff_fd;
	unsigned long long handoff_dev, handoff_ino;
};

/* True when SPEC's handoff entry is to be given: its descriptor still
 * holds the same file (one fstat; safe in a vfork child). */
bool tg_child_handoff_live(const struct tg_child_spec *spec);

/* Number of pointers tg_child_env needs for ENVP (its NULL included), and
 * room for one more entry a caller appends (tg_child_env_append). */
size_t tg_child_env_size(const struct tg_child_spec *spec, char *const envp[]);

/* Room for an LD_PRELOAD entry rebuilt with the guard first. */
#define TG_CHILD_PRELOAD_MAX 512

/* Builds the child's environment for ENVP into BUF (CAP pointers), using
 * SCRATCH (SCRATCH_CAP bytes, TG_CHILD_PRELOAD_MAX will do) for a rebuilt
 * LD_PRELOAD entry. Returns 0, or -ENOBUFS when CAP is below
 * tg_child_env_size(). With no saved entries (not started, unguarded) the
 * environment is ENVP's. */
int tg_child_env(const struct tg_child_spec *spec, char *const envp[], char **buf, size_t cap,
		 char *scratch, size_t scratch_cap);

/* The LD_PRELOAD entry a child gets when its own list LIST (a value, not
 * an entry) keeps the guard: NULL when LIST opens with what the parent
 * loaded up to the guard (the child's entry stands), else the parent's
 * entry followed by LIST, built in SCRATCH (CAP bytes), or the parent's
 * entry alone when it does not fit. No guard in LIST: the parent's entry. */
const char *tg_child_preload(const struct tg_child_spec *spec, const char *list, char *scratch,
			     size_t cap);

/* Appends ENTRY to the environment BUF that tg_child_env built (it has
 * room for one). */
void tg_child_env_append(char **buf, char *entry);

/* True when the "LD_PRELOAD=..." entry E loads the library SELF_PATH. */
bool tg_child_env_keeps_guard(const char *self_path, const char *e);

/* Puts the saved values back into the process environment (for system and
 * popen, whose child takes it) and removes every other TRAINGUARD_
 * variable. Calls setenv: not for a vfork child. */
void tg_restore_environ(const struct tg_child_spec *spec);

#endif
