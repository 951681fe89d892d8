/* it_worker_data — the worker's data plane against the real services: memory stays bounded
 * on hostile inputs (a 1 GB sparse file in a 10 KB target, a SARIF log of 10M values, 250 MB
 * of results), a hostile /results tree cannot make the worker read host files (both ways of
 * reading /results), an executor's kept results volume is emptied between runs and swept
 * when its worker is gone, and target volumes are cached per engine with LRU eviction. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_reliability.h"
#include "itest.h"
#include "rvol.h"

#define MB		   (1024L * 1024L)
#define RSS_PER_EXECUTOR   (64 * MB)
#define RSS_BACK_TO_IDLE   (8 * MB) /* allocator slack allowed once a run is over */
#define WORKER_CONCURRENCY 1

/* VmHWM or VmRSS of pid in bytes. */
static long proc_bytes(pid_t pid, const char *field)
{
	long kib = itest_proc_kib(pid, field);
	assert_true(kib > 0);
	return kib * 1024;
}

/* A tar (GNU sparse) holding one file "big" of size bytes, all hole, made by tar(1). */
static void upload_sparse(struct itest *t, long size, char out[65])
{
	char dir[] = "/tmp/ff-it-sparse-XXXXXX", file[64], tarp[64];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/big", dir);
	snprintf(tarp, sizeof(tarp), "%s.tar", dir);
	int fd = open(file, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0 && ftruncate(fd, size) == 0);
	close(fd);
	char *argv[] = {"/usr/bin/tar", "--sparse", "-C", dir, "-cf", tarp, "big", NULL};
	assert_int_equal(itest_run_cmd(argv), 0);
	struct stat st;
	assert_int_equal(stat(tarp, &st), 0);
	assert_true(st.st_size < 64 * 1024); /* the point: a tiny upload */
	char *buf = malloc((size_t)st.st_size);
	FILE *f = fopen(tarp, "rb");
	assert_true(f && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size);
	fclose(f);
	unlink(file);
	unlink(tarp);
	rmdir(dir);
	struct itest_resp r;
	assert_int_equal(itest_http(t, "POST", "/api/v1/targets", "application/x-tar", buf,
				    (size_t)st.st_size, 1, &r),
			 0);
	free(buf);
	if (r.status != 201)
		fail_msg("upload: %ld %s", r.status, r.body ? r.body : "");
	snprintf(out, 65, "%s", cJSON_GetObjectItem(r.json, "sha256")->valuestring);
	itest_resp_release(&r);
}

static cJSON *run_workflow(struct itest *t, const char *workflow, const char *target,
			   const char *params, char id[37])
{
	char body[512];
	snprintf(body, sizeof(body), "{\"workflow\":\"%s\",\"target\":\"%s\",\"parameters\":%s}",
		 workflow, target, params ? params : "{}");
	assert_int_equal(itest_submit(t, body, id), 202);
	return itest_wait_terminal(t, id, 300000);
}

/* One hostile input on a fresh worker (so VmHWM is this case's): the run's end state, and
 * the worker's peak and after-run resident sizes. */
/* Removes the digest's cached volumes left by an earlier run of this test, so that the
 * measured run streams the target into a fresh volume. */
static void uncache(const char *digest)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "docker volume ls -q --filter label=fuzzforge.target=%s | xargs -r docker "
		 "volume rm >/dev/null",
		 digest);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	assert_int_equal(itest_run_cmd(argv), 0);
}

static char warm_target[65]; /* a small target for the warm-up run */

static cJSON *measured(struct itest *t, const char *what, const char *workflow, const char *target,
		       char id[37])
{
	const char *wenv[] = {"FF_WORKER_CONCURRENCY=1", NULL};
	pid_t w = itest_start_worker(t, wenv);
	/* idle = warmed up: connections open, libraries touched, one trivial run done */
	cJSON_Delete(run_workflow(t, "test-noop", warm_target, NULL, id));
	long idle = proc_bytes(w, "VmRSS");
	cJSON *run = run_workflow(t, workflow, target, NULL, id);
	long hwm = proc_bytes(w, "VmHWM"), after = proc_bytes(w, "VmRSS");
	printf("# %-28s idle %5.1f MB  peak %5.1f MB  after %5.1f MB  -> %s %s\n", what,
	       (double)idle / MB, (double)hwm / MB, (double)after / MB, itest_str(run, "state"),
	       itest_str(run, "error") ? itest_str(run, "error") : "");
#ifndef __SANITIZE_ADDRESS__ /* ASan's shadow memory and quarantine make RSS meaningless */
	assert_true(hwm <= RSS_PER_EXECUTOR * WORKER_CONCURRENCY);
	assert_true(after <= idle + RSS_BACK_TO_IDLE);
#endif
	assert_int_equal(itest_stop(t, w, SIGTERM, 30000), 0);
	return run;
}

