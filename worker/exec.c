/* exec — one attempt of a run, from the guarded start to the recorded result.
 *
 * The target reaches the container without any host path: it is re-packed (normalised
 * owners and modes) and copied through the Engine's archive endpoint into a fresh volume,
 * via a helper container that is created but never started. The analysis container then
 * mounts that volume read-only at /target and a second volume at /results. Its output is
 * followed as a stream, which is also how we wait for it to stop: progress lines are seen
 * live and the manifest's timeout is the stream's deadline. */
#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_archive.h"
#include "ff_log.h"
#include "ff_sarif.h"
#include "ff_util.h"

#define PROGRESS_PREFIX "::progress "
#define PROGRESS_MIN_INTERVAL_MS 250

/* Everything one attempt collects; released by attempt_release(). */
struct attempt {
	const struct ff_job *job;
	struct exec_env *env;
	char name[96]; /* ff-<run>-<attempt>, prefix of containers and volumes */
	char vol_target[128], vol_results[128];
	char container[65];
	/* container output */
	char *logs;
	size_t logs_len;
	int logs_truncated;
	char line[512]; /* the stdout line being assembled, for ::progress */
	size_t line_len;
	int line_overflow;
	int64_t progress_at;
	/* results */
	int exit_code;
	char *sarif;
	size_t sarif_len;
	cJSON *artifacts; /* [{name, size}] with content kept in parallel below */
	void **artifact_data;
	size_t nartifacts;
	size_t artifacts_cap;
};

static void attempt_release(struct attempt *a)
{
	free(a->logs);
	free(a->sarif);
	for (size_t i = 0; i < a->nartifacts; i++)
		free(a->artifact_data[i]);
	free(a->artifact_data);
	cJSON_Delete(a->artifacts);
}

/* --- database steps ---------------------------------------------------------------- */

/* queued (or retrying, when a delayed retry comes due) -> running, with its events and a
 * lease, guarded on the attempt number so a duplicate message never runs an attempt twice.
 * 1 if it was ours to run, 0 if not. */
static int db_mark_running(struct attempt *a, struct ff_err *err)
{
	char attempt[16], lease[16];
	snprintf(attempt, sizeof(attempt), "%d", a->job->attempt);
	snprintf(lease, sizeof(lease), "%ld", a->env->cfg->lease_s);
	const char *p[] = {a->job->run_id, attempt, a->env->cfg->worker_id, lease};
	int rc = ff_db_begin(a->env->db, err);
	if (rc < 0)
		return rc;
	PGresult *res = ff_db_query(
		a->env->db,
		/* no FOR UPDATE here: a row locked earlier in the same statement cannot be
		 * updated by it; the UPDATE's own guard decides */
		"WITH prev AS (SELECT state FROM runs WHERE id = $1), "
		"r AS (UPDATE runs SET state = 'running', attempt = $2::int, worker = $3, "
		"  started_at = clock_timestamp(), progress = 0, progress_text = NULL, "
		"  next_attempt_at = NULL, lease_until = clock_timestamp() + $4::int * "
		"  interval '1 second' WHERE id = $1 AND state IN ('queued', 'retrying') "
		"  AND attempt = $2::int - 1 RETURNING id) "
		"SELECT prev.state FROM r, prev",
		4, p, err);
	if (!res) {
		rc = err->code;
		goto out_rollback;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		ff_db_rollback(a->env->db);
		return 0;
	}
	/* A retry that came due passes through queued, so the history shows both steps. */
	if (strcmp(PQgetvalue(res, 0, 0), "retrying") == 0 &&
	    (rc = ff_db_exec(a->env->db,
			     "INSERT INTO run_events (run_id, state, attempt, message) "
			     "VALUES ($1, 'queued', $2::int - 1, 'retry due')",
			     2, p, err)) < 0) {
		PQclear(res);
		goto out_rollback;
	}
	PQclear(res);
	rc = ff_db_exec(a->env->db,
			"INSERT INTO run_events (run_id, state, attempt, message) "
			"VALUES ($1, 'running', $2::int, 'started on ' || $3)",
			3, p, err);
	if (rc < 0)
		goto out_rollback;
	rc = ff_db_commit(a->env->db, err);
	return rc < 0 ? rc : 1;
out_rollback:
	ff_db_rollback(a->env->db);
	return rc;
}

