/* it_workflows_sast — the static-analysis workflows (c-static-analysis, python-sast,
 * shell-lint) end to end on the real platform: each sample under examples/ is uploaded, run
 * by a worker in the workflow's own image, and must yield exactly the findings its EXPECTED
 * file lists; examples/clean must yield none; a stricter level parameter must keep exactly
 * the findings of those levels, with the same fingerprints; the include parameter exactly the
 * findings under the included path; and every SARIF log served by the
 * API must validate against the official SARIF 2.1.0 schema.
 *
 * The images must exist: tests/integration/build_workflow_images.sh builds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "itest.h"

/* ITEST_WORKFLOWS_DIR is <repo>/tests/workflows */
#define REPO	     ITEST_WORKFLOWS_DIR "/../.."
#define SARIF_SCHEMA REPO "/tests/data/sarif-schema-2.1.0.json"
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

/* Validates a SARIF log against the official schema, and the contract the workflows keep
 * beyond it: rule indexes, relative URIs under SRCROOT, line-independent fingerprints. */
static const char validate_py[] =
    "import json, sys, jsonschema\n"
    "schema = json.load(open(sys.argv[1]))\n"
    "log = json.load(open(sys.argv[2]))\n"
    "jsonschema.Draft4Validator(schema).validate(log)\n"
    "assert log['version'] == '2.1.0' and log['$schema'], 'version or $schema'\n"
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

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f)
		fail_msg("cannot open %s", path);
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1L << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n)
		buf[n] = '\0';
	else
		fail_msg("cannot read %s", path);
	fclose(f);
	return buf;
}

