/* consumer — broker loop and executor threads; see consumer.h.
 *
 * rabbitmq-c connections must stay on one thread and only service heartbeats inside library
 * calls, so the slow work (containers) never runs on the broker thread: it waits at most
 * CONSUME_POLL_MS for a delivery, then acks whatever the executors finished meanwhile. */
#include "consumer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_amqp.h"
#include "ff_log.h"

#define CONSUME_POLL_MS	  50
#define HEARTBEAT_S	  30
#define RECONNECT_MIN_MS  200
#define RECONNECT_MAX_MS  10000

struct task {
	struct ff_job *job;
	uint64_t tag;
	unsigned generation; /* the broker connection the delivery came on */
	enum exec_outcome outcome;
	struct task *next;
};

struct shared {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct task *todo, *todo_tail; /* decoded jobs for the executors */
	struct task *done;	       /* finished, waiting for their ack */
	int closing;		       /* executors exit once todo is empty */
};

struct executor {
	pthread_t thread;
	struct shared *sh;
	struct exec_env env;
};

static void *executor_main(void *arg)
{
	struct executor *x = arg;
	struct shared *sh = x->sh;
	for (;;) {
		pthread_mutex_lock(&sh->lock);
		while (!sh->todo && !sh->closing)
			pthread_cond_wait(&sh->wake, &sh->lock);
		struct task *t = sh->todo;
		if (t) {
			sh->todo = t->next;
			if (!sh->todo)
				sh->todo_tail = NULL;
		}
		pthread_mutex_unlock(&sh->lock);
		if (!t)
			return NULL;
		t->outcome = exec_run(&x->env, t->job);
		pthread_mutex_lock(&sh->lock);
		t->next = sh->done;
		sh->done = t;
		pthread_mutex_unlock(&sh->lock);
	}
}

static void push_todo(struct shared *sh, struct task *t)
{
	pthread_mutex_lock(&sh->lock);
	t->next = NULL;
	if (sh->todo_tail)
		sh->todo_tail->next = t;
	else
		sh->todo = t;
	sh->todo_tail = t;
	pthread_cond_signal(&sh->wake);
	pthread_mutex_unlock(&sh->lock);
}

/* Acks (or hands back) every finished task; returns how many finished. */
static int settle_done(struct shared *sh, struct ff_amqp *amqp, unsigned generation)
{
	pthread_mutex_lock(&sh->lock);
	struct task *t = sh->done;
	sh->done = NULL;
	pthread_mutex_unlock(&sh->lock);
	int n = 0;
	while (t) {
		struct task *next = t->next;
		struct ff_err err;
		/* A delivery tag is only valid on the connection it came on; after a reconnect the
		 * broker has already redelivered that message. */
		if (amqp && t->generation == generation) {
			int rc = t->outcome == EXEC_DONE ? ff_amqp_ack(amqp, t->tag, &err)
							 : ff_amqp_nack(amqp, t->tag, 1, &err);
			if (rc < 0)
				ff_warn("settling delivery %llu: %s", (unsigned long long)t->tag,
					err.msg);
		}
		ff_job_free(t->job);
		free(t);
		t = next;
		n++;
	}
	return n;
}

static struct ff_amqp *connect_with_backoff(const struct consumer_config *cfg,
					    volatile sig_atomic_t *stop)
{
	int delay = RECONNECT_MIN_MS;
	while (!*stop) {
		struct ff_amqp *a = NULL;
		struct ff_err err;
		if (ff_amqp_connect(cfg->amqp_url, HEARTBEAT_S, &a, &err) == 0 &&
		    ff_amqp_consume(a, cfg->pool, cfg->concurrency, &err) == 0) {
			ff_info("consuming ff.jobs.%s with %d executors", cfg->pool,
				cfg->concurrency);
			return a;
		}
		ff_amqp_free(a);
		ff_warn("broker not ready (%s), retrying in %d ms", err.msg, delay);
		usleep((useconds_t)delay * 1000);
		delay = delay * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : delay * 2;
	}
	return NULL;
}

