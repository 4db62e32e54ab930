/*
 * pepper.h - the installation's API-key pepper.
 *
 * 32 random bytes in a file of their own (conf key key_pepper_file, by
 * default andon.pepper beside the conf), never in the data directory, so
 * neither a copy of the data directory nor a backup carries it.  A key
 * record keeps, beside its Argon2id hash, a verifier: BLAKE2b of the key
 * keyed with the pepper.  A presented key is checked against the verifier
 * first, so a wrong secret costs one keyed hash (as an unknown key id
 * does), never an Argon2 run; whoever holds the records but not the pepper
 * can check guesses no faster than Argon2 allows.  Each pepper has a short
 * public id, stored with the verifier, so a record made under another
 * pepper (a restored backup, a lost pepper file) is recognised and checked
 * by its Argon2 hash instead.
 */
#ifndef ANDON_PEPPER_H
#define ANDON_PEPPER_H

#include <stddef.h>
#include <sys/types.h>

#define PEPPER_BYTES 32
#define PEPPER_ID_SIZE 17   /* 16 hex digits and a NUL */

/* Creates the file (mode 0640, owned by uid:gid) with fresh random bytes.
 * 1 when it was created, 0 when it already existed, -1 with err. */
int pepper_create(const char *path, uid_t uid, gid_t gid, char *err,
                  size_t errlen);

/* Reads the file; 0, or -1 with err (the pepper is then unset). */
int pepper_load(const char *path, char *err, size_t errlen);

/* Sets the pepper from bytes (tests); NULL unsets it. */
void pepper_set(const unsigned char *bytes);

/* The pepper's public id, or NULL when none is loaded. */
const char *pepper_id(void);

/* out = a 32-byte key for one purpose (label), derived from the pepper
 * by keyed BLAKE2b, so no other use of the pepper can produce it; -1 when
 * no pepper is loaded.  The webhook secrets' encryption key (webhook.h). */
int pepper_subkey(const char *label, unsigned char out[32]);

/* out = BLAKE2b-256 of msg keyed with the pepper, as 64 hex digits;
 * -1 when no pepper is loaded. */
int pepper_mac_hex(const char *msg, size_t len, char out[65]);

#endif
