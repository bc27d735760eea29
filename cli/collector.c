/* The collector of `trainguard run` (see collector.h).
 *
 * Why a seqpacket socket in a private folder: one message is one record,
 * so a record is never torn nor interleaved with another thread's, and no
 * framing is left to parse or to abuse; a path in a 0700 folder of ours
 * lets only our user (and root) connect, where an abstract name is open to
 * every user of the network namespace and Landlock may scope it away; and
 * no descriptor is inherited, so a payload cannot accept() the others'
 * connections. Each connection is known by the process that made it
 * (SO_PEERCRED): a record that names another pid, or continues the hash
 * chain of another process, is refused (not written), and a record of the
 * collector's own says so. The collector's records carry a hash chain of
 * their own (origin "collector"), so `trainguard verify` checks them like
 * any other. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "ocsf.h"
#include "record-scan.h"
#include "tg-config.h"
#include "tg-sha256.h"

/* A connection that closes without a stop record is judged this long
 * after: time for its process to be seen exited, when it did exit. */
#define GRACE_MS 100
/* After the job's process ended: how long processes it left behind may
 * keep sending before their connections are closed. */
#define DRAIN_MS 1000
/* The refusals of one connection that get a record each; the rest are
 * counted in its last one. */
#define REFUSALS_SAID 10
#define OUT_CAP       (1 << 20)
#define MSG_MAX       (64 * 1024)
/* How deep a record's parents are fetched to be written first (below). */
#define ORDER_DEPTH 4

struct conn {
	int fd, pidfd;
	pid_t pid;
	uid_t uid;
	bool chained; /* carried a record of its process's own chain */
	bool stopped; /* carried its process's stop record */
	bool closed;  /* end of file: waiting to be judged */
	bool busy;    /* being read (further up the stack) */
	long long closed_ms;
	unsigned long refused;
	char name[64];
};

struct tg_collector {
	int lfd, logfd;
	char dir[PATH_MAX], sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char log[PATH_MAX], jid[256], host[256];
	struct conn *c;
	size_t n, cap;
	json_t *owners;             /* chain id -> the pid whose records carry it */
	json_t *seqs;               /* chain id -> the last seq written */
	char *buf[ORDER_DEPTH + 1]; /* a message, per depth of read_conn */
	char *out;
	size_t outn;
	bool write_failed;
	off_t size; /* the log's size as we left it */
	/* The collector's own chain. */
	char id[33];
	uint64_t seq;
	uint8_t prev[TG_SHA256_LEN];
	struct tg_collector_counts counts;
};

static long long now_ms(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The log renamed away (rotation): go on in a new file at its path. */
static void follow_rotation(struct tg_collector *c)
{
	struct stat by_fd, by_path;

	if (fstat(c->logfd, &by_fd) < 0 ||
	    (lstat(c->log, &by_path) == 0 && by_path.st_dev == by_fd.st_dev &&
	     by_path.st_ino == by_fd.st_ino))
		return;
	int fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
		      0600);
	if (fd < 0)
		return;
	close(c->logfd);
	c->logfd = fd;
	c->size = fstat(fd, &by_fd) == 0 ? by_fd.st_size : 0;
}

