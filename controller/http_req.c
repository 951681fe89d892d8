/* http_req — what a handler sees of its request (body, query, headers) and the replies it
 * fills in; the loop writes them (http.c). Any thread may call these for its own request. */
#include <event2/http.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "http.h"
#include "ff_json.h"
#include "ff_log.h"
#include "ff_util.h"

int http_status_for(int code)
{
	switch (code) {
	case FF_EINVAL: return 400;
	case FF_EAUTH: return 401;
	case FF_EFORBIDDEN: return 403;
	case FF_ENOTFOUND: return 404;
	case FF_ECONFLICT: return 409;
	case FF_ETOOBIG: return 413;
	case FF_EVALIDATE: return 422;
	case FF_EUNAVAIL: return 503;
	case FF_ETIMEOUT: return 504;
	default: return 500;
	}
}

void http_add_header(struct http_req *r, const char *name, const char *value)
{
	evhttp_add_header(&r->reply_headers, name, value);
}

static void drop_reply(struct http_req *r)
{
	if (r->stream_ops) { /* a stream given up for another reply: its owner lets go */
		r->stream_ops->gone(r->stream_arg);
		r->stream_ops = NULL;
	}
	free(r->reply);
	r->reply = NULL;
	if (r->reply_fd >= 0)
		close(r->reply_fd);
	r->reply_fd = -1;
}

void http_reply_file(struct http_req *r, int status, const char *content_type, int fd, size_t len)
{
	drop_reply(r);
	r->status = status;
	r->reply_type = content_type;
	r->reply_fd = fd;
	r->reply_len = len;
}

/* Whether the If-None-Match list (comma-separated tags, or *) names tag. */
static bool etag_listed(const char *list, const char *tag)
{
	size_t n = strlen(tag);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t,");
		if (*p == '*')
			return true;
		if (!strncmp(p, "W/", 2)) /* weak comparison, as If-None-Match has it */
			p += 2;
		if (!strncmp(p, tag, n) && (p[n] == '\0' || strchr(" \t,", p[n])))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

bool http_etag_of(const struct http_req *r, char tag[HTTP_ETAG_SIZE])
{
	if (r->method != HTTP_M_GET || r->status != 200 || r->reply_fd >= 0 || r->stream_ops)
		return false;
	char hex[FF_SHA256_HEX_LEN + 1];
	ff_sha256_hex(r->reply ? r->reply : "", r->reply_len, hex);
	snprintf(tag, HTTP_ETAG_SIZE, "\"%.32s\"", hex);
	return true;
}

void http_etag_set(struct http_req *r, const char *tag)
{
	http_add_header(r, "ETag", tag);
	if (etag_listed(http_header(r, "If-None-Match"), tag)) {
		free(r->reply);
		r->reply = NULL;
		r->reply_len = 0;
		r->status = 304;
	}
}

void http_reply_stream(struct http_req *r, const char *content_type,
		       const struct http_stream_ops *ops, void *arg)
{
	drop_reply(r);
	r->status = 200;
	r->reply_type = content_type;
	r->reply_len = 0;
	r->stream_ops = ops;
	r->stream_arg = arg;
}

void http_reply_take(struct http_req *r, int status, const char *content_type, char *data,
		     size_t len)
{
	drop_reply(r);
	r->status = status;
	r->reply_type = content_type;
	r->reply = data;
	r->reply_len = data ? len : 0;
}

void http_reply_bytes(struct http_req *r, int status, const char *content_type, const void *data,
		      size_t len)
{
	char *copy = len ? malloc(len) : NULL;
	if (len && !copy) {
		static const char oom[] =
		    "{\"error\":{\"code\":\"nomem\",\"message\":\"out of memory\"}}";
		http_reply_take(r, 500, "application/json", strdup(oom), sizeof(oom) - 1);
		return;
	}
	if (len)
		memcpy(copy, data, len);
	http_reply_take(r, status, content_type, copy, len);
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
	http_reply_take(r, status, "application/json", text, strlen(text));
}

void http_reply_status(struct http_req *r, int status, const char *code, const char *field,
		       const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	/* Messages and fields may echo what the client sent: the reply stays valid JSON. */
	cJSON *m = cJSON_AddStringToObject(e, "message", msg);
	if (m)
		ff_utf8_sanitize(m->valuestring);
	if (field && *field && (m = cJSON_AddStringToObject(e, "field", field)))
		ff_utf8_sanitize(m->valuestring);
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
	*len = r->body.len;
	return r->body.len ? r->body.data : NULL;
}

cJSON *http_json_body(struct http_req *r)
{
	/* The size was held to the route's limit as the body arrived. */
	/* A well-formed body with a string that is not utf-8 says something wrong: 422. */
	static const struct ff_json_opts opts = {
	    .what = "the body", .object = true, .utf8_code = FF_EVALIDATE};
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
		if (r->query_str)
			evhttp_parse_query_str(r->query_str, &r->query);
		r->query_parsed = 1;
	}
	return evhttp_find_header(&r->query, name);
}

const char *http_query_each(struct http_req *r, const char *name, const void **at)
{
	http_query(r, name); /* parses the query once */
	const struct evkeyval *kv =
	    *at ? TAILQ_NEXT((const struct evkeyval *)*at, next) : TAILQ_FIRST(&r->query);
	for (; kv; kv = TAILQ_NEXT(kv, next))
		if (!strcmp(kv->key, name)) {
			*at = kv;
			return kv->value;
		}
	return NULL;
}

const char *http_header(struct http_req *r, const char *name)
{
	return evhttp_find_header(&r->headers, name);
}

int http_route_match(const char *pattern, char *path, const char **params)
{
	size_t np = 0;
	const char *p = pattern, *tail = NULL;
	char *s = path;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return 0;
		p++, s++;
		const char *pend = strchr(p, '/');
		size_t plen = pend ? (size_t)(pend - p) : strlen(p);
		char *send = strchr(s, '/');
		size_t slen = send ? (size_t)(send - s) : strlen(s);
		if (plen > 3 && !pend && p[0] == '{' && p[plen - 2] == '*' && p[plen - 1] == '}') {
			/* {x*}, last: the rest of the path, slashes and all */
			if (slen == 0 || np == HTTP_MAX_PARAMS)
				return 0;
			tail = s;
			params[np++] = s;
			slen = strlen(s);
		} else if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
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
		char *slash = params[i] == tail ? NULL : strchr(params[i], '/');
		if (slash)
			*slash = '\0';
	}
	return 1;
}
