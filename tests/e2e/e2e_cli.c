/* e2e_cli — the system driven the way a user drives it: the `ff` client scans a directory
 * through a real controller and worker, and its output, exit codes and report files are what
 * a CI pipeline would act on; a pipeline cancelled mid-scan (SIGTERM) or timed out cancels
 * its run on the server. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "itest.h"

static struct itest T;
static pid_t bg_ff; /* an ff started in the background, stopped by teardown if a test failed */

static int setup(void **state)
{
	(void)state;
	itest_setup(&T, "e2e");
	itest_start_controller(&T, NULL);
	itest_start_worker(&T, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (bg_ff > 0) {
		kill(bg_ff, SIGKILL);
		waitpid(bg_ff, NULL, 0);
	}
	itest_teardown(&T);
	return 0;
}

static int ff_env(const char *cmd_env, const char *args, char *out, size_t outlen);

/* Runs `ff <args>` against url; returns its exit code, output in out. */
static int ff_at(const char *url, const char *args, char *out, size_t outlen)
{
	char env[512];
	snprintf(env, sizeof(env), "FF_URL=%s FF_API_KEY=%s", url, ITEST_API_KEY);
	return ff_env(env, args, out, outlen);
}

/* Runs `ff <args>` against the test controller. */
static int ff(const char *args, char *out, size_t outlen)
{
	return ff_at(T.base_url, args, out, outlen);
}

static void scan_prints_findings(void **state)
{
	(void)state;
	char out[8192];
	int rc = ff("scan test-ok " E2E_SAMPLE " -p greeting=ciao", out, sizeof(out));
	if (rc != 0)
		fail_msg("ff scan exited %d:\n%s", rc, out);
	assert_non_null(strstr(out, "T001"));
	assert_non_null(strstr(out, "greeting ciao"));
	assert_non_null(strstr(out, "2 findings: 1 error, 0 warning, 1 note, 0 none"));
	/* --fail-on makes findings fail a pipeline */
	rc = ff("scan test-ok " E2E_SAMPLE " --fail-on error", out, sizeof(out));
	assert_int_equal(rc, 3);
}

/* Counts the lines of out that contain needle. */
static int count_lines_with(const char *out, const char *needle)
{
	int n = 0;
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = strchr(l, '\n');
		const char *hit = strstr(l, needle);
		if (hit && (!end || hit < end))
			n++;
	}
	return n;
}

/* ff runs --label k=v lists only the runs carrying every label given, filtered on the server:
 * how a pipeline finds its default branch's last run. */
static void runs_filters_by_label(void **state)
{
	(void)state;
	char out[8192], args[512];
	int tag = (int)getpid();

	snprintf(args, sizeof(args), "scan test-ok " E2E_SAMPLE " --label branch=main-%d", tag);
	assert_int_equal(ff(args, out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "scan test-ok " E2E_SAMPLE " --label branch=dev-%d", tag);
	assert_int_equal(ff(args, out, sizeof(out)), 0);

	snprintf(args, sizeof(args), "runs --label branch=main-%d --state succeeded", tag);
	int rc = ff(args, out, sizeof(out));
	if (rc != 0)
		fail_msg("ff runs exited %d:\n%s", rc, out);
	assert_int_equal(count_lines_with(out, "succeeded"), 1);

	/* repeated labels must all match */
	snprintf(args, sizeof(args), "runs --label branch=main-%d --label ci=none", tag);
	assert_int_equal(ff(args, out, sizeof(out)), 0);
	assert_int_equal(count_lines_with(out, "test-ok"), 0);
}

/* ff keys: create prints the key once on stdout, the key works with its scope only, list
 * shows it without the secret, revoke ends it. */
static void keys_round_trip(void **state)
{
	(void)state;
	char out[8192], key[128], id[40], args[256], cmd[1024];
	assert_int_equal(ff("keys create e2e-reader read", out, sizeof(out)), 0);
	const char *shown = strstr(out, "ff_"); /* stdout; stderr says which key it is */
	assert_non_null(shown);
	assert_int_equal(sscanf(shown, "%127s", key), 1);
	const char *created = strstr(out, "key ");
	assert_non_null(created);
	assert_int_equal(sscanf(created, "key %36s", id), 1);
	/* the new key reads, but may not submit */
	snprintf(cmd, sizeof(cmd), "FF_URL=%s FF_API_KEY=%s %s workflows >/dev/null 2>&1",
		 T.base_url, key, E2E_FF);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 "FF_URL=%s FF_API_KEY=%s %s scan test-ok %s 2>&1 | grep -q submit", T.base_url,
		 key, E2E_FF, E2E_SAMPLE);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ff("keys list", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "e2e-reader"));
	assert_null(strstr(out, key));
	snprintf(args, sizeof(args), "keys revoke %s", id);
	assert_int_equal(ff(args, out, sizeof(out)), 0);
	assert_int_equal(ff(args, out, sizeof(out)), 1); /* not found the second time */
	assert_int_equal(ff("keys rotate", out, sizeof(out)), 2);
}

