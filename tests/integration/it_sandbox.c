/* it_sandbox — the sandbox's limits seen from a workflow, against the real worker and
 * engine: /tmp is an executable tmpfs (builds run there, not on the results volume); the
 * network of a run without one is loopback only, in a namespace of its own; a
 * workflow that writes past FF_RESULTS_MAX_MB, or that stops making progress (no output for
 * FF_WORKER_STALL_S), is stopped and its run fails saying so, long before its timeout, with
 * nothing left on the engine. */
#include "it_reliability.h"

static const char *const target_files[] = {"a.c", "int a;\n", NULL};

/* A test-sandbox run in the given mode succeeds: what it checks from inside held. */
static void sandbox_mode_succeeds(const char *scope, const char *params)
{
	struct itest t;
	char target[65], body[256], id[37], v[512];
	itest_setup(&t, scope);
	itest_start_controller(&t, NULL);
	itest_start_worker(&t, NULL);
	itest_upload(&t, target_files, target);
	assert_int_equal(
	    itest_submit(&t, rel_body(body, sizeof(body), "test-sandbox", target, params, 0), id),
	    202);
	cJSON_Delete(itest_wait_terminal(&t, id, 60000));
	rel_sql_text(&t, "SELECT state || ' ' || coalesce(error, '') FROM runs WHERE id = $1", id,
		     v, sizeof(v));
	assert_string_equal(v, "succeeded ");
	itest_teardown(&t);
}

static void tmp_is_executable(void **state)
{
	(void)state;
	sandbox_mode_succeeds("sandbox_tmp", "{\"mode\":\"tmp-exec\"}");
}

/* Network "none" is made without libnetwork (NetworkDisabled): the container must still
 * have a network namespace of its own, with loopback only, not the host's. */
static void network_is_loopback_only(void **state)
{
	(void)state;
	sandbox_mode_succeeds("sandbox_net", "{\"mode\":\"net\"}");
}

static void results_cap_stops_the_workflow(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], id[37], v[512];
	itest_setup(&t, "sandbox_fill");
	itest_start_controller(&t, NULL);
	const char *env[] = {"FF_RESULTS_MAX_MB=4", NULL};
	itest_start_worker(&t, env);
	itest_upload(&t, target_files, target);
	assert_int_equal(itest_submit(&t,
				      rel_body(body, sizeof(body), "test-sandbox", target,
					       "{\"mode\":\"fill\"}", 0),
				      id),
			 202);
	/* the workflow writes forever and its timeout is 300 s: only the cap ends it */
	cJSON_Delete(itest_wait_terminal(&t, id, 90000));
	rel_sql_text(&t, "SELECT state || ' ' || error FROM runs WHERE id = $1", id, v, sizeof(v));
	if (strncmp(v, "failed results over 4 MB", 24) != 0)
		fail_msg("run ended '%s', not failed for its results' size", v);
	rel_wait_no_leftovers(id, 30000, "the stopped run");
	itest_teardown(&t);
}

static void silent_workflow_is_stopped(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], id[37], v[512];
	itest_setup(&t, "sandbox_stall");
	itest_start_controller(&t, NULL);
	const char *env[] = {"FF_WORKER_STALL_S=3", NULL};
	itest_start_worker(&t, env);
	itest_upload(&t, target_files, target);
	assert_int_equal(
	    itest_submit(
		&t, rel_body(body, sizeof(body), "test-long", target, "{\"seconds\":600}", 0), id),
	    202);
	/* silent for 600 s with a 600 s timeout: only the stall watch ends it */
	cJSON_Delete(itest_wait_terminal(&t, id, 90000));
	rel_sql_text(&t, "SELECT state || ' ' || error FROM runs WHERE id = $1", id, v, sizeof(v));
	if (strncmp(v, "failed no output for 3 s", 24) != 0)
		fail_msg("run ended '%s', not failed for its silence", v);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tmp_is_executable),
	    cmocka_unit_test(network_is_loopback_only),
	    cmocka_unit_test(results_cap_stops_the_workflow),
	    cmocka_unit_test(silent_workflow_is_stopped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
