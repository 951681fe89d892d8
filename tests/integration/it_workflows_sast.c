/* it_workflows_sast — the static-analysis workflows (c-static-analysis, python-sast,
 * shell-lint) end to end on the real platform: each sample under examples/ is uploaded, run
 * by a worker in the workflow's own image, and must yield exactly the findings its EXPECTED
 * file lists; examples/clean must yield none; a stricter level parameter must keep exactly
 * the findings of those levels, with the same fingerprints; the include parameter exactly the
 * findings under the included path; and every SARIF log served by the
 * API must validate against the official SARIF 2.1.0 schema and carry what GitHub code
 * scanning needs (sarif_github.py), secret-detection's on examples/secrets too.
 *
 * The images must exist: tests/integration/build_workflow_images.sh builds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "itest.h"

#define RUN_TIMEOUT  300000
#define MAX_FINDINGS 256

enum { RUN_SAMPLE, RUN_CLEAN, RUN_STRICT, RUN_INCLUDE, NRUNS };

struct wf_case {
	const char *workflow;
	const char *sample;	   /* directory under examples/ */
	const char *expected;	   /* file in the sample directory */
	const char *params;	   /* parameters of the sample and clean runs */
	const char *strict;	   /* parameters that keep only the findings of ... */
	const char *strict_levels; /* ... these levels */
	const char *include;	   /* parameters that keep only the findings ... */
	const char *included;	   /* ... whose path starts with this */
	char ids[NRUNS][37];
};

