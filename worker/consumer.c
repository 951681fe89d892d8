/* consumer — broker loop, executor threads and heartbeat; see consumer.h.
 *
 * rabbitmq-c connections must stay on one thread and service heartbeats only inside library
 * calls, so the slow work (containers) never runs on the broker thread: it waits at most
 * CONSUME_POLL_MS for a delivery, then settles what the executors reported meanwhile. */
#include "consumer.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ff_amqp.h"
#include "ff_log.h"
#include "ff_run.h"
#include "ff_util.h"
#include "results.h"
#include "rvol.h"
#include "images.h"
#include "tcache.h"
#include "wmetrics.h"

#define CONSUME_POLL_MS	   50
#define HEARTBEAT_MS	   1000
#define ENGINE_DESCRIBE_MS 30000 /* how often the engine's version and images are recorded */
#define AMQP_HEARTBEAT_S   30
#define RECONNECT_MIN_MS   200
#define RECONNECT_MAX_MS   10000

struct task {
	struct ff_job *job;
	uint64_t tag;
	unsigned generation; /* the broker connection the delivery came on */
	int started;	     /* the executor took the run: ack the message */
	int exited;	     /* a copy: the run's container has ended, its slot is free */
	int released;	     /* this task's slot was freed before it finished */
	int finished;
	struct exec_result result;
	struct task *next;
};

struct shared {
	pthread_mutex_t lock;
	pthread_cond_t wake;	       /* executors: work, or closing */
	pthread_cond_t hb_wake;	       /* the heartbeat: closing */
	struct task *todo, *todo_tail; /* decoded jobs for the executors */
	struct task *reports;	       /* started or finished tasks for the broker thread */
	int reported_fd;	       /* eventfd: a report is waiting (wakes the broker thread) */
	int closing;		       /* executors and heartbeat exit */
	int draining;
	int engine_down; /* the engine did not answer the heartbeat's ping: take no jobs */
	int busy;	 /* tasks handed to executors, not yet settled */
	int holding;	 /* of those, tasks whose container may still run: <= concurrency */
	struct exec_slot *slots;
	int nslots; /* executors: one more than FF_WORKER_CONCURRENCY (consumer.h) */
	const struct consumer_config *cfg;
	struct tcache *tcache;	      /* the cached target volumes, shared by the executors */
	struct images *images;	      /* pulls from FF_REGISTRY, shared by the executors */
	struct rvol_owner rvol_owner; /* whose the executors' kept results volumes are */
};

struct executor {
	pthread_t thread;
	struct shared *sh;
	struct exec_env env;
	struct rvol rvol;
	struct task *current;
};

/* The broker thread settles reports as soon as they come: a freed executor takes its next
 * job, and a started run is acked, without waiting for the end of a CONSUME_POLL_MS wait. */
static void report(struct shared *sh, struct task *t)
{
	pthread_mutex_lock(&sh->lock);
	t->next = sh->reports;
	sh->reports = t;
	pthread_mutex_unlock(&sh->lock);
	(void)!write(sh->reported_fd, &(uint64_t){1}, sizeof(uint64_t));
}

/* A report made while the run goes on: the task itself is reported when it finishes, so the
 * broker thread gets a copy of its delivery. NULL when out of memory. */
static struct task *current_copy(struct executor *x)
{
	struct task *copy = calloc(1, sizeof(*copy));
	if (copy) {
		copy->tag = x->current->tag;
		copy->generation = x->current->generation;
	}
	return copy;
}

/* exec_env.on_started: the ack goes out while the run goes on. */
static void on_started(void *ctx)
{
	struct executor *x = ctx;
	struct task *ack = current_copy(x);
	if (!ack)
		return; /* the message stays unacked; a redelivery is skipped by the guard */
	ack->started = 1;
	report(x->sh, ack);
}

/* exec_env.on_exited: the container slot is free while this executor records the result
 * and removes the container; the spare executor can start the next run meanwhile. */