static void memory_stays_bounded(void **state)
{
	(void)state;
	struct itest t;
	char target[65], small[65], id[37];
	itest_setup(&t, "wdata_mem");
	itest_start_controller(&t, NULL);

	const char *files[] = {"a.c", "int a;\n", NULL};
	itest_upload(&t, files, small);
	snprintf(warm_target, sizeof(warm_target), "%s", small);

	/* 1: a 1 GB sparse file arrives whole, streamed through one chunk */
	upload_sparse(&t, 1000000000L, target);
	uncache(target);
	cJSON *run = measured(&t, "1 GB sparse file target", "test-bigfile", target, id);
	assert_string_equal(itest_str(run, "state"), "succeeded");
	cJSON_Delete(run);
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM findings WHERE run_id = $1 AND "
					"message = 'big is 1000000000 bytes'",
					id),
			 1);

	/* 2: 10M JSON values refused before any tree is built */
	run = measured(&t, "20 MB SARIF, 10M-value array", "test-sarif-huge", small, id);
	assert_string_equal(itest_str(run, "state"), "failed");
	assert_non_null(strstr(itest_str(run, "error"), "FF_SARIF_MAX_VALUES"));
	cJSON_Delete(run);

	/* 3: 250 MB of artifacts stream to large objects */
	run = measured(&t, "250 MB of results", "test-results-big", small, id);
	assert_string_equal(itest_str(run, "state"), "succeeded");
	cJSON_Delete(run);
	assert_int_equal(itest_sql_long(&t,
					"SELECT sum(size) FROM artifacts a JOIN "
					"pg_largeobject_metadata m ON m.oid = a.content_oid "
					"WHERE run_id = $1",
					id),
			 209715200L + 52428800L);
	itest_teardown(&t);
}

/* A hostile /results, read one way or the other: no host file's bytes are ever stored. */
static void hostile_case(struct itest *t, const char *target, const char *mode, bool direct)
{
	char id[37], params[64];
	snprintf(params, sizeof(params), "{\"mode\":\"%s\"}", mode);
	cJSON *run = run_workflow(t, "test-hostile", target, params, id);
	if (strcmp(mode, "sarif") == 0) {
		assert_string_equal(itest_str(run, "state"), "failed");
		assert_non_null(strstr(itest_str(run, "error"), "no /results/results.sarif"));
	} else {
		assert_string_equal(itest_str(run, "state"), "succeeded");
	}
	cJSON_Delete(run);
	/* the only bytes stored are the workflow's own */
	assert_int_equal(
	    itest_sql_long(t,
			   "SELECT count(*) FROM artifacts WHERE run_id = $1 AND name <> "
			   "'real.txt'",
			   id),
	    0);
	assert_int_equal(itest_sql_long(t,
					"SELECT count(*) FROM artifacts WHERE run_id = $1 AND "
					"name = 'real.txt' AND size = 5",
					id),
			 strcmp(mode, "links") == 0 ? 1 : 0);
	assert_int_equal(itest_sql_long(t,
					"SELECT count(*) FROM run_results WHERE run_id = $1 AND "
					"position('root:' in convert_from(coalesce(sarif, ''), "
					"'UTF8')) > 0",
					id),
			 0);
	if (strcmp(mode, "links") == 0) {
		char path[128];
		struct itest_resp r;
		snprintf(path, sizeof(path), "/api/v1/runs/%s/artifacts/real.txt", id);
		itest_get_ok(t, path, &r);
		assert_int_equal(r.len, 5);
		assert_memory_equal(r.body, "real\n", 5);
		itest_resp_release(&r);
	}
	/* read from the volume's directory, the refusal is in the run's history */
	if (direct) {
		char events[2048];
		rel_sql_text(t,
			     "SELECT string_agg(message, ' | ' ORDER BY id) FROM run_events WHERE "
			     "run_id = $1",
			     id, events, sizeof(events));
		if (!strstr(events, "symlink: skipped"))
			fail_msg("mode %s: no skipped symlink in the history: %s", mode, events);
	}
}

