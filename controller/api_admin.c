/* api_admin — what operators look at: dead-lettered runs, the worker fleet, the audit log. */
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "ff_catalog.h"
#include "ff_run_state.h"

void api_dead_letters_list(struct http_req *r)
{
	struct ff_err err;
	PGresult *res = ff_db_query(
	    r->db,
	    "SELECT json_build_object('dead_letters', COALESCE(json_agg(json_build_object("
	    "'run_id', d.run_id, 'workflow', r.workflow, 'attempts', d.attempts, "
	    "'last_error', d.last_error, 'at', ff_ts(d.at)) ORDER BY d.at DESC), '[]'::json)) "
	    "FROM (SELECT * FROM dead_letters ORDER BY at DESC LIMIT 1000) d "
	    "JOIN runs r ON r.id = d.run_id",
	    0, NULL, &err);
	if (!res)
		return http_reply_error(r, &err);
	api_reply_row_json(r, res, "dead letters");
}

void api_dead_letter_requeue(struct http_req *r)
{
	api_requeue(r, true, "requeued from the dead letters");
}

void api_dead_letter_delete(struct http_req *r)
{
	struct ff_err err;
	if (!api_run_id_ok(r))
		return;
	const char *p[] = {r->params[0]};
	PGresult *res = ff_db_query(
	    r->db, "DELETE FROM dead_letters WHERE run_id = $1 RETURNING run_id", 1, p, &err);
	if (!res)
		return http_reply_error(r, &err);
	if (PQntuples(res) == 1)
		http_reply_bytes(r, 204, "application/json", NULL, 0);
	else
		http_reply_fail(r, FF_ENOTFOUND, NULL, "run %s is not dead-lettered", r->params[0]);
	PQclear(res);
}

/* The catalogue's images as [{"workflow", "ref"}], ref as an engine that has the image
 * lists it (images_engine_refs, the registry's prefix off): "name@sha256:..." for a pinned
 * image (an engine records a digest without its tag), else the name as it is. */
static char *catalog_refs(const struct ff_catalog *c)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < ff_catalog_count(c); i++) {
		const struct ff_manifest *m = ff_catalog_at(c, i);
		char ref[FF_MANIFEST_IMAGE_MAX + 1];
		const char *at = strchr(m->image, '@');
		size_t name = at ? (size_t)(at - m->image) : strlen(m->image);
		/* a tag's ':' comes after the last '/' (a registry's port comes before it) */
		size_t tag = name;
		for (size_t j = name; j > 0 && m->image[j - 1] != '/'; j--)
			if (m->image[j - 1] == ':')
				tag = j - 1;
		if (at) /* name:tag@digest: name@digest */
			snprintf(ref, sizeof(ref), "%.*s%s", (int)tag, m->image, at);
		else
			snprintf(ref, sizeof(ref), "%s", m->image);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "workflow", m->name);
		cJSON_AddStringToObject(o, "ref", ref);
		cJSON_AddItemToArray(arr, o);
	}
	char *text = arr ? cJSON_PrintUnformatted(arr) : NULL;
	cJSON_Delete(arr);
	return text;
}

/* GET /api/v1/workers: each worker with its engine (as its heartbeat last described it) and
 * the workflows whose image that engine holds. */
void api_workers_list(struct http_req *r)
{
	struct ff_err err;
	char *refs = catalog_refs(r->app->catalog);
	if (!refs)
		return http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
	PGresult *res = ff_db_query(
	    r->db,
	    "SELECT json_build_object('workers', COALESCE(json_agg(json_build_object("
	    "'id', w.id, 'host', w.host, 'pool', w.pool, 'concurrency', w.concurrency, "
	    "'running', w.running, 'running_runs', (SELECT COALESCE(json_agg(x.id), '[]'::json) "
	    "FROM runs x WHERE x.worker = w.id AND x.state = $1), 'state', w.state, "
	    "'started_at', ff_ts(w.started_at), 'last_heartbeat', ff_ts(w.last_heartbeat), "
	    "'engine', CASE WHEN w.engine_at IS NOT NULL THEN json_build_object("
	    "'docker_host', w.docker_host, 'version', w.engine_version, 'registry', w.registry, "
	    "'described_at', ff_ts(w.engine_at)) END, "
	    "'workflow_images', (SELECT COALESCE(json_agg(c->>'workflow' ORDER BY c->>'workflow'), "
	    "'[]'::json) FROM jsonb_array_elements($2::jsonb) c WHERE c->>'ref' = ANY(w.images))) "
	    "ORDER BY w.started_at DESC), '[]'::json)) FROM workers w",
	    2, (const char *[]){ff_run_state_name(FF_RUN_RUNNING), refs}, &err);
	free(refs);
	if (!res)
		return http_reply_error(r, &err);
	api_reply_row_json(r, res, "workers");
}

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX	   1000
#define AUDIT_COLUMNS                                                                              \
	"id, ff_ts(at) AS at, key_id, method, route, status, request_id, bytes_in, bytes_out, "    \
	"duration_ms, client"
#define AUDIT_NCOLUMNS 11

/* GET /api/v1/audit?key=&since=&status=&limit=&cursor=: newest first; the cursor is the last
 * entry's id. since is any timestamp PostgreSQL reads (RFC 3339 is what the API writes). */
void api_audit_list(struct http_req *r)
{
	struct ff_err err;
	const char *key = http_query(r, "key"), *since = http_query(r, "since"),
		   *cursor = http_query(r, "cursor");
	long status = 0, lim = AUDIT_PAGE_DEFAULT;
	char status_s[16], lim_s[16];
	int has_status = api_query_long(r, "status", 100, 599, &status);
	if (has_status < 0 || api_query_long(r, "limit", 1, AUDIT_PAGE_MAX, &lim) < 0)
		return;
	if (cursor &&
	    (!*cursor || strlen(cursor) > 19 || strspn(cursor, "0123456789") != strlen(cursor)))
		return http_reply_fail(r, FF_EVALIDATE, "cursor", "malformed cursor");
	snprintf(status_s, sizeof(status_s), "%ld", status);
	snprintf(lim_s, sizeof(lim_s), "%ld", lim);
	const char *p[] = {key, since, has_status ? status_s : NULL, cursor, lim_s};
	PGresult *res = ff_db_query(
	    r->db,
	    "SELECT " AUDIT_COLUMNS ", id::text AS cursor FROM audit_log a "
	    "WHERE ($1::text IS NULL OR key_id = $1) AND ($2::timestamptz IS NULL OR at >= $2) "
	    "  AND ($3::int IS NULL OR status = $3) AND ($4::bigint IS NULL OR id < $4) "
	    "ORDER BY a.id DESC LIMIT $5::int + 1",
	    5, p, &err);
	if (!res && ff_db_failed_on_data(r->db))
		return http_reply_fail(r, FF_EVALIDATE, "since", "since is not a timestamp");
	if (!res)
		return http_reply_error(r, &err);
	api_reply_page(r, res, "entries", AUDIT_NCOLUMNS, (int)lim);
}