static void on_exited(void *ctx)
{
	struct executor *x = ctx;
	struct task *freed = current_copy(x);
	if (!freed)
		return; /* the slot frees when the task finishes */
	x->current->released = 1;
	freed->exited = 1;
	report(x->sh, freed);
}

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
		x->current = t;
		int64_t t0 = ff_now_us();
		t->result = exec_run(&x->env, &t->job);
		wmetrics_run(t->job ? t->job->workflow : NULL, exec_outcome_name(t->result.outcome),
			     (double)(ff_now_us() - t0) / 1e6);
		t->finished = 1;
		report(sh, t);
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
	sh->busy++;
	sh->holding++;
	wmetrics_slots(sh->busy, sh->cfg->concurrency);
	pthread_cond_signal(&sh->wake);
	pthread_mutex_unlock(&sh->lock);
}

/* Publishes the next attempt of a failed run to its delay queue, or the job to the
 * dead-letter exchange. If the broker is away, the controller's outbox publishes it later
 * from the database (the run is `retrying` and unpublished). */
static void publish_followup(struct ff_amqp **pub, const char *url, struct ff_db *db,
			     struct task *t)
{
	struct ff_err err;
	struct ff_job *job = t->job;
	const char *id = job->run_id;
	/* Publishing has a connection of its own (see ff_amqp.h), made when first needed. */
	if (!*pub && ff_amqp_connect(url, 0, pub, &err) < 0) {
		*pub = NULL;
		ff_run_warn(id, "broker away (%s): the outbox will publish the follow-up", err.msg);
		return;
	}
	struct ff_amqp *amqp = *pub;
	if (t->result.outcome == EXEC_DEAD) {
		size_t len;
		char *body = ff_job_encode(job, &len);
		if (!body || ff_amqp_publish_to(amqp, FF_AMQP_DEAD_EXCHANGE, job->pool, body, len,
						0, id, &err) < 0) {
			ff_run_warn(id, "job not copied to the dead-letter queue: %s",
				    body ? err.msg : "out of memory");
			ff_amqp_free(*pub);
			*pub = NULL;
		}
		free(body);
		return;
	}
	int next = job->attempt + 1;
	size_t len;
	char *body = ff_job_encode_attempt(job, next, job->max_attempts, &len);
	int rc = body ? ff_amqp_publish_delayed(amqp, job->pool, t->result.delay_s, body, len, 0,
						id, &err)
		      : ff_err_set(&err, FF_ENOMEM, "out of memory");
	free(body);
	if (rc < 0) {
		ff_run_warn(id, "retry not published (%s): the outbox will", err.msg);
		ff_amqp_free(*pub);
		*pub = NULL;
		return;
	}
	if (ff_run_mark_published(db, id, next, 0, &err) < 0)
		ff_run_warn(id, "retry published but not marked: %s", err.msg);
	ff_run_info(id, "attempt %d due in %ld s", next, t->result.delay_s);
}

/* Acks started runs, publishes follow-ups of finished ones, frees them. */
static void settle_reports(struct shared *sh, struct ff_amqp *amqp, struct ff_amqp **pub,
			   struct ff_db *db, unsigned generation)
{
	pthread_mutex_lock(&sh->lock);
	struct task *t = sh->reports;
	sh->reports = NULL;
	pthread_mutex_unlock(&sh->lock);
	while (t) {
		struct task *next = t->next;
		struct ff_err err;
		/* A delivery tag is only valid on the connection it came on; after a reconnect
		 * the broker has redelivered the message, and its guard makes it a no-op. */
		int live = amqp && t->generation == generation;
		if (t->started) {
			if (live && ff_amqp_ack(amqp, t->tag, &err) < 0)
				ff_warn("ack: %s", err.msg);
			free(t);
		} else if (t->exited) {
			pthread_mutex_lock(&sh->lock);
			sh->holding--;
			pthread_mutex_unlock(&sh->lock);
			free(t);
		} else {
			enum exec_outcome o = t->result.outcome;
			/* skip: done with; requeue: back to the queue; refuse: to ff.dead */
			if (live && (o == EXEC_SKIP || o == EXEC_REQUEUE || o == EXEC_REFUSE) &&
			    (o == EXEC_SKIP
				 ? ff_amqp_ack(amqp, t->tag, &err)
				 : ff_amqp_nack(amqp, t->tag, o == EXEC_REQUEUE, &err)) < 0)
				ff_warn("settling delivery: %s", err.msg);
			if (o == EXEC_RETRY || o == EXEC_DEAD)
				publish_followup(pub, sh->cfg->amqp_url, db, t);
			pthread_mutex_lock(&sh->lock);
			sh->busy--;
			if (!t->released)
				sh->holding--;
			wmetrics_slots(sh->busy, sh->cfg->concurrency);
			pthread_mutex_unlock(&sh->lock);
			ff_job_free(t->job);
			free(t);
		}
		t = next;
	}
}

