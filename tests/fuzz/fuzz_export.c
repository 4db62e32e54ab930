/*
 * fuzz_export.c - the offline audit-export verifier (exportcheck.h, run by
 * andonctl verify-export on a file a user downloaded: anyone may have
 * written it).
 *
 * Properties: an accepted line is an event whose hash matches its content
 * and which comes after the one before it; once refused, the export stays
 * refused with a reason; the counts never exceed the lines read.
 */
#include <string.h>

#include <jansson.h>

#include "event.h"
#include "exportcheck.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	struct export_check x;
	uint64_t lines = 0, before;

	FUZZ_CANARY(data, size);
	export_check_init(&x, size > 0 && data[0] & 1);
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t len = nl ? (size_t)(nl - text) : (size_t)(end - text);

		lines++;
		before = x.last_seq;
		if (export_check_line(&x, text, len) == 0 && len > 0) {
			json_error_t err;
			json_t *event = json_loadb(text, len, 0, &err);

			FUZZ_ASSERT(event != NULL && event_hash_ok(event));
			FUZZ_ASSERT(x.last_seq > before);
			json_decref(event);
		} else if (len > 0) {
			FUZZ_ASSERT(x.why[0] != '\0');
			FUZZ_ASSERT(export_check_line(&x, "{}", 2) == -1);
			break;
		}
		text += len + (nl != NULL);
	}
	FUZZ_ASSERT(x.events <= lines && x.links <= x.events && x.gaps <= x.events);
	return 0;
}
