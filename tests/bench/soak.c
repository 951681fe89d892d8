/* soak — "no accepted run is ever lost", under sustained chaos. Not a test: it prints
 * figures (and exits 1 if a run was lost or duplicated).
 *
 * N runs of test-noop are submitted over the REST API to one controller and three workers
 * (concurrency 2 each, 3 s leases), with at most MAX_INFLIGHT unfinished at a time, while
 * every few seconds (4 by default) a random worker is killed with SIGKILL and replaced, and
 * RabbitMQ is stopped and started (stop_app / start_app) at a third and at two thirds of
 * the submissions. Then it waits (bounded) for every accepted run to finish and reports, from
 * PostgreSQL: accepted, succeeded, failed, lost (accepted, not terminal at the deadline),
 * duplicated (more than one result row or terminal event), and submit-to-finish latency.
 * Usage: soak [runs, default 2000] [seconds between worker kills, default 4] */

#include "it_reliability.h"

#define WORKERS		3
#define MAX_INFLIGHT	24
#define FINISH_WAIT_MS	300000
#define SUBMIT_WAIT_MS	(20 * 60 * 1000)
#define SOAK_WORKER_TAG "soak-w"

struct fleet {
	struct itest *t;
	pid_t pid[WORKERS];
	int generation;
	int kills;
};

/* Starts worker slot i without waiting for it (it may start during a broker outage). */
static void worker_spawn(struct fleet *f, int i)
{
	char id[64], log[512], id_env[96], port_env[64], db_env[300], amqp_env[300];
	f->generation++;
	snprintf(id, sizeof(id), SOAK_WORKER_TAG "%d-%d", i, f->generation);
	snprintf(log, sizeof(log), "%s/soak-%s.log", ITEST_LOG_DIR, id);
	snprintf(id_env, sizeof(id_env), "FF_WORKER_ID=%s", id);
	snprintf(port_env, sizeof(port_env), "FF_LISTEN=127.0.0.1:%d", f->t->port);
	snprintf(db_env, sizeof(db_env), "DATABASE_URL=%s", f->t->db_url);
	snprintf(amqp_env, sizeof(amqp_env), "AMQP_URL=%s", f->t->amqp_url);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		itest_child_setup(log);
		putenv(id_env);
		putenv(port_env);
		putenv(db_env);
		putenv(amqp_env);
		putenv("FF_WORKFLOWS_DIR=" ITEST_WORKFLOWS_DIR);
		putenv("FF_WORKER_CONCURRENCY=2");
		putenv("FF_LEASE_S=3");
		putenv("FF_WORKER_DRAIN_S=5");
		putenv("FF_LOG_LEVEL=info");
		execl(ITEST_WORKER, ITEST_WORKER, (char *)NULL);
		_exit(127);
	}
	f->pid[i] = pid;
}

static void worker_kill(struct fleet *f, int i)
{
	kill(f->pid[i], SIGKILL);
	waitpid(f->pid[i], NULL, 0);
	f->kills++;
}

static void fleet_stop(struct fleet *f)
{
	for (int i = 0; i < WORKERS; i++)
		if (f->pid[i] > 0)
			kill(f->pid[i], SIGTERM);
	for (int i = 0; i < WORKERS; i++)
		if (f->pid[i] > 0)
			waitpid(f->pid[i], NULL, 0);
}

static long sql(struct itest *t, const char *q)
{
	return itest_sql_long(t, q, NULL);
}

/* Containers and volumes of killed workers' attempts that nobody ran again (runs that lost
 * their worker too often and failed): counted, then removed. */
static long remove_leftovers(void)
{
	static const char *const list[] = {
	    "docker ps -a --filter label=fuzzforge.run --format "
	    "'{{.ID}} {{.Label \"fuzzforge.worker\"}}' | grep ' " SOAK_WORKER_TAG "'",
	    "docker volume ls --filter label=fuzzforge.run --format "
	    "'{{.Name}} {{.Label \"fuzzforge.worker\"}}' | grep ' " SOAK_WORKER_TAG "'",
	};
	long n = 0;
	for (size_t i = 0; i < 2; i++) {
		long k = rel_shell_lines(list[i]);
		n += k > 0 ? k : 0;
	}
	if (system("docker ps -a --filter label=fuzzforge.run --format "
		   "'{{.ID}} {{.Label \"fuzzforge.worker\"}}' | grep ' " SOAK_WORKER_TAG
		   "' | cut -d' ' -f1 | xargs -r docker rm -f >/dev/null; "
		   "docker volume ls --filter label=fuzzforge.run --format "
		   "'{{.Name}} {{.Label \"fuzzforge.worker\"}}' | grep ' " SOAK_WORKER_TAG
		   "' | cut -d' ' -f1 | xargs -r docker volume rm -f >/dev/null") != 0)
		fprintf(stderr, "soak: leftover cleanup incomplete\n");
	return n;
}

static int runs_total = 2000;
static int kill_every_ms = 4000;
static int soak_failed;

