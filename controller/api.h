/* api — the REST handlers, one per route (the route table is in main.c), and the helpers
 * they share (api_common.c). */
#ifndef API_H
#define API_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "ff_buf.h"
#include "http.h"

/* health.c */
void api_healthz(struct http_req *r);
void api_readyz(struct http_req *r);
/* api_targets.c */
void api_target_upload(struct http_req *r);
void api_target_get(struct http_req *r);
/* api_workflows.c */
void api_workflows_list(struct http_req *r);
void api_workflow_get(struct http_req *r);
/* api_runs.c */
void api_run_submit(struct http_req *r);
/* Whether api_run_submit may run on the loop: no Idempotency-Key (whose replay is looked up
 * in the database) and a body of at most API_SUBMIT_ON_LOOP_MAX bytes. */
bool api_run_submit_on_loop(struct http_req *r);
#define API_SUBMIT_ON_LOOP_MAX 16384
void api_run_get(struct http_req *r);
void api_runs_list(struct http_req *r);
void api_run_events(struct http_req *r);
void api_run_cancel(struct http_req *r);
void api_run_retry(struct http_req *r);
/* api_admin.c */
void api_dead_letters_list(struct http_req *r);
void api_dead_letter_requeue(struct http_req *r);
void api_dead_letter_delete(struct http_req *r);
void api_workers_list(struct http_req *r);

/* routes.c: the route table */
extern const struct http_route api_routes[];
extern const size_t api_nroutes;

/* GET /api/v1/openapi.json: the OpenAPI document (proto/openapi.json, embedded). */
void api_openapi(struct http_req *r);

/* api_keys.c (admin) */
void api_key_create(struct http_req *r);
void api_keys_list(struct http_req *r);
void api_key_revoke(struct http_req *r);
/* api_admin.c: the audit log (admin) */
void api_audit_list(struct http_req *r);
/* api_results.c */
void api_run_findings(struct http_req *r);
void api_run_sarif(struct http_req *r);
void api_run_logs(struct http_req *r);
void api_run_artifacts(struct http_req *r);
void api_run_artifact(struct http_req *r);

/* api_common.c: shared by the handlers */

/* What ends a log the worker cut at its cap (logs_truncated), whole or followed. */
extern const char api_logs_truncated_note[];

/* The run as the API shows it: a select list over a row aliased r, whose column names are
 * the JSON keys. api_run_json turns it into the object in C: PostgreSQL building JSON
 * (json_build_object looks up every argument's output function on every call) cost five
 * times what selecting the columns does, and its CPU is the one every request shares. */
#define API_RUN_COLUMNS                                                                            \
	"r.id, r.workflow, r.workflow_version, r.target, r.parameters, r.priority, r.labels, "     \
	"r.state, r.attempt, r.max_attempts, r.worker, r.exit_code, r.error, r.progress, "         \
	"r.progress_text, r.findings_summary, ff_ts(r.created_at) AS created_at, "                 \
	"ff_ts(r.started_at) AS started_at, ff_ts(r.finished_at) AS finished_at"
#define API_RUN_NCOLUMNS 19

/* Appends row's columns first .. first + n - 1 of res as one JSON object keyed by the column
 * names: text and uuid as strings, json, jsonb, numbers and booleans as they are, NULL as
 * null. 0, or the buffer's error. */
int api_row_json(struct ff_buf *b, const PGresult *res, int row, int first, int n);
/* The run at row's columns first .. (API_RUN_COLUMNS) as JSON text the caller frees, its
 * length in *len; NULL on no memory. */
char *api_run_json(const PGresult *res, int row, int first, size_t *len);
/* Replies status with the run at row 0, columns first .. of res, or 404 when res has no
 * row. Clears res. */
void api_reply_run(struct http_req *r, int status, PGresult *res, int first);

/* The integer query parameter name: 1 with *out set, 0 when absent (*out untouched), -1
 * once it replied 422 for a value that is not an integer in [lo, hi]. */
int api_query_long(struct http_req *r, const char *name, long lo, long hi, long *out);
/* {"<key>": [the first lim rows, columns 0 .. ncols - 1], "next_cursor": column ncols of the
 * lim-th row when a row follows it, else null}: a keyset page from a query that selected
 * lim + 1 rows. Clears res. */
void api_reply_page(struct http_req *r, PGresult *res, const char *key, int ncols, int lim);
/* Replies status with the JSON built in b (taken), or 500 when building it failed (rc). */
void api_reply_buf(struct http_req *r, int status, struct ff_buf *b, int rc);

/* Replies with the first column of the first row of res as JSON text, or 404 naming what
 * when there is no row. Clears res. */
void api_reply_row_json(struct http_req *r, PGresult *res, const char *what);
/* Runs sql with the {id} run as its one parameter: the result, or NULL once it replied (404
 * for an id that is not a uuid, or the database's error). */
PGresult *api_query_run(struct http_req *r, const char *sql);
/* Replies with the JSON that sql (one parameter: the {id} run) builds in its only cell. */
void api_reply_run_json(struct http_req *r, const char *sql);
/* Checks the {id} path parameter is a uuid; replies 404 itself when not. */
int api_run_id_ok(struct http_req *r);
/* Replies to a cancel or requeue (ff_run.h's by-id transitions): 202 with the moved run,
 * 404, or 409 naming the state it is in and why it cannot move. */
void api_reply_transition(struct http_req *r, int rc, PGresult *res, const struct ff_err *err,
			  const char *why);
/* Puts a finished run back in the queue with a fresh attempt budget (only a dead-lettered
 * one if dead_letters_only) and replies. */
void api_requeue(struct http_req *r, bool dead_letters_only, const char *message);

#endif
