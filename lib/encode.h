/*
 * encode.h - the small encodings every noun shares, written once: the hex
 * SHA-256 of a text (audit hashes, session token hashes), base64 of bytes
 * as a JSON string (transparency log), a JSON string or null.
 */
#ifndef ANDON_ENCODE_H
#define ANDON_ENCODE_H

#include <stddef.h>
#include <jansson.h>

#define ENCODE_SHA256_HEX_SIZE 65

/* The lower-case hex SHA-256 of text (its strlen bytes), NUL-terminated. */
void encode_sha256_hex(const char *text, char out[ENCODE_SHA256_HEX_SIZE]);

/* Standard base64 (padded) of len bytes (at most 128) as a JSON string;
 * NULL when too long or out of memory. */
json_t *encode_base64_json(const unsigned char *bin, size_t len);

/* A JSON string, or null for NULL. */
json_t *json_str_or_null(const char *s);

#endif
