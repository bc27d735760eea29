/* Handing the compiled policy to children (see handoff.h).
 *
 * The file starts with a header (the first bytes of the policy's region):
 * a magic, the format, this library's build id, the address and size the
 * region must be mapped at, where the policy is in it, and digests of the
 * facts the load depended on. A child believes a file only when it is a
 * memory file sealed against any change, its header is this library's,
 * the facts are its own, the address is free, and the sources still hold
 * what the digest of the policy says (they are read and hashed again).
 * That the content was compiled from those sources is not proven by the
 * child: it follows from who can put a sealed file at that descriptor,
 * which SECURITY.md argues. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff.h"
#include "tg-env.h"
#include "tg-sha256.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

#define HANDOFF_MAGIC  "trainguard:pol\n"
#define HANDOFF_FORMAT 1u
#define SEALS          (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct head {
	char magic[16];
	uint32_t format;
	uint32_t idlen;
	unsigned char build_id[64];
	uint64_t base, size;
	struct tg_policy *policy;
	unsigned char load_facts[32];    /* facts_digest of struct tg_handoff_facts */
	unsigned char protect_facts[32]; /* facts_digest of the guard's files */
};
_Static_assert(sizeof(struct head) <= TG_POLICY_HEAD, "the header fits the region's head");

static struct {
	int fd; /* the file children get, or -1 */
	unsigned long long dev, ino;
	bool taken;   /* this process uses a handed policy */
	bool genuine; /* TRAINGUARD_HANDOFF named a file of ours (maybe unusable here) */
	bool pass_on; /* ...made for this job, whose address only was taken here */
	char entry[64];
	unsigned char build_id[64];
	size_t idlen; /* 0: not known (no handoff) */
} h = { .fd = -1 };

/* ---- This library's build id ------------------------------------------- */

static int find_build_id(struct dl_phdr_info *info, size_t size, void *ud)
{
	uintptr_t me = (uintptr_t)ud;

	(void)size;
	bool mine = false;
	for (int i = 0; i < info->dlpi_phnum && !mine; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		mine = ph->p_type == PT_LOAD && me >= lo && me < lo + ph->p_memsz;
	}
	if (!mine)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *n = (const char *)(info->dlpi_addr + ph->p_vaddr),
			   *end = n + ph->p_memsz;
		while (n + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)n;
			const char *name = n + sizeof(*nh);
			const unsigned char *desc = (const unsigned char *)name +
						    ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= sizeof(h.build_id) &&
			    (const char *)desc + nh->n_descsz <= end) {
				memcpy(h.build_id, desc, nh->n_descsz);
				h.idlen = nh->n_descsz;
				return 1;
			}
			n = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 1;
}

static bool build_id(void)
{
	if (!h.idlen)
		dl_iterate_phdr(find_build_id, (void *)(uintptr_t)build_id);
	return h.idlen > 0;
}

/* ---- Facts --------------------------------------------------------------- */

/* A digest of the N strings V (NULL ones included, told from ""). */
static void facts_digest(const char *const *v, size_t n, unsigned char out[32])
{
	struct tg_sha256 sha;

	tg_sha256_init(&sha);
	for (size_t i = 0; i < n; i++) {
		if (v[i])
			tg_sha256_update(&sha, v[i], strlen(v[i]) + 1);
		else
			tg_sha256_update(&sha, "\xff", 1);
	}
	tg_sha256_final(&sha, out);
}

static void load_facts(const struct tg_handoff_facts *f, unsigned char out[32])
{
	/* No variable frozen and none given load alike: nothing expanded
	 * depended on the environment. */
	const char *v[] = { f->policy_path, f->job_id, f->vars ? f->vars : "" };
	facts_digest(v, 3, out);
}

/* ---- The child's side ---------------------------------------------------- */

static bool read_head(int fd, struct head *hd)
{
	ssize_t n;

	do
		n = pread(fd, hd, sizeof(*hd), 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*hd);
}

