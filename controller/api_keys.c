/* api_keys — creating, listing and revoking API keys (admin scope). A key is shown once, in
 * the reply that creates it; only its SHA-256 is stored. keys.c reads the table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "ff_json.h"
#include "ff_util.h"
#include "keys.h"

#define KEY_NAME_MAX 64
#define KEY_COLUMNS                                                                                \
	"id, name, to_json(scopes) AS scopes, rate_per_s, ff_ts(created_at) AS created_at, "       \
	"ff_ts(last_used_at) AS last_used_at"
#define KEY_NCOLUMNS 6

/* {"name", "scopes": [...], "rate_per_s"?} into a PostgreSQL text[] literal and a rate
 * ("" for the default). */
static int parse_key(const cJSON *body, char **name, char scopes[32], char rate[16],
		     unsigned *scope_bits, struct ff_err *err)
{
	static const char *const fields[] = {"name", "scopes", "rate_per_s"};
	const unsigned v = FF_JSON_VALIDATE;
	char **list = NULL;
	size_t n = 0;
	long per_s = 0;
	int rc;
	if ((rc = ff_json_check_keys(body, "", fields, 3, 2, v, err)) < 0 ||
	    (rc = ff_json_get_string(body, "", "name", v | FF_JSON_REQUIRED, KEY_NAME_MAX, NULL,
				     NULL, name, err)) < 0 ||
	    (rc = ff_json_get_strings(body, "", "scopes", v | FF_JSON_REQUIRED, 3, 8, &list, &n,
				      err)) < 0 ||
	    (rc = ff_json_get_long(body, "", "rate_per_s", v, 1, 1000000, &per_s, err)) < 0)
		goto out;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		enum key_scope s = key_scope_parse(list[i]);
		if (!s) {
			rc = ff_err_field(err, FF_EVALIDATE, "scopes",
					  "unknown scope '%s' (read, submit or admin)", list[i]);
			goto out;
		}
		bits |= s;
	}
	if (!bits || !**name) {
		rc =
		    ff_err_field(err, FF_EVALIDATE, bits ? "name" : "scopes",
				 bits ? "name must not be empty" : "scopes must name at least one");
		goto out;
	}
	size_t off = (size_t)snprintf(scopes, 32, "{");
	for (enum key_scope s = KEY_READ; s <= KEY_ADMIN; s <<= 1)
		if (bits & s)
			off += (size_t)snprintf(scopes + off, 32 - off, "%s%s", off > 1 ? "," : "",
						key_scope_name(s));
	snprintf(scopes + off, 32 - off, "}");
	*scope_bits = bits;
	if (per_s)
		snprintf(rate, 16, "%ld", per_s);
	else
		rate[0] = '\0';
out:
	ff_json_strings_free(list, n);
	return rc;
}

void api_key_create(struct http_req *r)
{
	struct ff_err err;
	char *name = NULL, scopes[32], rate[16], id[FF_UUID_LEN + 1], key[44], digest[65];
	cJSON *body = http_json_body(r);
	if (!body)
		return;
	unsigned bits = 0;
	if (parse_key(body, &name, scopes, rate, &bits, &err) < 0 ||
	    keys_generate(key, digest, &err) < 0) {
		http_reply_error(r, &err);
		goto out;
	}
	ff_uuid_new(id);
	const char *p[] = {id, name, digest, scopes, rate[0] ? rate : NULL};
	PGresult *res =
	    ff_db_query(r->db,
			"INSERT INTO api_keys (id, name, key_sha256, scopes, rate_per_s) "
			"VALUES ($1, $2, $3, $4::text[], $5::int) RETURNING " KEY_COLUMNS,
			5, p, &err);
	if (!res) {
		http_reply_error(r, &err);
		goto out;
	}
	/* usable here at once; other controllers see it at their next re-read */
	if (keys_add(r->app->keys, id, digest, bits, rate[0] ? atof(rate) : 0) < 0) {
		PQclear(res);
		http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
		goto out;
	}
	struct ff_buf b;
	ff_buf_init(&b, SIZE_MAX);
	/* The one time the key is shown: added to the row's object, never sent to the
	 * database. */
	int rc = api_row_json(&b, res, 0, 0, KEY_NCOLUMNS);
	if (rc == 0) {
		b.len--; /* the row's closing brace */
		rc = ff_buf_append(&b, ",\"key\":\"", 8);
	}
	if (rc == 0 && (rc = ff_buf_append(&b, key, strlen(key))) == 0)
		rc = ff_buf_append(&b, "\"}", 2);
	api_reply_buf(r, 201, &b, rc);
	PQclear(res);
out:
	free(name);
	cJSON_Delete(body);
}

void api_keys_list(struct http_req *r)
{
	struct ff_err err;
	PGresult *res = ff_db_query(r->db,
				    "SELECT " KEY_COLUMNS " FROM api_keys WHERE revoked_at IS NULL "
				    "ORDER BY created_at, id",
				    0, NULL, &err);
	if (!res)
		return http_reply_error(r, &err);
	struct ff_buf b;
	ff_buf_init(&b, SIZE_MAX);
	int rc = ff_buf_append(&b, "{\"keys\":[", 9);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++)
		if ((rc = i ? ff_buf_append(&b, ",", 1) : 0) == 0)
			rc = api_row_json(&b, res, i, 0, KEY_NCOLUMNS);
	if (rc == 0)
		rc = ff_buf_append(&b, "]}", 2);
	api_reply_buf(r, 200, &b, rc);
	PQclear(res);
}

void api_key_revoke(struct http_req *r)
{
	struct ff_err err;
	if (!ff_uuid_valid(r->params[0]))
		return http_reply_fail(r, FF_ENOTFOUND, NULL, "no key %s", r->params[0]);
	const char *p[] = {r->params[0]};
	PGresult *res =
	    ff_db_query(r->db,
			"UPDATE api_keys SET revoked_at = clock_timestamp() WHERE id = $1 "
			"AND revoked_at IS NULL RETURNING id",
			1, p, &err);
	if (!res)
		return http_reply_error(r, &err);
	if (PQntuples(res) == 1) {
		keys_remove(r->app->keys, r->params[0]);
		http_reply_bytes(r, 204, "application/json", NULL, 0);
	} else {
		http_reply_fail(r, FF_ENOTFOUND, NULL, "no key %s", r->params[0]);
	}
	PQclear(res);
}
