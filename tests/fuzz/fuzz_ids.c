/*
 * fuzz_ids.c - the public ids an outsider sends: transparency receipt ids
 * (rcpt_ + 16 hex digits), Idempotency-Key values, and the text checks
 * every id and name goes through (printable, UTF-8 length).
 *
 * fuzz_ids.c also takes X-Request-Id, echoed on every answer.
 *
 * Properties: a receipt id that parses is exactly the one its index
 * formats to (no second spelling of one receipt); an accepted
 * Idempotency-Key is 1 to 255 ASCII characters from space to tilde; the
 * request id is the header itself when that is 1 to 79 characters of
 * [A-Za-z0-9._:-], else a new "req_" id: never anything a header line
 * could carry further (no CR, LF, space or control character).
 */
#include <string.h>

#include "fuzz.h"
#include "idempotency.h"
#include "ids.h"
#include "tlog.h"
#include "validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512], id[TLOG_LEAF_ID_SIZE];
	uint64_t index;

	FUZZ_CANARY(data, size);
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (tlog_parse_leaf_id(text, &index) == 0) {
		tlog_leaf_id(index, id);
		FUZZ_ASSERT(strcmp(id, text) == 0);
	}
	if (idem_key_valid(text)) {
		size_t n = strlen(text);

		FUZZ_ASSERT(n >= 1 && n <= 255);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT((unsigned char)text[i] >= 0x20 &&
			    (unsigned char)text[i] <= 0x7e);
	}
	{
		char rid[ID_REQUEST_SIZE];
		size_t n;

		id_request(text, rid);
		n = strlen(rid);
		FUZZ_ASSERT(n >= 1 && n < ID_REQUEST_SIZE);
		FUZZ_ASSERT(strspn(rid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._:-") == n);
		FUZZ_ASSERT(strcmp(rid, text) == 0 || strncmp(rid, "req_", 4) == 0);
	}
	if (strlen(text) == size && text_printable(text))
		for (size_t i = 0; i < size; i++)
			FUZZ_ASSERT((unsigned char)text[i] >= 0x20 && text[i] != 0x7f);
	return 0;
}
