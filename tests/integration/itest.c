/* itest — integration-test harness; see itest.h. */
#include "itest.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "ff_util.h"

#define ADMIN_DB_URL "postgresql://fuzzforge:fuzzforge@127.0.0.1:5432/postgres"
#define POLL_MS	     20
#define SARIF_SCHEMA ITEST_REPO "/tests/data/sarif-schema-2.1.0.json"

int64_t itest_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void itest_pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void admin_sql(const char *sql)
{
	PGconn *c = PQconnectdb(ADMIN_DB_URL);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("postgresql: %s", PQerrorMessage(c));
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

void itest_use_port(struct itest *t, int port)
{
	t->port = port;
	snprintf(t->base_url, sizeof(t->base_url), "http://127.0.0.1:%d", port);
	itest_http_close(t);
}

int itest_free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

/* ff_it_<name>_<8 hex digits of this build directory>: checkouts built in different places
 * can run the same test at once without sharing a database or a broker vhost. */
static void scoped_name(char *out, size_t len, const char *name)
{
	unsigned h = 2166136261u; /* FNV-1a */
	for (const char *c = ITEST_LOG_DIR; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	snprintf(out, len, "ff_it_%s_%08x", name, h);
}

int itest_setup(struct itest *t, const char *name)
{
	char sql[512], scope[96];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	scoped_name(scope, sizeof(scope), name);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", scope);
	admin_sql(sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", scope);
	admin_sql(sql);
	snprintf(t->db_url, sizeof(t->db_url), "postgresql://fuzzforge:fuzzforge@127.0.0.1:5432/%s",
		 scope);
	/* A broker vhost of its own, so no other consumer (a dev cluster, another test) can take
	 * this test's jobs, and tests may run in parallel. */
	snprintf(sql, sizeof(sql),
		 "rabbitmqctl -q delete_vhost %s >/dev/null 2>&1; "
		 "rabbitmqctl -q add_vhost %s >/dev/null && "
		 "rabbitmqctl -q set_permissions -p %s guest '.*' '.*' '.*' >/dev/null",
		 scope, scope, scope);
	if (system(sql) != 0)
		fail_msg("cannot make rabbitmq vhost %s", scope);
	snprintf(t->amqp_url, sizeof(t->amqp_url), "amqp://guest:guest@127.0.0.1:5672/%s", scope);
	t->port = itest_free_port();
	snprintf(t->base_url, sizeof(t->base_url), "http://127.0.0.1:%d", t->port);
	t->curl = curl_easy_init();
	mkdir(ITEST_LOG_DIR, 0755);
	return 0;
}

void itest_teardown(struct itest *t)
{
	for (int i = t->nprocs - 1; i >= 0; i--)
		if (t->procs[i] > 0 && itest_stop(t, t->procs[i], SIGTERM, 30000) < 0)
			itest_stop(t, t->procs[i], SIGKILL, 10000);
	if (t->pg)
		PQfinish(t->pg);
	curl_easy_cleanup(t->curl);
	t->curl = NULL;
	t->pg = NULL;
	/* Dropped, not kept: hundreds of leftover vhosts make the broker's stop_app take
	 * minutes (the chaos test restarts it). A failed test never gets here, so its database
	 * and vhost stay for a look until the next setup of its name. */
	char sql[512], scope[96];
	scoped_name(scope, sizeof(scope), t->name);
	PGconn *c = PQconnectdb(ADMIN_DB_URL); /* best effort: the next setup drops it too */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", scope);
	PQclear(PQexec(c, sql));
	PQfinish(c);
	snprintf(sql, sizeof(sql), "rabbitmqctl -q delete_vhost %s >/dev/null 2>&1", scope);
	if (system(sql) != 0)
		fprintf(stderr, "itest: vhost %s not deleted\n", scope);
}

void itest_child_setup(const char *path)
{
	/* A test that dies must not leave a worker consuming the shared queue. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
}

static pid_t spawn(struct itest *t, const char *binary, const char *role,
		   const char *const *extra_env, char *logpath, size_t loglen)
{
	char port_env[64], db_env[300], amqp_env[300];
	snprintf(logpath, loglen, "%s/%s-%s-%d.log", ITEST_LOG_DIR, t->name, role, t->nprocs);
	snprintf(port_env, sizeof(port_env), "FF_LISTEN=127.0.0.1:%d", t->port);
	snprintf(db_env, sizeof(db_env), "DATABASE_URL=%s", t->db_url);
	snprintf(amqp_env, sizeof(amqp_env), "AMQP_URL=%s", t->amqp_url);
	assert_true(t->nprocs < ITEST_MAX_PROCS);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		itest_child_setup(logpath);
		putenv(port_env);
		putenv(db_env);
		putenv(amqp_env);
		putenv("FF_API_KEY=" ITEST_API_KEY);
		/* Tests and benchmarks poll and submit far past a user's rate; the rate-limit
		 * test sets its own. */
		putenv("FF_RATE_PER_S=1000000");
		putenv("FF_RATE_BURST=1000000");
		putenv("FF_WORKFLOWS_DIR=" ITEST_WORKFLOWS_DIR);
		putenv("FF_LOG_LEVEL=debug");
		for (size_t i = 0; extra_env && extra_env[i]; i++)
			putenv((char *)extra_env[i]);
		execl(binary, binary, (char *)NULL);
		_exit(127);
	}
	t->procs[t->nprocs++] = pid;
	return pid;
}

pid_t itest_spawn(struct itest *t, const char *role, char *const argv[])
{
	char log[512];
	snprintf(log, sizeof(log), "%s/%s-%s-%d.log", ITEST_LOG_DIR, t->name, role, t->nprocs);
	assert_true(t->nprocs < ITEST_MAX_PROCS);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		itest_child_setup(log);
		execv(argv[0], argv);
		_exit(127);
	}
	t->procs[t->nprocs++] = pid;
	return pid;
}

int itest_file_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* what: the process, and where its log is */
static void assert_alive(pid_t pid, const char *what)
{
	int st;
	if (waitpid(pid, &st, WNOHANG) == pid)
		fail_msg("process %d exited early (status %d): %s", (int)pid, st, what);
}

void itest_wait_ready(struct itest *t, pid_t pid, const char *what)
{
	int64_t deadline = itest_now_ms() + 60000;
	for (;;) {
		struct itest_resp r = {0};
		if (itest_http(t, "GET", "/readyz", NULL, NULL, 0, 0, &r) == 0 && r.status == 200) {
			itest_resp_release(&r);
			return;
		}
		itest_resp_release(&r);
		if (pid > 0)
			assert_alive(pid, what);
		if (itest_now_ms() > deadline)
			fail_msg("%s not ready within 60 s", what);
		itest_pause_ms(POLL_MS);
	}
}

pid_t itest_start_controller(struct itest *t, const char *const *extra_env)
{
	char log[512], what[600];
	pid_t pid = spawn(t, ITEST_CONTROLLER, "controller", extra_env, log, sizeof(log));
	snprintf(what, sizeof(what), "controller (see %s)", log);
	itest_wait_ready(t, pid, what);
	return pid;
}

pid_t itest_start_worker(struct itest *t, const char *const *extra_env)
{
	char log[512], what[600];
	pid_t pid = spawn(t, ITEST_WORKER, "worker", extra_env, log, sizeof(log));
	snprintf(what, sizeof(what), "worker (see %s)", log);
	int64_t deadline = itest_now_ms() + 60000;
	while (!itest_file_lines(log, "consuming ff.jobs")) {
		assert_alive(pid, what);
		if (itest_now_ms() > deadline)
			fail_msg("worker not consuming within 60 s; see %s", log);
		itest_pause_ms(POLL_MS);
	}
	return pid;
}

int itest_stop(struct itest *t, pid_t pid, int sig, int timeout_ms)
{
	int st;
	kill(pid, sig);
	int64_t deadline = itest_now_ms() + timeout_ms;
	while (itest_now_ms() < deadline) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD)) {
			for (int i = 0; i < t->nprocs; i++)
				if (t->procs[i] == pid)
					t->procs[i] = 0;
			return w == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		}
		itest_pause_ms(POLL_MS);
	}
	return -1;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct itest_resp *r = arg;
	char *nb = realloc(r->body, r->len + size * n + 1);
	if (!nb)
		return 0;
	memcpy(nb + r->len, p, size * n);
	r->body = nb;
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

