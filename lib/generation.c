/* generation.c - change counters shared through one mapped file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "generation.h"

/* One page: room for many more counters than GEN_COUNT. */
#define GENERATION_FILE_SIZE 4096

/* A counter with this bit set reads as unknown (generation_set_replica()):
 * counters start below 2^62 and never reach it by bumps. */
#define REPLICA_BIT ((uint64_t)1 << 62)

static uint64_t *counters;

/*
 * Creates the file with every counter at a random value, so two data
 * directories never share a value a process could have cached from the
 * other (a test suite opens many in one process).  It is written under a
 * temporary name and linked into place: link() refuses when another process
 * won the race, and the winner's file is the one everybody maps.
 */
static int
create_file(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	uint64_t initial[GENERATION_FILE_SIZE / sizeof(uint64_t)];
	int fd, rc = 0;

	memset(initial, 0, sizeof(initial));
	for (int i = 0; i < GEN_COUNT; i++)
		initial[i] = randombytes_random() | (uint64_t)randombytes_random() << 30;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp) ||
	    (fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0660) != 0 ||
	    write(fd, initial, sizeof(initial)) != (ssize_t)sizeof(initial) ||
	    (link(tmp, path) != 0 && errno != EEXIST)) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		rc = -1;
	}
	close(fd);
	unlink(tmp);
	return rc;
}

int
generation_open(const char *data_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	void *map;
	int fd;

	generation_close();
	if ((size_t)snprintf(path, sizeof(path), "%s/generation", data_dir) >=
	    sizeof(path)) {
		snprintf(err, errlen, "data directory path is too long");
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0 && errno == ENOENT) {
		if (create_file(path, err, errlen) != 0)
			return -1;
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_size < GENERATION_FILE_SIZE) {
		snprintf(err, errlen, "%s is not a generation file", path);
		close(fd);
		return -1;
	}
	map = mmap(NULL, GENERATION_FILE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
		return -1;
	}
	counters = map;
	return 0;
}

void
generation_close(void)
{
	if (counters != NULL)
		munmap(counters, GENERATION_FILE_SIZE);
	counters = NULL;
}

uint64_t
generation_read(enum generation g)
{
	uint64_t v;

	if (counters == NULL || (unsigned)g >= GEN_COUNT)
		return GENERATION_UNKNOWN;
	v = __atomic_load_n(&counters[g], __ATOMIC_ACQUIRE);
	/* started below 2^62: never wraps to GENERATION_UNKNOWN */
	return v & REPLICA_BIT ? GENERATION_UNKNOWN : v | (uint64_t)1 << 63;
}

void
generation_bump(enum generation g)
{
	if (counters != NULL && (unsigned)g < GEN_COUNT)
		__atomic_add_fetch(&counters[g], 1, __ATOMIC_SEQ_CST);
}

void
generation_set_replica(int replica)
{
	for (int g = 0; counters != NULL && g < GEN_COUNT; g++) {
		if (replica) {
			__atomic_or_fetch(&counters[g], REPLICA_BIT, __ATOMIC_SEQ_CST);
		} else {
			__atomic_add_fetch(&counters[g], 1, __ATOMIC_SEQ_CST);
			__atomic_and_fetch(&counters[g], ~REPLICA_BIT, __ATOMIC_SEQ_CST);
		}
	}
}
