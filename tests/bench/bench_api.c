/* bench_api — the controller's submit and read paths beside the floors they stand on. Not a
 * test: it prints figures and never fails on speed.
 *
 * (1) PostgreSQL floor: the platform's own submit statement (a run row and its first event,
 *     one INSERT ... WITH, synchronous commit) in a scratch database migrated to the real
 *     schema, from 1 and from 16 client threads, one libpq connection each;
 * (2) RabbitMQ floor: persistent ~600-byte publishes to a durable queue in a scratch vhost,
 *     each confirmed before the next, then confirmed 100 at a time;
 * (3) the platform: a real ff-controller with no worker (jobs pile up in its queue) driven by
 *     16 threads, each with a kept-open libcurl handle: durable submits (POST /api/v1/runs of
 *     test-noop), GET /api/v1/runs/{id} of the runs submitted, GET /api/v1/runs?limit=50;
 *     submits/s beside the floors, the controller's CPU time per request (/proc/<pid>/stat)
 *     and its RSS before and after the load; then CACHED_RUNS of the runs marked finished
 *     (in the database, as a worker would) and read again and again: the result cache's
 *     reads/s, its hit ratio (X-FF-Cache: hit), beside the uncached GET of the same route.
 * Each series stops at its count or its time budget, whichever comes first; the latencies
 * of a batched series are those of a whole batch.
 * Usage: bench_api [seconds per series, default 10] */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"
#include "ff_db.h"
#include "ff_util.h"
#include "itest.h"

#define CLIENTS	     16	   /* threads of a concurrent series, one connection each */
#define PG_MAX	     20000 /* transactions per PostgreSQL series */
#define AMQP_MAX     20000 /* confirmed publishes, one at a time */
#define AMQP_BATCH   100
#define AMQP_BATCHES 500    /* batches of AMQP_BATCH */
#define HTTP_MAX     20000  /* requests per platform series */
#define CACHED_MAX   100000 /* reads of finished runs */
#define CACHED_RUNS  "200"
#define MSG_LEN	     600
#define FLOOR_QUEUE  "ff.bench.floor"
#define FLOOR_QUORUM "ff.bench.floor-quorum" /* what a quorum queue would cost (README) */
#define FLOOR_TARGET "0000000000000000000000000000000000000000000000000000000000000000"

struct series;

/* How one thread of a series talks to what is measured. */
struct client {
	void *(*open)(struct series *s); /* the thread's state (a connection), NULL on failure */
	int (*op)(void *state, int i);	 /* operation i: 0, or -1 counted as an error */
	void (*close)(void *state);
};

/* One series: `threads` threads run operations until `max` are done or the budget is spent.
 * Each operation is timed; `per_op` items (messages of a batch) count per operation. */
struct series {
	const char *name;
	int threads, max, per_op;
	const struct client *client;
	void *arg;   /* what client->open connects to */
	bool quorum; /* the RabbitMQ floors: to a quorum queue, not a classic one */
	/* filled by run_series */
	double *ms, wall_ms, deadline;
	atomic_int next, errors;
	int n;
};

static double budget_ms = 10000;

static void *series_thread(void *arg)
{
	struct series *s = arg;
	void *state = s->client->open(s);
	if (!state) {
		atomic_fetch_add(&s->errors, 1);
		return NULL;
	}
	while (bench_now_ms() < s->deadline) {
		int i = atomic_fetch_add(&s->next, 1);
		if (i >= s->max)
			break;
		double t0 = bench_now_ms();
		if (s->client->op(state, i) < 0)
			atomic_fetch_add(&s->errors, 1);
		s->ms[i] = bench_now_ms() - t0;
	}
	s->client->close(state);
	return NULL;
}

static void run_series(struct series *s)
{
	pthread_t th[CLIENTS];
	assert_true(s->threads <= CLIENTS);
	s->ms = calloc((size_t)s->max, sizeof(double));
	atomic_init(&s->next, 0);
	atomic_init(&s->errors, 0);
	double t0 = bench_now_ms();
	s->deadline = t0 + budget_ms;
	for (int i = 0; i < s->threads; i++)
		assert_int_equal(pthread_create(&th[i], NULL, series_thread, s), 0);
	for (int i = 0; i < s->threads; i++)
		pthread_join(th[i], NULL);
	s->wall_ms = bench_now_ms() - t0;
	int next = atomic_load(&s->next);
	s->n = next < s->max ? next : s->max;
	if (s->n == 0)
		fail_msg("%s: nothing done", s->name);
	bench_sort(s->ms, s->n);
}

