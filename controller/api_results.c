/* api_results — what a run produced: findings, the raw SARIF log, logs, artifacts. */
#include <errno.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "follow.h"
#include "app.h"
#include "ff_sarif.h"
#include "ff_util.h"

#define FINDINGS_DEFAULT_LIMIT 1000
#define FINDINGS_MAX_LIMIT     10000

/* GET /api/v1/runs/{id}/findings?level=&limit=&offset=&baseline=: the run's findings, in
 * order. With a baseline run, each finding says whether the baseline had its fingerprint
 * (baseline_state "unchanged") or not ("new"), and the baseline's findings the run no
 * longer has are listed as "absent": fingerprints are the workflows' partialFingerprints
 * (a line's content, not its number), so a finding that only moved is unchanged. */
void api_run_findings(struct http_req *r)
{
	struct ff_err err;
	const char *level = http_query(r, "level"), *baseline = http_query(r, "baseline");
	long limit = FINDINGS_DEFAULT_LIMIT, offset = 0;
	char lim[16], off[16];

	if (!api_run_id_ok(r))
		return;
	if (level && ff_sarif_level_index(level) < 0)
		return http_reply_fail(r, FF_EVALIDATE, "level",
				       "level must be error, warning, note or none");
	if (baseline && !ff_uuid_valid(baseline))
		return http_reply_fail(r, FF_EVALIDATE, "baseline", "baseline must be a run id");
	if (api_query_long(r, "limit", 1, FINDINGS_MAX_LIMIT, &limit) < 0 ||
	    api_query_long(r, "offset", 0, 1L << 30, &offset) < 0)
		return;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	const char *p[] = {r->params[0], level, lim, off, baseline};
	PGresult *res = ff_db_query(
	    r->db,
	    "WITH sel AS (SELECT * FROM findings f WHERE f.run_id = $1 AND ($2::text IS NULL OR "
	    "  f.level = $2)), "
	    "base AS (SELECT * FROM findings b WHERE b.run_id = $5::uuid AND ($2::text IS NULL "
	    "  OR b.level = $2)) "
	    "SELECT json_build_object('run_id', r.id, 'state', r.state, "
	    "'total', (SELECT count(*) FROM sel), "
	    "'findings', COALESCE((SELECT json_agg(jsonb_build_object('rule_id', f.rule_id, "
	    "  'level', f.level, 'message', f.message, 'path', f.path, 'start_line', "
	    "  f.start_line, 'end_line', f.end_line, 'fingerprint', f.fingerprint) || "
	    "  CASE WHEN $5::uuid IS NULL THEN '{}'::jsonb ELSE jsonb_build_object("
	    "  'baseline_state', CASE WHEN EXISTS (SELECT 1 FROM base b WHERE b.fingerprint = "
	    "  f.fingerprint) THEN 'unchanged' ELSE 'new' END) END ORDER BY f.idx) "
	    "  FROM (SELECT * FROM sel ORDER BY idx LIMIT $3::int OFFSET $4::int) f), "
	    "  '[]'::json))::jsonb || CASE WHEN $5::uuid IS NULL THEN '{}'::jsonb ELSE "
	    "  jsonb_build_object('baseline', $5::uuid, "
	    "  'new', (SELECT count(*) FROM sel WHERE fingerprint NOT IN (SELECT fingerprint "
	    "    FROM base)), "
	    "  'absent', COALESCE((SELECT jsonb_agg(jsonb_build_object('rule_id', b.rule_id, "
	    "    'level', b.level, 'message', b.message, 'path', b.path, 'start_line', "
	    "    b.start_line, 'end_line', b.end_line, 'fingerprint', b.fingerprint, "
	    "    'baseline_state', 'absent') ORDER BY b.idx) FROM base b WHERE b.fingerprint NOT "
	    "IN "
	    "    (SELECT fingerprint FROM sel)), '[]'::jsonb)) END, "
	    "$5::uuid IS NULL OR EXISTS (SELECT 1 FROM runs WHERE id = $5::uuid) "
	    "FROM runs r WHERE r.id = $1",
	    5, p, &err);
	if (!res)
		return http_reply_error(r, &err);
	if (PQntuples(res) == 1 && *PQgetvalue(res, 0, 1) != 't') {
		PQclear(res);
		return http_reply_fail(r, FF_EVALIDATE, "baseline", "no run %s to compare with",
				       baseline);
	}
	api_reply_row_json(r, res, "run");
}

/* Fetches one bytea column for the run; replies 404 itself when the run or the value is
 * missing (naming `what`). Returns the result (caller clears) or NULL once replied. */
static PGresult *run_blob(struct http_req *r, const char *sql, int n, const char *const *p,
			  const char *what)
{
	struct ff_err err;
	if (!api_run_id_ok(r))
		return NULL;
	PGresult *res = ff_db_query_bin(r->db, sql, n, p, NULL, NULL, 1, &err);
	if (!res) {
		http_reply_error(r, &err);
		return NULL;
	}
	if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		http_reply_fail(r, FF_ENOTFOUND, NULL, "run %s has no %s", r->params[0], what);
		return NULL;
	}
	return res;
}

