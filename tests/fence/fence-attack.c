/* fence-attack: one attack by raw system call per invocation, for the fence
 * tests. Nothing here goes through a libc wrapper the preload could see:
 * every call is syscall(SYS_...). Prints one line, "OK <detail>" or
 * "ERR <ERRNO NAME>", and exits 0; 2 on a usage error.
 *
 *   read PATH | read2 PATH     openat / openat2 + read: OK <bytes read>
 *   write PATH                 openat(O_WRONLY) + write "PWNED"
 *   trunc PATH                 truncate(PATH, 0)
 *   create PATH                openat(O_CREAT|O_EXCL)
 *   exec PATH [ARG]...         execve (the program's own output follows)
 *   uring                      io_uring_setup
 *   unshare-user | unshare-mnt unshare(CLONE_NEWUSER / CLONE_NEWNS)
 *   clone-user                 clone(CLONE_NEWUSER)
 *   clone3                     clone3 of a plain child
 *   ptrace                     ptrace(PTRACE_ATTACH) of a child
 *   vm-read | vm-write         process_vm_readv / process_vm_writev on a child
 *   link SRC DST | rename SRC DST   linkat / renameat
 *   chmod-suid PATH            chmod, fchmodat and fchmodat2 with 04755
 *   handle PATH                name_to_handle_at + open_by_handle_at + read
 *   memfd | memfd-sealed       memfd_create without / with MFD_NOEXEC_SEAL
 *   memfd-exec PATH            PATH copied into a memfd and run from it
 *   mount DIR                  mount a tmpfs on DIR
 *   int80                      getpid through the i386 entry point (x86-64) */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

extern char **environ;

static int err(void)
{
	printf("ERR %s\n", strerrorname_np(errno));
	return 0;
}

static int ok(const char *what, long n)
{
	printf("OK %s %ld\n", what, n);
	return 0;
}

static int read_fd(int fd)
{
	char buf[4096];
	long n = syscall(SYS_read, fd, buf, sizeof(buf));
	if (n < 0)
		return err();
	return ok("read", n);
}