static void failed_run_fails_the_command(void **state)
{
	(void)state;
	char out[8192];
	int rc = ff("scan test-fail " E2E_SAMPLE " -p code=9", out, sizeof(out));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "workflow exited with code 9"));
}

static void bad_input_is_explained(void **state)
{
	(void)state;
	char out[8192];
	int rc = ff("scan test-ok " E2E_SAMPLE " -p depth=99", out, sizeof(out));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "parameters.depth"));
	rc = ff("scan no-such-workflow " E2E_SAMPLE, out, sizeof(out));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "unknown workflow"));
	rc = ff("frobnicate", out, sizeof(out));
	assert_int_equal(rc, 2);
}

static void ready_tells_whether_the_api_can_serve(void **state)
{
	(void)state;
	char out[8192];
	int rc = ff("ready", out, sizeof(out));
	if (rc != 0)
		fail_msg("ff ready exited %d:\n%s", rc, out);
	assert_non_null(strstr(out, "\"postgresql\":\"ok\""));
	/* nothing listens on port 1: not ready, and it says where it looked */
	assert_int_equal(ff_at("http://127.0.0.1:1", "ready", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "127.0.0.1:1"));
}

/* A fresh copy of the sample tree with a file no other test has, so its digest is new to the
 * controller; dir is a mkdtemp template. */
static void fresh_tree(char *dir)
{
	char cmd[512];
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp -R %s/. '%s' && echo %ld-%d > '%s/unique.txt'", E2E_SAMPLE,
		 dir, (long)itest_now_ms(), (int)getpid(), dir);
	assert_int_equal(system(cmd), 0);
}