/* --- heartbeat ------------------------------------------------------------------------ */

struct heartbeat {
	pthread_t thread;
	struct shared *sh;
	struct ff_db *db;
	struct docker *docker;
	char host[256];
	int64_t described_ms; /* when the engine was last described; 0: to do */
	unsigned pulled;      /* images_pulled() then */
};

/* The runs the executors hold now, as a PostgreSQL uuid[] literal ("{}" for none). */
static void slot_runs(struct shared *sh, char *ids, size_t len)
{
	size_t off = (size_t)snprintf(ids, len, "{");
	pthread_mutex_lock(&sh->lock);
	for (int i = 0; i < sh->nslots; i++)
		if (sh->slots[i].run_id[0] && off + 40 < len)
			off += (size_t)snprintf(ids + off, len - off, "%s%s", off > 1 ? "," : "",
						sh->slots[i].run_id);
	pthread_mutex_unlock(&sh->lock);
	snprintf(ids + off, len - off, "}");
}

/* Only the runs an executor holds get their lease renewed: a run this worker marked running
 * but no longer executes (its result could not be recorded, or the start's commit was lost
 * with the connection) must expire, so that the reaper gives it to the queue again. */
static void heartbeat_register(struct heartbeat *hb, const char *state, int busy, const char *ids)
{
	const struct consumer_config *cfg = hb->sh->cfg;
	char conc[16], running[16];
	struct ff_err err;
	snprintf(conc, sizeof(conc), "%d", cfg->concurrency);
	snprintf(running, sizeof(running), "%d", busy);
	const char *p[] = {cfg->exec->worker_id, hb->host, cfg->pool, conc, running, state};
	if (ff_db_exec(hb->db,
		       "INSERT INTO workers (id, host, pool, concurrency, running, state) "
		       "VALUES ($1, $2, $3, $4::int, $5::int, $6) ON CONFLICT (id) DO UPDATE SET "
		       "running = EXCLUDED.running, state = EXCLUDED.state, "
		       "last_heartbeat = now()",
		       6, p, &err) < 0 ||
	    ff_run_renew_leases(hb->db, cfg->exec->worker_id, ids, cfg->exec->lease_s, &err) < 0)
		ff_warn("heartbeat not recorded: %s", err.msg);
}

/* Marks the slots whose /results grew past the limit (see results_over), or whose container
 * has been silent for FF_WORKER_STALL_S. */
static void heartbeat_watch(struct heartbeat *hb)
{
	struct shared *sh = hb->sh;
	const struct exec_config *cfg = sh->cfg->exec;
	for (int i = 0; i < sh->nslots; i++) {
		struct exec_slot *slot = &sh->slots[i];
		char dir[sizeof(slot->results_dir)];
		pthread_mutex_lock(&sh->lock);
		memcpy(dir, slot->results_dir, sizeof(dir));
		bool running = slot->container[0] && slot->stop == EXEC_STOP_NONE;
		if (running && cfg->stall_s && slot->output_ms &&
		    ff_now_ms() - slot->output_ms > cfg->stall_s * 1000)
			slot->stop = EXEC_STOP_STALLED;
		pthread_mutex_unlock(&sh->lock);
		if (!running || !dir[0] ||
		    !results_over(dir, cfg->results_max_bytes, EXEC_RESULTS_MAX_ENTRIES))
			continue;
		pthread_mutex_lock(&sh->lock);
		if (!strcmp(slot->results_dir, dir) && slot->stop == EXEC_STOP_NONE)
			slot->stop = EXEC_STOP_RESULTS;
		pthread_mutex_unlock(&sh->lock);
	}
}

