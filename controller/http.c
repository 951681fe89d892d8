/* http — the HTTP/1.1 server: connections, parsing, the checks of a request's head, the
 * deadlines, and writing replies; see http.h. Everything here runs on the event loop except
 * http_complete, http_defer and http_body_read. */
#include "http.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ff_config.h"
#include "ff_log.h"
#include "app.h"
#include "cache.h"
#include "metrics.h"
#include "ff_util.h"
#include "pool.h"

#define MAX_HEAD      (64 * 1024) /* request line and headers: past it, 431 */
#define MAX_URL	      (8 * 1024)
#define READ_HIGH     (256 * 1024)  /* the most a connection's input buffer holds */
#define PIPE_HIGH     (1024 * 1024) /* a streamed body queued for its handler: reading pauses */
#define PIPE_LOW      (256 * 1024)  /* ... and resumes below this */
#define LINGER_MS     2000	    /* after a refusal: how long its unread body is drained ... */
#define LINGER_BYTES  (1024 * 1024) /* ... and how much of it, so the reply is not reset */
#define TICK_MS	      100
#define WRITE_TIMEOUT 30 /* seconds a client may take to read a reply */

/* A request being read, waiting for its handler, or a connection between requests. */
enum phase {
	PH_IDLE,   /* no byte of the next request yet */
	PH_HEAD,   /* reading the request line and headers */
	PH_BODY,   /* reading the body */
	PH_WAIT,   /* the whole request is read; its handler has it */
	PH_WRITE,  /* writing the reply */
	PH_STREAM, /* a streamed reply: its owner sends the chunks (struct http_stream) */
	PH_LINGER, /* reply written, write side shut: draining what the client still sends */
};

/* What conn_feed does once the parser stops. */
enum action { ACT_NONE, ACT_REFUSE, ACT_SPAWN, ACT_DISPATCH };

struct http_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct evbuffer *q; /* touched only under mu */
	bool eof;
	bool paused; /* the loop stopped reading until the handler drains the queue */
	struct ff_err err;
	struct http_server *s;
};

/* A streamed reply in progress, inside its connection. */
struct http_stream {
	struct http_conn *c;
	const struct http_stream_ops *ops; /* NULL once the owner let go */
	void *arg;
};

struct http_conn {
	struct http_server *s;
	struct http_stream stream;
	struct bufferevent *bev;
	http_parser parser;
	enum phase phase;
	enum action action;
	struct http_req *req;
	struct ff_buf url, hname, hval;
	bool in_value;
	size_t head_bytes;
	int64_t since_ms; /* the phase's start */
	bool first;	  /* no request on this connection yet */
	bool has_body, message_done, keep_alive, close_after;
	bool handling; /* req is with its handler */
	bool dead;     /* the socket is gone; freed when the handler gives req back */
	bool read_paused;
	int64_t window_ms;
	uint64_t window_bytes, body_bytes;
	int cut_status; /* the loop cut a streamed body (408, 413): this replaces the reply */
	char cut_msg[128];
	size_t linger_bytes;
	char peer[48]; /* the client's address, for the audit log */
	LIST_ENTRY(http_conn) link;
};

struct http_server {
	struct event_base *base;
	struct app *app;
	struct http_limits lim;
	const struct http_route *routes;
	size_t nroutes;
	struct pool *pool;
	int max_streams, streams;
	struct evconnlistener *listener;
	struct event *tick, *wake;
	LIST_HEAD(, http_conn) conns;
	long nconns, inflight;
	/* Requests handed back by other threads, and whether a pipe asked for more. */
	pthread_mutex_t mu;
	struct done {
		struct http_req *r;
		struct done *next;
	} * done;
	atomic_bool resume;
	bool draining;
	int64_t drain_deadline;
	void (*drained)(void *);
	void *drained_arg;
};

static const http_parser_settings settings;
static void conn_feed(struct http_conn *c);
static void conn_free(struct http_conn *c);

