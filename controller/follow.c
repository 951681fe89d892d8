/* follow — live logs and events for many followers from one database thread; see follow.h.
 *
 * A follower is made by its request's handler, listed once the loop has written the stream's
 * head (on_open) and freed only by the loop (sweep). The thread takes a copy of each
 * follower's cursors under mu, queries without the lock, and appends what it found to the
 * follower's pending buffer under mu again, finding it by id: it never keeps a pointer
 * across an unlock. The loop moves pending buffers to their streams (on_wake). */
#include "follow.h"

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include "api.h"
#include "app.h"
#include "ff_db.h"
#include "ff_log.h"
#include "ff_run_state.h"
#include "ff_util.h"

#define EVENTS_PER_QUERY 500

struct follower {
	uint64_t id;
	enum follow_kind kind;
	char run_id[FF_UUID_LEN + 1];
	struct follow *f;
	struct http_stream *st; /* the loop's: set by on_open, NULL once gone */
	bool listed;		/* the loop's: on f->list */
	/* Under f->mu. */
	bool gone;		  /* the client left: the loop frees it */
	bool ended;		  /* the run ended: pending holds the last of it */
	struct evbuffer *pending; /* found by the thread, to be sent by the loop */
	int attempt;		  /* logs: the attempt whose output was sent up to log_at */
	long long log_at;
	long long event_id; /* events: the last one sent */
	char *progress;	    /* events: the progress last sent, as its JSON */
	int64_t sent_ms;    /* when the thread last found something to send */
	TAILQ_ENTRY(follower) link;
};

struct follow {
	struct ff_db *db;
	struct event *wake;
	int max;
	atomic_int count; /* followers made and not freed, listed or not */
	atomic_ullong next_id;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	TAILQ_HEAD(, follower) list;
	char terminal[128]; /* the terminal states as a text[] literal */
	bool failing;	    /* the follow thread's: its reads fail (said once, not each tick) */
};

static void follower_free(struct follower *fl)
{
	atomic_fetch_sub(&fl->f->count, 1);
	evbuffer_free(fl->pending);
	free(fl->progress);
	free(fl);
}

/* ---- the loop's side ---- */

static void on_open(void *arg, struct http_stream *st)
{
	struct follower *fl = arg;
	struct follow *f = fl->f;
	fl->st = st;
	fl->listed = true;
	pthread_mutex_lock(&f->mu);
	TAILQ_INSERT_TAIL(&f->list, fl, link);
	pthread_cond_signal(&f->cv); /* its backlog now, not at the next tick */
	pthread_mutex_unlock(&f->mu);
}

static void on_gone(void *arg)
{
	struct follower *fl = arg;
	if (!fl->listed) { /* its head was never written */
		follower_free(fl);
		return;
	}
	fl->st = NULL;
	pthread_mutex_lock(&fl->f->mu);
	fl->gone = true;
	pthread_mutex_unlock(&fl->f->mu);
	event_active(fl->f->wake, EV_READ, 0); /* to be swept */
}

static const struct http_stream_ops stream_ops = {on_open, on_gone};

/* Sends what the thread found; ends the streams whose run ended; frees the gone. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct follow *f = arg;
	(void)fd, (void)what;
	struct evbuffer *out = evbuffer_new();
	struct follower *fl, *next;
	/* Only the loop inserts and removes: walking the list needs no lock. */
	for (fl = TAILQ_FIRST(&f->list); fl; fl = next) {
		next = TAILQ_NEXT(fl, link);
		pthread_mutex_lock(&f->mu);
		bool ended = fl->ended, gone = fl->gone;
		if (out && !gone)
			evbuffer_add_buffer(out, fl->pending);
		pthread_mutex_unlock(&f->mu);
		if (!gone && fl->st && out && http_stream_send(fl->st, out) == 0 && ended) {
			http_stream_end(fl->st);
			fl->st = NULL;
			gone = true;
		}
		if (out)
			evbuffer_drain(out, evbuffer_get_length(out));
		pthread_mutex_lock(&f->mu);
		gone = gone || fl->gone; /* http_stream_send may have cut it */
		if (gone)
			TAILQ_REMOVE(&f->list, fl, link);
		pthread_mutex_unlock(&f->mu);
		if (gone)
			follower_free(fl);
	}
	evbuffer_free(out);
}