/* Runs argv (no shell) and returns its exit status, or -1. */
static int run_cmd(char *const argv[])
{
	int st;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The image a workflow's manifest names. */
static void image_of(const char *workflow, char *out, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/workflows/%s/workflow.json", REPO, workflow);
	char *text = read_file(path);
	cJSON *m = cJSON_Parse(text);
	free(text);
	assert_non_null(str(m, "image"));
	snprintf(out, len, "%s", str(m, "image"));
	cJSON_Delete(m);
}

static void submit(const char *workflow, const char *target, const char *params, char id[37])
{
	char body[512];
	snprintf(body, sizeof(body), "{\"workflow\":\"%s\",\"target\":\"%s\",\"parameters\":%s}",
		 workflow, target, params);
	long status = itest_submit(&T, body, id);
	if (status != 202)
		fail_msg("submit %s: status %ld", body, status);
}

static int setup(void **state)
{
	(void)state;
	char image[256], clean[65], target[65], dir[512];
	const char *env[] = {"FF_WORKFLOWS_DIR=" REPO "/workflows", NULL};
	const char *wenv[] = {"FF_WORKFLOWS_DIR=" REPO "/workflows", "FF_WORKER_CONCURRENCY=2",
			      NULL};

	for (size_t i = 0; i < NCASES; i++) {
		image_of(cases[i].workflow, image, sizeof(image));
		char *argv[] = {"/usr/bin/docker", "image", "inspect", "-f", "ok", image, NULL};
		if (run_cmd(argv) != 0)
			fail_msg(
			    "image %s is missing: run tests/integration/build_workflow_images.sh",
			    image);
	}
	itest_setup(&T, "workflows_sast");
	itest_start_controller(&T, env);
	itest_start_worker(&T, wenv);
	itest_upload_dir(&T, REPO "/examples/clean", clean);
	/* every run is queued now; the worker takes two at a time while the tests wait */
	for (size_t i = 0; i < NCASES; i++) {
		snprintf(dir, sizeof(dir), "%s/examples/%s", REPO, cases[i].sample);
		itest_upload_dir(&T, dir, target);
		submit(cases[i].workflow, target, cases[i].params, cases[i].ids[RUN_SAMPLE]);
		submit(cases[i].workflow, clean, cases[i].params, cases[i].ids[RUN_CLEAN]);
		submit(cases[i].workflow, target, cases[i].strict, cases[i].ids[RUN_STRICT]);
		submit(cases[i].workflow, target, cases[i].include, cases[i].ids[RUN_INCLUDE]);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown(&T);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
		const char *level = str(f, "level");
		if (level_filter && (!level || !strstr(level_filter, level)))
			continue;
		assert_true(n < MAX_FINDINGS);
		const cJSON *line = cJSON_GetObjectItem(f, "start_line");
		assert_non_null(str(f, "rule_id"));
		assert_non_null(str(f, "path"));
		assert_true(cJSON_IsNumber(line));
		if (asprintf(&keys[n], "%s %s %d", str(f, "rule_id"), str(f, "path"),
			     line->valueint) < 0)
			fail_msg("out of memory");
		if (fps) {
			const char *fp = str(f, "fingerprint");
			fps[n] = NULL;
			if (asprintf(&fps[n], "%s %s", keys[n], fp ? fp : "") < 0)
				fail_msg("out of memory");
		}
		n++;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	if (fps)
		qsort(fps, n, sizeof(*fps), cmp_str);
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

static void assert_same_keys(char **got, size_t ngot, char **want, size_t nwant, const char *what)
{
	int same = ngot == nwant;
	for (size_t i = 0; same && i < ngot; i++)
		same = strcmp(got[i], want[i]) == 0;
	if (same)
		return;
	for (size_t i = 0; i < ngot; i++)
		print_message("  got:  %s\n", got[i]);
	for (size_t i = 0; i < nwant; i++)
		print_message("  want: %s\n", want[i]);
	fail_msg("%s: findings differ (%zu got, %zu expected)", what, ngot, nwant);
}

/* Waits for the run, checks it succeeded, validates its SARIF log; returns its findings
 * (GET /findings, caller deletes). */
static cJSON *finished_run(const char *id, const char *what)
{
	char path[128], tmp[] = "/tmp/it_workflows_sast.XXXXXX";
	struct itest_resp r;
	cJSON *run = itest_wait_terminal(&T, id, RUN_TIMEOUT);
	if (strcmp(str(run, "state"), "succeeded") != 0)
		fail_msg("%s: run %s is %s: %s", what, id, str(run, "state"),
			 str(run, "error") ? str(run, "error") : "");
	assert_int_equal(cJSON_GetObjectItem(run, "progress")->valueint, 100);
	cJSON_Delete(run);

	snprintf(path, sizeof(path), "/api/v1/runs/%s/sarif", id);
	assert_int_equal(itest_http(&T, "GET", path, NULL, NULL, 0, 1, &r), 0);
	assert_int_equal(r.status, 200);
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_true(write(fd, r.body, r.len) == (ssize_t)r.len);
	close(fd);
	itest_resp_release(&r);
	char *argv[] = {"/usr/bin/python3", "-c", (char *)validate_py, SARIF_SCHEMA, tmp, NULL};
	int rc = run_cmd(argv);
	unlink(tmp);
	if (rc != 0)
		fail_msg("%s: the SARIF log of run %s is not valid (python3 exited %d)", what, id,
			 rc);

	snprintf(path, sizeof(path), "/api/v1/runs/%s/findings?limit=1000", id);
	assert_int_equal(itest_http(&T, "GET", path, NULL, NULL, 0, 1, &r), 0);
	assert_int_equal(r.status, 200);
	cJSON *findings = cJSON_DetachItemFromObject(r.json, "findings");
	assert_true(cJSON_IsArray(findings));
	itest_resp_release(&r);
	return findings;
}

static void check_case(const struct wf_case *c)
{
	char path[512], what[128];
	char *got[MAX_FINDINGS], *want[MAX_FINDINGS], *fps[MAX_FINDINGS];
	char *strict[MAX_FINDINGS], *strict_fps[MAX_FINDINGS];

	/* the sample: exactly EXPECTED */
	snprintf(what, sizeof(what), "%s on %s", c->workflow, c->sample);
	cJSON *findings = finished_run(c->ids[RUN_SAMPLE], what);
	size_t ngot = keys_of(findings, NULL, got, NULL);
	snprintf(path, sizeof(path), "%s/examples/%s/%s", REPO, c->sample, c->expected);
	char *text = read_file(path);
	cJSON *expected = cJSON_Parse(text);
	free(text);
	assert_true(cJSON_IsArray(expected));
	size_t nwant = keys_of(expected, NULL, want, NULL);
	assert_true(nwant > 0);
	assert_same_keys(got, ngot, want, nwant, what);
	cJSON_Delete(expected);

	/* include: the sample's findings under the included path, and none elsewhere */
	size_t nunder = keys_under(want, nwant, c->included);
	snprintf(what, sizeof(what), "%s on %s with %s", c->workflow, c->sample, c->include);
	cJSON *inc = finished_run(c->ids[RUN_INCLUDE], what);
	size_t ninc = keys_of(inc, NULL, strict, NULL);
	assert_same_keys(strict, ninc, want, nunder, what);
	free_keys(strict, ninc);
	free_keys(want, nunder);
	cJSON_Delete(inc);

	/* the stricter parameter: the findings of its levels, with unchanged fingerprints */
	size_t nsev = keys_of(findings, c->strict_levels, want, fps);
	assert_true(nsev > 0 && nsev < ngot); /* the samples have findings on both sides */
	snprintf(what, sizeof(what), "%s on %s with %s", c->workflow, c->sample, c->strict);
	cJSON *sf = finished_run(c->ids[RUN_STRICT], what);
	size_t nstrict = keys_of(sf, NULL, strict, strict_fps);
	assert_same_keys(strict, nstrict, want, nsev, what);
	assert_same_keys(strict_fps, nstrict, fps, nsev, "fingerprints across runs");
	free_keys(strict, nstrict);
	free_keys(strict_fps, nstrict);
	free_keys(want, nsev);
	free_keys(fps, nsev);
	free_keys(got, ngot);
	cJSON_Delete(sf);
	cJSON_Delete(findings);

	/* the clean tree: nothing */
	snprintf(what, sizeof(what), "%s on clean", c->workflow);
	findings = finished_run(c->ids[RUN_CLEAN], what);
	ngot = keys_of(findings, NULL, got, NULL);
	assert_same_keys(got, ngot, want, 0, what);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(c_static_analysis),
	    cmocka_unit_test(python_sast),
	    cmocka_unit_test(shell_lint),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