static void own_record(struct tg_collector *c, int severity, json_t *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The job has no descriptor on the log, but where the fence cannot carve
 * it out (a folder the job may create entries in) a raw system call can
 * still cut it: say so in the log, once per cut seen. Growth is not
 * judged: several runs may share one log (srun -n 2 trainguard run). */
static void check_size(struct tg_collector *c)
{
	struct stat st;
	off_t was = c->size;

	if (fstat(c->logfd, &st) < 0 || st.st_size >= was)
		return;
	c->size = st.st_size;
	c->counts.tampered++;
	own_record(c, TG_OCSF_SEVERITY_HIGH,
		   json_pack("{s:I, s:I}", "size_expected", (json_int_t)was, "size_found",
			     (json_int_t)st.st_size),
		   "the log was cut from %lld to %lld bytes while the job ran: records written "
		   "before are lost",
		   (long long)was, (long long)st.st_size);
}

static void flush(struct tg_collector *c)
{
	if (!c->outn)
		return;
	/* Once per batch of records: a stat and an fstat, in run, not in
	 * the job. */
	follow_rotation(c);
	check_size(c);
	int r = write_all(c->logfd, c->out, c->outn);
	/* Where our last line ends (appending: other writers' lines before). */
	off_t end = lseek(c->logfd, 0, SEEK_CUR);
	if (end >= 0)
		c->size = end;
	if (r < 0 && !c->write_failed) {
		fprintf(stderr, "trainguard: cannot write the log '%s': %s; records are lost\n",
			c->log, strerror(-r));
		c->write_failed = true;
	}
	c->outn = 0;
}

static void put(struct tg_collector *c, const char *line, size_t n)
{
	if (c->outn + n > OUT_CAP)
		flush(c);
	memcpy(c->out + c->outn, line, n);
	c->outn += n;
}

/* ---- the collector's own records ------------------------------------------ */

static const char *severity_name(int s)
{
	static const char *const names[] = { "Unknown", "Informational", "Low",
					     "Medium",  "High",          "Critical" };
	return s >= 0 && s <= 5 ? names[s] : "Other";
}

/* One Event Log Activity "Other" record of the collector, its chain filled
 * and hashed. DETAILS (stolen) become unmapped.trainguard.collector. */
static void own_record(struct tg_collector *c, int severity, json_t *details, const char *fmt, ...)
{
	char msg[1024], hash[2 * TG_SHA256_LEN + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	long long t = now_ms(CLOCK_REALTIME);
	json_t *chain = json_pack("{s:s, s:I}", "id", c->id, "seq", (json_int_t)++c->seq);
	if (c->seq == 1) {
		json_object_set_new(chain, "origin", json_string("collector"));
	} else {
		to_hex(c->prev, TG_SHA256_LEN, hash);
		json_object_set_new(chain, "prev", json_string(hash));
	}
	json_t *rec = json_pack(
		"{s:i, s:s, s:{s:{s:s, s:i}}, s:s, s:i, s:s, s:i, s:{s:s, s:s, s:i}, s:s, s:s, "
		"s:{s:s, s:s, s:{s:s, s:s, s:s}, s:s}, s:s, s:i, s:I, s:s, s:I, "
		"s:{s:{s:s, s:o, s:o}}}",
		"activity_id", TG_OCSF_OTHER, "activity_name", TG_OCSF_OTHER_NAME, "actor",
		"process", "name", "trainguard", "pid", (int)getpid(), "category_name",
		"System Activity", "category_uid", TG_OCSF_CATEGORY, "class_name",
		TG_OCSF_EVENT_LOG_ACTIVITY_NAME, "class_uid", TG_OCSF_EVENT_LOG_ACTIVITY, "device",
		"hostname", c->host, "type", "Server", "type_id", 1, "log_name", TG_OCSF_LOG_NAME,
		"message", msg, "metadata", "correlation_uid", c->jid, "log_name", TG_OCSF_LOG_NAME,
		"product", "name", TG_OCSF_PRODUCT, "vendor_name", TG_OCSF_PRODUCT, "version",
		TG_VERSION, "version", TG_OCSF_VERSION, "severity", severity_name(severity),
		"severity_id", severity, "time", (json_int_t)t, "type_name",
		TG_OCSF_EVENT_LOG_ACTIVITY_NAME ": " TG_OCSF_OTHER_NAME, "type_uid",
		(json_int_t)TG_OCSF_TYPE_UID(TG_OCSF_EVENT_LOG_ACTIVITY, TG_OCSF_OTHER), "unmapped",
		"trainguard", "event", "collector", "chain", chain, "collector",
		details ? details : json_object());
	char *line = rec ? json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(rec);
	if (!line) {
		c->seq--;
		return;
	}
	size_t n = strlen(line);
	struct tg_sha256 h;
	tg_sha256_init(&h);
	tg_sha256_update(&h, line, n);
	tg_sha256_final(&h, c->prev);
	line[n] = '\n';
	put(c, line, n + 1);
	free(line);
}

/* ---- the job's records ----------------------------------------------------- */

static void refuse(struct tg_collector *c, struct conn *k, const char *line, size_t n,
		   const char *why)
{
	k->refused++;
	c->counts.refused++;
	if (k->refused > REFUSALS_SAID)
		return;
	json_t *d = json_pack("{s:i, s:i, s:s, s:s%}", "peer_pid", (int)k->pid, "peer_uid",
			      (int)k->uid, "refused", why, "line", line, n > 512 ? (size_t)512 : n);
	own_record(c, TG_OCSF_SEVERITY_HIGH, d,
		   "trainguard run refused a record sent by pid %d (uid %d): %s%s", (int)k->pid,
		   (int)k->uid, why,
		   k->refused == REFUSALS_SAID ? "; further refusals on this connection are "
						 "counted in its last record"
					       : "");
}

static void read_conn(struct tg_collector *c, struct conn *k, int max, int depth);

static long long written_seq(struct tg_collector *c, const char *id)
{
	return json_integer_value(json_object_get(c->seqs, id));
}

/* A process's first record links to its parent's record (fork, exec,
 * vfork): the parent sent that one earlier, but maybe on a connection not
 * read yet. It is written first, so that the log keeps the order verify
 * checks: the parent's connections (any, when the parent chain is not
 * known yet) are read before this record is written. */
static void order_after(struct tg_collector *c, struct conn *k, const char *parent, long long pseq,
			int depth)
{
	if (depth >= ORDER_DEPTH || written_seq(c, parent) >= pseq)
		return;
	json_int_t pid = json_integer_value(json_object_get(c->owners, parent));
	for (size_t i = 0; i < c->n; i++) {
		struct conn *j = &c->c[i];
		if (j == k || j->busy || j->closed || (pid && j->pid != pid))
			continue;
		read_conn(c, j, 4096, depth + 1);
		if (written_seq(c, parent) >= pseq)
			return;
	}
}

static void take(struct tg_collector *c, struct conn *k, const char *line, size_t n, int depth)
{
	struct tg_record_facts f;
	const char *bad;
	char why[160];

	if (n < 2 || line[n - 1] != '\n' || memchr(line, '\n', n - 1)) {
		refuse(c, k, line, n, "not one line");
		return;
	}
	if (tg_record_scan(line, n - 1, &f, &bad) < 0) {
		refuse(c, k, line, n, bad);
		return;
	}
	/* The pid a record speaks for: its actor's, but for the fork record,
	 * which the child writes about itself. A record naming none (the
	 * minimal line of a record that could not be built) is the sender's. */
	if (f.has_pid && f.pid != k->pid) {
		snprintf(why, sizeof(why), "it names pid %lld", f.pid);
		refuse(c, k, line, n, why);
		return;
	}
	if (f.chain[0]) {
		json_t *owner = json_object_get(c->owners, f.chain);
		if (owner && json_integer_value(owner) != k->pid) {
			snprintf(why, sizeof(why), "it goes on with the hash chain of pid %lld",
				 json_integer_value(owner));
			refuse(c, k, line, n, why);
			return;
		}
		if (!owner)
			json_object_set_new(c->owners, f.chain, json_integer(k->pid));
		/* One-shot chains (a vfork child, a record nested in another)
		 * are one record each: they do not make the connection a
		 * process's own. */
		if (f.seq > 1 || (f.origin[0] && strcmp(f.origin, "vfork") != 0 &&
				  strcmp(f.origin, "nested") != 0))
			k->chained = true;
	}
	if (f.seq == 1 && f.parent[0] && f.parent_seq > 0)
		order_after(c, k, f.parent, f.parent_seq, depth);
	if (f.stop)
		k->stopped = true;
	if (!k->name[0])
		snprintf(k->name, sizeof(k->name), "%s", f.name);
	c->counts.records++;
	put(c, line, n);
	if (f.chain[0] && f.seq > written_seq(c, f.chain))
		json_object_set_new(c->seqs, f.chain, json_integer(f.seq));
}

/* ---- connections ----------------------------------------------------------- */

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

static bool exited(const struct conn *k)
{
	if (k->pidfd >= 0) {
		struct pollfd p = { .fd = k->pidfd, .events = POLLIN };
		return poll(&p, 1, 0) > 0;
	}
	return kill(k->pid, 0) < 0 && errno == ESRCH;
}

static void accept_all(struct tg_collector *c)
{
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct ucred cred;
		socklen_t l = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0) {
			close(fd);
			continue;
		}
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 16;
			struct conn *m = realloc(c->c, cap * sizeof(*m));
			if (!m) {
				close(fd);
				return;
			}
			c->c = m;
			c->cap = cap;
		}
		c->c[c->n++] = (struct conn){
			.fd = fd, .pidfd = pidfd_of(cred.pid), .pid = cred.pid, .uid = cred.uid
		};
	}
}

