/* cmd_admin — running the platform: `ff keys list|create|revoke` (the controller's API
 * keys), `ff audit` (its audit log), `ff dead-letters [list|requeue|dismiss]` (runs that
 * failed for good) and `ff workers` (who runs them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_client.h"
#include "ff_cmd.h"

static void key_row(const cJSON *k, const char **row, char *buf, size_t bufsz)
{
	const cJSON *scopes = cJSON_GetObjectItemCaseSensitive(k, "scopes"), *s;
	size_t off = 0;
	buf[0] = '\0';
	cJSON_ArrayForEach(s, scopes) if (cJSON_IsString(s) && off < bufsz) off +=
	    (size_t)snprintf(buf + off, bufsz - off, "%s%s", off ? "," : "", s->valuestring);
	row[0] = ff_cmd_jstr(k, "id");
	row[1] = ff_cmd_jstr(k, "name");
	row[2] = buf;
	row[3] = ff_cmd_jstr(k, "created_at");
	row[4] = ff_cmd_jstr(k, "last_used_at");
}

/* ff keys create NAME SCOPES [RATE_PER_S]: SCOPES comma-separated. */
static int create(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	cJSON *body = cJSON_CreateObject(), *scopes = NULL, *res = NULL;
	int rc = EXIT_FAIL;
	if (a->npos < 3 || a->npos > 4) {
		fprintf(stderr, "usage: ff keys create NAME SCOPES [RATE_PER_S]\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (!body || !cJSON_AddStringToObject(body, "name", a->pos[1]) ||
	    !(scopes = cJSON_AddArrayToObject(body, "scopes"))) {
		ff_err_set(&err, FF_ENOMEM, "out of memory");
		rc = ff_cmd_fail(&err);
		goto out;
	}
	for (const char *p = a->pos[2]; *p; p += *p == ',') {
		size_t n = strcspn(p, ",");
		char *s = strndup(p, n);
		cJSON_AddItemToArray(scopes, cJSON_CreateString(s ? s : ""));
		free(s);
		p += n;
	}
	if (a->npos == 4) {
		char *end;
		long rate = strtol(a->pos[3], &end, 10);
		if (*end || rate < 1) {
			fprintf(stderr, "ff: RATE_PER_S must be a positive integer\n");
			rc = EXIT_USAGE;
			goto out;
		}
		cJSON_AddNumberToObject(body, "rate_per_s", (double)rate);
	}
	if (!ff_cmd_client(ctx, &err) ||
	    ff_client_json(ctx->client, "POST", "/api/v1/keys", body, &res, &err)) {
		rc = ff_cmd_fail(&err);
		goto out;
	}
	if (a->json) {
		rc = ff_cmd_print_json(res);
	} else {
		printf("%s\n", ff_cmd_jstr(res, "key") ? ff_cmd_jstr(res, "key") : "");
		fprintf(stderr, "key %s (%s) created: it is shown only this once\n",
			ff_cmd_jstr(res, "id"), a->pos[1]);
		rc = EXIT_OK;
	}
out:
	cJSON_Delete(body);
	cJSON_Delete(res);
	return rc;
}

static int keys_revoke(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char path[PATH_MAX_LEN], esc[ESC_MAX];
	if (a->npos != 2) {
		fprintf(stderr, "usage: ff keys revoke KEY_ID\n");
		return EXIT_USAGE;
	}
	if (ff_url_escape(a->pos[1], esc, sizeof(esc)) < 0) {
		fprintf(stderr, "ff: KEY_ID is too long\n");
		return EXIT_USAGE;
	}
	if (!ff_cmd_client(ctx, &err))
		return ff_cmd_fail(&err);
	snprintf(path, sizeof(path), "/api/v1/keys/%s", esc);
	if (ff_client_json(ctx->client, "DELETE", path, NULL, NULL, &err))
		return ff_cmd_fail(&err);
	fprintf(stderr, "key %s revoked\n", a->pos[1]);
	return EXIT_OK;
}

int cmd_keys(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"ID", "NAME", "SCOPES", "CREATED", "LAST USED"};
	const char *sub = a->pos[0];
	if (!strcmp(sub, "list") && a->npos == 1)
		return ff_cmd_list(ctx, a, "/api/v1/keys", "keys", 5, hdr, key_row, NULL);
	if (!strcmp(sub, "create"))
		return create(ctx, a);
	if (!strcmp(sub, "revoke"))
		return keys_revoke(ctx, a);
	fprintf(stderr, "usage: ff keys list | create NAME SCOPES [RATE_PER_S] | revoke KEY_ID\n");
	return EXIT_USAGE;
}

static void audit_row(const cJSON *e, const char **row, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%ld", ff_cmd_jlong(e, "status", 0));
	row[0] = ff_cmd_jstr(e, "at");
	row[1] = ff_cmd_jstr(e, "key_id");
	row[2] = ff_cmd_jstr(e, "method");
	row[3] = ff_cmd_jstr(e, "route");
	row[4] = buf;
	row[5] = ff_cmd_jstr(e, "client");
	row[6] = ff_cmd_jstr(e, "request_id");
}

