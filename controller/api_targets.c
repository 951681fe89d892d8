/* api_targets — uploading source trees. A target is a tar or tar.gz, checked for anything
 * that could escape the tree before it is stored, and stored once per content (SHA-256). */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "api.h"
#include "app.h"
#include "ff_archive.h"
#include "ff_util.h"

/* An upload being checked and stored: every piece the check reads is hashed and written to
 * the target's large object on its way. */
struct upload {
	struct http_req *r;
	struct ff_db *db;
	struct ff_sha256 *sha;
	int fd; /* the large object's, open for writing */
	uint64_t size;
	char buf[64 * 1024];
};

static long upload_read(void *ctx, const void **buf, struct ff_err *err)
{
	struct upload *u = ctx;
	long n = http_body_read(u->r, u->buf, sizeof(u->buf), err);
	if (n <= 0)
		return n;
	ff_sha256_update(u->sha, u->buf, (size_t)n);
	u->size += (uint64_t)n;
	int rc = ff_db_lo_write(u->db, u->fd, u->buf, (size_t)n, err);
	if (rc < 0)
		return rc;
	*buf = u->buf;
	return n;
}

/* Streams the body into a new large object while it is checked, then keeps it once per
 * digest: a digest already stored is left as it is (the new object goes with the rolled-back
 * transaction); two uploads of one digest at once both succeed. */
static int store_upload(struct upload *u, char sha[FF_SHA256_HEX_LEN + 1],
			struct ff_archive_info *info, struct ff_err *err)
{
	const void *ignored;
	unsigned oid;
	long n;
	int rc = ff_db_begin(u->db, err);
	if (rc < 0)
		return rc;
	if ((rc = ff_db_lo_create(u->db, &oid, &u->fd, err)) < 0 ||
	    (rc = ff_archive_check_stream(upload_read, u, NULL, info, err)) < 0)
		goto out_rollback;
	if (u->size == 0) {
		rc = ff_err_set(err, FF_EVALIDATE, "the body must be a tar or tar.gz");
		goto out_rollback;
	}
	/* What follows the archive's end (gzip padding, trailing blocks) is part of it too. */
	while ((n = upload_read(u, &ignored, err)) > 0)
		;
	if ((rc = (int)n) < 0 || (rc = ff_db_lo_close(u->db, u->fd, err)) < 0)
		goto out_rollback;
	ff_sha256_final(u->sha, sha);
	u->sha = NULL;
	char oid_s[16], size[24];
	snprintf(oid_s, sizeof(oid_s), "%u", oid);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)u->size);
	const char *p[] = {sha, size, oid_s};
	PGresult *res = ff_db_query(u->db,
				    "INSERT INTO targets (sha256, size, content_oid) "
				    "VALUES ($1, $2, $3::oid) ON CONFLICT (sha256) DO NOTHING "
				    "RETURNING 1",
				    3, p, err);
	if (!res) {
		rc = err->code;
		goto out_rollback;
	}
	int inserted = PQntuples(res) == 1;
	PQclear(res);
	if (!inserted)
		goto out_rollback; /* stored already: drop this copy */
	return ff_db_commit(u->db, err);
out_rollback:
	ff_db_rollback(u->db);
	return rc;
}

/* POST /api/v1/targets, on a thread of its own: the body is read as it arrives. */
void api_target_upload(struct http_req *r)
{
	struct ff_err err = {0};
	struct ff_archive_info info = {0};
	char sha[FF_SHA256_HEX_LEN + 1];
	struct upload *u = calloc(1, sizeof(*u));
	if (!u || !(u->sha = ff_sha256_new())) {
		free(u);
		return http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
	}
	u->r = r;
	u->db = r->db;
	int rc = store_upload(u, sha, &info, &err);
	uint64_t size = u->size;
	ff_sha256_free(u->sha);
	free(u);
	if (rc < 0)
		return http_reply_error(r, &err);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "sha256", sha);
	cJSON_AddNumberToObject(o, "size", (double)size);
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
	    ff_db_query(r->db,
			"SELECT json_build_object('sha256', sha256, 'size', size, "
			"'created_at', ff_ts(created_at)) FROM targets WHERE sha256 = $1",
			1, p, &err);
	if (!res)
		return http_reply_error(r, &err);
	api_reply_row_json(r, res, "target");
}