/* Reads what K has queued, at most MAX records (0: all); DEPTH: how many
 * reads are further up the stack (each has a buffer of its own). */
static void read_conn(struct tg_collector *c, struct conn *k, int max, int depth)
{
	char *buf = c->buf[depth];

	k->busy = true;
	for (int i = 0; !max || i < max; i++) {
		ssize_t r = recv(k->fd, buf, MSG_MAX, MSG_DONTWAIT | MSG_TRUNC);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			k->closed = true;
			k->closed_ms = now_ms(CLOCK_MONOTONIC);
			break;
		}
		if (r > MSG_MAX)
			refuse(c, k, buf, MSG_MAX, "longer than any record");
		else
			take(c, k, buf, (size_t)r, depth);
	}
	k->busy = false;
}

/* A closed connection, judged; or one still open when the job is over. */
static void judge(struct tg_collector *c, struct conn *k)
{
	const char *name = k->name[0] ? k->name : "?";
	json_t *d = json_pack("{s:i, s:i, s:I}", "peer_pid", (int)k->pid, "peer_uid", (int)k->uid,
			      "refused", (json_int_t)k->refused);

	if (!k->closed) {
		c->counts.unstopped++;
		json_object_set_new(d, "ended", json_string("still connected"));
		own_record(c, TG_OCSF_SEVERITY_MEDIUM, d,
			   "pid %d (%s) was still running when the job ended: what it logs from "
			   "now on is not collected",
			   (int)k->pid, name);
	} else if (k->stopped || !k->chained) {
		if (k->refused > REFUSALS_SAID)
			own_record(c, TG_OCSF_SEVERITY_HIGH, d,
				   "trainguard run refused %lu records sent by pid %d (%s) in "
				   "another's name",
				   k->refused, (int)k->pid, name);
		else
			json_decref(d);
	} else if (exited(k)) {
		c->counts.unstopped++;
		json_object_set_new(d, "ended", json_string("exited"));
		own_record(c, TG_OCSF_SEVERITY_LOW, d,
			   "pid %d (%s) ended without a stop record (_exit, a signal or a "
			   "SIGKILL): the repeats it was still folding are not in the log",
			   (int)k->pid, name);
	} else {
		c->counts.unstopped++;
		c->counts.silenced++;
		json_object_set_new(d, "ended", json_string("running"));
		own_record(c, TG_OCSF_SEVERITY_HIGH, d,
			   "pid %d (%s) stopped logging while it runs: its connection to the "
			   "collector was closed without a stop record (its descriptor closed or "
			   "replaced by a raw system call)",
			   (int)k->pid, name);
	}
}

