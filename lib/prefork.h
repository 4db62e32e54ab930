/*
 * prefork.h - an executable that runs its own FastCGI processes: for web
 * servers that connect to FastCGI sockets but do not start the processes
 * (Apache's mod_proxy_fcgi; see conf/apache.conf).
 *
 *   killswitch.fcgi --listen /run/andon/killswitch.sock [--workers 2]
 *
 * binds the Unix socket (mode 0660, the old one replaced), forks the
 * workers, each of which serves FastCGI on it as under lighttpd (the
 * kernel queues connections on the socket: whichever worker is free
 * accepts the next; nothing sleeps waiting for a process), and starts a
 * worker again when one ends (at most once a second per slot, so a worker
 * that cannot start does not spin).  SIGTERM or SIGINT stops the workers,
 * waits for them (10 s, then SIGKILL), removes the socket and exits 0.
 * The supervising process never opens the database and is named
 * "andon-pool" in ps; the workers end with it (PR_SET_PDEATHSIG).
 */
#ifndef ANDON_PREFORK_H
#define ANDON_PREFORK_H

#define PREFORK_MAX_WORKERS 64

/*
 * Reads --listen PATH and --workers N from argv.  Returns 0 when argv has
 * no --listen (serve as started: by a web server or as CGI), 1 in a
 * worker (descriptor 0 is then the listening socket: serve FastCGI on
 * it), 2 in the supervisor once it stopped (exit 0), -1 on a bad argument
 * or a failure to bind (said on stderr; exit non-zero).
 */
int prefork_run(int argc, char **argv);

#endif
