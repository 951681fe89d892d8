/* it_workflow_libfuzzer — the libfuzzer workflow end to end on the real platform: the
 * examples/c-vuln sample is uploaded and fuzzed for 30 s by a worker in the workflow's image,
 * which must find exactly the crash EXPECTED-fuzz.json lists, keep a reproducer that really is
 * one (it starts with the parser's magic), stream ::progress lines while it runs, and write a
 * SARIF log that validates against the official schema and carries what GitHub code scanning
 * needs (sarif_github.py: rule help, security-severity, tags, codeFlows). examples/clean has
 * no harness: the run fails with "no fuzz harness found" in its error. A harness that does not
 * compile is a note, not a failure, unless nothing built at all; a fuzzer the parameters name but
 * the target lacks is a note.
 *
 * The image must exist: tests/integration/build_workflow_images.sh builds it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "itest.h"

#define RUN_TIMEOUT  600000
#define MAX_FINDINGS 64

static struct itest T;
static char sample_run[37], clean_run[37], notes_run[37], broken_run[37], hostile_run[37];

/* What the workflow promises of its SARIF log beyond the official schema (itest_check_sarif):
 * rule indexes, crash signatures, and a reproducer artifact named in each crash. */
static const char sarif_checks_py[] =
    "run = log['runs'][0]\n"
    "d = run['tool']['driver']\n"
    "assert d['name'] == 'libFuzzer' and d['version'], 'driver'\n"
    "rules = d.get('rules', [])\n"
    "for x in run['results']:\n"
    "    assert rules[x['ruleIndex']]['id'] == x['ruleId'], 'ruleIndex of %s' % x\n"
    "    fp = x['partialFingerprints']['crashSignature/v1']\n"
    "    assert len(fp) == 64, fp\n"
    "    if x['level'] == 'error':\n"
    "        art = x['properties']['reproducer']\n"
    "        assert art.startswith('crash-') and fp[:16] in art, art\n"
    "        assert x['properties']['reproducerSize'] > 0\n"
    "        assert x['stacks'][0]['frames'], 'stack'\n";

static void submit(const char *target, const char *params, char id[37])
{
	itest_submit_workflow(&T, "libfuzzer", target, params, id);
}

static int setup(void **state)
{
	(void)state;
	char sample[65], clean[65], notes[65], broken[65];
	/* one harness that builds and fuzzes cleanly, one that does not compile (line 4) */
	const char *notes_files[] = {"fuzz/fuzz_ok.c",
				     "#include <stddef.h>\n#include <stdint.h>\n"
				     "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
				     "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)\n"
				     "{\n\treturn n > 1 && d[0] == 'x' ? 0 : 0;\n}\n",
				     "fuzz/fuzz_broken.c",
				     "#include <stddef.h>\n#include <stdint.h>\n"
				     "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)\n"
				     "{\treturn (int)n + ;\n}\n",
				     NULL};
	const char *broken_files[] = {notes_files[2], notes_files[3], NULL};
	/* A build script as an attacker writes it: it tries to ptrace the runner (PID 1) and
	 * leaves a process rewriting results.sarif with a forged log as fast as it can. */
	const char *hostile_files[] = {
	    "fuzz/fuzz_ok.c", notes_files[1], "fuzz/build.sh",
	    "#!/bin/sh\n"
	    "$CC $CFLAGS $LIB_FUZZING_ENGINE fuzz/fuzz_ok.c -o $OUT/fuzz_ok\n"
	    "mkdir -p /results/artifacts\n"
	    "python3 -c 'import ctypes; l = ctypes.CDLL(None, use_errno=True); "
	    "r = l.ptrace(16, 1, 0, 0); print(\"attach\", r, \"errno\", ctypes.get_errno())' "
	    "> /results/artifacts/ptrace.txt\n"
	    "printf '%s' '{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":"
	    "\"forged\"}},\"results\":[{\"ruleId\":\"FORGED\",\"message\":{\"text\":\"x\"}}]}]}' "
	    "> $WORK/forged.sarif\n"
	    "setsid sh -c 'while :; do cp $0 /results/results.sarif 2>/dev/null; done' "
	    "$WORK/forged.sarif </dev/null >/dev/null 2>&1 &\n",
	    NULL};

	itest_require_image("fuzzforge/libfuzzer:1.0.0");
	itest_setup_workflows(&T, "workflow_libfuzzer");
	itest_upload_dir(&T, ITEST_REPO "/examples/c-vuln", sample);
	itest_upload_dir(&T, ITEST_REPO "/examples/clean", clean);
	itest_upload(&T, notes_files, notes);
	itest_upload(&T, broken_files, broken);
	char hostile[65];
	itest_upload(&T, hostile_files, hostile);
	/* the campaign first; the worker takes the short runs beside it */
	submit(sample, "{\"max_total_time\":30}", sample_run);
	submit(clean, "{}", clean_run);
	submit(notes, "{\"max_total_time\":4,\"fuzzers\":\"fuzz_ok,fuzz_broken,no_such\"}",
	       notes_run);
	submit(broken, "{\"max_total_time\":4}", broken_run);
	submit(hostile, "{\"max_total_time\":4}", hostile_run);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown(&T);
	return 0;
}