/* Marks slots whose run was cancelled, then kills the container of every stopped slot. */
static void heartbeat_enforce_stops(struct heartbeat *hb, const char *ids)
{
	struct shared *sh = hb->sh;
	struct ff_err err;
	if (strcmp(ids, "{}") == 0)
		return;
	heartbeat_watch(hb);
	PGresult *res = NULL;
	if (ff_run_cancelled_among(hb->db, ids, &res, &err) < 0)
		ff_warn("cancellations not checked: %s", err.msg);
	for (int r = 0; res && r < PQntuples(res); r++) {
		pthread_mutex_lock(&sh->lock);
		for (int i = 0; i < sh->nslots; i++)
			if (!strcmp(sh->slots[i].run_id, PQgetvalue(res, r, 0)))
				sh->slots[i].stop = EXEC_STOP_CANCEL;
		pthread_mutex_unlock(&sh->lock);
	}
	PQclear(res);
	for (int i = 0; i < sh->nslots; i++) {
		char container[65] = "", run[37] = "";
		pthread_mutex_lock(&sh->lock);
		if (sh->slots[i].stop != EXEC_STOP_NONE) {
			memcpy(container, sh->slots[i].container, sizeof(container));
			memcpy(run, sh->slots[i].run_id, sizeof(run));
		}
		pthread_mutex_unlock(&sh->lock);
		if (container[0] && docker_container_kill(hb->docker, container, &err) == 0)
			ff_run_info(run, "container %.12s killed", container);
	}
}

/* Records what the engine is and holds (GET /api/v1/workers): its DOCKER_HOST, version, the
 * registry, its image references. After the worker registered; again every
 * ENGINE_DESCRIBE_MS, after a pull, and as soon as the engine answers after an outage. */
static void heartbeat_describe_engine(struct heartbeat *hb)
{
	const struct consumer_config *cfg = hb->sh->cfg;
	struct ff_err err;
	char version[64];
	cJSON *refs = NULL;
	unsigned pulled = images_pulled(hb->sh->images);
	if (docker_version(hb->docker, version, &err) < 0 ||
	    images_engine_refs(hb->sh->images, hb->docker, &refs, &err) < 0) {
		ff_warn("engine not described: %s", err.msg);
		return;
	}
	char *refs_json = cJSON_PrintUnformatted(refs);
	cJSON_Delete(refs);
	const char *p[] = {cfg->exec->worker_id, cfg->docker_host, version,
			   images_registry(hb->sh->images), refs_json};
	if (!refs_json)
		return;
	if (ff_db_exec(hb->db,
		       "UPDATE workers SET docker_host = $2, engine_version = $3, "
		       "registry = NULLIF($4, ''), engine_at = now(), images = ARRAY(SELECT "
		       "jsonb_array_elements_text($5::jsonb)) WHERE id = $1",
		       5, p, &err) < 0)
		ff_warn("engine not described: %s", err.msg);
	else {
		hb->described_ms = ff_now_ms();
		hb->pulled = pulled;
	}
	free(refs_json);
}

/* A worker whose engine is gone takes no jobs, so that they (and the retry of a run it
 * lost) go to workers that can run them; it takes them again once the engine answers. */
static void heartbeat_check_engine(struct heartbeat *hb)
{
	struct ff_err err;
	int down = docker_ping(hb->docker, &err) < 0;
	pthread_mutex_lock(&hb->sh->lock);
	int was = hb->sh->engine_down;
	hb->sh->engine_down = down;
	pthread_mutex_unlock(&hb->sh->lock);
	if (down && !was)
		ff_warn("docker engine not answering, taking no jobs until it does: %s", err.msg);
	else if (!down && was)
		ff_info("docker engine answering again: taking jobs");
	if (!down && (!hb->described_ms || was || hb->pulled != images_pulled(hb->sh->images) ||
		      ff_now_ms() - hb->described_ms >= ENGINE_DESCRIBE_MS))
		heartbeat_describe_engine(hb);
}