/* c-vuln: fuzz* belongs to the libFuzzer harness another workflow builds there */
static struct wf_case cases[] = {
    {.workflow = "c-static-analysis",
     .sample = "c-vuln",
     .expected = "EXPECTED-sast.json",
     .params = "{\"exclude\":\"fuzz*\"}",
     .strict = "{\"exclude\":\"fuzz*\",\"min_level\":\"error\"}",
     .strict_levels = "error",
     .include = "{\"exclude\":\"fuzz*\",\"include\":\"src/record.c\"}",
     .included = "src/record.c"},
    {.workflow = "python-sast",
     .sample = "python-vuln",
     .expected = "EXPECTED.json",
     .params = "{}",
     .strict = "{\"min_severity\":\"medium\"}",
     .strict_levels = "error warning",
     .include = "{\"include\":\"app/safe.py\"}",
     .included = "app/safe.py"},
    {.workflow = "shell-lint",
     .sample = "shell-vuln",
     .expected = "EXPECTED.json",
     .params = "{}",
     .strict = "{\"severity\":\"warning\"}",
     .strict_levels = "error warning",
     .include = "{\"include\":\"scripts\"}",
     .included = "scripts/"},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct itest T;
static char secrets_run[37];	   /* secret-detection on examples/secrets, for its SARIF alone */
static char empty_runs[3][37];	   /* each static analysis on a tree without files of its kind */
static char empty_secrets_run[37]; /* secret-detection on a tree without a file */

/* The contract the workflows keep of their SARIF logs beyond the official schema
 * (itest_check_sarif): rule indexes, relative URIs under SRCROOT, line-independent fingerprints. */
static const char sarif_checks_py[] =
    "for run in log['runs']:\n"
    "    d = run['tool']['driver']\n"
    "    assert d['name'] and d['version'], 'driver name and version'\n"
    "    rules = d.get('rules', [])\n"
    "    ids = [r['id'] for r in rules]\n"
    "    assert len(ids) == len(set(ids)), 'duplicate rule ids'\n"
    "    assert all(r['shortDescription']['text'] for r in rules), 'rule descriptions'\n"
    "    assert run['originalUriBaseIds']['SRCROOT']['uri'] == 'file:///target/'\n"
    "    for x in run.get('results', []):\n"
    "        assert rules[x['ruleIndex']]['id'] == x['ruleId'], 'ruleIndex of %s' % x\n"
    "        assert x['level'] in ('error', 'warning', 'note') and x['message']['text']\n"
    "        pl = x['locations'][0]['physicalLocation']\n"
    "        al = pl['artifactLocation']\n"
    "        assert al['uriBaseId'] == 'SRCROOT', al\n"
    "        assert not al['uri'].startswith('/') and ':' not in al['uri'], al\n"
    "        assert pl['region']['startLine'] >= 1\n"
    "        assert len(x['partialFingerprints']['ruleLineHash/v1']) > 64\n";

/* The image a workflow's manifest names. */
static void image_of(const char *workflow, char *out, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/workflows/%s/workflow.json", ITEST_REPO, workflow);
	char *text = itest_read_file(path);
	cJSON *m = cJSON_Parse(text);
	free(text);
	assert_non_null(itest_str(m, "image"));
	snprintf(out, len, "%s", itest_str(m, "image"));
	cJSON_Delete(m);
}

static int setup(void **state)
{
	(void)state;
	char image[256], clean[65], target[65], dir[512];
	for (size_t i = 0; i < NCASES; i++) {
		image_of(cases[i].workflow, image, sizeof(image));
		itest_require_image(image);
	}
	itest_require_image("fuzzforge/secret-detection:1.0.0");
	itest_setup_workflows(&T, "workflows_sast");
	itest_upload_dir(&T, ITEST_REPO "/examples/secrets", target);
	itest_submit_workflow(&T, "secret-detection", target, "{}", secrets_run);
	static const char *const notes_only[] = {"NOTES.txt", "nothing to analyse here\n", NULL};
	itest_upload(&T, notes_only, target);
	for (size_t i = 0; i < NCASES; i++)
		itest_submit_workflow(&T, cases[i].workflow, target, "{}", empty_runs[i]);
	static const char *const no_files[] = {NULL};
	itest_upload(&T, no_files, target);
	itest_submit_workflow(&T, "secret-detection", target, "{}", empty_secrets_run);
	itest_upload_dir(&T, ITEST_REPO "/examples/clean", clean);
	/* every run is queued now; the worker takes two at a time while the tests wait */
	for (size_t i = 0; i < NCASES; i++) {
		struct wf_case *c = &cases[i];
		snprintf(dir, sizeof(dir), "%s/examples/%s", ITEST_REPO, c->sample);
		itest_upload_dir(&T, dir, target);
		char body[512];
		snprintf(body, sizeof(body),
			 "{\"workflow\":\"%s\",\"target\":\"%s\",\"parameters\":%s,"
			 "\"labels\":{\"ci\":\"github\",\"branch\":\"main\"}}",
			 c->workflow, target, c->params);
		assert_int_equal(itest_submit(&T, body, c->ids[RUN_SAMPLE]), 202);
		itest_submit_workflow(&T, c->workflow, clean, c->params, c->ids[RUN_CLEAN]);
		itest_submit_workflow(&T, c->workflow, target, c->strict, c->ids[RUN_STRICT]);
		itest_submit_workflow(&T, c->workflow, target, c->include, c->ids[RUN_INCLUDE]);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown(&T);
	return 0;
}

/* Fills keys with the sorted "rule_id path start_line" of each finding (of a level named in
 * level_filter, if given) and, if fps, with the same keys followed by the fingerprint.
 * Returns how many; the caller frees them with free_keys(). */
static size_t keys_of(const cJSON *arr, const char *level_filter, char **keys, char **fps)
{
	size_t n = 0;
	const cJSON *f;
	cJSON_ArrayForEach(f, arr)
	{
		const char *level = itest_str(f, "level");
		if (level_filter && (!level || !strstr(level_filter, level)))
			continue;
		assert_true(n < MAX_FINDINGS);
		const cJSON *line = cJSON_GetObjectItem(f, "start_line");
		assert_non_null(itest_str(f, "rule_id"));
		assert_non_null(itest_str(f, "path"));
		assert_true(cJSON_IsNumber(line));
		if (asprintf(&keys[n], "%s %s %d", itest_str(f, "rule_id"), itest_str(f, "path"),
			     line->valueint) < 0)
			fail_msg("out of memory");
		if (fps) {
			const char *fp = itest_str(f, "fingerprint");
			fps[n] = NULL;
			if (asprintf(&fps[n], "%s %s", keys[n], fp ? fp : "") < 0)
				fail_msg("out of memory");
		}
		n++;
	}
	itest_sort_strs(keys, n);
	if (fps)
		itest_sort_strs(fps, n);
	return n;
}

static void free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
}

/* Keeps the keys ("rule_id path line") whose path starts with prefix; returns how many. */
static size_t keys_under(char **keys, size_t n, const char *prefix)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const char *path = strchr(keys[i], ' ') + 1;
		if (strncmp(path, prefix, strlen(prefix)) == 0)
			keys[kept++] = keys[i];
		else
			free(keys[i]);
	}
	return kept;
}

/* Waits for the run, checks it succeeded, validates its SARIF log; returns its findings
 * (GET /findings, caller deletes). */
static cJSON *finished_run(const char *id, const char *sample, const char *automation_id,
			   const char *what)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/examples/%s", ITEST_REPO, sample);
	char *checks = itest_github_checks(sarif_checks_py, dir, automation_id, 0);
	cJSON *findings = itest_finished_run(&T, id, RUN_TIMEOUT, checks, what);
	free(checks);
	return findings;
}