/* A child that waits to be looked at, killed by the caller. */
static pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	const char *path = argc > 2 ? argv[2] : NULL;
	long fd;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(op, "read") && path) {
		if ((fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC)) < 0)
			return err();
		return read_fd(fd);
	}
	if (!strcmp(op, "read2") && path) {
		struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
		if ((fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how))) < 0)
			return err();
		return read_fd(fd);
	}
	if (!strcmp(op, "write") && path) {
		if ((fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC)) < 0)
			return err();
		long n = syscall(SYS_write, fd, "PWNED", 5);
		return n < 0 ? err() : ok("wrote", n);
	}
	if (!strcmp(op, "trunc") && path)
		return syscall(SYS_truncate, path, 0) < 0 ? err() : ok("truncated", 0);
	if (!strcmp(op, "create") && path) {
		fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			     0644);
		return fd < 0 ? err() : ok("created", 0);
	}
	if (!strcmp(op, "exec") && path) {
		syscall(SYS_execve, path, argv + 2, environ);
		return err();
	}
	if (!strcmp(op, "uring")) {
		char params[120] = { 0 }; /* struct io_uring_params */
		fd = syscall(SYS_io_uring_setup, 1, params);
		return fd < 0 ? err() : ok("io_uring", fd);
	}
	if (!strcmp(op, "unshare-user"))
		return syscall(SYS_unshare, CLONE_NEWUSER) < 0 ? err() : ok("unshared", 0);
	if (!strcmp(op, "unshare-mnt"))
		return syscall(SYS_unshare, CLONE_NEWNS) < 0 ? err() : ok("unshared", 0);
	if (!strcmp(op, "clone-user") || !strcmp(op, "clone3")) {
		long pid;
		if (!strcmp(op, "clone3")) {
			struct clone_args ca = { .exit_signal = SIGCHLD };
			pid = syscall(SYS_clone3, &ca, sizeof(ca));
		} else {
			pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		}
		if (pid < 0)
			return err();
		if (pid == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
		return ok("cloned", 0);
	}
	if (!strcmp(op, "ptrace")) {
		pid_t pid = sleeper();
		long r = syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, pid, 0, 0);
		int e = errno;
		reap(pid);
		errno = e;
		return r < 0 ? err() : ok("attached", pid);
	}
	if (!strcmp(op, "vm-read")) {
		static char secret[16] = "in the child";
		char buf[16];
		pid_t pid = sleeper();
		struct iovec l = { buf, sizeof(buf) }, rem = { secret, sizeof(secret) };
		long n = syscall(SYS_process_vm_readv, pid, &l, 1, &rem, 1, 0);
		int e = errno;
		reap(pid);
		errno = e;
		return n < 0 ? err() : ok("read", n);
	}
	if (!strcmp(op, "chmod-suid") && path) {
		if (syscall(SYS_chmod, path, 04755) == 0)
			return ok("chmod", 0);
		if (errno != EPERM)
			return err();
		if (syscall(SYS_fchmodat, AT_FDCWD, path, 02755) == 0)
			return ok("fchmodat", 0);
		if (errno != EPERM)
			return err();
		/* fchmodat2 (452) with flags 0: Linux 6.6. */
		if (syscall(452, AT_FDCWD, path, 04755, 0) == 0)
			return ok("fchmodat2", 0);
		return err();
	}
	if (!strcmp(op, "handle") && path) {
		struct {
			unsigned int bytes;
			int type;
			unsigned char f[128];
		} h = { .bytes = 128 };
		int mnt;
		if (syscall(SYS_name_to_handle_at, AT_FDCWD, path, &h, &mnt, 0) < 0)
			return err();
		/* Any descriptor on the file's mount: its folder. */
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		long mfd = syscall(SYS_openat, AT_FDCWD, slash ? dir : ".",
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if ((fd = syscall(SYS_open_by_handle_at, mfd, &h, O_RDONLY)) < 0)
			return err();
		return read_fd(fd);
	}
	if (!strcmp(op, "memfd") || !strcmp(op, "memfd-sealed")) {
		unsigned fl = MFD_CLOEXEC | (strcmp(op, "memfd") ? MFD_NOEXEC_SEAL : 0);
		fd = syscall(SYS_memfd_create, "x", fl);
		return fd < 0 ? err() : ok("memfd", fd);
	}
	if (!strcmp(op, "memfd-exec") && path) {
		/* The program at PATH copied into an executable memory file
		 * and run from there: no path names what runs. */
		long in = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
		if (in < 0)
			return err();
		if ((fd = syscall(SYS_memfd_create, "payload", 0)) < 0)
			return err();
		char buf[65536];
		long n;
		while ((n = syscall(SYS_read, in, buf, sizeof(buf))) > 0)
			if (syscall(SYS_write, fd, buf, n) != n)
				return err();
		char *args[] = { (char *)"payload", NULL };
		syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
		return err();
	}
	if ((!strcmp(op, "link") || !strcmp(op, "rename")) && path && argc > 3) {
		long r = !strcmp(op, "link")
				 ? syscall(SYS_linkat, AT_FDCWD, path, AT_FDCWD, argv[3], 0)
				 : syscall(SYS_renameat, AT_FDCWD, path, AT_FDCWD, argv[3]);
		return r < 0 ? err() : ok(op, 0);
	}
	if (!strcmp(op, "vm-write")) {
		static char target[16] = "in the child";
		char buf[16] = "overwritten";
		pid_t pid = sleeper();
		struct iovec l = { buf, sizeof(buf) }, rem = { target, sizeof(target) };
		long n = syscall(SYS_process_vm_writev, pid, &l, 1, &rem, 1, 0);
		int e = errno;
		reap(pid);
		errno = e;
		return n < 0 ? err() : ok("wrote", n);
	}
#ifdef __x86_64__
	if (!strcmp(op, "int80")) {
		/* getpid through the i386 entry point, from a 64-bit process. */
		long ret;
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
		return ret < 0 ? (errno = (int)-ret, err()) : ok("int80", ret);
	}
#endif
	if (!strcmp(op, "mount") && path)
		return syscall(SYS_mount, "none", path, "tmpfs", 0, NULL) < 0 ? err()
									      : ok("mounted", 0);
	fprintf(stderr, "fence-attack: unknown operation '%s'\n", op);
	return 2;
}
