/* test_envlock.c - unit tests of lib/envlock.c (Check). */
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "envlock.h"
#include "unit.h"

START_TEST(envlock_fences_a_forced_recovery)
{
	char path[128];
	int fds[2], fd;
	pid_t child;
	char ch;

	/* store_setup opened the store: this process holds the lock shared */
	ck_assert_int_eq(envlock_recovery_requested(), 0);
	envlock_request_recovery();
	ck_assert_int_eq(envlock_recovery_requested(), 1);
	/* another process attached (its own open of the lock file, shared) */
	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		snprintf(path, sizeof(path), "%s/env.lock", data_dir);
		if ((fd = open(path, O_RDWR)) < 0 || flock(fd, LOCK_SH) != 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		sleep(30);              /* killed by the parent */
		_exit(0);
	}
	ck_assert_int_eq(read(fds[0], &ch, 1), 1);
	/* not granted while it stays attached */
	ck_assert_int_eq(envlock_exclusive(300), 0);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	/* its death releases the lock: granted */
	ck_assert_int_eq(envlock_exclusive(300), 1);
	ck_assert_int_eq(envlock_share(), 0);
	envlock_recovery_done();
	ck_assert_int_eq(envlock_recovery_requested(), 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

UNIT_MAIN("envlock", UNIT_STORE | UNIT_SLOW,
    envlock_fences_a_forced_recovery)
