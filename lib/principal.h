/*
 * principal.h - who makes a request: the API key that authenticated it,
 * as apikey.c builds it and every noun records it in its audit events.
 * Kept apart from apikey.h so that audit.h and the nouns that take a
 * caller need not include the key machinery (and apikey.c may write its
 * own audit events without an include cycle).
 */
#ifndef ANDON_PRINCIPAL_H
#define ANDON_PRINCIPAL_H

struct principal {
	char key_id[32];       /* "key_<16 hex>" */
	char prefix[32];       /* "andon_<16 hex>", safe to show */
	char tenant[64];
	char name[128];
	unsigned scopes;
};

#endif
