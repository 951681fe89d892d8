/* it_balancer — controllers scale out: two controllers behind HAProxy (Debian's haproxy, run
 * with deploy/images/haproxy/haproxy.cfg, the addresses rewritten), one of them killed with
 * SIGKILL in the middle of a stream of submissions. The client retries what the balancer
 * refuses (502/503/504) under the same Idempotency-Key, as README § Farm says a client must:
 * every submission ends with one run, every run in exactly one terminal state, nothing
 * accepted is lost. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "itest.h"

#define SUBMITS	   150
#define KILL_AFTER 50
#define CFG	   ITEST_REPO "/deploy/images/haproxy/haproxy.cfg"

/* The deploy file with its listener and servers on this test's ports, and without the
 * Docker DNS resolver (the addresses are literal here). */
static void write_cfg(const char *path, int port, int a, int b)
{
	char *text = itest_read_file(CFG);
	assert_non_null(text);
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	int skipping = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *t = line + strspn(line, "\t ");
		if (!strncmp(line, "resolvers ", 10)) {
			skipping = 1;
			continue;
		}
		if (skipping && line[0] != '\t' && line[0] != '#')
			skipping = 0;
		if (skipping)
			continue;
		if (!strncmp(t, "bind ", 5))
			fprintf(out, "\tbind 127.0.0.1:%d\n", port);
		else if (!strncmp(t, "server controller1 ", 19))
			fprintf(out, "\tserver controller1 127.0.0.1:%d check\n", a);
		else if (!strncmp(t, "server controller2 ", 19))
			fprintf(out, "\tserver controller2 127.0.0.1:%d check\n", b);
		else if (!strncmp(t, "default-server ", 15))
			fprintf(out, "\tdefault-server inter 500ms fall 2 rise 2\n");
		else
			fprintf(out, "%s\n", line);
	}
	fclose(out);
	free(text);
}

static void kill_one_controller(void **state)
{
	(void)state;
	struct itest t;
	char target[65], cfg[128], body[256], key[64], ids[SUBMITS][37];
	itest_setup(&t, "balancer");
	int port_a = t.port, port_b = itest_free_port(), port_lb = itest_free_port();
	pid_t a = itest_start_controller(&t, NULL);
	itest_use_port(&t, port_b);
	itest_start_controller(&t, NULL);

	snprintf(cfg, sizeof(cfg), "%s/balancer-%d.cfg", ITEST_LOG_DIR, port_lb);
	write_cfg(cfg, port_lb, port_a, port_b);
	char *argv[] = {"/usr/sbin/haproxy", "-db", "-f", cfg, NULL};
	itest_spawn(&t, "haproxy", argv);
	itest_use_port(&t, port_lb);
	itest_wait_ready(&t, 0, "the balancer");
	itest_start_worker(&t, (const char *[]){"FF_WORKER_CONCURRENCY=4", NULL});

	const char *files[] = {"a.txt", "balanced\n", NULL};
	itest_upload(&t, files, target);
	snprintf(body, sizeof(body), "{\"workflow\":\"test-noop\",\"target\":\"%s\"}", target);
	int retried = 0;
	for (int i = 0; i < SUBMITS; i++) {
		if (i == KILL_AFTER) {
			assert_int_equal(itest_stop(&t, a, SIGKILL, 10000), 128);
			printf("balancer: controller A killed after %d submissions\n", i);
		}
		snprintf(key, sizeof(key), "balancer-%d", i);
		int64_t deadline = itest_now_ms() + 30000;
		long st;
		while ((st = itest_submit_idempotent(&t, key, body, ids[i])) != 202 && st != 200) {
			if (st != 502 && st != 503 && st != 504)
				fail_msg("submission %d answered %ld", i, st);
			if (itest_now_ms() > deadline)
				fail_msg("submission %d still refused after 30 s (%ld)", i, st);
			retried++;
			itest_pause_ms(50);
		}
	}
	/* both took submissions: the one killed was in rotation */
	char log_a[256], log_b[256];
	snprintf(log_a, sizeof(log_a), "%s/balancer-controller-0.log", ITEST_LOG_DIR);
	snprintf(log_b, sizeof(log_b), "%s/balancer-controller-1.log", ITEST_LOG_DIR);
	int by_a = itest_file_lines(log_a, "POST /api/v1/runs 202"),
	    by_b = itest_file_lines(log_b, "POST /api/v1/runs 202");
	printf("balancer: %d submissions accepted (%d by A before it died, %d by B), %d refusals "
	       "retried by the client\n",
	       SUBMITS, by_a, by_b, retried);
	assert_true(by_a > 0 && by_b > 0);
	for (int i = 0; i < SUBMITS; i++) {
		cJSON *run = itest_wait_terminal(&t, ids[i], 180000);
		assert_string_equal(itest_str(run, "state"), "succeeded");
		cJSON_Delete(run);
	}
	/* one run per submission, one terminal event per run */
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM runs", NULL), SUBMITS);
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(DISTINCT idempotency_key) FROM runs", NULL), SUBMITS);
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_events WHERE state = 'succeeded'", NULL),
	    SUBMITS);
	itest_teardown(&t);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const struct CMUnitTest tests[] = {cmocka_unit_test(kill_one_controller)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