static void drop(struct tg_collector *c, size_t i)
{
	close(c->c[i].fd);
	if (c->c[i].pidfd >= 0)
		close(c->c[i].pidfd);
	c->c[i] = c->c[--c->n];
}

/* Judges the connections closed GRACE_MS ago or more (ALL: every one). */
static void judge_closed(struct tg_collector *c, bool all)
{
	long long t = now_ms(CLOCK_MONOTONIC);

	for (size_t i = 0; i < c->n;) {
		struct conn *k = &c->c[i];
		if (k->closed && (all || t - k->closed_ms >= GRACE_MS)) {
			judge(c, k);
			drop(c, i);
		} else {
			i++;
		}
	}
}

/* The connections still open. */
static size_t connected(const struct tg_collector *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += !c->c[i].closed;
	return n;
}

/* Closed without a stop record, and to be judged: did its process exit,
 * or does it run on without logging? */
static bool unstopped(const struct conn *k)
{
	return k->closed && !k->stopped && k->chained;
}

/* Gives the processes of unstopped connections up to GRACE_MS to be seen
 * exited (their pidfds readable), returning as soon as all are; a job
 * whose processes all stopped waits for nothing. */
static void wait_unstopped(struct tg_collector *c)
{
	long long until = now_ms(CLOCK_MONOTONIC) + GRACE_MS;

	for (;;) {
		struct pollfd p[64];
		size_t np = 0;
		bool waiting = false;
		for (size_t i = 0; i < c->n && np < sizeof(p) / sizeof(p[0]); i++) {
			const struct conn *k = &c->c[i];
			if (!unstopped(k) || exited(k))
				continue;
			waiting = true;
			if (k->pidfd >= 0)
				p[np++] = (struct pollfd){ .fd = k->pidfd, .events = POLLIN };
		}
		long long left = until - now_ms(CLOCK_MONOTONIC);
		if (!waiting || left <= 0)
			return;
		if (np)
			poll(p, np, (int)left);
		else
			usleep((useconds_t)(left < 10 ? left : 10) * 1000); /* no pidfd: kill(0) */
	}
}

