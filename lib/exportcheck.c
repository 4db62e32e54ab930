/* exportcheck.c - the offline check of an audit export (exportcheck.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "event.h"
#include "exportcheck.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

void
export_check_init(struct export_check *x, int contiguous)
{
	memset(x, 0, sizeof(*x));
	x->contiguous = contiguous;
}

/* The event's place after the last one: "" when it fits, else why. */
static void
check_place(struct export_check *x, uint64_t seq, const char *prev)
{
	if (seq <= x->last_seq)
		snprintf(x->why, sizeof(x->why), "event %" PRIu64 " is out of order "
		    "or repeated", seq);
	else if (seq == x->last_seq + 1) {
		/* the first event of all chains to zeros */
		if (strcmp(prev, x->last_seq > 0 ? x->last_hash : ZERO_HASH) != 0)
			snprintf(x->why, sizeof(x->why), "event %" PRIu64 " does not "
			    "chain to event %" PRIu64, seq, x->last_seq);
		else
			x->links++;
	} else if (x->last_seq == 0) {
		/* an export that starts later (a tenant's, or resumed) */
	} else if (x->contiguous)
		snprintf(x->why, sizeof(x->why), "events %" PRIu64 " to %" PRIu64
		    " are missing", x->last_seq + 1, seq - 1);
	else
		x->gaps++;
}

int
export_check_line(struct export_check *x, const char *line, size_t len)
{
	const char *prev, *hash;
	json_error_t err;
	json_int_t seq;
	json_t *event;

	if (x->why[0] != '\0')
		return -1;
	if (len == 0)
		return 0;
	x->events++;
	if ((event = json_loadb(line, len, 0, &err)) == NULL) {
		snprintf(x->why, sizeof(x->why), "line %" PRIu64 " is not JSON: %s",
		    x->events, err.text);
		return -1;
	}
	seq = json_integer_value(json_object_get(event, "seq"));
	prev = json_string_value(json_object_get(event, "prev_hash"));
	hash = json_string_value(json_object_get(event, "hash"));
	if (seq < 1 || prev == NULL || hash == NULL || strlen(hash) != 64)
		snprintf(x->why, sizeof(x->why), "line %" PRIu64 " is not an audit "
		    "event", x->events);
	else if (!event_hash_ok(event))
		snprintf(x->why, sizeof(x->why), "event %" JSON_INTEGER_FORMAT
		    " has been altered", seq);
	else
		check_place(x, (uint64_t)seq, prev);
	if (x->why[0] == '\0') {
		x->last_seq = (uint64_t)seq;
		memcpy(x->last_hash, hash, 65);
	}
	json_decref(event);
	return x->why[0] == '\0' ? 0 : -1;
}
