/* api_targets — uploading source trees. A target is a tar or tar.gz, checked for anything
 * that could escape the tree before it is stored, and stored once per content (SHA-256). */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "app.h"
#include "ff_archive.h"
#include "ff_util.h"

static int content_type_ok(const char *ct)
{
	static const char *const ok[] = {"application/x-tar", "application/tar", "application/gzip",
					 "application/x-gzip", "application/x-compressed-tar"};
	if (!ct)
		return 0;
	size_t n = strcspn(ct, "; ");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == n && strncasecmp(ct, ok[i], n) == 0)
			return 1;
	return 0;
}

/* Stores the checked upload once per digest, its bytes in a large object written in chunks
 * (ff_db_lo_*), so that workers can stream it. A digest already stored is left as it is; two
 * uploads of one digest at once both succeed, the loser's object going with its rolled-back
 * transaction. When the upload streams, the chunks go to ff_db_lo_write as they arrive. */
static int store_target(struct ff_db *db, const char *sha, const char *size, const void *body,
			size_t len, struct ff_err *err)
{
	const char *p[] = {sha, size, NULL};
	char oid_s[16];
	unsigned oid;
	PGresult *res = ff_db_query(db, "SELECT 1 FROM targets WHERE sha256 = $1", 1, p, err);
	if (!res)
		return err->code;
	int have = PQntuples(res) > 0;
	PQclear(res);
	if (have)
		return 0;
	int rc = ff_db_begin(db, err);
	if (rc < 0)
		return rc;
	if ((rc = ff_db_lo_put(db, body, len, &oid, err)) < 0)
		goto out_rollback;
	snprintf(oid_s, sizeof(oid_s), "%u", oid);
	p[2] = oid_s;
	rc = ff_db_exec(db,
			"INSERT INTO targets (sha256, size, content_oid) VALUES ($1, $2, $3::oid) "
			"ON CONFLICT (sha256) DO NOTHING",
			3, p, err);
	if (rc < 0)
		goto out_rollback;
	return ff_db_commit(db, err);
out_rollback:
	ff_db_rollback(db);
	return rc;
}

void api_target_upload(struct http_req *r)
{
	struct ff_err err = {0};
	struct ff_archive_info info;
	char sha[FF_SHA256_HEX_LEN + 1], size[24];
	size_t len;

	if (!content_type_ok(http_header(r, "Content-Type")))
		return http_reply_status(
		    r, 415, "unsupported_media_type", NULL,
		    "send the target as application/x-tar or application/gzip");
	const char *body = http_body(r, &len);
	if (!body)
		return http_reply_fail(r, FF_EVALIDATE, NULL, "the body must be a tar or tar.gz");
	if (ff_archive_check(body, len, NULL, &info, &err) < 0)
		return http_reply_error(r, &err);
	ff_sha256_hex(body, len, sha);
	snprintf(size, sizeof(size), "%zu", len);
	if (store_target(r->app->db, sha, size, body, len, &err) < 0)
		return http_reply_error(r, &err);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "sha256", sha);
	cJSON_AddNumberToObject(o, "size", (double)len);
	cJSON_AddNumberToObject(o, "files", (double)info.files);
	http_reply_json(r, 201, o);
	cJSON_Delete(o);
}

void api_target_get(struct http_req *r)
{
	struct ff_err err;
	if (!ff_sha256_hex_valid(r->params[0]))
		return http_reply_fail(r, FF_ENOTFOUND, NULL, "no target %s", r->params[0]);
	const char *p[] = {r->params[0]};
	PGresult *res =
	    ff_db_query(r->app->db,
			"SELECT json_build_object('sha256', sha256, 'size', size, "
			"'created_at', ff_ts(created_at)) FROM targets WHERE sha256 = $1",
			1, p, &err);
	if (!res)
		return http_reply_error(r, &err);
	api_reply_row_json(r, res, "target");
}
