/* Start-up and settings (see start.h).
 *
 * A policy or log that cannot be loaded stops the program before main()
 * with exit status 126 (or, with TRAINGUARD_ON_ERROR=allow, lets it run
 * unguarded and says so). After start-up the guard never stops the program
 * on its own error: a record it cannot build becomes a minimal line, a log
 * it cannot write falls back to stderr, and the call is decided as the
 * policy says. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "decide.h"
#include "fdtable.h"
#include "answer.h"
#include "fence.h"
#include "handoff.h"
#include "lifecycle.h"
#include "log.h"
#include "protect-errno.h"
#include "real.h"
#include "self.h"
#include "settings.h"
#include "tg-config.h"
#include "tg-env.h"

struct tg_settings tg_set;
_Atomic int tg_state = TG_UNINIT;
__thread int tg_depth __attribute__((tls_model("initial-exec")));

/* Start-up runs once (a compare-and-swap admits one thread), on whatever
 * stack the first caller has: its large buffers are static. */
static struct {
	char diag[8192];
	size_t diag_len;
	char jid[256], real[PATH_MAX], logreal[PATH_MAX], msg[PATH_MAX + 256];
	/* The collector's socket when records go there (TRAINGUARD_COLLECTOR). */
	const char *collector;
	char entry[PATH_MAX * 2];
} s;

