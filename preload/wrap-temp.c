/* Temporary files: the mkstemp family, mkdtemp and tmpfile. libc creates
 * these through internal calls, so they are decided here, on the template
 * (the final name is random; every rule that can match it matches the
 * template's folder). mkstemp already creates with 0600 and mkdtemp with
 * 0700, so a create_mode has nothing to narrow. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "fdtable.h"
#include "guard.h"

static int check(const char *op, const char *tmpl, int flags, bool dir)
{
	struct tg_call c = {
		.op = op,
		.dirfd = AT_FDCWD,
		.path = tmpl,
		.flags = dir ? -1 : flags,
		.classes = dir ? TG_BIT(TG_CREATE) : tg_open_classes(flags),
		.mode = -1,
		.is_dir = dir,
	};
	return tg_check(&c);
}

static inline int opened(int fd)
{
	tg_fd_set(fd, TG_FD_PASS);
	return fd;
}

#define FILE_FLAGS (O_RDWR | O_CREAT | O_EXCL)

int mkstemp(char *tmpl)
{
	int r = check("mkstemp", tmpl, FILE_FLAGS, false);
	return r < 0 ? tg_fail(-r) : opened(REAL(mkstemp)(tmpl));
}

int mkstemp64(char *tmpl)
{
	int r = check("mkstemp64", tmpl, FILE_FLAGS, false);
	return r < 0 ? tg_fail(-r) : opened(REAL(mkstemp64)(tmpl));
}

int mkostemp(char *tmpl, int flags)
{
	int r = check("mkostemp", tmpl, FILE_FLAGS | flags, false);
	return r < 0 ? tg_fail(-r) : opened(REAL(mkostemp)(tmpl, flags));
}

int mkostemp64(char *tmpl, int flags)
{
	int r = check("mkostemp64", tmpl, FILE_FLAGS | flags, false);
	return r < 0 ? tg_fail(-r) : opened(REAL(mkostemp64)(tmpl, flags));
}

int mkstemps(char *tmpl, int suffixlen)
{
	int r = check("mkstemps", tmpl, FILE_FLAGS, false);
	return r < 0 ? tg_fail(-r) : opened(REAL(mkstemps)(tmpl, suffixlen));
}

int mkstemps64(char *tmpl, int suffixlen)
{
	int r = check("mkstemps64", tmpl, FILE_FLAGS, false);
	return r < 0 ? tg_fail(-r) : opened(REAL(mkstemps64)(tmpl, suffixlen));
}

int mkostemps(char *tmpl, int suffixlen, int flags)
{
	int r = check("mkostemps", tmpl, FILE_FLAGS | flags, false);
	return r < 0 ? tg_fail(-r) : opened(REAL(mkostemps)(tmpl, suffixlen, flags));
}

int mkostemps64(char *tmpl, int suffixlen, int flags)
{
	int r = check("mkostemps64", tmpl, FILE_FLAGS | flags, false);
	return r < 0 ? tg_fail(-r) : opened(REAL(mkostemps64)(tmpl, suffixlen, flags));
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