static int db_load_target(struct attempt *a, void **buf, size_t *len, struct ff_err *err)
{
	const char *p[] = {a->job->target};
	PGresult *res = ff_db_query_bin(a->env->db, "SELECT content FROM targets WHERE sha256 = $1",
					1, p, NULL, NULL, 1, err);
	if (!res)
		return err->code;
	int rc = 0;
	if (PQntuples(res) != 1) {
		rc = ff_err_set(err, FF_ENOTFOUND, "target %s is not stored", a->job->target);
	} else {
		*len = (size_t)PQgetlength(res, 0, 0);
		*buf = malloc(*len ? *len : 1);
		if (*buf)
			memcpy(*buf, PQgetvalue(res, 0, 0), *len);
		else
			rc = ff_err_set(err, FF_ENOMEM, "out of memory loading the target");
	}
	PQclear(res);
	return rc;
}

static void db_progress(struct attempt *a, int pct, const char *text)
{
	char p1[16];
	struct ff_err err;
	snprintf(p1, sizeof(p1), "%d", pct);
	const char *p[] = {a->job->run_id, p1, text};
	if (ff_db_exec(a->env->db,
		       "UPDATE runs SET progress = $2, progress_text = $3 "
		       "WHERE id = $1 AND state = 'running'",
		       3, p, &err) < 0)
		ff_run_warn(a->job->run_id, "progress not recorded: %s", err.msg);
}

/* An event within the running state (no transition), for the run's history. */
static void db_note(struct attempt *a, const char *message)
{
	char attempt[16];
	struct ff_err err;
	snprintf(attempt, sizeof(attempt), "%d", a->job->attempt);
	const char *p[] = {a->job->run_id, attempt, message};
	if (ff_db_exec(a->env->db,
		       "INSERT INTO run_events (run_id, state, attempt, message) "
		       "VALUES ($1, 'running', $2::int, $3)",
		       3, p, &err) < 0)
		ff_run_warn(a->job->run_id, "event not recorded: %s", err.msg);
}

