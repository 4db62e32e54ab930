/*
 * problem.h - the one error type of the library (RFC 9457 problem details).
 *
 * Library functions never print an error: they fill a struct problem with
 * the HTTP status, a stable machine word (code) and a human detail, and the
 * caller turns it into an application/problem+json response.
 */
#ifndef ANDON_PROBLEM_H
#define ANDON_PROBLEM_H

struct problem {
	int status;          /* HTTP status, 0 when no problem was set */
	const char *code;    /* stable machine word, e.g. "already_killed" */
	char detail[512];    /* human sentence, never a path or a DB message */
	char field[64];      /* the request field at fault, "" when none */
};

void problem_set(struct problem *p, int status, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void problem_field(struct problem *p, const char *field);
const char *http_reason(int status);

#endif
