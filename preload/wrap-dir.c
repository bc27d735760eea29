/* Listing folders: opendir, fdopendir, scandir, scandir64, scandirat,
 * scandirat64 (class list). libc opens the folder through internal calls,
 * so the decision is made here. closedir closes its descriptor through
 * libc internals too: the guard forgets what it knew of that number (for
 * fdopendir's, the folder), or the next descriptor to get it would be
 * judged as the old folder. */
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

#include "decide.h"
#include "fdtable.h"
#include "protect-errno.h"
#include "real.h"

static int check_list(const char *op, int dirfd, const char *path)
{
	struct tg_req req = { .kind = TG_REQ_PATH,
			      .op = op,
			      .dirfd = dirfd,
			      .path = path,
			      .flags = -1,
			      .classes = TG_BIT(TG_LIST),
			      .mode = -1,
			      .on_fd = path == NULL };
	return tg_check(&req);
}

DIR *opendir(const char *path)
{
	int r = check_list("opendir", AT_FDCWD, path);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return REAL(opendir)(path);
}

DIR *fdopendir(int fd)
{
	int r = check_list("fdopendir", fd, NULL);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return REAL(fdopendir)(fd);
}

int scandir(const char *path, struct dirent ***list, int (*sel)(const struct dirent *),
	    int (*cmp)(const struct dirent **, const struct dirent **))
{
	int r = check_list("scandir", AT_FDCWD, path);
	return r < 0 ? tg_fail(-r) : REAL(scandir)(path, list, sel, cmp);
}

int scandir64(const char *path, struct dirent64 ***list, int (*sel)(const struct dirent64 *),
	      int (*cmp)(const struct dirent64 **, const struct dirent64 **))
{
	int r = check_list("scandir64", AT_FDCWD, path);
	return r < 0 ? tg_fail(-r) : REAL(scandir64)(path, list, sel, cmp);
}

int scandirat(int dirfd, const char *path, struct dirent ***list, int (*sel)(const struct dirent *),
	      int (*cmp)(const struct dirent **, const struct dirent **))
{
	int r = check_list("scandirat", dirfd, path);
	return r < 0 ? tg_fail(-r) : REAL(scandirat)(dirfd, path, list, sel, cmp);
}

int scandirat64(int dirfd, const char *path, struct dirent64 ***list,
		int (*sel)(const struct dirent64 *),
		int (*cmp)(const struct dirent64 **, const struct dirent64 **))
{
	int r = check_list("scandirat64", dirfd, path);
	return r < 0 ? tg_fail(-r) : REAL(scandirat64)(dirfd, path, list, sel, cmp);
}

int closedir(DIR *d)
{
	int fd = d ? dirfd(d) : -1;

	/* Before (no use of the old folder is cached meanwhile) and after (a
	 * use that raced with the close). */
	if (fd >= 0)
		tg_fd_forget(fd);
	int r = REAL(closedir)(d);
	if (fd >= 0) {
		TG_PROTECT_ERRNO;
		tg_fd_forget(fd);
	}
	return r;
}