static void *heartbeat_main(void *arg)
{
	struct heartbeat *hb = arg;
	struct shared *sh = hb->sh;
	for (;;) {
		pthread_mutex_lock(&sh->lock);
		int closing = sh->closing, busy = sh->busy, draining = sh->draining;
		pthread_mutex_unlock(&sh->lock);
		char ids[(CONSUMER_MAX_CONCURRENCY + 1) * 40]; /* every executor's run id */
		slot_runs(sh, ids, sizeof(ids));
		heartbeat_register(hb,
				   closing    ? "stopped"
				   : draining ? "draining"
					      : "active",
				   busy, ids);
		if (closing)
			return NULL;
		heartbeat_enforce_stops(hb, ids);
		heartbeat_check_engine(hb);
		/* Woken early by closing; otherwise once per HEARTBEAT_MS. */
		struct timespec until;
		ff_deadline_in(&until, HEARTBEAT_MS);
		pthread_mutex_lock(&sh->lock);
		if (!sh->closing)
			pthread_cond_timedwait(&sh->hb_wake, &sh->lock, &until);
		pthread_mutex_unlock(&sh->lock);
	}
}

/* --- broker loop ----------------------------------------------------------------------- */

static struct ff_amqp *connect_broker(const struct consumer_config *cfg, int *delay_ms)
{
	struct ff_amqp *a = NULL;
	struct ff_err err;
	if (ff_amqp_connect(cfg->amqp_url, AMQP_HEARTBEAT_S, &a, &err) == 0 &&
	    ff_amqp_declare_pool(a, cfg->pool, &err) == 0) {
		*delay_ms = RECONNECT_MIN_MS;
		return a;
	}
	ff_amqp_free(a);
	ff_warn("broker not ready (%s), retrying in %d ms", err.msg, *delay_ms);
	usleep((useconds_t)*delay_ms * 1000);
	*delay_ms = *delay_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : *delay_ms * 2;
	return NULL;
}

static void handle_delivery(struct shared *sh, struct ff_amqp *amqp, unsigned generation,
			    struct ff_amqp_delivery *d, int accepting)
{
	struct ff_err err;
	struct ff_job *job = NULL;
	if (!accepting) {
		/* Surplus that arrived before our cancel took effect: back to the queue, where
		 * priorities still order it. */
		wmetrics_delivery_returned();
		if (ff_amqp_nack(amqp, d->tag, 1, &err) < 0)
			ff_warn("handing back a delivery: %s", err.msg);
		return;
	}
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
}

/* The cached targets an earlier worker left on this engine count against the cap too:
 * they enter the table as least recently used. */
static void tcache_discover(struct tcache *tc, struct docker *d)
{
	struct ff_err err;
	cJSON *list = NULL;
	if (docker_volume_list(d, "fuzzforge.target-marker", &list, &err) < 0) {
		ff_warn("cached targets not listed: %s", err.msg);
		return;
	}
	const cJSON *v;
	size_t n = 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(list, "Volumes"))
	{
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(v, "Labels");
		const cJSON *dg = cJSON_GetObjectItemCaseSensitive(l, "fuzzforge.target");
		const cJSON *vol = cJSON_GetObjectItemCaseSensitive(l, "fuzzforge.volume");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(l, "fuzzforge.bytes");
		if (!cJSON_IsString(dg) || !cJSON_IsString(vol))
			continue;
		tcache_add(tc, dg->valuestring, vol->valuestring,
			   cJSON_IsString(b) ? strtoull(b->valuestring, NULL, 10) : 0, 0);
		n++;
	}
	cJSON_Delete(list);
	if (n)
		ff_info("%zu cached targets found on the engine", n);
}

/* Starts the executors and the heartbeat, each with its own engine and database handle.
 * A database that is down now is reconnected to on first use; anything else that fails
 * is logged here with its cause. */