/* itest_http with one more request header (NULL for none). */
static int request(struct itest *t, const char *method, const char *path, const char *ctype,
		   const void *body, size_t len, int auth, const char *header,
		   struct itest_resp *resp)
{
	char url[1024], hct[128];
	struct curl_slist *h = NULL;
	CURL *c = t->curl;
	memset(resp, 0, sizeof(*resp));
	snprintf(url, sizeof(url), "%s%s", t->base_url, path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (ctype) {
		snprintf(hct, sizeof(hct), "Content-Type: %s", ctype);
		h = curl_slist_append(h, hct);
	}
	if (auth == 1)
		h = curl_slist_append(h, "Authorization: Bearer " ITEST_API_KEY);
	else if (auth == 2)
		h = curl_slist_append(h, "Authorization: Bearer not-" ITEST_API_KEY);
	if (header)
		h = curl_slist_append(h, header);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	CURLcode cc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (cc != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->body)
		resp->json = cJSON_ParseWithLength(resp->body, resp->len);
	return 0;
}

int itest_http(struct itest *t, const char *method, const char *path, const char *ctype,
	       const void *body, size_t len, int auth, struct itest_resp *resp)
{
	return request(t, method, path, ctype, body, len, auth, NULL, resp);
}

void itest_resp_release(struct itest_resp *r)
{
	free(r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

struct membuf {
	char *data;
	size_t len;
};

static la_ssize_t mem_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct membuf *m = arg;
	(void)a;
	char *nd = realloc(m->data, m->len + n);
	if (!nd)
		return -1;
	memcpy(nd + m->len, buf, n);
	m->data = nd;
	m->len += n;
	return (la_ssize_t)n;
}

/* A tar writer into m. The gzip header carries no timestamp, so the same files always make
 * the same bytes (and the same target digest). */
static struct archive *tar_writer(struct membuf *m, int gzip)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip) {
		archive_write_add_filter_gzip(a);
		archive_write_set_options(a, "gzip:!timestamp");
	}
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open(a, m, NULL, mem_write, NULL), ARCHIVE_OK);
	return a;
}

