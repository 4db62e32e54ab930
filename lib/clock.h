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
/* Accepts RFC 3339 with Z or a numeric offset, optional fraction.
 * Returns 0 on success, -1 on a malformed or impossible time. */
int clock_parse(const char *text, int64_t *ms);

#endif
