/* Writes through a descriptor: write, pwrite, writev and their 64 and v2
 * forms, truncation and allocation through a descriptor, copy_file_range
 * and sendfile (on the descriptor written), and truncate and truncate64,
 * the writes by path (class write), made through a descriptor opened on
 * the object decided. A descriptor the guard opened
 * costs one table load and a branch; any other is classified once by its
 * real path (see fdtable.h). stdio streams write through libc internals
 * and were decided when they were opened. */
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "decide.h"
#include "fdtable.h"
#include "open.h"
#include "protect-errno.h"
#include "real.h"

/* The hottest wrappers keep their fast path free of any call but the
 * real one (a tail jump, no saved registers); the rest is out of line. */
#define HOT_WRITE(ret, name, params, args) \
	static __attribute__((noinline)) ret name##_slow params \
	{ \
		TG_FD_WRITE_CHECK(#name, fd); \
		return REAL(name) args; \
	} \
	ret name params \
	{ \
		if (__builtin_expect(tg_fd_pass(fd) && tg_real.name != NULL, 1)) \
			return tg_real.name args; \
		return name##_slow args; \
	}

HOT_WRITE(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n))
HOT_WRITE(ssize_t, pwrite, (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off))
HOT_WRITE(ssize_t, pwrite64, (int fd, const void *buf, size_t n, off64_t off), (fd, buf, n, off))
HOT_WRITE(ssize_t, writev, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt))

/* glibc's exported aliases (dlsym finds them by name). */
HOT_WRITE(ssize_t, __write, (int fd, const void *buf, size_t n), (fd, buf, n))
HOT_WRITE(ssize_t, __write_nocancel, (int fd, const void *buf, size_t n), (fd, buf, n))
HOT_WRITE(ssize_t, __pwrite64, (int fd, const void *buf, size_t n, off64_t off), (fd, buf, n, off))
HOT_WRITE(ssize_t, __libc_pwrite, (int fd, const void *buf, size_t n, off64_t off),
	  (fd, buf, n, off))

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	TG_FD_WRITE_CHECK("pwritev", fd);
	return REAL(pwritev)(fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	TG_FD_WRITE_CHECK("pwritev64", fd);
	return REAL(pwritev64)(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	TG_FD_WRITE_CHECK("pwritev2", fd);
	return REAL(pwritev2)(fd, iov, cnt, off, flags);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
	TG_FD_WRITE_CHECK("pwritev64v2", fd);
	return REAL(pwritev64v2)(fd, iov, cnt, off, flags);
}

int ftruncate(int fd, off_t len)
{
	TG_FD_WRITE_CHECK("ftruncate", fd);
	return REAL(ftruncate)(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
	TG_FD_WRITE_CHECK("ftruncate64", fd);
	return REAL(ftruncate64)(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	TG_FD_WRITE_CHECK("fallocate", fd);
	return REAL(fallocate)(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	TG_FD_WRITE_CHECK("fallocate64", fd);
	return REAL(fallocate64)(fd, mode, off, len);
}

/* posix_fallocate returns an error number and leaves errno alone. */
int posix_fallocate(int fd, off_t off, off_t len)
{
	if (!tg_fd_pass(fd)) {
		int r = tg_fd_classify("posix_fallocate", fd);
		if (r < 0)
			return -r;
	}
	return REAL(posix_fallocate)(fd, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
	if (!tg_fd_pass(fd)) {
		int r = tg_fd_classify("posix_fallocate64", fd);
		if (r < 0)
			return -r;
	}
	return REAL(posix_fallocate64)(fd, off, len);
}

ssize_t copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t n,
			unsigned int flags)
{
	TG_FD_WRITE_CHECK("copy_file_range", out);
	return REAL(copy_file_range)(in, inoff, out, outoff, n, flags);
}

ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	TG_FD_WRITE_CHECK("sendfile", out);
	return REAL(sendfile)(out, in, off, n);
}

ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
	TG_FD_WRITE_CHECK("sendfile64", out);
	return REAL(sendfile64)(out, in, off, n);
}

/* truncate acts on what was decided: the file is opened for writing
 * through the guard's open (decided as class write, and opened with
 * RESOLVE_NO_SYMLINKS on the object decided) and cut through that
 * descriptor, so a symlink flipped between the decision and the cut
 * cannot redirect it. truncate needs write permission, as the open does;
 * O_NONBLOCK keeps a FIFO from blocking (truncate refuses it anyway). */
static int truncate_held(const char *op, const char *path, off64_t len)
{
	struct tg_req req;
	int fd, r;

	req.op = op;
	req.dirfd = AT_FDCWD;
	req.path = path;
	req.flags = O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	req.mode = -1;
	r = tg_open(&req, &fd);
	if (r == 1) /* the guard is off, or leaves this open to libc */
		fd = REAL(open64)(path, req.flags);
	else if (r < 0)
		return tg_fail(-r);
	if (fd < 0)
		return -1;
	r = REAL(ftruncate64)(fd, len);
	TG_PROTECT_ERRNO;
	REAL(close)(fd);
	return r;
}

int truncate(const char *path, off_t len)
{
	if (!path)
		return REAL(truncate)(path, len); /* the kernel answers EFAULT */
	return truncate_held("truncate", path, len);
}

int truncate64(const char *path, off64_t len)
{
	if (!path)
		return REAL(truncate64)(path, len);
	return truncate_held("truncate64", path, len);
}
