/* bench_runs — what the platform adds on top of Docker. Not a test: it prints figures.
 *
 * (a) the floor: create + start + wait + remove of the trivial workflow's container (test-noop:
 *     its image, command and limits, network none made without libnetwork as the worker
 *     makes it, hardened; /results on a tmpfs) through
 *     the raw Engine API over a kept-open connection, 1 and 4 at a time;
 * (b) the same work through the platform: runs of the test-noop workflow submitted over the
 *     REST API to a real controller and a worker of 4 slots.
 *     1 at a time: each run submitted once the last has ended; its latency from the wall
 *     clock just before its POST to its finished_at (clock_timestamp() in the transaction
 *     that records the result; one machine, one clock), so the HTTP submit, the queue and
 *     the pickup count; the rate is runs over the sum of those latencies (the floor's runs
 *     follow each other the same way; our polling for the end is not counted).
 *     4 at a time: all submitted at once, so the worker keeps its 4 slots busy as the
 *     floor's 4 threads keep 4 containers going; the rate is runs over first POST to last
 *     finished_at, the latency of each run its started_at → finished_at.
 * The floor and the platform take turns, BLOCK runs at a time. Each series also prints the
 * machine's CPU per run, the bench's own left out (its process and its database backend),
 * and, when tests/bench/cpu_groups.sh has made the groups, that of each component; each
 * platform series its ratios to the floor, the rate's with its 95 % confidence interval, and
 * PostgreSQL's CPU split by client (the controller's connections, the worker's).
 * Usage: bench_runs [runs per series, default 40] */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "bench.h"
#include "docker.h"
#include "ff_util.h"
#include "itest.h"

#define IMAGE	 "fuzzforge/test-busybox:1"
#define BLOCK	 8 /* runs per turn (two per slot at 4 at a time) */
#define SLOTS	 4 /* the worker's FF_WORKER_CONCURRENCY */
#define NGROUPS	 5
#define NCLIENTS 2

struct series {
	const char *name;
	double *ms;
	int n;
	double wall_ms;
	double *block_ms; /* each block's wall time: the rate's confidence interval */
	int nblocks;
	double cpu_ms; /* bench_machine_cpu_ms over the series */
	double group_ms[NGROUPS];
	double client_ms[NCLIENTS]; /* PostgreSQL's CPU for each of clients[] */
};

/* The components' accounting groups (tests/bench/cpu_groups.sh): the controller and the
 * worker are moved into theirs when started. */
static const char *const groups[NGROUPS] = {"engine", "postgres", "rabbitmq", "controller",
					    "worker"};
/* PostgreSQL's clients, by the application_name of their connections. */
static const char *const clients[NCLIENTS] = {"ff-controller", "ff-worker"};
static bool have_groups;

/* The machine's and the groups' CPU counters, read at a series' start and its end, and
 * PostgreSQL's backends' by client. */
struct cpu_mark {
	double machine, groups[NGROUPS], clients[NCLIENTS];
};

/* The PostgreSQL backend of the bench's own connection: its looks for the runs' end are the
 * bench's work, left out of the machine's CPU and PostgreSQL's like the bench's process. */
static pid_t bench_backend;
static PGconn *bench_pg;

/* The CPU of the backends serving each client so far, by their application_name (a
 * platform connection is named after its program: ff_db_connect). */
static void clients_cpu_ms(double out[NCLIENTS])
{
	memset(out, 0, sizeof(double) * NCLIENTS);
	if (!bench_pg)
		return;
	PGresult *r = PQexec(bench_pg, "SELECT pid, application_name FROM pg_stat_activity "
				       "WHERE datname = current_database()");
	for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++)
		for (int c = 0; c < NCLIENTS; c++)
			if (!strcmp(PQgetvalue(r, i, 1), clients[c]))
				out[c] += bench_process_cpu_ms((pid_t)atoi(PQgetvalue(r, i, 0)));
	PQclear(r);
}

static struct cpu_mark cpu_mark(void)
{
	double own = bench_backend ? bench_process_cpu_ms(bench_backend) : 0;
	struct cpu_mark m = {.machine = bench_machine_cpu_ms() - own};
	for (int i = 0; i < NGROUPS; i++) {
		char name[64];
		snprintf(name, sizeof(name), "ff-bench-%s", groups[i]);
		m.groups[i] = bench_group_cpu_ms(name) - (strcmp(groups[i], "postgres") ? 0 : own);
	}
	clients_cpu_ms(m.clients);
	return m;
}

