/* it_farm — a CI farm on one machine: a registry (Debian's docker-registry) holding the
 * workflow image, and two extra Docker engines standing in for two more hosts, each with its
 * own data root, exec root, pidfile and socket and no bridge, and a worker on each beside
 * the one on the machine's engine. The extra engines start empty: every image they run is
 * pulled from the registry. Runs spread over all three workers; an image missing from the
 * registry is a clear run error; stopping one engine in the middle of a run sends that run
 * to another worker, with exactly one result. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "itest.h"

#define IMAGE	 "fuzzforge/test-busybox:1"
#define ENGINES	 2
#define RUNS	 12
#define START_MS 60000

struct engine {
	char dir[200], sock[240], host[250];
	pid_t pid;
};

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	struct itest_resp *r = arg;
	size_t len = size * n;
	char *b = realloc(r->body, r->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, p, len);
	r->body = b;
	r->len += len;
	b[r->len] = '\0';
	return len;
}

/* GET url (over unix_socket when given): the status, 0 for no answer; the body in *r. */
static long get(const char *url, const char *unix_socket, struct itest_resp *r)
{
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (unix_socket)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, unix_socket);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	long status = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

static void wait_http_ok(const char *what, const char *url, const char *unix_socket)
{
	int64_t deadline = itest_now_ms() + START_MS;
	for (;;) {
		struct itest_resp r = {0};
		long st = get(url, unix_socket, &r);
		itest_resp_release(&r);
		if (st == 200)
			return;
		if (itest_now_ms() > deadline)
			fail_msg("%s not answering %s within %d s", what, url, START_MS / 1000);
		itest_pause_ms(100);
	}
}

/* The images an engine holds, as its /images/json lists them. */
static char *engine_images(const struct engine *e)
{
	struct itest_resp r = {0};
	assert_int_equal(get("http://localhost/images/json", e->sock, &r), 200);
	return r.body ? r.body : strdup("");
}

static void start_engine(struct itest *t, struct engine *e, const char *root, int i)
{
	char data[300], exec_root[300], pidfile[300];
	snprintf(e->dir, sizeof(e->dir), "%.100s/engine%d", root, i);
	snprintf(e->sock, sizeof(e->sock), "%.200s/docker.sock", e->dir);
	snprintf(e->host, sizeof(e->host), "unix://%.230s", e->sock);
	snprintf(data, sizeof(data), "--data-root=%.200s/data", e->dir);
	snprintf(exec_root, sizeof(exec_root), "--exec-root=%.200s/exec", e->dir);
	snprintf(pidfile, sizeof(pidfile), "--pidfile=%.200s/dockerd.pid", e->dir);
	assert_int_equal(mkdir(e->dir, 0700), 0);
	char *argv[] = {"/usr/sbin/dockerd",
			data,
			exec_root,
			pidfile,
			"-H",
			e->host,
			"--bridge=none",
			"--iptables=false",
			"--ip-masq=false",
			NULL};
	char role[32];
	snprintf(role, sizeof(role), "dockerd%d", i);
	e->pid = itest_spawn(t, role, argv);
	wait_http_ok("extra docker engine", "http://localhost/_ping", e->sock);
	char *images = engine_images(e);
	assert_string_equal(images, "[]\n"); /* it starts empty */
	free(images);
}

static void docker_cli(char *const argv[])
{
	if (itest_run_cmd(argv) != 0)
		fail_msg("docker %s %s failed", argv[1], argv[2]);
}

/* The worker's runs' events saying their image was pulled (by the run itself, or, shared,
 * by another run of the same worker). */
static long worker_pulls(struct itest *t, const char *worker, bool shared)
{
	return itest_sql_long(t,
			      shared ? "SELECT count(*) FROM run_events e JOIN runs r ON "
				       "r.id = e.run_id WHERE r.worker = $1 AND "
				       "e.message LIKE 'image % pulled by another run in %'"
				     : "SELECT count(*) FROM run_events e JOIN runs r ON "
				       "r.id = e.run_id WHERE r.worker = $1 AND "
				       "e.message LIKE 'image % pulled in %'",
			      worker);
}

