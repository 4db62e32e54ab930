/*
 * conf.c - parse "key = value" lines into struct conf.
 *
 * Every key is described once in the table below; an unknown key, a number
 * out of range or a malformed line stops start-up with the line number.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

enum conf_kind { CONF_UINT, CONF_SIZE, CONF_BOOL, CONF_PATH, CONF_DIR,
	CONF_IDENT, CONF_FACILITY, CONF_HOSTPORT, CONF_URL, CONF_SITE };

struct conf_key {
	const char *name;
	enum conf_kind kind;
	size_t offset;
	unsigned long min, max;
};

#define UINT_KEY(n, lo, hi) { #n, CONF_UINT, offsetof(struct conf, n), lo, hi }

static const struct conf_key conf_keys[] = {
	{ "data_dir", CONF_DIR, offsetof(struct conf, data_dir), 0, 0 },
	{ "max_body", CONF_SIZE, offsetof(struct conf, max_body), 1024, 16u << 20 },
	UINT_KEY(argon2_t_cost, 1, 100),
	UINT_KEY(argon2_m_cost_kib, 8, 4u << 20),
	UINT_KEY(argon2_parallelism, 1, 64),
	UINT_KEY(rate_limit_per_minute, 0, 1000000),
	UINT_KEY(rate_limit_burst, 1, 1000000),
	UINT_KEY(tenant_rate_limit_per_minute, 0, 1000000),
	UINT_KEY(tenant_rate_limit_burst, 1, 1000000),
	UINT_KEY(check_rate_limit_per_minute, 0, 100000000),
	UINT_KEY(intervention_flush_ms, 10, 600000),
	UINT_KEY(db_cache_mb, 1, 65536),
	UINT_KEY(checkpoint_kbytes, 0, 1u << 30),
	UINT_KEY(checkpoint_minutes, 0, 1440),
	UINT_KEY(watchdog_seconds, 5, 3600),
	{ "audit_syslog", CONF_BOOL, offsetof(struct conf, audit_syslog), 0, 1 },
	{ "audit_syslog_socket", CONF_PATH, offsetof(struct conf, audit_syslog_socket), 0, 0 },
	{ "audit_syslog_ident", CONF_IDENT, offsetof(struct conf, audit_syslog_ident), 1, CONF_IDENT_MAX },
	{ "audit_syslog_facility", CONF_FACILITY, offsetof(struct conf, audit_syslog_facility), 0, 0 },
	{ "audit_jsonl", CONF_PATH, offsetof(struct conf, audit_jsonl), 0, 0 },
	{ "key_pepper_file", CONF_PATH, offsetof(struct conf, key_pepper_file), 0, 0 },
	{ "webhook_allow_http", CONF_BOOL, offsetof(struct conf, webhook_allow_http), 0, 1 },
	{ "webhook_allow_private", CONF_BOOL, offsetof(struct conf, webhook_allow_private), 0, 1 },
	UINT_KEY(webhook_rotation_overlap_seconds, 0, 30u * 86400),
	UINT_KEY(webhook_connect_timeout_ms, 100, 60000),
	UINT_KEY(webhook_timeout_ms, 100, 300000),
	UINT_KEY(webhook_retry_scale_ppm, 0, 10000000),
	UINT_KEY(webhook_disable_after_seconds, 0, 366u * 86400),
	UINT_KEY(daemon_nice, 0, 19),
	{ "replication", CONF_BOOL, offsetof(struct conf, replication), 0, 1 },
	{ "replication_local_site", CONF_HOSTPORT, offsetof(struct conf, rep_local), 0, 0 },
	{ "replication_base_url", CONF_URL, offsetof(struct conf, rep_local.base_url), 0, 0 },
	{ "replication_priority", CONF_UINT, offsetof(struct conf, rep_priority), 0, 1000 },
	{ "replication_site", CONF_SITE, offsetof(struct conf, rep_sites), 0, CONF_SITES_MAX },
};

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->data_dir, sizeof(c->data_dir), "%s", ANDON_DATA_DIR);
	c->max_body = 64 * 1024;
	c->argon2_t_cost = 2;
	c->argon2_m_cost_kib = 19456;
	c->argon2_parallelism = 1;
	c->rate_limit_per_minute = 30;
	c->rate_limit_burst = 30;
	c->tenant_rate_limit_per_minute = 30;
	c->tenant_rate_limit_burst = 30;
	c->check_rate_limit_per_minute = 0;
	c->intervention_flush_ms = 1000;
	c->db_cache_mb = 64;
	c->checkpoint_kbytes = 4096;
	c->checkpoint_minutes = 1;
	c->watchdog_seconds = 60;
	snprintf(c->audit_syslog_socket, sizeof(c->audit_syslog_socket), "/dev/log");
	snprintf(c->audit_syslog_ident, sizeof(c->audit_syslog_ident), "andon");
	c->audit_syslog_facility = 16;    /* local0 */
	c->webhook_rotation_overlap_seconds = 86400;
	c->webhook_connect_timeout_ms = 5000;
	c->webhook_timeout_ms = 15000;
	c->webhook_retry_scale_ppm = 1000000;
	c->webhook_disable_after_seconds = 72u * 3600;
	c->daemon_nice = 19;
	c->rep_priority = 100;
}

