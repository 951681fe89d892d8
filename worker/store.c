/* store — the worker's database steps; see store.h. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_log.h"
#include "ff_util.h"

int store_load_target(struct ff_db *db, const char *sha256, void **buf, size_t *len,
		      struct ff_err *err)
{
	const char *p[] = {sha256};
	PGresult *res = ff_db_query_bin(db, "SELECT content FROM targets WHERE sha256 = $1", 1, p,
					NULL, NULL, 1, err);
	if (!res)
		return err->code;
	int rc = 0;
	if (PQntuples(res) != 1) {
		rc = ff_err_set(err, FF_ENOTFOUND, "target %s is not stored", sha256);
	} else {
		*len = (size_t)PQgetlength(res, 0, 0);
		if ((*buf = malloc(*len ? *len : 1)))
			memcpy(*buf, PQgetvalue(res, 0, 0), *len);
		else
			rc = ff_err_set(err, FF_ENOMEM, "out of memory loading the target");
	}
	PQclear(res);
	return rc;
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
	const char *p[] = {a->ref->id, a->res->sarif, ff_buf_str(&out->logs),
			   out->logs_truncated ? "true" : "false"};
	int lens[] = {0, (int)a->res->sarif_len, (int)out->logs.len, 0};
	int fmts[] = {0, 1, 1, 0};
	PGresult *res =
	    ff_db_query_bin(db,
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

static int insert_artifacts(struct ff_db *db, const char *id, const struct results *r,
			    struct ff_err *err)
{
	for (size_t i = 0; i < r->nartifacts; i++) {
		const struct artifact *art = &r->artifacts[i];
		char size[24];
		snprintf(size, sizeof(size), "%zu", art->size);
		const char *p[] = {id, art->name, size, art->data};
		int lens[] = {0, 0, 0, (int)art->size};
		int fmts[] = {0, 0, 0, 1};
		PGresult *res =
		    ff_db_query_bin(db,
				    "INSERT INTO artifacts (run_id, name, size, content) "
				    "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
				    4, p, lens, fmts, 0, err);
		if (!res)
			return err->code;
		PQclear(res);
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
	if ((rc = insert_output(db, a, err)) < 0 ||
	    (!retrying && a->findings && a->findings->n &&
	     (rc = insert_findings(db, id, a->findings, err)) < 0) ||
	    (!retrying && (rc = insert_artifacts(db, id, a->res, err)) < 0) ||
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

int store_attempt_end(struct ff_db *db, const struct store_attempt *a, long retry_for_ms,
		      struct ff_err *err)
{
	int64_t deadline = ff_now_ms() + retry_for_ms;
	int backoff_ms = 100;
	for (;;) {
		int rc = record_once(db, a, err);
		if (rc != FF_EUNAVAIL || ff_now_ms() + backoff_ms > deadline)
			return rc;
		ff_run_warn(a->ref->id, "result not recorded yet (%s): retrying", err->msg);
		usleep((useconds_t)backoff_ms * 1000);
		backoff_ms = backoff_ms < 2000 ? backoff_ms * 2 : 2000;
	}
}