void *itest_tar(const char *const *files, int gzip, size_t *len)
{
	struct membuf m = {0};
	struct archive *a = tar_writer(&m, gzip);
	for (size_t i = 0; files[i]; i += 2) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, files[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)strlen(files[i + 1]));
		archive_write_header(a, e);
		archive_write_data(a, files[i + 1], strlen(files[i + 1]));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	*len = m.len;
	return m.data;
}

void itest_upload(struct itest *t, const char *const *files, char out[65])
{
	size_t len;
	void *tar = itest_tar(files, 1, &len);
	struct itest_resp r;
	assert_int_equal(
	    itest_http(t, "POST", "/api/v1/targets", "application/gzip", tar, len, 1, &r), 0);
	free(tar);
	if (r.status != 201)
		fail_msg("upload: %ld %s", r.status, r.body ? r.body : "");
	cJSON *sha = cJSON_GetObjectItem(r.json, "sha256");
	assert_true(cJSON_IsString(sha));
	snprintf(out, 65, "%s", sha->valuestring);
	itest_resp_release(&r);
}

/* A gzipped tar of the tree under dir, read with libarchive's disk reader. */
static void *tar_dir(const char *dir, size_t *len)
{
	struct membuf m = {0};
	struct archive *disk = archive_read_disk_new();
	struct archive *a = tar_writer(&m, 1);
	struct archive_entry *e = archive_entry_new();
	char root[PATH_MAX], rel[PATH_MAX], buf[16384];
	size_t rlen;

	snprintf(root, sizeof(root), "%s", dir);
	rlen = strlen(root);
	while (rlen > 1 && root[rlen - 1] == '/')
		root[--rlen] = '\0';
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_standard_lookup(disk);
	if (archive_read_disk_open(disk, root) != ARCHIVE_OK)
		fail_msg("%s: %s", root, archive_error_string(disk));
	for (;;) {
		int rc = archive_read_next_header2(disk, e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN)
			fail_msg("%s: %s", root, archive_error_string(disk));
		archive_read_disk_descend(disk);
		const char *p = archive_entry_pathname(e);
		if (!p || strncmp(p, root, rlen) != 0 || (p[rlen] != '/' && p[rlen] != '\0'))
			fail_msg("%s: unexpected entry %s", root, p ? p : "(null)");
		p += rlen;
		while (*p == '/')
			p++;
		if (!*p)
			continue; /* the root itself */
		snprintf(rel, sizeof(rel), "%s", p);
		archive_entry_copy_pathname(e, rel);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			fail_msg("%s: %s", rel, archive_error_string(a));
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		la_ssize_t n;
		while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0)
			if (archive_write_data(a, buf, (size_t)n) != n)
				fail_msg("%s: %s", rel, archive_error_string(a));
		if (n < 0)
			fail_msg("%s: %s", rel, archive_error_string(disk));
	}
	archive_entry_free(e);
	archive_read_close(disk);
	archive_read_free(disk);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*len = m.len;
	return m.data;
}

