/* validate.c - check JSON bodies against their field tables. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

size_t
utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int
text_printable(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int
text_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

static const char *
type_name(enum field_type t)
{
	switch (t) {
	case FIELD_STRING: return "a string";
	case FIELD_INTEGER: return "an integer";
	case FIELD_NUMBER: return "a number";
	case FIELD_BOOLEAN: return "a boolean";
	case FIELD_OBJECT: return "an object";
	case FIELD_STRING_ARRAY: return "an array of strings";
	case FIELD_ANY_ARRAY: return "an array";
	}
	return "a value";
}

static int
allowed(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static int
fail(struct problem *p, const struct field_spec *f, const char *code,
     const char *why)
{
	problem_set(p, 400, code, "field %s %s", f->name, why);
	problem_field(p, f->name);
	return -1;
}

static int
check_string(const struct field_spec *f, const char *s, struct problem *p)
{
	char why[128];

	if ((f->flags & FIELD_NONEMPTY) && text_blank(s))
		return fail(p, f, "empty_field", "must not be empty");
	if (f->max_len && utf8_length(s) > f->max_len) {
		snprintf(why, sizeof(why), "is longer than %zu characters", f->max_len);
		return fail(p, f, "field_too_long", why);
	}
	if ((f->flags & FIELD_PRINTABLE) && !text_printable(s))
		return fail(p, f, "invalid_field", "must not contain control characters");
	if (f->allowed && !allowed(f->allowed, s))
		return fail(p, f, "invalid_field", "is not one of the allowed values");
	return 0;
}

static int
check_number(const struct field_spec *f, double v, struct problem *p)
{
	char why[128];

	if (f->min < f->max && (v < f->min || v > f->max || isnan(v))) {
		snprintf(why, sizeof(why), "must be from %g to %g", f->min, f->max);
		return fail(p, f, "invalid_field", why);
	}
	return 0;
}

static int
check_field(const struct field_spec *f, const json_t *v, struct problem *p)
{
	char why[128];
	size_t i;
	json_t *item;

	switch (f->type) {
	case FIELD_STRING:
		if (!json_is_string(v))
			break;
		return check_string(f, json_string_value(v), p);
	case FIELD_INTEGER:
		if (!json_is_integer(v))
			break;
		return check_number(f, (double)json_integer_value(v), p);
	case FIELD_NUMBER:
		if (!json_is_number(v))
			break;
		return check_number(f, json_number_value(v), p);
	case FIELD_BOOLEAN:
		if (!json_is_boolean(v))
			break;
		return 0;
	case FIELD_OBJECT:
		if (!json_is_object(v))
			break;
		if (f->max_len) {
			char *text = json_dumps(v, JSON_COMPACT);
			size_t n = text ? strlen(text) : 0;

			free(text);
			if (n > f->max_len) {
				snprintf(why, sizeof(why),
				    "is larger than %zu bytes serialised", f->max_len);
				return fail(p, f, "field_too_long", why);
			}
		}
		return 0;
	case FIELD_STRING_ARRAY:
		if (!json_is_array(v))
			break;
		if (f->max_len && json_array_size(v) > f->max_len) {
			snprintf(why, sizeof(why), "has more than %zu items", f->max_len);
			return fail(p, f, "field_too_long", why);
		}
		json_array_foreach(v, i, item) {
			if (!json_is_string(item))
				return fail(p, f, "invalid_type", "must be an array of strings");
			if (f->allowed && !allowed(f->allowed, json_string_value(item))) {
				snprintf(why, sizeof(why), "has an unknown value \"%.64s\"",
				    json_string_value(item));
				return fail(p, f, "invalid_field", why);
			}
			if (json_string_length(item) == 0 ||
			    json_string_length(item) > 256 ||
			    !text_printable(json_string_value(item)))
				return fail(p, f, "invalid_field",
				    "items must be 1 to 256 printable characters");
		}
		return 0;
	case FIELD_ANY_ARRAY:
		if (!json_is_array(v))
			break;
		if (f->max_len && json_array_size(v) > f->max_len) {
			snprintf(why, sizeof(why), "has more than %zu items", f->max_len);
			return fail(p, f, "field_too_long", why);
		}
		return 0;
	}
	snprintf(why, sizeof(why), "must be %s", type_name(f->type));
	return fail(p, f, "invalid_type", why);
}

int
validate_body(const json_t *body, const struct body_spec *spec,
              struct problem *p)
{
	const char *name;
	json_t *value;

	json_object_foreach((json_t *)body, name, value) {
		size_t i;

		for (i = 0; i < spec->count; i++)
			if (!strcmp(spec->fields[i].name, name))
				break;
		if (i == spec->count) {
			problem_set(p, 400, "unknown_field",
			    "unknown field %.64s", name);
			problem_field(p, name);
			return -1;
		}
	}
	for (size_t i = 0; i < spec->count; i++) {
		const struct field_spec *f = &spec->fields[i];

		value = json_object_get(body, f->name);
		if (value == NULL || (json_is_null(value) && (f->flags & FIELD_NULLABLE))) {
			if (f->flags & FIELD_REQUIRED) {
				problem_set(p, 400, "missing_field",
				    "field %s is required", f->name);
				problem_field(p, f->name);
				return -1;
			}
			continue;
		}
		if (check_field(f, value, p) != 0)
			return -1;
	}
	if (spec->at_least_one && json_object_size(body) == 0) {
		problem_set(p, 400, "empty_body",
		    "the request body must name at least one field");
		return -1;
	}
	return 0;
}

int
body_names_flagged(const json_t *body, const struct body_spec *spec,
                   unsigned flag)
{
	for (size_t i = 0; i < spec->count; i++) {
		const json_t *v = json_object_get(body, spec->fields[i].name);

		if ((spec->fields[i].flags & flag) && v != NULL && !json_is_null(v))
			return 1;
	}
	return 0;
}

json_t *
parse_json_body(const char *body, size_t len, struct problem *p)
{
	json_error_t err;
	json_t *v;

	if (body == NULL || len == 0)
		return json_object();
	v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (v == NULL) {
		if (json_error_code(&err) == json_error_invalid_utf8)
			problem_set(p, 400, "invalid_utf8",
			    "the request body is not valid UTF-8");
		else if (json_error_code(&err) == json_error_duplicate_key)
			problem_set(p, 400, "invalid_json",
			    "the request body repeats a field");
		else
			problem_set(p, 400, "invalid_json",
			    "the request body is not valid JSON (line %d, column %d)",
			    err.line, err.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		problem_set(p, 400, "invalid_json",
		    "the request body must be a JSON object");
		return NULL;
	}
	return v;
}
