/* store — the worker's database steps; see store.h. */
#include "store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_log.h"
#include "ff_util.h"

#define TARGET_CHUNK (256u << 10)

/* The run's SARIF automationDetails.id is read with its job: one round trip per run. */
int store_job_trusted(struct ff_db *db, const struct ff_job *msg, struct store_trusted *out,
		      struct ff_err *err)
{
	const char *p[] = {msg->run_id};
	*out = (struct store_trusted){0};
	PGresult *res =
	    ff_db_query(db,
			"SELECT job::text, max_attempts, workflow || '/' || coalesce((SELECT "
			"string_agg(key || '=' || value, ',' ORDER BY key COLLATE \"C\") "
			"FROM jsonb_each_text(labels)), '') || '/' FROM runs WHERE id = $1",
			1, p, err);
	if (!res)
		return err->code;
	int rc = 0;
	struct ff_job *job = NULL;
	struct ff_err why;
	if (PQntuples(res) != 1) {
		rc = ff_err_set(err, FF_ENOTFOUND, "names no run %s", msg->run_id);
	} else if (ff_job_decode(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), &job,
				 &why) < 0) {
		rc = ff_err_set(err, FF_EINVAL, "the stored job of run %s does not decode: %s",
				msg->run_id, why.msg);
	} else if (!(out->automation_id = strdup(PQgetvalue(res, 0, 2)))) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
	} else {
		const char *field = ff_job_differs(job, msg);
		if (field) {
			rc = ff_err_set(err, FF_ECONFLICT,
					"its %s differs from the job stored with run %s", field,
					msg->run_id);
		} else {
			job->attempt = msg->attempt;
			job->max_attempts = atoi(PQgetvalue(res, 0, 1));
			out->job = job;
			job = NULL;
		}
	}
	ff_job_free(job);
	PQclear(res);
	if (rc < 0) {
		free(out->automation_id);
		out->automation_id = NULL;
	}
	return rc;
}