void itest_upload_dir(struct itest *t, const char *dir, char out[65])
{
	size_t len;
	void *tar = tar_dir(dir, &len);
	struct itest_resp r;
	assert_int_equal(
	    itest_http(t, "POST", "/api/v1/targets", "application/gzip", tar, len, 1, &r), 0);
	free(tar);
	if (r.status != 201)
		fail_msg("upload of %s: %ld %s", dir, r.status, r.body ? r.body : "");
	cJSON *sha = cJSON_GetObjectItem(r.json, "sha256");
	assert_true(cJSON_IsString(sha));
	snprintf(out, 65, "%s", sha->valuestring);
	itest_resp_release(&r);
}

/* POST /api/v1/runs, with header if not NULL; on 202 copies the run id into id. */
static long submit(struct itest *t, const char *header, const char *json, char id[37])
{
	struct itest_resp r;
	assert_int_equal(request(t, "POST", "/api/v1/runs", "application/json", json, strlen(json),
				 1, header, &r),
			 0);
	long status = r.status;
	if (status == 202) {
		cJSON *jid = cJSON_GetObjectItem(r.json, "id");
		assert_true(cJSON_IsString(jid));
		snprintf(id, 37, "%s", jid->valuestring);
	}
	itest_resp_release(&r);
	return status;
}

long itest_submit(struct itest *t, const char *json, char id[37])
{
	return submit(t, NULL, json, id);
}

long itest_submit_idempotent(struct itest *t, const char *key, const char *json, char id[37])
{
	char header[320];
	snprintf(header, sizeof(header), "Idempotency-Key: %s", key);
	return submit(t, header, json, id);
}

static cJSON *get_run(struct itest *t, const char *id)
{
	char path[128];
	struct itest_resp r;
	snprintf(path, sizeof(path), "/api/v1/runs/%s", id);
	assert_int_equal(itest_http(t, "GET", path, NULL, NULL, 0, 1, &r), 0);
	assert_int_equal(r.status, 200);
	cJSON *run = r.json;
	r.json = NULL;
	itest_resp_release(&r);
	return run;
}

static int is_terminal(const char *s)
{
	return !strcmp(s, "succeeded") || !strcmp(s, "failed") || !strcmp(s, "timed_out") ||
	       !strcmp(s, "cancelled");
}

cJSON *itest_wait_terminal(struct itest *t, const char *id, int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	for (;;) {
		cJSON *run = get_run(t, id);
		const char *state = cJSON_GetObjectItem(run, "state")->valuestring;
		if (is_terminal(state))
			return run;
		cJSON_Delete(run);
		if (itest_now_ms() > deadline)
			fail_msg("run %s not terminal within %d ms", id, timeout_ms);
		itest_pause_ms(POLL_MS);
	}
}

void itest_wait_state(struct itest *t, const char *id, const char *state, int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	for (;;) {
		cJSON *run = get_run(t, id);
		int match = !strcmp(cJSON_GetObjectItem(run, "state")->valuestring, state);
		cJSON_Delete(run);
		if (match)
			return;
		if (itest_now_ms() > deadline)
			fail_msg("run %s not %s within %d ms", id, state, timeout_ms);
		itest_pause_ms(POLL_MS);
	}
}

PGconn *itest_pg(struct itest *t)
{
	if (!t->pg) {
		t->pg = PQconnectdb(t->db_url);
		if (PQstatus(t->pg) != CONNECTION_OK)
			fail_msg("postgresql: %s", PQerrorMessage(t->pg));
	}
	return t->pg;
}

