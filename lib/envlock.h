/*
 * envlock.h - fencing the shared Berkeley DB environment for a forced
 * recovery after a process died holding one of its region mutexes.
 *
 * Berkeley DB 5.3 cannot recover by itself when a process is killed while
 * it holds a mutex of a shared region (the buffer pool's, say, while it
 * evicts a page): every process that needs the mutex waits for good, and
 * DB_REGISTER's recovery in a new process waits too, because it attaches
 * the regions before it recovers.  The way out is the one db_recover takes:
 * with no process attached, remove the regions and run recovery.  This
 * file gives the two halves of that:
 *
 *   - every process holds a shared flock on DATA/env.lock while it is
 *     attached, so "nobody attached" is "the exclusive lock is granted";
 *   - a process that finds itself stuck (lib/server.c's watchdog) leaves
 *     the marker DATA/recover-needed and exits; a process that sees the
 *     marker between requests exits too; the next process to open the
 *     store takes the lock exclusively, removes the regions, recovers and
 *     removes the marker (lib/store.c).
 */
#ifndef ANDON_ENVLOCK_H
#define ANDON_ENVLOCK_H

#include <stddef.h>

/* Opens (creating) DATA/env.lock; 0, or -1 with err. */
int envlock_open(const char *data_dir, char *err, size_t errlen);

/* 1 when a stuck process asked for a forced recovery. */
int envlock_recovery_requested(void);

/* Leaves the marker.  Async-signal-safe: a watchdog's handler calls it. */
void envlock_request_recovery(void);

/* Removes the marker once the environment was recovered. */
void envlock_recovery_done(void);

/*
 * Takes the lock exclusively, waiting up to wait_ms for every attached
 * process to leave: 1 when granted, 0 when not (or the marker went away:
 * someone else recovered).
 */
int envlock_exclusive(unsigned wait_ms);

/* Holds the lock shared (waiting while a recovery runs): 0 or -1. */
int envlock_share(void);

#endif
