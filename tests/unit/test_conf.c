/* test_conf.c - unit tests of lib/conf.c (Check). */
#include <fcntl.h>
#include <sys/stat.h>

#include "conf.h"
#include "store.h"
#include "unit.h"

static int
load_conf_text(const char *text, struct conf *c, char *err, size_t errlen)
{
	char path[] = "/tmp/andon-conf.XXXXXX";
	int fd = mkstemp(path), rc;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	err[0] = '\0';
	rc = conf_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

START_TEST(conf_defaults_are_documented)
{
	struct conf c, loaded;
	char err[256];

	memset(&c, 0xa5, sizeof(c));
	conf_defaults(&c);
	ck_assert_str_eq(c.data_dir, ANDON_DATA_DIR);
	ck_assert_int_eq(c.data_dir[0], '/');
	ck_assert_uint_eq(c.max_body, 65536);
	ck_assert_uint_eq(c.argon2_t_cost, 2);
	ck_assert_uint_eq(c.argon2_m_cost_kib, 19456);
	ck_assert_uint_eq(c.argon2_parallelism, 1);
	ck_assert_uint_eq(c.rate_limit_per_minute, 30);
	ck_assert_uint_eq(c.rate_limit_burst, 30);
	ck_assert_uint_eq(c.check_rate_limit_per_minute, 0);
	ck_assert_uint_eq(c.watchdog_seconds, 60);
	ck_assert_int_eq(c.audit_syslog, 0);
	ck_assert_str_eq(c.audit_jsonl, "");
	ck_assert_str_eq(c.audit_syslog_socket, "/dev/log");
	ck_assert_str_eq(c.audit_syslog_ident, "andon");
	ck_assert_int_eq(c.audit_syslog_facility, 16);

	ck_assert_str_eq(c.key_pepper_file, "");
	/* an empty file gives the defaults, and the pepper beside the conf */
	snprintf(c.key_pepper_file, sizeof(c.key_pepper_file), "/tmp/andon.pepper");
	unsetenv("ANDON_DATA");
	ck_assert_int_eq(load_conf_text("", &loaded, err, sizeof(err)), 0);
	ck_assert_mem_eq(&loaded, &c, sizeof(c));
	ck_assert_int_eq(load_conf_text("# only a comment\n\n   \n", &loaded, err,
	    sizeof(err)), 0);
	ck_assert_mem_eq(&loaded, &c, sizeof(c));
}
END_TEST

START_TEST(conf_file)
{
	struct conf c;
	char err[256];

	unsetenv("ANDON_DATA");
	ck_assert_int_eq(load_conf_text("# comment\nmax_body = 1024\n\nargon2_t_cost=3\n"
	    "audit_jsonl = /tmp/x.jsonl\n  rate_limit_burst\t=\t7  # trailing comment\n"
	    "audit_syslog = yes\ndata_dir = /var/lib/andon\n", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.max_body, 1024);
	ck_assert_uint_eq(c.argon2_t_cost, 3);
	ck_assert_uint_eq(c.rate_limit_burst, 7);
	ck_assert_uint_eq(c.rate_limit_per_minute, 30);   /* untouched default */
	ck_assert_uint_eq(c.tenant_rate_limit_burst, 7);  /* follows the key's */
	ck_assert_uint_eq(c.tenant_rate_limit_per_minute, 30);
	ck_assert_str_eq(c.audit_jsonl, "/tmp/x.jsonl");
	ck_assert_str_eq(c.data_dir, "/var/lib/andon");
	ck_assert_int_eq(c.audit_syslog, 1);
	ck_assert_str_eq(c.key_pepper_file, "/tmp/andon.pepper");
	ck_assert_int_eq(load_conf_text("key_pepper_file = /etc/andon/pepper\n", &c,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(c.key_pepper_file, "/etc/andon/pepper");
	ck_assert_int_eq(load_conf_text("audit_syslog = no\n", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.audit_syslog, 0);
	ck_assert_int_eq(load_conf_text("audit_syslog_facility = local7\n"
	    "audit_syslog_ident = andon-prod.1\naudit_syslog_socket = /run/x.sock\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.audit_syslog_facility, 23);
	ck_assert_str_eq(c.audit_syslog_ident, "andon-prod.1");
	ck_assert_str_eq(c.audit_syslog_socket, "/run/x.sock");
	ck_assert_int_eq(load_conf_text("audit_syslog_facility = daemon\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.audit_syslog_facility, 3);
	ck_assert_int_eq(load_conf_text("rate_limit_per_minute = 5\n"
	    "tenant_rate_limit_per_minute = 0\ntenant_rate_limit_burst = 90\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.rate_limit_per_minute, 5);
	ck_assert_uint_eq(c.tenant_rate_limit_per_minute, 0);
	ck_assert_uint_eq(c.tenant_rate_limit_burst, 90);
	/* bounds are inclusive */
	ck_assert_int_eq(load_conf_text("argon2_t_cost = 100\nargon2_t_cost = 1\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.argon2_t_cost, 1);   /* the last line wins */

	/* ANDON_DATA overrides the file */
	setenv("ANDON_DATA", "/srv/andon", 1);
	ck_assert_int_eq(load_conf_text("data_dir = /var/lib/andon\n", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.data_dir, "/srv/andon");
	unsetenv("ANDON_DATA");

	setenv("ANDON_CONF", "/etc/andon/andon.conf", 1);
	ck_assert_str_eq(conf_default_path(), "/etc/andon/andon.conf");
	unsetenv("ANDON_CONF");
	ck_assert_str_eq(conf_default_path(), ANDON_CONF_PATH);
	ck_assert_int_eq(ANDON_CONF_PATH[0], '/');

	/* a relative data directory would land wherever a program started */
	ck_assert_int_ne(load_conf_text("data_dir = ./var\n", &c, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "line 1: data_dir: the data directory must be an "
	    "absolute path") != NULL, "%s", err);
	setenv("ANDON_DATA", "var", 1);
	ck_assert_int_ne(load_conf_text("max_body = 65536\n", &c, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "ANDON_DATA: ") != NULL, "%s", err);
	unsetenv("ANDON_DATA");
}
END_TEST

START_TEST(conf_refuses_bad_lines)
{
	static const struct {
		const char *text;
		const char *in_error;
	} bad[] = {
		{ "max_bodyy = 2048\n", "max_bodyy" },
		{ "# ok\nmax_body = 2048\nnope = 1\n", "line 3" },
		{ "max_body = lots\n", "max_body" },
		{ "max_body = -1\n", "max_body" },
		{ "max_body = 1023\n", "max_body" },          /* under the minimum */
		{ "max_body = 2k\n", "max_body" },
		{ "max_body = 1e4\n", "max_body" },
		{ "max_body = \n", "max_body" },
		{ "max_body = 99999999999999999999999\n", "max_body" },
		{ "argon2_t_cost = 0\n", "argon2_t_cost" },
		{ "argon2_t_cost = 101\n", "argon2_t_cost" },
		{ "argon2_m_cost_kib = 4294967296\n", "argon2_m_cost_kib" },
		{ "rate_limit_burst = 0\n", "rate_limit_burst" },
		{ "checkpoint_minutes = -0\n", "checkpoint_minutes" },
		{ "checkpoint_minutes = 1441\n", "checkpoint_minutes" },
		{ "audit_syslog = maybe\n", "audit_syslog" },
		{ "audit_syslog_facility = local8\n", "audit_syslog_facility" },
		{ "audit_syslog_facility = 16\n", "audit_syslog_facility" },
		{ "audit_syslog_facility = \n", "audit_syslog_facility" },
		{ "audit_syslog_ident = \n", "audit_syslog_ident" },
		{ "audit_syslog_ident = two words\n", "audit_syslog_ident" },
		{ "audit_syslog_ident = caf\xc3\xa9\n", "audit_syslog_ident" },
		{ "audit_syslog_ident = "
		  "a23456789012345678901234567890123456789012345678X\n", "audit_syslog_ident" },
		{ "max_body\n", "line 1" },
		{ "= 5\n", "line 1" },
		{ "MAX_BODY = 2048\n", "MAX_BODY" },
	};
	struct conf c;
	char err[256];

	unsetenv("ANDON_DATA");
	for (size_t i = 0; i < NELEM(bad); i++) {
		ck_assert_msg(load_conf_text(bad[i].text, &c, err, sizeof(err)) != 0,
		    "accepted %s", bad[i].text);
		ck_assert_msg(strstr(err, bad[i].in_error) != NULL,
		    "error for '%s' is '%s'", bad[i].text, err);
	}
	ck_assert_int_ne(conf_load(&c, "/nonexistent/andon.conf", err, sizeof(err)), 0);
	ck_assert(strstr(err, "/nonexistent/andon.conf") != NULL);
}
END_TEST

/* A missing data directory is an error that names it; nothing is made. */
START_TEST(conf_replication_sites)
{
	struct conf c;
	char err[512];

	unsetenv("ANDON_DATA");
	ck_assert_int_eq(load_conf_text("", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.replication, 0);          /* off by default */
	ck_assert_uint_eq(c.rep_priority, 100);
	ck_assert_uint_eq(c.rep_site_count, 0);
	ck_assert_int_eq(load_conf_text("replication = yes\n"
	    "replication_local_site = 10.231.0.1:7001\n"
	    "replication_base_url = https://a.example.org/andon/\n"
	    "replication_priority = 0\n"
	    "replication_site = b.example.org:7001 https://b.example.org/andon\n"
	    "replication_site = [fd00::3]:7001\thttp://[fd00::3]:8080\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.replication, 1);
	ck_assert_str_eq(c.rep_local.host, "10.231.0.1");
	ck_assert_uint_eq(c.rep_local.port, 7001);
	ck_assert_str_eq(c.rep_local.base_url, "https://a.example.org/andon");
	ck_assert_uint_eq(c.rep_priority, 0);
	ck_assert_uint_eq(c.rep_site_count, 2);
	ck_assert_str_eq(c.rep_sites[0].host, "b.example.org");
	ck_assert_uint_eq(c.rep_sites[0].port, 7001);
	ck_assert_str_eq(c.rep_sites[0].base_url, "https://b.example.org/andon");
	ck_assert_str_eq(c.rep_sites[1].host, "fd00::3");
	ck_assert_str_eq(c.rep_sites[1].base_url, "http://[fd00::3]:8080");
	/* the same port on another host is another site */
	ck_assert_int_eq(load_conf_text("replication_local_site = a:7001\n"
	    "replication_site = b:7001 http://b\n", &c, err, sizeof(err)), 0);
}
END_TEST

START_TEST(conf_refuses_bad_sites)
{
	static const struct {
		const char *text;
		const char *in_error;
	} bad[] = {
		{ "replication_local_site = a.example\n", "is not host:port" },
		{ "replication_local_site = :7001\n", "the host must be" },
		{ "replication_local_site = a b:7001\n", "the host must be" },
		{ "replication_local_site = a:b:7001\n", "the host must be" },
		{ "replication_local_site = a:0\n", "the port must be" },
		{ "replication_local_site = a:65536\n", "the port must be" },
		{ "replication_local_site = a:\n", "the port must be" },
		{ "replication_local_site = a:+80\n", "the port must be" },
		{ "replication_local_site = [::1\n", "is not [address]:port" },
		{ "replication_local_site = [::1]7001\n", "is not [address]:port" },
		{ "replication_site = b:7001\n", "names no base URL" },
		{ "replication_site = b:7001 ftp://b\n", "is not a base URL" },
		{ "replication_site = b:7001 https://\n", "is not a base URL" },
		{ "replication_site = b:7001 https:///x\n", "is not a base URL" },
		{ "replication_site = b:7001 https://u:p@b\n", "is not a base URL" },
		{ "replication_site = b:7001 https://b/?x=1\n", "is not a base URL" },
		{ "replication_site = b:7001 https://b x\n", "is not a base URL" },
		{ "replication_site = b https://b\n", "is not host:port" },
		{ "replication_base_url = b.example\n", "is not a base URL" },
		{ "replication_site = b:7001 https://b\nreplication_site = b:7001 "
		    "https://c\n", "line 2: replication_site: b:7001 is named twice" },
		{ "replication_local_site = b:7001\nreplication_site = b:7001 "
		    "https://b\n", "replication_site b:7001 is the local site" },
		{ "replication = yes\nreplication_base_url = https://a\n",
		    "needs replication_local_site" },
		{ "replication = yes\nreplication_local_site = a:1\n",
		    "needs replication_base_url" },
		{ "replication_priority = 1001\n", "replication_priority" },
		{ "replication = maybe\n", "replication must be yes or no" },
	};
	char nine[2048] = "";
	struct conf c;
	char err[512];

	unsetenv("ANDON_DATA");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(load_conf_text(bad[i].text, &c, err, sizeof(err)) != 0,
		    "accepted: %s", bad[i].text);
		ck_assert_msg(strstr(err, bad[i].in_error) != NULL,
		    "%s: error \"%s\" lacks \"%s\"", bad[i].text, err, bad[i].in_error);
	}
	for (int i = 0; i <= CONF_SITES_MAX; i++)
		snprintf(nine + strlen(nine), sizeof(nine) - strlen(nine),
		    "replication_site = s%d:7001 https://s%d\n", i, i);
	ck_assert_int_ne(load_conf_text(nine, &c, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "at most 8 other sites") != NULL, "%s", err);
}
END_TEST

START_TEST(store_never_makes_the_data_dir)
{
	char dir[] = "/tmp/andon-unit.XXXXXX", missing[64], file[64], err[512];
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	ck_assert_int_ne(store_open(missing, 8, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, missing) && strstr(err, "No such file or directory") &&
	    strstr(err, "andonctl init creates it"), "%s", err);
	ck_assert_int_ne(stat(missing, &st), 0);

	snprintf(file, sizeof(file), "%s/file", dir);
	ck_assert_int_ge(fd = open(file, O_CREAT | O_WRONLY, 0600), 0);
	close(fd);
	ck_assert_int_ne(store_open(file, 8, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "is not a directory") != NULL, "%s", err);
	unlink(file);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

UNIT_MAIN("conf", 0, conf_defaults_are_documented, conf_file,
    conf_refuses_bad_lines, conf_replication_sites, conf_refuses_bad_sites,
    store_never_makes_the_data_dir)