int tg_handoff_take(const struct tg_handoff_facts *facts, struct tg_policy **ret)
{
	const char *env = getenv(TG_ENV_HANDOFF);
	struct head hd;
	struct stat st;
	unsigned char want[32];
	char *end;

	if (!env || !*env)
		return -ENOENT;
	long fd = strtol(env, &end, 10);
	if (*end || fd < 3 || fd > INT32_MAX)
		return -EINVAL;
	/* Only a sealed memory file of this library's own making. */
	int seals = fcntl((int)fd, F_GET_SEALS);
	if (seals < 0 || (seals & SEALS) != SEALS || fstat((int)fd, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return -EBADF;
	if (!read_head((int)fd, &hd) || memcmp(hd.magic, HANDOFF_MAGIC, sizeof(hd.magic)) != 0 ||
	    hd.format != HANDOFF_FORMAT || !build_id() || hd.idlen != h.idlen ||
	    memcmp(hd.build_id, h.build_id, h.idlen) != 0)
		return -EPROTO;
	h.genuine = true;
	h.fd = (int)fd;
	h.dev = st.st_dev;
	h.ino = st.st_ino;
	load_facts(facts, want);
	long pg = sysconf(_SC_PAGESIZE);
	if (memcmp(hd.load_facts, want, sizeof(want)) != 0 || hd.size != (uint64_t)st.st_size ||
	    hd.size < sizeof(hd) || pg <= 0 || hd.base % (uint64_t)pg != 0 ||
	    (uint64_t)(uintptr_t)hd.policy < hd.base ||
	    (uint64_t)(uintptr_t)hd.policy >= hd.base + hd.size)
		return -ESTALE;
	void *base = (void *)(uintptr_t)hd.base;
	void *m = mmap(base, hd.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED_NOREPLACE,
		       (int)fd, 0);
	if (m != MAP_FAILED && m != base) /* a kernel that took the address as a hint */
		munmap(m, hd.size);
	if (m != base) {
		h.pass_on = true;
		return -EADDRINUSE;
	}
	struct tg_policy *p = hd.policy;
	if (tg_policy_adopt(base, hd.size, p) < 0) {
		munmap(base, hd.size);
		return -ESTALE;
	}
	/* The files the policy was read from still hold what was read; else
	 * this process reads them as they are now. */
	if (!tg_policy_sources_same(p)) {
		tg_policy_free(p);
		return -ESTALE;
	}
	h.taken = true;
	snprintf(h.entry, sizeof(h.entry), TG_ENV_HANDOFF "=%d", h.fd);
	*ret = p;
	return 0;
}

bool tg_handoff_protects(const struct tg_policy *p, const char *const *mine, size_t n)
{
	const struct head *hd = tg_policy_region(p, NULL);
	unsigned char d[32];

	if (!hd)
		return false;
	facts_digest(mine, n, d);
	return memcmp(d, hd->protect_facts, sizeof(d)) == 0;
}

/* ---- The first process's side ------------------------------------------- */

/* The descriptor children find the file at: above the ones programs use
 * (as the log's), inherited. */
static int inherited_fd(int fd)
{
	struct rlimit rl;
	int base = 900;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
		base = rl.rlim_cur / 2;
	if (h.genuine && h.fd >= 0) {
		/* A stale file of ours: this one takes its place, so that a
		 * line of children does not pile them up. */
		int r = dup3(fd, h.fd, 0);
		close(fd);
		return r;
	}
	int r = fcntl(fd, F_DUPFD, base);
	close(fd);
	return r;
}

void tg_handoff_offer(struct tg_policy *p, const struct tg_handoff_facts *facts,
		      const char *const *mine, size_t n)
{
	size_t size;
	struct head *hd = tg_policy_region(p, &size);
	struct stat st;

	if (h.taken || !hd || !build_id())
		return;
	if (h.pass_on && fstat(h.fd, &st) == 0 && st.st_dev == h.dev && st.st_ino == h.ino) {
		/* Ours, made for this job, unusable here only (the address was
		 * taken): the children may have better luck with it. */
		snprintf(h.entry, sizeof(h.entry), TG_ENV_HANDOFF "=%d", h.fd);
		return;
	}
	/* Nothing may point out of the region: the library and the heap are
	 * elsewhere in a child. */
	if (tg_policy_region_scan(p) != 0)
		return;
	memset(hd, 0, sizeof(*hd));
	memcpy(hd->magic, HANDOFF_MAGIC, sizeof(hd->magic));
	hd->format = HANDOFF_FORMAT;
	hd->idlen = (uint32_t)h.idlen;
	memcpy(hd->build_id, h.build_id, h.idlen);
	hd->base = (uint64_t)(uintptr_t)hd;
	hd->size = size;
	hd->policy = p;
	load_facts(facts, hd->load_facts);
	facts_digest(mine, n, hd->protect_facts);

	int fd = memfd_create("trainguard-policy",
			      MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL) /* before Linux 6.3 */
		fd = memfd_create("trainguard-policy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return;
	if (tg_policy_region_write(p, fd) < 0 || fcntl(fd, F_ADD_SEALS, SEALS) < 0 ||
	    (fd = inherited_fd(fd)) < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	h.fd = fd;
	h.dev = st.st_dev;
	h.ino = st.st_ino;
	snprintf(h.entry, sizeof(h.entry), TG_ENV_HANDOFF "=%d", fd);
}

const char *tg_handoff_entry(int *ret_fd, unsigned long long *ret_dev, unsigned long long *ret_ino)
{
	if (!h.entry[0])
		return NULL;
	*ret_fd = h.fd;
	*ret_dev = h.dev;
	*ret_ino = h.ino;
	return h.entry;
}
