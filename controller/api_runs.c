/* api_runs — submitting runs and reading their state and history.
 *
 * Submit validates on a database thread, then hands the run to the committer, which commits
 * it (state queued, its job message, its first event) in one transaction with the other
 * submits of the moment, publishes their jobs with one wait for the broker's confirms, and
 * answers 202. If the broker can't confirm, the run stays unpublished in the database and
 * the outbox publishes it once the broker is back: 202 means the run will reach a terminal
 * state. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "ff_run.h"
#include "committer.h"
#include "follow.h"
#include "ff_job.h"
#include "ff_json.h"
#include "ff_params.h"
#include "ff_log.h"
#include "ff_util.h"

#define MAX_LABELS	32
#define MAX_LABEL_KEY	63
#define MAX_LABEL_VALUE 255
#define LIST_DEFAULT	50
#define LIST_MAX	500

static int check_labels(const cJSON *labels, struct ff_err *err)
{
	if (!cJSON_IsObject(labels))
		return ff_err_field(err, FF_EVALIDATE, "labels", "labels must be an object");
	int n = 0;
	for (const cJSON *l = labels->child; l; l = l->next) {
		size_t klen = strlen(l->string);
		if (++n > MAX_LABELS)
			return ff_err_field(err, FF_EVALIDATE, "labels", "at most %d labels",
					    MAX_LABELS);
		if (!klen || klen > MAX_LABEL_KEY)
			return ff_err_field(err, FF_EVALIDATE, "labels",
					    "label names are 1 to %d characters", MAX_LABEL_KEY);
		if (!cJSON_IsString(l) || strlen(l->valuestring) > MAX_LABEL_VALUE)
			return ff_err_field(
			    err, FF_EVALIDATE, "labels",
			    "label '%.63s' must be a string of at most %d characters", l->string,
			    MAX_LABEL_VALUE);
	}
	return 0;
}

struct submit {
	const struct ff_manifest *m;
	const char *target;
	cJSON *params; /* validated, defaults filled */
	int priority;
	cJSON *labels; /* owned by the request body */
};

static int parse_submit(const struct app *app, cJSON *body, struct submit *s, struct ff_err *err)
{
	static const char *const known[] = {"workflow", "target", "parameters", "priority",
					    "labels"};
	for (const cJSON *f = body->child; f; f = f->next) {
		size_t i = 0;
		while (i < 5 && strcmp(f->string, known[i]) != 0)
			i++;
		if (i == 5)
			return ff_err_field(err, FF_EVALIDATE, f->string, "unknown field '%.64s'",
					    f->string);
	}
	const cJSON *wf = cJSON_GetObjectItemCaseSensitive(body, "workflow");
	if (!cJSON_IsString(wf))
		return ff_err_field(err, FF_EVALIDATE, "workflow",
				    "workflow (a string) is required");
	if (!(s->m = ff_catalog_find(app->catalog, wf->valuestring)))
		return ff_err_field(err, FF_EVALIDATE, "workflow", "unknown workflow '%.64s'",
				    wf->valuestring);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "target");
	if (!cJSON_IsString(t) || !ff_sha256_hex_valid(t->valuestring))
		return ff_err_field(err, FF_EVALIDATE, "target",
				    "target must be the sha256 of an uploaded target");
	s->target = t->valuestring;
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(body, "priority");
	s->priority = 0;
	if (pr) {
		if (!cJSON_IsNumber(pr) || pr->valuedouble != (double)pr->valueint ||
		    pr->valueint < 0 || pr->valueint > 9)
			return ff_err_field(err, FF_EVALIDATE, "priority",
					    "priority must be an integer from 0 to 9");
		s->priority = pr->valueint;
	}
	s->labels = cJSON_GetObjectItemCaseSensitive(body, "labels");
	if (s->labels && check_labels(s->labels, err) < 0)
		return err->code;
	return ff_params_validate(s->m->parameters,
				  cJSON_GetObjectItemCaseSensitive(body, "parameters"), &s->params,
				  err);
}

#define IDEMPOTENCY_KEY_MAX 255

/* A submit with an Idempotency-Key already seen: the same body gets the same run (*found
 * set, reply done), another body is a conflict (reply done). 0 when the key is new. */
static int idempotent_replay(struct http_req *r, struct ff_db *db, const char *key,
			     const char *body_sha, int *found)
{
	struct ff_err err;
	const char *p[] = {key};
	*found = 0;
	PGresult *res = ff_db_query(db,
				    "SELECT r.request_sha256, " API_RUN_COLUMNS
				    " FROM runs r WHERE r.idempotency_key = $1",
				    1, p, &err);
	if (!res) {
		http_reply_error(r, &err);
		return err.code;
	}
	if (PQntuples(res) == 1) {
		*found = 1;
		if (strcmp(PQgetvalue(res, 0, 0), body_sha) == 0)
			return api_reply_run(r, 202, res, 1), 0;
		http_reply_fail(r, FF_ECONFLICT, "Idempotency-Key",
				"this Idempotency-Key was used with another request body");
	}
	PQclear(res);
	return 0;
}