/* Waits for the run to succeed, checks its SARIF log; returns its findings (caller deletes).
 * If max_progress, polls while it runs and stores the highest progress seen below 100. */
static cJSON *finished_run(const char *id, const char *what, int *max_progress)
{
	char path[128];
	struct itest_resp r;

	if (max_progress) {
		*max_progress = 0;
		snprintf(path, sizeof(path), "/api/v1/runs/%s", id);
		for (int i = 0; i < RUN_TIMEOUT / 250; i++) {
			/* a failed poll is no verdict: itest_wait_terminal has the last word */
			assert_int_equal(itest_http(&T, "GET", path, NULL, NULL, 0, 1, &r), 0);
			const char *state = r.status == 200 ? itest_str(r.json, "state") : NULL;
			const cJSON *pg = cJSON_GetObjectItem(r.json, "progress");
			if (state && strcmp(state, "running") == 0 && cJSON_IsNumber(pg) &&
			    pg->valueint < 100 && pg->valueint > *max_progress)
				*max_progress = pg->valueint;
			int done = state && strcmp(state, "queued") != 0 &&
				   strcmp(state, "running") != 0 && strcmp(state, "retrying") != 0;
			itest_resp_release(&r);
			if (done)
				break;
			itest_pause_ms(250);
		}
	}
	char *checks =
	    itest_github_checks(sarif_checks_py, ITEST_REPO "/examples/c-vuln", "libfuzzer//", 1);
	cJSON *findings = itest_finished_run(&T, id, RUN_TIMEOUT, checks, what);
	free(checks);
	return findings;
}

/* The sorted "rule_id path start_line" of each finding of the level (any if NULL); the
 * caller frees them. */
static size_t keys_of(const cJSON *arr, const char *level, char **keys)
{
	size_t n = 0;
	const cJSON *f;
	cJSON_ArrayForEach(f, arr)
	{
		if (level && itest_str(f, "level") && strcmp(itest_str(f, "level"), level) != 0)
			continue;
		assert_true(n < MAX_FINDINGS);
		const cJSON *line = cJSON_GetObjectItem(f, "start_line");
		const char *path = itest_str(f, "path");
		assert_non_null(itest_str(f, "rule_id"));
		if (asprintf(&keys[n], "%s %s %d", itest_str(f, "rule_id"), path ? path : "-",
			     cJSON_IsNumber(line) ? line->valueint : 0) < 0)
			fail_msg("out of memory");
		n++;
	}
	itest_sort_strs(keys, n);
	return n;
}

static void assert_keys(char **got, size_t ngot, char *const *want, size_t nwant, const char *what)
{
	itest_assert_same_keys(got, ngot, want, nwant, what);
	for (size_t i = 0; i < ngot; i++)
		free(got[i]);
}