long itest_sql_long(struct itest *t, const char *sql, const char *param)
{
	const char *p[] = {param};
	PGresult *r = PQexecParams(itest_pg(t), sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQerrorMessage(t->pg));
	long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

const char *itest_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *itest_read_file(const char *path)
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

int itest_run_cmd(char *const argv[])
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

void itest_require_image(const char *image)
{
	char *argv[] = {"/usr/bin/docker", "image", "inspect", "-f", "ok", (char *)image, NULL};
	if (itest_run_cmd(argv) != 0)
		fail_msg("image %s is missing: run tests/integration/build_workflow_images.sh",
			 image);
}

void itest_get_ok(struct itest *t, const char *path, struct itest_resp *r)
{
	assert_int_equal(itest_http(t, "GET", path, NULL, NULL, 0, 1, r), 0);
	if (r->status != 200)
		fail_msg("GET %s: %ld %s", path, r->status, r->body ? r->body : "");
}

void itest_setup_workflows(struct itest *t, const char *name)
{
	const char *env[] = {"FF_WORKFLOWS_DIR=" ITEST_REPO "/workflows", NULL};
	const char *wenv[] = {"FF_WORKFLOWS_DIR=" ITEST_REPO "/workflows",
			      "FF_WORKER_CONCURRENCY=2", NULL};
	itest_setup(t, name);
	itest_start_controller(t, env);
	itest_start_worker(t, wenv);
}

void itest_submit_workflow(struct itest *t, const char *workflow, const char *target,
			   const char *params, char id[37])
{
	char body[512];
	snprintf(body, sizeof(body), "{\"workflow\":\"%s\",\"target\":\"%s\",\"parameters\":%s}",
		 workflow, target, params);
	long status = itest_submit(t, body, id);
	if (status != 202)
		fail_msg("submit %s: status %ld", body, status);
}

/* What every SARIF log must pass before a workflow's own checks: the official schema. */
static const char sarif_base_py[] =
    "import json, sys, jsonschema\n"
    "schema = json.load(open(sys.argv[1]))\n"
    "log = json.load(open(sys.argv[2]))\n"
    "jsonschema.Draft4Validator(schema).validate(log)\n"
    "assert log['version'] == '2.1.0' and log['$schema'], 'version or $schema'\n";

void itest_check_sarif(struct itest *t, const char *id, const char *checks_py, const char *what)
{
	char path[128], tmp[128], *py;
	struct itest_resp r;

	snprintf(path, sizeof(path), "/api/v1/runs/%s/sarif", id);
	itest_get_ok(t, path, &r);
	snprintf(tmp, sizeof(tmp), "/tmp/ff_it_%s.XXXXXX", t->name);
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_true(write(fd, r.body, r.len) == (ssize_t)r.len);
	close(fd);
	itest_resp_release(&r);
	if (asprintf(&py, "%s%s", sarif_base_py, checks_py ? checks_py : "") < 0)
		fail_msg("out of memory");
	char *argv[] = {"/usr/bin/python3", "-c", py, SARIF_SCHEMA, tmp, NULL};
	int rc = itest_run_cmd(argv);
	unlink(tmp);
	free(py);
	if (rc != 0)
		fail_msg("%s: the SARIF log of run %s is not valid (python3 exited %d)", what, id,
			 rc);
}

char *itest_github_checks(const char *extra, const char *target_dir, const char *automation_id,
			  int codeflows)
{
	char *checks = itest_read_file(ITEST_REPO "/tests/integration/sarif_github.py");
	char *py;
	if (asprintf(&py, "%s\nTARGET = '%s'\nAUTOMATION_ID = '%s'\nCODEFLOWS = %s\n%s",
		     extra ? extra : "", target_dir, automation_id, codeflows ? "True" : "False",
		     checks) < 0)
		fail_msg("out of memory");
	free(checks);
	return py;
}

cJSON *itest_finished_run(struct itest *t, const char *id, int timeout_ms, const char *checks_py,
			  const char *what)
{
	char path[128];
	struct itest_resp r;
	cJSON *run = itest_wait_terminal(t, id, timeout_ms);
	if (strcmp(itest_str(run, "state"), "succeeded") != 0)
		fail_msg("%s: run %s is %s: %s", what, id, itest_str(run, "state"),
			 itest_str(run, "error") ? itest_str(run, "error") : "");
	assert_int_equal(cJSON_GetObjectItem(run, "progress")->valueint, 100);
	cJSON_Delete(run);

	itest_check_sarif(t, id, checks_py, what);

	snprintf(path, sizeof(path), "/api/v1/runs/%s/findings?limit=1000", id);
	itest_get_ok(t, path, &r);
	cJSON *findings = cJSON_DetachItemFromObject(r.json, "findings");
	assert_true(cJSON_IsArray(findings));
	itest_resp_release(&r);
	return findings;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void itest_sort_strs(char **v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_str);
}

void itest_assert_same_keys(char *const *got, size_t ngot, char *const *want, size_t nwant,
			    const char *what)
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

/* ---- raw connections ---- */

void itest_conn_open(struct itest *t, struct itest_conn *c)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)t->port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval wt = {60, 0};
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail_msg("connect to 127.0.0.1:%d: %s", t->port, strerror(errno));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof(wt));
}

