/* encode.c - shared small encodings (encode.h). */
#include <string.h>

#include <sodium.h>

#include "encode.h"

#define BASE64_MAX_BYTES 128

void
encode_sha256_hex(const char *text, char out[ENCODE_SHA256_HEX_SIZE])
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)text, strlen(text));
	sodium_bin2hex(out, ENCODE_SHA256_HEX_SIZE, digest, sizeof(digest));
}

json_t *
encode_base64_json(const unsigned char *bin, size_t len)
{
	char text[sodium_base64_ENCODED_LEN(BASE64_MAX_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];

	if (len > BASE64_MAX_BYTES)
		return NULL;
	sodium_bin2base64(text, sizeof(text), bin, len,
	    sodium_base64_VARIANT_ORIGINAL);
	return json_string(text);
}

json_t *
json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}
