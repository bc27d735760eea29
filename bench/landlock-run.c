/* landlock-run: the Landlock-only peer of the benchmark.
 *
 * Usage: landlock-run RW_DIR... -- CMD [ARGS...]
 *
 * Restricts itself with Landlock, the kernel's own file-access check, then
 * executes CMD: the whole tree stays readable and executable, and only the
 * folders named before "--" are writable. This is what a Landlock-only
 * launcher costs a program, measured beside trainguard on the same run. It
 * follows the shape of the kernel's samples/landlock/sandboxer.c, written
 * from the documented API (landlock(7)): probe the ABI, handle every
 * access right that ABI knows, grant them beneath the named folders, and
 * degrade with a one-line hint where the kernel lacks a feature. glibc 2.36
 * has no wrappers, so the three system calls go through syscall(). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule       445
#define __NR_landlock_restrict_self  446
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
/* Rights newer than the headers of Debian 12 (Linux 6.1). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

#define ACCESS_READ \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/* Every file right of ABI 1; later ABIs add their own below. */
#define ACCESS_ABI1 \
	(ACCESS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | \
	 LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)

/* Rights that only make sense on directories. */
#define ACCESS_DIR_ONLY \
	(LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | \
	 LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER)

static int create_ruleset(const struct landlock_ruleset_attr *attr, size_t size, uint32_t flags)
{
	return (int)syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

static int add_rule(int ruleset, const void *attr)
{
	return (int)syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, attr, 0);
}

static int restrict_self(int ruleset)
{
	return (int)syscall(__NR_landlock_restrict_self, ruleset, 0);
}

/* Grants ALLOWED (narrowed to what the object can hold) beneath PATH. */
static int grant(int ruleset, const char *path, uint64_t allowed)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = allowed };
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "landlock-run: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	pb.parent_fd = fd;
	if (add_rule(ruleset, &pb) != 0) {
		fprintf(stderr, "landlock-run: cannot add a rule for '%s': %s\n", path,
			strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct landlock_ruleset_attr attr = { 0 };
	uint64_t handled = ACCESS_ABI1;
	int abi, sep = -1, ruleset;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	}
	if (sep < 0 || sep + 1 >= argc) {
		fprintf(stderr, "usage: landlock-run RW_DIR... -- CMD [ARGS...]\n");
		return 2;
	}

	abi = create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		fprintf(stderr,
			"landlock-run: Landlock is not available (%s).\n"
			"Hint: it needs Linux 5.13 or later with 'landlock' in the lsm= boot "
			"list.\n",
			strerror(errno));
		return 126;
	}
	if (abi >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		handled |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi < 3)
		fprintf(stderr,
			"landlock-run: Hint: Landlock ABI %d: truncation is not "
			"restricted (ABI 3, Linux 6.2).\n",
			abi);
	attr.handled_access_fs = handled;

	ruleset = create_ruleset(&attr, sizeof(attr), 0);
	if (ruleset < 0) {
		fprintf(stderr, "landlock-run: cannot create a ruleset: %s\n", strerror(errno));
		return 126;
	}
	/* The whole tree readable and executable; /dev writable as well, so
	 * the standard streams and /dev/null keep working. */
	if (grant(ruleset, "/", ACCESS_READ) != 0)
		return 126;
	if (grant(ruleset, "/dev", handled & ~ACCESS_DIR_ONLY) != 0)
		return 126;
	for (int i = 1; i < sep; i++) {
		if (grant(ruleset, argv[i], handled) != 0)
			return 126;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "landlock-run: cannot set no_new_privs: %s\n", strerror(errno));
		return 126;
	}
	if (restrict_self(ruleset) != 0) {
		fprintf(stderr, "landlock-run: cannot enforce the ruleset: %s\n", strerror(errno));
		return 126;
	}
	close(ruleset);
	execvp(argv[sep + 1], argv + sep + 1);
	fprintf(stderr, "landlock-run: cannot execute '%s': %s\n", argv[sep + 1], strerror(errno));
	return 127;
}
