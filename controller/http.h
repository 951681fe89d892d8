/* http — the controller's HTTP layer on evhttp: one route table matched under
 * evhttp_set_gencb, request ids, bearer-key auth, body limits, JSON replies, and the one place
 * that maps FF_E* codes to HTTP statuses. Every handler ends in exactly one reply. */
#ifndef HTTP_H
#define HTTP_H

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <stddef.h>

#include "ff_err.h"

struct app;

#define HTTP_MAX_PARAMS 4

struct http_req {
	struct evhttp_request *ev;
	struct app *app;
	char id[64];			     /* request id, echoed in X-Request-Id */
	const char *params[HTTP_MAX_PARAMS]; /* {name} segments of the matched pattern */
	char path_buf[1024];
	struct evkeyvalq query;
	int query_parsed;
	int status; /* set by the reply, for the access log */
};

typedef void (*http_handler)(struct http_req *r);

struct http_route {
	enum evhttp_cmd_type method;
	const char *pattern; /* "/api/v1/runs/{id}": {x} matches one non-empty segment */
	http_handler handler;
	int public;	 /* no API key needed */
	size_t max_body; /* 0: the JSON default */
};

/* Starts serving the route table on the app's listen address. */
struct evhttp *http_start(struct app *app, const struct http_route *routes, size_t nroutes,
			  struct ff_err *err);

/* The body, or NULL for none; *len its length. Valid until the reply. */
const char *http_body(struct http_req *r, size_t *len);
/* The body as a JSON object; replies 400/413 itself and returns NULL when it is not one. */
cJSON *http_json_body(struct http_req *r);
/* A query parameter, or NULL. */
const char *http_query(struct http_req *r, const char *name);
const char *http_header(struct http_req *r, const char *name);

/* Replies. json_text: a complete JSON document (not consumed). */
void http_reply_json(struct http_req *r, int status, const cJSON *body);
void http_reply_json_text(struct http_req *r, int status, const char *json_text, size_t len);
void http_reply_bytes(struct http_req *r, int status, const char *content_type, const void *data,
		      size_t len);
/* {"error":{"code","message"[,"field"]},"request_id"} with the status err->code maps to. */
void http_reply_error(struct http_req *r, const struct ff_err *err);
/* An error reply with a status outside the FF_E* mapping (405, 415). */
void http_reply_status(struct http_req *r, int status, const char *code, const char *field,
		       const char *msg);
/* The same for an error made on the spot. */
void http_reply_fail(struct http_req *r, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int http_status_for(int code);

/* Matches path against a route pattern segment by segment; on a match the {x} segments are
 * NUL-terminated in place (path is modified) and pointed to by params. Returns 1 or 0. */
int http_route_match(const char *pattern, char *path, const char **params);

#endif
