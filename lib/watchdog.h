/*
 * watchdog.h - turns a request or a tick stuck inside Berkeley DB into an
 * exit that asks for a forced recovery (see envlock.h).
 *
 * A thread of its own looks once a second at a deadline the main thread
 * sets before each piece of work and clears after it; past the deadline it
 * leaves DATA/recover-needed and ends the process with status 75.  Arming
 * and disarming are a clock read and an atomic store: no system call on
 * the request path (alarm() cost two per request).
 */
#ifndef ANDON_WATCHDOG_H
#define ANDON_WATCHDOG_H

/*
 * Both starts also watch for a crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE): it
 * leaves DATA/recover-needed before the signal takes its course, since the
 * process may die holding a region mutex (watchdog.c).
 */
/* Starts the watching thread; 0, or -1 when it could not be created. */
int watchdog_start(void);
/*
 * Instead, in a process that serves one request (plain CGI): the deadline
 * is an alarm (SIGALRM) whose handler does the same.  A thread costs such
 * a process more than its few alarm() calls, and makes every later unmap
 * of its memory a flush on every CPU.  0, or -1.
 */
int watchdog_start_alarm(void);

/*
 * A request or a tick that has not finished after conf.watchdog_seconds
 * (60) is stuck inside Berkeley DB.  Far above any real request (the
 * longest, a cascade kill of 1,000 agents, takes well under a second; lock
 * waits give up after 2 s and are retried).  Opening the store may wait
 * for a recovery, so it gets three times as long.
 */
#define WATCHDOG_OPEN_FACTOR 3

/* The work starting now must end within seconds (0: no deadline). */
void watchdog_arm(unsigned seconds);

/* The work ended in time. */
void watchdog_disarm(void);

/*
 * After watchdog_start(): the process also leaves (status 75) within a
 * second of another process asking for a forced recovery, whatever it is
 * doing.  For one-shot commands (andonctl backup, verify...), whose
 * length no deadline can bound and which may be waiting inside Berkeley
 * DB on a mutex a killed process held: attached, they would keep the
 * recovery, and so every other process, waiting for good.  A long-lived
 * server leaves between requests instead (server.c's tick).
 */
void watchdog_leave_on_recovery(void);

#endif