/* A submit on its way through the committer, and the strings it points to. */
struct pending {
	struct submission s; /* first: done gets it back */
	char id[FF_UUID_LEN + 1];
	char body_sha[FF_SHA256_HEX_LEN + 1];
	char target[FF_SHA256_HEX_LEN + 1];
	char *params, *labels, *job, *idem;
};

static void pending_free(struct pending *p)
{
	free(p->s.run_json);
	free(p->params);
	free(p->labels);
	free(p->job);
	free(p->idem);
	free(p);
}

/* On the committer's thread, once the run is committed (or not) and its job published. */
static void submit_done(struct submission *s, struct ff_db *db)
{
	struct pending *p = (struct pending *)s;
	struct http_req *r = s->r;
	int found;
	if (s->rc == 1) {
		if (!s->published)
			ff_req_log(FF_LOG_WARN, r->id, "run %s not published yet: the outbox will",
				   p->id);
		http_reply_take(r, 202, "application/json", s->run_json, s->run_json_len);
		s->run_json = NULL;
		snprintf(r->run_id, sizeof(r->run_id), "%s", p->id);
	} else if (s->rc == 0) {
		http_reply_fail(r, FF_EVALIDATE, "target", "no target %s has been uploaded",
				s->run.target);
	} else if (!(s->err.code == FF_ECONFLICT && p->idem &&
		     idempotent_replay(r, db, p->idem, p->body_sha, &found) == 0 && found)) {
		/* (Two requests with one new key raced: the loser answers like a replay.) */
		http_reply_error(r, &s->err);
	}
	pending_free(p);
	http_complete(r);
}

bool api_run_submit_on_loop(struct http_req *r)
{
	size_t len;
	http_body(r, &len);
	return !http_header(r, "Idempotency-Key") && len <= API_SUBMIT_ON_LOOP_MAX;
}

/* Validates the submit here, on the loop or a database thread (api_run_submit_on_loop);
 * the committer inserts it with others in one transaction, publishes its job, and replies
 * (submit_done). */
void api_run_submit(struct http_req *r)
{
	struct app *app = r->app;
	struct submit sub = {0};
	struct ff_err err = {0};
	struct ff_job *job = NULL;
	struct pending *p = calloc(1, sizeof(*p));
	const char *idem = http_header(r, "Idempotency-Key");
	cJSON *body = NULL;
	size_t job_len = 0;

	if (!p) {
		http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
		return;
	}
	if (idem && (!*idem || strlen(idem) > IDEMPOTENCY_KEY_MAX)) {
		http_reply_fail(r, FF_EINVAL, "Idempotency-Key",
				"Idempotency-Key must be 1 to %d characters", IDEMPOTENCY_KEY_MAX);
		goto out;
	}
	if (idem && !ff_utf8_valid(idem, strlen(idem))) {
		http_reply_fail(r, FF_EVALIDATE, "Idempotency-Key",
				"Idempotency-Key is not valid utf-8");
		goto out;
	}
	if (!(body = http_json_body(r)))
		goto out;
	if (idem) {
		size_t len;
		const char *raw = http_body(r, &len);
		int found;
		ff_sha256_hex(raw, len, p->body_sha);
		if (idempotent_replay(r, r->db, idem, p->body_sha, &found) < 0 || found)
			goto out;
	}
	if (parse_submit(app, body, &sub, &err) < 0)
		goto out_error;
	ff_uuid_new(p->id);
	job = ff_job_new(sub.m, p->id, sub.target, sub.params);
	p->job = job ? ff_job_encode(job, &job_len) : NULL;
	p->params = cJSON_PrintUnformatted(sub.params);
	p->labels = sub.labels ? cJSON_PrintUnformatted(sub.labels) : NULL;
	p->idem = idem ? strdup(idem) : NULL;
	if (!p->job || !p->params || (sub.labels && !p->labels) || (idem && !p->idem)) {
		ff_err_set(&err, FF_ENOMEM, "out of memory");
		goto out_error;
	}
	p->s = (struct submission){.r = r,
				   .run = {.id = p->id,
					   .workflow = sub.m->name,
					   .workflow_version = sub.m->version,
					   .target = sub.target,
					   .pool = sub.m->pool,
					   .parameters = p->params,
					   .labels = p->labels,
					   .job = p->job,
					   .priority = sub.priority,
					   .max_attempts = sub.m->max_attempts,
					   .idempotency_key = p->idem,
					   .request_sha256 = p->body_sha},
				   .job = p->job,
				   .job_len = job_len,
				   .done = submit_done};
	/* The target's id lives in the body, which goes with the request: keep a copy. */
	snprintf(p->target, sizeof(p->target), "%s", sub.target);
	p->s.run.target = p->target;
	ff_req_log(FF_LOG_DEBUG, r->id, "run %s submitted (%s)", p->id, sub.m->name);
	http_defer(r);
	committer_submit(app->committer, &p->s);
	p = NULL;
	goto out;
out_error:
	http_reply_error(r, &err);
out:
	if (p)
		pending_free(p);
	ff_job_free(job);
	cJSON_Delete(sub.params);
	cJSON_Delete(body);
}

