/* test_destination.c - unit tests of lib/destination.c (Check). */
#include <arpa/inet.h>

#include "destination.h"
#include "unit.h"

static int
private_address(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, text,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, text,
		    &((struct sockaddr_in *)&ss)->sin_addr), 1);
	}
	return destination_address_private((struct sockaddr *)&ss);
}

START_TEST(webhook_destinations_classified)
{
	static const char *const refused[] = { "127.0.0.1", "127.255.0.9", "0.0.0.0",
	    "10.0.0.1", "100.64.0.1", "169.254.169.254", "172.16.0.1",
	    "172.31.255.255", "192.168.0.1", "192.0.0.8", "198.18.0.1", "224.0.0.1",
	    "239.255.255.250", "240.0.0.1", "255.255.255.255", "::", "::1",
	    "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
	    "::ffff:10.1.2.3", "2001:db8::1", "64:ff9b::a00:1", NULL };
	static const char *const accepted[] = { "93.184.215.14", "8.8.8.8",
	    "172.15.255.255", "172.32.0.1", "100.128.0.1", "198.20.0.1",
	    "223.255.255.255", "2606:4700::1111", "::ffff:8.8.8.8", NULL };

	for (const char *const *a = refused; *a; a++)
		ck_assert_msg(private_address(*a), "%s must be refused", *a);
	for (const char *const *a = accepted; *a; a++)
		ck_assert_msg(!private_address(*a), "%s must be accepted", *a);
}
END_TEST

UNIT_MAIN("destination", 0, webhook_destinations_classified)
