/* committer — group commit of submits in two stages, the reaper and the outbox sweep; see
 * committer.h. */
#include "committer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "ff_amqp.h"
#include "ff_db.h"
#include "ff_log.h"
#include "ff_util.h"
#include "outbox.h"
#include "reaper.h"

#define BATCH_MAX    256   /* submits in one transaction */
#define SWEEP_MS     1000  /* the reaper and the outbox sweep */
#define PRUNE_MS     60000 /* the outbox's stale rows */
#define POKES_MAX    64
#define MARKS_MAX_MS 100 /* how long confirmed jobs may wait to leave the outbox */
/* Publisher threads: a batch's confirm wait (the broker's disk) is the longest step of a
 * submit, so while one publisher waits the other publishes the next batch. */
#define PUBLISHERS 2

/* A queue of submissions between two threads. */
struct stage {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct submission *head, *tail;
	bool stopping;
	pthread_t threads[PUBLISHERS];
	int nthreads;
};

/* A publisher thread and its connections. The first uses app->db and app->amqp and also does
 * the once-a-second work; the others have connections of their own. */
struct publisher {
	struct committer *c;
	bool primary;
	struct ff_db *db;
	struct ff_amqp *amqp;
	struct ff_buf marks; /* runs whose job the broker confirmed, not yet marked */
	int nmarks;
	int64_t marks_since_ms; /* when the oldest of them was confirmed */
};

/* Two stages: the inserter commits batches (its own connection), the publishers publish
 * their jobs, mark them and reply. While batches are being published the next is being
 * committed. */
struct committer {
	struct app *app;
	struct ff_db *insert_db;
	struct stage inserts, publishes;
	struct publisher pubs[PUBLISHERS];
	char pokes[POKES_MAX][FF_UUID_LEN + 1]; /* under publishes.mu */
	int npokes;
};

static void stage_init(struct stage *q)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
}