static int start_threads(const struct consumer_config *cfg, struct shared *sh, struct executor *xs,
			 struct heartbeat *hb)
{
	struct ff_err err = {0};
	rvol_owner_init(&sh->rvol_owner, cfg->exec->worker_id, cfg->database_url);
	for (int i = 0; i < sh->nslots; i++) {
		xs[i].sh = sh;
		xs[i].env.cfg = cfg->exec;
		xs[i].env.tcache = sh->tcache;
		xs[i].env.images = sh->images;
		xs[i].env.slot = &sh->slots[i];
		rvol_init(&xs[i].rvol, &sh->rvol_owner, i);
		xs[i].env.rvol = &xs[i].rvol;
		xs[i].env.on_started = on_started;
		xs[i].env.on_exited = on_exited;
		xs[i].env.ctx = &xs[i];
		sh->slots[i].lock = &sh->lock;
		if (docker_new(cfg->docker_host, &xs[i].env.docker, &err) < 0)
			goto out_fail;
		if (ff_db_connect(cfg->database_url, &xs[i].env.db, &err) < 0 && !xs[i].env.db)
			goto out_fail;
		if (pthread_create(&xs[i].thread, NULL, executor_main, &xs[i]) != 0) {
			ff_err_set(&err, FF_EINTERNAL, "cannot start executor thread %d", i);
			goto out_fail;
		}
	}
	hb->sh = sh;
	gethostname(hb->host, sizeof(hb->host) - 1);
	if (docker_new(cfg->docker_host, &hb->docker, &err) < 0 ||
	    (ff_db_connect(cfg->database_url, &hb->db, &err) < 0 && !hb->db))
		goto out_fail;
	if (docker_ping(hb->docker, &err) < 0) {
		ff_warn("docker engine at %s not answering yet: %s", cfg->docker_host, err.msg);
		sh->engine_down = 1; /* said once: the heartbeat says when it answers */
	} else {
		tcache_discover(sh->tcache, hb->docker);
		rvol_sweep(hb->docker, hb->db, &sh->rvol_owner);
	}
	if (pthread_create(&hb->thread, NULL, heartbeat_main, hb) != 0) {
		ff_err_set(&err, FF_EINTERNAL, "cannot start the heartbeat thread");
		goto out_fail;
	}
	return 0;
out_fail:
	ff_error("worker not started: %s", err.msg);
	return err.code;
}

static void stop_threads(struct shared *sh, struct executor *xs, int n, struct heartbeat *hb)
{
	pthread_mutex_lock(&sh->lock);
	sh->closing = 1;
	pthread_cond_broadcast(&sh->wake);
	pthread_cond_broadcast(&sh->hb_wake);
	pthread_mutex_unlock(&sh->lock);
	for (int i = 0; i < n; i++) {
		if (xs[i].thread)
			pthread_join(xs[i].thread, NULL);
		if (xs[i].env.docker)
			rvol_remove(&xs[i].rvol, xs[i].env.docker);
		ff_db_free(xs[i].env.db);
		docker_free(xs[i].env.docker);
	}
	if (hb->thread)
		pthread_join(hb->thread, NULL);
	ff_db_free(hb->db);
	docker_free(hb->docker);
}

/* After the drain period, the runs still going are handed back (their containers killed
 * by the heartbeat). */
static void hand_back_all(struct shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	for (int i = 0; i < sh->nslots; i++)
		if (sh->slots[i].run_id[0])
			sh->slots[i].stop = EXEC_STOP_HANDBACK;
	pthread_mutex_unlock(&sh->lock);
}

static int busy_count(struct shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	int busy = sh->busy;
	pthread_mutex_unlock(&sh->lock);
	return busy;
}

/* How many jobs the worker can take now: a container slot free and an executor for it. */
static int free_slots(struct shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	int slots = sh->cfg->concurrency - sh->holding, executors = sh->nslots - sh->busy;
	pthread_mutex_unlock(&sh->lock);
	return slots < executors ? slots : executors;
}

