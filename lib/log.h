/*
 * log.h - diagnostics for operators.
 *
 * Messages go to stderr, which lighttpd and Apache both send to their error
 * log for FastCGI and CGI programs alike (there may be no syslog daemon).
 * Never pass a secret, a request body or a key to these functions.
 */
#ifndef ANDON_LOG_H
#define ANDON_LOG_H

void log_set_program(const char *name);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
