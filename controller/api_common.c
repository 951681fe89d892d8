/* api_common — what the handlers share: run-id checks, JSON row replies, the replies to a
 * by-id transition, and requeue (used by retry and by the dead letters). */
#include <libpq-fe.h>

#include "api.h"
#include "app.h"
#include "ff_run.h"
#include "ff_util.h"
#include "committer.h"

int api_run_id_ok(struct http_req *r)
{
	if (ff_uuid_valid(r->params[0]))
		return 1;
	http_reply_fail(r, FF_ENOTFOUND, NULL, "no run %s", r->params[0]);
	return 0;
}

void api_reply_row_json(struct http_req *r, PGresult *res, const char *what)
{
	if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))
		http_reply_fail(r, FF_ENOTFOUND, NULL, "no %s %s", what, r->params[0]);
	else
		http_reply_json_text(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
}

void api_reply_run_json(struct http_req *r, const char *sql)
{
	struct ff_err err;
	if (!api_run_id_ok(r))
		return;
	const char *p[] = {r->params[0]};
	PGresult *res = ff_db_query(r->db, sql, 1, p, &err);
	if (!res)
		return http_reply_error(r, &err);
	api_reply_row_json(r, res, "run");
}

void api_reply_transition(struct http_req *r, int rc, PGresult *res, const struct ff_err *err,
			  const char *why)
{
	if (rc < 0)
		http_reply_error(r, err);
	else if (rc == 1)
		http_reply_json_text(r, 202, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	else
		http_reply_fail(r, FF_ECONFLICT, NULL, "run %s is %s: %s", r->params[0],
				PQgetvalue(res, 0, 1), why);
	PQclear(res);
}

void api_requeue(struct http_req *r, bool dead_letters_only, const char *message)
{
	struct ff_err err;
	PGresult *wf, *res = NULL;
	if (!api_run_id_ok(r))
		return;
	const char *pw[] = {r->params[0]};
	if (!(wf = ff_db_query(r->db, "SELECT workflow FROM runs WHERE id = $1", 1, pw, &err)))
		return http_reply_error(r, &err);
	const struct ff_manifest *m =
	    PQntuples(wf) ? ff_catalog_find(r->app->catalog, PQgetvalue(wf, 0, 0)) : NULL;
	PQclear(wf);
	/* A fresh attempt budget: the workflow's own, counted from the attempts made. */
	int rc = ff_run_requeue(r->db, r->params[0], m ? m->max_attempts : 1, message,
				dead_letters_only, API_RUN_JSON, &res, &err);
	api_reply_transition(r, rc, res, &err,
			     dead_letters_only ? "it is not dead-lettered"
					       : "only a finished run can be requeued");
	if (rc == 1)
		committer_poke(r->app->committer, r->params[0]); /* now, not at the next sweep */
}
