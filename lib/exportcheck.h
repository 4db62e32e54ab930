/*
 * exportcheck.h - the offline check of an audit export (the NDJSON that
 * GET /v1/audit/events streams): every line an audit event whose hash
 * matches its content, in seq order, each one that follows its
 * predecessor chaining to it (prev_hash), the first event of all chaining
 * to zeros.  An export may start later (a tenant's, or a resumed one) and,
 * unless contiguous is asked for, have gaps (another tenant's events);
 * gaps are counted.  Used by andonctl verify-export and the fuzzer.
 */
#ifndef ANDON_EXPORTCHECK_H
#define ANDON_EXPORTCHECK_H

#include <stddef.h>
#include <stdint.h>

struct export_check {
	int contiguous;              /* a gap is an error */
	uint64_t events, links, gaps;
	uint64_t last_seq;
	char last_hash[65];
	char why[256];               /* "" while valid */
};

void export_check_init(struct export_check *x, int contiguous);

/* Checks one line (len bytes, without its newline; an empty line is
 * skipped): 0 while the export is valid, -1 once it is not (why says
 * where and why; later lines are not read). */
int export_check_line(struct export_check *x, const char *line, size_t len);

#endif