static const char *reason_for(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

const char *http_method_name(enum ff_http_method m)
{
	switch (m) {
	case HTTP_M_GET: return "GET";
	case HTTP_M_POST: return "POST";
	case HTTP_M_DELETE: return "DELETE";
	case HTTP_M_OPTIONS: return "OPTIONS";
	default: return "OTHER";
	}
}

/* ---- requests ---- */

static struct http_req *req_new(struct http_conn *c)
{
	struct http_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->app = c->s->app;
	r->conn = c;
	r->content_length = UINT64_MAX;
	r->reply_fd = -1;
	r->t0_ms = ff_now_ms();
	r->t0_us = ff_now_us();
	r->t0_wall_us = ff_wall_us();
	TAILQ_INIT(&r->headers);
	TAILQ_INIT(&r->query);
	TAILQ_INIT(&r->reply_headers);
	ff_buf_init(&r->body, c->s->lim.max_json_bytes);
	return r;
}

static void pipe_free(struct http_pipe *p)
{
	if (!p)
		return;
	evbuffer_free(p->q);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static void req_free(struct http_req *r)
{
	if (!r)
		return;
	evhttp_clear_headers(&r->headers);
	evhttp_clear_headers(&r->query);
	evhttp_clear_headers(&r->reply_headers);
	if (r->stream_ops) /* the head was never written */
		r->stream_ops->gone(r->stream_arg);
	ff_buf_release(&r->body);
	pipe_free(r->pipe);
	free(r->query_str);
	free(r->reply);
	if (r->reply_fd >= 0)
		close(r->reply_fd);
	free(r);
}

/* ---- the streamed body, shared with its handler's thread ---- */

static struct http_pipe *pipe_new(struct http_server *s)
{
	struct http_pipe *p = calloc(1, sizeof(*p));
	if (!p || !(p->q = evbuffer_new())) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->s = s;
	return p;
}

/* Queues body bytes; returns whether the loop should stop reading for now. */
static bool pipe_put(struct http_pipe *p, const char *data, size_t n)
{
	pthread_mutex_lock(&p->mu);
	if (!p->err.code && evbuffer_add(p->q, data, n) < 0)
		ff_err_set(&p->err, FF_ENOMEM, "out of memory");
	bool full = evbuffer_get_length(p->q) >= PIPE_HIGH;
	p->paused = p->paused || full;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return full;
}

/* The body's end (code 0) or why it will not come (the first reason is kept). */
static void pipe_end(struct http_pipe *p, int code, const char *msg)
{
	pthread_mutex_lock(&p->mu);
	if (code && !p->err.code)
		ff_err_set(&p->err, code, "%s", msg);
	p->eof = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static size_t pipe_queued(struct http_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	size_t n = evbuffer_get_length(p->q);
	pthread_mutex_unlock(&p->mu);
	return n;
}

long http_body_read(struct http_req *r, void *buf, size_t n, struct ff_err *err)
{
	struct http_pipe *p = r->pipe;
	long got;
	bool resume = false;
	pthread_mutex_lock(&p->mu);
	while (!evbuffer_get_length(p->q) && !p->eof && !p->err.code)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->err.code) {
		*err = p->err;
		got = p->err.code;
	} else {
		got = evbuffer_remove(p->q, buf, n);
		if (p->paused && evbuffer_get_length(p->q) < PIPE_LOW) {
			p->paused = false;
			resume = true;
		}
	}
	pthread_mutex_unlock(&p->mu);
	if (resume) {
		atomic_store(&p->s->resume, true);
		event_active(p->s->wake, EV_READ, 0);
	}
	return got;
}

/* ---- replies ---- */

void http_defer(struct http_req *r)
{
	/* the handler's thread learns it through its own flag: once the request is handed
	 * on, it may be answered and freed before the handler has even returned */
	if (r->deferred)
		*r->deferred = true;
	r->deferred = NULL;
	r->db = NULL;
}

void http_complete(struct http_req *r)
{
	struct http_server *s = r->conn->s;
	struct done *d = malloc(sizeof(*d));
	pthread_mutex_lock(&s->mu);
	if (d) {
		*d = (struct done){r, s->done};
		s->done = d;
	} else {
		ff_error("out of memory handing back request %s", r->id); /* its client times out */
	}
	pthread_mutex_unlock(&s->mu);
	event_active(s->wake, EV_READ, 0);
}

static void free_reply(const void *data, size_t len, void *arg)
{
	(void)len, (void)arg;
	free((void *)data);
}

/* The request, as the audit log keeps it. */
static void audit(struct http_conn *c, const struct http_req *r, size_t bytes_out)
{
	if (!c->s->lim.audit)
		return;
	struct audit_entry e = {.at_us = r->t0_wall_us,
				.method = http_method_name(r->method),
				.route = r->route ? r->route->pattern : NULL,
				.status = r->status,
				.bytes_in = c->head_bytes + c->body_bytes,
				.bytes_out = bytes_out,
				.duration_ms = (double)(ff_now_us() - r->t0_us) / 1000.0};
	memcpy(e.key_id, r->key_id, sizeof(e.key_id));
	memcpy(e.request_id, r->id, sizeof(e.request_id));
	memcpy(e.client, c->peer, sizeof(e.client));
	audit_record(c->s->lim.audit, &e);
}

/* The run a request is about, for its log line: the one it made, or a run route's {id}. */
static const char *run_of(const struct http_req *r)
{
	if (r->run_id[0])
		return r->run_id;
	const char *p = r->route ? r->route->pattern : "";
	if ((!strncmp(p, "/api/v1/runs/{id}", 17) ||
	     !strncmp(p, "/api/v1/dead-letters/{id}", 25)) &&
	    r->params[0] && ff_uuid_valid(r->params[0]))
		return r->params[0];
	return NULL;
}

/* Writes r's reply and frees r; the connection goes on to its next request or closes. */
static void conn_respond(struct http_conn *c, struct http_req *r)
{
	struct http_server *s = c->s;
	if (c->handling) {
		c->handling = false;
		s->inflight--;
		if (r->pipe)
			s->streams--;
	}
	if (c->dead) {
		if (c->req == r)
			c->req = NULL;
		req_free(r);
		conn_free(c);
		return;
	}
	if (c->cut_status) {
		struct evkeyval *h;
		while ((h = TAILQ_FIRST(&r->reply_headers)))
			evhttp_remove_header(&r->reply_headers, h->key);
		http_reply_status(r, c->cut_status, c->cut_status == 408 ? "timeout" : "too_big",
				  NULL, c->cut_msg);
	}
	if (!r->status)
		http_reply_fail(r, FF_EINTERNAL, NULL, "the handler gave no reply");
	if (!c->message_done || !c->keep_alive || s->draining)
		c->close_after = true;
	if (r->pipe)
		pipe_end(r->pipe, FF_EINVAL, "the request was answered");

	bool streamed = r->stream_ops && !c->cut_status;
	if (streamed)
		c->close_after = true; /* a stream is the connection's last reply */
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t out_before = evbuffer_get_length(out);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", r->status,
			    reason_for(r->status),
			    r->reply_type ? r->reply_type : "application/json");
	if (streamed)
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\nX-Accel-Buffering: no\r\n");
	else if (r->status != 204 && r->status != 304) /* neither may say a length */
		evbuffer_add_printf(out, "Content-Length: %zu\r\n", r->reply_len);
	/* a tagged reply may be kept, if asked for again (http_etag); any other, never */
	bool tagged = evhttp_find_header(&r->reply_headers, "ETag") != NULL;
	evbuffer_add_printf(out, "X-Request-Id: %s\r\nCache-Control: %s\r\n",
			    r->id[0] ? r->id : "-", tagged ? "no-cache" : "no-store");
	if (r->cors_origin)
		evbuffer_add_printf(out,
				    "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
				    "Access-Control-Expose-Headers: X-Request-Id, Retry-After, "
				    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, "
				    "X-FF-Logs-Truncated, ETag, X-FF-Cache\r\n",
				    r->cors_origin);
	struct evkeyval *h;
	TAILQ_FOREACH(h, &r->reply_headers, next)
	evbuffer_add_printf(out, "%s: %s\r\n", h->key, h->value);
	evbuffer_add_printf(out, "%s\r\n", c->close_after ? "Connection: close\r\n" : "");
	if (r->reply_fd >= 0) {
		if (evbuffer_add_file(out, r->reply_fd, 0, (ev_off_t)r->reply_len) == 0)
			r->reply_fd = -1; /* the buffer closes it once sent */
		else
			c->close_after = true; /* the head went out: cut, not a wrong length */
	} else if (r->reply_len &&
		   evbuffer_add_reference(out, r->reply, r->reply_len, free_reply, NULL) == 0) {
		r->reply = NULL;
	} else if (r->reply_len) {
		evbuffer_add(out, r->reply, r->reply_len);
	}
	enum ff_log_level lvl = r->status >= 500 ? FF_LOG_WARN : FF_LOG_INFO;
	if (lvl >= ff_log_min_level)
		ff_log_ids(lvl, r->id, run_of(r), "%s %s %d %lldms", http_method_name(r->method),
			   r->path[0] ? r->path : "-", r->status,
			   (long long)(ff_now_ms() - r->t0_ms));
	audit(c, r, evbuffer_get_length(out) - out_before);
	metrics_request(s->app ? s->app->metrics : NULL, r->route, r->status,
			(double)(ff_now_us() - r->t0_us) / 1e6);
	if (c->req == r)
		c->req = NULL;
	c->since_ms = ff_now_ms();
	bufferevent_enable(c->bev, EV_WRITE);
	if (streamed) {
		c->stream = (struct http_stream){c, r->stream_ops, r->stream_arg};
		r->stream_ops = NULL;
		req_free(r);
		c->phase = PH_STREAM;
		c->linger_bytes = 0;
		/* reading goes on, to see the client leave (on_read drops what it sends) */
		bufferevent_enable(c->bev, EV_READ);
		c->stream.ops->open(c->stream.arg, &c->stream);
		return;
	}
	req_free(r);
	c->phase = PH_WRITE;
	bufferevent_disable(c->bev, EV_READ);
}

int http_stream_send(struct http_stream *st, struct evbuffer *data)
{
	struct http_conn *c = st->c;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t n = evbuffer_get_length(data);
	if (evbuffer_get_length(out) > HTTP_STREAM_BEHIND) {
		ff_warn("a stream's client fell %zu bytes behind: cut", evbuffer_get_length(out));
		conn_free(c);
		return -1;
	}
	if (n) {
		evbuffer_add_printf(out, "%zx\r\n", n);
		evbuffer_add_buffer(out, data);
		evbuffer_add(out, "\r\n", 2);
	}
	return 0;
}

void http_stream_end(struct http_stream *st)
{
	struct http_conn *c = st->c;
	st->ops = NULL;
	evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
	c->phase = PH_WRITE;
	c->since_ms = ff_now_ms();
	bufferevent_disable(c->bev, EV_READ);
}

/* A reply the loop makes itself (the request may not even have begun). */
static void conn_fail(struct http_conn *c, int status, const char *code, const char *msg)
{
	if (c->handling) { /* a streamed body: its handler stops, and this is the reply */
		if (!c->req->pipe)
			return;
		c->cut_status = status;
		snprintf(c->cut_msg, sizeof(c->cut_msg), "%s", msg);
		pipe_end(c->req->pipe, status == 408 ? FF_ETIMEOUT : FF_ETOOBIG, msg);
		c->read_paused = true;
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	if (!c->req && !(c->req = req_new(c))) {
		conn_free(c);
		return;
	}
	if (!c->req->id[0])
		ff_uuid_new(c->req->id);
	c->close_after = true;
	c->message_done = false;
	http_reply_status(c->req, status, code, NULL, msg);
	conn_respond(c, c->req);
}

/* ---- the checks of a request's head ---- */

/* The caller's key: 401 without a known one, 403 without the route's scope, 429 past its
 * rate. Every judged request carries RateLimit-* headers (IETF draft), a 429 Retry-After. */
static bool authorised(struct http_server *s, struct http_req *r)
{
	struct key_verdict v;
	keys_check(s->lim.keys, http_header(r, "Authorization"), (enum key_scope)r->route->access,
		   &v);
	memcpy(r->key_id, v.id, sizeof(r->key_id));
	if (v.code == FF_EAUTH) {
		http_add_header(r, "WWW-Authenticate", "Bearer");
		http_reply_fail(r, FF_EAUTH, NULL,
				"a valid API key is required (Authorization: Bearer <key>)");
		return false;
	}
	if (v.code == FF_EFORBIDDEN) {
		const char *scope = key_scope_name((enum key_scope)r->route->access);
		http_reply_fail(r, FF_EFORBIDDEN, "scope", "this key lacks the '%s' scope", scope);
		return false;
	}
	char n[24];
	snprintf(n, sizeof(n), "%.0f", v.limit);
	http_add_header(r, "RateLimit-Limit", n);
	snprintf(n, sizeof(n), "%.0f", v.remaining);
	http_add_header(r, "RateLimit-Remaining", n);
	snprintf(n, sizeof(n), "%.0f", ceil(v.reset_s));
	http_add_header(r, "RateLimit-Reset", n);
	if (v.limited) {
		snprintf(n, sizeof(n), "%.0f", ceil(v.retry_after_s));
		http_add_header(r, "Retry-After", n);
		http_reply_status(r, 429, "rate_limited", NULL,
				  "this key is over its rate limit: retry after the Retry-After "
				  "seconds");
		return false;
	}
	return true;
}

static void set_request_id(struct http_req *r)
{
	const char *given = http_header(r, "X-Request-Id");
	size_t n = given ? strlen(given) : 0;
	bool ok = n > 0 && n < sizeof(r->id);
	for (size_t i = 0; ok && i < n; i++)
		ok = (given[i] >= 'a' && given[i] <= 'z') || (given[i] >= 'A' && given[i] <= 'Z') ||
		     (given[i] >= '0' && given[i] <= '9') || given[i] == '-' || given[i] == '_' ||
		     given[i] == '.';
	if (ok)
		memcpy(r->id, given, n + 1);
	else
		ff_uuid_new(r->id);
}

/* Whether the Content-Type's media type (parameters aside) is one of types. */
static bool media_type_in(const char *ct, const char *const *types)
{
	if (!ct)
		return false;
	size_t n = strcspn(ct, "; \t");
	for (; *types; types++)
		if (strlen(*types) == n && strncasecmp(ct, *types, n) == 0)
			return true;
	return false;
}

static const char *const json_types[] = {"application/json", NULL};
static const char *const target_types[] = {"application/x-tar",
					   "application/tar",
					   "application/gzip",
					   "application/x-gzip",
					   "application/x-compressed-tar",
					   NULL};

/* Splits the URL into the decoded path and the raw query. 0, or the status to refuse with. */
static int take_url(struct http_conn *c, struct http_req *r)
{
	struct http_parser_url u;
	http_parser_url_init(&u);
	if (http_parser_parse_url(c->url.data, c->url.len, 0, &u) != 0 ||
	    !(u.field_set & (1 << UF_PATH)))
		return 400;
	char raw[sizeof(r->path)];
	size_t plen = u.field_data[UF_PATH].len, dlen = 0;
	if (plen >= sizeof(raw))
		return 414;
	memcpy(raw, c->url.data + u.field_data[UF_PATH].off, plen);
	raw[plen] = '\0';
	char *decoded = evhttp_uridecode(raw, 0, &dlen);
	bool ok = decoded && strlen(decoded) == dlen && dlen < sizeof(r->path);
	if (ok)
		memcpy(r->path, decoded, dlen + 1);
	free(decoded);
	if (!ok)
		return 400;
	if (u.field_set & (1 << UF_QUERY) &&
	    !(r->query_str =
		  strndup(c->url.data + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len)))
		return 500;
	return 0;
}

/* The name of the i-th {name} in pattern ("" past the last), for naming it in an error. */
static void param_name(const char *pattern, size_t i, char *out, size_t n)
{
	const char *p = pattern;
	out[0] = '\0';
	for (size_t k = 0; (p = strchr(p, '{')); k++, p++)
		if (k == i) {
			snprintf(out, n, "%.*s", (int)strcspn(p + 1, "*}"), p + 1);
			return;
		}
}

/* The path's parameters and the query, judged before the handler: every value well-formed
 * utf-8 (422 naming it: the database would refuse it with a 500), every query parameter
 * one the route takes, given once unless the route's list stars it ("label*": repeatable)
 * (400: a misspelt filter must not silently match all). */
static bool judge_params(struct http_req *r)
{
	char name[64];
	for (size_t i = 0; i < HTTP_MAX_PARAMS && r->params[i]; i++)
		if (!ff_utf8_valid(r->params[i], strlen(r->params[i]))) {
			param_name(r->route->pattern, i, name, sizeof(name));
			http_reply_fail(r, FF_EVALIDATE, name, "%s is not valid utf-8", name);
			return false;
		}
	if (!r->query_str)
		return true;
	r->query_parsed = 1;
	if (evhttp_parse_query_str(r->query_str, &r->query) < 0) {
		http_reply_fail(r, FF_EINVAL, NULL, "the query string is malformed");
		return false;
	}
	struct evkeyval *kv;
	TAILQ_FOREACH(kv, &r->query, next)
	{
		char starred[sizeof(name) + 1];
		snprintf(name, sizeof(name), "%s", kv->key);
		snprintf(starred, sizeof(starred), "%s*", name);
		bool repeatable = ff_list_has(r->route->query, ' ', starred);
		if (!repeatable && !ff_list_has(r->route->query, ' ', kv->key)) {
			http_reply_fail(
			    r, FF_EINVAL, name, "unknown query parameter '%s' (%s%s)", name,
			    r->route->query ? "this route takes: " : "this route takes none",
			    r->route->query ? r->route->query : "");
			return false;
		}
		if (!repeatable && evhttp_find_header(&r->query, kv->key) != kv->value) {
			http_reply_fail(r, FF_EINVAL, name, "query parameter '%s' given twice",
					name);
			return false;
		}
		if (!ff_utf8_valid(kv->value, strlen(kv->value))) {
			http_reply_fail(r, FF_EVALIDATE, name, "%s is not valid utf-8", name);
			return false;
		}
	}
	return true;
}

static enum ff_http_method method_of(unsigned m)
{
	switch (m) {
	case HTTP_GET: return HTTP_M_GET;
	case HTTP_POST: return HTTP_M_POST;
	case HTTP_DELETE: return HTTP_M_DELETE;
	case HTTP_OPTIONS: return HTTP_M_OPTIONS;
	default: return HTTP_M_OTHER;
	}
}

/* The methods in allowed, as an Allow header wants them. */
static void allow_list(unsigned allowed, char *out, size_t n)
{
	out[0] = '\0';
	for (unsigned m = HTTP_M_GET; m < HTTP_M_OPTIONS; m <<= 1)
		if (allowed & m)
			snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? ", " : "",
				 http_method_name((enum ff_http_method)m));
}

/* CORS: the request's Origin when FF_CORS_ORIGINS lets browsers on it call the API ("*":
 * any). Keys are bearer tokens, never cookies, so no reply ever allows credentials. */
static const char *cors_origin(const struct http_server *s, struct http_req *r)
{
	const char *origin = http_header(r, "Origin"), *list = s->lim.cors_origins;
	if (!origin || !list || !*list)
		return NULL;
	if (!strcmp(list, "*"))
		return "*";
	return ff_list_has(list, ',', origin) ? origin : NULL;
}

/* A preflight (OPTIONS with Origin and Access-Control-Request-Method): 204 with what the
 * path allows for an allowed origin, 403 for another. A plain OPTIONS: 204 with Allow. */
static void preflight(struct http_req *r, unsigned allowed)
{
	char allow[48];
	allow_list(allowed, allow, sizeof(allow));
	bool asked = http_header(r, "Origin") && http_header(r, "Access-Control-Request-Method");
	if (asked && !r->cors_origin) {
		http_reply_fail(r, FF_EFORBIDDEN, "Origin",
				"this origin is not in FF_CORS_ORIGINS");
		return;
	}
	http_add_header(r, "Allow", allow);
	if (asked) {
		http_add_header(r, "Access-Control-Allow-Methods", allow);
		http_add_header(r, "Access-Control-Allow-Headers",
				"Authorization, Content-Type, Idempotency-Key, X-Request-Id");
		http_add_header(r, "Access-Control-Max-Age", "600");
	}
	http_reply_bytes(r, 204, "application/json", NULL, 0);
}

/* Judges the head: route, method, key, body type and size. On a refusal the reply is filled
 * in and false returned. */
static bool judge(struct http_conn *c, struct http_req *r)
{
	struct http_server *s = c->s;
	const http_parser *p = &c->parser;
	set_request_id(r);
	r->method = method_of(p->method);
	int st = take_url(c, r);
	if (st) {
		http_reply_status(r, st, st == 414 ? "too_big" : "invalid", NULL,
				  st == 414 ? "the request path is too long" : "bad request path");
		return false;
	}
	unsigned allowed = 0;
	for (size_t i = 0; i < s->nroutes && !r->route; i++) {
		memcpy(r->path_buf, r->path, sizeof(r->path_buf));
		memset(r->params, 0, sizeof(r->params));
		if (!http_route_match(s->routes[i].pattern, r->path_buf, r->params))
			continue;
		allowed |= s->routes[i].method;
		if (s->routes[i].method == r->method)
			r->route = &s->routes[i];
	}
	r->cors_origin = cors_origin(s, r);
	if (!r->route && !allowed) {
		http_reply_fail(r, FF_ENOTFOUND, NULL, "no such route: %.200s", r->path);
		return false;
	}
	if (!r->route && r->method == HTTP_M_OPTIONS) {
		preflight(r, allowed);
		return false;
	}
	if (!r->route) {
		char allow[48];
		allow_list(allowed, allow, sizeof(allow));
		http_add_header(r, "Allow", allow);
		http_reply_status(r, 405, "method_not_allowed", NULL,
				  "method not allowed on this path");
		return false;
	}
	if (r->route->access != HTTP_PUBLIC && !authorised(s, r))
		return false;
	if (!judge_params(r))
		return false;
	if (p->flags & F_CONTENTLENGTH)
		r->content_length = p->content_length;
	if (!c->has_body)
		return true;
	const char *ct = http_header(r, "Content-Type");
	bool target = r->route->body == HTTP_BODY_TARGET;
	size_t max = target ? s->lim.max_target_bytes : s->lim.max_json_bytes;
	if (r->route->body != HTTP_BODY_NONE &&
	    !media_type_in(ct, target ? target_types : json_types)) {
		http_reply_status(r, 415, "unsupported_media_type", "Content-Type",
				  target
				      ? "send the target as application/x-tar or application/gzip"
				      : "send the body as application/json");
		return false;
	}
	if (r->content_length != UINT64_MAX && r->content_length > max) {
		http_reply_fail(r, FF_ETOOBIG, NULL, "request body exceeds %zu bytes", max);
		return false;
	}
	if (target && s->streams >= s->max_streams) {
		http_add_header(r, "Retry-After", "1");
		http_reply_fail(r, FF_EUNAVAIL, NULL, "too many uploads at once (at most %d)",
				s->max_streams);
		return false;
	}
	return true;
}

/* ---- the parser's callbacks ---- */

static int on_message_begin(http_parser *p)
{
	struct http_conn *c = p->data;
	if (!(c->req = req_new(c)))
		return -1;
	if (!c->first)
		c->since_ms = ff_now_ms(); /* the first request's head is timed from the accept */
	c->phase = PH_HEAD;
	c->head_bytes = 0;
	c->in_value = c->has_body = c->message_done = false;
	c->body_bytes = 0;
	ff_buf_release(&c->url);
	return 0;
}

static int count_head(struct http_conn *c, size_t n)
{
	c->head_bytes += n;
	return c->head_bytes > MAX_HEAD ? -1 : 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;
	return count_head(c, n) < 0 || ff_buf_append(&c->url, at, n) < 0 ? -1 : 0;
}

static void commit_header(struct http_conn *c)
{
	if (c->hname.len)
		evhttp_add_header(&c->req->headers, ff_buf_str(&c->hname), ff_buf_str(&c->hval));
	ff_buf_release(&c->hname);
	ff_buf_release(&c->hval);
	c->in_value = false;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;
	if (c->in_value)
		commit_header(c);
	return count_head(c, n) < 0 || ff_buf_append(&c->hname, at, n) < 0 ? -1 : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;
	c->in_value = true;
	return count_head(c, n) < 0 || ff_buf_append(&c->hval, at, n) < 0 ? -1 : 0;
}

static int on_headers_complete(http_parser *p)
{
	struct http_conn *c = p->data;
	struct http_req *r = c->req;
	commit_header(c);
	c->first = false;
	c->has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length);
	c->phase = PH_BODY;
	c->window_ms = ff_now_ms();
	c->window_bytes = 0;
	if (!judge(c, r)) {
		/* With no body to leave unread, the refusal waits for the message's end and the
		 * connection is kept. */
		if (c->has_body) {
			c->action = ACT_REFUSE;
			http_parser_pause(p, 1);
		}
		return 0;
	}
	const char *expect = http_header(r, "Expect");
	if (c->has_body && expect && strcasecmp(expect, "100-continue") == 0)
		bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (r->route->where == HTTP_STREAMED) {
		c->action = ACT_SPAWN;
		http_parser_pause(p, 1);
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;
	struct http_req *r = c->req;
	c->body_bytes += n;
	c->window_bytes += n;
	if (r->pipe) {
		if (c->body_bytes > c->s->lim.max_target_bytes) {
			char msg[96];
			snprintf(msg, sizeof(msg), "request body exceeds %zu bytes",
				 c->s->lim.max_target_bytes);
			conn_fail(c, 413, "too_big", msg);
			http_parser_pause(p, 1);
		} else if (c->handling && pipe_put(r->pipe, at, n)) {
			c->read_paused = true;
			bufferevent_disable(c->bev, EV_READ);
		}
		return 0;
	}
	if (r->route->body == HTTP_BODY_NONE) /* a body a route ignores is held to the JSON limit */
		return c->body_bytes > c->s->lim.max_json_bytes ? -1 : 0;
	if (ff_buf_append(&r->body, at, n) < 0) {
		http_reply_fail(r, FF_ETOOBIG, NULL, "request body exceeds %zu bytes", r->body.max);
		c->action = ACT_REFUSE;
		http_parser_pause(p, 1);
	}
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_conn *c = p->data;
	c->message_done = true;
	c->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	if (c->req->pipe) {
		pipe_end(c->req->pipe, 0, NULL);
		c->phase = PH_WAIT;
	} else {
		c->action = c->req->status ? ACT_REFUSE : ACT_DISPATCH; /* refused on its head */
	}
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- connections ---- */

static void dispatch(struct http_conn *c)
{
	struct http_req *r = c->req;
	struct http_server *s = c->s;
	c->phase = PH_WAIT;
	if (r->route->where == HTTP_CACHED && s->app && cache_reply(s->app->cache, r)) {
		conn_respond(c, r); /* a finished run's reply, kept: no database thread */
		return;
	}
	if (r->route->where == HTTP_ON_LOOP) {
		r->route->handler(r);
		conn_respond(c, r);
		return;
	}
	c->handling = true;
	s->inflight++;
	bufferevent_disable(c->bev, EV_READ); /* a pipelined request waits for this reply */
	if (r->route->where == HTTP_ON_POOL && r->route->on_loop && r->route->on_loop(r))
		pool_run_here(r); /* its reply comes through on_wake, as a database thread's */
	else
		pool_push(s->pool, r);
}

static void spawn_stream(struct http_conn *c)
{
	struct http_req *r = c->req;
	struct ff_err err;
	if (!(r->pipe = pipe_new(c->s))) {
		http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
		c->message_done = false;
		conn_respond(c, r);
		return;
	}
	c->handling = true;
	c->s->inflight++;
	c->s->streams++;
	if (pool_spawn(c->s->pool, r, &err) < 0) {
		http_reply_error(r, &err);
		conn_respond(c, r);
		return;
	}
	http_parser_pause(&c->parser, 0);
}

/* Parses what the input holds, until the parser pauses for a reply or the input is empty. */
static void conn_feed(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (!c->dead && c->phase != PH_WAIT && c->phase != PH_WRITE && c->phase != PH_LINGER &&
	       c->phase != PH_STREAM && !c->read_paused && evbuffer_get_length(in)) {
		struct evbuffer_iovec v;
		evbuffer_peek(in, -1, NULL, &v, 1);
		size_t n = http_parser_execute(&c->parser, &settings, v.iov_base, v.iov_len);
		evbuffer_drain(in, n);
		enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
		enum action a = c->action;
		c->action = ACT_NONE;
		if (e != HPE_OK && e != HPE_PAUSED) {
			if (c->phase == PH_WRITE || c->phase == PH_LINGER || c->cut_status)
				return; /* already answering */
			if (c->head_bytes > MAX_HEAD)
				conn_fail(c, 431, "too_big", "the request head exceeds 64 KiB");
			else if (c->url.err)
				conn_fail(c, 414, "too_big", "the request path is too long");
			else if (e == HPE_CB_body)
				conn_fail(c, 413, "too_big", "request body too large");
			else
				conn_fail(c, 400, "invalid", http_errno_description(e));
			return;
		}
		if (a == ACT_REFUSE) {
			conn_respond(c, c->req);
		} else if (a == ACT_SPAWN) {
			spawn_stream(c);
		} else if (a == ACT_DISPATCH) {
			dispatch(c);
		} else if (e == HPE_PAUSED && c->phase != PH_WAIT) {
			http_parser_pause(&c->parser, 0); /* a pause whose action is done */
		}
	}
}

static void conn_free(struct http_conn *c)
{
	if (c->handling) { /* its handler still has the request: free both when it is back */
		if (!c->dead) {
			c->dead = true;
			if (c->req && c->req->pipe)
				pipe_end(c->req->pipe, FF_EINVAL, "the client went away");
			bufferevent_free(c->bev);
			c->bev = NULL;
		}
		return;
	}
	if (c->stream.ops) {
		const struct http_stream_ops *ops = c->stream.ops;
		c->stream.ops = NULL;
		ops->gone(c->stream.arg);
	}
	if (c->bev)
		bufferevent_free(c->bev);
	req_free(c->req);
	ff_buf_release(&c->url);
	ff_buf_release(&c->hname);
	ff_buf_release(&c->hval);
	LIST_REMOVE(c, link);
	c->s->nconns--;
	free(c);
}

static void conn_next(struct http_conn *c)
{
	if (c->close_after) {
		/* Shut the write side, then read and drop a little of what the client still sends,
		 * so that closing with unread bytes does not reset the connection before the
		 * client has read the reply. */
		shutdown(bufferevent_getfd(c->bev), SHUT_WR);
		c->phase = PH_LINGER;
		c->since_ms = ff_now_ms();
		c->linger_bytes = 0;
		bufferevent_enable(c->bev, EV_READ);
		return;
	}
	c->phase = PH_IDLE;
	c->since_ms = ff_now_ms();
	c->cut_status = 0;
	c->read_paused = false;
	http_parser_pause(&c->parser, 0);
	bufferevent_enable(c->bev, EV_READ);
	conn_feed(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;
	if (c->phase == PH_LINGER || c->phase == PH_STREAM) {
		struct evbuffer *in = bufferevent_get_input(bev);
		c->linger_bytes += evbuffer_get_length(in);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (c->linger_bytes > LINGER_BYTES) /* a stream's client has nothing to send */
			conn_free(c);
		return;
	}
	conn_feed(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;
	(void)bev;
	if (c->phase == PH_WRITE)
		conn_next(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *c = arg;
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct http_server *s = arg;
	(void)l, (void)len;
	/* Past twice the cap not even a refusal is written. */
	if (s->nconns >= 2 * s->lim.max_connections) {
		evutil_closesocket(fd);
		return;
	}
	/* A reply is written in one go: with Nagle on, its last segment would wait for the
	 * client's delayed ACK (40 ms on Linux) whenever the reply spans several. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct http_conn *c = calloc(1, sizeof(*c));
	if (!c || !(c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->s = s;
	c->first = true;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, c->peer, sizeof(c->peer));
	c->since_ms = ff_now_ms();
	ff_buf_init(&c->url, MAX_URL);
	ff_buf_init(&c->hname, MAX_HEAD);
	ff_buf_init(&c->hval, MAX_HEAD);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	LIST_INSERT_HEAD(&s->conns, c, link);
	s->nconns++;
	struct timeval wt = {WRITE_TIMEOUT, 0};
	bufferevent_set_timeouts(c->bev, NULL, &wt);
	bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIGH);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	if (s->nconns > s->lim.max_connections || s->draining) {
		conn_fail(c, 503, "unavailable",
			  s->draining ? "the controller is shutting down" : "too many connections");
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
}

/* Requests handed back by handler threads, and streamed bodies their handlers drained. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;
	(void)fd, (void)what;
	pthread_mutex_lock(&s->mu);
	struct done *d = s->done;
	s->done = NULL;
	pthread_mutex_unlock(&s->mu);
	/* The list is newest first: answer in arrival order. */
	struct done *rev = NULL;
	while (d) {
		struct done *next = d->next;
		d->next = rev;
		rev = d;
		d = next;
	}
	for (d = rev; d;) {
		struct done *next = d->next;
		conn_respond(d->r->conn, d->r);
		free(d);
		d = next;
	}
	if (atomic_exchange(&s->resume, false)) {
		struct http_conn *c;
		LIST_FOREACH(c, &s->conns, link)
		{
			if (!c->read_paused || c->dead || c->cut_status || !c->req ||
			    !c->req->pipe || pipe_queued(c->req->pipe) >= PIPE_LOW)
				continue;
			c->read_paused = false;
			c->window_ms = ff_now_ms(); /* the pause was ours, not the client's */
			c->window_bytes = 0;
			bufferevent_enable(c->bev, EV_READ);
			conn_feed(c);
		}
	}
}

/* The deadlines: a head that takes too long, a body that comes too slowly, an idle
 * connection, a lingering close. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;
	int64_t now = ff_now_ms();
	(void)fd, (void)what;
	struct http_conn *c, *next;
	for (c = LIST_FIRST(&s->conns); c; c = next) {
		next = LIST_NEXT(c, link);
		if (c->dead)
			continue;
		int64_t age = now - c->since_ms;
		switch (c->phase) {
		case PH_IDLE:
			if (c->first && age > s->lim.header_timeout_ms)
				conn_fail(c, 408, "timeout", "no request in time");
			else if (!c->first && (age > s->lim.idle_timeout_s * 1000 || s->draining))
				conn_free(c);
			break;
		case PH_HEAD:
			if (age > s->lim.header_timeout_ms)
				conn_fail(c, 408, "timeout", "the request head took too long");
			break;
		case PH_BODY:
			if (c->read_paused || now - c->window_ms < s->lim.body_window_ms)
				break;
			if (c->window_bytes * 1000 <
			    (uint64_t)s->lim.min_body_bps * (uint64_t)s->lim.body_window_ms) {
				conn_fail(c, 408, "timeout", "the request body came too slowly");
				break;
			}
			c->window_ms = now;
			c->window_bytes = 0;
			break;
		case PH_LINGER:
			if (age > LINGER_MS)
				conn_free(c);
			break;
		default: break;
		}
	}
	if (s->draining && s->drained && (s->inflight == 0 || now > s->drain_deadline)) {
		bool writing = false;
		LIST_FOREACH(c, &s->conns, link)
		writing = writing || c->phase == PH_WRITE;
		if (!writing || now > s->drain_deadline) {
			void (*done)(void *) = s->drained;
			s->drained = NULL;
			done(s->drained_arg);
		}
	}
}

struct http_server *http_start(struct event_base *base, struct app *app,
			       const struct http_limits *limits, const struct http_route *routes,
			       size_t nroutes, struct pool *pool, int max_streams,
			       struct ff_err *err)
{
	char host[256];
	int port;
	if (ff_config_split_hostport(limits->listen, host, sizeof(host), &port, err) < 0)
		return NULL;
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s) {
		ff_err_set(err, FF_ENOMEM, "out of memory");
		return NULL;
	}
	*s = (struct http_server){.base = base,
				  .app = app,
				  .lim = *limits,
				  .routes = routes,
				  .nroutes = nroutes,
				  .pool = pool,
				  .max_streams = max_streams};
	LIST_INIT(&s->conns);
	pthread_mutex_init(&s->mu, NULL);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (evutil_inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sin.sin_addr) != 1) {
		ff_err_set(err, FF_EINVAL, "FF_LISTEN: '%s' is not an IPv4 address", host);
		http_free(s);
		return NULL;
	}
	struct timeval tick = {0, TICK_MS * 1000};
	s->listener =
	    evconnlistener_new_bind(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
				    1024, (struct sockaddr *)&sin, sizeof(sin));
	s->tick = event_new(base, -1, EV_PERSIST, on_tick, s);
	s->wake = event_new(base, -1, EV_PERSIST, on_wake, s);
	if (!s->listener || !s->tick || !s->wake || event_add(s->tick, &tick) < 0) {
		ff_err_set(err, FF_EUNAVAIL, "cannot listen on %s", limits->listen);
		http_free(s);
		return NULL;
	}
	return s;
}

void http_drain(struct http_server *s, long timeout_ms, void (*done)(void *), void *arg)
{
	s->draining = true;
	s->drain_deadline = ff_now_ms() + timeout_ms;
	s->drained = done;
	s->drained_arg = arg;
	if (s->listener)
		evconnlistener_disable(s->listener);
	/* A stream is cut, not ended: its client sees the chunked body stop short and knows the
	 * run did not end (it follows again through another controller). */
	struct http_conn *c, *next;
	for (c = LIST_FIRST(&s->conns); c; c = next) {
		next = LIST_NEXT(c, link);
		if (c->phase == PH_STREAM)
			conn_free(c);
	}
}

void http_free(struct http_server *s)
{
	if (!s)
		return;
	on_wake(-1, 0, s); /* requests handed back after the loop stopped */
	while (!LIST_EMPTY(&s->conns)) {
		struct http_conn *c = LIST_FIRST(&s->conns);
		c->handling = false; /* the pool is stopped: nobody has its request */
		conn_free(c);
	}
	if (s->listener)
		evconnlistener_free(s->listener);
	if (s->tick)
		event_free(s->tick);
	if (s->wake)
		event_free(s->wake);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
