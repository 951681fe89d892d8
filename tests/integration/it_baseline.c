/* it_baseline — GET /api/v1/runs/{id}/findings?baseline=RUN against the real system: a
 * target changed between two runs (a line added above a finding, a finding fixed, one
 * added) gives the moved finding "unchanged", the added one "new", the fixed one "absent". */
#include "it_reliability.h"

static const cJSON *by_message(const cJSON *arr, const char *msg)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, arr)
	{
		const cJSON *m = cJSON_GetObjectItem(f, "message");
		if (cJSON_IsString(m) && !strcmp(m->valuestring, msg))
			return f;
	}
	return NULL;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static void new_unchanged_absent(void **state)
{
	(void)state;
	struct itest t;
	char v1[65], v2[65], body[256], before[37], after[37], path[256];
	itest_setup(&t, "baseline");
	itest_start_controller(&t, NULL);
	itest_start_worker(&t, NULL);
	const char *old_files[] = {"a.txt", "x\nBUG one\nBUG two\n", NULL};
	const char *new_files[] = {"a.txt", "an added line\nx\nBUG one\nBUG three\n", NULL};
	itest_upload(&t, old_files, v1);
	itest_upload(&t, new_files, v2);
	assert_int_equal(
	    itest_submit(&t, rel_body(body, sizeof(body), "test-baseline", v1, NULL, 0), before),
	    202);
	assert_int_equal(
	    itest_submit(&t, rel_body(body, sizeof(body), "test-baseline", v2, NULL, 0), after),
	    202);
	cJSON_Delete(itest_wait_terminal(&t, before, 60000));
	cJSON_Delete(itest_wait_terminal(&t, after, 60000));

	struct itest_resp r;
	snprintf(path, sizeof(path), "/api/v1/runs/%s/findings?baseline=%s", after, before);
	itest_get_ok(&t, path, &r);
	const cJSON *findings = cJSON_GetObjectItem(r.json, "findings");
	assert_int_equal(cJSON_GetArraySize(findings), 2);
	const cJSON *moved = by_message(findings, "BUG one"),
		    *added = by_message(findings, "BUG three");
	assert_non_null(moved);
	assert_non_null(added);
	assert_int_equal(cJSON_GetObjectItem(moved, "start_line")->valueint, 3); /* was 2 */
	assert_string_equal(str(moved, "baseline_state"), "unchanged");
	assert_string_equal(str(added, "baseline_state"), "new");
	const cJSON *absent = cJSON_GetObjectItem(r.json, "absent");
	assert_int_equal(cJSON_GetArraySize(absent), 1);
	assert_string_equal(str(cJSON_GetArrayItem(absent, 0), "message"), "BUG two");
	assert_string_equal(str(cJSON_GetArrayItem(absent, 0), "baseline_state"), "absent");
	assert_int_equal(cJSON_GetObjectItem(r.json, "new")->valueint, 1);
	assert_string_equal(str(r.json, "baseline"), before);
	itest_resp_release(&r);

	/* without a baseline, no baseline fields */
	snprintf(path, sizeof(path), "/api/v1/runs/%s/findings", after);
	itest_get_ok(&t, path, &r);
	assert_null(cJSON_GetObjectItem(r.json, "absent"));
	assert_null(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "findings"), 0), "baseline_state"));
	itest_resp_release(&r);
	/* a baseline that is no run id, or no run */
	snprintf(path, sizeof(path), "/api/v1/runs/%s/findings?baseline=yesterday", after);
	assert_int_equal(rel_call(&t, "GET", path, NULL), 422);
	snprintf(path, sizeof(path),
		 "/api/v1/runs/%s/findings?baseline=00000000-0000-4000-8000-000000000000", after);
	assert_int_equal(rel_call(&t, "GET", path, NULL), 422);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(new_unchanged_absent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
