/* A symlink swap at the worst moment, for the race tests: preloaded after
 * the guard, whose raw system calls go through syscall() found with
 * dlsym(RTLD_NEXT), this syscall() re-points the link TG_FLIP_LINK to
 * TG_FLIP_TO right after the guard has looked at it: after a readlink of
 * the link (or a readlinkat of its name), or after an O_PATH open of the
 * link as a folder ("LINK/"). A race a free-running flipper wins now and
 * then, on a busy machine almost never, is then won every time: a guard
 * that resolves a path and opens it again by name opens the new target.
 * Test-only; never part of the product. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef long (*syscall_fn)(long, ...);

static syscall_fn next_syscall(void)
{
	static syscall_fn next;
	if (!next)
		next = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	return next;
}

static void flip(syscall_fn next, const char *link, const char *to)
{
	char tmp[4096];
	size_t n = strlen(link);

	if (n + 5 >= sizeof(tmp))
		return;
	memcpy(tmp, link, n);
	memcpy(tmp + n, ".flp", 5);
	next(SYS_unlink, tmp);
	if (next(SYS_symlink, to, tmp) == 0)
		next(SYS_rename, tmp, link);
}

static const char *flip_link(void)
{
	return getenv("TG_FLIP_LINK");
}

/* The guard reads links with libc's readlink too. */
__attribute__((visibility("default"))) ssize_t readlink(const char *path, char *buf, size_t cap)
{
	static ssize_t (*next)(const char *, char *, size_t);
	const char *link = flip_link(), *to = getenv("TG_FLIP_TO");

	if (!next)
		next = (ssize_t(*)(const char *, char *, size_t))dlsym(RTLD_NEXT, "readlink");
	ssize_t r = next(path, buf, cap);
	if (link && to && strcmp(path, link) == 0) {
		int e = errno;
		flip(next_syscall(), link, to);
		errno = e;
	}
	return r;
}

static int same_folder(const char *path, const char *link)
{
	size_t n = strlen(link);
	return strncmp(path, link, n) == 0 && path[n] == '/' && path[n + 1] == '\0';
}

__attribute__((visibility("default"))) long syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	syscall_fn next = next_syscall();
	const char *link = getenv("TG_FLIP_LINK"), *to = getenv("TG_FLIP_TO");

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	long r = next(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (!link || !to)
		return r;
	const char *base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if ((nr == SYS_readlink && strcmp((const char *)a[0], link) == 0) ||
	    (nr == SYS_readlinkat &&
	     (strcmp((const char *)a[1], link) == 0 || strcmp((const char *)a[1], base) == 0)) ||
	    (nr == SYS_openat && (a[2] & O_PATH) && same_folder((const char *)a[1], link))) {
		int e = errno;
		flip(next, link, to);
		errno = e;
	}
	return r;
}
