/*
 * fuzz_clock.c - RFC 3339 timestamps (clock_parse), as every since=,
 * until=, start_date=, expires_at and first_seen is read.
 *
 * Properties: a text that parses formats to a text that parses to the
 * same instant, and that text is the canonical form (it formats to
 * itself).
 */
#include <string.h>

#include "clock.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], once[CLOCK_TEXT_SIZE], twice[CLOCK_TEXT_SIZE];
	int64_t ms, again;

	FUZZ_CANARY(data, size);
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (clock_parse(text, &ms) != 0)
		return 0;
	clock_format(ms, once);
	FUZZ_ASSERT(clock_parse(once, &again) == 0);
	FUZZ_ASSERT(again == ms);
	clock_format(again, twice);
	FUZZ_ASSERT(strcmp(once, twice) == 0);
	return 0;
}