static void cpu_add(struct series *s, const struct cpu_mark *start)
{
	struct cpu_mark end = cpu_mark();
	s->cpu_ms += end.machine - start->machine;
	for (int i = 0; i < NGROUPS; i++)
		s->group_ms[i] += end.groups[i] - start->groups[i];
	for (int c = 0; c < NCLIENTS; c++)
		s->client_ms[c] += end.clients[c] - start->clients[c];
}

static void add_block(struct series *s, double wall_ms)
{
	double *b = realloc(s->block_ms, (size_t)(s->nblocks + 1) * sizeof(double));
	if (!b)
		exit(1);
	s->block_ms = b;
	s->block_ms[s->nblocks++] = wall_ms;
	s->wall_ms += wall_ms;
}

/* Half the 95 % confidence interval of the rate ratio (the floor's block time over the
 * platform's, summed over the blocks: a ratio estimator), from the spread of the block
 * pairs around it. The engine's CPU per container varies by tens of ms: on this 2-core
 * machine 40 pairs (320 runs a series) still left ±1.9 %, so 80 runs leave about ±4. */
static double ratio_half_ci(const struct series *s, const struct series *floor, double ratio)
{
	int n = s->nblocks < floor->nblocks ? s->nblocks : floor->nblocks;
	if (n < 2)
		return 0;
	double mean_p = s->wall_ms / s->nblocks, ss = 0;
	for (int i = 0; i < n; i++) {
		double d = floor->block_ms[i] - ratio * s->block_ms[i];
		ss += d * d;
	}
	return 1.96 * sqrt(ss / (n - 1) / n) / mean_p;
}

static void report(const struct series *s, const struct series *floor)
{
	bench_sort(s->ms, s->n);
	double p50 = bench_pct(s->ms, s->n, 50), p95 = bench_pct(s->ms, s->n, 95);
	double rate = s->n / (s->wall_ms / 1000.0);
	double cpu = s->cpu_ms / s->n;
	printf("%-34s n=%-4d p50 %7.1f ms  p95 %7.1f ms  %6.2f runs/s  cpu %5.1f ms/run", s->name,
	       s->n, p50, p95, rate, cpu);
	if (floor) {
		double fp50 = bench_pct(floor->ms, floor->n, 50);
		double frate = floor->n / (floor->wall_ms / 1000.0);
		double ratio = rate / frate;
		printf("  | p50 x%.2f (+%.1f ms), rate x%.3f ±%.3f, cpu +%.1f ms", p50 / fp50,
		       p50 - fp50, ratio, ratio_half_ci(s, floor, ratio),
		       cpu - floor->cpu_ms / floor->n);
	}
	printf("\n");
	if (have_groups) {
		printf("%-34s", "  cpu ms/run by component:");
		for (int i = 0; i < NGROUPS; i++) {
			printf(" %s %.1f", groups[i], s->group_ms[i] / s->n);
			if (floor)
				printf(" (%+.1f)",
				       s->group_ms[i] / s->n - floor->group_ms[i] / floor->n);
		}
		printf("\n");
	}
	if (!floor)
		return;
	printf("%-34s", "  postgres cpu ms/run by client:");
	for (int c = 0; c < NCLIENTS; c++)
		printf(" %s %.2f", clients[c], s->client_ms[c] / s->n);
	printf("\n");
}

/* --- (a) the raw Engine floor ------------------------------------------------------------ */

struct floor_job {
	int count;
	double *ms;
};

