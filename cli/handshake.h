/* Proof that the guard is on in the job `trainguard run` starts (see
 * handshake.c). */
#ifndef TG_HANDSHAKE_H
#define TG_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tg_handshake {
	int rd, wr;
};

enum tg_handshake_result {
	TG_HANDSHAKE_ACTIVE,    /* the library answered: the guard is on */
	TG_HANDSHAKE_UNGUARDED, /* it answered that it runs unguarded (ON_ERROR=allow) */
	TG_HANDSHAKE_ENDED,     /* the job ended without an answer */
	TG_HANDSHAKE_SILENT,    /* the job runs and never answered: no guard in it */
};

/* Why the program execvp would run for NAME can never load the library
 * ("static", "setuid", "setgid", "capabilities", "elf32"), or NULL. PATH
 * (CAP bytes) gets the file's path when it was found. */
const char *tg_handshake_unguardable(const char *name, char *path, size_t cap);

/* The pipe, before the fork. Returns 0 or -errno. */
int tg_handshake_open(struct tg_handshake *h);
/* In the job, before its exec: hands it the write end. */
void tg_handshake_child(struct tg_handshake *h);
/* In run, after the fork: waits at most TIMEOUT_S seconds for the answer
 * of JOB (which is not reaped). Closes both ends. */
enum tg_handshake_result tg_handshake_wait(struct tg_handshake *h, pid_t job, int timeout_s);

#endif
