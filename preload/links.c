/* Symlinked folders on the way: a dataset root linked into the job
 * (/data -> /mnt/nfs/imagenet), a checkpoint link (latest -> ckpt-0005).
 *
 * Every open through such a link meets ELOOP on the guard's
 * openat2(RESOLVE_NO_SYMLINKS) and pays for resolution: four system calls
 * more per file. Here the guard remembers the link (its path, the text it
 * held, and the folder that text names) and, for a path below it, reads
 * the link again (one readlink: a re-pointed link is seen at once, its new
 * text used), opens the folder it names now plus the rest of the path
 * with RESOLVE_NO_SYMLINKS, and decides on that path. The kernel's
 * refusal of any symlink in it means the path decided on is the real
 * object opened; the readlink means it is the object the link names now.
 * One system call more than the program's own open.
 *
 * Only links that need nothing but joining are kept: the first link on an
 * absolute, normalized path (the components before it were read and are
 * no links), whose text has no ".", ".." or empty component; the rest of
 * the path must be normal too. A link whose target is itself behind a link
 * (the kernel refuses the open) is marked and left to the resolver. Links
 * under /proc (the magic links) are never kept.
 *
 * The table is shared by the threads, a sequence counter per slot: a
 * reader works in place and checks the counter afterwards; a writer that
 * finds a slot busy does not write. A vfork child (its memory is its
 * parent's) writes nothing. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>

#include "links.h"
#include "real.h"
#include "resolve.h"
#include "self.h"
#include "settings.h"
#include "tg-path.h"

#define LINK_SLOTS  8
#define LINK_MAX    256 /* the link's path, its text, the folder it names */
#define LEARN_DEPTH 24

struct link {
	_Atomic unsigned seq; /* odd: being written */
	unsigned short llen, tlen, rlen;
	bool dead; /* its target is behind another link: the resolver's */
	char path[LINK_MAX];
	char text[LINK_MAX];
	char real[LINK_MAX]; /* the folder the text names, normalized */
};

static struct link links[LINK_SLOTS];
_Atomic unsigned tg_links_used;
static _Atomic unsigned next_slot;

/* TEXT (N bytes) has no empty, "." or ".." component and no trailing
 * slash: joined to a real folder it needs no normalizing. */
static bool plain_text(const char *text, size_t n)
{
	size_t i = text[0] == '/' ? 1 : 0;

	if (n == 0 || text[n - 1] == '/')
		return false;
	while (i < n) {
		size_t j = i;
		while (j < n && text[j] != '/')
			j++;
		size_t c = j - i;
		if (c == 0 || (c == 1 && text[i] == '.') ||
		    (c == 2 && text[i] == '.' && text[i + 1] == '.'))
			return false;
		i = j + 1;
	}
	return true;
}

/* The folder the link at PATH (PLEN bytes) holding TEXT names, into OUT
 * (LINK_MAX bytes): its length, or 0 when it is not kept. */
static size_t named_folder(const char *path, size_t plen, const char *text, size_t tlen, char *out)
{
	if (!plain_text(text, tlen))
		return 0;
	if (text[0] == '/') {
		if (tlen >= LINK_MAX || strncmp(text, "/proc/", 6) == 0)
			return 0;
		memcpy(out, text, tlen);
		return tlen;
	}
	size_t dl = plen;
	while (dl > 0 && path[dl - 1] != '/')
		dl--; /* the link's folder, with its slash */
	if (dl + tlen >= LINK_MAX)
		return 0;
	memcpy(out, path, dl);
	memcpy(out + dl, text, tlen);
	return dl + tlen;
}

/* Fills slot L with the link PATH -> TEXT (naming REAL). The caller
 * holds the slot (odd counter). */
static void fill(struct link *l, const char *path, size_t plen, const char *text, size_t tlen,
		 const char *real, size_t rlen)
{
	memcpy(l->path, path, plen);
	l->llen = (unsigned short)plen;
	memcpy(l->text, text, tlen);
	l->tlen = (unsigned short)tlen;
	memcpy(l->real, real, rlen);
	l->rlen = (unsigned short)rlen;
	l->dead = rlen == 0;
}

/* Takes slot L for writing when nobody else is: its counter made odd. */
static bool take(struct link *l, unsigned *ret_seq)
{
	unsigned s = atomic_load_explicit(&l->seq, memory_order_relaxed);

	if ((s & 1) || !atomic_compare_exchange_strong(&l->seq, &s, s + 1))
		return false;
	*ret_seq = s + 1;
	return true;
}

static void give(struct link *l, unsigned seq)
{
	atomic_store_explicit(&l->seq, seq + 1, memory_order_release);
}

/* Slot L, read at counter SEQ, holds the link PATH: its text is now TEXT
 * (or, TLEN < 0, it is no longer a link). Refreshes or empties it. */
static void refresh(struct link *l, unsigned seq, const char *text, long tlen)
{
	char path[LINK_MAX], real[LINK_MAX];
	size_t plen = l->llen, rlen = 0;
	unsigned w;

	if (plen >= LINK_MAX || tg_self_foreign())
		return;
	memcpy(path, l->path, plen);
	if (atomic_load_explicit(&l->seq, memory_order_acquire) != seq)
		return;
	if (tlen > 0 && tlen < LINK_MAX)
		rlen = named_folder(path, plen, text, (size_t)tlen, real);
	if (!take(l, &w))
		return;
	if (w == seq + 1) { /* nobody wrote it since it was read */
		if (tlen > 0 && tlen < LINK_MAX)
			fill(l, path, plen, text, (size_t)tlen, real, rlen);
		else
			l->llen = 0; /* no longer a link: the slot is free */
	}
	give(l, w);
}