static void *floor_thread(void *arg)
{
	struct floor_job *j = arg;
	struct docker *d;
	struct ff_err err;
	if (docker_new("unix:///var/run/docker.sock", &d, &err) < 0)
		return NULL;
	/* test-noop's container as the worker makes it (its command, its manifest's limits, no
	 * network without libnetwork: worker/spec.c), with /results on a tmpfs: without the
	 * volumes and the platform around it */
	cJSON *spec = cJSON_Parse(
	    "{\"Image\":\"" IMAGE "\",\"Cmd\":[\"/bin/sh\",\"/ff/noop.sh\"],"
	    "\"User\":\"65534:65534\",\"NetworkDisabled\":true,\"HostConfig\":{\"NetworkMode\":"
	    "\"none\","
	    "\"CapDrop\":[\"ALL\"],\"SecurityOpt\":[\"no-new-privileges\"],\"ReadonlyRootfs\":true,"
	    "\"Memory\":67108864,\"MemorySwap\":67108864,\"NanoCpus\":500000000,\"PidsLimit\":64,"
	    "\"Tmpfs\":{\"/results\":\"mode=1777\",\"/tmp\":\"rw,exec,nosuid,nodev,size=64m\"}}}");
	for (int i = 0; i < j->count; i++) {
		char id[65], name[64];
		int code;
		snprintf(name, sizeof(name), "ff-bench-%s", "x");
		ff_uuid_new(name + 9);
		int64_t t0 = ff_now_ms();
		if (docker_container_create(d, name, spec, id, &err) < 0 ||
		    docker_container_start(d, id, &err) < 0 ||
		    docker_container_wait(d, id, 60000, &code, &err) < 0 ||
		    docker_container_remove(d, id, &err) < 0) {
			fprintf(stderr, "floor: %s\n", err.msg);
			exit(1);
		}
		j->ms[i] = (double)(ff_now_ms() - t0);
	}
	cJSON_Delete(spec);
	docker_free(d);
	return NULL;
}

/* Adds total runs, parallel at a time, to s. */
static void run_floor(struct series *s, int total, int parallel)
{
	pthread_t th[8];
	struct floor_job jobs[8];
	double *ms = realloc(s->ms, (size_t)(s->n + total) * sizeof(double));
	if (!ms)
		exit(1);
	s->ms = ms;
	int64_t t0 = ff_now_ms();
	struct cpu_mark cpu0 = cpu_mark();
	for (int i = 0; i < parallel; i++) {
		jobs[i] =
		    (struct floor_job){total / parallel, s->ms + s->n + i * (total / parallel)};
		pthread_create(&th[i], NULL, floor_thread, &jobs[i]);
	}
	for (int i = 0; i < parallel; i++)
		pthread_join(th[i], NULL);
	s->n += total;
	add_block(s, (double)(ff_now_ms() - t0));
	cpu_add(s, &cpu0);
}

/* --- (b) through the platform -------------------------------------------------------------- */

/* The runs ids[0..n), as a uuid[] literal. */
static void id_array(char (*ids)[37], int n, char *out, size_t len)
{
	size_t at = (size_t)snprintf(out, len, "{");
	for (int k = 0; k < n && at < len; k++)
		at += (size_t)snprintf(out + at, len - at, "%s%s", k ? "," : "", ids[k]);
	if (at < len)
		snprintf(out + at, len - at, "}");
}

/* Waits until every run of ids[0..n) has ended, looking every poll_ms, and fails unless all
 * succeeded. The platform is observed through its database, as the floor is through the
 * engine's blocking wait: polling the API for each run would add requests, queries and audit
 * rows to the platform's CPU that no user of the floor pays. Each look is one prepared
 * statement (parsed and planned once, not at every look: planning cost PostgreSQL 0.11 ms a
 * look, three times its execution). Looks are PostgreSQL's CPU, counted as the platform's:
 * the 4-at-a-time series, whose rate follows CPU, looks every 250 ms (a block takes about a
 * second); the 1-at-a-time one every 100 ms, as its next run waits for the look. */
