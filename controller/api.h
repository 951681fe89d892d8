/* api — the REST handlers, one per route; the route table is in main.c. */
#ifndef API_H
#define API_H

#include <libpq-fe.h>

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
/* Puts a finished run back in the queue with a fresh attempt budget (only a dead-lettered
 * one if dead_letters_only) and replies; 0 when requeued. */
int api_requeue(struct http_req *r, int dead_letters_only, const char *message);
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

/* Replies with the first column of the first row of res as JSON text, or 404 naming what
 * when there is no row. Shared by the read handlers; clears res. */
void api_reply_row_json(struct http_req *r, PGresult *res, const char *what);
/* Replies with the JSON that sql (one parameter: the {id} run) builds in its only cell. */
void api_reply_run_json(struct http_req *r, const char *sql);
/* Checks the {id} path parameter is a uuid; replies 404 itself when not. */
int api_run_id_ok(struct http_req *r);

#endif
