/* pepper.c - the API-key pepper file and the keyed hash made with it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "pepper.h"

#define MAC_BYTES 32

static unsigned char pepper[PEPPER_BYTES];
static char id[PEPPER_ID_SIZE];
static int loaded;

void
pepper_set(const unsigned char *bytes)
{
	unsigned char digest[8];

	sodium_memzero(pepper, sizeof(pepper));
	id[0] = '\0';
	loaded = 0;
	if (bytes == NULL)
		return;
	memcpy(pepper, bytes, sizeof(pepper));
	/* the id is a hash of the pepper under a fixed label: it tells
	 * peppers apart and says nothing about the bytes */
	crypto_generichash(digest, sizeof(digest), (const unsigned char *)"andon pepper id",
	    15, pepper, sizeof(pepper));
	sodium_bin2hex(id, sizeof(id), digest, sizeof(digest));
	loaded = 1;
}

int
pepper_create(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	unsigned char bytes[PEPPER_BYTES];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errlen, "cannot create the key pepper %s: %s", path,
		    strerror(errno));
		return -1;
	}
	randombytes_buf(bytes, sizeof(bytes));
	n = write(fd, bytes, sizeof(bytes));
	sodium_memzero(bytes, sizeof(bytes));
	if (n != (ssize_t)sizeof(bytes) || fchown(fd, uid, gid) != 0 ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write the key pepper %s: %s", path,
		    n < 0 || n == (ssize_t)sizeof(bytes) ? strerror(errno) : "short write");
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) != 0) {
		snprintf(err, errlen, "cannot write the key pepper %s: %s", path,
		    strerror(errno));
		unlink(path);
		return -1;
	}
	return 1;
}

int
pepper_load(const char *path, char *err, size_t errlen)
{
	unsigned char bytes[PEPPER_BYTES + 1];
	ssize_t n;
	int fd;

	pepper_set(NULL);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open the key pepper %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = read(fd, bytes, sizeof(bytes));
	close(fd);
	if (n != PEPPER_BYTES) {
		sodium_memzero(bytes, sizeof(bytes));
		snprintf(err, errlen, "the key pepper %s must hold exactly %d bytes",
		    path, PEPPER_BYTES);
		return -1;
	}
	pepper_set(bytes);
	sodium_memzero(bytes, sizeof(bytes));
	return 0;
}

const char *
pepper_id(void)
{
	return loaded ? id : NULL;
}

int
pepper_mac_hex(const char *msg, size_t len, char out[65])
{
	unsigned char mac[MAC_BYTES];

	if (!loaded)
		return -1;
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)msg, len,
	    pepper, sizeof(pepper));
	sodium_bin2hex(out, 65, mac, sizeof(mac));
	sodium_memzero(mac, sizeof(mac));
	return 0;
}

int
pepper_subkey(const char *label, unsigned char out[32])
{
	if (!loaded)
		return -1;
	crypto_generichash(out, 32, (const unsigned char *)label, strlen(label),
	    pepper, sizeof(pepper));
	return 0;
}