static cJSON *findings_json(const struct ff_findings *f)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < f->n; i++) {
		const struct ff_finding *x = &f->items[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "idx", (double)i);
		cJSON_AddStringToObject(o, "rule_id", x->rule_id);
		cJSON_AddStringToObject(o, "level", x->level);
		cJSON_AddStringToObject(o, "message", x->message);
		if (x->path)
			cJSON_AddStringToObject(o, "path", x->path);
		cJSON_AddNumberToObject(o, "start_line", (double)x->start_line);
		cJSON_AddNumberToObject(o, "end_line", (double)x->end_line);
		cJSON_AddStringToObject(o, "fingerprint", x->fingerprint);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *findings_summary(const struct ff_findings *f)
{
	static const char *const names[] = {"error", "warning", "note", "none"};
	cJSON *o = cJSON_CreateObject();
	size_t total = 0;
	for (int i = 0; i < 4; i++)
		total += f->count_by_level[i];
	cJSON_AddNumberToObject(o, "total", (double)total);
	for (int i = 0; i < 4; i++)
		cJSON_AddNumberToObject(o, names[i], (double)f->count_by_level[i]);
	return o;
}

/* Writes results, findings, artifacts and the terminal state in one transaction, guarded
 * on the run still being this attempt's. 0 when recorded; FF_ECONFLICT when the run had
 * moved on (cancelled, or recorded by someone else), which rolls everything back. */
static int db_finish(struct attempt *a, const char *state, const char *error,
		     const struct ff_findings *f, long retry_delay_s, int dead, struct ff_err *err)
{
	struct ff_db *db = a->env->db;
	const char *id = a->job->run_id;
	char attempt[16], exit_code[16], delay[24];
	char *fjson = NULL, *summary = NULL;
	int rc;
	int retrying = strcmp(state, "retrying") == 0;

	snprintf(attempt, sizeof(attempt), "%d", a->job->attempt);
	snprintf(exit_code, sizeof(exit_code), "%d", a->exit_code);
	snprintf(delay, sizeof(delay), "%ld", retry_delay_s);
	if ((rc = ff_db_begin(db, err)) < 0)
		return rc;
	{
		const char *p[] = {id, a->sarif, a->logs ? a->logs : "",
				   a->logs_truncated ? "true" : "false"};
		int lens[] = {0, (int)a->sarif_len, (int)a->logs_len, 0};
		int fmts[] = {0, 1, 1, 0};
		PGresult *res = ff_db_query_bin(
			db,
			"INSERT INTO run_results (run_id, sarif, logs, logs_truncated) "
			"VALUES ($1, $2, $3, $4) ON CONFLICT (run_id) DO UPDATE SET "
			"sarif = EXCLUDED.sarif, logs = EXCLUDED.logs, "
			"logs_truncated = EXCLUDED.logs_truncated",
			4, p, lens, fmts, 0, err);
		if (!res) {
			rc = err->code;
			goto out_rollback;
		}
		PQclear(res);
	}
	/* A failed attempt that will be retried keeps its logs; findings are the final
	 * attempt's only. */
	if (f && f->n && !retrying) {
		cJSON *arr = findings_json(f);
		fjson = cJSON_PrintUnformatted(arr);
		cJSON_Delete(arr);
		const char *p[] = {id, fjson};
		rc = ff_db_exec(db,
				"INSERT INTO findings (run_id, idx, rule_id, level, message, path, "
				"start_line, end_line, fingerprint) "
				"SELECT $1, idx, rule_id, level, message, path, start_line, end_line, "
				"fingerprint FROM jsonb_to_recordset($2::jsonb) AS x(idx int, "
				"rule_id text, level text, message text, path text, start_line int, "
				"end_line int, fingerprint text)",
				2, p, err);
		if (rc < 0)
			goto out_rollback;
	}
	for (size_t i = 0; i < a->nartifacts && !retrying; i++) {
		cJSON *art = cJSON_GetArrayItem(a->artifacts, (int)i);
		const char *name = cJSON_GetObjectItem(art, "name")->valuestring;
		char size[24];
		size_t n = (size_t)cJSON_GetObjectItem(art, "size")->valuedouble;
		snprintf(size, sizeof(size), "%zu", n);
		const char *p[] = {id, name, size, a->artifact_data[i] ? a->artifact_data[i] : ""};
		int lens[] = {0, 0, 0, (int)n};
		int fmts[] = {0, 0, 0, 1};
		PGresult *res = ff_db_query_bin(db,
						"INSERT INTO artifacts (run_id, name, size, content) "
						"VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
						4, p, lens, fmts, 0, err);
		if (!res) {
			rc = err->code;
			goto out_rollback;
		}
		PQclear(res);
	}
	if (f) {
		cJSON *s = findings_summary(f);
		summary = cJSON_PrintUnformatted(s);
		cJSON_Delete(s);
	}
	{
		const char *p[] = {id,	    state,   error, a->exit_code >= 0 ? exit_code : NULL,
				   summary, attempt, a->env->cfg->worker_id, delay};
		PGresult *res = ff_db_query(
			db,
			"WITH r AS (UPDATE runs SET state = $2, error = $3, exit_code = $4::int, "
			"  findings_summary = $5::jsonb, lease_until = NULL, "
			"  finished_at = CASE WHEN $2 = 'retrying' THEN NULL ELSE clock_timestamp() END, "
			"  next_attempt_at = CASE WHEN $2 = 'retrying' THEN clock_timestamp() + "
			"    $8::int * interval '1 second' END, "
			"  published = CASE WHEN $2 = 'retrying' THEN false ELSE published END, "
			"  progress = CASE WHEN $2 = 'succeeded' THEN 100 ELSE progress END "
			"  WHERE id = $1 AND state = 'running' AND attempt = $6::int AND worker = $7 "
			"  RETURNING id, attempt) "
			"INSERT INTO run_events (run_id, state, attempt, message) "
			"SELECT id, $2, attempt, CASE WHEN $2 = 'retrying' THEN 'attempt ' || attempt || "
			"  ' failed: ' || $3 || '; next attempt in ' || $8 || ' s' ELSE $3 END "
			"FROM r RETURNING run_id",
			8, p, err);
		if (!res) {
			rc = err->code;
			goto out_rollback;
		}
		int ours = PQntuples(res) == 1;
		PQclear(res);
		if (!ours) {
			rc = ff_err_set(err, FF_ECONFLICT, "run is no longer this attempt's");
			goto out_rollback;
		}
	}
	if (dead) {
		const char *p[] = {id, attempt, error};
		rc = ff_db_exec(db,
				"INSERT INTO dead_letters (run_id, attempts, last_error) "
				"VALUES ($1, $2::int, $3) ON CONFLICT (run_id) DO UPDATE SET "
				"attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, "
				"at = clock_timestamp()",
				3, p, err);
		if (rc < 0)
			goto out_rollback;
	}
	rc = ff_db_commit(db, err);
	goto out;
out_rollback:
	ff_db_rollback(db);
out:
	free(fjson);
	free(summary);
	return rc;
}

/* --- container output --------------------------------------------------------------- */

static void logs_append(struct attempt *a, const char *data, size_t len)
{
	size_t cap = a->env->cfg->log_max_bytes;
	if (a->logs_len + len > cap) {
		a->logs_truncated = 1;
		len = cap > a->logs_len ? cap - a->logs_len : 0;
	}
	if (!len)
		return;
	if (!a->logs && !(a->logs = malloc(cap + 1)))
		return;
	memcpy(a->logs + a->logs_len, data, len);
	a->logs_len += len;
}

/* "::progress <0-100> <text>" on stdout updates the run's live progress. */
static void progress_line(struct attempt *a, const char *line)
{
	if (strncmp(line, PROGRESS_PREFIX, strlen(PROGRESS_PREFIX)) != 0)
		return;
	const char *p = line + strlen(PROGRESS_PREFIX);
	char *end;
	long pct = strtol(p, &end, 10);
	if (end == p || pct < 0 || pct > 100)
		return;
	while (*end == ' ')
		end++;
	int64_t now = ff_now_ms();
	if (pct < 100 && now - a->progress_at < PROGRESS_MIN_INTERVAL_MS)
		return; /* a chatty workflow must not turn into a write per line */
	a->progress_at = now;
	db_progress(a, (int)pct, end);
}

static void on_output(void *ctx, int stream, const char *data, size_t len)
{
	struct attempt *a = ctx;
	logs_append(a, data, len);
	if (stream != 1)
		return;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			a->line[a->line_len] = '\0';
			if (!a->line_overflow)
				progress_line(a, a->line);
			a->line_len = 0;
			a->line_overflow = 0;
		} else if (a->line_len + 1 < sizeof(a->line)) {
			a->line[a->line_len++] = data[i];
		} else {
			a->line_overflow = 1;
		}
	}
}