static void handle_delivery(struct shared *sh, struct ff_amqp *amqp, unsigned generation,
			    struct ff_amqp_delivery *d, int *inflight)
{
	struct ff_err err;
	struct ff_job *job = NULL;
	if (ff_job_decode(d->body, d->len, &job, &err) < 0) {
		ff_error("poison message dead-lettered: %s", err.msg);
		if (ff_amqp_nack(amqp, d->tag, 0, &err) < 0)
			ff_warn("rejecting poison message: %s", err.msg);
		return;
	}
	struct task *t = calloc(1, sizeof(*t));
	if (!t) {
		ff_job_free(job);
		ff_amqp_nack(amqp, d->tag, 1, &err);
		return;
	}
	t->job = job;
	t->tag = d->tag;
	t->generation = generation;
	push_todo(sh, t);
	(*inflight)++;
}

static int start_executors(const struct consumer_config *cfg, struct shared *sh,
			   struct executor *xs)
{
	for (int i = 0; i < cfg->concurrency; i++) {
		struct ff_err err;
		xs[i].sh = sh;
		xs[i].env.cfg = cfg->exec;
		if (docker_new(cfg->docker_host, &xs[i].env.docker, &err) < 0) {
			ff_error("docker: %s", err.msg);
			return err.code;
		}
		/* A database that is down now is reconnected to on first use. */
		if (ff_db_connect(cfg->database_url, &xs[i].env.db, &err) < 0 && !xs[i].env.db) {
			ff_error("postgresql: %s", err.msg);
			return err.code;
		}
		if (pthread_create(&xs[i].thread, NULL, executor_main, &xs[i]) != 0)
			return FF_EINTERNAL;
	}
	return 0;
}

static void stop_executors(struct shared *sh, struct executor *xs, int n)
{
	pthread_mutex_lock(&sh->lock);
	sh->closing = 1;
	pthread_cond_broadcast(&sh->wake);
	pthread_mutex_unlock(&sh->lock);
	for (int i = 0; i < n; i++) {
		if (xs[i].thread)
			pthread_join(xs[i].thread, NULL);
		ff_db_free(xs[i].env.db);
		docker_free(xs[i].env.docker);
	}
}

int consumer_run(const struct consumer_config *cfg, volatile sig_atomic_t *stop)
{
	struct shared sh = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};
	struct executor *xs = calloc((size_t)cfg->concurrency, sizeof(*xs));
	struct ff_amqp *amqp = NULL;
	unsigned generation = 0;
	int inflight = 0, consuming = 0;
	if (!xs)
		return FF_ENOMEM;
	int rc = start_executors(cfg, &sh, xs);
	if (rc < 0)
		goto out;

	while (!*stop || inflight > 0) {
		struct ff_err err;
		if (!amqp && !*stop) {
			if (!(amqp = connect_with_backoff(cfg, stop)))
				continue;
			generation++;
			consuming = 1;
		}
		if (*stop && consuming) {
			ff_info("stopping: no new jobs, waiting for %d running", inflight);
			if (amqp && ff_amqp_cancel(amqp, &err) < 0)
				ff_warn("cancelling consumer: %s", err.msg);
			consuming = 0;
		}
		inflight -= settle_done(&sh, amqp, generation);
		if (!amqp) {
			usleep(CONSUME_POLL_MS * 1000);
			continue;
		}
		struct ff_amqp_delivery d = {0};
		rc = ff_amqp_next(amqp, CONSUME_POLL_MS, &d, &err);
		if (rc == 0) {
			handle_delivery(&sh, amqp, generation, &d, &inflight);
			ff_amqp_delivery_release(&d);
		} else if (rc != FF_ETIMEOUT) {
			ff_warn("broker connection lost: %s", err.msg);
			ff_amqp_free(amqp);
			amqp = NULL;
			consuming = 0;
		}
	}
	rc = 0;
out:
	stop_executors(&sh, xs, cfg->concurrency);
	settle_done(&sh, amqp, generation);
	ff_amqp_free(amqp);
	free(xs);
	return rc;
}