void itest_conn_close(struct itest_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int itest_conn_send(struct itest_conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads what is there (not blocking) into c->in; returns the bytes read. */
static size_t conn_take(struct itest_conn *c)
{
	size_t got = 0;
	while (!c->closed) {
		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 131072;
			char *in = realloc(c->in, cap + 1);
			if (!in)
				fail_msg("out of memory");
			c->in = in;
			c->cap = cap;
		}
		ssize_t n = recv(c->fd, c->in + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
			got += (size_t)n;
			c->in[c->len] = '\0';
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else if (n == 0 || errno != EINTR) {
			c->closed = 1; /* EOF, or ECONNRESET */
		}
	}
	return got;
}

/* Waits up to ms for c to be readable (or closed); reads what came. 1 if anything did. */
static int conn_poll_in(struct itest_conn *c, int ms)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	if (c->closed)
		return 1;
	int rc = poll(&pfd, 1, ms < 0 ? 0 : ms);
	if (rc <= 0)
		return 0;
	size_t before = c->len;
	conn_take(c);
	return c->len > before || c->closed;
}

int itest_conn_wait_input(struct itest_conn *c, int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	for (;;) {
		if (conn_poll_in(c, (int)(deadline - itest_now_ms())))
			return 1;
		if (itest_now_ms() >= deadline)
			return 0;
	}
}

size_t itest_conn_send_slowly(struct itest_conn *c, const void *buf, size_t len, size_t chunk,
			      int gap_ms)
{
	const char *p = buf;
	size_t sent = 0, before = c->len;
	while (sent < len && !c->closed && c->len == before) {
		size_t n = len - sent < chunk ? len - sent : chunk;
		if (itest_conn_send(c, p + sent, n) < 0)
			break;
		sent += n;
		itest_conn_wait_input(c, gap_ms); /* the pace, cut short if the server speaks */
	}
	return sent;
}

uint64_t itest_conn_send_body(struct itest_conn *c, itest_body_fn fn, void *ctx, int timeout_ms)
{
	size_t have = 0, off = 0, cap = 256 * 1024;
	char *buf = malloc(cap);
	uint64_t sent = 0;
	int done = 0;
	int64_t deadline = itest_now_ms() + timeout_ms;
	if (!buf)
		fail_msg("out of memory");
	while (!c->broken && itest_now_ms() < deadline) {
		if (off == have && !done) {
			have = fn(ctx, buf, cap);
			off = 0;
			done = have == 0;
		}
		if (off == have && done)
			break;
		struct pollfd pfd = {.fd = c->fd,
				     .events = (short)(c->closed ? POLLOUT : POLLIN | POLLOUT)};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			conn_take(c);
		if (!(pfd.revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;
		ssize_t n = send(c->fd, buf + off, have - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			sent += (uint64_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			conn_take(c); /* what the server said before it reset */
			c->closed = c->broken = 1;
		}
	}
	free(buf);
	return sent;
}

/* The end of a head in c->in (the index past its blank line), or 0. */
static size_t head_end(const struct itest_conn *c)
{
	const char *e = c->len ? strstr(c->in, "\r\n\r\n") : NULL;
	return e ? (size_t)(e - c->in) + 4 : 0;
}

const char *itest_raw_header(const struct itest_raw_resp *r, const char *name, char *out,
			     size_t outlen)
{
	size_t n = strlen(name);
	for (const char *l = strstr(r->head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2;
		if (strncasecmp(h, name, n) != 0 || h[n] != ':')
			continue;
		h += n + 1;
		while (*h == ' ' || *h == '\t')
			h++;
		size_t vlen = strcspn(h, "\r\n");
		snprintf(out, outlen, "%.*s", (int)vlen, h);
		return out;
	}
	return NULL;
}

int itest_conn_read_resp(struct itest_conn *c, int timeout_ms, struct itest_raw_resp *r)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	size_t hlen;
	char cl[32];
	memset(r, 0, sizeof(*r));
	while (!(hlen = head_end(c))) {
		if (c->closed || itest_now_ms() >= deadline)
			return -1;
		conn_poll_in(c, (int)(deadline - itest_now_ms()));
	}
	if (!(r->head = strndup(c->in, hlen)) || sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
		fail_msg("not an HTTP response: %.200s", c->in);
	size_t blen = 0;
	if (r->status >= 200 && itest_raw_header(r, "Content-Length", cl, sizeof(cl)))
		blen = strtoul(cl, NULL, 10);
	while (c->len - hlen < blen) {
		if (c->closed || itest_now_ms() >= deadline) {
			itest_raw_resp_release(r);
			return -1;
		}
		conn_poll_in(c, (int)(deadline - itest_now_ms()));
	}
	if (!(r->body = malloc(blen + 1)))
		fail_msg("out of memory");
	memcpy(r->body, c->in + hlen, blen);
	r->body[blen] = '\0';
	r->body_len = blen;
	memmove(c->in, c->in + hlen + blen, c->len - hlen - blen);
	c->len -= hlen + blen;
	c->in[c->len] = '\0';
	return 0;
}

void itest_raw_resp_release(struct itest_raw_resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int itest_conn_wait_closed(struct itest_conn *c, int timeout_ms, size_t *got)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	size_t before = c->len;
	while (!c->closed && itest_now_ms() < deadline)
		conn_poll_in(c, (int)(deadline - itest_now_ms()));
	if (got)
		*got = c->len - before;
	return c->closed;
}

void itest_http_close(struct itest *t)
{
	curl_easy_cleanup(t->curl);
	t->curl = curl_easy_init();
}

/* ---- process memory ---- */

long itest_proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			kib = strtol(line + n + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return kib;
}

int itest_proc_reset_hwm(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc = fd >= 0 && write(fd, "5", 1) == 1 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- archives made on the fly, and a bomb ---- */

/* A ustar header: a regular file ('0') or a pax extended header ('x'), checksum filled in. */
static void ustar_header(char h[512], const char *name, uint64_t size, char type)
{
	unsigned sum = 0;
	memset(h, 0, 512);
	snprintf(h, 100, "%s", name);
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	snprintf(h + 124, 12, "%011llo", (unsigned long long)size);
	memcpy(h + 136, "00000000000", 12);
	memset(h + 148, ' ', 8);
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

static uint64_t member_size(const struct itest_tar_gen *g)
{
	return 512 + (g->file_bytes + 511) / 512 * 512;
}

uint64_t itest_tar_gen_size(const struct itest_tar_gen *g)
{
	return (uint64_t)g->nfiles * member_size(g) + 1024;
}

size_t itest_tar_gen(void *ctx, char *buf, size_t cap)
{
	struct itest_tar_gen *g = ctx;
	size_t n = 0;
	if (!g->sha && !(g->sha = ff_sha256_new()))
		fail_msg("out of memory");
	while (n < cap && g->file <= g->nfiles) {
		uint64_t total = g->file < g->nfiles ? member_size(g) : 1024;
		if (g->off == total) {
			g->file++;
			g->off = 0;
			continue;
		}
		if (g->file < g->nfiles && g->off == 0) {
			char h[512], name[32];
			if (cap - n < 512)
				break;
			snprintf(name, sizeof(name), "zeros-%d.bin", g->file);
			ustar_header(h, name, g->file_bytes, '0');
			memcpy(buf + n, h, 512);
			n += 512;
			g->off = 512;
			continue;
		}
		uint64_t k = total - g->off < cap - n ? total - g->off : cap - n;
		memset(buf + n, 0, (size_t)k);
		n += (size_t)k;
		g->off += k;
	}
	ff_sha256_update(g->sha, buf, n);
	g->made += n;
	return n;
}

void itest_tar_gen_sha256(struct itest_tar_gen *g, char out[65])
{
	if (!g->sha)
		g->sha = ff_sha256_new();
	ff_sha256_final(g->sha, out);
	g->sha = NULL;
}

#define BOMB_RECORD 65536 /* one pax 'x' header's data: a single "comment" record */

void *itest_pax_bomb(size_t gz_bytes, size_t *len, uint64_t *inflated)
{
	/* One unit, an 'x' header and its record, deflated on its own after a full flush: the
	 * compressed unit refers to nothing before it, so its bytes repeated make a valid
	 * deflate stream of the unit repeated. */
	size_t ulen = 512 + BOMB_RECORD + 512;
	unsigned char *unit = malloc(ulen), *cu = malloc(ulen + 1024);
	z_stream z = {0};
	if (!unit || !cu)
		fail_msg("out of memory");
	ustar_header((char *)unit, "PaxHeaders/bomb", BOMB_RECORD, 'x');
	char *rec = (char *)unit + 512;
	int hdr = snprintf(rec, BOMB_RECORD, "%d comment=", BOMB_RECORD);
	memset(rec + hdr, 'a', BOMB_RECORD - (size_t)hdr - 1);
	rec[BOMB_RECORD - 1] = '\n';
	ustar_header((char *)unit + 512 + BOMB_RECORD, "f", 0, '0'); /* what the header is for */
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = unit;
	z.avail_in = (uInt)ulen;
	z.next_out = cu;
	z.avail_out = (uInt)(ulen + 1024);
	assert_int_equal(deflate(&z, Z_FULL_FLUSH), Z_OK);
	assert_int_equal(z.avail_in, 0);
	size_t culen = ulen + 1024 - z.avail_out;
	deflateEnd(&z);

	size_t reps = gz_bytes / culen + 1;
	size_t total = 10 + reps * culen + 2 + 8;
	unsigned char *out = malloc(total), *p = out;
	if (!out)
		fail_msg("out of memory");
	static const unsigned char gz_head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	memcpy(p, gz_head, 10);
	p += 10;
	uLong crc1 = crc32(0L, unit, (uInt)ulen), crc = crc32(0L, Z_NULL, 0);
	for (size_t i = 0; i < reps; i++) {
		memcpy(p, cu, culen);
		p += culen;
		crc = crc32_combine(crc, crc1, (z_off_t)ulen);
	}
	*p++ = 0x03; /* an empty final block (fixed Huffman, end of block) */
	*p++ = 0x00;
	uint64_t isize = (uint64_t)reps * ulen;
	for (int i = 0; i < 4; i++)
		*p++ = (unsigned char)(crc >> (8 * i));
	for (int i = 0; i < 4; i++)
		*p++ = (unsigned char)(isize >> (8 * i));
	free(unit);
	free(cu);
	*len = (size_t)(p - out);
	*inflated = isize;
	return out;
}

/* ---- /healthz probes on a thread ---- */

static void *prober_main(void *arg)
{
	struct itest_prober *p = arg;
	struct itest t = {.port = p->port};
	struct itest_conn c = {.fd = -1};
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: itest\r\n\r\n";
	while (!atomic_load(&p->stop)) {
		if (c.fd < 0 || c.closed) {
			itest_conn_close(&c);
			struct sockaddr_in a = {.sin_family = AF_INET,
						.sin_port = htons((uint16_t)t.port),
						.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
				p->failed++;
				itest_conn_close(&c);
				itest_pause_ms(p->gap_ms);
				continue;
			}
		}
		struct itest_raw_resp r;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int ok = itest_conn_send(&c, req, sizeof(req) - 1) == 0 &&
			 itest_conn_read_resp(&c, 1000, &r) == 0;
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ms =
		    (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		if (ok && r.status == 200) {
			if (p->n < ITEST_PROBE_MAX)
				p->ms[p->n] = ms;
			p->n++;
		} else {
			p->failed++;
			c.closed = 1; /* a fresh connection for the next probe */
		}
		if (ms > p->worst_ms)
			p->worst_ms = ms;
		if (ok)
			itest_raw_resp_release(&r);
		if (p->gap_ms)
			itest_pause_ms(p->gap_ms); /* the probes' pace */
	}
	itest_conn_close(&c);
	return NULL;
}

void itest_prober_start(struct itest *t, struct itest_prober *p, int gap_ms)
{
	memset(p, 0, sizeof(*p));
	p->port = t->port;
	p->gap_ms = gap_ms;
	if (!(p->ms = calloc(ITEST_PROBE_MAX, sizeof(*p->ms))))
		fail_msg("out of memory");
	atomic_init(&p->stop, 0);
	assert_int_equal(pthread_create(&p->thread, NULL, prober_main, p), 0);
}

void itest_prober_stop(struct itest_prober *p)
{
	atomic_store(&p->stop, 1);
	pthread_join(p->thread, NULL);
	if (p->n > ITEST_PROBE_MAX)
		p->n = ITEST_PROBE_MAX;
}

void itest_prober_release(struct itest_prober *p)
{
	free(p->ms);
	p->ms = NULL;
}
