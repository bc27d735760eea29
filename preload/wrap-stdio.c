/* stdio opens: fopen, fopen64, freopen, freopen64, fdopen. libc opens these files
 * through its internal open, which no wrapper sees, so fopen is decided
 * here from the mode string, and the file opened by the guard as open(2)
 * is (the object decided on, a create_mode applied) and handed to fdopen:
 * one fcntl(F_GETFL) more than fopen, the price of fdopen, which asks it
 * through libc's internal fcntl whatever the mode (docs/hot-path.md:
 * building the FILE without fdopen would mean glibc's private layout). */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "decide.h"
#include "fdtable.h"
#include "open.h"
#include "protect-errno.h"
#include "real.h"

/* The open(2) flags an fopen mode string means, or -1 when it is invalid
 * (then the real function answers EINVAL). */
static int mode_flags(const char *m)
{
	int f;

	if (!m)
		return -1;
	switch (m[0]) {
	case 'r':
		f = O_RDONLY;
		break;
	case 'w':
		f = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		f = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return -1;
	}
	for (const char *c = m + 1; *c && *c != ','; c++) {
		if (*c == '+')
			f = (f & ~O_ACCMODE) | O_RDWR;
		else if (*c == 'x')
			f |= O_EXCL;
		else if (*c == 'e')
			f |= O_CLOEXEC;
	}
	return f;
}

/* True when MODE asks for a character set conversion (",ccs="), which only
 * fopen sets up. Scanned by hand: a mode is a few letters. */
static bool converts(const char *m)
{
	for (; *m; m++)
		if (*m == ',')
			return strstr(m, ",ccs=") != NULL;
	return false;
}

/* A stream on descriptor FD, opened for MODE; closes FD when it fails. */
static FILE *stream_on(int fd, const char *mode)
{
	FILE *f = REAL(fdopen)(fd, mode);

	if (!f) {
		TG_PROTECT_ERRNO;
		tg_sys(SYS_close, fd);
	}
	return f;
}

/* Decides, and opens the file as tg_open does (so that the kernel opens
 * the object decided on, with a narrowed mode when the policy sets one)
 * and hands the descriptor to fdopen. Returns false to go on with the real
 * call, or true with *OUT the answer (a stream, or NULL and errno). */
static bool decided(const char *op, const char *path, const char *mode, FILE **out)
{
	int flags = mode_flags(mode), fd = -1;

	if (flags < 0 || converts(mode))
		return false; /* invalid, or a conversion only fopen sets up */
	struct tg_req req;    /* tg_open sets what it needs beyond these */
	req.op = op;
	req.dirfd = AT_FDCWD;
	req.path = path;
	req.flags = flags;
	req.mode = flags & O_CREAT ? 0666 : -1;
	int r = tg_open(&req, &fd);
	if (r == 1) {
		if (!(flags & O_CREAT) || req.mode == 0666)
			return false; /* nothing to narrow: the real fopen */
		fd = REAL(open)(path, flags, (mode_t)req.mode);
		if (fd < 0) {
			*out = NULL;
			return true;
		}
	} else if (r < 0) {
		errno = -r;
		*out = NULL;
		return true;
	}
	tg_fd_set(fd, TG_FD_PASS);
	*out = stream_on(fd, mode);
	return true;
}

FILE *fopen(const char *path, const char *mode)
{
	FILE *f;
	return decided("fopen", path, mode, &f) ? f : REAL(fopen)(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	FILE *f;
	return decided("fopen64", path, mode, &f) ? f : REAL(fopen64)(path, mode);
}

/* freopen keeps the stream object, so a narrowed mode cannot be applied by
 * swapping streams: the decision is made, the mode is left to the umask. */
static int check_reopen(const char *op, const char *path, const char *mode, FILE *stream)
{
	int flags = mode_flags(mode);

	if (flags < 0)
		return 0; /* an invalid mode: the real function answers EINVAL */
	if (!path) {
		/* A new mode on the same file: decided on the file itself. */
		int fd = stream ? fileno(stream) : -1;
		struct tg_req req = { .kind = TG_REQ_PATH,
				      .op = op,
				      .dirfd = fd,
				      .flags = -1,
				      .classes = tg_open_classes(flags & ~O_CREAT),
				      .mode = -1,
				      .on_fd = true };
		return fd >= 0 ? tg_check(&req) : 0;
	}
	struct tg_req req = {
		.kind = TG_REQ_PATH,
		.op = op,
		.dirfd = AT_FDCWD,
		.path = path,
		.flags = flags,
		.classes = tg_open_classes(flags),
		.mode = -1,
	};
	return tg_check(&req);
}

FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	int r = check_reopen("freopen", path, mode, stream);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return REAL(freopen)(path, mode, stream);
}

FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
	int r = check_reopen("freopen64", path, mode, stream);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return REAL(freopen64)(path, mode, stream);
}

/* fdopen cannot widen a descriptor's access (libc refuses a mode the
 * descriptor lacks), but a stream for writing on a descriptor the guard
 * never saw is where its writes will go: classify it now, since the
 * stream's writes go through libc internals. */
FILE *fdopen(int fd, const char *mode)
{
	int flags = mode_flags(mode);

	if (flags >= 0 && (flags & O_ACCMODE) != O_RDONLY && !tg_fd_pass(fd)) {
		int r = tg_fd_classify("fdopen", fd);
		if (r < 0) {
			errno = -r;
			return NULL;
		}
	}
	return REAL(fdopen)(fd, mode);
}