/* --- results ------------------------------------------------------------------------- */

#define SARIF_PATH     "results/results.sarif"
#define ARTIFACTS_PATH "results/artifacts/"

static int on_result_file(void *ctx, const char *path, const void *data, size_t len)
{
	struct attempt *a = ctx;
	if (strcmp(path, SARIF_PATH) == 0 && data) {
		free(a->sarif);
		a->sarif = malloc(len + 1);
		if (!a->sarif)
			return FF_ENOMEM;
		memcpy(a->sarif, data, len);
		a->sarif[len] = '\0';
		a->sarif_len = len;
		return 0;
	}
	if (strncmp(path, ARTIFACTS_PATH, strlen(ARTIFACTS_PATH)) != 0 || !data)
		return 0;
	const char *name = path + strlen(ARTIFACTS_PATH);
	if (!*name || strlen(name) > 255)
		return 0;
	if (a->nartifacts == a->artifacts_cap) {
		size_t cap = a->artifacts_cap ? a->artifacts_cap * 2 : 8;
		void **nd = realloc(a->artifact_data, cap * sizeof(*nd));
		if (!nd)
			return FF_ENOMEM;
		a->artifact_data = nd;
		a->artifacts_cap = cap;
	}
	void *copy = malloc(len ? len : 1);
	if (!copy)
		return FF_ENOMEM;
	memcpy(copy, data, len);
	if (!a->artifacts)
		a->artifacts = cJSON_CreateArray();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddNumberToObject(o, "size", (double)len);
	cJSON_AddItemToArray(a->artifacts, o);
	a->artifact_data[a->nartifacts++] = copy;
	return 0;
}

static int collect_results(struct attempt *a, struct ff_err *err)
{
	void *tar = NULL;
	size_t len = 0;
	size_t cap = a->env->cfg->results_max_bytes;
	int rc = docker_archive_get(a->env->docker, a->container, "/results", cap, &tar, &len, err);
	if (rc == 0)
		rc = ff_archive_each_file(tar, len, cap, on_result_file, a, err);
	free(tar);
	return rc;
}

