/* localstop.c - kills kept on a site while no master can be elected
 * (localstop.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <db.h>
#include <jansson.h>

#include "clock.h"
#include "encode.h"
#include "idempotency.h"
#include "ids.h"
#include "killswitch.h"
#include "localstop.h"
#include "response.h"
#include "store.h"

#define STOPS_DIR "stops"

static int
stops_path(char *out, size_t len, const char *data_dir, const char *name)
{
	int n = name ? snprintf(out, len, "%s/" STOPS_DIR "/%s", data_dir, name)
	    : snprintf(out, len, "%s/" STOPS_DIR, data_dir);

	return n < 0 || (size_t)n >= len ? ENAMETOOLONG : 0;
}

/* Writes text into dir/name: aside, flushed, renamed, the directory
 * flushed: once this returns 0 the file survives a crash. */
static int
write_durably(const char *dir, const char *name, const char *text)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	size_t len = strlen(text);
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= sizeof(tmp) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return ENAMETOOLONG;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660)) < 0)
		return errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
		rc = errno ? errno : EIO;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = errno;
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno;
	rc = fsync(fd) != 0 ? errno : 0;
	close(fd);
	return rc;
}

/* Whether rec is a kept kill: its members, and an id fit for a file name. */
static int
is_record(const json_t *rec)
{
	const char *id = json_string_value(json_object_get(rec, "id"));

	if (id == NULL || strncmp(id, "lks_", 4) != 0 || strlen(id) != 4 + 32 ||
	    strspn(id + 4, "0123456789abcdef") != 32)
		return 0;
	return json_is_string(json_object_get(rec, "organization_id")) &&
	    json_is_string(json_object_get(rec, "key_id")) &&
	    json_is_string(json_object_get(rec, "target_type")) &&
	    json_is_string(json_object_get(rec, "target_id"));
}

int
localstop_keep(const char *data_dir, const json_t *rec)
{
	char dir[PATH_MAX], name[48], *text;
	int rc;

	if (!is_record(rec))
		return EINVAL;
	if ((rc = stops_path(dir, sizeof(dir), data_dir, NULL)) != 0)
		return rc;
	if (mkdir(dir, 0770) != 0 && errno != EEXIST)
		return errno;
	if ((text = json_dumps(rec, JSON_COMPACT)) == NULL)
		return ENOMEM;
	snprintf(name, sizeof(name), "%s.json",
	    json_string_value(json_object_get(rec, "id")));
	rc = write_durably(dir, name, text);
	free(text);
	return rc;
}

int
localstop_add(const char *data_dir, const struct principal *who,
              const char *type, const char *target, const char *reason,
              const char *idem_key, const char *fingerprint, json_t **record)
{
	char id[40], now[CLOCK_TEXT_SIZE];
	json_t *rec;
	int rc;

	*record = NULL;
	id_random_hex(id, sizeof(id), "lks_", 16);
	clock_format(clock_now_ms(), now);
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s}",
	    "id", id, "organization_id", who->tenant, "key_id", who->key_id,
	    "target_type", type, "target_id", target,
	    "reason", json_str_or_null(reason),
	    "idempotency_key", json_str_or_null(idem_key),
	    "fingerprint", json_str_or_null(fingerprint),
	    "killed_at", now, "status", "pending");
	if (rec == NULL)
		return ENOMEM;
	if ((rc = localstop_keep(data_dir, rec)) != 0) {
		json_decref(rec);
		return rc;
	}
	*record = rec;
	return 0;
}

/* A kept kill's file, or NULL (unreadable, not one). */
static json_t *
load(const char *dir, const char *name)
{
	char path[PATH_MAX];
	json_t *rec;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (rec = json_load_file(path, 0, NULL)) == NULL)
		return NULL;
	if (!is_record(rec)) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

static int
is_record_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

/* Whether rec has each member of want (name, value pairs) as that string. */
static int
matches(const json_t *rec, const char *const want[][2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = json_string_value(json_object_get(rec, want[i][0]));

		if (v == NULL || strcmp(v, want[i][1]) != 0)
			return 0;
	}
	return 1;
}

/*
 * Every check on a replicated site asks whether a kill is kept for its
 * targets, and nearly always none is.  So that the answer costs one
 * stat() rather than reading the directory, the process remembers the
 * directory as it was when it last found no kept kill in it: while its
 * inode and modification time are the same, it still holds none.  A
 * modification time is only trusted once it is a second old (the kernel
 * stamps it from a clock that ticks every few milliseconds, so a file
 * added in the same tick as our read would leave it unchanged).
 */
static struct {
	int valid;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
} seen_empty;

static int
same_as_seen_empty(const struct stat *st)
{
	return seen_empty.valid && st->st_dev == seen_empty.dev &&
	    st->st_ino == seen_empty.ino &&
	    st->st_mtim.tv_sec == seen_empty.mtime.tv_sec &&
	    st->st_mtim.tv_nsec == seen_empty.mtime.tv_nsec;
}

static void
remember_empty(const struct stat *st)
{
	struct timespec now;

	seen_empty.valid = 0;
	if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    now.tv_sec - st->st_mtim.tv_sec < 2)
		return;
	seen_empty.valid = 1;
	seen_empty.dev = st->st_dev;
	seen_empty.ino = st->st_ino;
	seen_empty.mtime = st->st_mtim;
}

/* scan()'s answer when no kill is kept at all. */
static int
none_kept(int first, json_t **out)
{
	if (first)
		return DB_NOTFOUND;
	return (*out = json_array()) != NULL ? 0 : ENOMEM;
}