static double rate(const struct series *s)
{
	return (double)s->n * s->per_op / (s->wall_ms / 1000.0);
}

static double p50(const struct series *s)
{
	return bench_pct(s->ms, s->n, 50);
}

static void print_series(const struct series *s)
{
	printf("%-48s n=%-6d p50 %7.2f ms  p99 %7.2f ms  %8.0f /s", s->name, s->n * s->per_op,
	       p50(s), bench_pct(s->ms, s->n, 99), rate(s));
	if (atomic_load(&s->errors))
		printf("  (%d errors)", atomic_load(&s->errors));
	printf("\n");
}

/* The goal later work must reach, under the measured line (p99_ms < 0: none set). */
static void print_target(double p99_ms, int per_s)
{
	if (p99_ms >= 0)
		printf("  %-46s %-8s %15s p99 %7.2f ms  %8d /s\n", "target", "", "", p99_ms, per_s);
	else
		printf("  %-46s %-8s %15s %15s  %8d /s\n", "target", "", "", "", per_s);
}

/* The controller's own CPU per request, and how much of one core that is at the rate seen:
 * near 100% the controller is CPU-bound; far below it, it waits (its one connection). */
static void print_cpu(const struct series *s, double cpu_per_req)
{
	printf("  %-46s %.2f ms CPU per request, %.0f%% of one core\n", "controller", cpu_per_req,
	       cpu_per_req * rate(s) / 10.0);
}

static void print_ratio(const struct series *s, const struct series *floor)
{
	printf("  %-46s x%.3f  (%.0f /s of %.0f /s)\n", floor->name, rate(s) / rate(floor), rate(s),
	       rate(floor));
}

/* A job-shaped JSON message of exactly MSG_LEN bytes (its padding in a parameter). */
static void job_message(char out[MSG_LEN + 1])
{
	char id[FF_UUID_LEN + 1];
	ff_uuid_new(id);
	int n =
	    snprintf(out, MSG_LEN + 1,
		     "{\"v\":1,\"run_id\":\"%s\",\"attempt\":1,\"max_attempts\":3,"
		     "\"backoff_s\":5,\"workflow\":\"test-noop\",\"workflow_version\":\"1.0.0\","
		     "\"image\":\"fuzzforge/test-busybox:1\",\"command\":[\"/bin/sh\","
		     "\"/ff/noop.sh\"],\"target\":\"" FLOOR_TARGET "\",\"pool\":\"default\","
		     "\"network\":\"none\",\"resources\":{\"memory_mb\":64,\"cpus\":0.5,"
		     "\"pids\":64,\"timeout_s\":60},\"parameters\":{\"pad\":\"",
		     id);
	memset(out + n, 'x', (size_t)(MSG_LEN - n - 3));
	memcpy(out + MSG_LEN - 3, "\"}}", 4);
}

/* --- (1) the PostgreSQL floor ---------------------------------------------------------- */

/* The statement of proto/ff_run.c:ff_run_submit, without the API view of the row. */
static const char submit_sql[] =
    "WITH r AS (INSERT INTO runs (id, workflow, workflow_version, target, parameters, "
    "  priority, labels, pool, job, state, max_attempts) "
    "  SELECT $1, 'test-noop', '1.0.0', $2, '{}'::jsonb, 0, '{}'::jsonb, 'default', $3::jsonb, "
    "  'queued', 3 WHERE EXISTS (SELECT 1 FROM targets WHERE sha256 = $2) RETURNING id, state), "
    "e AS (INSERT INTO run_events (run_id, state, attempt, message) "
    "  SELECT id, state, 0, 'submitted' FROM r) "
    "SELECT id FROM r";

static PGconn *pg_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r = NULL;
	if (PQstatus(c) == CONNECTION_OK)
		r = PQexec(c, "SET synchronous_commit = on; SET statement_timeout = '30s'");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "postgresql: %s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	PQclear(r);
	return c;
}

static void *pg_open(struct series *s)
{
	return pg_connect(((struct itest *)s->arg)->db_url);
}

