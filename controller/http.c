/* http — routing, auth, replies; see http.h. */
#include "http.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ff_config.h"
#include "ff_json.h"
#include "ff_log.h"
#include "ff_util.h"

struct router {
	struct app *app;
	const struct http_route *routes;
	size_t nroutes;
};

int http_status_for(int code)
{
	switch (code) {
	case FF_EINVAL: return 400;
	case FF_EAUTH: return 401;
	case FF_ENOTFOUND: return 404;
	case FF_ECONFLICT: return 409;
	case FF_ETOOBIG: return 413;
	case FF_EVALIDATE: return 422;
	case FF_EUNAVAIL: return 503;
	case FF_ETIMEOUT: return 504;
	default: return 500;
	}
}

static const char *reason_for(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

void http_reply_bytes(struct http_req *r, int status, const char *content_type, const void *data,
		      size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	struct evbuffer *buf = evbuffer_new();
	evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "X-Request-Id", r->id);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (buf && len)
		evbuffer_add(buf, data, len);
	r->status = status;
	evhttp_send_reply(r->ev, status, reason_for(status), buf);
	if (buf)
		evbuffer_free(buf);
}

void http_reply_json_text(struct http_req *r, int status, const char *json_text, size_t len)
{
	http_reply_bytes(r, status, "application/json", json_text, len);
}

void http_reply_json(struct http_req *r, int status, const cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);
	if (!text) {
		http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
		return;
	}
	http_reply_json_text(r, status, text, strlen(text));
	free(text);
}

void http_reply_status(struct http_req *r, int status, const char *code, const char *field,
		       const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	if (field && *field)
		cJSON_AddStringToObject(e, "field", field);
	cJSON_AddStringToObject(o, "request_id", r->id);
	http_reply_json(r, status, o);
	cJSON_Delete(o);
}

void http_reply_error(struct http_req *r, const struct ff_err *err)
{
	int status = http_status_for(err->code);
	if (status >= 500)
		ff_req_log(FF_LOG_ERROR, r->id, "%s", err->msg);
	http_reply_status(r, status, ff_err_name(err->code), err->field, err->msg);
}

void http_reply_fail(struct http_req *r, int code, const char *field, const char *fmt, ...)
{
	struct ff_err err = {.code = code};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	snprintf(err.field, sizeof(err.field), "%s", field ? field : "");
	http_reply_error(r, &err);
}

const char *http_body(struct http_req *r, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	*len = evbuffer_get_length(in);
	return *len ? (const char *)evbuffer_pullup(in, -1) : NULL;
}

cJSON *http_json_body(struct http_req *r)
{
	/* The size was checked against the route's limit before the handler ran. */
	static const struct ff_json_opts opts = {.what = "the body", .object = true};
	struct ff_err err;
	cJSON *j = NULL;
	size_t len;
	const char *body = http_body(r, &len);
	if (!body) {
		http_reply_fail(r, FF_EINVAL, NULL, "a JSON object body is required");
		return NULL;
	}
	if (ff_json_parse(body, len, &opts, &j, &err) < 0) {
		http_reply_error(r, &err);
		return NULL;
	}
	return j;
}

const char *http_query(struct http_req *r, const char *name)
{
	if (!r->query_parsed) {
		const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->ev));
		TAILQ_INIT(&r->query);
		if (q)
			evhttp_parse_query_str(q, &r->query);
		r->query_parsed = 1;
	}
	return evhttp_find_header(&r->query, name);
}

const char *http_header(struct http_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
}

int http_route_match(const char *pattern, char *path, const char **params)
{
	size_t np = 0;
	const char *p = pattern;
	char *s = path;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return 0;
		p++, s++;
		const char *pend = strchr(p, '/');
		size_t plen = pend ? (size_t)(pend - p) : strlen(p);
		char *send = strchr(s, '/');
		size_t slen = send ? (size_t)(send - s) : strlen(s);
		if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0 || np == HTTP_MAX_PARAMS)
				return 0;
			params[np++] = s;
		} else if (plen != slen || memcmp(p, s, plen) != 0) {
			return 0;
		}
		p += plen;
		s += slen;
	}
	if (*p || *s)
		return 0;
	/* Terminate the captured segments only once the whole path matched. */
	for (size_t i = 0; i < np; i++) {
		char *slash = strchr(params[i], '/');
		if (slash)
			*slash = '\0';
	}
	return 1;
}

static int authorised(struct http_req *r)
{
	const char *h = http_header(r, "Authorization");
	char digest[65];
	if (!h || strncmp(h, "Bearer ", 7) != 0 || !h[7])
		return 0;
	ff_sha256_hex(h + 7, strlen(h + 7), digest);
	/* Compare digests in constant time: the key itself never reaches a comparison. */
	const struct app *a = r->app;
	return (a->api_key_sha256[0] && CRYPTO_memcmp(digest, a->api_key_sha256, 64) == 0) ||
	       (a->stored_key_sha256[0] && CRYPTO_memcmp(digest, a->stored_key_sha256, 64) == 0);
}