static void sample_finds_the_overflow(void **state)
{
	(void)state;
	char path[256], *got[MAX_FINDINGS], *want[MAX_FINDINGS];
	struct itest_resp r;
	int max_progress;
	time_t t0 = time(NULL);

	cJSON *findings = finished_run(sample_run, "libfuzzer on c-vuln", &max_progress);
	print_message("  campaign of 30 s finished in %ld s, progress seen up to %d%%\n",
		      (long)(time(NULL) - t0), max_progress);

	snprintf(path, sizeof(path), "/api/v1/runs/%s/sarif", sample_run);
	itest_get_ok(&T, path, &r);
	const cJSON *props = cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "runs"), 0), "properties");
	const cJSON *fz = cJSON_GetArrayItem(cJSON_GetObjectItem(props, "fuzzers"), 0);
	const cJSON *first = cJSON_GetObjectItem(fz, "firstCrashAfterS");
	assert_true(cJSON_IsNumber(first));
	print_message("  first crash input after %.1f s of fuzzing, %d exec/s\n",
		      first->valuedouble, cJSON_GetObjectItem(fz, "execPerSec")->valueint);
	itest_resp_release(&r);

	/* exactly the crashes EXPECTED-fuzz.json lists */
	char *text = itest_read_file(ITEST_REPO "/examples/c-vuln/EXPECTED-fuzz.json");
	cJSON *expected = cJSON_Parse(text);
	free(text);
	assert_true(cJSON_IsArray(expected));
	size_t nwant = keys_of(expected, NULL, want);
	assert_true(nwant > 0);
	size_t ngot = keys_of(findings, "error", got);
	assert_keys(got, ngot, want, nwant, "libfuzzer on c-vuln");
	for (size_t i = 0; i < nwant; i++)
		free(want[i]);
	cJSON_Delete(expected);
	const cJSON *f = cJSON_GetArrayItem(findings, 0);
	assert_non_null(strstr(itest_str(f, "message"), "parse_name"));
	assert_non_null(strstr(itest_str(f, "message"), "fuzz_parse"));
	assert_int_equal(strlen(itest_str(f, "fingerprint")), 64);
	cJSON_Delete(findings);

	/* the reproducer: one crash-fuzz_parse-* artifact, an input the parser accepts */
	snprintf(path, sizeof(path), "/api/v1/runs/%s/artifacts", sample_run);
	itest_get_ok(&T, path, &r);
	const cJSON *a, *crash = NULL;
	int ncrash = 0;
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(r.json, "artifacts"))
	{
		if (itest_str(a, "name") &&
		    strncmp(itest_str(a, "name"), "crash-fuzz_parse-", 17) == 0) {
			crash = a;
			ncrash++;
		}
	}
	assert_int_equal(ncrash, 1);
	assert_true(cJSON_GetObjectItem(crash, "size")->valueint > 0);
	snprintf(path, sizeof(path), "/api/v1/runs/%s/artifacts/%s", sample_run,
		 itest_str(crash, "name"));
	itest_resp_release(&r);
	itest_get_ok(&T, path, &r);
	assert_true(r.len >= 7);
	assert_memory_equal(r.body, "REC1", 4);
	itest_resp_release(&r);

	/* progress streamed while it ran */
	snprintf(path, sizeof(path), "/api/v1/runs/%s/logs", sample_run);
	itest_get_ok(&T, path, &r);
	int streamed = strstr(r.body, "::progress ") && strstr(r.body, "fuzz_parse: ") &&
		       strstr(r.body, " exec/s, cov ");
	itest_resp_release(&r);
	if (!streamed || max_progress <= 0)
		fail_msg("progress: logs %s ::progress lines, highest progress seen %d",
			 streamed ? "have" : "lack", max_progress);
}

static void no_harness_fails(void **state)
{
	(void)state;
	cJSON *run = itest_wait_terminal(&T, clean_run, RUN_TIMEOUT);
	assert_string_equal(itest_str(run, "state"), "failed");
	assert_non_null(itest_str(run, "error"));
	assert_non_null(strstr(itest_str(run, "error"), "no fuzz harness found"));
	assert_non_null(strstr(itest_str(run, "error"), "exited with code 1"));
	cJSON_Delete(run);
}

static void build_failure_is_a_note(void **state)
{
	(void)state;
	char *got[MAX_FINDINGS];
	static char *const want[] = {"build-failure fuzz/fuzz_broken.c 4", "unknown-fuzzer - 0"};
	cJSON *findings = finished_run(notes_run, "libfuzzer with a broken harness", NULL);
	size_t n = keys_of(findings, NULL, got);
	assert_keys(got, n, want, 2, "libfuzzer with a broken harness");
	const cJSON *f;
	cJSON_ArrayForEach(f, findings)
	{
		assert_string_equal(itest_str(f, "level"), "note");
		assert_non_null(itest_str(f, "message"));
		if (strcmp(itest_str(f, "rule_id"), "build-failure") == 0)
			assert_non_null(
			    strstr(itest_str(f, "message"), "error: expected expression"));
	}
	cJSON_Delete(findings);
}

static void nothing_built_fails(void **state)
{
	(void)state;
	cJSON *run = itest_wait_terminal(&T, broken_run, RUN_TIMEOUT);
	assert_string_equal(itest_str(run, "state"), "failed");
	assert_non_null(strstr(itest_str(run, "error"), "exited with code 1"));
	cJSON_Delete(run);
}

/* The runner is not the target's to steer: its ptrace attach is refused (the runner is
 * non-dumpable) and the forged log never replaces the runner's (every other process ends
 * before the log is written). */
static void hostile_build_script_is_contained(void **state)
{
	(void)state;
	char path[160];
	struct itest_resp r;
	cJSON *findings = finished_run(hostile_run, "libfuzzer with a hostile build.sh", NULL);
	const cJSON *f;
	cJSON_ArrayForEach(f, findings) assert_string_not_equal(itest_str(f, "rule_id"), "FORGED");
	cJSON_Delete(findings);
	snprintf(path, sizeof(path), "/api/v1/runs/%s/artifacts/ptrace.txt", hostile_run);
	itest_get_ok(&T, path, &r);
	if (!strstr(r.body, "attach -1 errno 1"))
		fail_msg("the build script's ptrace of the runner: %.200s", r.body);
	itest_resp_release(&r);
}

int main(void)
{
	/* the campaign first: its progress is watched while it runs */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sample_finds_the_overflow),
	    cmocka_unit_test(no_harness_fails),
	    cmocka_unit_test(build_failure_is_a_note),
	    cmocka_unit_test(nothing_built_fails),
	    cmocka_unit_test(hostile_build_script_is_contained),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
