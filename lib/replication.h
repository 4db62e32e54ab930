/*
 * replication.h - high availability on Berkeley DB's replication manager.
 *
 * With conf replication = yes, a site is one member of a group that conf
 * names (conf.h: the local site, its priority and base URL, the other
 * sites).  Following the reference guide's "Running Replication Manager in
 * multiple processes": "andonctl replicate" is the site's replication
 * process, the first to start the replication manager, which listens,
 * holds the elections and applies what the master sends; every other
 * process of the site (the FastCGI processes, their checkpointer, andonctl)
 * joins the same environment as a subordinate process, starting the
 * manager without threads of its own so that its commits are sent to the
 * group.  The replication process holds DATA/replicate.lock while it runs,
 * and a subordinate joins only then: the first process to start the
 * manager becomes the replication process, which a FastCGI process must
 * not be.
 *
 * The environment is opened with DB_THREAD (the manager needs it), the
 * group's membership is the static list conf names (DB_LEGACY on every
 * site), a commit waits for the acknowledgement of a quorum
 * (DB_REPMGR_ACKS_QUORUM), and the master holds leases
 * (DB_REP_CONF_LEASE), so that a master cut off from the majority stops
 * answering within the lease timeout and two masters never both accept
 * writes.
 *
 * Counters (generation.h): replicated writes move none, so while the site
 * is not the master the replication process marks every counter unknown,
 * and every process reads its database instead of its copies.
 */
#ifndef ANDON_REPLICATION_H
#define ANDON_REPLICATION_H

#include <stddef.h>

#include <db.h>

#include "conf.h"

enum replication_part {
	REPLICATION_SUBORDINATE,     /* a FastCGI process, andonctl */
	REPLICATION_PROCESS,         /* andonctl replicate */
};

/* Timeouts (microseconds), fixed: the README states them. */
#define REPLICATION_LEASE_US       3000000
#define REPLICATION_ACK_US         2000000
#define REPLICATION_HEARTBEAT_US    500000   /* the master sends */
#define REPLICATION_MONITOR_US     2000000   /* a client calls an election */
#define REPLICATION_ELECTION_US    2000000
#define REPLICATION_RETRY_US       1000000   /* elections, connections */

/*
 * Before DB_ENV->open: the event handler, the sites, the ack policy, the
 * timeouts and the priority.  0, or -1 with a reason in err.
 */
int replication_configure(DB_ENV *env, const struct conf *c,
                          enum replication_part part, char *err, size_t errlen);

/*
 * After the open.  The replication process turns leases on, starts the
 * manager with elections and takes DATA/replicate.lock; a subordinate
 * joins when the replication process runs (replication_joined() then
 * answers 1).  0, or -1 with a reason in err.
 */
int replication_start(DB_ENV *env, const struct conf *c,
                      enum replication_part part, char *err, size_t errlen);

/* Whether this process started the manager (writes can be sent). */
int replication_joined(void);

/* Whether a replication process holds data_dir's DATA/replicate.lock. */
int replication_running(const char *data_dir);

/*
 * Who takes writes now: 1 this site; 0 another site, whose base URL (conf)
 * *url then points to; -1 none known (an election runs, or this process
 * could not ask).
 */
int replication_master(DB_ENV *env, const struct conf *c, const char **url);

/*
 * The URL a write is redirected to: the master's base URL, then path
 * (decoded; percent-encoded again here) and ?query (as received) when not
 * empty.  0, or -1 when it does not fit in len.
 */
int replication_location(char *out, size_t len, const char *base,
                         const char *path, const char *query);

/* Whether a commit since the last call was not acknowledged by a quorum
 * (DB_EVENT_REP_PERM_FAILED); clears the flag. */
int replication_perm_failed(void);

#endif
