/* The guard's answer to `trainguard run` (see answer.c). */
#ifndef TG_ANSWER_H
#define TG_ANSWER_H

#include <stdbool.h>

/* Answers on TRAINGUARD_HANDSHAKE's pipe, if any: ACTIVE, or running
 * unguarded. Once, from start-up. */
void tg_handshake_answer(bool active);

#endif