static void remove_dir(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The four report files, written even though --fail-on fails the scan, each well-formed
 * (parsed by Python's json, xml.etree and csv) and holding the run's two findings with the
 * hostile greeting (markup, '&', a comma) intact. */
static const char report_checks_py[] =
    "import csv, json, sys, xml.etree.ElementTree as ET\n"
    "sarif, js, junit, csvf = sys.argv[1:5]\n"
    "want = 'greeting <a&b>,c'\n"
    "s = json.load(open(sarif))\n"
    "assert s['version'] == '2.1.0', s\n"
    "j = json.load(open(js))\n"
    "assert j['run']['state'] == 'succeeded' and len(j['findings']) == 2, j\n"
    "root = ET.parse(junit).getroot()\n"
    "suites = root.findall('testsuite')\n"
    "assert root.tag == 'testsuites' and len(suites) == 1, root\n"
    "cases = suites[0].findall('testcase')\n"
    "assert len(cases) == 2 and suites[0].get('failures') == '2', cases\n"
    "msgs = [c.find('failure').get('message') for c in cases]\n"
    "assert any(m.endswith(want) for m in msgs), msgs\n"
    "levels = sorted(c.find('failure').get('type') for c in cases)\n"
    "assert levels == ['error', 'note'], levels\n"
    "rows = list(csv.reader(open(csvf, newline='')))\n"
    "assert rows[0] == ['rule_id', 'level', 'path', 'start_line', 'end_line', 'message',\n"
    "                   'fingerprint'], rows[0]\n"
    "assert len(rows) == 3 and all(len(r) == 7 for r in rows), rows\n"
    "assert any(r[0] == 'T001' and r[5].endswith(want) and r[3] == '1' for r in rows), rows\n";

static void scan_writes_reports(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-e2e-reports-XXXXXX", args[1024], out[8192], cmd[1024];
	assert_non_null(mkdtemp(dir));
	snprintf(args, sizeof(args),
		 "scan test-ok %s -p 'greeting=<a&b>,c' --fail-on note --sarif %s/r.sarif "
		 "--json-out %s/r.json --junit %s/r.xml --csv %s/r.csv",
		 E2E_SAMPLE, dir, dir, dir, dir);
	int rc = ff(args, out, sizeof(out));
	if (rc != 3)
		fail_msg("ff scan exited %d, not 3:\n%s", rc, out);
	snprintf(cmd, sizeof(cmd), "%s/check.py", dir);
	FILE *f = fopen(cmd, "w");
	assert_non_null(f);
	fputs(report_checks_py, f);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "python3 %s/check.py %s/r.sarif %s/r.json %s/r.xml %s/r.csv",
		 dir, dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	/* nothing else left next to them: no temporary files */
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 5", dir);
	assert_int_equal(system(cmd), 0);
	remove_dir(dir);
}

/* The same tree, whatever its files' times, packs to the same digest: the second scan (and
 * upload) finds the target stored and sends nothing. */
static void second_scan_skips_the_upload(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-e2e-tree-XXXXXX", args[512], out[8192], cmd[600], sha[65];
	fresh_tree(dir);
	snprintf(args, sizeof(args), "scan test-ok %s", dir);
	int rc = ff(args, out, sizeof(out));
	if (rc != 0)
		fail_msg("ff scan exited %d:\n%s", rc, out);
	assert_null(strstr(out, "already stored"));

	snprintf(cmd, sizeof(cmd), "find '%s' -exec touch -d @1234567890 {} +", dir);
	assert_int_equal(system(cmd), 0);
	rc = ff(args, out, sizeof(out));
	if (rc != 0)
		fail_msg("second ff scan exited %d:\n%s", rc, out);
	const char *said = strstr(out, "target ");
	if (!said || !strstr(said, " already stored"))
		fail_msg("the second scan uploaded again:\n%s", out);
	assert_int_equal(sscanf(said, "target %64[0-9a-f] already stored", sha), 1);
	assert_int_equal(strlen(sha), 64);
	/* ff upload: the same digest on stdout, nothing sent */
	snprintf(args, sizeof(args), "upload %s", dir);
	assert_int_equal(ff(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "already stored"));
	assert_non_null(strstr(out, sha));
	assert_int_equal(itest_sql_long(&T, "SELECT count(*) FROM targets WHERE sha256 = $1", sha),
			 1);
	remove_dir(dir);
}

/* A tree with a.txt holding `lines` (test-baseline: one finding per BUG line, fingerprinted
 * by its text), scanned; rc and output as ff gives them, the run id in id. */
static int scan_baseline_tree(const char *dir, const char *lines, const char *opts, char *out,
			      size_t outlen, char id[37])
{
	char path[512], args[1024];
	snprintf(path, sizeof(path), "%s/a.txt", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(lines, f);
	assert_int_equal(fclose(f), 0);
	snprintf(args, sizeof(args), "scan test-baseline %s %s", dir, opts);
	int rc = ff(args, out, outlen);
	const char *said = strstr(out, "run ");
	if (!said || sscanf(said, "run %36[0-9a-f-] submitted", id) != 1)
		fail_msg("no run id in:\n%s", out);
	return rc;
}

/* ff scan --baseline: a line added above a finding leaves it unchanged, a fixed one is
 * absent, an added one new; --fail-on-new fails on that one and not on unchanged findings.
 * ff findings --baseline shows the same comparison. */
static void scan_compares_with_a_baseline(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-e2e-baseline-XXXXXX", out[8192], opts[192], args[320];
	char base[37], run[37], again[37];
	assert_non_null(mkdtemp(dir));
	int rc = scan_baseline_tree(dir, "x\nBUG one\nBUG two\n", "", out, sizeof(out), base);
	if (rc != 0)
		fail_msg("the baseline scan exited %d:\n%s", rc, out);

	snprintf(opts, sizeof(opts), "--baseline %s --fail-on-new", base);
	rc = scan_baseline_tree(dir, "an added line\nx\nBUG one\nBUG three\n", opts, out,
				sizeof(out), run);
	if (rc != 3 || !strstr(out, "against the baseline: 1 new, 1 unchanged, 1 absent"))
		fail_msg("ff scan %s exited %d, not 3 with the comparison:\n%s", opts, rc, out);
	assert_int_equal(count_lines_with(out, "unchanged"), 2); /* its row and the summary */
	assert_int_equal(count_lines_with(out, "absent"), 2);
	const char *three = strstr(out, "BUG three");
	assert_non_null(three);

	/* the same findings again: all unchanged, so --fail-on-new passes, --fail-on fails */
	snprintf(opts, sizeof(opts), "--baseline %s --fail-on-new", run);
	rc = scan_baseline_tree(dir, "an added line\nx\nBUG one\nBUG three\n", opts, out,
				sizeof(out), again);
	if (rc != 0 || !strstr(out, "against the baseline: 0 new, 2 unchanged, 0 absent"))
		fail_msg("ff scan %s exited %d, not 0:\n%s", opts, rc, out);
	snprintf(opts, sizeof(opts), "--baseline %s --fail-on error", run);
	rc = scan_baseline_tree(dir, "an added line\nx\nBUG one\nBUG three\n", opts, out,
				sizeof(out), again);
	assert_int_equal(rc, 3);

	snprintf(args, sizeof(args), "findings %s --baseline %s", run, base);
	rc = ff(args, out, sizeof(out));
	if (rc != 0 || !strstr(out, "STATE") ||
	    !strstr(out, "against the baseline: 1 new, 1 unchanged, 1 absent"))
		fail_msg("ff %s exited %d:\n%s", args, rc, out);
	snprintf(args, sizeof(args), "findings %s --baseline 00000000-0000-4000-8000-000000000000",
		 run);
	assert_int_equal(ff(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "baseline"));

	/* a SARIF file kept from the baseline's scan gives the same comparison */
	char sarif[64];
	snprintf(sarif, sizeof(sarif), "%s.sarif", dir);
	snprintf(args, sizeof(args), "sarif %s -o %s", base, sarif);
	assert_int_equal(ff(args, out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "findings %s --baseline %s", run, sarif);
	rc = ff(args, out, sizeof(out));
	if (rc != 0 || !strstr(out, "against the baseline: 1 new, 1 unchanged, 1 absent"))
		fail_msg("ff %s exited %d:\n%s", args, rc, out);
	snprintf(opts, sizeof(opts), "--baseline %s --fail-on-new", sarif);
	rc = scan_baseline_tree(dir, "an added line\nx\nBUG one\nBUG three\n", opts, out,
				sizeof(out), again);
	if (rc != 3 || !strstr(out, "against the baseline: 1 new, 1 unchanged, 1 absent"))
		fail_msg("ff scan %s exited %d, not 3:\n%s", opts, rc, out);
	/* a file that is not a SARIF log is refused, saying so */
	snprintf(args, sizeof(args), "findings %s --baseline %s/a.txt", run, dir);
	rc = ff(args, out, sizeof(out));
	if (rc != 1 || !strstr(out, "--baseline"))
		fail_msg("ff %s exited %d:\n%s", args, rc, out);
	unlink(sarif);
	remove_dir(dir);
}

/* Starts `ff <argv...>` in the background, stdout and stderr to log. */
static pid_t ff_background(const char *log, char *const argv[])
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		setenv("FF_URL", T.base_url, 1);
		setenv("FF_API_KEY", ITEST_API_KEY, 1);
		execv(E2E_FF, argv);
		_exit(127);
	}
	bg_ff = pid;
	return pid;
}

/* Waits until log says "run <id> submitted"; copies the id. */
static void wait_submitted(const char *log, char id[37], int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	for (;;) {
		char *text = itest_read_file(log);
		const char *p = strstr(text, "run ");
		int got = p && strstr(p, " submitted") && sscanf(p, "run %36s submitted", id) == 1;
		if (got) {
			free(text);
			return;
		}
		if (itest_now_ms() > deadline)
			fail_msg("no run submitted within %d ms:\n%s", timeout_ms, text);
		free(text);
		itest_pause_ms(50);
	}
}

/* Waits for pid to exit within timeout_ms; returns its exit status (-1 when killed). */
static int wait_exit(pid_t pid, int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		assert_true(r >= 0);
		if (r == pid) {
			bg_ff = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		if (itest_now_ms() > deadline)
			fail_msg("ff did not exit within %d ms", timeout_ms);
		itest_pause_ms(20);
	}
}

/* A CI job cancelled mid-scan: SIGTERM to ff while the run is running cancels the run on
 * the server and ff exits 143; the run ends cancelled, not after its 600 s. */
static void sigterm_cancels_the_run(void **state)
{
	(void)state;
	char log[] = "/tmp/ff-e2e-sigterm-XXXXXX", id[37], want[128];
	int fd = mkstemp(log);
	assert_true(fd >= 0);
	close(fd);
	char *argv[] = {"ff", "scan", "test-long", E2E_SAMPLE, "-p", "seconds=600", NULL};
	pid_t pid = ff_background(log, argv);
	wait_submitted(log, id, 60000);
	itest_wait_state(&T, id, "running", 120000);
	assert_int_equal(kill(pid, SIGTERM), 0);
	int rc = wait_exit(pid, 15000);
	char *text = itest_read_file(log);
	if (rc != 143)
		fail_msg("ff exited %d after SIGTERM, not 143:\n%s", rc, text);
	snprintf(want, sizeof(want), "cancelled run %s on the server", id);
	if (!strstr(text, want))
		fail_msg("ff did not say '%s':\n%s", want, text);
	free(text);
	itest_wait_state(&T, id, "cancelled", 60000);
	unlink(log);
	/* ff retry runs the cancelled run again; cancel it so it does not hold a worker 600 s */
	char cmd[128], out[8192];
	snprintf(cmd, sizeof(cmd), "retry %s", id);
	rc = ff(cmd, out, sizeof(out));
	if (rc != 0 || !strstr(out, id))
		fail_msg("ff retry exited %d:\n%s", rc, out);
	snprintf(cmd, sizeof(cmd), "cancel %s", id);
	assert_int_equal(ff(cmd, out, sizeof(out)), 0);
}

/* --timeout gives up on the run and cancels it too; the exit status stays 1. */
static void timeout_cancels_the_run(void **state)
{
	(void)state;
	char out[8192], id[37], want[128];
	int rc = ff("scan test-long " E2E_SAMPLE " -p seconds=600 --timeout 2", out, sizeof(out));
	if (rc != 1)
		fail_msg("ff exited %d, not 1:\n%s", rc, out);
	const char *p = strstr(out, "run ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "run %36s submitted", id), 1);
	assert_non_null(strstr(out, "after 2 s"));
	snprintf(want, sizeof(want), "cancelled run %s on the server", id);
	if (!strstr(out, want))
		fail_msg("ff did not say '%s':\n%s", want, out);
	itest_wait_state(&T, id, "cancelled", 60000);
}

/* ff logs -f prints the container's output while the run runs, and exits 0 at its end with
 * all of it; ff scan follows the run's events to its end too. */
static void logs_follow_prints_output_live(void **state)
{
	(void)state;
	char log[] = "/tmp/ff-e2e-follow-XXXXXX", out[8192], id[37], cmd[128];
	int fd = mkstemp(log);
	assert_true(fd >= 0);
	close(fd);
	char sha[65], *nl = NULL;
	int rc = ff("upload " E2E_SAMPLE " 2>/dev/null", out, sizeof(out));
	if (rc != 0 || !(nl = strrchr(out, '\n')) || nl - out < 64)
		fail_msg("ff upload exited %d:\n%s", rc, out);
	memcpy(sha, nl - 64, 64);
	sha[64] = '\0';
	snprintf(cmd, sizeof(cmd), "submit test-ticker %s -p seconds=6", sha);
	rc = ff(cmd, out, sizeof(out));
	if (rc != 0 || sscanf(out, "%36s", id) != 1)
		fail_msg("ff submit exited %d:\n%s", rc, out);
	char *argv[] = {"ff", "logs", "-f", id, NULL};
	pid_t pid = ff_background(log, argv);
	int64_t deadline = itest_now_ms() + 60000;
	for (char *text = NULL;; free(text)) {
		text = itest_read_file(log);
		if (strstr(text, "tick 2\n")) {
			free(text);
			break;
		}
		if (itest_now_ms() > deadline)
			fail_msg("no live output within 60 s:\n%s", text);
		itest_pause_ms(100);
	}
	/* it came while the run was still going */
	snprintf(cmd, sizeof(cmd), "status %s --json", id);
	assert_int_equal(ff(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"running\""));
	rc = wait_exit(pid, 60000);
	char *text = itest_read_file(log);
	if (rc != 0 || !strstr(text, "ticker done after"))
		fail_msg("ff logs -f exited %d:\n%s", rc, text);
	free(text);
	unlink(log);
	/* scan follows the events stream: it asks for the run only before and after it */
	long before =
	    itest_sql_long(&T, "SELECT COALESCE(max(id), 0) FROM audit_log WHERE $1 = $1", "x");
	char since[32];
	snprintf(since, sizeof(since), "%ld", before);
	rc = ff("scan test-ticker " E2E_SAMPLE " -p seconds=3", out, sizeof(out));
	if (rc != 0)
		fail_msg("ff scan exited %d:\n%s", rc, out);
	const char *streams = "SELECT count(*) FROM audit_log WHERE id > $1::bigint AND route = "
			      "'/api/v1/runs/{id}/events'";
	deadline = itest_now_ms() + 30000; /* the audit log is written in batches */
	while (itest_sql_long(&T, streams, since) < 1) {
		if (itest_now_ms() > deadline)
			fail_msg("ff scan never followed the run's events");
		itest_pause_ms(100);
	}
	long polls = itest_sql_long(&T,
				    "SELECT count(*) FROM audit_log WHERE id > $1::bigint AND "
				    "route = '/api/v1/runs/{id}'",
				    since);
	if (polls > 3)
		fail_msg("ff scan asked for the run %ld times: it polled", polls);
}

/* Runs `ff <args>` with cmd_env before it (no FF_URL or FF_API_KEY of ours). */
static int ff_env(const char *cmd_env, const char *args, char *out, size_t outlen)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "env -u FF_URL -u FF_API_KEY -u FF_PROFILE %s %s %s 2>&1",
		 cmd_env, E2E_FF, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A profile of the config file names the controller and the key file; --profile or
 * FF_PROFILE picks one, [default] serves when none is named, a missing one is an error. */
static void profiles_pick_the_controller(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-e2e-profile-XXXXXX", path[128], env[160], out[8192];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fuzzforge", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/fuzzforge/it.key", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s\n", ITEST_API_KEY);
	fclose(f);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/fuzzforge/config", dir);
	f = fopen(path, "w");
	fprintf(f,
		"[default]\nurl = http://127.0.0.1:1\n\n[it]\nurl = %s\nkey_file = "
		"%s/fuzzforge/it.key\n",
		T.base_url, dir);
	fclose(f);
	snprintf(env, sizeof(env), "XDG_CONFIG_HOME=%s", dir);
	int rc = ff_env(env, "--profile it workflows", out, sizeof(out));
	if (rc != 0 || !strstr(out, "test-ok"))
		fail_msg("ff --profile it workflows exited %d:\n%s", rc, out);
	snprintf(env, sizeof(env), "XDG_CONFIG_HOME=%s FF_PROFILE=it", dir);
	assert_int_equal(ff_env(env, "workflows", out, sizeof(out)), 0);
	snprintf(env, sizeof(env), "XDG_CONFIG_HOME=%s", dir);
	rc = ff_env(env, "workflows", out, sizeof(out)); /* [default]: nobody at port 1 */
	if (rc != 1 || !strstr(out, "127.0.0.1:1"))
		fail_msg("ff workflows with [default] exited %d:\n%s", rc, out);
	rc = ff_env(env, "--profile=nope workflows", out, sizeof(out));
	if (rc != 1 || !strstr(out, "no profile [nope]"))
		fail_msg("ff --profile=nope exited %d:\n%s", rc, out);
	unlink(path);
	snprintf(path, sizeof(path), "%s/fuzzforge/it.key", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/fuzzforge", dir);
	rmdir(path);
	rmdir(dir);
}

/* The operator's commands against a real platform: a run that failed for good is in
 * ff dead-letters and ff dead-letters requeue runs it again; ff workers shows the worker;
 * ff target a stored upload; ff workflow a parameter table; ff version both versions; and a
 * missing key is said plainly. */
static void operator_commands(void **state)
{
	(void)state;
	char out[16384], cmd[256], id[37];
	int rc = ff("scan test-fail " E2E_SAMPLE " -p code=7", out, sizeof(out));
	const char *p = strstr(out, "run ");
	assert_int_equal(rc, 1);
	assert_non_null(p);
	assert_int_equal(sscanf(p, "run %36s submitted", id), 1);
	rc = ff("dead-letters", out, sizeof(out));
	if (rc != 0 || !strstr(out, "RUN") || !strstr(out, id) || !strstr(out, "code 7"))
		fail_msg("ff dead-letters exited %d:\n%s", rc, out);
	snprintf(cmd, sizeof(cmd), "dead-letters requeue %s", id);
	rc = ff(cmd, out, sizeof(out));
	if (rc != 0 || !strstr(out, "requeued"))
		fail_msg("ff %s exited %d:\n%s", cmd, rc, out);
	itest_wait_state(&T, id, "failed", 60000); /* it fails again, and is dead again */
	snprintf(cmd, sizeof(cmd), "dead-letters dismiss %s", id);
	assert_int_equal(ff(cmd, out, sizeof(out)), 0);
	assert_int_equal(ff("dead-letters --json", out, sizeof(out)), 0);
	assert_null(strstr(out, id));
	assert_int_equal(ff(cmd, out, sizeof(out)), 1); /* dismissed already */

	rc = ff("workers", out, sizeof(out));
	if (rc != 0 || !strstr(out, "HEARTBEAT") || !strstr(out, "active") ||
	    !strstr(out, "s ago") || !strstr(out, "IMAGES"))
		fail_msg("ff workers exited %d:\n%s", rc, out);

	rc = ff("upload " E2E_SAMPLE " 2>/dev/null", out, sizeof(out));
	char *nl = strrchr(out, '\n');
	assert_true(rc == 0 && nl && nl - out >= 64);
	*nl = '\0';
	snprintf(cmd, sizeof(cmd), "target %s", nl - 64);
	rc = ff(cmd, out, sizeof(out));
	if (rc != 0 || !strstr(out, "size:") || !strstr(out, "stored:"))
		fail_msg("ff %s exited %d:\n%s", cmd, rc, out);
	assert_int_equal(ff("target 1234", out, sizeof(out)), 2);

	rc = ff("workflow test-ok", out, sizeof(out));
	if (rc != 0 || !strstr(out, "PARAMETER") || !strstr(out, "fast|deep") ||
	    !strstr(out, "\u2264 32 chars") || !strstr(out, "retry:"))
		fail_msg("ff workflow test-ok exited %d:\n%s", rc, out);

	rc = ff("--version", out, sizeof(out));
	if (rc != 0 || !strstr(out, "ff 1.0.0") || !strstr(out, ": API 1.0.0"))
		fail_msg("ff --version exited %d:\n%s", rc, out);
	rc = ff_at("http://127.0.0.1:1", "version", out, sizeof(out)); /* nobody listens */
	if (rc != 0 || !strstr(out, "ff 1.0.0") || !strstr(out, "not reachable"))
		fail_msg("ff version with the controller away exited %d:\n%s", rc, out);
	char env[160];
	snprintf(env, sizeof(env), "FF_URL=%s XDG_CONFIG_HOME=/nonexistent", T.base_url);
	rc = ff_env(env, "runs", out, sizeof(out));
	if (rc != 1 || !strstr(out, "no API key: set FF_API_KEY"))
		fail_msg("ff runs without a key exited %d:\n%s", rc, out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scan_prints_findings),
	    cmocka_unit_test(failed_run_fails_the_command),
	    cmocka_unit_test(keys_round_trip),
	    cmocka_unit_test(bad_input_is_explained),
	    cmocka_unit_test(ready_tells_whether_the_api_can_serve),
	    cmocka_unit_test(scan_writes_reports),
	    cmocka_unit_test(second_scan_skips_the_upload),
	    cmocka_unit_test(sigterm_cancels_the_run),
	    cmocka_unit_test(timeout_cancels_the_run),
	    cmocka_unit_test(runs_filters_by_label),
	    cmocka_unit_test(scan_compares_with_a_baseline),
	    cmocka_unit_test(logs_follow_prints_output_live),
	    cmocka_unit_test(profiles_pick_the_controller),
	    cmocka_unit_test(operator_commands),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
