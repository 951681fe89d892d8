/* routes — the REST API's route table (every route, the scope its key needs, its body, where
 * its handler runs, the query parameters it takes) and the document that describes it,
 * proto/openapi.json, embedded at build time and served as it is. tests/unit/test_routes.c
 * holds the two to each other. */
#include <stddef.h>

#include "api.h"
#include "http.h"
#include "metrics.h"

extern const unsigned char api_openapi_json[];
extern const size_t api_openapi_json_len;

void api_openapi(struct http_req *r)
{
	http_reply_json_text(r, 200, (const char *)api_openapi_json, api_openapi_json_len);
}

#define GET    HTTP_M_GET
#define POST   HTTP_M_POST
#define DELETE HTTP_M_DELETE
#define JSON   HTTP_BODY_JSON
#define LOOP   HTTP_ON_LOOP
#define CACHED HTTP_CACHED

const struct http_route api_routes[] = {
    {GET, "/healthz", api_healthz, HTTP_PUBLIC, 0, LOOP, NULL, NULL},
    {GET, "/api/v1/openapi.json", api_openapi, HTTP_PUBLIC, 0, LOOP, NULL, NULL},
    {GET, "/readyz", api_readyz, HTTP_PUBLIC, 0, LOOP, NULL, NULL},
    {GET, "/metrics", api_metrics, HTTP_PUBLIC, 0, 0, NULL, NULL},
    {POST, "/api/v1/targets", api_target_upload, HTTP_SUBMIT, HTTP_BODY_TARGET, HTTP_STREAMED, NULL,
     NULL},
    {GET, "/api/v1/targets/{sha256}", api_target_get, HTTP_READ, 0, 0, NULL, NULL},
    {GET, "/api/v1/workflows", api_workflows_list, HTTP_READ, 0, LOOP, NULL, NULL},
    {GET, "/api/v1/workflows/{name}", api_workflow_get, HTTP_READ, 0, LOOP, NULL, NULL},
    {POST, "/api/v1/runs", api_run_submit, HTTP_SUBMIT, JSON, 0, NULL, api_run_submit_on_loop},
    {GET, "/api/v1/runs", api_runs_list, HTTP_READ, 0, 0, "state workflow label* limit cursor",
     NULL},
    {GET, "/api/v1/runs/{id}", api_run_get, HTTP_READ, 0, CACHED, NULL, NULL},
    {GET, "/api/v1/runs/{id}/events", api_run_events, HTTP_READ, 0, CACHED, "follow", NULL},
    {GET, "/api/v1/runs/{id}/findings", api_run_findings, HTTP_READ, 0, CACHED,
     "level limit offset baseline", NULL},
    {GET, "/api/v1/runs/{id}/sarif", api_run_sarif, HTTP_READ, 0, CACHED, NULL, NULL},
    {GET, "/api/v1/runs/{id}/logs", api_run_logs, HTTP_READ, 0, CACHED, "follow", NULL},
    {GET, "/api/v1/runs/{id}/artifacts", api_run_artifacts, HTTP_READ, 0, CACHED, NULL, NULL},
    {GET, "/api/v1/runs/{id}/artifacts/{name*}", api_run_artifact, HTTP_READ, 0, 0, NULL, NULL},
    {POST, "/api/v1/runs/{id}/cancel", api_run_cancel, HTTP_SUBMIT, 0, 0, NULL, NULL},
    {POST, "/api/v1/runs/{id}/retry", api_run_retry, HTTP_SUBMIT, 0, 0, NULL, NULL},
    {GET, "/api/v1/dead-letters", api_dead_letters_list, HTTP_READ, 0, 0, NULL, NULL},
    {POST, "/api/v1/dead-letters/{id}/requeue", api_dead_letter_requeue, HTTP_ADMIN, 0, 0, NULL,
     NULL},
    {DELETE, "/api/v1/dead-letters/{id}", api_dead_letter_delete, HTTP_ADMIN, 0, 0, NULL, NULL},
    {GET, "/api/v1/workers", api_workers_list, HTTP_READ, 0, 0, NULL, NULL},
    {POST, "/api/v1/keys", api_key_create, HTTP_ADMIN, JSON, 0, NULL, NULL},
    {GET, "/api/v1/keys", api_keys_list, HTTP_ADMIN, 0, 0, NULL, NULL},
    {DELETE, "/api/v1/keys/{id}", api_key_revoke, HTTP_ADMIN, 0, 0, NULL, NULL},
    {GET, "/api/v1/audit", api_audit_list, HTTP_ADMIN, 0, 0, "key since status limit cursor", NULL},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