static int pg_op(void *state, int i)
{
	char id[FF_UUID_LEN + 1], job[MSG_LEN + 1];
	(void)i;
	ff_uuid_new(id);
	job_message(job);
	const char *p[] = {id, FLOOR_TARGET, job};
	PGresult *r = PQexecParams(state, submit_sql, 3, NULL, p, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	PQclear(r);
	return ok ? 0 : -1;
}

static void pg_close(void *state)
{
	PQfinish(state);
}

static const struct client pg_client = {pg_open, pg_op, pg_close};

/* The scratch database gets the platform's schema (its migrations) and one target. */
static void pg_prepare(struct itest *scratch)
{
	struct ff_db *db;
	struct ff_err err;
	if (ff_db_connect(scratch->db_url, &db, &err) < 0 || ff_db_migrate(db, &err) < 0 ||
	    ff_db_exec(db,
		       "INSERT INTO targets (sha256, size, content) VALUES ('" FLOOR_TARGET
		       "', 1, '\\x00')",
		       0, NULL, &err) < 0)
		fail_msg("scratch database: %s", err.msg);
	ff_db_free(db);
}

/* --- (2) the RabbitMQ floor ------------------------------------------------------------ */

struct amqp_client {
	amqp_connection_state_t conn;
	const char *queue;
	uint64_t tag; /* the last delivery tag published */
	char msg[MSG_LEN + 1];
};

static int amqp_ok(amqp_rpc_reply_t r, const char *what)
{
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	fprintf(stderr, "rabbitmq: %s failed (reply type %d)\n", what, (int)r.reply_type);
	return -1;
}

static void amqp_client_free(struct amqp_client *a)
{
	amqp_channel_close(a->conn, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(a->conn);
	free(a);
}

static void *amqp_open(struct series *s)
{
	char url[256];
	struct amqp_connection_info ci;
	struct amqp_client *a = calloc(1, sizeof(*a));
	amqp_table_entry_t quorum_type = {
	    .key = amqp_cstring_bytes("x-queue-type"),
	    .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes("quorum")}};
	amqp_table_t quorum_args = {.num_entries = 1, .entries = &quorum_type};
	a->queue = s->quorum ? FLOOR_QUORUM : FLOOR_QUEUE;
	snprintf(url, sizeof(url), "%s", ((struct itest *)s->arg)->amqp_url);
	assert_int_equal(amqp_parse_url(url, &ci), AMQP_STATUS_OK);
	a->conn = amqp_new_connection();
	amqp_socket_t *sock = amqp_tcp_socket_new(a->conn);
	if (!sock || amqp_socket_open(sock, ci.host, ci.port) != AMQP_STATUS_OK) {
		fprintf(stderr, "rabbitmq: cannot connect to %s:%d\n", ci.host, ci.port);
		amqp_destroy_connection(a->conn);
		free(a);
		return NULL;
	}
	if (amqp_ok(amqp_login(a->conn, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user,
			       ci.password),
		    "login") < 0 ||
	    (amqp_channel_open(a->conn, 1), amqp_ok(amqp_get_rpc_reply(a->conn), "channel")) < 0 ||
	    (amqp_confirm_select(a->conn, 1), amqp_ok(amqp_get_rpc_reply(a->conn), "confirm")) <
		0 ||
	    (amqp_queue_declare(a->conn, 1, amqp_cstring_bytes(a->queue), 0, 1, 0, 0,
				s->quorum ? quorum_args : amqp_empty_table),
	     amqp_ok(amqp_get_rpc_reply(a->conn), "queue.declare")) < 0) {
		amqp_client_free(a);
		return NULL;
	}
	job_message(a->msg);
	return a;
}

/* Reads frames until an ack covers delivery tag `tag` (acks of one queue come in order); -1
 * on a nack, a closed channel or 10 s without a frame. */
static int amqp_wait_confirm(struct amqp_client *a, uint64_t tag)
{
	for (;;) {
		amqp_frame_t f;
		struct timeval tv = {10, 0};
		if (amqp_simple_wait_frame_noblock(a->conn, &f, &tv) != AMQP_STATUS_OK)
			return -1;
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.payload.method.id != AMQP_BASIC_ACK_METHOD)
			return -1;
		if (((amqp_basic_ack_t *)f.payload.method.decoded)->delivery_tag >= tag)
			return 0;
	}
}