/* --- containers ---------------------------------------------------------------------- */

static cJSON *string_array(char *const *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	return arr;
}

static cJSON *run_labels(const struct attempt *a)
{
	cJSON *l = cJSON_CreateObject();
	cJSON_AddStringToObject(l, "fuzzforge.run", a->job->run_id);
	cJSON_AddStringToObject(l, "fuzzforge.worker", a->env->cfg->worker_id);
	return l;
}

static cJSON *binds(const struct attempt *a, int target_ro)
{
	char t[160], r[160];
	snprintf(t, sizeof(t), "%s:/target:%s", a->vol_target, target_ro ? "ro" : "rw");
	snprintf(r, sizeof(r), "%s:/results:rw", a->vol_results);
	char *v[] = {t, r};
	return string_array(v, 2);
}

/* The container contract of DESIGN.md: read-only target and rootfs, writable /results,
 * tmpfs /tmp, non-root, no capabilities, no new privileges, the manifest's limits. */
static cJSON *analysis_spec(const struct attempt *a)
{
	const struct ff_job *j = a->job;
	char tmpfs[96];
	cJSON *spec = cJSON_CreateObject();
	cJSON_AddStringToObject(spec, "Image", j->image);
	if (j->ncommand)
		cJSON_AddItemToObject(spec, "Cmd", string_array(j->command, j->ncommand));
	char **env = ff_job_env(j);
	size_t nenv = 0;
	while (env && env[nenv])
		nenv++;
	cJSON_AddItemToObject(spec, "Env", string_array(env, nenv));
	ff_job_env_free(env);
	cJSON_AddStringToObject(spec, "User", a->env->cfg->container_user);
	cJSON_AddStringToObject(spec, "WorkingDir", "/target");
	cJSON_AddItemToObject(spec, "Labels", run_labels(a));

	cJSON *hc = cJSON_AddObjectToObject(spec, "HostConfig");
	cJSON_AddItemToObject(hc, "Binds", binds(a, 1));
	cJSON_AddStringToObject(hc, "NetworkMode", j->network);
	double mem = (double)j->memory_mb * 1024 * 1024;
	cJSON_AddNumberToObject(hc, "Memory", mem);
	cJSON_AddNumberToObject(hc, "MemorySwap", mem);
	cJSON_AddNumberToObject(hc, "NanoCpus",
				(double)exec_nano_cpus(j->cpus, sysconf(_SC_NPROCESSORS_ONLN)));
	cJSON_AddNumberToObject(hc, "PidsLimit", (double)j->pids);
	const char *drop[] = {"ALL"};
	cJSON_AddItemToObject(hc, "CapDrop", cJSON_CreateStringArray(drop, 1));
	const char *sec[] = {"no-new-privileges"};
	cJSON_AddItemToObject(hc, "SecurityOpt", cJSON_CreateStringArray(sec, 1));
	cJSON_AddBoolToObject(hc, "ReadonlyRootfs", 1);
	/* exec allowed in /tmp: fuzzing workflows build their harnesses there */
	snprintf(tmpfs, sizeof(tmpfs), "rw,nosuid,nodev,size=%ldm", a->env->cfg->tmpfs_mb);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(hc, "Tmpfs"), "/tmp", tmpfs);
	cJSON *ul = cJSON_AddArrayToObject(hc, "Ulimits");
	cJSON *nofile = cJSON_CreateObject();
	cJSON_AddStringToObject(nofile, "Name", "nofile");
	cJSON_AddNumberToObject(nofile, "Soft", 4096);
	cJSON_AddNumberToObject(nofile, "Hard", 4096);
	cJSON_AddItemToArray(ul, nofile);
	cJSON *lc = cJSON_AddObjectToObject(hc, "LogConfig");
	cJSON_AddStringToObject(lc, "Type", "json-file");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(lc, "Config"), "max-size", "20m");
	return spec;
}

/* Creates the two volumes and fills /target (and an empty, world-writable /results) through
 * a helper container that is never started. Its creation also tells us whether the image
 * exists on this engine. */
