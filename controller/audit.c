/* audit — the audit log's queue and writer; see audit.h. */
#include "audit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_buf.h"
#include "ff_db.h"
#include "ff_json.h"
#include "ff_log.h"
#include "ff_util.h"

#define PRUNE_EVERY_MS (3600 * 1000)

struct audit {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	char *database_url;
	long keep_days;
	/* under lock */
	struct audit_entry *queue;
	size_t n, cap;
	unsigned long dropped;
};

void audit_record(struct audit *a, const struct audit_entry *e)
{
	pthread_mutex_lock(&a->lock);
	if (a->n == a->cap && a->cap < AUDIT_QUEUE_MAX) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		if (cap > AUDIT_QUEUE_MAX)
			cap = AUDIT_QUEUE_MAX;
		struct audit_entry *q = realloc(a->queue, cap * sizeof(*q));
		if (q) {
			a->queue = q;
			a->cap = cap;
		}
	}
	if (a->n < a->cap)
		a->queue[a->n++] = *e;
	else
		a->dropped++;
	if (a->n == AUDIT_BATCH)
		pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

static int append_str(struct ff_buf *b, const char *key, const char *v)
{
	int rc = ff_buf_append(b, key, strlen(key));
	if (rc == 0)
		rc = v && *v ? ff_json_append_string(b, v, strlen(v)) : ff_buf_append(b, "null", 4);
	return rc;
}

/* The entries as a JSON array of audit_log rows, for json_populate_recordset. */
static int batch_json(const struct audit_entry *e, size_t n, struct ff_buf *b)
{
	int rc = ff_buf_append(b, "[", 1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char at[40], nums[160];
		time_t secs = (time_t)(e[i].at_us / 1000000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		size_t off = strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(at + off, sizeof(at) - off, ".%06lldZ", (long long)(e[i].at_us % 1000000));
		int len = snprintf(nums, sizeof(nums),
				   ",\"status\":%d,\"bytes_in\":%llu,\"bytes_out\":%llu,"
				   "\"duration_ms\":%.3f}",
				   e[i].status, (unsigned long long)e[i].bytes_in,
				   (unsigned long long)e[i].bytes_out, e[i].duration_ms);
		if ((rc = ff_buf_append(b, i ? ",{" : "{", i ? 2 : 1)) == 0 &&
		    (rc = append_str(b, "\"at\":", at)) == 0 &&
		    (rc = append_str(b, ",\"key_id\":", e[i].key_id)) == 0 &&
		    (rc = append_str(b, ",\"method\":", e[i].method)) == 0 &&
		    (rc = append_str(b, ",\"route\":", e[i].route)) == 0 &&
		    (rc = append_str(b, ",\"request_id\":", e[i].request_id)) == 0 &&
		    (rc = append_str(b, ",\"client\":", e[i].client)) == 0)
			rc = ff_buf_append(b, nums, (size_t)len);
	}
	return rc ? rc : ff_buf_append(b, "]", 1);
}

static int write_batch(struct ff_db *db, const struct audit_entry *e, size_t n, struct ff_err *err)
{
	struct ff_buf b;
	ff_buf_init(&b, SIZE_MAX);
	int rc = batch_json(e, n, &b);
	if (rc < 0) {
		ff_buf_release(&b);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	const char *p[] = {ff_buf_str(&b)};
	rc = ff_db_exec(db,
			"INSERT INTO audit_log (at, key_id, method, route, status, request_id, "
			"bytes_in, bytes_out, duration_ms, client) SELECT at, key_id, method, "
			"route, status, request_id, bytes_in, bytes_out, duration_ms, client "
			"FROM json_populate_recordset(NULL::audit_log, $1::json)",
			1, p, err);
	ff_buf_release(&b);
	return rc;
}

static void prune(struct audit *a, struct ff_db *db)
{
	struct ff_err err;
	char days[24];
	snprintf(days, sizeof(days), "%ld", a->keep_days);
	const char *p[] = {days};
	if (ff_db_exec(db, "DELETE FROM audit_log WHERE at < now() - $1::int * interval '1 day'", 1,
		       p, &err) < 0)
		ff_warn("audit log not pruned: %s", err.msg);
}

/* Takes the queue (the loop starts a new one) and writes it. What the database could not
 * take (it is away) goes back in front of what came meanwhile, within AUDIT_QUEUE_MAX. */
static void flush(struct audit *a, struct ff_db *db)
{
	struct ff_err err;
	pthread_mutex_lock(&a->lock);
	struct audit_entry *q = a->queue;
	size_t n = a->n;
	unsigned long dropped = a->dropped;
	a->queue = NULL;
	a->n = a->cap = 0;
	a->dropped = 0;
	pthread_mutex_unlock(&a->lock);
	if (dropped)
		ff_warn("%lu audit entries dropped: the queue was full (PostgreSQL away?)",
			dropped);
	size_t done = 0;
	while (done < n) {
		size_t k = n - done < AUDIT_BATCH ? n - done : AUDIT_BATCH;
		if (write_batch(db, q + done, k, &err) < 0) {
			ff_warn("%zu audit entries not written yet: %s", n - done, err.msg);
			break;
		}
		done += k;
	}
	n -= done;
	pthread_mutex_lock(&a->lock);
	size_t newer = a->n < AUDIT_QUEUE_MAX - n ? a->n : AUDIT_QUEUE_MAX - n;
	if (n)
		memmove(q, q + done, n * sizeof(*q));
	struct audit_entry *m = n ? realloc(q, (n + newer) * sizeof(*q)) : NULL;
	if (m) {
		if (newer)
			memcpy(m + n, a->queue, newer * sizeof(*m));
		a->dropped += a->n - newer;
		free(a->queue);
		a->queue = m;
		a->n = a->cap = n + newer;
	} else {
		a->dropped += n;
		free(q);
	}
	pthread_mutex_unlock(&a->lock);
}

static void *audit_main(void *arg)
{
	struct audit *a = arg;
	struct ff_db *db = NULL;
	struct ff_err err;
	ff_db_connect(a->database_url, &db, &err); /* a server down now: retried on use */
	int64_t next_prune_ms = 0; /* at once, then hourly (the clock counts from boot) */
	pthread_mutex_lock(&a->lock);
	for (;;) {
		bool stopping = a->stopping;
		pthread_mutex_unlock(&a->lock);
		flush(a, db);
		if (ff_now_ms() >= next_prune_ms) {
			prune(a, db);
			next_prune_ms = ff_now_ms() + PRUNE_EVERY_MS;
		}
		pthread_mutex_lock(&a->lock);
		if (stopping)
			break;
		struct timespec until;
		ff_deadline_in(&until, AUDIT_EVERY_MS);
		if (!a->stopping && a->n < AUDIT_BATCH)
			pthread_cond_timedwait(&a->wake, &a->lock, &until);
	}
	pthread_mutex_unlock(&a->lock);
	ff_db_free(db);
	return NULL;
}

int audit_start(const char *database_url, long keep_days, struct audit **out, struct ff_err *err)
{
	struct audit *a = calloc(1, sizeof(*a));
	if (!a || !(a->database_url = strdup(database_url))) {
		free(a);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	a->keep_days = keep_days;
	if (pthread_create(&a->thread, NULL, audit_main, a) != 0) {
		free(a->database_url);
		free(a);
		return ff_err_set(err, FF_EINTERNAL, "cannot start the audit thread");
	}
	*out = a;
	return 0;
}

void audit_stop(struct audit *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	free(a->queue);
	free(a->database_url);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->wake);
	free(a);
}