static int amqp_publish_one(struct amqp_client *a)
{
	amqp_basic_properties_t props = {._flags = AMQP_BASIC_DELIVERY_MODE_FLAG |
						   AMQP_BASIC_CONTENT_TYPE_FLAG,
					 .delivery_mode = AMQP_DELIVERY_PERSISTENT,
					 .content_type = amqp_cstring_bytes("application/json")};
	amqp_bytes_t body = {MSG_LEN, a->msg};
	a->tag++;
	return amqp_basic_publish(a->conn, 1, amqp_cstring_bytes(""), amqp_cstring_bytes(a->queue),
				  0, 0, &props, body) == 0
		   ? 0
		   : -1;
}

static int amqp_op_each(void *state, int i)
{
	struct amqp_client *a = state;
	(void)i;
	int rc = amqp_publish_one(a) < 0 ? -1 : amqp_wait_confirm(a, a->tag);
	amqp_maybe_release_buffers(a->conn);
	return rc;
}

static int amqp_op_batch(void *state, int i)
{
	struct amqp_client *a = state;
	(void)i;
	for (int k = 0; k < AMQP_BATCH; k++)
		if (amqp_publish_one(a) < 0)
			return -1;
	int rc = amqp_wait_confirm(a, a->tag);
	amqp_maybe_release_buffers(a->conn);
	return rc;
}

static void amqp_close(void *state)
{
	struct amqp_client *a = state;
	amqp_queue_purge(a->conn, 1, amqp_cstring_bytes(a->queue));
	amqp_client_free(a);
}

static const struct client amqp_each = {amqp_open, amqp_op_each, amqp_close};
static const struct client amqp_batch = {amqp_open, amqp_op_batch, amqp_close};

/* --- (3) the platform ------------------------------------------------------------------- */

enum http_kind { SUBMIT, GET_RUN, LIST_RUNS };

struct http_bench {
	struct itest *t;
	enum http_kind kind;
	const char *body; /* of a submit */
	char (*ids)[FF_UUID_LEN + 1];
	int nids;		/* of ids, filled by the submits */
	atomic_int status_seen; /* the first unexpected status, for the report */
	atomic_long hits;	/* replies that said X-FF-Cache: hit */
};

struct http_client {
	struct http_bench *b;
	CURL *c;
	struct curl_slist *h;
	char buf[16384]; /* the start of the reply (a submit's is whole) */
	size_t len;
};

static size_t http_on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_client *h = arg;
	size_t room = sizeof(h->buf) - 1 - h->len, take = size * n < room ? size * n : room;
	memcpy(h->buf + h->len, p, take);
	h->len += take;
	h->buf[h->len] = '\0';
	return size * n;
}

static size_t http_on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_client *h = arg;
	static const char hit[] = "X-FF-Cache: hit";
	if (size * n >= sizeof(hit) - 1 && !strncasecmp(p, hit, sizeof(hit) - 1))
		atomic_fetch_add(&h->b->hits, 1);
	return size * n;
}

static void *http_open(struct series *s)
{
	struct http_client *h = calloc(1, sizeof(*h));
	char url[128];
	h->b = s->arg;
	h->c = curl_easy_init();
	h->h = curl_slist_append(NULL, "Authorization: Bearer " ITEST_API_KEY);
	h->h = curl_slist_append(h->h, "Content-Type: application/json");
	h->h = curl_slist_append(h->h, "Expect:");
	curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, h->h);
	curl_easy_setopt(h->c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h->c, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(h->c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->c, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(h->c, CURLOPT_HEADERDATA, h);
	if (h->b->kind == SUBMIT) {
		snprintf(url, sizeof(url), "%s/api/v1/runs", h->b->t->base_url);
		curl_easy_setopt(h->c, CURLOPT_POSTFIELDS, h->b->body);
	} else {
		snprintf(url, sizeof(url), "%s/api/v1/runs?limit=50", h->b->t->base_url);
	}
	curl_easy_setopt(h->c, CURLOPT_URL, url);
	return h;
}

static int http_op(void *state, int i)
{
	struct http_client *h = state;
	struct http_bench *b = h->b;
	long status = 0, want = b->kind == SUBMIT ? 202 : 200;
	if (b->kind == GET_RUN) {
		char url[160];
		snprintf(url, sizeof(url), "%s/api/v1/runs/%s", b->t->base_url,
			 b->ids[i % b->nids]);
		curl_easy_setopt(h->c, CURLOPT_URL, url);
	}
	h->len = 0;
	if (curl_easy_perform(h->c) == CURLE_OK)
		curl_easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, &status);
	if (status != want) {
		int none = 0;
		atomic_compare_exchange_strong(&b->status_seen, &none, (int)status);
		return -1;
	}
	if (b->kind == SUBMIT) {
		cJSON *run = cJSON_ParseWithLength(h->buf, h->len);
		const char *id = itest_str(run, "id");
		int ok = id && strlen(id) == FF_UUID_LEN;
		if (ok)
			memcpy(b->ids[i], id, FF_UUID_LEN + 1);
		cJSON_Delete(run);
		if (!ok)
			return -1;
	}
	return 0;
}