static int prepare_volumes(struct attempt *a, const void *tar, size_t len, struct ff_err *err)
{
	struct docker *d = a->env->docker;
	char helper_name[128], helper[65];
	cJSON *labels = run_labels(a);
	int rc = docker_volume_create(d, a->vol_target, labels, err);
	if (rc == 0)
		rc = docker_volume_create(d, a->vol_results, labels, err);
	cJSON_Delete(labels);
	if (rc < 0)
		return rc;

	cJSON *spec = cJSON_CreateObject();
	cJSON_AddStringToObject(spec, "Image", a->job->image);
	const char *cmd[] = {"/nonexistent"}; /* never started */
	cJSON_AddItemToObject(spec, "Entrypoint", cJSON_CreateStringArray(cmd, 1));
	cJSON_AddStringToObject(spec, "User", "0:0");
	cJSON_AddItemToObject(spec, "Labels", run_labels(a));
	cJSON *hc = cJSON_AddObjectToObject(spec, "HostConfig");
	cJSON_AddItemToObject(hc, "Binds", binds(a, 0));
	cJSON_AddStringToObject(hc, "NetworkMode", "none");
	snprintf(helper_name, sizeof(helper_name), "%s-copy", a->name);
	rc = docker_container_create(d, helper_name, spec, helper, err);
	cJSON_Delete(spec);
	if (rc == FF_ENOTFOUND)
		return ff_err_set(err, FF_ENOTFOUND,
				  "image '%s' is not available on this worker's docker engine",
				  a->job->image);
	if (rc < 0)
		return rc;
	rc = docker_archive_put(d, helper, "/", tar, len, err);
	struct ff_err ignored;
	docker_container_remove(d, helper, &ignored);
	return rc;
}

/* A worker that died during this attempt number left these behind (its run came back to
 * the queue without counting the attempt): start clean, above all with no stale results. */
static void remove_leftovers(struct attempt *a)
{
	struct docker *d = a->env->docker;
	struct ff_err ignored;
	char helper_name[128];
	snprintf(helper_name, sizeof(helper_name), "%s-copy", a->name);
	docker_container_remove(d, a->name, &ignored);
	docker_container_remove(d, helper_name, &ignored);
	docker_volume_remove(d, a->vol_target, &ignored);
	docker_volume_remove(d, a->vol_results, &ignored);
}

static void cleanup_docker(struct attempt *a)
{
	struct docker *d = a->env->docker;
	struct ff_err err;
	if (a->container[0] && docker_container_remove(d, a->container, &err) < 0)
		ff_run_warn(a->job->run_id, "container not removed: %s", err.msg);
	if (docker_volume_remove(d, a->vol_target, &err) < 0 ||
	    docker_volume_remove(d, a->vol_results, &err) < 0)
		ff_run_warn(a->job->run_id, "volume not removed: %s", err.msg);
}

/* Records the container in the slot the heartbeat watches, and says whether the attempt
 * has been told to stop meanwhile. */
static enum exec_stop slot_set_container(struct attempt *a, const char *container)
{
	struct exec_slot *slot = a->env->slot;
	if (!slot)
		return EXEC_STOP_NONE;
	pthread_mutex_lock(slot->lock);
	snprintf(slot->container, sizeof(slot->container), "%s", container);
	enum exec_stop stop = slot->stop;
	pthread_mutex_unlock(slot->lock);
	return stop;
}

static enum exec_stop slot_stop(struct attempt *a)
{
	return slot_set_container(a, a->container);
}

/* The draining worker gives the run back: running -> queued without counting the attempt,
 * for the dispatcher to publish again. */
static int db_handback(struct attempt *a, struct ff_err *err)
{
	char attempt[16];
	snprintf(attempt, sizeof(attempt), "%d", a->job->attempt);
	const char *p[] = {a->job->run_id, attempt, a->env->cfg->worker_id};
	return ff_db_exec(
		a->env->db,
		"WITH r AS (UPDATE runs SET state = 'queued', attempt = attempt - 1, worker = NULL, "
		"  lease_until = NULL, started_at = NULL, published = false, "
		"  next_attempt_at = clock_timestamp() "
		"  WHERE id = $1 AND state = 'running' AND attempt = $2::int AND worker = $3 "
		"  RETURNING id, attempt) "
		"INSERT INTO run_events (run_id, state, attempt, message) "
		"SELECT id, 'queued', attempt, 'handed back by draining worker ' || $3 FROM r",
		3, p, err);
}

