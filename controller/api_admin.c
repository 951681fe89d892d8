/* api_admin — what operators look at: dead-lettered runs, the worker fleet, the audit log. */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "app.h"
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

void api_workers_list(struct http_req *r)
{
	struct ff_err err;
	PGresult *res = ff_db_query(
	    r->db,
	    "SELECT json_build_object('workers', COALESCE(json_agg(json_build_object("
	    "'id', w.id, 'host', w.host, 'pool', w.pool, 'concurrency', w.concurrency, "
	    "'running', w.running, 'running_runs', (SELECT COALESCE(json_agg(x.id), '[]'::json) "
	    "FROM runs x WHERE x.worker = w.id AND x.state = $1), 'state', w.state, "
	    "'started_at', ff_ts(w.started_at), 'last_heartbeat', ff_ts(w.last_heartbeat)) "
	    "ORDER BY w.started_at DESC), '[]'::json)) FROM workers w",
	    1, (const char *[]){ff_run_state_name(FF_RUN_RUNNING)}, &err);
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
