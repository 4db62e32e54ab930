/*
 * checkpointer.h - one process per environment writes the checkpoints.
 *
 * A checkpoint writes every dirty page of the cache and syncs every table
 * file: tens of milliseconds under a steady write load.  Run by a FastCGI
 * process between two requests, it held up that process's next request
 * (the web server does not know the process is busy) and was the whole
 * latency tail of a kill (issue 12).  So every long-lived FastCGI process
 * forks one standby at start; the standbys wait on an exclusive flock of
 * DATA/checkpoint.lock, and the one holding it opens the environment and
 * checkpoints every second (conf checkpoint_kbytes / checkpoint_minutes),
 * which also lets Berkeley DB remove the log files it no longer needs, and
 * runs the deadlock detector ten times a second (store_detect_deadlocks()).
 * When it exits (its parent went away: it gets SIGTERM), another standby
 * takes the lock over.  A standby never serves a request.
 */
#ifndef ANDON_CHECKPOINTER_H
#define ANDON_CHECKPOINTER_H

#include "conf.h"

/*
 * In the parent, before the store is opened and before any thread is
 * started (a child forked from a threaded process may inherit a lock held
 * for good, the allocator's say): forks the standby.  0 when it
 * runs (the parent then leaves checkpoints to it, store_checkpoints_
 * elsewhere()), -1 when it could not be forked (the parent checkpoints
 * itself, as before).  Never returns in the child.
 */
int checkpointer_fork(const struct conf *conf);

#endif
