/* Temporary files: the mkstemp family, mkdtemp and tmpfile. libc creates
 * these through internal calls the wrappers cannot see. The mkstemp family
 * is therefore made here, each candidate name opened through tg_open;
 * mkdtemp and tmpfile are decided on the template (the final name is
 * random; every rule that can match it matches the template's folder).
 * mkstemp creates with 0600 and mkdtemp with 0700: a create_mode narrows
 * only what it would take away from those. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>

#include "decide.h"
#include "fdtable.h"
#include "open.h"
#include "real.h"
#include "settings.h"

static int check(const char *op, const char *tmpl, int flags, bool dir)
{
	struct tg_req req = {
		.kind = TG_REQ_PATH,
		.op = op,
		.dirfd = AT_FDCWD,
		.path = tmpl,
		.flags = dir ? -1 : flags,
		.classes = dir ? TG_BIT(TG_CREATE) : tg_open_classes(flags),
		.mode = -1,
		.is_dir = dir,
	};
	return tg_check(&req);
}

static inline int opened(int fd)
{
	tg_fd_set(fd, TG_FD_PASS);
	return fd;
}

/* Six random letters or digits, as libc's own. The state is per thread,
 * seeded from the kernel's AT_RANDOM bytes, the clock (vDSO) and the
 * thread: no system call. Unpredictable enough that another process
 * cannot camp on the names; O_EXCL and the guard's no-symlink open make a
 * guess harmless anyway. */
static __thread uint64_t seed __attribute__((tls_model("initial-exec")));

