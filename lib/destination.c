/* destination.c - a webhook URL's form and the addresses it resolves to. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "destination.h"

static int
v4_private(uint32_t a)
{
	return (a >> 24) == 0 ||                 /* 0.0.0.0/8 this network */
	    (a >> 24) == 10 ||                   /* 10/8 */
	    (a >> 24) == 127 ||                  /* loopback */
	    (a >> 22) == (100u << 2 | 1) ||      /* 100.64/10 shared (RFC 6598) */
	    (a >> 16) == (169u << 8 | 254) ||    /* link-local, cloud metadata */
	    (a >> 20) == (172u << 4 | 1) ||      /* 172.16/12 */
	    (a >> 16) == (192u << 8 | 168) ||    /* 192.168/16 */
	    (a >> 8) == 192u << 16 ||             /* 192.0.0/24 IETF */
	    (a >> 17) == (198u << 7 | 9) ||       /* 198.18/15 benchmarking */
	    (a >> 28) >= 14;                     /* 224/4 multicast, 240/4
	                                            reserved, broadcast */
}

int
destination_address_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_private(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		const uint8_t *b = a->s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a))
			return v4_private((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
			    (uint32_t)b[14] << 8 | b[15]);
		return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) ||
		    IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_SITELOCAL(a) ||
		    IN6_IS_ADDR_MULTICAST(a) ||
		    (b[0] & 0xfe) == 0xfc ||             /* fc00::/7 unique local */
		    (b[0] == 0x01 && b[1] == 0 && !b[2] && !b[3] &&
		     !b[4] && !b[5] && !b[6] && !b[7]) || /* 100::/64 discard */
		    (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) ||
		    (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b);
		    /* 2001:db8::/32 documentation, 64:ff9b::/96 NAT64 */
	}
	return 1;
}

static int
bad(struct problem *p, const char *code, const char *fmt, const char *arg)
{
	problem_set(p, 400, code, fmt, arg);
	problem_field(p, "url");
	return -1;
}

/* Splits url into scheme, host and port; -1 with a problem. */
static int
parse_url(const char *url, int allow_http, struct destination *d,
          struct problem *p)
{
	const char *auth, *end, *host, *host_end, *colon;
	size_t len = strlen(url), hlen;

	if (len > DESTINATION_URL_MAX)
		return bad(p, "invalid_url", "field url must be at most %s characters", "2048");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return bad(p, "invalid_url", "field url must be an absolute URL without "
			    "spaces, control or non-ASCII characters (percent-encode them)%s", "");
	if (!strncasecmp(url, "https://", 8)) {
		d->https = 1;
		auth = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		if (!allow_http)
			return bad(p, "unsafe_destination", "field url must use https:// "
			    "(http:// is refused unless webhook_allow_http is set)%s", "");
		d->https = 0;
		auth = url + 7;
	} else
		return bad(p, "invalid_url", "field url must be an https:// URL%s", "");
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return bad(p, "unsafe_destination",
		    "field url must not carry credentials (user:password@)%s", "");
	host = auth;
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(end - host));
		if (host_end == NULL)
			return bad(p, "invalid_url", "field url has an unterminated IPv6 address%s", "");
		host++;
		colon = host_end + 1 < end && host_end[1] == ':' ? host_end + 1 : NULL;
		if (host_end + 1 < end && colon == NULL)
			return bad(p, "invalid_url", "field url has a malformed host%s", "");
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		host_end = colon ? colon : end;
	}
	hlen = (size_t)(host_end - host);
	if (hlen == 0 || hlen >= sizeof(d->host))
		return bad(p, "invalid_url", "field url must name a host%s", "");
	memcpy(d->host, host, hlen);
	d->host[hlen] = '\0';
	d->port = d->https ? 443 : 80;
	if (colon != NULL) {
		char *num_end;
		unsigned long port;

		if (colon + 1 == end || !isdigit((unsigned char)colon[1]))
			return bad(p, "invalid_url", "field url has a malformed port%s", "");
		port = strtoul(colon + 1, &num_end, 10);
		if (num_end != end || port == 0 || port > 65535)
			return bad(p, "invalid_url", "field url has a malformed port%s", "");
		d->port = (unsigned)port;
	}
	return 0;
}

int
destination_resolve(const char *url, int allow_http, int allow_private,
                    struct destination *d, struct problem *p)
{
	struct addrinfo hints, *res, *ai;
	int rc;

	memset(d, 0, sizeof(*d));
	if (parse_url(url, allow_http, d, p) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(d->host, NULL, &hints, &res)) != 0)
		return bad(p, "unsafe_destination",
		    "field url: the host %.200s does not resolve", d->host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (!allow_private && destination_address_private(ai->ai_addr)) {
			freeaddrinfo(res);
			return bad(p, "unsafe_destination", "field url: %.200s resolves to a "
			    "loopback, link-local, private, multicast or reserved address "
			    "(refused unless webhook_allow_private is set)", d->host);
		}
		if (d->address[0] == '\0' &&
		    getnameinfo(ai->ai_addr, ai->ai_addrlen, d->address,
		        sizeof(d->address), NULL, 0, NI_NUMERICHOST) != 0)
			d->address[0] = '\0';
	}
	freeaddrinfo(res);
	if (d->address[0] == '\0')
		return bad(p, "unsafe_destination",
		    "field url: the host %.200s does not resolve", d->host);
	snprintf(d->resolve, sizeof(d->resolve), "%s:%u:%s%s%s", d->host, d->port,
	    strchr(d->address, ':') ? "[" : "", d->address,
	    strchr(d->address, ':') ? "]" : "");
	return 0;
}
