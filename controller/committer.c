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

#define BATCH_MAX 256  /* submits in one transaction */
#define SWEEP_MS  1000 /* the reaper and the outbox sweep */
#define POKES_MAX 64

/* A queue of submissions between two threads. */
struct stage {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct submission *head, *tail;
	bool stopping;
	pthread_t thread;
};

/* Two stages, each a thread: the inserter commits batches (its own connection), the
 * publisher publishes their jobs, marks them, replies, and does the once-a-second work with
 * app->db and app->amqp. While one batch is being published the next is being committed. */
struct committer {
	struct app *app;
	struct ff_db *insert_db;
	struct stage inserts, publishes;
	char pokes[POKES_MAX][FF_UUID_LEN + 1]; /* under publishes.mu */
	int npokes;
	/* The publisher's own: the batch's runs whose job the broker confirmed. */
	struct ff_buf marks;
	int nmarks;
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

/* ---- marking published ---- */

static void mark_later(struct committer *c, const char *id)
{
	if (ff_buf_append(&c->marks, c->nmarks ? "," : "{", 1) == 0 &&
	    ff_buf_append(&c->marks, id, strlen(id)) == 0)
		c->nmarks++;
}

/* Takes the confirmed runs out of the outbox before their 202s go. The commit need not wait
 * for the disk (synchronous_commit off): a mark lost in a crash only leaves a run in the
 * outbox, which publishes it again, harmlessly. */
static void mark_flush(struct committer *c)
{
	struct ff_db *db = c->app->db;
	struct ff_err err;
	if (!c->nmarks)
		return;
	if (ff_buf_append(&c->marks, "}", 1) < 0 || ff_db_begin(db, &err) < 0 ||
	    ff_db_exec(db, "SET LOCAL synchronous_commit TO off", 0, NULL, &err) < 0 ||
	    ff_run_mark_published_many(db, ff_buf_str(&c->marks), 1, &err) < 0 ||
	    ff_db_commit(db, &err) < 0) {
		ff_db_rollback(db);
		ff_warn("runs not marked published (the outbox will republish them): %s", err.msg);
	}
	ff_buf_release(&c->marks);
	c->nmarks = 0;
}

/* ---- one batch ---- */

/* Gives each of n submissions from s its row of res (rows are in submission order; a run
 * not inserted has none): rc 1 and the run's JSON, or rc 0. */
static void take_rows(struct submission *s, int n, PGresult *res)
{
	int row = 0, rows = PQntuples(res);
	for (int i = 0; i < n && s; i++, s = s->next) {
		s->rc = row < rows && strcmp(PQgetvalue(res, row, 1), s->run.id) == 0;
		if (!s->rc)
			continue;
		s->run_json_len = (size_t)PQgetlength(res, row, 0);
		if (!(s->run_json = strndup(PQgetvalue(res, row, 0), s->run_json_len)))
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
	int rc = ff_run_submit_many(db, subs, n, API_RUN_JSON, &res, err);
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
	int rc = ff_run_submit_many(c->insert_db, &one, 1, API_RUN_JSON, &res, &s->err);
	if (rc < 0) {
		s->rc = rc;
		return;
	}
	take_rows(s, 1, res);
	PQclear(res);
}

/* Publishes the committed runs' jobs, all confirms awaited at once. */
static void publish_all(struct committer *c, struct submission *batch, int n)
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
	struct ff_amqp *amqp = app_amqp(c->app, &err);
	if (!amqp || ff_amqp_publish_batch(amqp, msgs, (size_t)m, ok, &err) < 0) {
		ff_warn("%d runs not published yet (the outbox will): %s", m, err.msg);
		if (amqp)
			app_amqp_reset(c->app);
		return;
	}
	for (int i = 0; i < m; i++)
		if ((of[i]->published = ok[i]))
			mark_later(c, of[i]->run.id);
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

static void publish_batch(struct committer *c, struct submission *batch, int n)
{
	publish_all(c, batch, n);
	mark_flush(c);
	for (struct submission *s = batch, *next; s; s = next) {
		next = s->next;
		s->done(s, c->app->db);
	}
}

static void sweep(struct app *app)
{
	struct ff_err err;
	if (app->amqp && ff_amqp_service(app->amqp, &err) < 0) {
		ff_warn("broker connection lost: %s", err.msg);
		app_amqp_reset(app);
	}
	reaper_tick(app);
	outbox_sweep(app);
}

static void *publisher_main(void *arg)
{
	struct committer *c = arg;
	struct stage *q = &c->publishes;
	int64_t next_sweep = ff_now_ms() + SWEEP_MS;
	for (;;) {
		char pokes[POKES_MAX][FF_UUID_LEN + 1];
		int n;
		pthread_mutex_lock(&q->mu);
		while (!q->head && !c->npokes && !q->stopping) {
			long wait = (long)(next_sweep - ff_now_ms());
			if (wait <= 0)
				break;
			struct timespec ts;
			ff_deadline_in(&ts, wait);
			pthread_cond_timedwait(&q->cv, &q->mu, &ts);
		}
		struct submission *batch = stage_take(q, &n);
		int npokes = c->npokes;
		memcpy(pokes, c->pokes, sizeof(pokes[0]) * (size_t)npokes);
		c->npokes = 0;
		bool stop = q->stopping && !batch;
		pthread_mutex_unlock(&q->mu);

		if (batch)
			publish_batch(c, batch, n);
		for (int i = 0; i < npokes; i++)
			outbox_publish_run(c->app, pokes[i]);
		if (stop)
			return NULL;
		if (ff_now_ms() >= next_sweep) {
			sweep(c->app);
			next_sweep = ff_now_ms() + SWEEP_MS;
		}
	}
}

static int start_thread(struct stage *q, void *(*fn)(void *), void *arg)
{
	stage_init(q);
	return pthread_create(&q->thread, NULL, fn, arg) == 0 ? 0 : -1;
}

static void stop_thread(struct stage *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
}

int committer_start(struct app *app, struct committer **out, struct ff_err *err)
{
	struct committer *c = calloc(1, sizeof(*c));
	if (!c)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	c->app = app;
	ff_buf_init(&c->marks, SIZE_MAX);
	int rc = ff_db_connect(app->cfg.database_url, &c->insert_db, err);
	if (rc < 0) {
		ff_db_free(c->insert_db);
		free(c);
		return rc;
	}
	if (start_thread(&c->publishes, publisher_main, c) < 0) {
		ff_db_free(c->insert_db);
		free(c);
		return ff_err_set(err, FF_ENOMEM, "cannot start the committer's threads");
	}
	if (start_thread(&c->inserts, inserter_main, c) < 0) {
		stop_thread(&c->publishes);
		ff_db_free(c->insert_db);
		free(c);
		return ff_err_set(err, FF_ENOMEM, "cannot start the committer's threads");
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
	pthread_cond_signal(&c->publishes.cv);
	pthread_mutex_unlock(&c->publishes.mu);
}

/* The inserter first, so that what it committed is published before the publisher stops. */
void committer_stop(struct committer *c)
{
	if (!c)
		return;
	stop_thread(&c->inserts);
	stop_thread(&c->publishes);
	ff_db_free(c->insert_db);
	ff_buf_release(&c->marks);
	free(c);
}