int cmd_audit(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"AT",	    "KEY",    "METHOD", "ROUTE",
					  "STATUS", "CLIENT", "REQUEST"};
	char path[PATH_MAX_LEN], status[16];
	size_t len = (size_t)snprintf(path, sizeof(path), "/api/v1/audit?limit=%ld",
				      a->limit ? a->limit : 100);
	snprintf(status, sizeof(status), "%ld", a->status);
	const char *names[] = {"key", "since", "status", "cursor"};
	const char *vals[] = {a->key, a->since, a->status ? status : NULL, a->cursor};
	for (int i = 0; i < 4; i++) {
		if (vals[i] && ff_query_append(path, sizeof(path), &len, names[i], vals[i])) {
			fprintf(stderr, "ff: --%s is too long\n", names[i]);
			return EXIT_USAGE;
		}
	}
	return ff_cmd_list(ctx, a, path, "entries", 7, hdr, audit_row, "audit");
}

/* ---- dead letters ---- */

static void dead_letter_row(const cJSON *d, const char **row, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%ld", ff_cmd_jlong(d, "attempts", 0));
	row[0] = ff_cmd_jstr(d, "run_id");
	row[1] = ff_cmd_jstr(d, "workflow");
	row[2] = buf;
	row[3] = ff_cmd_jstr(d, "at");
	row[4] = ff_cmd_jstr(d, "last_error");
}

/* ff dead-letters requeue|dismiss RUN_ID */
static int dead_letter_act(struct ff_cmd_ctx *ctx, struct ff_args *a, bool requeue)
{
	struct ff_err err = {0};
	char path[PATH_MAX_LEN], esc[ESC_MAX];
	cJSON *res = NULL;
	if (a->npos != 2) {
		fprintf(stderr, "usage: ff dead-letters %s RUN_ID\n",
			requeue ? "requeue" : "dismiss");
		return EXIT_USAGE;
	}
	if (ff_url_escape(a->pos[1], esc, sizeof(esc)) < 0) {
		fprintf(stderr, "ff: RUN_ID is too long\n");
		return EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/api/v1/dead-letters/%s%s", esc, requeue ? "/requeue" : "");
	if (!ff_cmd_client(ctx, &err) ||
	    ff_client_json(ctx->client, requeue ? "POST" : "DELETE", path, NULL,
			   requeue ? &res : NULL, &err)) /* a dismissal answers 204, no body */
		return ff_cmd_fail(&err);
	if (a->json && res)
		ff_cmd_print_json(res);
	fprintf(stderr, "run %s %s\n", a->pos[1],
		requeue ? "requeued with a fresh attempt budget"
			: "dismissed from the dead letters");
	cJSON_Delete(res);
	return EXIT_OK;
}

int cmd_dead_letters(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"RUN", "WORKFLOW", "ATTEMPTS", "AT", "LAST ERROR"};
	const char *sub = a->npos ? a->pos[0] : "list";
	if (!strcmp(sub, "list") && a->npos <= 1)
		return ff_cmd_list(ctx, a, "/api/v1/dead-letters", "dead_letters", 5, hdr,
				   dead_letter_row, NULL);
	if (!strcmp(sub, "requeue") || !strcmp(sub, "dismiss"))
		return dead_letter_act(ctx, a, sub[0] == 'r');
	fprintf(stderr, "usage: ff dead-letters [list] | requeue RUN_ID | dismiss RUN_ID\n");
	return EXIT_USAGE;
}

/* ---- workers ---- */

/* The row's cells: running of slots, heartbeat age, the engine's version, and how many
 * workflows' images its engine holds (--json names them). */
static void worker_row(const cJSON *w, const char **row, char *buf, size_t bufsz)
{
	size_t part = bufsz / 4;
	char *running = buf, *age = buf + part, *engine = buf + 2 * part, *images = buf + 3 * part;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(w, "engine");
	snprintf(running, part, "%ld/%ld", ff_cmd_jlong(w, "running", 0),
		 ff_cmd_jlong(w, "concurrency", 0));
	ff_age(ff_cmd_jstr(w, "last_heartbeat"), time(NULL), age, part);
	snprintf(engine, part, "%s", cJSON_IsObject(e) ? ff_cmd_jstr(e, "version") : "-");
	snprintf(images, part, "%d",
		 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(w, "workflow_images")));
	row[0] = ff_cmd_jstr(w, "id");
	row[1] = ff_cmd_jstr(w, "host");
	row[2] = ff_cmd_jstr(w, "pool");
	row[3] = ff_cmd_jstr(w, "state");
	row[4] = running;
	row[5] = age;
	row[6] = engine;
	row[7] = images;
}

int cmd_workers(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"ID",	     "HOST",	  "POOL",   "STATE",
					  "RUNNING", "HEARTBEAT", "ENGINE", "IMAGES"};
	return ff_cmd_list(ctx, a, "/api/v1/workers", "workers", 8, hdr, worker_row, NULL);
}
