/* conf.h - the application conf file (conf/andon.conf). */
#ifndef ANDON_CONF_H
#define ANDON_CONF_H

#include <limits.h>
#include <stddef.h>

#define CONF_IDENT_MAX 48                 /* RFC 5424 APP-NAME */
#define CONF_HOST_MAX 253                 /* a DNS name */
#define CONF_URL_MAX 512
#define CONF_SITES_MAX 8                  /* other replication sites */

/* Set by the build (Makefile.am) from configure's directories. */
#ifndef ANDON_CONF_PATH
#define ANDON_CONF_PATH "/etc/andon/andon.conf"
#endif
#ifndef ANDON_DATA_DIR
#define ANDON_DATA_DIR "/var/lib/andon"
#endif

/* A replication site: where its replication manager listens, and the
 * public base URL its web server answers on (for redirects). */
struct conf_site {
	char host[CONF_HOST_MAX + 1];
	unsigned port;
	char base_url[CONF_URL_MAX + 1];  /* no trailing slash */
};

struct conf {
	char data_dir[PATH_MAX];
	size_t max_body;
	unsigned argon2_t_cost;
	unsigned argon2_m_cost_kib;
	unsigned argon2_parallelism;
	unsigned rate_limit_per_minute;
	unsigned rate_limit_burst;
	unsigned tenant_rate_limit_per_minute; /* the same calls, per tenant;
	                                          the key's unless set */
	unsigned tenant_rate_limit_burst;
	unsigned check_rate_limit_per_minute;
	unsigned intervention_flush_ms;
	unsigned db_cache_mb;
	unsigned checkpoint_kbytes;
	unsigned checkpoint_minutes;
	unsigned watchdog_seconds;        /* a request stuck this long: recover */
	int audit_syslog;                 /* the SIEM sinks (siem.h) */
	char audit_syslog_socket[PATH_MAX];
	char audit_syslog_ident[CONF_IDENT_MAX + 1]; /* RFC 5424 APP-NAME */
	int audit_syslog_facility;        /* 0..23 (local0 is 16) */
	char audit_jsonl[PATH_MAX];
	char key_pepper_file[PATH_MAX]; /* default: andon.pepper beside the conf */
	int webhook_allow_http;           /* http:// destinations too */
	int webhook_allow_private;        /* loopback, private... destinations */
	unsigned webhook_rotation_overlap_seconds; /* old secret still signs */
	unsigned webhook_connect_timeout_ms;
	unsigned webhook_timeout_ms;      /* a whole delivery attempt */
	unsigned webhook_retry_scale_ppm; /* the retry schedule, in millionths */
	unsigned webhook_disable_after_seconds; /* failing this long: disabled */
	unsigned daemon_nice;             /* notify, siem: CPU priority (priority.h) */
	int replication;                  /* high availability (replication.h) */
	struct conf_site rep_local;       /* this site */
	unsigned rep_priority;            /* election priority; 0: never master */
	struct conf_site rep_sites[CONF_SITES_MAX]; /* the other sites */
	unsigned rep_site_count;
};

void conf_defaults(struct conf *c);
/* Reads path (which must exist) over the defaults, then applies the
 * ANDON_DATA environment variable.  On error returns -1 and writes a
 * one-line reason into err. */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);
/* The syslog facility's code for a name ("local0", "daemon"...), or -1. */
int conf_facility(const char *name);
/* Sets data_dir; an absolute path only, so that no program ever makes a
 * database in whatever directory it was started from. */
int conf_set_data_dir(struct conf *c, const char *dir, char *err, size_t errlen);
/* The base URL of the replication site at host:port (the local one or
 * another the conf names), or NULL. */
const char *conf_site_url(const struct conf *c, const char *host, unsigned port);
/* The conf path: $ANDON_CONF, else the installed one, ANDON_CONF_PATH
 * ($(sysconfdir)/andon/andon.conf, set by the build). */
const char *conf_default_path(void);

#endif