static void check_case(const struct wf_case *c)
{
	char path[512], what[128], labelled[128], unlabelled[128];
	/* the sample run has labels (submitted in reverse order), the others none */
	snprintf(labelled, sizeof(labelled), "%s/branch=main,ci=github/", c->workflow);
	snprintf(unlabelled, sizeof(unlabelled), "%s//", c->workflow);
	char *got[MAX_FINDINGS], *want[MAX_FINDINGS], *fps[MAX_FINDINGS];
	char *strict[MAX_FINDINGS], *strict_fps[MAX_FINDINGS];

	/* the sample: exactly EXPECTED */
	snprintf(what, sizeof(what), "%s on %s", c->workflow, c->sample);
	cJSON *findings = finished_run(c->ids[RUN_SAMPLE], c->sample, labelled, what);
	size_t ngot = keys_of(findings, NULL, got, NULL);
	snprintf(path, sizeof(path), "%s/examples/%s/%s", ITEST_REPO, c->sample, c->expected);
	char *text = itest_read_file(path);
	cJSON *expected = cJSON_Parse(text);
	free(text);
	assert_true(cJSON_IsArray(expected));
	size_t nwant = keys_of(expected, NULL, want, NULL);
	assert_true(nwant > 0);
	itest_assert_same_keys(got, ngot, want, nwant, what);
	cJSON_Delete(expected);

	/* include: the sample's findings under the included path, and none elsewhere */
	size_t nunder = keys_under(want, nwant, c->included);
	snprintf(what, sizeof(what), "%s on %s with %s", c->workflow, c->sample, c->include);
	cJSON *inc = finished_run(c->ids[RUN_INCLUDE], c->sample, unlabelled, what);
	size_t ninc = keys_of(inc, NULL, strict, NULL);
	itest_assert_same_keys(strict, ninc, want, nunder, what);
	free_keys(strict, ninc);
	free_keys(want, nunder);
	cJSON_Delete(inc);

	/* the stricter parameter: the findings of its levels, with unchanged fingerprints */
	size_t nsev = keys_of(findings, c->strict_levels, want, fps);
	assert_true(nsev > 0 && nsev < ngot); /* the samples have findings on both sides */
	snprintf(what, sizeof(what), "%s on %s with %s", c->workflow, c->sample, c->strict);
	cJSON *sf = finished_run(c->ids[RUN_STRICT], c->sample, unlabelled, what);
	size_t nstrict = keys_of(sf, NULL, strict, strict_fps);
	itest_assert_same_keys(strict, nstrict, want, nsev, what);
	itest_assert_same_keys(strict_fps, nstrict, fps, nsev, "fingerprints across runs");
	free_keys(strict, nstrict);
	free_keys(strict_fps, nstrict);
	free_keys(want, nsev);
	free_keys(fps, nsev);
	free_keys(got, ngot);
	cJSON_Delete(sf);
	cJSON_Delete(findings);

	/* the clean tree: nothing */
	snprintf(what, sizeof(what), "%s on clean", c->workflow);
	findings = finished_run(c->ids[RUN_CLEAN], "clean", unlabelled, what);
	ngot = keys_of(findings, NULL, got, NULL);
	itest_assert_same_keys(got, ngot, want, 0, what);
	cJSON_Delete(findings);
}

static void c_static_analysis(void **state)
{
	(void)state;
	check_case(&cases[0]);
}

static void python_sast(void **state)
{
	(void)state;
	check_case(&cases[1]);
}

static void shell_lint(void **state)
{
	(void)state;
	check_case(&cases[2]);
}

/* secret-detection's log: what GitHub needs, and no secret of examples/secrets in its rules
 * (its findings are checked against EXPECTED.json by tests/secrets) */
static void secret_detection_sarif(void **state)
{
	(void)state;
	char *checks =
	    itest_github_checks(NULL, ITEST_REPO "/examples/secrets", "secret-detection//", 0);
	cJSON *f =
	    itest_finished_run(&T, secrets_run, RUN_TIMEOUT, checks, "secret-detection on secrets");
	free(checks);
	assert_true(cJSON_GetArraySize(f) > 0);
	cJSON_Delete(f);
}

/* Nothing to analyse: a success with 0 findings, said in the progress text and the log. */
static void nothing_to_analyse(void **state)
{
	(void)state;
	for (size_t i = 0; i <= NCASES; i++) {
		const char *id = i < NCASES ? empty_runs[i] : empty_secrets_run;
		const char *workflow = i < NCASES ? cases[i].workflow : "secret-detection";
		cJSON *run = itest_wait_terminal(&T, id, RUN_TIMEOUT);
		assert_string_equal(itest_str(run, "state"), "succeeded");
		assert_non_null(strstr(itest_str(run, "progress_text"), "nothing to analyse: no "));
		cJSON_Delete(run);
		cJSON *f = itest_finished_run(
		    &T, id, RUN_TIMEOUT,
		    "n = log['runs'][0]['invocations'][0]['toolExecutionNotifications']\n"
		    "assert any(x['message']['text'].startswith('nothing to analyse') and "
		    "x['level'] == 'note' for x in n)\n",
		    workflow);
		assert_int_equal(cJSON_GetArraySize(f), 0);
		cJSON_Delete(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(c_static_analysis),  cmocka_unit_test(python_sast),
	    cmocka_unit_test(shell_lint),	  cmocka_unit_test(secret_detection_sarif),
	    cmocka_unit_test(nothing_to_analyse),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
