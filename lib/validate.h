/*
 * validate.h - request bodies described as data.
 *
 * Each body is one table of fields (name, JSON type, required, limits,
 * allowed values), in the manner of kcgi's struct kvalid.  validate_body()
 * checks a parsed body against its table and answers the 400 that names
 * the field: unknown field, wrong type, missing, too long, empty, not one
 * of the allowed values.
 */
#ifndef ANDON_VALIDATE_H
#define ANDON_VALIDATE_H

#include <stddef.h>
#include <jansson.h>
#include "problem.h"

enum field_type {
	FIELD_STRING,
	FIELD_INTEGER,
	FIELD_NUMBER,
	FIELD_BOOLEAN,
	FIELD_OBJECT,
	FIELD_STRING_ARRAY,
	FIELD_ANY_ARRAY
};

enum field_flags {
	FIELD_REQUIRED = 1 << 0,
	FIELD_NONEMPTY = 1 << 1,   /* strings: not empty nor only white space */
	FIELD_NULLABLE = 1 << 2,   /* null is accepted and means "absent" */
	FIELD_PRINTABLE = 1 << 3,  /* strings: no control characters */
	FIELD_RATE_LIMITED = 1 << 4, /* naming it makes the call a state-changing
	                                administrative one (router.h's
	                                ROUTE_RATE_LIMITED), e.g. an agent's
	                                status in a PATCH */
};

struct field_spec {
	const char *name;
	enum field_type type;
	unsigned flags;
	size_t max_len;             /* characters for strings, items for
	                               arrays, serialised bytes for objects;
	                               0 = no limit */
	const char *const *allowed; /* NULL-terminated; strings and array items */
	double min, max;            /* numbers and integers when min < max */
};

struct body_spec {
	const struct field_spec *fields;
	size_t count;
	int at_least_one;           /* an empty object is refused */
};

#define BODY_SPEC(arr) { (arr), sizeof(arr) / sizeof((arr)[0]), 0 }

/* 0 when body conforms; -1 with a 400 problem naming the field. */
int validate_body(const json_t *body, const struct body_spec *spec,
                  struct problem *p);
/* 1 when body names (not as null) a field of spec that has flag. */
int body_names_flagged(const json_t *body, const struct body_spec *spec,
                       unsigned flag);
/* Number of UTF-8 code points in a valid UTF-8 string. */
size_t utf8_length(const char *s);
/* 1 when s is printable: no C0 controls nor DEL. */
int text_printable(const char *s);
/* 1 when s is only white space (or empty). */
int text_blank(const char *s);
/* Parses a JSON request body: 400 for invalid JSON, invalid UTF-8 or a
 * value that is not an object; an empty body is an empty object. */
json_t *parse_json_body(const char *body, size_t len, struct problem *p);

#endif
