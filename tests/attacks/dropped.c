/* A library an attacker drops in a writable folder and maps with dlopen
 * (ctypes.CDLL): its constructor runs at once. Here it only leaves the
 * marker file named by TG_DROPPED_MARKER, the proof that it ran. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void dropped(void)
{
	const char *marker = getenv("TG_DROPPED_MARKER");

	if (marker) {
		int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
}
