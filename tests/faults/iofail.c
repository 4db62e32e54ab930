/*
 * iofail.c - an LD_PRELOAD shim that makes the disk fail, for
 * tests/t0985-io-errors.sh.
 *
 * While the file $ANDON_DATA/iofail.on exists, write, pwrite, writev,
 * pwritev, fsync and fdatasync of a file under $ANDON_DATA/db/ (the
 * Berkeley DB environment: log, databases) fail with EIO and write
 * nothing; every other descriptor, and every call while the file is
 * absent, goes to the C library unchanged.  Each failure is counted in
 * $ANDON_DATA/iofail.count (one byte appended per failed call), so the
 * test knows the fault was met.  Built by the test:
 *   cc -shared -fPIC -o iofail.so tests/faults/iofail.c -ldl
 * Loaded into the FastCGI executables through the web server's
 * environment (tests/setup.sh: ANDON_TEST_PRELOAD).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void *
next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL)
		abort();
	return f;
}

/* 1 when fd is a file under $ANDON_DATA/db/ and $ANDON_DATA/iofail.on
 * exists: the call is to fail. */
static int
failing(int fd)
{
	const char *data = getenv("ANDON_DATA");
	char link[64], path[PATH_MAX], dir[PATH_MAX], trigger[PATH_MAX];
	struct stat st;
	ssize_t n;
	int cfd;

	if (data == NULL || *data == '\0' || fd < 0)
		return 0;
	if ((size_t)snprintf(trigger, sizeof(trigger), "%s/iofail.on", data) >=
	    sizeof(trigger) || stat(trigger, &st) != 0)
		return 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/db/", data) >= sizeof(dir))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	if (strncmp(path, dir, strlen(dir)) != 0)
		return 0;
	snprintf(trigger, sizeof(trigger), "%s/iofail.count", data);
	if ((cfd = open(trigger, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) >= 0) {
		if (real_write == NULL)
			real_write = next("write");
		(void)real_write(cfd, "x", 1);
		close(cfd);
	}
	errno = EIO;
	return 1;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	if (real_write == NULL)
		real_write = next("write");
	return failing(fd) ? -1 : real_write(fd, buf, len);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	if (real_pwrite == NULL)
		real_pwrite = next("pwrite");
	return failing(fd) ? -1 : real_pwrite(fd, buf, len, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	if (real_pwrite64 == NULL)
		real_pwrite64 = next("pwrite64");
	return failing(fd) ? -1 : real_pwrite64(fd, buf, len, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	if (real_writev == NULL)
		real_writev = next("writev");
	return failing(fd) ? -1 : real_writev(fd, iov, n);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	if (real_pwritev == NULL)
		real_pwritev = next("pwritev");
	return failing(fd) ? -1 : real_pwritev(fd, iov, n, off);
}

int
fsync(int fd)
{
	if (real_fsync == NULL)
		real_fsync = next("fsync");
	return failing(fd) ? -1 : real_fsync(fd);
}

int
fdatasync(int fd)
{
	if (real_fdatasync == NULL)
		real_fdatasync = next("fdatasync");
	return failing(fd) ? -1 : real_fdatasync(fd);
}
