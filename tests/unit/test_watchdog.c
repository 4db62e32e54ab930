/* test_watchdog.c - unit tests of lib/watchdog.c (Check). */
#include <signal.h>
#include <sys/wait.h>

#include "envlock.h"
#include "store.h"
#include "watchdog.h"
#include "unit.h"

START_TEST(a_zombie_is_not_alive)
{
	siginfo_t info;
	pid_t child;

	ck_assert_int_eq(store_pid_alive(getpid()), 1);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		sleep(30);              /* killed below */
		_exit(0);
	}
	ck_assert_int_eq(store_pid_alive(child), 1);
	kill(child, SIGKILL);
	/* dead but not reaped: a zombie still answers kill(pid, 0) */
	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(kill(child, 0), 0);
	ck_assert_int_eq(store_pid_alive(child), 0);
	/* reaped: gone */
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_int_eq(store_pid_alive(child), 0);
	/* the environment's own check still runs */
	ck_assert_int_eq(store_failchk(), 0);
}
END_TEST

/* Runs a child that arms the watchdog for 1 s, disarms it at once when
 * in_time, and then sleeps 3 s; returns its exit status. */
static int
watched_child(int in_time)
{
	pid_t child = fork();
	int status;

	ck_assert_int_ge(child, 0);
	if (child == 0) {
		if (watchdog_start() != 0)
			_exit(1);
		watchdog_arm(1);
		if (in_time)
			watchdog_disarm();
		sleep(3);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(watchdog_ends_stuck_work_only)
{
	/* work that ended in time: the process lives on, no marker */
	ck_assert_int_eq(watched_child(1), 0);
	ck_assert_int_eq(envlock_recovery_requested(), 0);
	/* work past its deadline: exit 75, and a forced recovery asked for */
	ck_assert_int_eq(watched_child(0), 75);
	ck_assert_int_eq(envlock_recovery_requested(), 1);
	envlock_recovery_done();
}
END_TEST

/* A crash (here a write to an unmapped address) asks for a forced
 * recovery before the signal takes its course: the process may have died
 * holding a region mutex. */
START_TEST(watchdog_turns_a_crash_into_a_recovery)
{
	pid_t child;
	int status;

	ck_assert_int_eq(envlock_recovery_requested(), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* unmapped, and not null (which UBSan would report first) */
		volatile uintptr_t nowhere = 64;

		if (watchdog_start_alarm() != 0)
			_exit(99);
		*(volatile int *)nowhere = 1;
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	/* killed by the signal, or ended by the sanitizer's report */
	ck_assert(WIFSIGNALED(status) || (WIFEXITED(status) &&
	    WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 99));
	ck_assert_int_eq(envlock_recovery_requested(), 1);
	envlock_recovery_done();
}
END_TEST

UNIT_MAIN("watchdog", UNIT_STORE | UNIT_SLOW, watchdog_ends_stuck_work_only,
    a_zombie_is_not_alive, watchdog_turns_a_crash_into_a_recovery)