static void soak(void **state)
{
	(void)state;
	struct itest t;
	struct fleet f = {.t = &t};
	char target[65], body[256];
	long accepted = 0, refused = 0, broker_restarts = 0;
	pid_t broker = 0;
	unsigned seed = (unsigned)getpid();
	srandom(seed);

	itest_setup(&t, "soak");
	const char *cenv[] = {"FF_LEASE_S=3", "FF_LOG_LEVEL=info", NULL};
	itest_start_controller(&t, cenv);
	for (int i = 0; i < WORKERS; i++)
		worker_spawn(&f, i);
	const char *files[] = {"soak.txt", "soak\n", NULL};
	itest_upload(&t, files, target);
	rel_body(body, sizeof(body), "test-noop", target, NULL, 0);

	int64_t t0 = itest_now_ms(), next_kill = t0 + kill_every_ms;
	int submitted = 0;
	while (submitted < runs_total) {
		if (itest_now_ms() - t0 > SUBMIT_WAIT_MS)
			fail_msg("submissions took over %d s", SUBMIT_WAIT_MS / 1000);
		int64_t now = itest_now_ms();
		if (now >= next_kill) {
			int i = (int)(random() % WORKERS);
			worker_kill(&f, i);
			worker_spawn(&f, i);
			next_kill = now + kill_every_ms;
		}
		if (broker && rel_reaped(broker, NULL))
			broker = 0;
		if (!broker && broker_restarts < 2 &&
		    submitted >= runs_total * (broker_restarts + 1) / 3) {
			broker = rel_spawn_shell("rabbitmqctl -q stop_app >/dev/null 2>&1; "
						 "rabbitmqctl -q start_app >/dev/null 2>&1");
			broker_restarts++;
		}
		char inflight[32];
		if (rel_sql_try_text(
			&t, "SELECT count(*) FROM runs WHERE state NOT IN " REL_TERMINAL_STATES,
			NULL, inflight, sizeof(inflight)) < 0 ||
		    strtol(inflight, NULL, 10) >= MAX_INFLIGHT) {
			itest_pause_ms(REL_POLL_MS);
			continue;
		}
		struct itest_resp r;
		if (itest_http(&t, "POST", "/api/v1/runs", "application/json", body, strlen(body),
			       1, &r) == 0 &&
		    r.status == 202)
			accepted++;
		else
			refused++;
		itest_resp_release(&r);
		submitted++;
	}
	int64_t submit_ms = itest_now_ms() - t0;
	while (broker && !rel_reaped(broker, NULL))
		itest_pause_ms(REL_POLL_MS);
	if (rel_broker("start_app") < 0) /* whatever happened, leave it running */
		fprintf(stderr, "soak: rabbitmqctl start_app failed\n");

	int64_t deadline = itest_now_ms() + FINISH_WAIT_MS;
	long open_runs;
	while ((open_runs = sql(
		    &t, "SELECT count(*) FROM runs WHERE state NOT IN " REL_TERMINAL_STATES)) > 0 &&
	       itest_now_ms() < deadline)
		itest_pause_ms(REL_POLL_MS);
	int64_t wall_ms = itest_now_ms() - t0;

	long rows = sql(&t, "SELECT count(*) FROM runs");
	long succeeded = sql(&t, "SELECT count(*) FROM runs WHERE state = 'succeeded'");
	long failed = sql(&t, "SELECT count(*) FROM runs WHERE state IN ('failed', 'timed_out', "
			      "'cancelled')");
	long lost = open_runs + (accepted > rows ? accepted - rows : 0);
	long duplicated =
	    sql(&t, "SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM "
		    "run_results x WHERE x.run_id = r.id) > 1 OR (SELECT count(*) "
		    "FROM run_events e WHERE e.run_id = r.id AND e.state IN " REL_TERMINAL_STATES
		    ") > 1");
	long p50 = sql(&t, "SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY "
			   "extract(epoch FROM finished_at - created_at) * 1000), 0)::bigint "
			   "FROM runs WHERE state IN " REL_TERMINAL_STATES);
	long p99 = sql(&t, "SELECT coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY "
			   "extract(epoch FROM finished_at - created_at) * 1000), 0)::bigint "
			   "FROM runs WHERE state IN " REL_TERMINAL_STATES);
	long requeued = sql(&t, "SELECT count(*) FROM run_events WHERE message LIKE "
				"'lease expired on worker %: requeued'");
	long gave_up = sql(&t, "SELECT count(*) FROM runs WHERE error LIKE 'lost its worker%'");
	fleet_stop(&f);
	long leftovers = remove_leftovers();

	printf("\nsoak: %d runs of test-noop, %d workers x 2, seed %u\n", runs_total, WORKERS,
	       seed);
	printf("  chaos       %d worker kills (SIGKILL), %ld broker stop_app/start_app\n", f.kills,
	       broker_restarts);
	printf("  submitted   %d in %.1f s (%ld refused)\n", submitted, submit_ms / 1000.0,
	       refused);
	printf("  accepted    %ld\n", accepted);
	printf("  succeeded   %ld\n", succeeded);
	printf("  failed      %ld (of which %ld lost their worker 3 times)\n", failed, gave_up);
	printf("  lost        %ld\n", lost);
	printf("  duplicated  %ld\n", duplicated);
	printf("  requeued    %ld attempts after a lease expired\n", requeued);
	printf("  latency     submit-to-finish p50 %ld ms, p99 %ld ms\n", p50, p99);
	printf("  wall        %.1f s\n", wall_ms / 1000.0);
	printf("  docker      %ld leftovers of killed workers removed\n", leftovers);
	soak_failed = lost != 0 || duplicated != 0 || rows != accepted;
	itest_teardown(&t);
}

static int restore_broker(void **state)
{
	(void)state;
	return rel_broker("start_app");
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		long n = strtol(argv[1], NULL, 10);
		runs_total = n >= 1 && n <= 100000 ? (int)n : runs_total;
	}
	if (argc > 2) {
		long s = strtol(argv[2], NULL, 10);
		kill_every_ms = s >= 1 && s <= 3600 ? (int)s * 1000 : kill_every_ms;
	}
	const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(soak, restore_broker)};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	return rc || soak_failed;
}