/* Runs the container to its end. Sets *state and fills error for the run (not for us). */
static int run_container(struct attempt *a, const char **state, char *error, size_t errlen,
			 struct ff_err *err)
{
	struct docker *d = a->env->docker;
	cJSON *spec = analysis_spec(a);
	struct ff_err ignored;
	int rc = docker_container_create(d, a->name, spec, a->container, err);
	cJSON_Delete(spec);
	if (rc == 0 && slot_set_container(a, a->container) != EXEC_STOP_NONE)
		return 0; /* stopped before it started */
	if (rc == 0)
		rc = docker_container_start(d, a->container, err);
	if (rc < 0)
		return rc;
	/* The heartbeat may have looked for the container before it ran: look again. */
	if (slot_stop(a) != EXEC_STOP_NONE)
		docker_container_kill(d, a->container, &ignored);
	ff_run_info(a->job->run_id, "container %.12s started", a->container);
	db_note(a, "container started");

	long timeout_ms = a->job->timeout_s * 1000;
	int64_t started = ff_now_ms();
	rc = docker_container_follow_logs(d, a->container, timeout_ms, on_output, a, err);
	if (slot_stop(a) != EXEC_STOP_NONE)
		return 0; /* killed on purpose: the caller records what the stop means */
	if (rc == FF_ETIMEOUT || (rc == 0 && ff_now_ms() - started > timeout_ms)) {
		docker_container_kill(d, a->container, &ignored);
		docker_container_wait(d, a->container, 30000, &a->exit_code, &ignored);
		*state = "timed_out";
		snprintf(error, errlen, "timed out after %ld s", a->job->timeout_s);
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = docker_container_wait(d, a->container, 30000, &a->exit_code, err);
	if (rc < 0)
		return rc;
	if (a->exit_code != 0) {
		*state = "failed";
		snprintf(error, errlen, "workflow exited with code %d", a->exit_code);
	}
	return 0;
}

long exec_backoff_s(long backoff_s, int attempt)
{
	long delay = backoff_s;
	for (int i = 1; i < attempt && delay < 3600; i++)
		delay *= 2;
	return delay > 3600 ? 3600 : delay;
}

long long exec_nano_cpus(double cpus, long host_cpus)
{
	if (host_cpus > 0 && cpus > (double)host_cpus)
		cpus = (double)host_cpus;
	return (long long)(cpus * 1e9);
}

/* Writes the outcome, retrying while the database is unreachable (a restart takes seconds;
 * the lease gives us that long before another worker would take the run). */
static int record(struct attempt *a, const char *state, const char *error,
		  const struct ff_findings *f, long delay_s, int dead, struct ff_err *err)
{
	int64_t deadline = ff_now_ms() + a->env->cfg->lease_s * 1000;
	int backoff_ms = 100;
	for (;;) {
		int rc = db_finish(a, state, error, f, delay_s, dead, err);
		if (rc != FF_EUNAVAIL || ff_now_ms() + backoff_ms > deadline)
			return rc;
		ff_run_warn(a->job->run_id, "result not recorded yet (%s): retrying", err->msg);
		usleep((useconds_t)backoff_ms * 1000);
		backoff_ms = backoff_ms < 2000 ? backoff_ms * 2 : 2000;
	}
}

/* Everything after the run is ours: containers, results, the outcome. */
static struct exec_result run_attempt(struct attempt *a)
{
	const struct ff_job *job = a->job;
	struct ff_err err = {0};
	struct ff_findings findings = {0};
	struct exec_result result = {EXEC_DONE, 0};
	const char *state = "succeeded";
	char error[600] = "";
	void *target = NULL, *packed = NULL;
	size_t target_len = 0, packed_len = 0;
	int have_findings = 0;

	remove_leftovers(a);
	int rc = db_load_target(a, &target, &target_len, &err);
	if (rc == 0)
		rc = ff_archive_repack_for_container(target, target_len, &packed, &packed_len, &err);
	free(target);
	if (rc == 0)
		rc = prepare_volumes(a, packed, packed_len, &err);
	free(packed);
	if (rc == 0)
		rc = run_container(a, &state, error, sizeof(error), &err);
	enum exec_stop stop = slot_stop(a);
	if (rc == 0 && a->container[0] && stop == EXEC_STOP_NONE)
		rc = collect_results(a, &err);
	cleanup_docker(a);

