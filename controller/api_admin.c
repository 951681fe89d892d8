/* api_admin — what operators look at: dead-lettered runs and the worker fleet. */
#include <libpq-fe.h>

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
