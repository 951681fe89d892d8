/* api — the REST handlers, one per route (the route table is in main.c), and the helpers
 * they share (api_common.c). */
#ifndef API_H
#define API_H

#include <libpq-fe.h>
#include <stdbool.h>

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
/* api_results.c */
void api_run_findings(struct http_req *r);
void api_run_sarif(struct http_req *r);
void api_run_logs(struct http_req *r);
void api_run_artifacts(struct http_req *r);
void api_run_artifact(struct http_req *r);

/* api_common.c: shared by the handlers */

/* The run as the API shows it, built by PostgreSQL from a row aliased r. */
#define API_RUN_JSON                                                                               \
	"json_build_object('id', r.id, 'workflow', r.workflow, 'workflow_version', "               \
	"r.workflow_version, 'target', r.target, 'parameters', r.parameters, 'priority', "         \
	"r.priority, 'labels', r.labels, 'state', r.state, 'attempt', r.attempt, "                 \
	"'max_attempts', r.max_attempts, 'worker', r.worker, 'exit_code', r.exit_code, "           \
	"'error', r.error, 'progress', r.progress, 'progress_text', r.progress_text, "             \
	"'findings_summary', r.findings_summary, 'created_at', ff_ts(r.created_at), "              \
	"'started_at', ff_ts(r.started_at), 'finished_at', ff_ts(r.finished_at))"

/* Replies with the first column of the first row of res as JSON text, or 404 naming what
 * when there is no row. Clears res. */
void api_reply_row_json(struct http_req *r, PGresult *res, const char *what);
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
