/*
 * priority.h - a background daemon's CPU priority.
 *
 * The notifier (andonctl notify) and the SIEM sinks (andonctl siem) run
 * on the machine that answers kills and checks.  They lower their own
 * CPU priority (conf daemon_nice) so that, when the CPUs are busy, the
 * emergency path runs first and notifications use what is left: a kill's
 * latency and throughput do not depend on how many endpoints subscribe.
 * Nothing is lost meanwhile; deliveries wait in the outbox.
 *
 * Linux's scheduler weighs processes by session first (autogroup, when
 * enabled): a nice value only orders processes of one session.  A daemon
 * that leads its own session (systemd's units, setsid) owns its group and
 * sets the group's nice too, so its weight against the web server's
 * processes is lowered as well.  A daemon started from a shell lowers only
 * itself within the shell's session.
 */
#ifndef ANDON_PRIORITY_H
#define ANDON_PRIORITY_H

#include <stddef.h>

/* Lowers this process to nice (0..19; never raises it), and its session's
 * scheduling group when it leads the session.  0, or -1 with err. */
int priority_lower(int nice, char *err, size_t errlen);

#endif
