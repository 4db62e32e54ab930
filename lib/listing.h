/* listing.h - ?skip=&limit= pagination over records sorted by a field. */
#ifndef ANDON_LISTING_H
#define ANDON_LISTING_H

#include <jansson.h>
#include "problem.h"

/* Reads skip (>= 0) and limit (1..1000, default def); 400 otherwise. */
int listing_params(const char *query, long def, long *skip, long *limit,
                   struct problem *p);
/* Sorts items (an array of objects, stolen) by the string field key,
 * newest first when desc, ties by "id"; returns {name: page, "count": total}. */
json_t *listing_page(json_t *items, const char *key, int desc, long skip,
                     long limit, const char *name);

#endif
