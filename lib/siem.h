/*
 * siem.h - SIEM delivery of the audit trail (andonctl siem).
 *
 * Every committed audit event, whoever wrote it (a FastCGI or plain CGI
 * request, andonctl), goes to each sink the conf names:
 *
 *   syslog  audit_syslog = yes: one RFC 5424 message per event, sent as a
 *           datagram to the Unix socket audit_syslog_socket (/dev/log):
 *           "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG", PRI
 *           audit_syslog_facility * 8 + 5 (notice), TIMESTAMP the event's
 *           "at", APP-NAME audit_syslog_ident, PROCID this process, MSGID
 *           the event's type, no structured data, MSG the event as stored
 *           with every non-ASCII character written \uXXXX (so MSG is
 *           ASCII JSON, needing no BOM, equal to the stored event).
 *   jsonl   audit_jsonl = PATH: the event as stored, one per line, appended;
 *           the file is reopened when it was moved or removed (logrotate,
 *           looked for before each batch and every second) or on SIGHUP.
 *
 * The events are read from the trail (T_AUDIT) in seq order, never from a
 * request's path.  Each sink keeps a cursor, the last seq it handed on, in
 * T_CURSORS under "siem.<sink>" (T_META before); it is saved after the
 * lines up to it were handed on (the file's fdatasync'd), at most every
 * SAVE_MS while busy, so a crash or a SIGKILL sends again what followed
 * the saved cursor: delivery is at least once, in seq order, and nothing
 * is lost.  A sink without a cursor starts at the first event.  A sink
 * that fails (syslog socket absent, disk full) keeps its cursor and is
 * tried again every second.
 * It wakes on GEN_AUDIT (generation.h), bumped by every append.
 *
 * One process per data directory (a lock on DATA/siem.lock).
 */
#ifndef ANDON_SIEM_H
#define ANDON_SIEM_H

#include <stddef.h>

#include "conf.h"

/* The syslog message of one stored event (text, len bytes) into *buf
 * (*cap bytes, grown as needed; the caller frees it), NUL-terminated, its
 * length in *out; 0, or -1 when out of memory. */
int siem_syslog_message(const char *text, size_t len, int facility,
                        const char *host, const char *app, long pid,
                        char **buf, size_t *cap, size_t *out);

/* Runs until SIGTERM/SIGINT, or with once until every committed event was
 * handed to every sink; 0, or -1 with err (with once: a sink that failed). */
int siem_run(const struct conf *conf, int once, char *err, size_t errlen);

#endif