#define KEPT_WORKER "it-wdata-kept"
#define KEPT_VOLUMES                                                                               \
	"docker volume ls -q --filter label=fuzzforge.results-slot --filter "                      \
	"label=fuzzforge.worker=" KEPT_WORKER

/* Waits until cmd prints no line, or fails saying what within 30 s. */
static void wait_no_lines(const char *cmd, const char *what)
{
	int64_t deadline = itest_now_ms() + 30000;
	while (rel_shell_lines(cmd) != 0) {
		if (itest_now_ms() > deadline)
			fail_msg("%s after 30 s", what);
		itest_pause_ms(REL_POLL_MS);
	}
}

/* What the kept results volumes hold (one per executor that has run something: one slot,
 * so at most two executors), each emptied just after its run's result is recorded. */
#define KEPT_VOLUME_LISTING                                                                        \
	"for m in $(docker volume inspect -f '{{.Mountpoint}}' $(" KEPT_VOLUMES ")); do "          \
	"ls -A \"$m\"; done"

/* Both ways of reading /results, one executor each. Read straight from the engine's
 * directory, the runs share the executors' kept results volumes (rvol.h), each emptied after
 * its run without following the links it planted: a later run sees none of an earlier one's
 * files (a leftover real.txt or artifacts/ would show in its artifacts), and the volumes go
 * when the worker stops. Through the archive, a volume per run, none kept. */
static void hostile_results_not_followed(void **state)
{
	(void)state;
	struct itest t;
	char target[65];
	static const char *const ways[] = {"FF_RESULTS_DIRECT=auto", "FF_RESULTS_DIRECT=off"};
	static const char *const modes[] = {"links", "sarif", "dir"};
	itest_setup(&t, "wdata_hostile");
	/* an interrupted earlier run of this test may have left its worker's volumes */
	assert_int_equal(system(KEPT_VOLUMES " | xargs -r docker volume rm >/dev/null"), 0);
	itest_start_controller(&t, NULL);
	const char *files[] = {"a.c", "int a;\n", NULL};
	itest_upload(&t, files, target);
	for (int w = 0; w < 2; w++) {
		const char *wenv[] = {ways[w], "FF_WORKER_CONCURRENCY=1",
				      "FF_WORKER_ID=" KEPT_WORKER, NULL};
		pid_t pid = itest_start_worker(&t, wenv);
		for (int m = 0; m < 3; m++) {
			hostile_case(&t, target, modes[m], w == 0);
			long kept = rel_shell_lines(KEPT_VOLUMES);
			if (w == 0 ? kept < 1 || kept > 2 : kept != 0)
				fail_msg("%ld kept results volumes reading %s", kept,
					 w == 0 ? "directly (one or two expected)"
						: "through the archive (none expected)");
			if (w == 0)
				wait_no_lines(KEPT_VOLUME_LISTING,
					      "the kept results volume is not empty");
		}
		assert_int_equal(itest_stop(&t, pid, SIGTERM, 30000), 0);
		assert_int_equal(rel_shell_lines(KEPT_VOLUMES), 0);
	}
	assert_int_equal(access("/etc/shadow", F_OK), 0);
	itest_teardown(&t);
}

/* At its start a worker removes the kept results volumes of workers its database does not
 * list as active or draining and those an earlier process of its own id left (killed ones),
 * and leaves those of live workers and of another database's workers alone. */
