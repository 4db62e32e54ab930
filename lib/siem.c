/* siem.c - the audit trail to syslog (RFC 5424) and a JSON-lines file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "clock.h"
#include "envlock.h"
#include "generation.h"
#include "log.h"
#include "siem.h"
#include "store.h"

#define BATCH 256                 /* events per sink between cursor checks */
#define WAKE_POLL_MS 5            /* the change counter is read this often */
#define IDLE_PASS_MS 1000         /* a pass (and a rotation check) anyway */
#define SAVE_MS 200               /* a busy sink's cursor is saved this often */
#define RETRY_MS 1000             /* a failed sink is tried again after */
#define SEVERITY_NOTICE 5

static volatile sig_atomic_t stopping, reopen_files;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	reopen_files = 1;
}

struct sink {
	const char *name;          /* "syslog", "jsonl" */
	const char *path;          /* the socket or the file */
	int fd;                    /* -1: closed */
	dev_t dev;                 /* the file's, to see a rotation */
	ino_t ino;
	uint64_t cursor;           /* the last seq handed on */
	uint64_t saved;            /* the cursor as stored */
	int64_t retry_at;          /* failed: not before (ms), else 0 */
	int failing;               /* the failure is logged once */
	char why[256];             /* the last failure */
	/* the syslog header's fixed parts */
	int facility;
	const char *app;
	const char *host;
};

