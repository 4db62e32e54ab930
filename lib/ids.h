/* ids.h - identifiers made from libsodium's random bytes. */
#ifndef ANDON_IDS_H
#define ANDON_IDS_H

#include <stddef.h>

#define ID_SIZE 48

/* prefix followed by 2*nbytes lower-case hex digits: "ks_9f3c0a..." */
void id_random_hex(char *out, size_t outlen, const char *prefix, size_t nbytes);
/* RFC 9562 version 4 UUID, 36 characters */
#define ID_UUID_LEN 36
void id_uuid4(char out[37]);
/* 26-character Crockford base32 ULID: 48-bit ms time, 80 random bits */
void id_ulid(char out[27]);

/* A request's id (X-Request-Id on every answer): the client's X-Request-Id
 * when it is 1 to 79 characters of [A-Za-z0-9._:-] (header may be NULL),
 * else a new one, "req_" and hex digits, unique within the process. */
#define ID_REQUEST_SIZE 80
void id_request(const char *header, char out[ID_REQUEST_SIZE]);

#endif