int store_target_open(struct ff_db *db, const char *sha256, struct store_target *t,
		      struct ff_err *err)
{
	const char *p[] = {sha256};
	*t = (struct store_target){.db = db, .fd = -1};
	int rc = ff_db_begin(db, err);
	if (rc < 0)
		return rc;
	t->in_txn = true;
	PGresult *res = ff_db_query(
	    db, "SELECT content_oid, content IS NOT NULL FROM targets WHERE sha256 = $1", 1, p,
	    err);
	if (!res) {
		rc = err->code;
		goto out_fail;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		rc = ff_err_set(err, FF_ENOTFOUND, "target %s is not stored", sha256);
		goto out_fail;
	}
	bool has_oid = !PQgetisnull(res, 0, 0);
	unsigned oid = has_oid ? (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	if (has_oid) {
		if ((rc = ff_db_lo_open(db, oid, &t->fd, err)) < 0)
			goto out_fail;
		if (!(t->buf = malloc(TARGET_CHUNK))) {
			rc = ff_err_set(err, FF_ENOMEM, "out of memory");
			goto out_fail;
		}
		return 0;
	}
	/* a row stored before migration 004 and not moved since: the bytea, whole */
	res = ff_db_query_bin(db, "SELECT content FROM targets WHERE sha256 = $1", 1, p, NULL, NULL,
			      1, err);
	if (!res) {
		rc = err->code;
		goto out_fail;
	}
	t->legacy = res;
	return 0;
out_fail:
	store_target_close(t);
	return rc;
}

long store_target_read(void *ctx, const void **buf, struct ff_err *err)
{
	struct store_target *t = ctx;
	if (t->legacy) {
		if (t->legacy_done)
			return 0;
		t->legacy_done = true;
		*buf = PQgetvalue(t->legacy, 0, 0);
		return PQgetlength(t->legacy, 0, 0);
	}
	long n = ff_db_lo_read(t->db, t->fd, t->buf, TARGET_CHUNK, err);
	*buf = t->buf;
	return n;
}

void store_target_close(struct store_target *t)
{
	if (t->in_txn)
		ff_db_rollback(t->db); /* read only; closes the large object too */
	PQclear(t->legacy);
	free(t->buf);
	*t = (struct store_target){.fd = -1};
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

/* {"total","error","warning","note","none"} as JSON text (caller frees). */
static char *findings_summary(const struct ff_findings *f)
{
	static const char *const names[] = {"error", "warning", "note", "none"};
	cJSON *o = cJSON_CreateObject();
	size_t total = 0;
	for (int i = 0; i < 4; i++)
		total += f->count_by_level[i];
	cJSON_AddNumberToObject(o, "total", (double)total);
	for (int i = 0; i < 4; i++)
		cJSON_AddNumberToObject(o, names[i], (double)f->count_by_level[i]);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static int insert_output(struct ff_db *db, const struct store_attempt *a, struct ff_err *err)
{
	const struct output *out = a->out;
	const char *p[] = {a->ref->id, a->res ? a->res->sarif : NULL, ff_buf_str(&out->logs),
			   out->logs_truncated ? "true" : "false"};
	int lens[] = {0, a->res ? (int)a->res->sarif_len : 0, (int)out->logs.len, 0};
	int fmts[] = {0, 1, 1, 0};
	PGresult *res =
	    ff_db_query_bin(db,
			    /* the pieces followers read while it ran go: the whole log is
			     * here now */
			    "WITH chunks AS (DELETE FROM run_log_chunks WHERE run_id = $1) "
			    "INSERT INTO run_results (run_id, sarif, logs, logs_truncated) "
			    "VALUES ($1, $2, $3, $4) ON CONFLICT (run_id) DO UPDATE SET "
			    "sarif = EXCLUDED.sarif, logs = EXCLUDED.logs, "
			    "logs_truncated = EXCLUDED.logs_truncated",
			    4, p, lens, fmts, 0, err);
	if (!res)
		return err->code;
	PQclear(res);
	return 0;
}

static int insert_findings(struct ff_db *db, const char *id, const struct ff_findings *f,
			   struct ff_err *err)
{
	cJSON *arr = findings_json(f);
	char *fjson = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	if (!fjson)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	const char *p[] = {id, fjson};
	int rc = ff_db_exec(db,
			    "INSERT INTO findings (run_id, idx, rule_id, level, message, path, "
			    "start_line, end_line, fingerprint) "
			    "SELECT $1, idx, rule_id, level, message, path, start_line, end_line, "
			    "fingerprint FROM jsonb_to_recordset($2::jsonb) AS x(idx int, "
			    "rule_id text, level text, message text, path text, start_line int, "
			    "end_line int, fingerprint text)",
			    2, p, err);
	free(fjson);
	return rc;
}

/* Each artifact streams from the results spool into a large object, chunk by chunk. */
static int insert_artifacts(struct ff_db *db, const char *id, const struct results *r,
			    struct ff_err *err)
{
	char chunk[65536];
	for (size_t i = 0; i < r->nartifacts; i++) {
		const struct artifact *art = &r->artifacts[i];
		char size[24], oid_s[16];
		unsigned oid;
		int fd;
		int rc = ff_db_lo_create(db, &oid, &fd, err);
		if (rc < 0)
			return rc;
		for (uint64_t off = 0; off < art->size;) {
			size_t want = art->size - off < sizeof(chunk) ? (size_t)(art->size - off)
								      : sizeof(chunk);
			long n = spool_pread(&r->spool, chunk, want, art->off + off, err);
			if (n < 0)
				return (int)n;
			if (n == 0)
				return ff_err_set(err, FF_EINTERNAL, "artifact %s: spool cut short",
						  art->name);
			if ((rc = ff_db_lo_write(db, fd, chunk, (size_t)n, err)) < 0)
				return rc;
			off += (uint64_t)n;
		}
		if ((rc = ff_db_lo_close(db, fd, err)) < 0)
			return rc;
		snprintf(size, sizeof(size), "%llu", (unsigned long long)art->size);
		snprintf(oid_s, sizeof(oid_s), "%u", oid);
		const char *p[] = {id, art->name, size, oid_s};
		PGresult *res =
		    ff_db_query(db,
				"INSERT INTO artifacts (run_id, name, size, content_oid) "
				"VALUES ($1, $2, $3, $4::oid) ON CONFLICT DO NOTHING",
				4, p, err);
		if (!res)
			return err->code;
		PQclear(res);
	}
	return 0;
}

long store_note_age_ms(const struct store_note *n)
{
	return (long)(ff_now_ms() - n->at_ms);
}

static int insert_notes(struct ff_db *db, const struct store_attempt *a, struct ff_err *err)
{
	for (int i = 0; i < a->nnotes; i++) {
		int rc = ff_run_note(db, a->ref, a->notes[i].message,
				     store_note_age_ms(&a->notes[i]), err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int end_transition(struct ff_db *db, const struct store_attempt *a, const char *summary,
			  struct ff_err *err)
{
	const struct outcome *o = a->o;
	struct ff_run_result r = {.state = o->state,
				  .error = o->error[0] ? o->error : NULL,
				  .exit_code = a->exit_code,
				  .findings_summary = summary};
	switch (o->transition) {
	case FF_RUN_FINISH: return ff_run_finish(db, a->ref, &r, err);
	case FF_RUN_RETRY: return ff_run_retry(db, a->ref, &r, o->delay_s, err);
	case FF_RUN_DEAD_LETTER: return ff_run_dead_letter(db, a->ref, &r, err);
	default:
		return ff_err_set(err, FF_EINTERNAL, "%s is not an attempt's end",
				  ff_run_transitions[o->transition].name);
	}
}

static int record_once(struct ff_db *db, const struct store_attempt *a, struct ff_err *err)
{
	const char *id = a->ref->id;
	int retrying = a->o->transition == FF_RUN_RETRY;
	char *summary = a->findings ? findings_summary(a->findings) : NULL;
	int rc = ff_db_begin(db, err);
	if (rc < 0)
		goto out;
	if ((rc = insert_output(db, a, err)) < 0 || (rc = insert_notes(db, a, err)) < 0 ||
	    (!retrying && a->findings && a->findings->n &&
	     (rc = insert_findings(db, id, a->findings, err)) < 0) ||
	    (!retrying && a->res && (rc = insert_artifacts(db, id, a->res, err)) < 0) ||
	    (rc = end_transition(db, a, summary, err)) < 0)
		goto out_rollback;
	if (rc == 0) {
		rc = ff_err_set(err, FF_ECONFLICT, "run is no longer this attempt's");
		goto out_rollback;
	}
	rc = ff_db_commit(db, err);
	goto out;
out_rollback:
	ff_db_rollback(db);
out:
	free(summary);
	return rc;
}

static int record(struct ff_db *db, const struct store_attempt *a, long retry_for_ms,
		  struct ff_err *err)
{
	int64_t deadline = ff_now_ms() + retry_for_ms;
	int backoff_ms = 100;
	for (;;) {
		int rc = record_once(db, a, err);
		if (rc == FF_EUNAVAIL && a->on_unavailable)
			a->on_unavailable(a->ctx);
		if (rc != FF_EUNAVAIL || ff_now_ms() + backoff_ms > deadline)
			return rc;
		ff_run_warn(a->ref->id, "result not recorded yet (%s): retrying", err->msg);
		usleep((useconds_t)backoff_ms * 1000);
		backoff_ms = backoff_ms < 2000 ? backoff_ms * 2 : 2000;
	}
}

int store_attempt_end(struct ff_db *db, const struct store_attempt *a, long retry_for_ms,
		      struct outcome *recorded, struct ff_err *err)
{
	*recorded = *a->o;
	int rc = record(db, a, retry_for_ms, err);
	if (rc == 0 || rc == FF_EUNAVAIL || !ff_db_failed_on_data(db))
		return rc;
	ff_run_error(a->ref->id, "result not storable, recorded without it: %s", err->msg);
	outcome_unstorable(err->msg, recorded);
	struct store_attempt bare = *a;
	bare.o = recorded;
	bare.res = NULL;
	bare.findings = NULL;
	return record(db, &bare, retry_for_ms, err);
}
