/* envlock.c - the attach lock and the recovery marker of one data directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "envlock.h"

#define POLL_MS 100

static int lock_fd = -1;
static char marker[PATH_MAX];

int
envlock_open(const char *data_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/env.lock", data_dir) >= sizeof(path) ||
	    (size_t)snprintf(marker, sizeof(marker), "%s/recover-needed", data_dir) >=
	    sizeof(marker)) {
		snprintf(err, errlen, "data directory path is too long");
		return -1;
	}
	if (lock_fd >= 0)
		return 0;
	if ((lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
envlock_recovery_requested(void)
{
	return marker[0] != '\0' && access(marker, F_OK) == 0;
}

void
envlock_request_recovery(void)
{
	int fd;

	if (marker[0] != '\0' && (fd = open(marker, O_WRONLY | O_CREAT, 0660)) >= 0)
		close(fd);
}

void
envlock_recovery_done(void)
{
	if (marker[0] != '\0')
		unlink(marker);
}

int
envlock_exclusive(unsigned wait_ms)
{
	struct timespec pause = { 0, POLL_MS * 1000000L };

	for (unsigned waited = 0; lock_fd >= 0; waited += POLL_MS) {
		if (flock(lock_fd, LOCK_EX | LOCK_NB) == 0)
			return 1;
		if (waited >= wait_ms || !envlock_recovery_requested())
			return 0;
		nanosleep(&pause, NULL);
	}
	return 0;
}

int
envlock_share(void)
{
	int rc;

	if (lock_fd < 0)
		return -1;
	while ((rc = flock(lock_fd, LOCK_SH)) != 0 && errno == EINTR)
		;
	return rc;
}