/* ---- the thread's side ---- */

/* A copy of what the thread needs of a follower. */
struct cursor {
	uint64_t id;
	enum follow_kind kind;
	char run_id[FF_UUID_LEN + 1];
	int attempt;
	long long log_at, event_id;
	char *progress;
	int64_t sent_ms;
	struct {
		int attempt;
		long long log_at, event_id;
		char *progress;
	} before; /* where it was when the tick began */
	/* what this tick found */
	struct evbuffer *out;
	bool ended;
};

static uint64_t be_uint(const char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

/* The output since the cursor: the pieces of a running attempt, or, once the run ended, its
 * stored log (whole: the pieces are deleted with it), or the pieces it left when none was
 * stored (the attempt was cancelled). A new attempt starts its output from byte 0. */
static int poll_logs(struct follow *f, struct cursor *c, struct ff_err *err)
{
	char attempt[16], at[24];
	snprintf(attempt, sizeof(attempt), "%d", c->attempt);
	snprintf(at, sizeof(at), "%lld", c->log_at);
	const char *p[] = {c->run_id, attempt, at, f->terminal};
	PGresult *res = ff_db_query_bin(
	    f->db,
	    "SELECT r.state = ANY($4::text[]), x.final, x.attempt, x.at, x.data, x.truncated "
	    "FROM runs r LEFT JOIN LATERAL ("
	    " SELECT false AS final, c.attempt, c.at, c.data, false AS truncated "
	    " FROM run_log_chunks c WHERE c.run_id = r.id AND (c.attempt > $2::int OR "
	    " (c.attempt = $2::int AND c.at + length(c.data) > $3::bigint)) "
	    " UNION ALL SELECT true, r.attempt, 0::bigint, rr.logs, rr.logs_truncated "
	    " FROM run_results rr WHERE rr.run_id = r.id AND r.state = ANY($4::text[]) AND "
	    " NOT EXISTS (SELECT 1 FROM run_log_chunks c WHERE c.run_id = r.id AND "
	    " c.attempt = r.attempt)) x ON true "
	    "WHERE r.id = $1::uuid ORDER BY x.final, x.attempt, x.at",
	    4, p, NULL, NULL, 1, err);
	if (!res)
		return err->code;
	int n = PQntuples(res);
	c->ended = n == 0 || *PQgetvalue(res, 0, 0); /* no row: the run was deleted */
	for (int i = 0; i < n; i++) {
		if (PQgetisnull(res, i, 1))
			continue; /* nothing new */
		bool final = *PQgetvalue(res, i, 1);
		int piece_attempt = (int)be_uint(PQgetvalue(res, i, 2), 4);
		long long piece_at = (long long)be_uint(PQgetvalue(res, i, 3), 8);
		const char *data = PQgetvalue(res, i, 4);
		long long len = PQgetlength(res, i, 4);
		if (piece_attempt != c->attempt) {
			c->attempt = piece_attempt;
			c->log_at = 0;
		}
		long long skip = c->log_at > piece_at ? c->log_at - piece_at : 0;
		if (skip < len)
			evbuffer_add(c->out, data + skip, (size_t)(len - skip));
		c->log_at = piece_at + len > c->log_at ? piece_at + len : c->log_at;
		if (final && *PQgetvalue(res, i, 5))
			evbuffer_add(c->out, api_logs_truncated_note,
				     strlen(api_logs_truncated_note));
	}
	PQclear(res);
	return 0;
}

/* One SSE message: its event name, and the row's columns from `first` on as a JSON object
 * (names from the select list; "attempt" and "progress" numbers, NULL as null). */
static void sse(struct evbuffer *out, const char *event, const PGresult *res, int row, int first,
		int n)
{
	cJSON *o = cJSON_CreateObject();
	for (int k = first; k < first + n; k++) {
		const char *name = PQfname(res, k), *v = PQgetvalue(res, row, k);
		if (PQgetisnull(res, row, k))
			cJSON_AddNullToObject(o, name);
		else if (!strcmp(name, "attempt") || !strcmp(name, "progress"))
			cJSON_AddNumberToObject(o, name, strtod(v, NULL));
		else
			cJSON_AddStringToObject(o, name, v);
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text)
		evbuffer_add_printf(out, "event: %s\ndata: %s\n\n", event, text);
	free(text);
}

/* The events after the cursor, then the progress when it changed, then `end` once the run
 * ended: all from one statement, so the end is never sent before the last event. */
static int poll_events(struct follow *f, struct cursor *c, struct ff_err *err)
{
	char after[24], limit[16];
	snprintf(after, sizeof(after), "%lld", c->event_id);
	snprintf(limit, sizeof(limit), "%d", EVENTS_PER_QUERY);
	const char *p[] = {c->run_id, after, f->terminal, limit};
	PGresult *res =
	    ff_db_query(f->db,
			"SELECT r.state, r.state = ANY($3::text[]), r.progress, "
			" r.progress_text AS text, e.id, ff_ts(e.ts) AS ts, e.state, e.attempt, "
			" e.message FROM runs r LEFT JOIN LATERAL (SELECT * FROM run_events e "
			" WHERE e.run_id = r.id AND e.id > $2::bigint ORDER BY e.id "
			" LIMIT $4::int) e ON true WHERE r.id = $1::uuid ORDER BY e.id",
			4, p, err);
	if (!res)
		return err->code;
	int n = PQntuples(res), events = 0;
	for (int i = 0; i < n; i++) {
		if (PQgetisnull(res, i, 4))
			continue;
		c->event_id = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		evbuffer_add_printf(c->out, "id: %lld\n", c->event_id);
		sse(c->out, "state", res, i, 5, 4);
		events++;
	}
	if (n > 0 && !PQgetisnull(res, 0, 3)) { /* a workflow's progress, once it reports one */
		char now[600]; /* a progress line is at most 512 bytes (output.h) */
		snprintf(now, sizeof(now), "%s %s", PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
		if (!c->progress || strcmp(c->progress, now) != 0) {
			free(c->progress);
			c->progress = strdup(now);
			sse(c->out, "progress", res, 0, 2, 2);
		}
	}
	c->ended = n == 0 || (*PQgetvalue(res, 0, 1) == 't' && events < EVENTS_PER_QUERY);
	if (c->ended)
		evbuffer_add_printf(c->out, "event: end\ndata: {\"state\":\"%s\"}\n\n",
				    n ? PQgetvalue(res, 0, 0) : "deleted");
	PQclear(res);
	return 0;
}

/* A cursor before cs[i] in this tick that is where cs[i] is (same run, kind and position),
 * so that what it found is cs[i]'s news too; NULL when none. */
static const struct cursor *same_as_before(const struct cursor *cs, size_t i)
{
	const struct cursor *c = &cs[i];
	for (size_t j = 0; j < i; j++) {
		const struct cursor *b = &cs[j];
		if (b->kind == c->kind && !strcmp(b->run_id, c->run_id) &&
		    b->before.attempt == c->attempt && b->before.log_at == c->log_at &&
		    b->before.event_id == c->event_id && b->out &&
		    ((!b->before.progress && !c->progress) ||
		     (b->before.progress && c->progress &&
		      !strcmp(b->before.progress, c->progress))))
			return b;
	}
	return NULL;
}

static void copy_news(struct cursor *c, const struct cursor *from)
{
	size_t len = evbuffer_get_length(from->out);
	evbuffer_add(c->out, evbuffer_pullup(from->out, (ev_ssize_t)len), len);
	c->attempt = from->attempt;
	c->log_at = from->log_at;
	c->event_id = from->event_id;
	free(c->progress);
	c->progress = from->progress ? strdup(from->progress) : NULL;
	c->ended = from->ended;
}

/* One tick: every follower's news. Returns whether anything was found. */
static bool tick(struct follow *f)
{
	pthread_mutex_lock(&f->mu);
	size_t n = 0, i = 0;
	struct follower *fl;
	TAILQ_FOREACH(fl, &f->list, link)
	n++;
	struct cursor *cs = n ? calloc(n, sizeof(*cs)) : NULL;
	TAILQ_FOREACH(fl, &f->list, link)
	{
		if (!cs || fl->gone || fl->ended)
			continue;
		struct cursor *c = &cs[i++];
		*c = (struct cursor){.id = fl->id,
				     .kind = fl->kind,
				     .attempt = fl->attempt,
				     .log_at = fl->log_at,
				     .event_id = fl->event_id,
				     .progress = fl->progress ? strdup(fl->progress) : NULL,
				     .sent_ms = fl->sent_ms};
		memcpy(c->run_id, fl->run_id, sizeof(c->run_id));
		c->before.attempt = c->attempt;
		c->before.log_at = c->log_at;
		c->before.event_id = c->event_id;
		c->before.progress = fl->progress ? strdup(fl->progress) : NULL;
	}
	pthread_mutex_unlock(&f->mu);
	n = i;

	bool found = false;
	int64_t now = ff_now_ms();
	int failed = 0;
	struct ff_err err;
	for (i = 0; i < n; i++) {
		struct cursor *c = &cs[i];
		if (!(c->out = evbuffer_new()))
			continue;
		const struct cursor *same = same_as_before(cs, i);
		if (same) { /* many followers of one run: one query serves them all */
			copy_news(c, same);
		} else {
			int rc = c->kind == FOLLOW_LOGS ? poll_logs(f, c, &err)
							: poll_events(f, c, &err);
			failed += rc < 0; /* the next tick tries again */
		}
		if (c->kind == FOLLOW_EVENTS && evbuffer_get_length(c->out) == 0 &&
		    now - c->sent_ms > FOLLOW_KEEPALIVE_MS)
			evbuffer_add_printf(c->out,
					    ": keep-alive\n\n"); /* for proxies' idle cuts */
	}
	/* An outage is said when it starts and when it ends, not for every follower each tick. */
	if (failed && !f->failing)
		ff_warn("follow: %d of %zu streams cannot be read (%s); they wait", failed, n,
			err.msg);
	else if (!failed && f->failing)
		ff_info("follow: streams read again");
	f->failing = failed > 0;

	pthread_mutex_lock(&f->mu);
	for (i = 0; i < n; i++) {
		struct cursor *c = &cs[i];
		bool news = c->out && (evbuffer_get_length(c->out) || c->ended);
		TAILQ_FOREACH(fl, &f->list, link)
		{
			if (fl->id != c->id || fl->gone || !news)
				continue;
			evbuffer_add_buffer(fl->pending, c->out);
			fl->attempt = c->attempt;
			fl->log_at = c->log_at;
			fl->event_id = c->event_id;
			free(fl->progress);
			fl->progress = c->progress;
			c->progress = NULL;
			fl->ended = c->ended;
			fl->sent_ms = now;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&f->mu);
	for (i = 0; i < n; i++) {
		if (cs[i].out)
			evbuffer_free(cs[i].out);
		free(cs[i].progress);
		free(cs[i].before.progress);
	}
	free(cs);
	return found;
}

static void *follow_main(void *arg)
{
	struct follow *f = arg;
	pthread_mutex_lock(&f->mu);
	while (!f->stop) {
		if (TAILQ_EMPTY(&f->list)) {
			pthread_cond_wait(&f->cv, &f->mu);
			continue;
		}
		pthread_mutex_unlock(&f->mu);
		if (tick(f))
			event_active(f->wake, EV_READ, 0);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += FOLLOW_TICK_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&f->mu);
		if (!f->stop)
			pthread_cond_timedwait(&f->cv, &f->mu, &until);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* ---- the handlers' side ---- */

int follow_wanted(struct http_req *r)
{
	const char *v = http_query(r, "follow");
	if (!v || !strcmp(v, "0") || !strcasecmp(v, "false"))
		return 0;
	if (!strcmp(v, "1") || !strcasecmp(v, "true"))
		return 1;
	http_reply_fail(r, FF_EVALIDATE, "follow", "follow must be 1 or 0");
	return -1;
}

void follow_reply(struct follow *f, struct http_req *r, enum follow_kind kind)
{
	struct ff_err err;
	if (!api_run_id_ok(r))
		return;
	const char *p[] = {r->params[0]};
	PGresult *res = ff_db_query(r->db, "SELECT 1 FROM runs WHERE id = $1", 1, p, &err);
	if (!res)
		return http_reply_error(r, &err);
	int found = PQntuples(res);
	PQclear(res);
	if (!found)
		return http_reply_fail(r, FF_ENOTFOUND, NULL, "no run %s", r->params[0]);
	if (atomic_fetch_add(&f->count, 1) >= f->max) {
		atomic_fetch_sub(&f->count, 1);
		http_add_header(r, "Retry-After", "5");
		return http_reply_fail(r, FF_EUNAVAIL, NULL,
				       "%d followers already (FF_MAX_FOLLOWERS): try again later",
				       f->max);
	}
	struct follower *fl = calloc(1, sizeof(*fl));
	if (fl && !(fl->pending = evbuffer_new())) {
		free(fl);
		fl = NULL;
	}
	if (!fl) {
		atomic_fetch_sub(&f->count, 1);
		return http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
	}
	fl->id = atomic_fetch_add(&f->next_id, 1);
	fl->kind = kind;
	fl->f = f;
	fl->sent_ms = ff_now_ms();
	memcpy(fl->run_id, r->params[0], FF_UUID_LEN);
	const char *last = http_header(r, "Last-Event-ID");
	if (kind == FOLLOW_EVENTS && last)
		fl->event_id = strtoll(last, NULL, 10);
	http_reply_stream(r,
			  kind == FOLLOW_LOGS ? "text/plain; charset=utf-8" : "text/event-stream",
			  &stream_ops, fl);
}

/* ---- start and stop ---- */

int follow_start(const char *database_url, struct event_base *base, int max_followers,
		 struct follow **out, struct ff_err *err)
{
	struct follow *f = calloc(1, sizeof(*f));
	if (!f)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	f->max = max_followers;
	TAILQ_INIT(&f->list);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	ff_run_states_array(FF_RUN_TERMINAL, f->terminal, sizeof(f->terminal));
	*out = f;
	int rc = ff_db_connect(database_url, &f->db, err);
	if (rc < 0 && rc != FF_EUNAVAIL)
		return rc;
	if (!(f->wake = event_new(base, -1, EV_PERSIST, on_wake, f)))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	if (pthread_create(&f->thread, NULL, follow_main, f) != 0)
		return ff_err_set(err, FF_EINTERNAL, "cannot start the follow thread");
	f->started = true;
	return 0;
}

void follow_stop(struct follow *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->started)
		pthread_join(f->thread, NULL);
	struct follower *fl;
	while ((fl = TAILQ_FIRST(&f->list))) {
		TAILQ_REMOVE(&f->list, fl, link);
		follower_free(fl);
	}
	if (f->wake)
		event_free(f->wake);
	ff_db_free(f->db);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
