/* test_metrics — the Prometheus text writers (ff_metrics), the worker's folding of Engine
 * API paths into call names (wmetrics) and its exposition. promtool judges whole replies in
 * integration.it_metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ff_metrics.h"
#include "wmetrics.h"

static void labels_are_escaped(void **state)
{
	(void)state;
	char l[64] = "";
	ff_metrics_label(l, sizeof(l), "route", "/a/{id}");
	ff_metrics_label(l, sizeof(l), "x", "q\"b\\s\nn");
	assert_string_equal(l, "route=\"/a/{id}\",x=\"q\\\"b\\\\s\\nn\"");
	char tiny[12] = "";
	ff_metrics_label(tiny, sizeof(tiny), "key", "a long value");
	assert_true(strlen(tiny) < sizeof(tiny));
}

static void histogram_is_cumulative(void **state)
{
	(void)state;
	struct ff_histogram h = {0};
	ff_histogram_observe(&h, 0.0005); /* <= 1 ms */
	ff_histogram_observe(&h, 0.003);  /* <= 5 ms */
	ff_histogram_observe(&h, 7200);	  /* past the last bound: +Inf only */
	struct ff_buf b;
	ff_buf_init(&b, SIZE_MAX);
	ff_metrics_histogram(&b, "t_seconds", "a=\"1\"", &h);
	const char *s = ff_buf_str(&b);
	assert_non_null(strstr(s, "t_seconds_bucket{a=\"1\",le=\"0.001\"} 1\n"));
	assert_non_null(strstr(s, "t_seconds_bucket{a=\"1\",le=\"0.005\"} 2\n"));
	assert_non_null(strstr(s, "t_seconds_bucket{a=\"1\",le=\"3600\"} 2\n"));
	assert_non_null(strstr(s, "t_seconds_bucket{a=\"1\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(s, "t_seconds_count{a=\"1\"} 3\n"));
	assert_non_null(strstr(s, "t_seconds_sum{a=\"1\"} 7200.0035"));
	ff_buf_release(&b);
	ff_buf_init(&b, SIZE_MAX);
	ff_metrics_histogram(&b, "u_seconds", NULL, &h);
	assert_non_null(strstr(ff_buf_str(&b), "u_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(ff_buf_str(&b), "u_seconds_count 3\n"));
	ff_buf_release(&b);
}

static void engine_calls_fold_ids(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
	    {"POST", "/v1.41/containers/8f3e01/start", "POST /containers/{id}/start"},
	    {"POST", "/containers/create?name=ff-run-1", "POST /containers/create"},
	    {"PUT", "/containers/abc/archive?path=/target", "PUT /containers/{id}/archive"},
	    {"DELETE", "/volumes/ff-target-12", "DELETE /volumes/{id}"},
	    {"GET", "/volumes?filters=x", "GET /volumes"},
	    {"GET", "/_ping", "GET /_ping"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char n[96];
		wmetrics_call_name(cases[i][0], cases[i][1], n, sizeof(n));
		assert_string_equal(n, cases[i][2]);
	}
}

static void worker_exposition(void **state)
{
	(void)state;
	wmetrics_slots(1, 4);
	wmetrics_run("secret-detection", "done", 0.2);
	wmetrics_run("secret-detection", "retry", 1.5);
	wmetrics_engine_call("POST", "/containers/x/wait", 0.01, false);
	wmetrics_engine_call("POST", "/containers/y/wait", 0.02, true);
	struct ff_buf b;
	ff_buf_init(&b, SIZE_MAX);
	wmetrics_render(&b);
	const char *s = ff_buf_str(&b);
	assert_non_null(strstr(
	    s, "fuzzforge_worker_runs_total{workflow=\"secret-detection\",outcome=\"done\"} 1\n"));
	assert_non_null(
	    strstr(s, "fuzzforge_run_duration_seconds_count{workflow=\"secret-detection\"} 2\n"));
	assert_non_null(strstr(s, "fuzzforge_engine_call_duration_seconds_count{call=\"POST "
				  "/containers/{id}/wait\"} 2\n"));
	assert_non_null(strstr(
	    s, "fuzzforge_engine_call_failures_total{call=\"POST /containers/{id}/wait\"} 1\n"));
	assert_non_null(strstr(s, "fuzzforge_worker_slots{state=\"busy\"} 1\n"));
	assert_non_null(strstr(s, "fuzzforge_worker_slots{state=\"free\"} 3\n"));
	assert_non_null(strstr(s, "# TYPE process_resident_memory_bytes gauge\n"));
	ff_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(labels_are_escaped),
	    cmocka_unit_test(histogram_is_cumulative),
	    cmocka_unit_test(engine_calls_fold_ids),
	    cmocka_unit_test(worker_exposition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
