/* maxrss CMD [ARGS...]: run CMD and print its peak resident set size in KiB
 * ("maxrss_kb=N") on standard error, then exit with its status.
 *
 * The kernel keeps a process's peak RSS across fork and exec, so a command
 * started from Python inherits Python's peak. Started from this small,
 * statically linked launcher, the floor is this launcher's few hundred KiB
 * and the figure is the command's own. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: maxrss CMD [ARGS...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("maxrss: fork");
		return 126;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror("maxrss: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("maxrss: wait4");
		return 126;
	}
	fprintf(stderr, "maxrss_kb=%ld\n", ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
