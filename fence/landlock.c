/* The Landlock half of the fence: from the compiled policy, per Landlock
 * access right, the union of the trees the policy can allow, with the
 * trees it denies inside them carved out by splitting the folders on the
 * way (docs/fence.md, "The ruleset").
 *
 * The policy's literal patterns become a tree of nodes (one per path
 * component). Each node is asked two questions per right: may the policy
 * allow it somewhere at or beneath the node, and everywhere? Everywhere:
 * one rule on the node. Nowhere: nothing. Both: the node is split, its
 * existing entries granted one by one (a named entry is asked again), when
 * that costs nothing the policy allows; else the node is granted whole and
 * the denied trees beneath it are reported as left open. Patterns with
 * wildcards cannot be named to Landlock: an allowing one widens to its
 * literal folder; a denying one is carved where it matches when the fence
 * is installed if its wildcards are all in its last name, and left out
 * otherwise. Built only at start: it allocates, opens and reads folders. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock-tree.h"
#include "tg-fence.h"
#include "tg-glob.h"

/* Rights and flags newer than the installed kernel headers. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#endif

#define FS_MAKE \
	(LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)
/* The rights a rule on a file (not a folder) may carry. */
#define FS_FILE \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)
/* ABI 1 knows bits 0..12, ABI 2 adds REFER, ABI 3 TRUNCATE. */
#define FS_ABI1 ((1ULL << 13) - 1)

/* How long a hint list may get before the rest is counted. */
#define MAX_HINTS 12

/* One group of Landlock rights decided by the same policy classes.
 * BENEATH: the kernel checks them on the parent folder (creating and
 * removing entries), so a rule on a node grants them strictly beneath it. */
struct group {
	const char *name;
	unsigned classes;
	uint64_t rights;
	bool dir_only, beneath;
};

static const struct group groups[] = {
	{ "read", TG_BIT(TG_READ), LANDLOCK_ACCESS_FS_READ_FILE, false, false },
	{ "list", TG_BIT(TG_READ) | TG_BIT(TG_LIST), LANDLOCK_ACCESS_FS_READ_DIR, true, false },
	{ "write", TG_BIT(TG_WRITE), LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE,
	  false, false },
	{ "create", TG_BIT(TG_CREATE), FS_MAKE, true, true },
	{ "delete", TG_BIT(TG_DELETE),
	  LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR, true, true },
	/* A rename or link across folders needs it on both sides: the
	 * source is a delete, the destination a create. */
	{ "rename", TG_BIT(TG_CREATE) | TG_BIT(TG_DELETE), LANDLOCK_ACCESS_FS_REFER, true, true },
	{ "exec", TG_BIT(TG_EXEC), LANDLOCK_ACCESS_FS_EXECUTE, false, false },
};
_Static_assert(sizeof(groups) / sizeof(groups[0]) == NGROUPS, "landlock-tree.h counts the groups");

static int landlock_create_ruleset(const struct landlock_ruleset_attr *a, size_t n, uint32_t fl)
{
	return (int)syscall(SYS_landlock_create_ruleset, a, n, fl);
}

static int landlock_add_rule(int fd, enum landlock_rule_type t, const void *a, uint32_t fl)
{
	return (int)syscall(SYS_landlock_add_rule, fd, t, a, fl);
}

static int landlock_restrict_self(int fd, uint32_t fl)
{
	return (int)syscall(SYS_landlock_restrict_self, fd, fl);
}

static void hint(struct fence *f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!f->o->hint)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->o->hint(msg, f->o->hint_ud);
}

/* The entries of the literal folder of V that its last-name glob matches
 * now, each denied as an exact path, or a tree when V ends in a
 * slash-star-star. Later matches are not carved (docs/fence.md). */