int tg_links_open(const char *path, size_t len, char *abs, int *ret_n)
{
	unsigned used = atomic_load_explicit(&tg_links_used, memory_order_relaxed);

	for (unsigned i = 0; i < used && i < LINK_SLOTS; i++) {
		struct link *l = &links[i];
		unsigned seq = atomic_load_explicit(&l->seq, memory_order_acquire);
		size_t ll = l->llen;
		if ((seq & 1) || ll == 0 || ll >= len || ll >= LINK_MAX || path[ll] != '/' ||
		    memcmp(path, l->path, ll) != 0)
			continue;
		const char *rest = path + ll + 1;
		size_t restl = len - ll - 1;
		if (l->dead || !tg_path_rel_normal(rest))
			return 1;
		/* The link as it is now. */
		char link[LINK_MAX], text[LINK_MAX];
		memcpy(link, l->path, ll);
		link[ll] = '\0';
		long tl = tg_sys(SYS_readlink, link, text, sizeof(text));
		if (tl != (long)l->tlen || memcmp(text, l->text, (size_t)tl) != 0) {
			refresh(l, seq, text, tl < 0 ? -1 : tl);
			return 1; /* changed: this open resolves; the next uses it */
		}
		size_t rl = l->rlen;
		if (rl >= LINK_MAX || rl + 1 + restl >= PATH_MAX)
			return 1;
		memcpy(abs, l->real, rl);
		if (atomic_load_explicit(&l->seq, memory_order_acquire) != seq)
			return 1;
		abs[rl] = '/';
		memcpy(abs + rl + 1, rest, restl + 1);
		*ret_n = (int)(rl + 1 + restl);
		return 0;
	}
	return 1;
}

void tg_links_loop(const char *abs, size_t n)
{
	unsigned used = atomic_load_explicit(&tg_links_used, memory_order_relaxed);
	char real[LINK_MAX];

	if (tg_self_foreign())
		return;
	for (unsigned i = 0; i < used && i < LINK_SLOTS; i++) {
		struct link *l = &links[i];
		size_t rl = l->rlen;
		unsigned w;
		if (rl == 0 || rl >= n || abs[rl] != '/' || memcmp(abs, l->real, rl) != 0)
			continue;
		/* A link below the folder is the resolver's business; a folder
		 * that is itself reached through a link makes every open miss. */
		memcpy(real, abs, rl);
		real[rl] = '\0';
		int fd = tg_openat2(AT_FDCWD, real, O_PATH | O_CLOEXEC, 0);
		if (fd >= 0)
			tg_sys(SYS_close, fd);
		if (fd == -ELOOP && take(l, &w)) {
			l->dead = true;
			give(l, w);
		}
		return;
	}
}

/* A link filed already (kept or left to the resolver) is PATH (LEN bytes)
 * or a folder on its way: nothing to learn, and no folder to read again. */
static bool known(const char *path, size_t len)
{
	unsigned used = atomic_load_explicit(&tg_links_used, memory_order_relaxed);

	for (unsigned i = 0; i < used && i < LINK_SLOTS; i++) {
		size_t ll = links[i].llen;
		if (ll && ll <= len && (ll == len || path[ll] == '/') &&
		    memcmp(links[i].path, path, ll) == 0)
			return true;
	}
	return false;
}

void tg_links_learn(const char *path)
{
	size_t len = tg_path_is_normal(path);
	char prefix[LINK_MAX], text[LINK_MAX], real[LINK_MAX];

	if (!len || strncmp(path, "/proc/", 6) == 0 || tg_frozen() || known(path, len) ||
	    tg_self_foreign())
		return;
	/* The first link on the way: each folder before it is read and is
	 * none (EINVAL), so the link's own folder is real. */
	size_t at = 1;
	for (int depth = 0; depth < LEARN_DEPTH; depth++) {
		const char *slash = memchr(path + at, '/', len - at);
		if (!slash)
			return; /* the last name is the link: the resolver's case */
		size_t plen = (size_t)(slash - path);
		if (plen >= LINK_MAX)
			return;
		memcpy(prefix, path, plen);
		prefix[plen] = '\0';
		long tl = tg_sys(SYS_readlink, prefix, text, sizeof(text));
		if (tl < 0) {
			if (errno != EINVAL)
				return;
			at = plen + 1;
			continue;
		}
		if (tl == 0 || tl >= LINK_MAX || known(prefix, plen))
			return;
		size_t rlen = named_folder(prefix, plen, text, (size_t)tl, real);
		unsigned used = atomic_load_explicit(&tg_links_used, memory_order_relaxed);
		unsigned i = used < LINK_SLOTS ? used
					       : atomic_fetch_add(&next_slot, 1) % LINK_SLOTS;
		unsigned w;
		if (!take(&links[i], &w))
			return;
		fill(&links[i], prefix, plen, text, (size_t)tl, real, rlen);
		give(&links[i], w);
		if (i == used)
			atomic_compare_exchange_strong(&tg_links_used, &used, used + 1);
		return;
	}
}
