/*
 * generation.h - change counters shared by every process of one data
 * directory.
 *
 * A counter is bumped by every write to the tables it watches (store.c does
 * it, so no writer can forget), after the write and before its commit, while
 * the transaction still holds the write lock.  A reader that remembers a
 * value derived from those tables remembers the counter it read before
 * reading them; while the counter is unchanged, nothing was written since,
 * and the remembered value is still the stored one.  When the counter moved,
 * the reader reads the table again, which waits for the writer's commit.
 * So a cache keyed by a generation is never stale: a revocation or an
 * emergency shutdown is seen by the very next request of every process,
 * as when the table is read every time, without the read.
 *
 * The counters live in one small file, DATA/generation, mapped shared by
 * every process; each starts at a random value, so a process that opens
 * two data directories never mistakes one's counter for the other's.  When it cannot be mapped, generation_read() answers
 * GENERATION_UNKNOWN and callers must not trust any cache.
 */
#ifndef ANDON_GENERATION_H
#define ANDON_GENERATION_H

#include <stddef.h>
#include <stdint.h>

enum generation {
	GEN_APIKEYS,        /* T_APIKEYS: keys revoked, edited, touched */
	GEN_SHUTDOWNS,      /* T_ESD_ACTIVE: shutdowns activated, resolved */
	GEN_KS_ACTIVE,      /* T_KS_ACTIVE, T_KS_ALIASES: killed, revived */
	GEN_AGENT_STOPS,    /* T_AGENT_STOPS: agents suspended, revoked, back */
	GEN_SESSIONS,       /* T_SESSIONS, T_SESSION_TOKENS: opened, ended */
	GEN_OUTBOX,         /* T_OUTBOX: webhook deliveries queued (the
	                       notifier's wake-up) */
	GEN_AUDIT,          /* T_AUDIT: events appended (the SIEM sinks'
	                       wake-up); bumped by audit_append, not store.c,
	                       as no read of T_AUDIT goes through a cache */
	GEN_COUNT
};

/* Never a counter's value: "no counter, read the table". */
#define GENERATION_UNKNOWN 0

/* Maps DATA/generation, creating it (mode 0660) if needed; 0 or -1 with err. */
int generation_open(const char *data_dir, char *err, size_t errlen);

/* Unmaps the file; reads answer GENERATION_UNKNOWN afterwards. */
void generation_close(void);

/* The counter's current value, or GENERATION_UNKNOWN. */
uint64_t generation_read(enum generation g);

/* Moves the counter on; a no-op when the file is not mapped. */
void generation_bump(enum generation g);

/*
 * Replication (replication.h): writes that arrive by replication move no
 * counter, so while this site is not the master every counter reads as
 * GENERATION_UNKNOWN and every read goes to the database.  Set by the
 * replication process before it starts the replication manager and when
 * the site stops being the master; cleared when it becomes the master,
 * after every counter moved on (a value read before must not match again).
 */
void generation_set_replica(int replica);

#endif