int consumer_run(const struct consumer_config *cfg, volatile sig_atomic_t *stop)
{
	struct shared sh = {.lock = PTHREAD_MUTEX_INITIALIZER,
			    .wake = PTHREAD_COND_INITIALIZER,
			    .hb_wake = PTHREAD_COND_INITIALIZER,
			    .nslots = cfg->concurrency + 1,
			    .cfg = cfg,
			    .reported_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	struct executor *xs = calloc((size_t)sh.nslots, sizeof(*xs));
	struct heartbeat hb = {0};
	wmetrics_slots(0, cfg->concurrency);
	struct ff_amqp *amqp = NULL, *pub = NULL;
	struct ff_db *db = NULL;
	struct ff_err err;
	unsigned generation = 0, announced = 0;
	int consuming = 0, delay_ms = RECONNECT_MIN_MS, handed_back = 0;
	int64_t drain_deadline = 0;
	int rc = FF_ENOMEM;

	sh.slots = calloc((size_t)sh.nslots, sizeof(*sh.slots));
	sh.tcache = tcache_new(cfg->exec->target_cache_bytes);
	sh.images = images_new(cfg->exec->registry);
	if (!xs || !sh.slots || !sh.tcache || !sh.images || sh.reported_fd < 0) {
		ff_error("worker not started: %s",
			 sh.reported_fd < 0 ? "no eventfd for its broker thread" : "out of memory");
		goto out;
	}
	if (ff_db_connect(cfg->database_url, &db, &err) < 0 && !db) {
		ff_error("worker not started: %s", err.msg);
		rc = err.code;
		goto out;
	}
	rc = start_threads(cfg, &sh, xs, &hb);
	if (rc < 0)
		goto out;

	for (;;) {
		if (*stop && !drain_deadline) {
			drain_deadline = ff_now_ms() + cfg->drain_s * 1000;
			pthread_mutex_lock(&sh.lock);
			sh.draining = 1;
			pthread_mutex_unlock(&sh.lock);
			ff_info("draining: no new jobs, %d running, up to %ld s", busy_count(&sh),
				cfg->drain_s);
		}
		(void)!read(sh.reported_fd, &(uint64_t){0}, sizeof(uint64_t));
		settle_reports(&sh, amqp, &pub, db, generation);
		int busy = busy_count(&sh);
		if (drain_deadline && busy == 0)
			break;
		if (drain_deadline && !handed_back && ff_now_ms() > drain_deadline) {
			ff_warn("drain period over: handing back %d runs", busy);
			hand_back_all(&sh);
			handed_back = 1;
		}
		if (!amqp) {
			if (drain_deadline) {
				usleep(CONSUME_POLL_MS * 1000);
				continue;
			}
			if (!(amqp = connect_broker(cfg, &delay_ms)))
				continue;
			generation++;
			consuming = 0;
		}
		pthread_mutex_lock(&sh.lock);
		int engine_down = sh.engine_down;
		pthread_mutex_unlock(&sh.lock);
		int takes = free_slots(&sh);
		int accepting = !drain_deadline && takes > 0 && !engine_down;
		if (accepting && !consuming) {
			/* No more deliveries than free slots: a message is acked once its
			 * run has started, so a consumer allowed `concurrency` unacked
			 * messages was sent that many again each time one executor freed, and
			 * handed all but one back after its cancel (16 surplus deliveries and
			 * requeues for 40 runs at 4 slots, bench_runs). */
			if (ff_amqp_consume(amqp, cfg->pool, takes, &err) < 0)
				goto broker_lost;
			consuming = 1;
			if (announced != generation)
				ff_info("consuming ff.jobs.%s with %d slots", cfg->pool,
					cfg->concurrency);
			announced = generation;
		} else if (!accepting && consuming) {
			if (ff_amqp_cancel(amqp, &err) < 0)
				goto broker_lost;
			consuming = 0;
		}
		struct ff_amqp_delivery d = {0};
		rc = ff_amqp_next(amqp, CONSUME_POLL_MS, sh.reported_fd, &d, &err);
		if (rc == 0) {
			handle_delivery(&sh, amqp, generation, &d, accepting);
			ff_amqp_delivery_release(&d);
			continue;
		}
		if (rc == FF_ETIMEOUT)
			continue;
	broker_lost:
		ff_warn("broker connection lost: %s", err.msg);
		ff_amqp_free(amqp);
		amqp = NULL;
		consuming = 0;
	}
	rc = 0;
out:
	stop_threads(&sh, xs, xs ? sh.nslots : 0, &hb);
	settle_reports(&sh, amqp, &pub, db, generation);
	ff_amqp_free(amqp);
	ff_amqp_free(pub);
	ff_db_free(db);
	free(xs);
	free(sh.slots);
	tcache_free(sh.tcache);
	if (sh.reported_fd >= 0)
		close(sh.reported_fd);
	images_free(sh.images);
	return rc;
}
