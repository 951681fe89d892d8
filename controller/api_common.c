/* api_common — what the handlers share: run-id checks, JSON row replies, the replies to a
 * by-id transition, and requeue (used by retry and by the dead letters). */
#include <errno.h>
#include <libpq-fe.h>
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "cache.h"
#include "ff_json.h"
#include "ff_run.h"
#include "ff_util.h"
#include "committer.h"

/* PostgreSQL's type oids (pg_type.dat) whose text output is already JSON. */
enum {
	OID_BOOL = 16,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_JSON = 114,
	OID_JSONB = 3802,
	OID_FLOAT8 = 701,
};

/* Whether the column's text is JSON as it is; a float8 is unless it is NaN or infinite
 * (PostgreSQL prints those as words). */
static bool json_as_is(Oid type, const char *v)
{
	return type == OID_BOOL || type == OID_INT8 || type == OID_INT2 || type == OID_INT4 ||
	       type == OID_JSON || type == OID_JSONB ||
	       (type == OID_FLOAT8 && strspn(v, "0123456789.-+e") == strlen(v));
}

const char api_logs_truncated_note[] = "\n[ff: output truncated: only the first bytes shown "
				       "were kept; the worker's cap is FF_LOG_MAX_KB]\n";

int api_run_id_ok(struct http_req *r)
{
	if (ff_uuid_valid(r->params[0]))
		return 1;
	http_reply_fail(r, FF_ENOTFOUND, NULL, "no run %s", r->params[0]);
	return 0;
}

int api_row_json(struct ff_buf *b, const PGresult *res, int row, int first, int n)
{
	int rc = ff_buf_append(b, "{", 1);
	for (int k = first; k < first + n && rc == 0; k++) {
		const char *name = PQfname(res, k), *v = PQgetvalue(res, row, k);
		if (k > first)
			rc = ff_buf_append(b, ",", 1);
		rc = rc ? rc : ff_json_append_string(b, name, strlen(name));
		rc = rc ? rc : ff_buf_append(b, ":", 1);
		if (rc)
			break;
		if (PQgetisnull(res, row, k))
			rc = ff_buf_append(b, "null", 4);
		else if (json_as_is(PQftype(res, k), v))
			rc = ff_buf_append(b, v, (size_t)PQgetlength(res, row, k));
		else
			rc = ff_json_append_string(b, v, (size_t)PQgetlength(res, row, k));
	}
	return rc ? rc : ff_buf_append(b, "}", 1);
}

char *api_run_json(const PGresult *res, int row, int first, size_t *len)
{
	struct ff_buf b;
	ff_buf_init(&b, SIZE_MAX);
	if (api_row_json(&b, res, row, first, API_RUN_NCOLUMNS) < 0) {
		ff_buf_release(&b);
		return NULL;
	}
	return ff_buf_take(&b, len);
}

void api_reply_run(struct http_req *r, int status, PGresult *res, int first)
{
	size_t len;
	if (PQntuples(res) < 1) {
		PQclear(res);
		return http_reply_fail(r, FF_ENOTFOUND, NULL, "no run %s", r->params[0]);
	}
	char *json = api_run_json(res, 0, first, &len);
	PQclear(res);
	if (!json)
		return http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
	http_reply_take(r, status, "application/json", json, len);
}

void api_reply_row_json(struct http_req *r, PGresult *res, const char *what)
{
	if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))
		http_reply_fail(r, FF_ENOTFOUND, NULL, "no %s %s", what, r->params[0]);
	else
		http_reply_json_text(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
}

PGresult *api_query_run(struct http_req *r, const char *sql)
{
	struct ff_err err;
	if (!api_run_id_ok(r))
		return NULL;
	const char *p[] = {r->params[0]};
	PGresult *res = ff_db_query(r->db, sql, 1, p, &err);
	if (!res)
		http_reply_error(r, &err);
	return res;
}

void api_reply_run_json(struct http_req *r, const char *sql)
{
	PGresult *res = api_query_run(r, sql);
	if (res)
		api_reply_row_json(r, res, "run");
}

void api_reply_transition(struct http_req *r, int rc, PGresult *res, const struct ff_err *err,
			  const char *why)
{
	if (rc < 0)
		return http_reply_error(r, err);
	if (rc == 1)
		return api_reply_run(r, 202, res, 0);
	http_reply_fail(r, FF_ECONFLICT, NULL, "run %s is %s: %s", r->params[0],
			PQgetvalue(res, 0, PQnfields(res) - 1), why);
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
				dead_letters_only, API_RUN_COLUMNS, &res, &err);
	api_reply_transition(r, rc, res, &err,
			     dead_letters_only ? "it is not dead-lettered"
					       : "only a finished run can be requeued");
	if (rc == 1) {
		committer_poke(r->app->committer, r->params[0]); /* now, not at the next sweep */
		/* now too, not when the trigger's notification comes: this client reads next */
		cache_drop_run(r->app->cache, r->params[0]);
	}
}

int api_query_long(struct http_req *r, const char *name, long lo, long hi, long *out)
{
	const char *s = http_query(r, name);
	if (!s)
		return 0;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi) {
		http_reply_fail(r, FF_EVALIDATE, name, "%s must be an integer from %ld to %ld",
				name, lo, hi);
		return -1;
	}
	*out = v;
	return 1;
}

void api_reply_page(struct http_req *r, PGresult *res, const char *key, int ncols, int lim)
{
	struct ff_buf b;
	int rows = PQntuples(res);
	ff_buf_init(&b, SIZE_MAX);
	int rc = ff_buf_append(&b, "{\"", 2);
	rc = rc ? rc : ff_buf_append(&b, key, strlen(key));
	rc = rc ? rc : ff_buf_append(&b, "\":[", 3);
	for (int i = 0; i < rows && i < lim && rc == 0; i++) {
		rc = i ? ff_buf_append(&b, ",", 1) : 0;
		rc = rc ? rc : api_row_json(&b, res, i, 0, ncols);
	}
	rc = rc ? rc : ff_buf_append(&b, "],\"next_cursor\":", 16);
	if (rc == 0 && rows > lim)
		rc = ff_json_append_string(&b, PQgetvalue(res, lim - 1, ncols),
					   (size_t)PQgetlength(res, lim - 1, ncols));
	else if (rc == 0)
		rc = ff_buf_append(&b, "null", 4);
	rc = rc ? rc : ff_buf_append(&b, "}", 1);
	PQclear(res);
	api_reply_buf(r, 200, &b, rc);
}

void api_reply_buf(struct http_req *r, int status, struct ff_buf *b, int rc)
{
	size_t len;
	char *json = rc == 0 ? ff_buf_take(b, &len) : NULL;
	ff_buf_release(b);
	if (!json)
		return http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
	http_reply_take(r, status, "application/json", json, len);
}