static void collect_diag(enum tg_diag_level lvl, const char *msg, void *ud)
{
	if (lvl == TG_DIAG_WARNING)
		return; /* warnings are `trainguard check`'s business */
	int n = snprintf(s.diag + s.diag_len, sizeof(s.diag) - s.diag_len, "trainguard: %s\n", msg);
	if (n > 0 && s.diag_len + n < sizeof(s.diag))
		s.diag_len += n;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static char *dup_env(const char *name, const char *value)
{
	char *e;
	return asprintf(&e, "%s=%s", name, value) < 0 ? NULL : e;
}

static bool on_error_allow(void)
{
	const char *v = getenv(TG_ENV_ON_ERROR);
	return v && strcmp(v, "allow") == 0;
}

/* The log learns that the job runs unguarded: into the destination the
 * environment or the loaded policy names, when it can be opened. */
static void record_unguarded(const char *what)
{
	const char *dest = env_or(TG_ENV_LOG, NULL);
	const char *col = env_or(TG_ENV_COLLECTOR, NULL);
	enum tg_sink kind;

	if (col) {
		/* The log file is the collector's to write. */
		int fd = tg_log_open_collector(col, &kind);
		tg_log_set_fd(fd);
		tg_life_unguarded(what, NULL);
		return;
	}
	if (!dest && tg_set.policy)
		dest = tg_policy_log_path(tg_set.policy);
	tg_life_unguarded(what, dest);
}

/* The guard could not start: stop the program before main, or, when asked
 * to, let it run unguarded and say so. */
static void fail_start(const char *what)
{
	if (on_error_allow()) {
		tg_log_say("trainguard: %s; " TG_ENV_ON_ERROR "=allow: running UNGUARDED\n", what);
		record_unguarded(what);
		tg_state = TG_DISABLED;
		tg_handshake_answer(false);
		return;
	}
	tg_log_say("trainguard: %s; refusing to run unguarded (exit 126; set " TG_ENV_ON_ERROR
		   "=allow to run without the guard)\n",
		   what);
	_exit(126);
}

static char *read_cmdline(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/cmdline", "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strdup(buf);
}

/* Moves FD above the descriptors programs use, close-on-exec. */
static int high_fd(int fd)
{
	struct rlimit rl;
	int base = 900;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
		base = rl.rlim_cur / 2;
	int h = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (h < 0)
		return fd;
	close(fd);
	return h;
}

/* Opens the log: --log (TRAINGUARD_LOG) beats the policy's log.path, then
 * stderr. A file, "stderr", "syslog" (/dev/log), "syslog:/socket" or
 * "unix:/socket" (log.h). A file `trainguard run` collects for
 * (TRAINGUARD_COLLECTOR) is never opened here: records go to the
 * collector, which writes them. Returns the destination children inherit,
 * or NULL when the program must not start. */
static const char *open_log(void)
{
	const char *log = env_or(TG_ENV_LOG, NULL);
	const char *col = env_or(TG_ENV_COLLECTOR, NULL);
	enum tg_sink kind;
	const char *path;

	if (!log)
		log = tg_policy_log_path(tg_set.policy);
	if (col && log && tg_log_parse(log, &kind, &path) == 0 && kind == TG_SINK_FILE)
		s.collector = col;
	if (log && strcmp(log, "stderr") != 0) {
		int fd = s.collector ? tg_log_open_collector(col, &kind) : tg_log_open(log, &kind);
		if (fd >= 0) {
			tg_log_set_fd(high_fd(fd));
			if ((kind != TG_SINK_FILE && !s.collector) || !realpath(log, s.logreal))
				return log;
			return s.logreal; /* protected by start() */
		}
		if (s.collector)
			snprintf(s.msg, sizeof(s.msg),
				 "cannot reach the collector of the log '%s' at '%s': %s", log, col,
				 strerror(-fd));
		else
			snprintf(s.msg, sizeof(s.msg), "cannot open the log '%s': %s", log,
				 strerror(-fd));
		s.collector = NULL;
		if (tg_set.mode == TG_ENFORCE) {
			fail_start(s.msg);
			return NULL;
		}
		tg_log_say("trainguard: %s; records go to stderr\n", s.msg);
	}
	int fd = tg_log_open("stderr", &kind);
	tg_log_set_fd(fd >= 0 ? high_fd(fd) : STDERR_FILENO);
	return "stderr";
}

/* What every child inherits, whatever it does to its environment. */
static void save_child_env(const char *policy_path, const char *log, const char *jid,
			   const char *fence)
{
	struct tg_child_spec *c = &tg_set.child;
	const char *preload = env_or(TG_ENV_PRELOAD, "");
	char *list[TG_CHILD_ENV_MAX];
	size_t k = 0;

	if (c->self_path) {
		/* Libraries loaded before ours stay first (ASan must). */
		snprintf(s.entry, sizeof(s.entry), TG_ENV_PRELOAD "=%s", preload);
		if (tg_child_env_keeps_guard(c->self_path, s.entry))
			list[k++] = strdup(s.entry);
		else if (!*preload)
			list[k++] = dup_env(TG_ENV_PRELOAD, c->self_path);
		else if (asprintf(&list[k++], TG_ENV_PRELOAD "=%s:%s", preload, c->self_path) < 0)
			list[k - 1] = NULL;
	}
	if (policy_path && realpath(policy_path, s.real))
		list[k++] = dup_env(TG_ENV_POLICY, s.real);
	list[k++] = dup_env(TG_ENV_MODE, tg_mode_name(tg_set.mode));
	list[k++] = dup_env(TG_ENV_LOG, log);
	if (s.collector)
		list[k++] = dup_env(TG_ENV_COLLECTOR, s.collector);
	list[k++] = dup_env(TG_ENV_JOB_ID, jid);
	list[k++] = dup_env(TG_ENV_VARS, tg_policy_frozen_vars(tg_set.policy));
	if (fence)
		list[k++] = dup_env(TG_ENV_FENCE, fence);
	if (on_error_allow())
		list[k++] = dup_env(TG_ENV_ON_ERROR, "allow");
	const char *memo = env_or(TG_ENV_MEMO, NULL);
	if (memo && strcmp(memo, "off") == 0)
		list[k++] = dup_env(TG_ENV_MEMO, "off");
	for (size_t i = 0; i < k; i++)
		if (list[i])
			c->entries[c->n++] = list[i];
	c->handoff = tg_handoff_entry(&c->handoff_fd, &c->handoff_dev, &c->handoff_ino);
}

/* The comm of the parent process, read once at start. */
static const char *parent_name(pid_t ppid)
{
	char path[64], name[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)ppid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, name, sizeof(name) - 1);
	close(fd);
	while (n > 0 && (name[n - 1] == '\n' || name[n - 1] == '\0'))
		n--;
	if (n <= 0)
		return NULL;
	name[n] = '\0';
	return strdup(name);
}

/* A container id in a cgroup path: the last run of 64 hex digits
 * (docker-<id>.scope, cri-containerd-<id>.scope, /docker/<id>). */
static const char *container_id(const char *cg)
{
	const char *best = NULL;

	for (const char *p = cg; *p; p++) {
		size_t n = strspn(p, "0123456789abcdef");
		if (n == 64)
			best = p;
		if (n)
			p += n - 1;
	}
	return best ? strndup(best, 64) : NULL;
}

/* Where the process runs: its cgroup (v2 line "0::/path", else the first
 * line's path) and the container that cgroup names, the Kubernetes pod and
 * namespace the downward API passed, and the user's name. */