static void
sink_close(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void
sink_failed(struct sink *s, const char *what, int err)
{
	snprintf(s->why, sizeof(s->why), "%s %s: %s", what, s->path, strerror(err));
	if (!s->failing)
		log_error("siem: %s sink: %s; its events wait", s->name, s->why);
	s->failing = 1;
	s->retry_at = clock_now_ms() + RETRY_MS;
}

/* Opens the socket or the file; 0 or -1 (the sink waits). */
static int
sink_open(struct sink *s)
{
	struct sockaddr_un sa;
	struct stat st;

	if (!strcmp(s->name, "jsonl")) {
		s->fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (s->fd < 0 || fstat(s->fd, &st) != 0) {
			sink_failed(s, "cannot open", errno);
			sink_close(s);
			return -1;
		}
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(s->path) >= sizeof(sa.sun_path)) {
		sink_failed(s, "socket path too long:", ENAMETOOLONG);
		return -1;
	}
	memcpy(sa.sun_path, s->path, strlen(s->path));
	if ((s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		sink_failed(s, "cannot connect to", errno);
		sink_close(s);
		return -1;
	}
	return 0;
}

/* Closes the file, durable first: when it cannot be synced, what followed
 * the stored cursor is written again (to the next file). */
static void
jsonl_retire(struct sink *s)
{
	if (s->fd < 0)
		return;
	if (s->cursor != s->saved && fdatasync(s->fd) != 0) {
		log_error("siem: cannot sync %s: %s; writing again from event %"
		    PRIu64, s->path, strerror(errno), s->saved + 1);
		s->cursor = s->saved;
	}
	sink_close(s);
}

/* The file was moved or removed (rotated): the next line goes to a new
 * one at the configured path.  What was written before stays in the
 * moved file. */
static void
jsonl_check_rotation(struct sink *s)
{
	struct stat st;

	if (s->fd < 0)
		return;
	if (stat(s->path, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino)
		jsonl_retire(s);
}

/* Appends one line; a partial line (disk full) is cut off again. */
static int
jsonl_write(struct sink *s, const char *text, size_t len)
{
	struct iovec iov[2] = {
		{ (void *)text, len },
		{ (void *)"\n", 1 },
	};
	struct stat st;
	size_t want = len + 1, done = 0;
	ssize_t n;

	if (fstat(s->fd, &st) != 0) {
		sink_failed(s, "cannot write", errno);
		return -1;
	}
	while (done < want) {
		n = writev(s->fd, iov, 2);
		if (n < 0 && errno == EINTR && !stopping)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : ENOSPC;

			if (done > 0 && ftruncate(s->fd, st.st_size) != 0)
				log_error("siem: cannot cut a partial line off %s: %s",
				    s->path, strerror(errno));
			sink_failed(s, "cannot write", e);
			return -1;
		}
		done += (size_t)n;
		/* the rest of a short write */
		for (int i = 0; i < 2 && n > 0; i++) {
			size_t take = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;

			iov[i].iov_base = (char *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			n -= (ssize_t)take;
		}
	}
	return 0;
}

/* The RFC 5424 header fields must be 1..max printable US-ASCII. */
static const char *
header_field(const char *v, size_t max)
{
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || n > max)
		return "-";
	for (size_t i = 0; i < n; i++)
		if (v[i] <= ' ' || v[i] >= 127)
			return "-";
	return v;
}

/* Decodes one UTF-8 sequence at p (n bytes left): its code point and
 * length, U+FFFD for a malformed byte. */
static unsigned
utf8_next(const unsigned char *p, size_t n, size_t *used)
{
	unsigned c = p[0], need, cp;

	need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
	if (c >= 0xf8 || need == 0 || need >= n) {
		*used = 1;
		return 0xfffd;
	}
	cp = c & (0x3f >> need);
	for (unsigned i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*used = 1;
			return 0xfffd;
		}
		cp = cp << 6 | (p[i] & 0x3f);
	}
	*used = need + 1;
	return cp > 0x10ffff ? 0xfffd : cp;
}

int
siem_syslog_message(const char *text, size_t len, int facility,
                    const char *host, const char *app, long pid,
                    char **buf, size_t *cap, size_t *out)
{
	const unsigned char *p = (const unsigned char *)text;
	json_error_t jerr;
	json_t *event;
	size_t want = 6 * len + 512, used;
	int64_t at_ms;
	const char *at, *type;
	char *b;
	int n;

	if (*cap < want) {
		if ((b = realloc(*buf, want)) == NULL)
			return -1;
		*buf = b;
		*cap = want;
	}
	/* TIMESTAMP and MSGID from the event; NILVALUE when it has none */
	event = json_loadb(text, len, 0, &jerr);
	at = json_string_value(json_object_get(event, "at"));
	type = json_string_value(json_object_get(event, "type"));
	if (at == NULL || clock_parse(at, &at_ms) != 0)
		at = NULL;
	n = snprintf(*buf, *cap, "<%d>1 %s %s %s %ld %s - ",
	    facility * 8 + SEVERITY_NOTICE, header_field(at, 32),
	    header_field(host, 255), header_field(app, 48), pid,
	    header_field(type, 32));
	json_decref(event);
	if (n < 0 || (size_t)n >= *cap)
		return -1;
	b = *buf + n;
	/* MSG: the stored text, every non-ASCII character as \uXXXX (only
	 * strings hold any), a surrogate pair beyond U+FFFF: at most 6 bytes
	 * for each byte (a malformed one is U+FFFD) */
	for (size_t i = 0; i < len; i += used) {
		unsigned cp;

		if (p[i] < 0x80) {
			*b++ = (char)p[i];
			used = 1;
			continue;
		}
		cp = utf8_next(p + i, len - i, &used);
		if (cp > 0xffff) {
			cp -= 0x10000;
			b += sprintf(b, "\\u%04X\\u%04X", 0xd800 + (cp >> 10),
			    0xdc00 + (cp & 0x3ff));
		} else
			b += sprintf(b, "\\u%04X", cp);
	}
	*b = '\0';
	*out = (size_t)(b - *buf);
	return 0;
}

/* One datagram per event; a datagram the socket can never take is
 * skipped (logged: the JSON-lines file still has it). */
static int
syslog_send(struct sink *s, const char *text, size_t len, char **buf,
            size_t *cap)
{
	size_t mlen;
	ssize_t n;

	if (siem_syslog_message(text, len, s->facility, s->host, s->app,
	    (long)getpid(), buf, cap, &mlen) != 0) {
		sink_failed(s, "out of memory for", ENOMEM);
		return -1;
	}
	while ((n = send(s->fd, *buf, mlen, MSG_NOSIGNAL)) < 0 && errno == EINTR &&
	    !stopping)
		;
	if (n < 0 && errno == EMSGSIZE) {
		log_error("siem: syslog sink: event %" PRIu64 " (%zu bytes) is too "
		    "large for %s: skipped", s->cursor + 1, mlen, s->path);
		return 0;
	}
	if (n < 0) {
		/* the logger restarted (refused, gone) or is full: again later */
		sink_failed(s, "cannot send to", errno);
		sink_close(s);
		return -1;
	}
	return 0;
}

struct pass {
	char *text, *msg;         /* reused buffers */
	size_t text_cap, msg_cap;
	unsigned handed;          /* events handed on in this pass */
	int db_error;             /* the trail could not be read */
};

/* Hands the events after the sink's cursor on, up to BATCH of them. */
static void
sink_pass(struct sink *s, struct pass *ps)
{
	int is_file = !strcmp(s->name, "jsonl");

	if (s->retry_at != 0 && clock_now_ms() < s->retry_at)
		return;
	if (is_file)
		jsonl_check_rotation(s);
	if (s->fd < 0 && sink_open(s) != 0)
		return;
	for (unsigned i = 0; i < BATCH && !stopping; i++) {
		size_t len;
		int rc = audit_get_text(s->cursor + 1, &ps->text, &ps->text_cap, &len);

		if (rc == DB_NOTFOUND)
			break;            /* caught up */
		if (rc != 0) {
			/* a writer's lock, a recovery: the next pass reads again */
			ps->db_error = rc;
			break;
		}
		if (is_file ? jsonl_write(s, ps->text, len) != 0 :
		    syslog_send(s, ps->text, len, &ps->msg, &ps->msg_cap) != 0)
			return;
		s->cursor++;
		ps->handed++;
	}
	if (s->failing)
		log_notice("siem: %s sink: delivering again (at event %" PRIu64 ")",
		    s->name, s->cursor);
	s->failing = 0;
	s->retry_at = 0;
}

static void
cursor_key(const struct sink *s, char *key, size_t len)
{
	snprintf(key, len, "siem.%s", s->name);
}

static int
load_cursor(struct sink *s)
{
	char key[32];
	json_t *v;
	int rc;

	cursor_key(s, key, sizeof(key));
	rc = store_get_json(NULL, T_CURSORS, key, &v, 0);
	if (rc == DB_NOTFOUND)        /* kept in T_META before T_CURSORS */
		rc = store_get_json(NULL, T_META, key, &v, 0);
	if (rc == DB_NOTFOUND) {
		s->cursor = s->saved = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	s->cursor = s->saved = (uint64_t)json_integer_value(json_object_get(v, "seq"));
	json_decref(v);
	return 0;
}

struct save_job {
	struct sink *sinks;
	int count;
};

static int
save_txn(DB_TXN *txn, void *arg)
{
	struct save_job *job = arg;
	char key[32], now[CLOCK_TEXT_SIZE];
	int rc = 0;

	clock_format(clock_now_ms(), now);
	for (int i = 0; i < job->count && rc == 0; i++) {
		struct sink *s = &job->sinks[i];
		json_t *v;

		if (s->cursor == s->saved)
			continue;
		cursor_key(s, key, sizeof(key));
		if ((v = json_pack("{s:I, s:s}", "seq", (json_int_t)s->cursor,
		    "saved_at", now)) == NULL)
			return ENOMEM;
		rc = store_put_json(txn, T_CURSORS, key, v, 0);
		json_decref(v);
	}
	return rc;
}

/* Stores the cursors that moved, once what they cover is durable (a
 * cursor lost in a crash sends its events again: at least once). */
static int
save_cursors(struct sink *sinks, int count)
{
	struct save_job job = { sinks, count };
	int rc, dirty = 0;

	for (int i = 0; i < count; i++) {
		struct sink *s = &sinks[i];

		if (s->cursor == s->saved)
			continue;
		if (!strcmp(s->name, "jsonl") && s->fd >= 0 && fdatasync(s->fd) != 0) {
			/* not durable: keep the stored cursor, write again */
			sink_failed(s, "cannot sync", errno);
			sink_close(s);
			s->cursor = s->saved;
			continue;
		}
		dirty = 1;
	}
	if (!dirty)
		return 0;
	/* lazy: a cursor lost in a crash only sends its events again */
	if ((rc = store_run_lazy(save_txn, &job)) != 0) {
		log_error("siem: cannot save the cursors: %s", db_strerror(rc));
		return rc;
	}
	for (int i = 0; i < count; i++)
		sinks[i].saved = sinks[i].cursor;
	return 0;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* One siem per data directory: two would write every line twice. */
static int
lock_instance(const char *data_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/siem.lock", data_dir) >=
	    sizeof(path)) {
		snprintf(err, errlen, "data directory path is too long");
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, errno == EWOULDBLOCK ?
		    "another andonctl siem runs on %s" : "cannot lock %s",
		    data_dir);
		close(fd);
		return -1;
	}
	return fd;                /* held until exit */
}

static void
host_name(char *out, size_t len)
{
	if (gethostname(out, len) != 0)
		out[0] = '\0';
	out[len - 1] = '\0';
}

/* Between passes: until an event is appended, a failed sink is due, a
 * cursor is due to be saved, a SIGHUP, or an idle pass. */
static void
wait_for_work(uint64_t seen, const struct sink *sinks, int count,
              int64_t last_save)
{
	int64_t start = clock_now_ms();

	while (!stopping && !reopen_files) {
		uint64_t g = generation_read(GEN_AUDIT);
		int64_t now = clock_now_ms();

		if (g == GENERATION_UNKNOWN) {
			/* no counter: a pass every poll */
			sleep_ms(WAKE_POLL_MS);
			return;
		}
		if (g != seen || now - start >= IDLE_PASS_MS)
			return;
		for (int i = 0; i < count; i++) {
			if (sinks[i].retry_at != 0 && now >= sinks[i].retry_at)
				return;
			if (sinks[i].cursor != sinks[i].saved && now - last_save >= SAVE_MS)
				return;
		}
		sleep_ms(WAKE_POLL_MS);
	}
}

int
siem_run(const struct conf *conf, int once, char *err, size_t errlen)
{
	struct sink sinks[2];
	struct pass ps;
	struct sigaction sa;
	char host[256];
	int64_t last_save;
	int count = 0, lock_fd, rc = 0;

	memset(sinks, 0, sizeof(sinks));
	host_name(host, sizeof(host));
	if (conf->audit_syslog) {
		if (conf->audit_syslog_socket[0] == '\0') {
			snprintf(err, errlen, "audit_syslog_socket is empty");
			return -1;
		}
		sinks[count].name = "syslog";
		sinks[count].path = conf->audit_syslog_socket;
		sinks[count].facility = conf->audit_syslog_facility;
		sinks[count].app = conf->audit_syslog_ident;
		sinks[count].host = host;
		count++;
	}
	if (conf->audit_jsonl[0] != '\0') {
		sinks[count].name = "jsonl";
		sinks[count].path = conf->audit_jsonl;
		count++;
	}
	if (count == 0) {
		log_notice("siem: no sink is configured (audit_syslog, audit_jsonl): "
		    "nothing to do");
		return 0;
	}
	if ((lock_fd = lock_instance(conf->data_dir, err, errlen)) < 0)
		return -1;
	for (int i = 0; i < count; i++) {
		sinks[i].fd = -1;
		if ((rc = load_cursor(&sinks[i])) != 0) {
			snprintf(err, errlen, "cannot read the %s sink's cursor: %s",
			    sinks[i].name, db_strerror(rc));
			close(lock_fd);
			return -1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;          /* no SA_RESTART: a blocked send ends */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&ps, 0, sizeof(ps));
	last_save = clock_now_ms();
	while (!stopping) {
		uint64_t seen;
		int failed = 0;

		if (envlock_recovery_requested()) {
			log_notice("siem: a forced recovery was asked for: reopening");
			store_close();
			if (store_open(conf->data_dir, conf->db_cache_mb, err, errlen) != 0) {
				rc = -1;
				break;
			}
		}
		if (reopen_files) {
			reopen_files = 0;
			for (int i = 0; i < count; i++)
				if (!strcmp(sinks[i].name, "jsonl"))
					jsonl_retire(&sinks[i]);
		}
		seen = generation_read(GEN_AUDIT);
		ps.handed = 0;
		ps.db_error = 0;
		for (int i = 0; i < count; i++) {
			sink_pass(&sinks[i], &ps);
			failed |= sinks[i].retry_at != 0;
		}
		if (ps.db_error == DB_RUNRECOVERY && store_reopen() != 0) {
			snprintf(err, errlen, "the database needs recovery and could "
			    "not be reopened");
			rc = -1;
			break;
		}
		if (clock_now_ms() - last_save >= SAVE_MS || ps.handed == 0 || once) {
			save_cursors(sinks, count);
			last_save = clock_now_ms();
		}
		store_maintain(conf->checkpoint_kbytes, conf->checkpoint_minutes);
		if (once && (failed || (ps.handed == 0 && ps.db_error == 0) ||
		    (ps.db_error != 0 && !store_retryable(ps.db_error)))) {
			if (ps.db_error != 0 && !store_retryable(ps.db_error)) {
				snprintf(err, errlen, "cannot read the audit trail: %s",
				    db_strerror(ps.db_error));
				rc = -1;
			}
			for (int i = 0; i < count; i++)
				if (sinks[i].retry_at != 0) {
					snprintf(err, errlen, "%s sink: %s", sinks[i].name,
					    sinks[i].why);
					rc = -1;
				}
			break;
		}
		if (ps.handed > 0)
			continue;         /* more may wait behind the batch */
		if (ps.db_error != 0) {
			/* a writer's lock held too long: read again shortly */
			log_error("siem: cannot read the audit trail: %s",
			    db_strerror(ps.db_error));
			sleep_ms(10 * WAKE_POLL_MS);
			continue;
		}
		wait_for_work(seen, sinks, count, last_save);
	}
	if (save_cursors(sinks, count) != 0 && rc == 0) {
		snprintf(err, errlen, "cannot save the cursors");
		rc = -1;
	}
	for (int i = 0; i < count; i++)
		sink_close(&sinks[i]);
	free(ps.text);
	free(ps.msg);
	close(lock_fd);
	return rc;
}