static int add_matches(struct fence *f, const struct tg_pattern_view *v, const struct entry *e)
{
	char folder[PATH_MAX];
	char **names = NULL;
	size_t n = 0;
	int r;

	if (v->folder_len >= sizeof(folder))
		return 0;
	memcpy(folder, v->lit, v->folder_len);
	folder[v->folder_len] = '\0';
	r = list_folder(f, v->folder_len ? folder : "/", &names, &n);
	if (r < 0)
		return r == -ENOMEM ? r : 0; /* nothing there to carve */
	for (size_t i = 0; i < n; i++) {
		struct entry m = { .deny = e->deny,
				   .prefix = e->prefix,
				   .wildcards = e->wildcards,
				   .exact = !v->tree };
		char path[PATH_MAX];
		int len = snprintf(path, sizeof(path), "%s/%s", folder, names[i]);
		if (r >= 0 && len < (int)sizeof(path) &&
		    tg_glob_match(v->name_glob, names[i], strlen(names[i])))
			r = add_entry(f, path, (size_t)len, &m);
	}
	return r < 0 ? r : 0;
}

static int build(struct fence *f, const struct tg_policy *p)
{
	size_t n = tg_policy_npatterns(p);
	int r;

	for (unsigned c = 0; c < TG_NCLASS; c++)
		f->defaults[c] = tg_policy_default(p, c);
	f->root.path = (char *)"/";
	f->root.name = "";
	for (size_t i = 0; i < n; i++) {
		struct tg_pattern_view v;
		struct entry e = { 0 };
		size_t len;

		tg_policy_pattern(p, i, &v);
		e.allow = v.rule->allow;
		e.deny = v.rule->deny;
		e.prefix = v.prefix;
		e.wildcards = v.wildcards;
		len = v.litlen;
		if (v.kind == TG_PATTERN_EXACT) {
			e.exact = true;
		} else if (v.kind == TG_PATTERN_GLOB) {
			/* A glob cannot be named to Landlock. Denying, its matches
			 * in a literal folder are carved out as they are now, and
			 * the rest is left out; allowing, it widens to the tree of
			 * its literal folder: either way the fence allows at least
			 * as much as the policy. */
			if (e.deny && v.name_glob && (r = add_matches(f, &v, &e)) < 0)
				return r;
			if (!e.allow)
				continue;
			e.deny = 0;
			while (len > 0 && v.lit[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		}
		if ((r = add_entry(f, v.lit, len, &e)) < 0)
			return r;
	}
	for (size_t i = 0; i < f->o->nwritable; i++) {
		const char *path = f->o->writable[i];
		struct entry e = { .allow = TG_BIT(TG_WRITE) | TG_BIT(TG_CREATE),
				   .prefix = UINT_MAX,
				   .exact = true };
		if (path && path[0] == '/' && (r = add_entry(f, path, strlen(path), &e)) < 0)
			return r;
	}
	for (size_t i = 0; i < f->o->nexecutable; i++) {
		const char *path = f->o->executable[i];
		struct entry e = { .allow = TG_BIT(TG_EXEC) | TG_BIT(TG_READ),
				   .prefix = UINT_MAX,
				   .exact = true };
		if (path && path[0] == '/' && (r = add_entry(f, path, strlen(path), &e)) < 0)
			return r;
	}
	for (size_t i = 0; i < f->o->nprotect; i++) {
		const char *path = f->o->protect[i];
		struct entry e = { .deny = TG_ALL, .prefix = UINT_MAX, .exact = true };
		if (path && path[0] == '/' && (r = add_entry(f, path, strlen(path), &e)) < 0)
			return r;
	}
	survey(f, &f->root, false);
	return 0;
}

/* The matcher's order (policy/match.c): longer literal prefix, fewer
 * wildcards, deny. */
static bool beats(const struct entry *a, const struct entry *b, unsigned bit)
{
	if (!b)
		return true;
	if (a->prefix != b->prefix)
		return a->prefix > b->prefix;
	if (a->wildcards != b->wildcards)
		return a->wildcards < b->wildcards;
	return (a->deny & bit) && !(b->deny & bit);
}

/* Whether the policy may allow one of CLASSES on N itself (SELF), or on
 * any entry beneath N that no node names (!SELF). */
static bool allowed(const struct fence *f, const struct node *n, unsigned classes, bool self)
{
	for (unsigned c = 0; c < TG_NCLASS; c++) {
		unsigned bit = TG_BIT(c);
		const struct entry *best = NULL;

		if (!(classes & bit))
			continue;
		for (const struct node *m = n; m; m = m->parent)
			for (size_t i = 0; i < m->ne; i++) {
				const struct entry *e = &m->e[i];
				bool applies = !e->exact || (self && m == n);
				if (!applies || !((e->allow | e->deny) & bit))
					continue;
				if (beats(e, best, bit))
					best = e;
			}
		if (best ? (best->allow & bit) != 0 : f->defaults[c])
			return true;
	}
	return false;
}

/* Opening a process's descriptor by name (/proc/self/fd/1, /dev/stdout)
 * follows a magic link, and Landlock decides on the object it reaches: the
 * patterns there need no rule of their own. */
static bool fd_links(const struct node *n)
{
	static const char *const dev[] = { "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr" };

	for (; n; n = n->parent) {
		for (size_t i = 0; i < sizeof(dev) / sizeof(dev[0]); i++)
			if (strcmp(n->path, dev[i]) == 0)
				return true;
		if (strcmp(n->name, "fd") == 0 && strncmp(n->path, "/proc/", 6) == 0)
			return true;
	}
	return false;
}

/* Whether a pattern at or beneath N allows one of CLASSES. */
static bool allows_below(const struct node *n, unsigned classes)
{
	if (fd_links(n))
		return false;
	for (size_t i = 0; i < n->ne; i++)
		if (n->e[i].allow & classes)
			return true;
	for (const struct node *c = n->child; c; c = c->next)
		if (allows_below(c, classes))
			return true;
	return false;
}

/* Some object a rule on N would cover may be allowed G. Beneath a
 * symbolic link (/proc/self) only what its own patterns allow counts: the
 * rest is decided where the link points. */
static bool somewhere(const struct fence *f, const struct node *n, const struct group *g);

static bool find_somewhere(const struct fence *f, const struct node *n, const struct group *g)
{
	if (n->state == N_DEAD)
		return allows_below(n, g->classes);
	if (!g->beneath && allowed(f, n, g->classes, true))
		return true;
	if (n->state != N_FILE && allowed(f, n, g->classes, false))
		return true;
	for (const struct node *c = n->child; c; c = c->next) {
		/* Creating a named entry that is not there yet needs the right
		 * on N itself. */
		if (g->beneath && c->state == N_MISSING && allowed(f, c, g->classes, true))
			return true;
		if (somewhere(f, c, g))
			return true;
	}
	return false;
}

/* Every object a rule on N would cover may be allowed G. A denied node
 * that does not exist has nothing to keep out. */
static bool everywhere(const struct fence *f, const struct node *n, const struct group *g);

static bool find_everywhere(const struct fence *f, const struct node *n, const struct group *g)
{
	if (n->state == N_DEAD || n->state == N_MISSING)
		return true;
	if (!g->beneath && !allowed(f, n, g->classes, true))
		return false;
	if (n->state != N_FILE && !allowed(f, n, g->classes, false))
		return false;
	for (const struct node *c = n->child; c; c = c->next)
		if (!everywhere(f, c, g))
			return false;
	return true;
}

/* The two questions are asked of the same nodes again and again (each
 * folder cover() descends into asks them of its whole subtree): answered
 * once per node and group. The nodes are the fence's own, not const. */
static bool somewhere(const struct fence *f, const struct node *n, const struct group *g)
{
	uint8_t *m = &((struct node *)n)->some[g - groups];

	if (!*m)
		*m = 1 + find_somewhere(f, n, g);
	return *m == 2;
}

static bool everywhere(const struct fence *f, const struct node *n, const struct group *g)
{
	uint8_t *m = &((struct node *)n)->every[g - groups];

	if (!*m)
		*m = 1 + find_everywhere(f, n, g);
	return *m == 2;
}

enum split { SPLIT, KEEP, KEEP_LISTING };

/* Whether the folder S can be split for G without denying something the
 * policy allows; when not, KEEP and the reason in WHY, or KEEP_LISTING
 * when S itself must stay listable. */
static enum split splittable(const struct fence *f, const struct node *s, const struct group *g,
			     char *why, size_t whysz)
{
	bool strict = f->o->flags & TG_FENCE_STRICT_SPLITS;
	bool generic = allowed(f, s, g->classes, false);

	if (g->rights & LANDLOCK_ACCESS_FS_READ_DIR && allowed(f, s, g->classes, true)) {
		snprintf(why, whysz, "'%s' itself must stay listable", s->path);
		return KEEP_LISTING;
	}
	if (g->beneath && generic) {
		snprintf(why, whysz, "the job may %s entries directly in '%s'", g->name, s->path);
		return KEEP;
	}
	for (const struct node *c = s->child; c && g->beneath; c = c->next)
		if (c->state == N_MISSING && allowed(f, c, g->classes, true)) {
			snprintf(why, whysz, "the job may %s '%s', which does not exist yet",
				 g->name, c->path);
			return KEEP;
		}
	/* What a link's own patterns allow lives wherever its target is, which
	 * may differ per process (/proc/self): only a whole folder covers it. */
	for (const struct node *c = s->child; c && !generic; c = c->next)
		if (c->state == N_DEAD && allows_below(c, g->classes)) {
			snprintf(why, whysz,
				 "'%s' is a symbolic link, and the policy allows %s beneath it",
				 c->path, g->name);
			return KEEP;
		}
	/* A split costs the entries made later directly in S the rights G
	 * they would have had: only when the job may make them. */
	bool creates = generic && allowed(f, s, TG_BIT(TG_CREATE), false);
	for (const struct node *c = s->child; c && !creates; c = c->next)
		if (c->state == N_MISSING && allowed(f, c, TG_BIT(TG_CREATE), true) &&
		    somewhere(f, c, g))
			creates = true;
	if (creates && !strict) {
		snprintf(why, whysz,
			 "the job may create entries in '%s', which a split would leave without "
			 "rights",
			 s->path);
		return KEEP;
	}
	return SPLIT;
}

static void open_hint(struct fence *f, const char *path, const struct group *g, const char *why)
{
	f->rep->widened++;
	if (f->nhints++ < MAX_HINTS)
		hint(f, "'%s' stays open to %s under the fence: %s (the preload still decides)",
		     path, g->name, why);
}

/* Reports the denied trees beneath N that a rule on N leaves open. */
static void report_open(struct fence *f, const struct node *n, const struct group *g,
			const char *why, enum split kind)
{
	/* The entries of N no pattern names are denied too. */
	if (n->state == N_DIR && !allowed(f, n, g->classes, false)) {
		char what[PATH_MAX + 16];
		snprintf(what, sizeof(what), "%s%s*", n->path, n->parent ? "/" : "");
		open_hint(f, what, g, why);
	}
	for (const struct node *c = n->child; c; c = c->next) {
		if (c->state == N_DEAD || c->state == N_MISSING)
			continue;
		if (somewhere(f, c, g)) {
			report_open(f, c, g, why, kind);
			continue;
		}
		/* Every denied folder stays listable where its parent must be:
		 * said once, not per folder. */
		if (kind == KEEP_LISTING) {
			if (!f->list_hinted)
				hint(f,
				     "the names in denied folders stay listable under the fence "
				     "('%s' first): Landlock cannot refuse a folder's listing "
				     "while its parent may be listed",
				     c->path);
			f->list_hinted = true;
			f->rep->widened++;
			continue;
		}
		open_hint(f, c->path, g, why);
	}
}

static int add_rule(struct fence *f, int fd, uint64_t rights)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = rights, .parent_fd = fd };

	if (!rights)
		return 0;
	if (landlock_add_rule(f->fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		return -errno;
	f->rep->rules++;
	return 0;
}

/* Grants G's rights on NAME (from DIRFD), held without following a link
 * at its end; TYPE is what a listing or the survey saw there (a DT_* of
 * dirent.h, DT_UNKNOWN when not known). A folder needs no fstat: Landlock
 * itself refuses folder rights on anything else (EINVAL), and only then
 * is the object asked what it is. A link is not granted; one swapped in
 * for a folder between the listing and the open can get only file
 * rights, on the link itself, which no access through it consults. */
static int grant_at(struct fence *f, int dirfd, const char *name, unsigned char type,
		    const struct group *g)
{
	uint64_t rights = g->rights & f->handled;
	struct stat st;
	int fd, r;

	if (type == DT_LNK)
		return 0;
	if ((fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == EACCES ? 0 : -errno;
	if (type == DT_DIR && (r = add_rule(f, fd, rights)) != -EINVAL)
		goto out;
	r = 0;
	if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode))
		goto out;
	if (S_ISDIR(st.st_mode))
		r = add_rule(f, fd, rights);
	else if (!g->dir_only)
		r = add_rule(f, fd, rights & FS_FILE);
out:
	close(fd);
	return r;
}

static int cover(struct fence *f, struct node *n, const struct group *g)
{
	char why[PATH_MAX + 160];
	const char *reason = NULL;
	char **names = NULL;
	size_t nnames = 0;
	int r;

	if (n->state != N_DIR && n->state != N_FILE)
		return 0;
	if (!somewhere(f, n, g))
		return 0;
	unsigned char type = n->state == N_DIR ? DT_DIR : DT_UNKNOWN;
	if (n->state == N_FILE || everywhere(f, n, g))
		return grant_at(f, AT_FDCWD, n->path, type, g);
	enum split kind = splittable(f, n, g, why, sizeof(why));
	if (kind != SPLIT)
		reason = why;
	if (!reason) {
		r = list_folder(f, n->path, &names, &nnames);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			snprintf(why, sizeof(why), "'%s' cannot be listed (%s)", n->path,
				 strerror(-r));
			reason = why;
		} else if (f->rep->rules + nnames > f->max) {
			snprintf(why, sizeof(why), "splitting '%s' would pass %u rules", n->path,
				 f->max);
			reason = why;
		}
	}
	if (reason) {
		report_open(f, n, g, reason, kind);
		return grant_at(f, AT_FDCWD, n->path, type, g);
	}
	f->rep->carved++;
	int dfd = open(n->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	bool generic = allowed(f, n, g->classes, false);
	r = dfd < 0 ? -errno : 0;
	for (size_t i = 0; i < nnames && r >= 0; i++) {
		struct node *c = child_of(f, n, names[i], strlen(names[i]), false);
		if (c)
			r = cover(f, c, g);
		else if (generic)
			r = grant_at(f, dfd, names[i], tg_name_type(names[i]), g);
	}
	if (dfd >= 0)
		close(dfd);
	return r;
}

static int abi_version(void)
{
	int abi = landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? -errno : abi;
}

static void abi_hints(struct fence *f, int abi)
{
	if (abi < 2)
		hint(f,
		     "Landlock ABI %d: renaming or linking across folders fails with EXDEV; "
		     "Linux 5.19 lifts this",
		     abi);
	if (abi < 3)
		hint(f, "Landlock ABI %d: truncating a file is not fenced; Linux 6.2 adds it", abi);
	if (abi < 7 && !(f->o->flags & TG_FENCE_NO_AUDIT))
		hint(f,
		     "Landlock ABI %d: its denials are not in the audit log; Linux 6.15 adds "
		     "it",
		     abi);
}

/* The ruleset is built into F->fd; the domain starts only after every
 * rule is in, so a failure half-way leaves the process as it was. */
static int install(struct fence *f, const struct tg_policy *p, int abi)
{
	uint64_t known = FS_ABI1;
	int r;

	if (abi >= 2)
		known |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		known |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if ((r = build(f, p)) < 0)
		return r;
	/* A right the policy allows everywhere needs no rule: leave it
	 * unhandled. IOCTL_DEV, the network and the scopes are not handled:
	 * the policy does not speak of them. */
	for (size_t i = 0; i < NGROUPS; i++)
		if (!everywhere(f, &f->root, &groups[i]))
			f->handled |= groups[i].rights & known;
	f->rep->handled = f->handled;
	if (!f->handled) {
		hint(f, "the policy allows every file access Landlock can restrict: no ruleset");
		return 0;
	}
	struct landlock_ruleset_attr attr = { .handled_access_fs = f->handled };
	f->fd = landlock_create_ruleset(&attr, sizeof(attr), 0);
	if (f->fd < 0)
		return -errno;
	for (size_t i = 0; i < NGROUPS; i++) {
		if (!(groups[i].rights & f->handled))
			continue;
		if ((r = cover(f, &f->root, &groups[i])) < 0)
			return r;
	}
	if (f->nhints > MAX_HINTS)
		hint(f, "%u more trees stay open under the fence", f->nhints - MAX_HINTS);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	uint32_t flags = 0;
	if (abi >= 7 && !(f->o->flags & TG_FENCE_NO_AUDIT))
		flags |= LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;
	if (landlock_restrict_self(f->fd, flags) < 0)
		return -errno;
	f->rep->landlock = true;
	f->rep->landlock_audit = flags != 0;
	return 0;
}

int tg_fence_landlock(const struct tg_policy *p, const struct tg_fence_opts *o,
		      struct tg_fence_report *ret)
{
	struct tg_fence_report scratch;
	struct tg_fence_report *rep = ret ? ret : &scratch;
	struct fence f = { .o = o, .rep = rep, .fd = -1 };
	int r;

	rep->landlock_abi = 0;
	rep->landlock = rep->landlock_audit = false;
	rep->handled = 0;
	rep->rules = rep->carved = rep->widened = 0;
	if (o->landlock == TG_FENCE_OFF)
		return 0;
	if (!tg_fence_applies(p, o)) {
		hint(&f, "the job runs in %s mode: no Landlock ruleset, which could only refuse",
		     tg_mode_name((o->flags & TG_FENCE_MODE_SET) ? o->mode : tg_policy_mode(p)));
		return 0;
	}
	f.max = o->max_rules ? o->max_rules : TG_FENCE_MAX_RULES;
	int abi = abi_version();
	if (abi < 0) {
		const char *why = "Linux 5.13 adds it";
		if (abi == -EOPNOTSUPP)
			why = "it is disabled: add landlock to lsm= at boot";
		hint(&f,
		     "this kernel has no Landlock (%s): file accesses are decided by the "
		     "preload alone",
		     why);
		return o->landlock == TG_FENCE_REQUIRE ? -EOPNOTSUPP : 0;
	}
	rep->landlock_abi = abi;
	abi_hints(&f, abi);
	r = install(&f, p, abi);
	if (f.fd >= 0)
		close(f.fd);
	free_nodes(&f.root);
	free(f.nodes);
	free_lists(&f);
	if (r < 0 && !rep->landlock && o->landlock == TG_FENCE_AUTO && r != -ENOMEM) {
		hint(&f, "the Landlock ruleset could not be installed (%s)", strerror(-r));
		return 0;
	}
	return r;
}