static void context_facts(struct tg_proc *p)
{
	char buf[4096], *cg = NULL;
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = '\0';
		for (char *line = buf; line && *line;) {
			char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
			if (nl)
				*nl = '\0';
			colon = colon ? strchr(colon + 1, ':') : NULL;
			if (colon && (!cg || strncmp(line, "0::", 3) == 0))
				cg = colon + 1;
			line = nl ? nl + 1 : NULL;
		}
	}
	if (cg && *cg) {
		p->cgroup = strdup(cg);
		p->container_id = container_id(cg);
	}
	const char *pod = env_or("TRAINGUARD_K8S_POD", NULL);
	const char *ns = env_or("TRAINGUARD_K8S_NAMESPACE", NULL);
	p->k8s_pod = pod ? strdup(pod) : NULL;
	p->k8s_namespace = ns ? strdup(ns) : NULL;
	p->parent_name = parent_name(getppid());

	struct passwd pw, *found = NULL;
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &found) == 0 && found && pw.pw_name)
		p->user = strdup(pw.pw_name);
}

static void process_facts(const char *jid)
{
	struct tg_proc *p = &tg_set.proc;
	struct utsname u;
	struct timespec ts;
	ssize_t n = readlink("/proc/self/exe", s.real, sizeof(s.real) - 1);

	if (n > 0) {
		s.real[n] = '\0';
		p->exe = strdup(s.real);
	}
	p->cmd_line = read_cmdline();
	const char *base = p->exe ? strrchr(p->exe, '/') : NULL;
	p->name = base ? base + 1 : "?";
	p->uid = getuid();
	p->user = getenv("USER") ? strdup(getenv("USER")) : NULL; /* context_facts may name it */
	p->hostname = uname(&u) == 0 ? strdup(u.nodename) : "localhost";
	p->cwd = getcwd(NULL, 0);
	p->job_id = strdup(jid);
	clock_gettime(CLOCK_REALTIME, &ts);
	p->start_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	p->policy_source = tg_policy_source(tg_set.policy);
	p->policy_sha256 = tg_policy_sha256(tg_set.policy);
	p->version = TG_VERSION;
	p->pid = getpid();
	p->ppid = getppid();
	context_facts(p);
}

/* The mode: the policy's, unless TRAINGUARD_MODE says otherwise and the
 * policy does not lock it. False when the program must not start. */
static bool choose_mode(void)
{
	const char *mode_env = env_or(TG_ENV_MODE, NULL);
	enum tg_mode m;

	tg_set.mode = tg_policy_mode(tg_set.policy);
	if (!mode_env)
		return true;
	if (tg_mode_parse(mode_env, &m) < 0) {
		snprintf(s.msg, sizeof(s.msg), TG_ENV_MODE "='%s' is not enforce, audit or learn",
			 mode_env);
		fail_start(s.msg);
		return false;
	}
	if (tg_policy_lock_mode(tg_set.policy) && tg_set.mode == TG_ENFORCE && m != TG_ENFORCE)
		tg_log_say("trainguard: " TG_ENV_MODE "=%s refused: policy '%s' sets lock_mode, "
			   "the job runs in enforce mode\n",
			   mode_env, tg_policy_source(tg_set.policy));
	else
		tg_set.mode = m;
	return true;
}

/* The layers the start record names: the preload, and the fence's as
 * installed here or inherited from a parent (MARKER, TRAINGUARD_FENCE's
 * "landlock+seccomp" form; "none" or NULL: no fence). */
static void fence_layers(const char *marker)
{
	static char layers[96];
	const char *m = marker ? marker : getenv(TG_ENV_FENCE);
	bool on = m && *m && strcmp(m, "none") != 0;

	snprintf(layers, sizeof(layers), "preload%s%.80s", on ? "," : "", on ? m : "");
	for (char *c = layers; *c; c++)
		if (*c == '+')
			*c = ',';
	tg_life_set_fence(layers, on ? m : "none");
}

/* Loads the policy POLICY_PATH (NULL: the embedded one) into tg_set.policy,
 * in a region it can be handed to children in. False when the program
 * must not start. */
static bool load_policy(const char *policy_path)
{
	struct tg_load_opts o = {
		.path = policy_path,
		.frozen_vars = env_or(TG_ENV_VARS, NULL),
		.job_id = s.jid,
		.diag = collect_diag,
		.errors_only = true,
		.defer_index = true, /* once, by tg_policy_protect */
		.region = true,
	};
	if (tg_policy_load(&o, &tg_set.policy) == 0)
		return true;
	if (s.diag_len)
		tg_log_write(STDERR_FILENO, s.diag, s.diag_len);
	snprintf(s.msg, sizeof(s.msg), "the policy '%s' did not load",
		 policy_path ? policy_path : "embedded:ml-default");
	fail_start(s.msg);
	return false;
}