void api_run_get(struct http_req *r)
{
	PGresult *res = api_query_run(r, "SELECT " API_RUN_COLUMNS " FROM runs r WHERE r.id = $1");
	if (res)
		api_reply_run(r, 200, res, 0);
}

void api_run_events(struct http_req *r)
{
	int follow = follow_wanted(r);
	if (follow)
		return follow > 0 ? follow_reply(r->app->follow, r, FOLLOW_EVENTS) : (void)0;
	api_reply_run_json(
	    r, "SELECT json_build_object('run_id', r.id, 'events', COALESCE((SELECT "
	       "json_agg(json_build_object('ts', ff_ts(e.ts), 'state', e.state, 'attempt', "
	       "e.attempt, 'message', e.message) ORDER BY e.id) FROM run_events e "
	       "WHERE e.run_id = r.id), '[]'::json)) FROM runs r WHERE r.id = $1");
}

/* The cursor is "<created_at in epoch microseconds>.<id>" of the last run on the page. */
static int parse_cursor(const char *c, char micros[24], char id[FF_UUID_LEN + 1])
{
	const char *dot = strchr(c, '.');
	size_t n = dot ? (size_t)(dot - c) : 0;
	if (!dot || n == 0 || n > 19 || !ff_uuid_valid(dot + 1))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (c[i] < '0' || c[i] > '9')
			return -1;
	memcpy(micros, c, n);
	micros[n] = '\0';
	memcpy(id, dot + 1, FF_UUID_LEN + 1);
	return 0;
}

/* The label=k=v parameters (any number) as the JSON object a run's labels must contain;
 * NULL once it replied 422 for one that is not k=v. Caller frees. */
static char *labels_filter(struct http_req *r)
{
	cJSON *want = cJSON_CreateObject();
	const void *at = NULL;
	for (const char *v; (v = http_query_each(r, "label", &at));) {
		const char *eq = strchr(v, '=');
		if (!eq || eq == v) {
			cJSON_Delete(want);
			http_reply_fail(r, FF_EVALIDATE, "label", "label must be key=value");
			return NULL;
		}
		char *key = strndup(v, (size_t)(eq - v));
		if (key)
			cJSON_DeleteItemFromObjectCaseSensitive(want, key);
		if (!key || !cJSON_AddStringToObject(want, key, eq + 1)) {
			free(key);
			cJSON_Delete(want);
			http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
			return NULL;
		}
		free(key);
	}
	char *text = cJSON_PrintUnformatted(want);
	cJSON_Delete(want);
	if (!text)
		http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
	return text;
}

void api_runs_list(struct http_req *r)
{
	struct ff_err err;
	const char *state = http_query(r, "state");
	const char *workflow = http_query(r, "workflow");
	const char *cursor = http_query(r, "cursor");
	char micros[24] = "", cid[FF_UUID_LEN + 1] = "", limit[16];
	long lim = LIST_DEFAULT;

	if (state && ff_run_state_parse(state) < 0)
		return http_reply_fail(r, FF_EVALIDATE, "state", "unknown state '%.32s'", state);
	if (api_query_long(r, "limit", 1, LIST_MAX, &lim) < 0)
		return;
	char *labels = labels_filter(r);
	if (!labels)
		return;
	if (cursor && parse_cursor(cursor, micros, cid) < 0)
		return http_reply_fail(r, FF_EVALIDATE, "cursor", "malformed cursor");
	snprintf(limit, sizeof(limit), "%ld", lim);
	const char *p[] = {state, workflow, cursor ? micros : NULL, cursor ? cid : NULL,
			   limit, labels};
	/* One row more than the page: whether there is a next page. */
	PGresult *res = ff_db_query(
	    r->db,
	    "SELECT " API_RUN_COLUMNS ", (extract(epoch FROM r.created_at) * 1000000)::bigint "
	    "  || '.' || r.id FROM runs r "
	    "WHERE ($1::text IS NULL OR r.state = $1) AND ($2::text IS NULL OR r.workflow = $2) "
	    "  AND ($3::bigint IS NULL OR (r.created_at, r.id) < ('epoch'::timestamptz + "
	    "  $3::bigint * interval '1 microsecond', $4::uuid)) "
	    "  AND ($6::jsonb = '{}' OR r.labels @> $6::jsonb) "
	    "ORDER BY r.created_at DESC, r.id DESC LIMIT $5::int + 1",
	    6, p, &err);
	free(labels);
	if (!res)
		return http_reply_error(r, &err);
	api_reply_page(r, res, "runs", API_RUN_NCOLUMNS, (int)lim);
}

/* queued, retrying or running -> cancelled. A running container is killed by its worker's
 * heartbeat within about a second. */
void api_run_cancel(struct http_req *r)
{
	struct ff_err err;
	PGresult *res = NULL;
	if (!api_run_id_ok(r))
		return;
	int rc = ff_run_cancel(r->db, r->params[0], API_RUN_COLUMNS, &res, &err);
	api_reply_transition(r, rc, res, &err, "it can no longer be cancelled");
}

void api_run_retry(struct http_req *r)
{
	api_requeue(r, false, "retry requested");
}
