/* The environment variables trainguard reads and hands to children, named
 * once for the command, the library and the tests' C code. */
#ifndef TG_ENV_H
#define TG_ENV_H

#include <stddef.h>

#define TG_ENV_PRELOAD  "LD_PRELOAD"
#define TG_ENV_POLICY   "TRAINGUARD_POLICY"
#define TG_ENV_MODE     "TRAINGUARD_MODE"
#define TG_ENV_LOG      "TRAINGUARD_LOG"
#define TG_ENV_JOB_ID   "TRAINGUARD_JOB_ID"
#define TG_ENV_VARS     "TRAINGUARD_VARS"
#define TG_ENV_ON_ERROR "TRAINGUARD_ON_ERROR"
#define TG_ENV_MEMO     "TRAINGUARD_MEMO"
#define TG_ENV_LIBRARY  "TRAINGUARD_LIBRARY"
/* The descriptor `trainguard run` waits on for the guard's answer. */
#define TG_ENV_HANDSHAKE "TRAINGUARD_HANDSHAKE"
/* The parent's chain link "<id>[.<seq>.<sha256>]", set by the guard for
 * each exec'd or spawned child (preload/chain.h); never by people. */
#define TG_ENV_CHAIN "TRAINGUARD_CHAIN"
/* The fence's layers a parent installed ("landlock+seccomp", ..., "none"):
 * set by `trainguard run` and by the library once it fenced the job, so a
 * child inside the parent's domain does not stack another. */
#define TG_ENV_FENCE "TRAINGUARD_FENCE"
/* The socket of `trainguard run`'s collector: the guard sends its records
 * there, and `run`, the only writer of the log file TRAINGUARD_LOG names,
 * writes them (cli/collector.c). */
#define TG_ENV_COLLECTOR "TRAINGUARD_COLLECTOR"
/* The descriptor of the sealed memory file holding the compiled policy,
 * set by the guard for its children (preload/handoff.h); never by people. */
#define TG_ENV_HANDOFF "TRAINGUARD_HANDOFF"
/* Every variable of the guard's own starts with this. */
#define TG_ENV_PREFIX "TRAINGUARD_"

/* The job id, by one precedence for everyone: GIVEN (a --job-id), then
 * TRAINGUARD_JOB_ID, SLURM_JOB_ID, TORCHELASTIC_RUN_ID, HOSTNAME when
 * running in a Kubernetes pod (KUBERNETES_SERVICE_HOST set: a pod's
 * hostname is its name), and else a generated "tg-<µs since epoch>-<pid>".
 * Empty values count as unset. Writes at most CAP bytes, NUL included. */
void tg_job_id(char *out, size_t cap, const char *given);

#endif
