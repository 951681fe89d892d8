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
/* api_results.c */
void api_run_findings(struct http_req *r);
void api_run_sarif(struct http_req *r);
void api_run_logs(struct http_req *r);
void api_run_artifacts(struct http_req *r);
void api_run_artifact(struct http_req *r);

/* Replies with the first column of the first row of res as JSON text, or 404 naming what
 * when there is no row. Shared by the read handlers; clears res. */
void api_reply_row_json(struct http_req *r, PGresult *res, const char *what);
/* Checks the {id} path parameter is a uuid; replies 404 itself when not. */
int api_run_id_ok(struct http_req *r);

#endif