/* One round: accept, read what is queued, write it. */
static void round_trip(struct tg_collector *c, struct pollfd *p, size_t np)
{
	if (p[0].revents)
		accept_all(c);
	for (size_t i = 1; i < np; i++)
		if (p[i].revents && p[i].fd >= 0)
			for (size_t j = 0; j < c->n; j++)
				if (c->c[j].fd == p[i].fd && !c->c[j].closed)
					read_conn(c, &c->c[j], 64, 0);
	flush(c);
}

int tg_collector_run(struct tg_collector *c, pid_t job, int *ret_status)
{
	int jfd = job > 0 ? pidfd_of(job) : -1, status = 0;
	bool done = job <= 0;
	long long ended = 0;
	struct pollfd *p = NULL;
	size_t pcap = 0;

	if (done)
		ended = now_ms(CLOCK_MONOTONIC);
	for (;;) {
		if (pcap < c->n + 2) {
			pcap = 2 * (c->n + 2);
			struct pollfd *q = realloc(p, pcap * sizeof(*q));
			if (!q)
				break;
			p = q;
		}
		size_t np = 0, closed = 0;
		p[np++] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
		for (size_t i = 0; i < c->n; i++) {
			if (c->c[i].closed) {
				closed++;
				continue;
			}
			p[np++] = (struct pollfd){ .fd = c->c[i].fd, .events = POLLIN };
		}
		if (!done && jfd >= 0)
			p[np++] = (struct pollfd){ .fd = jfd, .events = POLLIN };
		int timeout = closed || jfd < 0 || done ? GRACE_MS / 2 : -1;
		int r = poll(p, np, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0)
			round_trip(c, p, np - (!done && jfd >= 0));
		if (!done) {
			pid_t w = waitpid(job, &status, WNOHANG);
			if (w == job) {
				done = true;
				ended = now_ms(CLOCK_MONOTONIC);
			} else if (w < 0 && errno != EINTR) {
				free(p);
				return -errno;
			}
		}
		judge_closed(c, false);
		/* The job is over: keep on while its leftovers still send, for
		 * a moment; a quiet round, or nobody connected, ends it at once. */
		if (done && (!connected(c) || r == 0 || now_ms(CLOCK_MONOTONIC) - ended > DRAIN_MS))
			break;
	}
	if (jfd >= 0)
		close(jfd);
	free(p);
	/* The drain: what was connected and queued before the end is read in
	 * full, then every connection is judged. */
	accept_all(c);
	/* Nobody else connects: a process started from now on cannot start
	 * guarded (it says so on its stderr) rather than log to nobody. */
	close(c->lfd);
	c->lfd = -1;
	unlink(c->sock);
	for (size_t i = 0; i < c->n; i++)
		if (!c->c[i].closed)
			read_conn(c, &c->c[i], 0, 0);
	flush(c);
	wait_unstopped(c);
	judge_closed(c, true);
	while (c->n) {
		judge(c, &c->c[0]);
		drop(c, 0);
	}
	flush(c);
	if (!done) {
		while (waitpid(job, &status, 0) < 0)
			if (errno != EINTR)
				return -errno;
	}
	*ret_status = status;
	return 0;
}

/* ---- setting up ------------------------------------------------------------ */

/* A run killed by SIGKILL leaves its folder behind: in BASE, ours that
 * nobody listens on any more (connect is refused) and older than a minute
 * (not a run between its bind and its listen) are removed. */