static void kept_volumes_of_dead_workers_swept(void **state)
{
	(void)state;
	struct itest t;
	itest_setup(&t, "wdata_sweep");
	/* volumes as workers sharing this database would have left them, and one of another
	 * database's worker, which this database cannot tell alive or dead */
	struct rvol_owner here, elsewhere;
	rvol_owner_init(&here, "", t.db_url);
	rvol_owner_init(&elsewhere, "", "postgresql://elsewhere/other");
	const struct {
		const char *name, *worker, *database;
	} planted[] = {
	    {"ff-it-sweep-dead", "it-sweep-dead", here.database},
	    {"ff-it-sweep-self", "it-sweep-self", here.database},
	    {"ff-it-sweep-live", "it-sweep-live", here.database},
	    {"ff-it-sweep-other", "it-sweep-dead", elsewhere.database},
	};
	for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd),
			 "docker volume create --label fuzzforge.results-slot=0badc0de --label "
			 "fuzzforge.worker=%s --label fuzzforge.database=%s %s >/dev/null",
			 planted[i].worker, planted[i].database, planted[i].name);
		assert_int_equal(system(cmd), 0);
	}
	itest_start_controller(&t, NULL); /* the schema, for the workers row */
	PGresult *res =
	    PQexec(itest_pg(&t), "INSERT INTO workers (id, host, pool, concurrency, state) VALUES "
				 "('it-sweep-live', 'h', 'default', 1, 'active')");
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	const char *wenv[] = {"FF_WORKER_ID=it-sweep-self", NULL};
	itest_start_worker(&t, wenv);
	wait_no_lines("docker volume ls -q --filter name=ff-it-sweep-dead",
		      "a dead worker's kept results volume is still there");
	wait_no_lines("docker volume ls -q --filter name=ff-it-sweep-self",
		      "an earlier process's kept results volume is still there");
	assert_int_equal(rel_shell_lines("docker volume ls -q --filter name=ff-it-sweep-live"), 1);
	assert_int_equal(rel_shell_lines("docker volume ls -q --filter name=ff-it-sweep-other"), 1);
	assert_int_equal(system("docker volume rm ff-it-sweep-live ff-it-sweep-other >/dev/null"),
			 0);
	itest_teardown(&t);
}

static long volumes_of(const char *digest, const char *extra)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "docker volume ls -q --filter label=fuzzforge.target=%s %s",
		 digest, extra);
	return rel_shell_lines(cmd);
}

/* A target of one 700 KB file whose content depends on tag and on this run of the test, so
 * each is its own digest and no volume cached by an earlier run (the engine is shared, and
 * outlives tests) can stand in for it. */
static void upload_sized(struct itest *t, char tag, char out[65])
{
	char *content = malloc(700 * 1024 + 1);
	memset(content, tag, 700 * 1024);
	int n =
	    snprintf(content, 64, "%c %lld %ld ", tag, (long long)itest_now_ms(), (long)getpid());
	content[n] = tag; /* snprintf's NUL */
	content[700 * 1024] = '\0';
	const char *files[] = {"f.bin", content, NULL};
	itest_upload(t, files, out);
	free(content);
}

static void target_volumes_cached(void **state)
{
	(void)state;
	struct itest t;
	char a[65], b[65], c[65], id[37];
	itest_setup(&t, "wdata_cache");
	itest_start_controller(&t, NULL);
	/* 2 MiB: two of the 700 KB targets fit, three do not */
	const char *wenv[] = {"FF_WORKER_CONCURRENCY=1", "FF_TARGET_CACHE_MB=2", NULL};
	itest_start_worker(&t, wenv);
	upload_sized(&t, 'a', a);
	upload_sized(&t, 'b', b);
	upload_sized(&t, 'c', c);

	/* two runs of one target: one data volume and its marker, no run label on either */
	for (int i = 0; i < 2; i++) {
		cJSON *run = run_workflow(&t, "test-ok", a, NULL, id);
		assert_string_equal(itest_str(run, "state"), "succeeded");
		cJSON_Delete(run);
	}
	assert_int_equal(volumes_of(a, "--filter label=fuzzforge.target-marker"), 1);
	assert_int_equal(volumes_of(a, ""), 2);
	rel_wait_no_leftovers(id, 30000, "two runs of one target");
	/* the second run saw the same files: test-ok lists /target */
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM findings WHERE run_id = $1 AND "
					"message LIKE 'first file is f.bin%'",
					id),
			 1);

	/* b, then a again: b is now the least recently used; c pushes past the cap */
	const char *order[] = {b, a, c};
	for (int i = 0; i < 3; i++) {
		cJSON *run = run_workflow(&t, "test-ok", order[i], NULL, id);
		assert_string_equal(itest_str(run, "state"), "succeeded");
		cJSON_Delete(run);
	}
	assert_int_equal(volumes_of(b, ""), 0);
	assert_int_equal(volumes_of(a, ""), 2);
	assert_int_equal(volumes_of(c, ""), 2);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(memory_stays_bounded),
	    cmocka_unit_test(hostile_results_not_followed),
	    cmocka_unit_test(kept_volumes_of_dead_workers_swept),
	    cmocka_unit_test(target_volumes_cached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
