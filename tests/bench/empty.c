/*
 * empty.c - the benchmark baseline: the cheapest possible FastCGI responder.
 *
 * Every request gets "200 OK" with the JSON body {"ok":true}.  The body of
 * the request, if any, is not read: the FastCGI library discards what is left
 * of stdin when the request ends.  Section 11 of the API contract measures the
 * kill-switch check against this program's throughput under the same server
 * conf, so it does the same per-request work a real handler cannot avoid
 * (accept, write headers and a small body, finish) and nothing more.
 *
 * The headers are formatted with snprintf and written with FCGX_PutStr:
 * FCGX_FPrintF has its own formatter that mishandles some conversions.
 *
 * Started by hand (not by a FastCGI server) it answers one request as plain
 * CGI, so the same binary can measure the mod_cgi/mod_cgid baseline too.
 */
#include <stdio.h>

#include <fcgiapp.h>

static const char body[] = "{\"ok\":true}";

/* Formats the response head into buf; returns its length, or -1. */
static int
head(char *buf, size_t bufsz)
{
	int n;

	n = snprintf(buf, bufsz,
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "\r\n", sizeof(body) - 1);
	if (n < 0 || (size_t)n >= bufsz)
		return -1;
	return n;
}

int
main(void)
{
	FCGX_Request	 req;
	char		 buf[128];
	int		 n;

	if ((n = head(buf, sizeof(buf))) < 0)
		return 1;

	if (FCGX_IsCGI()) {
		/* Plain CGI: one request from the environment and stdio. */
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n ||
		    fwrite(body, 1, sizeof(body) - 1, stdout) !=
		    sizeof(body) - 1)
			return 1;
		return fflush(stdout) == 0 ? 0 : 1;
	}

	if (FCGX_Init() != 0)
		return 1;
	if (FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;

	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(buf, n, req.out);
		FCGX_PutStr(body, (int)(sizeof(body) - 1), req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