static uint64_t next_random(void)
{
	struct timespec ts;

	if (!seed) {
		const void *at = (const void *)getauxval(AT_RANDOM); /* 16 bytes, unaligned */
		uint64_t r[2] = { 0, 0 };
		if (at)
			memcpy(r, at, sizeof(r));
		seed = r[0] ^ r[1] ^ (uint64_t)(uintptr_t)&ts ^ 0x9e3779b97f4a7c15ULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed += 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_nsec;
	uint64_t z = seed;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Ten random bits per letter, scaled onto the 62 (a letter comes up 16 or
 * 17 times in 1,024: no matter for a name O_EXCL guards). */
static void fill(char *x)
{
	static const char letters[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint64_t r = next_random();

#pragma GCC unroll 6
	for (int i = 0; i < 6; i++, r >>= 10)
		x[i] = letters[((r & 1023) * 62) >> 10];
}

/* The last template this thread found quietly allowed: the verdict rests
 * on the policy (and the mode, set with it at start) and the template's
 * text alone (absolute, so no working directory), so it stands for the
 * next call with the same template under the same policy (a loop of
 * mkstemp in one folder) and the memo lookup is saved. */
#define QUIET_MAX 160
static __thread struct {
	const void *policy;
	unsigned len, classes; /* LEN 0: none */
	char tmpl[QUIET_MAX];
} quiet_tmpl __attribute__((tls_model("initial-exec")));

static bool quiet(const char *tmpl, size_t len, unsigned classes)
{
	if (tmpl[0] == '/' && len == quiet_tmpl.len && classes == quiet_tmpl.classes &&
	    quiet_tmpl.policy == tg_set.policy && memcmp(tmpl, quiet_tmpl.tmpl, len) == 0)
		return true;
	if (!tg_open_quiet(AT_FDCWD, tmpl, classes, S_IRUSR | S_IWUSR))
		return false;
	if (tmpl[0] == '/' && len < QUIET_MAX) {
		memcpy(quiet_tmpl.tmpl, tmpl, len);
		quiet_tmpl.len = (unsigned)len;
		quiet_tmpl.classes = classes;
		quiet_tmpl.policy = tg_set.policy;
	}
	return true;
}

/* The mkstemp family. When the template's folder is quietly allowed (the
 * common case), the file is made here: each name is opened through
 * tg_open with O_CREAT | O_EXCL, so the decision is on the very file
 * created and costs no system call beyond the open. Otherwise the template
 * is decided and recorded, and libc makes the file. Returns 0 with the
 * descriptor in *RET_FD, -errno, or 1 to let libc make it. */
#define ATTEMPTS (62 * 62 * 62) /* libc's TMP_MAX */
static int make_temp(const char *op, char *tmpl, int suffixlen, int flags, int *ret_fd)
{
	size_t len = tmpl ? strlen(tmpl) : 0;

	if (suffixlen < 0 || len < 6 || len - 6 < (size_t)suffixlen ||
	    memcmp(tmpl + len - suffixlen - 6, "XXXXXX", 6) != 0)
		return 1; /* libc answers EINVAL */
	char *x = tmpl + len - suffixlen - 6;
	flags = (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL;
	if (!quiet(tmpl, len, tg_open_classes(flags))) {
		/* Refused, recorded or narrowed: decided on the template (the
		 * record names what the program asked for), made by libc. */
		int r = check(op, tmpl, flags, false);
		return r < 0 ? r : 1;
	}
	for (int i = 0; i < ATTEMPTS; i++) {
		struct tg_req req; /* tg_open sets what it needs beyond these */
		req.op = op;
		req.dirfd = AT_FDCWD;
		req.path = tmpl;
		req.flags = flags;
		req.mode = S_IRUSR | S_IWUSR;
		fill(x);
		int r = tg_open(&req, ret_fd);
		if (r == 1)
			break;
		if (r == 0) {
			tg_fd_set(*ret_fd, TG_FD_PASS);
			return 0;
		}
		if (r != -EEXIST) {
			memcpy(x, "XXXXXX", 6);
			return r;
		}
	}
	memcpy(x, "XXXXXX", 6);
	return 1;
}

#define MAKE_TEMP(op, call, tmpl, suffixlen, flags) \
	do { \
		int fd_ = -1, r_ = make_temp(op, tmpl, suffixlen, flags, &fd_); \
		if (r_ == 1) \
			return opened(call); \
		return r_ < 0 ? tg_fail(-r_) : fd_; \
	} while (0)

int mkstemp(char *tmpl)
{
	MAKE_TEMP("mkstemp", REAL(mkstemp)(tmpl), tmpl, 0, 0);
}

int mkstemp64(char *tmpl)
{
	MAKE_TEMP("mkstemp64", REAL(mkstemp64)(tmpl), tmpl, 0, 0);
}

int mkostemp(char *tmpl, int flags)
{
	MAKE_TEMP("mkostemp", REAL(mkostemp)(tmpl, flags), tmpl, 0, flags);
}

int mkostemp64(char *tmpl, int flags)
{
	MAKE_TEMP("mkostemp64", REAL(mkostemp64)(tmpl, flags), tmpl, 0, flags);
}

int mkstemps(char *tmpl, int suffixlen)
{
	MAKE_TEMP("mkstemps", REAL(mkstemps)(tmpl, suffixlen), tmpl, suffixlen, 0);
}

int mkstemps64(char *tmpl, int suffixlen)
{
	MAKE_TEMP("mkstemps64", REAL(mkstemps64)(tmpl, suffixlen), tmpl, suffixlen, 0);
}

int mkostemps(char *tmpl, int suffixlen, int flags)
{
	MAKE_TEMP("mkostemps", REAL(mkostemps)(tmpl, suffixlen, flags), tmpl, suffixlen, flags);
}

int mkostemps64(char *tmpl, int suffixlen, int flags)
{
	MAKE_TEMP("mkostemps64", REAL(mkostemps64)(tmpl, suffixlen, flags), tmpl, suffixlen, flags);
}

char *mkdtemp(char *tmpl)
{
	int r = check("mkdtemp", tmpl, 0, true);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return REAL(mkdtemp)(tmpl);
}

/* tmpfile() makes an unnamed file in P_tmpdir with O_TMPFILE (falling back
 * to a named one there): decided as a create in that folder. */
static int check_tmpfile(const char *op)
{
	char name[] = P_tmpdir "/tmpfXXXXXX";
	return check(op, name, O_RDWR | O_CREAT | O_EXCL, false);
}

FILE *tmpfile(void)
{
	int r = check_tmpfile("tmpfile");
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return REAL(tmpfile)();
}

FILE *tmpfile64(void)
{
	int r = check_tmpfile("tmpfile64");
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return REAL(tmpfile64)();
}