static void start(void)
{
	Dl_info info;

	tg_resolve();
	tg_event_init();
	tg_job_id(s.jid, sizeof(s.jid), NULL);

	/* The policy a parent handed down, when it was made for what this
	 * process would load; else the file, parsed and compiled. */
	const char *policy_path = env_or(TG_ENV_POLICY, NULL);
	struct tg_handoff_facts facts = { policy_path, s.jid, env_or(TG_ENV_VARS, NULL) };
	bool handed = tg_handoff_take(&facts, &tg_set.policy) == 0;
	if (!handed && !load_policy(policy_path))
		return;
	if (!choose_mode())
		return;
	tg_set.log_allowed = tg_policy_log_allowed(tg_set.policy);
	tg_set.hides = tg_policy_hides(tg_set.policy);

	const char *log = open_log();
	if (!log)
		return;

	/* The library by its absolute path: a child in another folder must
	 * still find it. */
	if (dladdr((void *)start, &info) && info.dli_fname && realpath(info.dli_fname, s.real))
		tg_set.child.self_path = strdup(s.real);
	const char *mine[] = { log == s.logreal ? s.logreal : NULL, tg_set.child.self_path,
			       s.collector };
	if (handed && !tg_handoff_protects(tg_set.policy, mine, 3)) {
		/* Made for another log or library: this process's own. */
		tg_policy_free(tg_set.policy);
		tg_set.policy = NULL;
		handed = false;
		if (!load_policy(policy_path))
			return;
	}
	if (!handed && tg_policy_protect(tg_set.policy, mine, 3) < 0) {
		fail_start("out of memory protecting the log and the library");
		return;
	}
	const char *memo = env_or(TG_ENV_MEMO, NULL);
	if (memo && strcmp(memo, "off") == 0)
		tg_policy_set_memo(tg_set.policy, false);
	/* Before the program runs (and before the fence, which refuses
	 * memory files that are not sealed against execution). Children get
	 * the policy as their parent's exec wrappers pass it: the path as
	 * saved for them, the variables frozen here. */
	facts.policy_path = policy_path && realpath(policy_path, s.real) ? s.real : NULL;
	facts.vars = tg_policy_frozen_vars(tg_set.policy);
	if (!policy_path || facts.policy_path)
		tg_handoff_offer(tg_set.policy, &facts, mine, 3);

	/* After the log is open and the guard's files are protected; before
	 * the program starts threads. */
	const char *fence = NULL, *why = NULL;
	/* The job writes the log itself, unless a collector does. */
	if (tg_fence_start(tg_set.policy, tg_set.mode,
			   strcmp(log, "stderr") && !s.collector ? log : NULL, &tg_set.fence,
			   &fence, &why) < 0) {
		snprintf(s.msg, sizeof(s.msg),
			 "the kernel fence required by the policy "
			 "cannot be installed (%s)",
			 why);
		fail_start(s.msg);
		return;
	}
	fence_layers(fence);

	if (tg_set.mode == TG_LEARN)
		tg_learn_init();
	save_child_env(policy_path, log, s.jid, fence);
	process_facts(s.jid);
	tg_self_init();
	tg_chain_start(getenv(TG_ENV_CHAIN), tg_self_pid_cached());
	tg_state = TG_ACTIVE;
	tg_handshake_answer(true);
	/* The standard streams, classified now: later, a program's own
	 * seccomp filter may forbid asking. */
	for (int fd = 0; fd <= 2; fd++)
		tg_fd_classify("write", fd);
	tg_life_start();
}

static void tg_start(void)
{
	TG_PROTECT_ERRNO;
	int expected = TG_UNINIT;

	if (!atomic_compare_exchange_strong(&tg_state, &expected, TG_STARTING))
		return;
	tg_depth++;
	start();
	tg_depth--;
	if (tg_state == TG_STARTING)
		tg_state = TG_DISABLED;
}

bool tg_enter_slow(void)
{
	if (tg_state == TG_UNINIT)
		tg_start();
	return tg_state == TG_ACTIVE;
}

__attribute__((constructor)) static void tg_constructor(void)
{
	tg_start();
}