void api_run_sarif(struct http_req *r)
{
	const char *p[] = {r->params[0]};
	PGresult *res =
	    run_blob(r, "SELECT sarif FROM run_results WHERE run_id = $1", 1, p, "SARIF log (yet)");
	if (!res)
		return;
	http_reply_bytes(r, 200, "application/sarif+json", PQgetvalue(res, 0, 0),
			 (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
}

void api_run_logs(struct http_req *r)
{
	int follow = follow_wanted(r);
	if (follow)
		return follow > 0 ? follow_reply(r->app->follow, r, FOLLOW_LOGS) : (void)0;
	const char *p[] = {r->params[0]};
	PGresult *res =
	    run_blob(r, "SELECT logs, logs_truncated FROM run_results WHERE run_id = $1", 1, p,
		     "logs (yet)");
	if (!res)
		return;
	size_t len = (size_t)PQgetlength(res, 0, 0);
	int truncated = *PQgetvalue(res, 0, 1) != 0; /* binary bool */
	const char *note = api_logs_truncated_note;
	size_t total = len + (truncated ? strlen(note) : 0);
	char *out = malloc(total + 1);
	if (!out) {
		PQclear(res);
		return http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
	}
	memcpy(out, PQgetvalue(res, 0, 0), len);
	if (truncated)
		memcpy(out + len, note, strlen(note));
	http_add_header(r, "X-FF-Logs-Truncated", truncated ? "true" : "false");
	http_reply_take(r, 200, "text/plain; charset=utf-8", out, total);
	PQclear(res);
}

void api_run_artifacts(struct http_req *r)
{
	api_reply_run_json(
	    r, "SELECT json_build_object('run_id', r.id, 'artifacts', COALESCE((SELECT "
	       "json_agg(json_build_object('name', a.name, 'size', a.size) ORDER BY a.name) "
	       "FROM artifacts a WHERE a.run_id = r.id), '[]'::json)) FROM runs r "
	       "WHERE r.id = $1");
}

/* An artifact in a large object, copied in chunks into a nameless scratch file that the loop
 * then sends: memory stays one chunk whatever the artifact's size. */
static void reply_artifact_lo(struct http_req *r, unsigned oid, size_t size)
{
	struct ff_err err;
	struct ff_db *db = r->db;
	char chunk[65536];
	size_t copied = 0;
	int fd = -1, rc;
	FILE *spool = tmpfile();
	if (!spool)
		return http_reply_fail(r, FF_EINTERNAL, NULL, "no scratch file for the artifact");
	if ((rc = ff_db_begin(db, &err)) < 0 || (rc = ff_db_lo_open(db, oid, &fd, &err)) < 0)
		goto out;
	for (;;) {
		long n = ff_db_lo_read(db, fd, chunk, sizeof(chunk), &err);
		if (n <= 0) {
			rc = (int)n;
			break;
		}
		copied += (size_t)n;
		if (copied > size) {
			rc = ff_err_set(&err, FF_EINTERNAL,
					"artifact is larger than its recorded size");
			break;
		}
		if (fwrite(chunk, 1, (size_t)n, spool) != (size_t)n) {
			rc = ff_err_set(&err, FF_EINTERNAL, "scratch file: %s", strerror(errno));
			break;
		}
	}
out:
	ff_db_rollback(db); /* read only */
	int out_fd = rc == 0 && fflush(spool) == 0 ? dup(fileno(spool)) : -1;
	fclose(spool);
	if (rc < 0)
		http_reply_error(r, &err);
	else if (out_fd < 0)
		http_reply_fail(r, FF_EINTERNAL, NULL, "scratch file: %s", strerror(errno));
	else if (copied > 0)
		http_reply_file(r, 200, "application/octet-stream", out_fd, copied);
	else {
		close(out_fd);
		http_reply_bytes(r, 200, "application/octet-stream", "", 0);
	}
}

void api_run_artifact(struct http_req *r)
{
	const char *p[] = {r->params[0], r->params[1]};
	PGresult *res =
	    run_blob(r,
		     "SELECT COALESCE(content, ''::bytea), content_oid, size FROM artifacts "
		     "WHERE run_id = $1 AND name = $2",
		     2, p, "such artifact");
	if (!res)
		return;
	if (!PQgetisnull(res, 0, 1)) {
		/* binary oid and int8: network byte order */
		const unsigned char *o = (const unsigned char *)PQgetvalue(res, 0, 1);
		const unsigned char *z = (const unsigned char *)PQgetvalue(res, 0, 2);
		unsigned oid =
		    (unsigned)o[0] << 24 | (unsigned)o[1] << 16 | (unsigned)o[2] << 8 | o[3];
		uint64_t size = 0;
		for (int i = 0; i < 8; i++)
			size = size << 8 | z[i];
		PQclear(res);
		return reply_artifact_lo(r, oid, (size_t)size);
	}
	http_reply_bytes(r, 200, "application/octet-stream", PQgetvalue(res, 0, 0),
			 (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
}
