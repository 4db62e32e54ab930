/*
 * cgi-time.c - runs one plain-CGI request and says what it cost.
 *
 *	cgi-time PROGRAM [ARG...]
 *
 * Runs PROGRAM with this process's environment (the CGI variables) and
 * stdin (the request body), reads its answer from a pipe, and prints one
 * line: the CPU it used (user + system, microseconds, from wait4()), the
 * wall time from fork to exit (microseconds), its peak resident set (KiB)
 * and the first line of its answer (the Status header).  The bench script
 * (tests/bench/cgi) runs it once per request, interleaving the cases.
 */
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
tv_us(struct timeval tv)
{
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

int
main(int argc, char **argv)
{
	struct rusage ru;
	char out[4096], *eol;
	size_t used = 0;
	long long t0, t1;
	ssize_t n;
	int fd[2], status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: cgi-time PROGRAM [ARG...]\n");
		return 2;
	}
	if (pipe(fd) != 0) {
		perror("cgi-time: pipe");
		return 1;
	}
	t0 = now_us();
	if ((pid = fork()) < 0) {
		perror("cgi-time: fork");
		return 1;
	}
	if (pid == 0) {
		close(fd[0]);
		if (dup2(fd[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(fd[1]);
		execv(argv[1], argv + 1);
		fprintf(stderr, "cgi-time: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	/* keep the head of the answer, drain the rest */
	for (;;) {
		char sink[4096];

		if (used < sizeof(out) - 1)
			n = read(fd[0], out + used, sizeof(out) - 1 - used);
		else
			n = read(fd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (used < sizeof(out) - 1)
			used += (size_t)n;
	}
	close(fd[0]);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("cgi-time: wait4");
			return 1;
		}
	}
	t1 = now_us();
	out[used] = '\0';
	if ((eol = strpbrk(out, "\r\n")) != NULL)
		*eol = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(out, sizeof(out), "exit-%d", WIFEXITED(status) ?
		    WEXITSTATUS(status) : 128 + WTERMSIG(status));
	printf("%lld %lld %ld %s\n", tv_us(ru.ru_utime) + tv_us(ru.ru_stime),
	    t1 - t0, ru.ru_maxrss, out[0] ? out : "-");
	return 0;
}