/* Every kept kill matching want into *out (an array), or with first the
 * first one only (*out a record, DB_NOTFOUND when none). */
static int
scan(const char *data_dir, const char *const want[][2], size_t n, int first,
     json_t **out)
{
	char dir[PATH_MAX];
	struct dirent *ent;
	struct stat st;
	json_t *all = NULL, *rec;
	size_t kept = 0;
	DIR *d;
	int rc;

	*out = NULL;
	if ((rc = stops_path(dir, sizeof(dir), data_dir, NULL)) != 0)
		return rc;
	if (stat(dir, &st) != 0)
		return errno == ENOENT ? none_kept(first, out) : errno;
	if (first && same_as_seen_empty(&st))
		return DB_NOTFOUND;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? none_kept(first, out) : errno;
	if (!first && (all = json_array()) == NULL) {
		closedir(d);
		return ENOMEM;
	}
	while ((ent = readdir(d)) != NULL) {
		if (!is_record_name(ent->d_name))
			continue;
		kept++;
		if ((rec = load(dir, ent->d_name)) == NULL)
			continue;
		if (!matches(rec, want, n)) {
			json_decref(rec);
		} else if (first) {
			closedir(d);
			*out = rec;
			return 0;
		} else {
			json_array_append_new(all, rec);
		}
	}
	closedir(d);
	if (kept == 0)
		remember_empty(&st);
	if (first)
		return DB_NOTFOUND;
	*out = all;
	return 0;
}

int
localstop_find(const char *data_dir, const char *tenant, const char *type,
               const char *target, json_t **record)
{
	const char *const want[][2] = { { "organization_id", tenant },
	    { "target_type", type }, { "target_id", target } };

	return scan(data_dir, want, 3, 1, record);
}

int
localstop_find_replay(const char *data_dir, const char *key_id,
                      const char *idem_key, json_t **record)
{
	const char *const want[][2] = { { "key_id", key_id },
	    { "idempotency_key", idem_key } };

	return scan(data_dir, want, 2, 1, record);
}

static int
by_time(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "killed_at"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "killed_at"));

	return strcmp(x ? x : "", y ? y : "");
}

int
localstop_list(const char *data_dir, json_t **records)
{
	json_t *all, **items, *sorted;
	size_t n, i;
	int rc;

	*records = NULL;
	if ((rc = scan(data_dir, NULL, 0, 0, &all)) != 0)
		return rc;
	n = json_array_size(all);
	if (n < 2) {
		*records = all;
		return 0;
	}
	if ((items = calloc(n, sizeof(*items))) == NULL ||
	    (sorted = json_array()) == NULL) {
		free(items);
		json_decref(all);
		return ENOMEM;
	}
	for (i = 0; i < n; i++)
		items[i] = json_array_get(all, i);
	qsort(items, n, sizeof(*items), by_time);
	for (i = 0; i < n; i++)
		json_array_append(sorted, items[i]);
	free(items);
	json_decref(all);
	*records = sorted;
	return 0;
}

int
localstop_remove(const char *data_dir, const char *id)
{
	char dir[PATH_MAX], name[64], path[PATH_MAX];
	int rc, fd;

	if (strchr(id, '/') != NULL || id[0] == '.' ||
	    (size_t)snprintf(name, sizeof(name), "%s.json", id) >= sizeof(name))
		return EINVAL;
	if ((rc = stops_path(dir, sizeof(dir), data_dir, NULL)) != 0 ||
	    (rc = stops_path(path, sizeof(path), data_dir, name)) != 0)
		return rc;
	if (unlink(path) != 0)
		return errno == ENOENT ? 0 : errno;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* The member name of rec as a string, or "". */
static const char *
text_of(const json_t *rec, const char *name)
{
	const char *v = json_string_value(json_object_get(rec, name));

	return v ? v : "";
}

int
localstop_apply(const json_t *rec)
{
	struct principal who;
	struct response resp;
	struct problem p;
	enum idem_result seen = IDEM_NEW;
	const char *idem = json_string_value(json_object_get(rec, "idempotency_key"));
	const char *fp = json_string_value(json_object_get(rec, "fingerprint"));
	json_t *killed = NULL;
	DB_TXN *txn = NULL;
	int rc;

	memset(&who, 0, sizeof(who));
	snprintf(who.tenant, sizeof(who.tenant), "%s", text_of(rec, "organization_id"));
	snprintf(who.key_id, sizeof(who.key_id), "%s", text_of(rec, "key_id"));
	/* without an Idempotency-Key of its own, the kept kill's id is one:
	 * handed over twice (an answer lost), it is killed once */
	if (idem == NULL || fp == NULL) {
		idem = text_of(rec, "id");
		fp = idem;
	}
	response_init(&resp);
	if ((rc = store_begin_write(&txn)) != 0)
		goto out;
	if ((rc = idem_lookup(txn, who.key_id, idem, fp, &resp, &seen)) != 0)
		goto out;
	if (seen != IDEM_NEW)
		goto out;     /* the master has it (or another use of the key) */
	rc = killswitch_kill(txn, &who, text_of(rec, "target_type"),
	    text_of(rec, "target_id"),
	    json_string_value(json_object_get(rec, "reason")), &killed, &p);
	if (rc == -1) {
		/* already killed (or refused: nothing to hand over again) */
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	response_json(&resp, 201, killed);
	if ((rc = idem_store(txn, who.key_id, idem, fp, &resp, 0)) == 0) {
		rc = store_commit(txn);
		txn = NULL;
	}
out:
	if (txn != NULL)
		store_abort(txn);
	response_reset(&resp);
	return rc;
}
