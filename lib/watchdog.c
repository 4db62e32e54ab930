/* watchdog.c - a deadline on each request, watched by a thread. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "envlock.h"
#include "watchdog.h"

/* Milliseconds since the epoch by which the current work must end; 0 when
 * nothing is being watched.  Written by the main thread, read by the
 * watching one. */
static int64_t deadline_ms;
static int by_alarm;            /* watchdog_start_alarm() */
static int leave_on_recovery;   /* watchdog_leave_on_recovery() */

/* Past the deadline: async-signal-safe, for the alarm's handler too. */
static void
fire(void)
{
	static const char msg[] = "andon: stuck in the database for too long: "
	    "asking for a forced recovery and exiting\n";

	envlock_request_recovery();
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(75);
	_exit(75);
}

/*
 * A process that crashes while attached may hold a region mutex nobody can
 * release, as a stuck one does; seen under SIGKILL chaos (t0995): Berkeley
 * DB 5.3 crashing in its deadlock detector or failchk() after another
 * process was killed inside the lock region.  So a crash leaves the
 * recovery marker first, then the signal goes to the handler there was
 * before (the sanitizers' report, or the default: a core): returning
 * makes the faulting instruction fault again.
 */
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
static struct sigaction before_crash[sizeof(crash_signals) / sizeof(crash_signals[0])];

static void
on_crash(int sig, siginfo_t *info, void *context)
{
	static const char msg[] = "andon: crashed: asking for a forced recovery\n";
	ssize_t said;

	(void)context;
	envlock_request_recovery();
	said = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)said;               /* nothing to do when stderr is gone */
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		if (crash_signals[i] == sig)
			sigaction(sig, &before_crash[i], NULL);
	/* sent, not a fault: nothing faults again on return, so send it on */
	if (info == NULL || info->si_code <= 0)
		raise(sig);
}

static void
watch_crashes(void)
{
	static int watching;
	struct sigaction sa;

	if (watching)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_crash;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, &before_crash[i]);
	watching = 1;
}

static void
on_alarm(int sig)
{
	(void)sig;
	fire();
}

/* Another process asked for a forced recovery: it cannot run while this
 * one is attached, so this one goes (async-signal-safe). */
static void
leave(void)
{
	static const char msg[] = "andon: a forced recovery was asked for: "
	    "leaving the database to it\n";

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(75);
	_exit(75);
}

static void *
watch(void *unused)
{
	const struct timespec second = { 1, 0 };

	(void)unused;
	for (;;) {
		int64_t deadline = __atomic_load_n(&deadline_ms, __ATOMIC_ACQUIRE);

		if (deadline != 0 && clock_monotonic_ms() > deadline)
			fire();
		if (__atomic_load_n(&leave_on_recovery, __ATOMIC_ACQUIRE) &&
		    envlock_recovery_requested())
			leave();
		nanosleep(&second, NULL);
	}
	return NULL;
}

void
watchdog_leave_on_recovery(void)
{
	__atomic_store_n(&leave_on_recovery, 1, __ATOMIC_RELEASE);
}

int
watchdog_start_alarm(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return -1;
	by_alarm = 1;
	watch_crashes();
	return 0;
}

int
watchdog_start(void)
{
	static int started;
	pthread_t thread;
	sigset_t all, old;
	int rc;

	if (started)
		return 0;
	/* signals (SIGTERM above all) go to the main thread, whose blocking
	 * accept() they must interrupt: the watcher blocks every one */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&thread, NULL, watch, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	pthread_detach(thread);
	started = 1;
	watch_crashes();
	return 0;
}

void
watchdog_arm(unsigned seconds)
{
	int64_t deadline;

	if (by_alarm) {
		alarm(seconds);
		return;
	}
	deadline = seconds ? clock_monotonic_ms() + (int64_t)seconds * 1000 : 0;
	__atomic_store_n(&deadline_ms, deadline, __ATOMIC_RELEASE);
}

void
watchdog_disarm(void)
{
	if (by_alarm)
		alarm(0);
	else
		__atomic_store_n(&deadline_ms, 0, __ATOMIC_RELEASE);
}