static void set_request_id(struct http_req *r)
{
	const char *given = http_header(r, "X-Request-Id");
	size_t n = given ? strlen(given) : 0;
	int ok = n > 0 && n < sizeof(r->id);
	for (size_t i = 0; ok && i < n; i++)
		ok = (given[i] >= 'a' && given[i] <= 'z') || (given[i] >= 'A' && given[i] <= 'Z') ||
		     (given[i] >= '0' && given[i] <= '9') || given[i] == '-' || given[i] == '_' ||
		     given[i] == '.';
	if (ok)
		memcpy(r->id, given, n + 1);
	else
		ff_uuid_new(r->id);
}

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_HEAD: return "HEAD";
	default: return "OTHER";
	}
}

static void route_request(struct evhttp_request *ev, void *arg)
{
	struct router *rt = arg;
	struct http_req r = {.ev = ev, .app = rt->app};
	enum evhttp_cmd_type method = evhttp_request_get_command(ev);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(ev));
	char *decoded = NULL;
	int64_t t0 = ff_now_ms();

	set_request_id(&r);
	size_t dlen = 0;
	decoded = path ? evhttp_uridecode(path, 0, &dlen) : NULL;
	if (!decoded || strlen(decoded) != dlen || dlen >= sizeof(r.path_buf)) {
		http_reply_fail(&r, FF_EINVAL, NULL, "bad request path");
		goto out;
	}
	const struct http_route *found = NULL;
	int path_matched = 0;
	for (size_t i = 0; i < rt->nroutes && !found; i++) {
		snprintf(r.path_buf, sizeof(r.path_buf), "%s", decoded);
		memset(r.params, 0, sizeof(r.params));
		if (!http_route_match(rt->routes[i].pattern, r.path_buf, r.params))
			continue;
		path_matched = 1;
		if (rt->routes[i].method == method)
			found = &rt->routes[i];
	}
	if (!found) {
		if (path_matched)
			http_reply_status(&r, 405, "method_not_allowed", NULL,
					  "method not allowed on this path");
		else
			http_reply_fail(&r, FF_ENOTFOUND, NULL, "no such route: %s", decoded);
		goto out;
	}
	if (!found->public && !authorised(&r)) {
		evhttp_add_header(evhttp_request_get_output_headers(ev), "WWW-Authenticate",
				  "Bearer");
		http_reply_fail(&r, FF_EAUTH, NULL,
				"a valid API key is required (Authorization: "
				"Bearer <key>)");
		goto out;
	}
	size_t max = found->max_body ? found->max_body : rt->app->cfg.max_json_bytes;
	if (evbuffer_get_length(evhttp_request_get_input_buffer(ev)) > max) {
		http_reply_fail(&r, FF_ETOOBIG, NULL, "request body exceeds %zu bytes", max);
		goto out;
	}
	found->handler(&r);
out:
	ff_req_log(FF_LOG_INFO, r.id, "%s %s %d %lldms", method_name(method), path ? path : "?",
		   r.status, (long long)(ff_now_ms() - t0));
	if (r.query_parsed)
		evhttp_clear_headers(&r.query);
	free(decoded);
}

struct evhttp *http_start(struct app *app, const struct http_route *routes, size_t nroutes,
			  struct ff_err *err)
{
	static struct router rt;
	char host[256];
	int port;
	if (ff_config_split_hostport(app->cfg.listen, host, sizeof(host), &port, err) < 0)
		return NULL;
	struct evhttp *http = evhttp_new(app->base);
	if (!http) {
		ff_err_set(err, FF_ENOMEM, "out of memory");
		return NULL;
	}
	rt = (struct router){.app = app, .routes = routes, .nroutes = nroutes};
	size_t max_body = app->cfg.max_json_bytes;
	for (size_t i = 0; i < nroutes; i++)
		if (routes[i].max_body > max_body)
			max_body = routes[i].max_body;
	/* evhttp refuses larger bodies itself with 413 before buffering them. */
	evhttp_set_max_body_size(http, (ev_ssize_t)max_body);
	evhttp_set_max_headers_size(http, 64 * 1024);
	evhttp_set_timeout(http, 120);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
					     EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(http, route_request, &rt);
	if (evhttp_bind_socket(http, host[0] ? host : "0.0.0.0", (ev_uint16_t)port) < 0) {
		evhttp_free(http);
		ff_err_set(err, FF_EUNAVAIL, "cannot listen on %s", app->cfg.listen);
		return NULL;
	}
	return http;
}
