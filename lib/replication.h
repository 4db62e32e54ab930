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
	/* an andonctl command that only reads (rep-status, verify...): it
	 * never starts the manager, whose connection threads a process
	 * leaving the environment must join, so it never waits minutes for a
	 * connection to a site that is down or cut off to time out */
	REPLICATION_OBSERVER,
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

/*
 * Lag.  Berkeley DB 5.3 tells no site how far another is, so the sites
 * tell each other over a replication manager message channel: once a
 * second (replication_tick(), in the replication process) a replica sends
 * the master the next log position it expects; the master answers how far
 * behind that is, in bytes of log and in seconds, and keeps the last
 * report of every replica.  Seconds come from the master's own samples of
 * its log position (one a second and one per report): a replica at
 * position P is as far behind as the time since the master was last seen
 * at or below P.  Both sides write what they know for the site's other
 * processes (rep-status, /metrics, /healthz): DATA/replication.lag (this
 * site behind its master) and DATA/replication.peers (the master's view of
 * each replica).
 */
#define REPLICATION_LAG_FRESH_MS 3000   /* older: the lag is unknown */

/* Once a second, in the replication process. */
void replication_tick(DB_ENV *env, const struct conf *c);

/* Bytes of log between positions a and b (b after a; 0 otherwise), with
 * files of file_size bytes. */
unsigned long long replication_lag_bytes(const DB_LSN *a, const DB_LSN *b,
                                         unsigned long long file_size);

/* The master's samples of its log position (for the seconds of lag). */
#define REPLICATION_SAMPLES 128
struct replication_samples {
	struct {
		DB_LSN lsn;
		long long ms;        /* last seen at lsn (CLOCK_REALTIME) */
	} s[REPLICATION_SAMPLES];
	unsigned next, count;
};
void replication_sample(struct replication_samples *rs, const DB_LSN *lsn,
                        long long now_ms);
/* Milliseconds a replica at position at is behind now, when the master's
 * log is at head: 0 when at is not before head, else the time since the
 * newest sample at or below at (or since the oldest sample: a lower
 * bound). */
long long replication_lag_ms(const struct replication_samples *rs,
                             const DB_LSN *at, const DB_LSN *head,
                             long long now_ms);

/* What this site knows of the group, for rep-status, /metrics, /healthz. */
struct replication_state {
	int role;                 /* 1 master, 0 replica, -1 neither */
	const char *master_url;   /* NULL: no master known */
	int lag_known;            /* a fresh answer of the master */
	unsigned long long lag_bytes;
	long long lag_ms;
	long long lag_age_ms;     /* how old that answer is */
};
/* 0, or -1 when the environment cannot say (replication off or closed). */
int replication_state(DB_ENV *env, const struct conf *c,
                      struct replication_state *st);

/*
 * Kills kept while no master could be elected (localstop.h) cross over the
 * same channel: the replication process of the site that kept one hands
 * it (its JSON record) to the master, whose replication process gives it
 * to the receiver it set (which keeps it durably for its own main loop to
 * commit) before it answers.  replication_hand_over() answers 0 once the
 * master's receiver took it.
 */
void replication_set_receiver(int (*receive)(const char *record));
int replication_hand_over(DB_ENV *env, const char *record);

/* Whether this site is the master and in touch with a majority of the
 * group, itself included (replicas that reported lately, as
 * DATA/replication.peers says): a commit can be acknowledged. */
int replication_quorum(const struct conf *c);

/* The master's last view of a replica (DATA/replication.peers). */
struct replication_peer {
	char site[CONF_HOST_MAX + 8];   /* host:port */
	DB_LSN lsn;
	unsigned long long lag_bytes;
	long long lag_ms;
	long long age_ms;               /* since its last report */
};
/* Up to max peers into out; the count, or -1 when this site has none
 * (not the master, or no report yet). */
int replication_peers(const struct conf *c, struct replication_peer *out,
                      int max);

#endif