/* The worker's entry in GET /api/v1/workers once its engine is described as holding the
 * image of workflow (its heartbeat does so after a pull); the caller deletes the answer. */
static cJSON *worker_with_image(struct itest *t, const char *id, const char *workflow,
				cJSON **answer)
{
	int64_t deadline = itest_now_ms() + 30000;
	for (;;) {
		struct itest_resp r = {0};
		itest_get_ok(t, "/api/v1/workers", &r);
		cJSON *w;
		cJSON_ArrayForEach(w, cJSON_GetObjectItem(r.json, "workers"))
		{
			cJSON *img;
			if (strcmp(itest_str(w, "id"), id) != 0)
				continue;
			cJSON_ArrayForEach(img, cJSON_GetObjectItem(w, "workflow_images"))
			{
				if (!strcmp(img->valuestring, workflow)) {
					*answer = r.json;
					r.json = NULL;
					itest_resp_release(&r);
					return w;
				}
			}
		}
		itest_resp_release(&r);
		if (itest_now_ms() > deadline)
			fail_msg("worker %s not shown with %s's image within 30 s", id, workflow);
		itest_pause_ms(100);
	}
}

static void farm(void **state)
{
	(void)state;
	struct itest t;
	char root[] = "/tmp/ff-farm-XXXXXX", cfg_path[300], registry[32], target[65];
	char body[256], ids[RUNS][37];
	itest_require_image(IMAGE);
	assert_non_null(mkdtemp(root));
	itest_setup(&t, "farm");

	/* the registry, its storage in the test's directory */
	int reg_port = itest_free_port();
	snprintf(registry, sizeof(registry), "127.0.0.1:%d", reg_port);
	snprintf(cfg_path, sizeof(cfg_path), "%s/registry.yml", root);
	FILE *f = fopen(cfg_path, "w");
	assert_non_null(f);
	fprintf(f,
		"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\n"
		"http:\n  addr: %s\n",
		root, registry);
	fclose(f);
	char *reg_argv[] = {"/usr/bin/docker-registry", "serve", cfg_path, NULL};
	itest_spawn(&t, "registry", reg_argv);
	char url[128];
	snprintf(url, sizeof(url), "http://%s/v2/", registry);
	wait_http_ok("registry", url, NULL);

	/* the workflow image pushed, as deploy/build-images.sh does with FF_REGISTRY */
	char pushed[128];
	snprintf(pushed, sizeof(pushed), "%s/%s", registry, IMAGE);
	docker_cli((char *[]){"/usr/bin/docker", "tag", IMAGE, pushed, NULL});
	docker_cli((char *[]){"/usr/bin/docker", "push", pushed, NULL});

	/* its digest pinned, as build-images.sh records it for the controller */
	char cmd[512], digest[80] = "", pins_path[300], pins_env[320];
	snprintf(cmd, sizeof(cmd),
		 "docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' %s | "
		 "sed -n 's|^%s/fuzzforge/test-busybox@||p'",
		 pushed, registry);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(digest, sizeof(digest), p));
	pclose(p);
	digest[strcspn(digest, "\n")] = '\0';
	assert_int_equal(strlen(digest), 71);
	snprintf(pins_path, sizeof(pins_path), "%s/pins", root);
	assert_non_null(f = fopen(pins_path, "w"));
	fprintf(f, "%s %s\n", IMAGE, digest);
	fclose(f);
	snprintf(pins_env, sizeof(pins_env), "FF_IMAGE_PINS=%s", pins_path);

	struct engine engines[ENGINES];
	for (int i = 0; i < ENGINES; i++)
		start_engine(&t, &engines[i], root, i + 1);

	const char *controller_env[] = {pins_env, NULL};
	itest_start_controller(&t, controller_env);
	char reg_env[64], metrics_env[64], host_env[ENGINES][320];
	snprintf(reg_env, sizeof(reg_env), "FF_REGISTRY=%s", registry);
	int metrics_port = itest_free_port();
	snprintf(metrics_env, sizeof(metrics_env), "FF_METRICS_LISTEN=127.0.0.1:%d", metrics_port);
	const char *on_host[] = {"FF_WORKER_ID=farm-host", "FF_WORKER_CONCURRENCY=2", reg_env,
				 NULL};
	pid_t host_worker = itest_start_worker(&t, on_host);
	const char *names[ENGINES] = {"farm-engine1", "farm-engine2"};
	for (int i = 0; i < ENGINES; i++) {
		char id_env[64];
		snprintf(id_env, sizeof(id_env), "FF_WORKER_ID=%s", names[i]);
		snprintf(host_env[i], sizeof(host_env[i]), "DOCKER_HOST=%s", engines[i].host);
		const char *env[] = {id_env,
				     host_env[i],
				     "FF_WORKER_CONCURRENCY=2",
				     reg_env,
				     i == 0 ? metrics_env : "FF_METRICS_LISTEN=",
				     NULL};
		itest_start_worker(&t, env);
	}

	/* 1: a stream of runs spreads over the three workers; the empty engines pull. Two
	 * targets, so that an engine's two slots start at once (one target's fill is
	 * serialised) and need the image together: one pull serves both. */
	const char *files[] = {"a.txt", "farm\n", NULL}, *files2[] = {"b.txt", "farm 2\n", NULL};
	char target2[65];
	itest_upload(&t, files, target);
	itest_upload(&t, files2, target2);
	for (int i = 0; i < RUNS; i++) {
		snprintf(body, sizeof(body),
			 "{\"workflow\":\"test-farm\",\"target\":\"%s\","
			 "\"parameters\":{\"seconds\":1}}",
			 i % 2 ? target2 : target);
		assert_int_equal(itest_submit(&t, body, ids[i]), 202);
	}
	for (int i = 0; i < RUNS; i++) {
		cJSON *run = itest_wait_terminal(&t, ids[i], 180000);
		assert_string_equal(itest_str(run, "state"), "succeeded");
		cJSON_Delete(run);
	}
	PGresult *res =
	    PQexec(itest_pg(&t), "SELECT worker, count(*) FROM runs GROUP BY 1 ORDER BY 1");
	for (int r = 0; r < PQntuples(res); r++)
		printf("farm: %s ran %s runs: %ld pulled its image, %ld waited for that pull\n",
		       PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
		       worker_pulls(&t, PQgetvalue(res, r, 0), false),
		       worker_pulls(&t, PQgetvalue(res, r, 0), true));
	PQclear(res);
	res = PQexec(itest_pg(&t), "SELECT r.worker, e.message FROM run_events e JOIN runs r ON "
				   "r.id = e.run_id WHERE e.message LIKE 'image %' ORDER BY e.id");
	for (int r = 0; r < PQntuples(res); r++)
		printf("farm: %s: %s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
	PQclear(res);
	assert_int_equal(itest_sql_long(&t, "SELECT count(DISTINCT worker) FROM runs", NULL), 3);
	assert_int_equal(worker_pulls(&t, "farm-host", false), 0); /* its engine has the image */
	/* each pulled the pinned digest */
	char pinned[256];
	snprintf(pinned, sizeof(pinned), "%s@%s", pushed, digest);
	for (int i = 0; i < ENGINES; i++) {
		/* one pull per engine, however many of its runs needed the image at once */
		assert_int_equal(worker_pulls(&t, names[i], false), 1);
		char *images = engine_images(&engines[i]);
		assert_non_null(strstr(images, digest));
		free(images);
	}
	assert_true(itest_sql_long(&t,
				   "SELECT count(*) FROM run_events WHERE message LIKE 'image ' || "
				   "$1 || ' pulled in %'",
				   pinned) >= ENGINES);
	/* the workers view: each engine, and the workflows whose image it now holds */
	for (int i = 0; i < ENGINES; i++) {
		cJSON *answer = NULL, *w = worker_with_image(&t, names[i], "test-farm", &answer);
		cJSON *e = cJSON_GetObjectItem(w, "engine");
		assert_string_equal(itest_str(e, "docker_host"), engines[i].host);
		assert_string_equal(itest_str(e, "registry"), registry);
		assert_true(strlen(itest_str(e, "version")) > 0);
		char *images = cJSON_PrintUnformatted(cJSON_GetObjectItem(w, "workflow_images"));
		printf("farm: %s: engine %s %s, workflow images %s\n", names[i],
		       itest_str(e, "docker_host"), itest_str(e, "version"), images);
		assert_null(strstr(images, "\"test-noimage\""));
		free(images);
		cJSON_Delete(answer);
	}
	struct itest_resp m = {0};
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", metrics_port);
	assert_int_equal(get(url, NULL, &m), 200);
	assert_non_null(strstr(m.body, "fuzzforge_image_pulls_total{outcome=\"pulled\"} 1\n"));
	for (char *line = strtok(m.body, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] != '#' && !strstr(line, "_bucket") &&
		    (strstr(line, "image_pull") || strstr(line, "worker_slots") ||
		     strstr(line, "create\"}") || strstr(line, "worker_runs_total{")))
			printf("farm: metrics of %s: %s\n", names[0], line);
	itest_resp_release(&m);

	/* 2: an image the registry lacks is a clear run error */
	char missing[37];
	snprintf(body, sizeof(body), "{\"workflow\":\"test-noimage\",\"target\":\"%s\"}", target);
	assert_int_equal(itest_submit(&t, body, missing), 202);
	cJSON *run = itest_wait_terminal(&t, missing, 120000);
	assert_string_equal(itest_str(run, "state"), "failed");
	printf("farm: missing image: %s\n", itest_str(run, "error"));
	char want[128];
	snprintf(want, sizeof(want), "not pulled from the registry %s", registry);
	assert_non_null(strstr(itest_str(run, "error"), want));
	assert_non_null(strstr(itest_str(run, "error"), "manifest unknown"));
	cJSON_Delete(run);

	/* 3: the run's engine stops in the middle of it: the run goes to the other engine's
	 * worker, and ends there once (the machine's own worker is stopped first, so that the
	 * run is on an extra engine, the one this test may stop) */
	assert_int_equal(itest_stop(&t, host_worker, SIGTERM, 60000), 0);
	char long_run[37];
	snprintf(body, sizeof(body),
		 "{\"workflow\":\"test-farm\",\"target\":\"%s\",\"parameters\":{\"seconds\":15}}",
		 target);
	assert_int_equal(itest_submit(&t, body, long_run), 202);
	int64_t deadline = itest_now_ms() + 60000;
	while (itest_sql_long(&t,
			      "SELECT count(*) FROM run_events WHERE run_id = $1 AND "
			      "message = 'container started'",
			      long_run) == 0) {
		if (itest_now_ms() > deadline)
			fail_msg("run %s never started its container", long_run);
		itest_pause_ms(100);
	}
	char worker[64];
	res = PQexecParams(itest_pg(&t), "SELECT worker FROM runs WHERE id = $1", 1, NULL,
			   (const char *[]){long_run}, NULL, NULL, 0);
	assert_int_equal(PQntuples(res), 1);
	snprintf(worker, sizeof(worker), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	int lost = strcmp(worker, names[0]) == 0 ? 0 : 1; /* the engine to stop */
	assert_string_equal(worker, names[lost]);
	printf("farm: run %s started on %s: stopping its engine\n", long_run, worker);
	assert_int_equal(itest_stop(&t, engines[lost].pid, SIGTERM, 60000), 0);

	run = itest_wait_terminal(&t, long_run, 180000);
	assert_string_equal(itest_str(run, "state"), "succeeded");
	cJSON_Delete(run);
	res = PQexecParams(itest_pg(&t), "SELECT worker, attempt FROM runs WHERE id = $1", 1, NULL,
			   (const char *[]){long_run}, NULL, NULL, 0);
	printf("farm: run %s ended on %s, attempt %s\n", long_run, PQgetvalue(res, 0, 0),
	       PQgetvalue(res, 0, 1));
	assert_string_equal(PQgetvalue(res, 0, 0), names[1 - lost]);
	PQclear(res);
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_results WHERE run_id = $1", long_run), 1);
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM run_events WHERE run_id = $1 AND "
					"state = 'succeeded'",
					long_run),
			 1);

	itest_teardown(&t);
	char *rm[] = {"/bin/rm", "-rf", root, NULL};
	itest_run_cmd(rm);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* what ran where, even when a check fails */
	const struct CMUnitTest tests[] = {cmocka_unit_test(farm)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
