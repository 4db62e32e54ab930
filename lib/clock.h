/* clock.h - wall-clock time in milliseconds and RFC 3339 UTC timestamps. */
#ifndef ANDON_CLOCK_H
#define ANDON_CLOCK_H

#include <stdint.h>

#define CLOCK_TEXT_SIZE 32

int64_t clock_now_ms(void);
/* Milliseconds from an arbitrary start that never steps (deadlines). */
int64_t clock_monotonic_ms(void);
/* "2026-04-18T17:00:00.123Z" */
void clock_format(int64_t ms, char out[CLOCK_TEXT_SIZE]);
/* The last instant read and written: 9999-12-31T23:59:59.999Z. */
#define CLOCK_MAX_MS INT64_C(253402300799999)
/* Accepts RFC 3339 with Z or a numeric offset, optional fraction, from
 * 1970-01-01T00:00:00Z to CLOCK_MAX_MS.  Returns 0 on success, -1 on a
 * malformed or impossible time or one outside that range. */
int clock_parse(const char *text, int64_t *ms);

#endif
