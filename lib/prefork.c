/* prefork.c - a FastCGI socket and the workers that serve it (prefork.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prefork.h"

#define LISTEN_BACKLOG 1024
#define STOP_WAIT_S 10

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* SIGALRM only interrupts the supervisor's waitpid() */
static void
on_alarm(int sig)
{
	(void)sig;
}

/* The options; 0, or -1 (said) when one is wrong. */
static int
read_options(int argc, char **argv, const char **path, unsigned *workers)
{
	*path = NULL;
	*workers = 2;
	/* each option is a name and its value */
	for (int i = 1; i < argc; i += 2) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		long n;

		if (strcmp(argv[i], "--listen") == 0 && value != NULL) {
			*path = value;
		} else if (strcmp(argv[i], "--workers") == 0 && value != NULL) {
			errno = 0;
			n = strtol(value, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 || n > PREFORK_MAX_WORKERS) {
				fprintf(stderr, "%s: --workers takes 1 to %d\n", argv[0],
				    PREFORK_MAX_WORKERS);
				return -1;
			}
			*workers = (unsigned)n;
		} else {
			fprintf(stderr, "usage: %s [--listen SOCKET [--workers N]]\n",
			    argv[0]);
			return -1;
		}
	}
	return 0;
}

/* Binds and listens on path as descriptor 0; 0, or -1 (said). */
static int
listen_on(const char *prog, const char *path)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: the socket path %s is too long\n", prog, path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		goto fail;
	/* a socket left by a supervisor that was killed */
	if (unlink(path) != 0 && errno != ENOENT)
		goto fail;
	old = umask(007);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(fd, LISTEN_BACKLOG) != 0)
		goto fail;
	if (fd != 0) {
		if (dup2(fd, 0) < 0)
			goto fail;
		close(fd);
	}
	return 0;
fail:
	fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, path, strerror(errno));
	return -1;
}

/* The supervisor's own name in ps and /proc/PID/comm; workers keep the
 * executable's (tests/setup.sh tells them apart by it). */
static char worker_name[16];

/* In the new worker: 0.  In the supervisor: the worker's pid, or -1. */
static pid_t
start_worker(pid_t supervisor)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_NAME, worker_name);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	if (getppid() != supervisor)
		_exit(0);
	return 0;
}

/* SIGTERM to every worker, then waits; SIGKILL to those still there. */
static void
stop_workers(pid_t *pids, unsigned workers)
{
	unsigned left = 0;

	for (unsigned i = 0; i < workers; i++)
		if (pids[i] > 0 && kill(pids[i], SIGTERM) == 0)
			left++;
	for (int waited = 0; left > 0 && waited < STOP_WAIT_S * 10; waited++) {
		pid_t pid;

		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			left--;
		if (left > 0)
			usleep(100000);
	}
	for (unsigned i = 0; left > 0 && i < workers; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int
prefork_run(int argc, char **argv)
{
	pid_t pids[PREFORK_MAX_WORKERS] = { 0 };
	time_t started[PREFORK_MAX_WORKERS] = { 0 };
	struct sigaction sa;
	const char *path;
	unsigned workers;
	pid_t me = getpid();

	/* a CGI request: its arguments are the query's words (RFC 3875 4.4) */
	if (getenv("GATEWAY_INTERFACE") != NULL)
		return 0;
	if (read_options(argc, argv, &path, &workers) != 0)
		return -1;
	if (path == NULL)
		return 0;
	if (listen_on(argv[0], path) != 0)
		return -1;
	prctl(PR_GET_NAME, worker_name);
	prctl(PR_SET_NAME, "andon-pool");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	while (!stopping) {
		time_t now = time(NULL);
		int status;
		pid_t pid;

		for (unsigned i = 0; i < workers && !stopping; i++) {
			if (pids[i] > 0 || now - started[i] < 1)
				continue;
			started[i] = now;
			if ((pids[i] = start_worker(me)) == 0)
				return 1;     /* a worker */
			if (pids[i] < 0) {
				fprintf(stderr, "%s: cannot fork a worker: %s\n", argv[0],
				    strerror(errno));
				pids[i] = 0;
			}
		}
		/* wakes on a worker's end, a signal, or each second */
		alarm(1);
		pid = waitpid(-1, &status, 0);
		alarm(0);
		for (unsigned i = 0; pid > 0 && i < workers; i++)
			if (pids[i] == pid)
				pids[i] = 0;
	}
	stop_workers(pids, workers);
	unlink(path);
	return 2;
}
