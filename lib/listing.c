/* listing.c - sort and page a list of records. */
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "request.h"

int
listing_params(const char *query, long def, long *skip, long *limit,
               struct problem *p)
{
	if (query_long(query, "skip", 0, 0, 1000000000L, skip, p) != 0 ||
	    query_long(query, "limit", def, 1, 1000, limit, p) != 0)
		return -1;
	return 0;
}

static const char *sort_key;
static int sort_desc;

static int
compare(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *xs = json_string_value(json_object_get(x, sort_key));
	const char *ys = json_string_value(json_object_get(y, sort_key));
	int c = strcmp(xs ? xs : "", ys ? ys : "");

	if (c == 0) {
		xs = json_string_value(json_object_get(x, "id"));
		ys = json_string_value(json_object_get(y, "id"));
		c = strcmp(xs ? xs : "", ys ? ys : "");
	}
	return sort_desc ? -c : c;
}

json_t *
listing_page(json_t *items, const char *key, int desc, long skip, long limit,
             const char *name)
{
	size_t n = json_array_size(items), i;
	json_t **v = calloc(n ? n : 1, sizeof(*v)), *page = json_array();

	for (i = 0; i < n; i++)
		v[i] = json_array_get(items, i);
	sort_key = key;
	sort_desc = desc;
	qsort(v, n, sizeof(*v), compare);
	for (i = (size_t)skip; i < n && i < (size_t)skip + (size_t)limit; i++)
		json_array_append(page, v[i]);
	free(v);
	json_decref(items);
	return json_pack("{s:o, s:I}", name, page, "count", (json_int_t)n);
}