	if (stop == EXEC_STOP_CANCEL) {
		ff_run_info(job->run_id, "cancelled: container stopped");
		return result;
	}
	if (stop == EXEC_STOP_HANDBACK) {
		if (db_handback(a, &err) < 0)
			ff_run_warn(job->run_id, "not handed back (%s): its lease will expire",
				    err.msg);
		else
			ff_run_info(job->run_id, "handed back to the queue");
		return result;
	}
	if (rc < 0) {
		state = "failed";
		snprintf(error, sizeof(error), "%s", err.msg);
	} else if (!strcmp(state, "succeeded") && !a->sarif) {
		state = "failed";
		snprintf(error, sizeof(error), "workflow wrote no /results/results.sarif");
	}
	if (a->sarif) {
		rc = ff_sarif_normalise(a->sarif, a->sarif_len, 0, &findings, &err);
		if (rc == 0) {
			have_findings = 1;
		} else if (!strcmp(state, "succeeded")) {
			state = "failed";
			snprintf(error, sizeof(error), "invalid SARIF: %s", err.msg);
		}
	}
	/* Failures are retried by the workflow's policy. A timeout is only when the policy
	 * says so (retry.on_timeout): most would just time out again. A cancellation never
	 * is. Past the budget the run keeps the last attempt's state, failed or timed_out,
	 * and is dead-lettered with its error. */
	int dead = 0;
	if (!strcmp(state, "failed") || (!strcmp(state, "timed_out") && job->retry_on_timeout)) {
		if (job->attempt < job->max_attempts) {
			state = "retrying";
			result = (struct exec_result){EXEC_RETRY,
						      exec_backoff_s(job->backoff_s, job->attempt)};
		} else {
			dead = 1;
			result.outcome = EXEC_DEAD;
		}
	}
	rc = record(a, state, error[0] ? error : NULL, have_findings ? &findings : NULL,
		    result.delay_s, dead, &err);
	if (rc == FF_ECONFLICT) {
		ff_run_info(job->run_id, "result not recorded: %s", err.msg);
		result = (struct exec_result){EXEC_DONE, 0};
	} else if (rc < 0) {
		/* Nothing recorded: the lease expires and the run goes back to the queue. */
		ff_run_error(job->run_id, "result not recorded: %s", err.msg);
		result = (struct exec_result){EXEC_DONE, 0};
	} else {
		ff_run_info(job->run_id, "%s%s%s", state, error[0] ? ": " : "", error);
	}
	ff_findings_release(&findings);
	return result;
}

struct exec_result exec_run(struct exec_env *env, const struct ff_job *job)
{
	struct attempt a = {.job = job, .env = env, .exit_code = -1};
	struct ff_err err = {0};

	snprintf(a.name, sizeof(a.name), "ff-%s-%d", job->run_id, job->attempt);
	snprintf(a.vol_target, sizeof(a.vol_target), "%s-target", a.name);
	snprintf(a.vol_results, sizeof(a.vol_results), "%s-results", a.name);

	int rc = db_mark_running(&a, &err);
	if (rc == 0) {
		ff_run_info(job->run_id, "attempt %d is not due: skipped", job->attempt);
		return (struct exec_result){EXEC_SKIP, 0};
	}
	if (rc < 0) {
		ff_run_warn(job->run_id, "cannot start: %s", err.msg);
		/* The message goes back to the queue; pausing keeps a database outage from
		 * becoming a redelivery loop. */
		sleep(1);
		return (struct exec_result){EXEC_REQUEUE, 0};
	}
	/* From here the lease, not the broker message, keeps the run alive. */
	if (env->on_started)
		env->on_started(env->ctx);
	if (env->slot) {
		pthread_mutex_lock(env->slot->lock);
		snprintf(env->slot->run_id, sizeof(env->slot->run_id), "%s", job->run_id);
		env->slot->container[0] = '\0';
		env->slot->stop = EXEC_STOP_NONE;
		pthread_mutex_unlock(env->slot->lock);
	}
	ff_run_info(job->run_id, "running %s attempt %d", job->workflow, job->attempt);
	struct exec_result result = run_attempt(&a);
	if (env->slot) {
		pthread_mutex_lock(env->slot->lock);
		env->slot->run_id[0] = env->slot->container[0] = '\0';
		env->slot->stop = EXEC_STOP_NONE;
		pthread_mutex_unlock(env->slot->lock);
	}
	attempt_release(&a);
	return result;
}
