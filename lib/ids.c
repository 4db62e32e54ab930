/* ids.c - random identifiers: hex ids with a type prefix, UUIDv4, ULID. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "ids.h"

void
id_random_hex(char *out, size_t outlen, const char *prefix, size_t nbytes)
{
	unsigned char bytes[32];
	size_t plen = strlen(prefix);

	if (nbytes > sizeof(bytes))
		nbytes = sizeof(bytes);
	if (outlen < plen + 2 * nbytes + 1) {
		out[0] = '\0';
		return;
	}
	randombytes_buf(bytes, nbytes);
	memcpy(out, prefix, plen);
	sodium_bin2hex(out + plen, outlen - plen, bytes, nbytes);
}

void
id_uuid4(char out[37])
{
	unsigned char b[16];
	char hex[33];

	randombytes_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
	    hex + 16, hex + 20);
}

void
id_ulid(char out[27])
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char b[16];
	uint64_t ms = (uint64_t)clock_now_ms();

	for (int i = 5; i >= 0; i--) {
		b[i] = ms & 0xff;
		ms >>= 8;
	}
	randombytes_buf(b + 6, 10);
	/* 128 bits as 26 base32 digits, most significant first (2 spare bits) */
	for (int i = 0; i < 26; i++) {
		int bit = i * 5 - 2, v = 0;

		for (int j = 0; j < 5; j++, bit++) {
			v <<= 1;
			if (bit >= 0)
				v |= (b[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = alphabet[v];
	}
	out[26] = '\0';
}

void
id_request(const char *header, char out[ID_REQUEST_SIZE])
{
	/* "req_" + 64 random bits drawn once per process + a 32-bit counter
	 * in hex: unique without a getrandom() system call on every request */
	static char process_part[ID_SIZE];
	static size_t process_len;
	static uint32_t counter;
	size_t len = header ? strlen(header) : 0;
	int sane = len > 0 && len < ID_REQUEST_SIZE;
	unsigned char be[4];

	for (size_t i = 0; sane && i < len; i++) {
		char ch = header[i];

		sane = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == ':';
	}
	if (sane) {
		memcpy(out, header, len + 1);
		return;
	}
	if (process_part[0] == '\0') {
		id_random_hex(process_part, sizeof(process_part), "req_", 8);
		process_len = strlen(process_part);
	}
	counter++;
	be[0] = (unsigned char)(counter >> 24);
	be[1] = (unsigned char)(counter >> 16);
	be[2] = (unsigned char)(counter >> 8);
	be[3] = (unsigned char)counter;
	memcpy(out, process_part, process_len);
	sodium_bin2hex(out + process_len, ID_REQUEST_SIZE - process_len, be, sizeof(be));
}