static void http_close(void *state)
{
	struct http_client *h = state;
	curl_slist_free_all(h->h);
	curl_easy_cleanup(h->c);
	free(h);
}

/* User + system CPU time pid has used, in ms (fields 14 and 15 of /proc/<pid>/stat), or -1. */
static double cpu_ms(pid_t pid)
{
	char path[64], line[1024];
	unsigned long ut, st;
	double ms = -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	const char *after = f && fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
	if (after &&
	    sscanf(after, ") %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
		ms = (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
	if (f)
		fclose(f);
	return ms;
}

/* VmRSS of pid in MiB, or -1. */
static double rss_mib(pid_t pid)
{
	char path[64], line[256];
	double kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lf kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib < 0 ? -1 : kib / 1024.0;
}

static const struct client http_client = {http_open, http_op, http_close};

/* Runs s; *cpu gets the controller's CPU time per request, in ms. */
static void run_http(struct series *s, struct http_bench *b, enum http_kind kind, pid_t pid,
		     double *cpu)
{
	b->kind = kind;
	atomic_init(&b->status_seen, 0);
	double cpu0 = cpu_ms(pid);
	run_series(s);
	*cpu = (cpu_ms(pid) - cpu0) / s->n;
	if (atomic_load(&b->status_seen))
		fprintf(stderr, "%s: unexpected status %d\n", s->name,
			atomic_load(&b->status_seen));
}

static void bench(void **state)
{
	(void)state;
	struct itest scratch, t;
	char target[65], body[160];

	/* (1) and (2): the floors, in a scratch database and vhost. */
	itest_setup(&scratch, "bench_api_floor");
	pg_prepare(&scratch);
	struct series pg1 = {.name = "postgresql floor: run+event commit, 1 client",
			     .threads = 1,
			     .max = PG_MAX,
			     .per_op = 1,
			     .client = &pg_client,
			     .arg = &scratch};
	struct series pg16 = {.name = "postgresql floor: run+event commit, 16 clients",
			      .threads = CLIENTS,
			      .max = PG_MAX,
			      .per_op = 1,
			      .client = &pg_client,
			      .arg = &scratch};
	struct series mq1 = {.name = "rabbitmq floor: confirmed publish, each",
			     .threads = 1,
			     .max = AMQP_MAX,
			     .per_op = 1,
			     .client = &amqp_each,
			     .arg = &scratch};
	struct series mq100 = {.name = "rabbitmq floor: confirmed publish, per 100",
			       .threads = 1,
			       .max = AMQP_BATCHES,
			       .per_op = AMQP_BATCH,
			       .client = &amqp_batch,
			       .arg = &scratch};
	run_series(&pg1);
	run_series(&pg16);
	struct series mq1q = mq1, mq100q = mq100;
	mq1q.name = "rabbitmq floor: confirmed publish, each, quorum";
	mq100q.name = "rabbitmq floor: confirmed publish, per 100, quorum";
	mq1q.quorum = mq100q.quorum = true;
	run_series(&mq1);
	run_series(&mq100);
	run_series(&mq1q);
	run_series(&mq100q);
	itest_teardown(&scratch);

	/* (3) the platform, no worker. */
	const char *env[] = {"FF_LOG_LEVEL=info", NULL};
	const char *files[] = {"a.txt", "hello\n", NULL};
	itest_setup(&t, "bench_api");
	pid_t controller = itest_start_controller(&t, env);
	itest_upload(&t, files, target);
	snprintf(body, sizeof(body), "{\"workflow\":\"test-noop\",\"target\":\"%s\"}", target);
	double rss_idle = rss_mib(controller);
	struct http_bench b = {.t = &t, .body = body, .ids = calloc(HTTP_MAX, FF_UUID_LEN + 1)};
	struct series sub = {.name = "platform: POST /api/v1/runs, 16 connections",
			     .threads = CLIENTS,
			     .max = HTTP_MAX,
			     .per_op = 1,
			     .client = &http_client,
			     .arg = &b};
	struct series get = {.name = "platform: GET /api/v1/runs/{id}, 16 conns",
			     .threads = CLIENTS,
			     .max = HTTP_MAX,
			     .per_op = 1,
			     .client = &http_client,
			     .arg = &b};
	struct series list = {.name = "platform: GET /api/v1/runs?limit=50, 16 conns",
			      .threads = CLIENTS,
			      .max = HTTP_MAX,
			      .per_op = 1,
			      .client = &http_client,
			      .arg = &b};
	double cpu_sub, cpu_get, cpu_list;
	run_http(&sub, &b, SUBMIT, controller, &cpu_sub);
	b.nids = sub.n;
	run_http(&get, &b, GET_RUN, controller, &cpu_get);
	run_http(&list, &b, LIST_RUNS, controller, &cpu_list);
	double rss_loaded = rss_mib(controller);
	/* the result cache: finished runs, read again and again */
	long finished = itest_sql_long(
	    &t,
	    "WITH u AS (UPDATE runs SET state = 'succeeded', finished_at = now() WHERE id IN "
	    "(SELECT id FROM runs ORDER BY created_at LIMIT $1::int) RETURNING 1) "
	    "SELECT count(*) FROM u",
	    CACHED_RUNS);
	b.nids = (int)finished;
	struct series cached = {.name = "platform: GET /api/v1/runs/{id} finished, cached",
				.threads = CLIENTS,
				.max = CACHED_MAX,
				.per_op = 1,
				.client = &http_client,
				.arg = &b};
	double cpu_cached;
	atomic_init(&b.hits, 0);
	run_http(&cached, &b, GET_RUN, controller, &cpu_cached);
	long hits = atomic_load(&b.hits);
	long published = itest_sql_long(&t, ITEST_SQL_PUBLISHED_RUNS, NULL);
	itest_teardown(&t);

	printf("\n");
	print_series(&pg1);
	print_series(&pg16);
	print_series(&mq1);
	print_series(&mq100);
	print_series(&mq1q);
	print_series(&mq100q);
	printf(
	    "quorum queue against classic (no priorities on 3.10: not adopted, README § Farm)\n");
	print_ratio(&mq1q, &mq1);
	print_ratio(&mq100q, &mq100);
	printf("\n");
	print_series(&sub);
	print_target(50, 3000);
	print_ratio(&sub, &pg16);
	print_ratio(&sub, &mq1);
	print_cpu(&sub, cpu_sub);
	print_series(&get);
	print_target(-1, 5000);
	print_cpu(&get, cpu_get);
	print_series(&list);
	print_target(-1, 2000);
	print_cpu(&list, cpu_list);
	print_series(&cached);
	print_target(-1, 10000);
	print_ratio(&cached, &get);
	print_cpu(&cached, cpu_cached);
	printf("  %-46s %.1f%% (%ld of %d reads of %ld runs)\n", "cache hit ratio",
	       cached.n ? 100.0 * (double)hits / cached.n : 0.0, hits, cached.n, finished);
	printf("\ncontroller RSS: %.1f MiB idle, %.1f MiB after the load (%ld runs published)\n",
	       rss_idle, rss_loaded, published);
	free(b.ids);
	free(pg1.ms);
	free(pg16.ms);
	free(mq1.ms);
	free(mq100.ms);
	free(sub.ms);
	free(cached.ms);
	free(get.ms);
	free(list.ms);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		long n = strtol(argv[1], NULL, 10);
		budget_ms = n >= 1 && n <= 120 ? (double)n * 1000.0 : budget_ms;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {cmocka_unit_test(bench)};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