static void stage_push(struct stage *q, struct submission *first, struct submission *last)
{
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = first;
	else
		q->head = first;
	q->tail = last;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* Under q->mu: takes up to BATCH_MAX submissions off q; *n their count. */
static struct submission *stage_take(struct stage *q, int *n)
{
	struct submission *batch = q->head, *last = NULL;
	*n = 0;
	for (struct submission *s = batch; s && *n < BATCH_MAX; s = s->next, (*n)++)
		last = s;
	if (last) {
		if (!(q->head = last->next))
			q->tail = NULL;
		last->next = NULL;
	}
	return batch;
}

/* ---- taking confirmed jobs out of the outbox ---- */

static struct ff_db *pub_db(struct publisher *p)
{
	return p->primary ? p->c->app->db : p->db;
}

static struct ff_amqp *pub_amqp(struct publisher *p, struct ff_err *err)
{
	if (p->primary)
		return app_amqp(p->c->app, err);
	/* No heartbeats: it publishes or is idle, and a dead connection fails its next publish
	 * (the outbox has those runs). */
	if (!p->amqp && ff_amqp_connect(p->c->app->cfg.amqp_url, 0, &p->amqp, err) < 0)
		p->amqp = NULL;
	return p->amqp;
}

static void pub_amqp_reset(struct publisher *p)
{
	if (p->primary) {
		app_amqp_reset(p->c->app);
	} else {
		ff_amqp_free(p->amqp);
		p->amqp = NULL;
	}
}

static void mark_later(struct publisher *p, const char *id)
{
	if (!p->nmarks)
		p->marks_since_ms = ff_now_ms();
	if (ff_buf_append(&p->marks, p->nmarks ? "," : "{", 1) == 0 &&
	    ff_buf_append(&p->marks, id, strlen(id)) == 0)
		p->nmarks++;
}

/* Takes the confirmed jobs out of the outbox: after their 202s went, MARKS_MAX_MS or
 * BATCH_MAX of them in one statement, busy or idle (flushed whenever a publisher found
 * nothing to do, it was a statement per batch of about five runs: 20 % fewer submits/s). Jobs
 * still there are published again only after SUBMIT_GRACE (outbox.c), well after
 * MARKS_MAX_MS; a failure, or a crash before the flush, only leaves them in the outbox,
 * which publishes them again, harmlessly. */
static void mark_flush(struct publisher *p)
{
	struct ff_err err;
	if (!p->nmarks)
		return;
	if (ff_buf_append(&p->marks, "}", 1) < 0 ||
	    ff_run_mark_published_many(pub_db(p), ff_buf_str(&p->marks), 1, &err) < 0)
		ff_warn("runs not marked published (the outbox will republish them): %s", err.msg);
	ff_buf_release(&p->marks);
	p->nmarks = 0;
}

/* ---- one batch ---- */

/* Gives each of n submissions from s its row of res (rows are in submission order; a run
 * not inserted has none): rc 1 and the run's JSON, or rc 0. */
static void take_rows(struct submission *s, int n, PGresult *res)
{
	int row = 0, rows = PQntuples(res);
	for (int i = 0; i < n && s; i++, s = s->next) {
		s->rc = row < rows && strcmp(PQgetvalue(res, row, 0), s->run.id) == 0;
		if (!s->rc)
			continue;
		if (!(s->run_json = api_run_json(res, row, 0, &s->run_json_len)))
			s->rc = ff_err_set(&s->err, FF_ENOMEM, "out of memory");
		row++;
	}
}

/* All of the batch in one statement: atomic on its own, so no BEGIN and COMMIT round trips. */
static int insert_all(struct committer *c, struct submission *batch, int n, struct ff_err *err)
{
	const struct ff_run_submission *subs[BATCH_MAX];
	struct ff_db *db = c->insert_db;
	PGresult *res = NULL;
	int i = 0;
	for (struct submission *s = batch; s && i < n; s = s->next)
		subs[i++] = &s->run;
	int rc = ff_run_submit_many(db, subs, n, API_RUN_COLUMNS, &res, err);
	if (rc < 0)
		return rc;
	take_rows(batch, n, res);
	PQclear(res);
	return 0;
}

/* One submit in a transaction of its own, for the rare batch one of them failed. */
static void insert_one(struct committer *c, struct submission *s)
{
	PGresult *res = NULL;
	const struct ff_run_submission *one = &s->run;
	int rc = ff_run_submit_many(c->insert_db, &one, 1, API_RUN_COLUMNS, &res, &s->err);
	if (rc < 0) {
		s->rc = rc;
		return;
	}
	take_rows(s, 1, res);
	PQclear(res);
}

/* Publishes the committed runs' jobs, all confirms awaited at once. */
static void publish_all(struct publisher *p, struct submission *batch, int n)
{
	struct ff_amqp_msg msgs[BATCH_MAX];
	struct submission *of[BATCH_MAX];
	int ok[BATCH_MAX], m = 0;
	struct ff_err err;
	for (struct submission *s = batch; s && m < n; s = s->next)
		if (s->rc == 1) {
			msgs[m] = (struct ff_amqp_msg){.pool = s->run.pool,
						       .body = s->job,
						       .len = s->job_len,
						       .priority = s->run.priority,
						       .message_id = s->run.id};
			of[m++] = s;
		}
	if (!m)
		return;
	struct ff_amqp *amqp = pub_amqp(p, &err);
	if (!amqp || ff_amqp_publish_batch(amqp, msgs, (size_t)m, ok, &err) < 0) {
		ff_warn("%d runs not published yet (the outbox will): %s", m, err.msg);
		if (amqp)
			pub_amqp_reset(p);
		return;
	}
	for (int i = 0; i < m; i++)
		if ((of[i]->published = ok[i]))
			mark_later(p, of[i]->run.id);
}

/* ---- the inserter ---- */

static void *inserter_main(void *arg)
{
	struct committer *c = arg;
	struct stage *q = &c->inserts;
	for (;;) {
		int n;
		pthread_mutex_lock(&q->mu);
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		struct submission *batch = stage_take(q, &n), *last = batch;
		pthread_mutex_unlock(&q->mu);
		if (!batch)
			return NULL; /* stopping, and nothing left */
		struct ff_err err;
		if (insert_all(c, batch, n, &err) < 0) {
			/* One submit's failure (an Idempotency-Key raced) aborted them all: each
			 * again on its own, so that only it fails. */
			for (struct submission *s = batch; s; s = s->next)
				insert_one(c, s);
		}
		if (c->app->cfg.fault_exit_after_commit)
			_exit(70); /* tests: the runs are committed, their jobs never published */
		while (last->next)
			last = last->next;
		stage_push(&c->publishes, batch, last);
	}
}

/* ---- the publisher ---- */

/* Replies, then leaves the marks for later unless they have waited long enough. */
static void publish_batch(struct publisher *p, struct submission *batch, int n)
{
	publish_all(p, batch, n);
	for (struct submission *s = batch, *next; s; s = next) {
		next = s->next;
		s->done(s, pub_db(p));
	}
	if (p->nmarks >= BATCH_MAX || ff_now_ms() - p->marks_since_ms >= MARKS_MAX_MS)
		mark_flush(p);
}

/* When the primary publisher's less frequent work is due. */
struct sweep_due {
	int64_t audit_ms, prune_ms;
};

/* The primary publisher's periodic work. */
static void sweep(struct app *app, struct sweep_due *due)
{
	struct ff_err err;
	if (app->amqp && ff_amqp_service(app->amqp, &err) < 0) {
		ff_warn("broker connection lost: %s", err.msg);
		app_amqp_reset(app);
	}
	reaper_tick(app);
	outbox_sweep(app);
	if (app->cfg.broker_audit_s > 0 && ff_now_ms() >= due->audit_ms) {
		due->audit_ms = ff_now_ms() + app->cfg.broker_audit_s * 1000 / 2;
		outbox_audit(app);
	}
	if (ff_now_ms() >= due->prune_ms) {
		due->prune_ms = ff_now_ms() + PRUNE_MS;
		outbox_prune(app);
	}
}

static void *publisher_main(void *arg)
{
	struct publisher *p = arg;
	struct committer *c = p->c;
	struct stage *q = &c->publishes;
	int64_t next_sweep = ff_now_ms() + SWEEP_MS;
	struct sweep_due due = {0};
	for (;;) {
		char pokes[POKES_MAX][FF_UUID_LEN + 1];
		int n, npokes = 0;
		pthread_mutex_lock(&q->mu);
		while (!q->head && !(p->primary && c->npokes) && !q->stopping) {
			/* Idle: the marks wait for more, up to MARKS_MAX_MS, as when busy. */
			int64_t marks_due = p->marks_since_ms + MARKS_MAX_MS, now = ff_now_ms();
			if (p->nmarks && now >= marks_due) {
				pthread_mutex_unlock(&q->mu);
				mark_flush(p);
				pthread_mutex_lock(&q->mu);
				continue;
			}
			int64_t until = p->primary ? next_sweep : INT64_MAX;
			if (p->nmarks && marks_due < until)
				until = marks_due;
			if (until == INT64_MAX) {
				pthread_cond_wait(&q->cv, &q->mu);
				continue;
			}
			if (until <= now)
				break; /* the sweep is due */
			struct timespec ts;
			ff_deadline_in(&ts, (long)(until - now));
			pthread_cond_timedwait(&q->cv, &q->mu, &ts);
		}
		struct submission *batch = stage_take(q, &n);
		if (p->primary) {
			npokes = c->npokes;
			memcpy(pokes, c->pokes, sizeof(pokes[0]) * (size_t)npokes);
			c->npokes = 0;
		}
		bool stop = q->stopping && !batch;
		pthread_mutex_unlock(&q->mu);

		if (batch)
			publish_batch(p, batch, n);
		if (stop)
			mark_flush(p);
		if (!p->primary) {
			if (stop)
				return NULL;
			continue;
		}
		for (int i = 0; i < npokes; i++)
			outbox_publish_run(c->app, pokes[i]);
		if (stop)
			return NULL;
		if (ff_now_ms() >= next_sweep) {
			sweep(c->app, &due);
			next_sweep = ff_now_ms() + SWEEP_MS;
		}
	}
}

static int start_thread(struct stage *q, void *(*fn)(void *), void *arg)
{
	if (!q->nthreads)
		stage_init(q);
	if (pthread_create(&q->threads[q->nthreads], NULL, fn, arg) != 0)
		return -1;
	q->nthreads++;
	return 0;
}

/* Stops the stage's threads once its queue is empty. */
static void stop_threads(struct stage *q)
{
	if (!q->nthreads)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	q->nthreads = 0;
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
}

/* The publisher's connection commits without waiting for the disk (synchronous_commit
 * off): everything it writes is redone if lost in a crash. A lost mark leaves a run in the
 * outbox, published again; a lost lease expiry or lost-worker mark is found again by the
 * next sweep; a lost outbox mark republishes. The submits themselves are committed on the
 * inserter's connection, synchronously. */
static int connect_async_commit(const char *url, struct ff_db **out, struct ff_err *err)
{
	struct ff_db *db = NULL;
	int rc = ff_db_connect_with(url, "-c synchronous_commit=off", &db, err);
	if (rc < 0) {
		ff_db_free(db);
		return rc;
	}
	*out = db;
	return 0;
}

static void committer_free(struct committer *c)
{
	stop_threads(&c->inserts); /* first: what it committed is published before the rest stop */
	stop_threads(&c->publishes);
	for (int i = 0; i < PUBLISHERS; i++) {
		if (!c->pubs[i].primary) {
			ff_db_free(c->pubs[i].db);
			ff_amqp_free(c->pubs[i].amqp);
		}
		ff_buf_release(&c->pubs[i].marks);
	}
	ff_db_free(c->insert_db);
	free(c);
}

int committer_start(struct app *app, struct committer **out, struct ff_err *err)
{
	struct committer *c = calloc(1, sizeof(*c));
	struct ff_db *async = NULL;
	if (!c)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	c->app = app;
	int rc = connect_async_commit(app->cfg.database_url, &async, err);
	if (rc == 0) {
		ff_db_free(app->db); /* the start-up connection: the first publisher's from now */
		app->db = async;
		rc = ff_db_connect(app->cfg.database_url, &c->insert_db, err);
	}
	for (int i = 0; i < PUBLISHERS && rc == 0; i++) {
		struct publisher *p = &c->pubs[i];
		*p = (struct publisher){.c = c, .primary = i == 0};
		ff_buf_init(&p->marks, SIZE_MAX);
		if (!p->primary)
			rc = connect_async_commit(app->cfg.database_url, &p->db, err);
		if (rc == 0 && start_thread(&c->publishes, publisher_main, p) < 0)
			rc = ff_err_set(err, FF_ENOMEM, "cannot start the committer's threads");
	}
	if (rc == 0 && start_thread(&c->inserts, inserter_main, c) < 0)
		rc = ff_err_set(err, FF_ENOMEM, "cannot start the committer's threads");
	if (rc < 0) {
		committer_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void committer_submit(struct committer *c, struct submission *s)
{
	s->next = NULL;
	stage_push(&c->inserts, s, s);
}

void committer_poke(struct committer *c, const char *run_id)
{
	pthread_mutex_lock(&c->publishes.mu);
	if (c->npokes < POKES_MAX) /* more at once wait for the sweep */
		snprintf(c->pokes[c->npokes++], FF_UUID_LEN + 1, "%s", run_id);
	pthread_cond_broadcast(&c->publishes.cv); /* the primary publisher takes pokes */
	pthread_mutex_unlock(&c->publishes.mu);
}

void committer_stop(struct committer *c)
{
	if (c)
		committer_free(c);
}