static void wait_ended(struct itest *t, char (*ids)[37], int n, int poll_ms)
{
	static PGconn *prepared_on;
	PGconn *pg = itest_pg(t);
	if (prepared_on != pg) {
		PGresult *r = PQprepare(
		    pg, "bench_ended",
		    "SELECT count(*) FILTER (WHERE state IN ('succeeded', 'failed', 'timed_out', "
		    "'cancelled')), count(*) FILTER (WHERE state = 'succeeded') FROM runs "
		    "WHERE id = ANY($1::uuid[])",
		    1, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fail_msg("prepare: %s", PQerrorMessage(pg));
		PQclear(r);
		prepared_on = pg;
	}
	char arr[BLOCK * 40 + 8];
	const char *p[] = {arr};
	id_array(ids, n, arr, sizeof(arr));
	int64_t deadline = itest_now_ms() + 120000;
	for (;;) {
		PGresult *r = PQexecPrepared(pg, "bench_ended", 1, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
			fail_msg("runs' states: %s", PQerrorMessage(pg));
		long ended = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		long succeeded = strtol(PQgetvalue(r, 0, 1), NULL, 10);
		PQclear(r);
		if (ended == n && succeeded != n)
			fail_msg("a run of the bench did not succeed");
		if (ended == n)
			return;
		if (itest_now_ms() > deadline)
			fail_msg("runs not ended within 120 s");
		itest_pause_ms(poll_ms);
	}
}

/* Each run's started_at and finished_at, in µs of the wall clock, in one query. */
static void ended_at(struct itest *t, char (*ids)[37], int n, int64_t *started, int64_t *finished)
{
	char arr[BLOCK * 40 + 8];
	const char *p[] = {arr};
	id_array(ids, n, arr, sizeof(arr));
	PGresult *r = PQexecParams(
	    itest_pg(t),
	    "SELECT (extract(epoch FROM started_at) * 1000000)::bigint, (extract(epoch FROM "
	    "finished_at) * 1000000)::bigint FROM unnest($1::uuid[]) WITH ORDINALITY u(id, k) "
	    "JOIN runs USING (id) ORDER BY k",
	    1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != n)
		fail_msg("timestamps: %s", PQerrorMessage(itest_pg(t)));
	for (int k = 0; k < n; k++) {
		started[k] = strtoll(PQgetvalue(r, k, 0), NULL, 10);
		finished[k] = strtoll(PQgetvalue(r, k, 1), NULL, 10);
	}
	PQclear(r);
}

/* Each run submitted once the last has ended; returns the sum of their latencies. */
static double one_at_a_time(struct itest *t, const char *body, char (*ids)[37], double *ms,
			    int total)
{
	int64_t submitted_us[BLOCK], started_us[BLOCK], finished_us[BLOCK];
	double wall_ms = 0;
	for (int k = 0; k < total; k++) {
		submitted_us[k] = ff_wall_us();
		if (itest_submit(t, body, ids[k]) != 202)
			exit(1);
		wait_ended(t, ids + k, 1, 100);
	}
	ended_at(t, ids, total, started_us, finished_us);
	for (int k = 0; k < total; k++) {
		ms[k] = (double)(finished_us[k] - submitted_us[k]) / 1000.0;
		wall_ms += ms[k];
	}
	return wall_ms;
}

/* At 4 at a time, how long a freed slot stays empty: the k-th finished_at of a block to its
 * (SLOTS + k)-th started_at (the worker's broker thread taking the next job, the start
 * transition), in ms. The floor's threads start their next container at once. */
static double *handoff_ms;
static int nhandoffs;

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void add_handoffs(const int64_t *started_us, const int64_t *finished_us, int total)
{
	int64_t s[BLOCK], f[BLOCK];
	memcpy(s, started_us, sizeof(*s) * (size_t)total);
	memcpy(f, finished_us, sizeof(*f) * (size_t)total);
	qsort(s, (size_t)total, sizeof(*s), cmp_i64);
	qsort(f, (size_t)total, sizeof(*f), cmp_i64);
	double *h = realloc(handoff_ms, (size_t)(nhandoffs + total) * sizeof(double));
	if (!h)
		exit(1);
	handoff_ms = h;
	for (int k = 0; k + SLOTS < total; k++)
		handoff_ms[nhandoffs++] = (double)(s[k + SLOTS] - f[k]) / 1000.0;
}

/* All submitted at once; returns first POST to last finished_at. */
static double all_at_once(struct itest *t, const char *body, char (*ids)[37], double *ms, int total)
{
	int64_t first_us = ff_wall_us(), started_us[BLOCK], finished_us[BLOCK];
	double wall_ms = 0;
	for (int k = 0; k < total; k++)
		if (itest_submit(t, body, ids[k]) != 202)
			exit(1);
	wait_ended(t, ids, total, 250);
	ended_at(t, ids, total, started_us, finished_us);
	add_handoffs(started_us, finished_us, total);
	for (int k = 0; k < total; k++) {
		ms[k] = (double)(finished_us[k] - started_us[k]) / 1000.0;
		double since_first = (double)(finished_us[k] - first_us) / 1000.0;
		wall_ms = since_first > wall_ms ? since_first : wall_ms;
	}
	return wall_ms;
}

/* Adds total runs to s (see the top of the file for the two ways). */
static void run_platform(struct itest *t, const char *target, struct series *s, int total,
			 bool at_once)
{
	char body[256];
	char(*ids)[37] = calloc((size_t)total, 37);
	double *ms = realloc(s->ms, (size_t)(s->n + total) * sizeof(double));
	if (!ids || !ms || total > BLOCK)
		exit(1);
	s->ms = ms;
	snprintf(body, sizeof(body), "{\"workflow\":\"test-noop\",\"target\":\"%s\"}", target);
	struct cpu_mark cpu0 = cpu_mark();
	add_block(s, at_once ? all_at_once(t, body, ids, ms + s->n, total)
			     : one_at_a_time(t, body, ids, ms + s->n, total));
	cpu_add(s, &cpu0);
	s->n += total;
	free(ids);
}

/* Over the 1-at-a-time runs (the first submitted), where the 4-at-a-time ones' queueing
 * for a slot does not count. */
static void phase_breakdown(struct itest *t, int runs)
{
	char n[16];
	snprintf(n, sizeof(n), "%d", runs);
	printf("\nwhere a platform run's time goes (p50 over the 1-at-a-time runs, ms):\n");
	static const char *const q[][2] = {
	    {"submit → running (queue + pickup)",
	     "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "
	     "started_at - created_at) * 1000) FROM (SELECT * FROM runs WHERE state = "
	     "'succeeded' ORDER BY created_at LIMIT $1::int) r"},
	    {"running → finished (volumes, container, results)",
	     "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "
	     "finished_at - started_at) * 1000) FROM (SELECT * FROM runs WHERE state = "
	     "'succeeded' ORDER BY created_at LIMIT $1::int) r"},
	};
	for (size_t i = 0; i < 2; i++)
		printf("  %-50s %ld\n", q[i][0], itest_sql_long(t, q[i][1], n));
	bench_sort(handoff_ms, nhandoffs);
	printf("  %-50s p50 %.1f, p95 %.1f (n=%d)\n", "a freed slot's next start (4 at a time)",
	       bench_pct(handoff_ms, nhandoffs, 50), bench_pct(handoff_ms, nhandoffs, 95),
	       nhandoffs);
}

static int per_series = 40;

static void bench(void **state)
{
	(void)state;
	struct series f1 = {.name = "engine floor, 1 at a time"};
	struct series f4 = {.name = "engine floor, 4 at a time"};
	struct series p1 = {.name = "platform, 1 at a time"};
	struct series p4 = {.name = "platform, 4 at a time"};
	struct itest t;
	char target[65];
	itest_setup(&t, "bench");
	pid_t controller = itest_start_controller(&t, NULL);
	char concurrency[48];
	snprintf(concurrency, sizeof(concurrency), "FF_WORKER_CONCURRENCY=%d", SLOTS);
	const char *env1[] = {concurrency, NULL};
	pid_t worker = itest_start_worker(&t, env1);
	have_groups = bench_group_join("ff-bench-controller", controller) &&
		      bench_group_join("ff-bench-worker", worker);
	const char *files[] = {"a.txt", "hello\n", NULL};
	itest_upload(&t, files, target);
	bench_pg = itest_pg(&t);
	bench_backend = PQbackendPID(bench_pg);
	/* Floor and platform take turns, a block of BLOCK runs each: an engine getting slower
	 * or faster meanwhile (this machine's disk and neighbours vary by the minute) moves
	 * both alike. */
	for (int done = 0; done < per_series; done += BLOCK) {
		run_floor(&f1, BLOCK, 1);
		run_platform(&t, target, &p1, BLOCK, false);
	}
	for (int done = 0; done < per_series; done += BLOCK) {
		run_floor(&f4, BLOCK, SLOTS);
		run_platform(&t, target, &p4, BLOCK, true);
	}

	printf("\n");
	report(&f1, NULL);
	report(&f4, NULL);
	report(&p1, &f1);
	report(&p4, &f4);
	phase_breakdown(&t, per_series);
	itest_teardown(&t);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		long n = strtol(argv[1], NULL, 10);
		per_series = n >= BLOCK && n <= 10000 ? (int)n : per_series;
	}
	per_series -= per_series % BLOCK;
	const struct CMUnitTest tests[] = {cmocka_unit_test(bench)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
