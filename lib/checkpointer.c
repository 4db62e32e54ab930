/* checkpointer.c - the standby that checkpoints (checkpointer.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "checkpointer.h"
#include "envlock.h"
#include "log.h"
#include "store.h"
#include "watchdog.h"

static volatile sig_atomic_t leaving;

static void
on_term(int sig)
{
	(void)sig;
	leaving = 1;
}

/* Signals interrupt the flock() and the sleep (no SA_RESTART). */
static void
catch_signals(void)
{
	static const int stops[] = { SIGTERM, SIGINT, SIGUSR1 };
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Waits for the exclusive lock: 0 when held, -1 when told to leave. */
static int
wait_for_turn(const char *data_dir)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/checkpoint.lock", data_dir)
	    >= sizeof(path))
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0) {
		log_error("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* the descriptor stays open, and the lock held, until the exit */
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR || leaving)
			return -1;
	return leaving ? -1 : 0;
}

/*
 * Every tenth of a second the deadlock detector (store_detect_deadlocks():
 * no process runs it on each conflict), every second the checkpoint and
 * failchk (store_maintain()).
 */
static void
checkpoint_until_told(const struct conf *conf)
{
	const struct timespec tenth = { 0, 100 * 1000 * 1000 };
	char err[512];
	unsigned ticks = 0;

	/* the open runs failchk(), which waits for good on a mutex a dead
	 * process held: the watchdog turns that into a forced recovery */
	watchdog_arm(conf->watchdog_seconds * WATCHDOG_OPEN_FACTOR);
	if (store_open(conf->data_dir, conf->db_cache_mb, err, sizeof(err)) != 0) {
		watchdog_disarm();
		log_error("%s", err);
		return;
	}
	watchdog_disarm();
	while (!leaving) {
		nanosleep(&tenth, NULL);
		/* a stuck process asked for a forced recovery: leave at once,
		 * without closing (that may wait on the dead one's mutex) */
		if (envlock_recovery_requested())
			_exit(0);
		watchdog_arm(conf->watchdog_seconds);
		store_detect_deadlocks();
		if (++ticks % 10 == 0)
			store_maintain(conf->checkpoint_kbytes, conf->checkpoint_minutes);
		watchdog_disarm();
	}
	watchdog_arm(conf->watchdog_seconds);
	store_close();
	watchdog_disarm();
}

static void
standby(const struct conf *conf, pid_t parent)
{
	int devnull;

	/* the parent's end is ours: it may leave without telling us */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	catch_signals();
	if (getppid() != parent)
		return;
	/* descriptor 0 is the FastCGI listening socket: not ours to hold */
	if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
		dup2(devnull, 0);
		if (devnull != 0)
			close(devnull);
	}
	log_set_program("andon-checkpointer");
	/* its name in ps (tests/setup.sh tells standbys apart by it) */
	prctl(PR_SET_NAME, "andon-ckpt");
	if (watchdog_start_alarm() != 0)
		return;
	if (wait_for_turn(conf->data_dir) == 0)
		checkpoint_until_told(conf);
}

int
checkpointer_fork(const struct conf *conf)
{
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid < 0) {
		log_error("cannot fork the checkpointer: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return 0;
	standby(conf, parent);
	_exit(0);
}
