/*
 * destination.h - where a webhook may be delivered.
 *
 * A destination is an https:// URL (http:// only when conf
 * webhook_allow_http is set) without credentials, whose host resolves only
 * to public addresses: loopback, unspecified, link-local, private (RFC 1918,
 * RFC 6598 shared, IPv6 unique local), multicast, reserved and broadcast
 * addresses are refused unless conf webhook_allow_private is set.  The
 * check runs when a subscription is created or changed and again before
 * every delivery, which then connects to exactly the address checked
 * (destination_resolve), so a name that resolves elsewhere later (DNS
 * rebinding) reaches no private address.
 */
#ifndef ANDON_DESTINATION_H
#define ANDON_DESTINATION_H

#include <stddef.h>
#include <sys/socket.h>

#include "problem.h"

#define DESTINATION_URL_MAX 2048

struct destination {
	int https;
	char host[256];          /* without brackets for an IPv6 literal */
	unsigned port;
	char address[64];        /* the address checked, numeric */
	char resolve[384];       /* "host:port:address" for CURLOPT_RESOLVE */
};

/* 1 when the address is loopback, link-local, private, multicast,
 * unspecified or reserved (IPv4, IPv6, IPv4-mapped IPv6). */
int destination_address_private(const struct sockaddr *sa);

/* Parses url and resolves its host; fills d with the first address when
 * the URL and every address are acceptable.  0, or -1 with a 400 problem
 * (code invalid_url or unsafe_destination, field "url"). */
int destination_resolve(const char *url, int allow_http, int allow_private,
                        struct destination *d, struct problem *p);

#endif