static void sweep(const char *base)
{
	static const char prefix[] = "trainguard-run-";
	char dir[PATH_MAX], sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	DIR *d = opendir(base);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		if (strncmp(e->d_name, prefix, sizeof(prefix) - 1) != 0 ||
		    (size_t)snprintf(dir, sizeof(dir), "%s/%s", base, e->d_name) >= sizeof(dir) ||
		    (size_t)snprintf(sock, sizeof(sock), "%s/log.sock", dir) >= sizeof(sock) ||
		    lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
		    (st.st_mode & 07777) != 0700 || lstat(sock, &st) < 0 || !S_ISSOCK(st.st_mode) ||
		    time(NULL) - st.st_mtime < 60)
			continue;
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		memcpy(a.sun_path, sock, strlen(sock) + 1);
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == ECONNREFUSED) {
			unlink(sock);
			rmdir(dir);
		}
		close(fd);
	}
	closedir(d);
}

/* A new private folder for the socket: under XDG_RUNTIME_DIR (the user's
 * own), else TMPDIR, else /tmp, the first whose path fits a socket's. */
static int make_dir(struct tg_collector *c)
{
	const char *bases[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"), "/tmp" };
	int err = -ENOENT;

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		const char *b = bases[i];
		if (!b || b[0] != '/')
			continue;
		int n = snprintf(c->dir, sizeof(c->dir), "%s/trainguard-run-XXXXXX", b);
		if (n < 0 || (size_t)n + sizeof("/log.sock") > sizeof(c->sock))
			continue;
		sweep(b);
		if (mkdtemp(c->dir)) {
			/* fits: checked above (snprintf's bound is not seen by -O2) */
			size_t len = strlen(c->dir);
			memcpy(c->sock, c->dir, len);
			memcpy(c->sock + len, "/log.sock", sizeof("/log.sock"));
			return 0;
		}
		err = -errno;
	}
	c->dir[0] = '\0';
	return err;
}

int tg_collector_new(const char *log, const char *jid, struct tg_collector **ret)
{
	struct tg_collector *c = calloc(1, sizeof(*c));
	uint8_t r[16];
	int err;

	if (!c)
		return -ENOMEM;
	c->lfd = c->logfd = -1;
	snprintf(c->log, sizeof(c->log), "%s", log);
	snprintf(c->jid, sizeof(c->jid), "%s", jid);
	if (gethostname(c->host, sizeof(c->host) - 1) < 0 || !c->host[0])
		strcpy(c->host, "localhost");
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		err = -EIO;
		goto fail;
	}
	to_hex(r, sizeof(r), c->id);
	c->owners = json_object();
	c->seqs = json_object();
	c->out = malloc(OUT_CAP);
	bool bufs = true;
	for (int i = 0; i <= ORDER_DEPTH; i++)
		bufs &= (c->buf[i] = malloc(MSG_MAX + 1)) != NULL;
	if (!c->owners || !c->seqs || !c->out || !bufs) {
		err = -ENOMEM;
		goto fail;
	}
	c->logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
			0600);
	struct stat st;
	if (c->logfd < 0 || fstat(c->logfd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	c->size = st.st_size;
	if ((err = make_dir(c)) < 0)
		goto fail;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", c->sock);
	c->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(c->lfd, SOMAXCONN) < 0) {
		err = -errno;
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	tg_collector_free(c);
	return err;
}

const char *tg_collector_socket(const struct tg_collector *c)
{
	return c->sock;
}

void tg_collector_counts(const struct tg_collector *c, struct tg_collector_counts *ret)
{
	*ret = c->counts;
}

void tg_collector_free(struct tg_collector *c)
{
	if (!c)
		return;
	while (c->n)
		drop(c, 0);
	free(c->c);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->sock[0])
		unlink(c->sock);
	if (c->dir[0])
		rmdir(c->dir);
	if (c->logfd >= 0) {
		flush(c);
		close(c->logfd);
	}
	json_decref(c->owners);
	json_decref(c->seqs);
	for (int i = 0; i <= ORDER_DEPTH; i++)
		free(c->buf[i]);
	free(c->out);
	free(c);
}