/* RFC 5424 section 6.2.1's facilities by their usual names. */
static const char *const facilities[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

int
conf_facility(const char *name)
{
	for (int i = 0; i < 24; i++)
		if (!strcmp(facilities[i], name))
			return i;
	return -1;
}

int
conf_set_data_dir(struct conf *c, const char *dir, char *err, size_t errlen)
{
	if (dir[0] != '/') {
		snprintf(err, errlen, "the data directory must be an absolute path, "
		    "not \"%.200s\"", dir);
		return -1;
	}
	if (strlen(dir) >= sizeof(c->data_dir)) {
		snprintf(err, errlen, "the data directory path is too long");
		return -1;
	}
	snprintf(c->data_dir, sizeof(c->data_dir), "%s", dir);
	return 0;
}

const char *
conf_default_path(void)
{
	const char *env = getenv("ANDON_CONF");

	return env && *env ? env : ANDON_CONF_PATH;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/*
 * "host:port" or "[v6 address]:port": a name or address the replication
 * manager resolves, and a port from 1 to 65535.
 */
static int
parse_hostport(const char *value, struct conf_site *site, char *why,
               size_t whylen)
{
	const char *colon, *host = value, *p;
	size_t hlen;
	char *end;
	unsigned long port;

	if (value[0] == '[') {
		host = value + 1;
		if ((colon = strchr(host, ']')) == NULL || colon[1] != ':') {
			snprintf(why, whylen, "\"%.100s\" is not [address]:port", value);
			return -1;
		}
		hlen = (size_t)(colon - host);
		colon++;
	} else {
		if ((colon = strrchr(value, ':')) == NULL) {
			snprintf(why, whylen, "\"%.100s\" is not host:port", value);
			return -1;
		}
		hlen = (size_t)(colon - value);
	}
	for (p = host; p < host + hlen; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    !(value[0] == '[' && *p == ':'))
			break;
	if (hlen == 0 || hlen > CONF_HOST_MAX || p != host + hlen) {
		snprintf(why, whylen, "\"%.100s\": the host must be a name or an "
		    "address of 1 to %d characters", value, CONF_HOST_MAX);
		return -1;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end != '\0' || errno ||
	    port < 1 || port > 65535) {
		snprintf(why, whylen, "\"%.100s\": the port must be a number from 1 "
		    "to 65535", value);
		return -1;
	}
	memcpy(site->host, host, hlen);
	site->host[hlen] = '\0';
	site->port = (unsigned)port;
	return 0;
}

/* An http:// or https:// URL without query, fragment or credentials: the
 * site's public base, kept without a trailing slash. */
static int
parse_base_url(const char *value, char out[CONF_URL_MAX + 1], char *why,
               size_t whylen)
{
	const char *rest = NULL, *p;
	size_t len = strlen(value);

	if (!strncmp(value, "https://", 8))
		rest = value + 8;
	else if (!strncmp(value, "http://", 7))
		rest = value + 7;
	for (p = value; *p > ' ' && *p < 127 && *p != '?' && *p != '#' &&
	    *p != '@'; p++)
		;
	while (len > 0 && value[len - 1] == '/')
		len--;
	if (rest == NULL || *p != '\0' || *rest == '\0' || *rest == '/' ||
	    len <= (size_t)(rest - value) || len > CONF_URL_MAX) {
		snprintf(why, whylen, "\"%.100s\" is not a base URL (http:// or "
		    "https://, a host, perhaps a path; no query, fragment or "
		    "credentials; at most %d characters)", value, CONF_URL_MAX);
		return -1;
	}
	memcpy(out, value, len);
	out[len] = '\0';
	return 0;
}

static int
same_site(const struct conf_site *a, const struct conf_site *b)
{
	return a->port == b->port && !strcmp(a->host, b->host);
}

/* "replication_site = host:port base_url", once per other site. */
static int
add_site(struct conf *c, const char *value, char *why, size_t whylen)
{
	struct conf_site site;
	char addr[CONF_HOST_MAX + 16];
	size_t n = strcspn(value, " \t");
	const char *url = value + n;

	memset(&site, 0, sizeof(site));
	while (*url == ' ' || *url == '\t')
		url++;
	if (*url == '\0') {
		snprintf(why, whylen, "\"%.100s\" names no base URL: "
		    "host:port https://host", value);
		return -1;
	}
	if (n >= sizeof(addr)) {
		snprintf(why, whylen, "the address is too long");
		return -1;
	}
	memcpy(addr, value, n);
	addr[n] = '\0';
	if (parse_hostport(addr, &site, why, whylen) != 0 ||
	    parse_base_url(url, site.base_url, why, whylen) != 0)
		return -1;
	for (unsigned i = 0; i < c->rep_site_count; i++)
		if (same_site(&c->rep_sites[i], &site)) {
			snprintf(why, whylen, "%s:%u is named twice", site.host,
			    site.port);
			return -1;
		}
	if (c->rep_site_count == CONF_SITES_MAX) {
		snprintf(why, whylen, "at most %d other sites", CONF_SITES_MAX);
		return -1;
	}
	c->rep_sites[c->rep_site_count++] = site;
	return 0;
}

const char *
conf_site_url(const struct conf *c, const char *host, unsigned port)
{
	if (c->rep_local.port == port && !strcmp(c->rep_local.host, host))
		return c->rep_local.base_url;
	for (unsigned i = 0; i < c->rep_site_count; i++)
		if (c->rep_sites[i].port == port && !strcmp(c->rep_sites[i].host, host))
			return c->rep_sites[i].base_url;
	return NULL;
}

/* What replication needs, once the whole file is read. */
static int
check_replication(const struct conf *c, char *err, size_t errlen)
{
	const struct conf_site *me = &c->rep_local;

	for (unsigned i = 0; me->host[0] && i < c->rep_site_count; i++)
		if (same_site(&c->rep_sites[i], me)) {
			snprintf(err, errlen, "replication_site %s:%u is the local site",
			    me->host, me->port);
			return -1;
		}
	if (!c->replication)
		return 0;
	if (me->host[0] == '\0') {
		snprintf(err, errlen, "replication = yes needs replication_local_site");
		return -1;
	}
	if (me->base_url[0] == '\0') {
		snprintf(err, errlen, "replication = yes needs replication_base_url");
		return -1;
	}
	return 0;
}

static int
set_value(struct conf *c, const struct conf_key *k, const char *value,
          char *err, size_t errlen, unsigned lineno)
{
	char *field = (char *)c + k->offset;
	unsigned long n;
	const char *p;
	char *end;

	switch (k->kind) {
	case CONF_HOSTPORT:
	case CONF_URL:
	case CONF_SITE: {
		char why[320];
		int rc = k->kind == CONF_HOSTPORT ?
		    parse_hostport(value, (struct conf_site *)field, why, sizeof(why)) :
		    k->kind == CONF_URL ? parse_base_url(value, field, why, sizeof(why)) :
		    add_site(c, value, why, sizeof(why));

		if (rc != 0)
			snprintf(err, errlen, "line %u: %s: %s", lineno, k->name, why);
		return rc;
	}
	case CONF_DIR: {
		char why[256];

		if (conf_set_data_dir(c, value, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "line %u: %s: %s", lineno, k->name, why);
			return -1;
		}
		return 0;
	}
	case CONF_PATH:
		if (strlen(value) >= PATH_MAX) {
			snprintf(err, errlen, "line %u: %s is too long", lineno, k->name);
			return -1;
		}
		snprintf(field, PATH_MAX, "%s", value);
		return 0;
	case CONF_IDENT:
		/* printable US-ASCII without spaces (RFC 5424 PRINTUSASCII) */
		n = strlen(value);
		for (p = value; *p > ' ' && *p < 127; p++)
			;
		if (n < k->min || n > k->max || *p != '\0') {
			snprintf(err, errlen, "line %u: %s must be 1 to %lu printable ASCII "
			    "characters without spaces", lineno, k->name, k->max);
			return -1;
		}
		snprintf(field, k->max + 1, "%s", value);
		return 0;
	case CONF_FACILITY:
		if ((*(int *)field = conf_facility(value)) < 0) {
			snprintf(err, errlen, "line %u: %s must be a syslog facility "
			    "(local0 to local7, daemon, user, auth, authpriv...)", lineno, k->name);
			return -1;
		}
		return 0;
	case CONF_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
			*(int *)field = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			*(int *)field = 0;
		else {
			snprintf(err, errlen, "line %u: %s must be yes or no", lineno, k->name);
			return -1;
		}
		return 0;
	case CONF_UINT:
	case CONF_SIZE:
		errno = 0;
		n = strtoul(value, &end, 10);
		if (errno || end == value || *end != '\0' || value[0] == '-' ||
		    n < k->min || n > k->max) {
			snprintf(err, errlen, "line %u: %s must be a whole number from %lu to %lu",
			    lineno, k->name, k->min, k->max);
			return -1;
		}
		if (k->kind == CONF_SIZE)
			*(size_t *)field = n;
		else
			*(unsigned *)field = (unsigned)n;
		return 0;
	}
	return -1;
}

/* andon.pepper in the conf's own directory: beside the conf, never in the
 * data directory (pepper.h says why). */
static void
default_pepper_path(struct conf *c, const char *conf_path)
{
	const char *slash = strrchr(conf_path, '/');
	int dir_len = slash ? (int)(slash - conf_path) : 1;

	snprintf(c->key_pepper_file, sizeof(c->key_pepper_file), "%.*s/andon.pepper",
	    dir_len, slash ? conf_path : ".");
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	char line[PATH_MAX + 128];
	unsigned lineno = 0;
	const char *env;
	FILE *f;

	conf_defaults(c);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot open conf %s: %s", path, strerror(errno));
		return -1;
	}
	/* unless the file sets them, the tenant's limits are the key's */
	c->tenant_rate_limit_per_minute = c->tenant_rate_limit_burst = UINT_MAX;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash, *eq, *key, *value;
		size_t i;

		lineno++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s line %u: expected key = value", path, lineno);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
			if (!strcmp(conf_keys[i].name, key))
				break;
		if (i == sizeof(conf_keys) / sizeof(conf_keys[0])) {
			snprintf(err, errlen, "%s line %u: unknown key %s", path, lineno, key);
			fclose(f);
			return -1;
		}
		if (set_value(c, &conf_keys[i], value, err, errlen, lineno)) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	if ((env = getenv("ANDON_DATA")) != NULL && *env) {
		char why[256];

		if (conf_set_data_dir(c, env, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "ANDON_DATA: %s", why);
			return -1;
		}
	}
	if (check_replication(c, err, errlen) != 0)
		return -1;
	if (c->rate_limit_burst < 1)
		c->rate_limit_burst = 1;
	if (c->key_pepper_file[0] == '\0')
		default_pepper_path(c, path);
	if (c->tenant_rate_limit_per_minute == UINT_MAX)
		c->tenant_rate_limit_per_minute = c->rate_limit_per_minute;
	if (c->tenant_rate_limit_burst == UINT_MAX)
		c->tenant_rate_limit_burst = c->rate_limit_burst;
	return 0;
}
