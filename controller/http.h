/* http — the controller's HTTP/1.1 server: connections on libevent bufferevents, requests
 * parsed by http-parser, and every request judged on its head (route, method, key,
 * Content-Type, Content-Length) before a byte of its body is read. Why not evhttp or
 * libmicrohttpd: docs/controller-http.md.
 *
 * Threads. The event loop owns the sockets and does only I/O, parsing and the checks of the
 * head. Handlers run where their route says: on the loop (answers from memory), on the pool
 * of database threads (pool.h), or, for uploads, on a thread of their own that reads the body
 * as it streams in. A handler fills in its reply (http_reply_*) and the loop writes it; a
 * handler that hands the request on (the submit batch) calls http_defer and whoever finishes
 * it calls http_complete. Every request ends in exactly one reply; a streamed reply (a run's
 * live logs and events: http_reply_stream) is one that goes on after its handler returned.
 *
 * Limits (struct http_limits): connections, the time a request head may take, a minimum
 * body rate, an idle keep-alive time, a body size per route. A request refused before its
 * body is read is answered with Connection: close and the body is never read. */
#ifndef HTTP_H
#define HTTP_H

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_buf.h"
#include "ff_err.h"
#include "audit.h"
#include "keys.h"

struct app;
struct evbuffer;
struct ff_db;
struct pool;
struct http_conn;
struct http_pipe;
struct http_stream;

/* A streamed reply's owner (http_reply_stream). open is called on the loop once the head is
 * written, with the stream to send on; gone, on the loop, once the client went away, the
 * server shut down or the stream fell too far behind (http_stream_send), or, without open,
 * when the head could never be written. After gone, the stream is not to be used. Neither
 * is called after the owner's own http_stream_end. */
struct http_stream_ops {
	void (*open)(void *arg, struct http_stream *st);
	void (*gone)(void *arg);
};

#define HTTP_MAX_PARAMS 4

enum ff_http_method {
	HTTP_M_GET = 1,
	HTTP_M_POST = 2,
	HTTP_M_DELETE = 4,
	HTTP_M_OPTIONS = 8, /* answered by the server itself: CORS preflights */
	HTTP_M_OTHER = 16,
};

/* Where a route's handler runs. */
enum ff_http_where {
	HTTP_ON_POOL = 0, /* a database thread (the default) */
	HTTP_ON_LOOP,	  /* the event loop itself: answers from memory, never blocks */
	HTTP_STREAMED,	  /* a thread of its own, reading the body as it arrives */
	HTTP_CACHED,	  /* a finished run's reply: from the result cache (cache.h) on the loop
			     when it holds it, else a database thread, which may keep it there */
};

/* The body a route accepts. */
enum http_body_kind {
	HTTP_BODY_NONE = 0, /* none; a body sent anyway must be JSON within the JSON limit */
	HTTP_BODY_JSON,	    /* application/json, at most limits.max_json_bytes */
	HTTP_BODY_TARGET,   /* a tar or tar.gz, at most limits.max_target_bytes, streamed */
};

struct http_req {
	struct app *app;
	struct ff_db *db; /* the database thread's connection while a pool handler runs */
	const struct http_route *route;
	char id[64];		 /* request id, echoed in X-Request-Id */
	char key_id[KEY_ID_LEN]; /* the caller's key, "" when none was recognised */
	char run_id[40];	 /* the run the request made, for its log line ("" for none;
				    a /runs/{id} route's is its {id}) */
	const char *cors_origin; /* the Origin the reply allows (FF_CORS_ORIGINS), or NULL */
	enum ff_http_method method;
	const char *params[HTTP_MAX_PARAMS]; /* {name} segments of the matched pattern */
	char path[1024];		     /* decoded path; params point into path_buf */
	char path_buf[1024];
	char *query_str; /* the raw query, or NULL */
	struct evkeyvalq headers;
	struct evkeyvalq query;
	int query_parsed;
	struct ff_buf body;	 /* a JSON route's body, whole once its handler runs */
	uint64_t content_length; /* UINT64_MAX when not given */
	struct http_pipe *pipe;	 /* a streamed route's body */
	/* The reply, filled in by the handler. */
	int status;
	const char *reply_type;
	char *reply;
	size_t reply_len;
	int reply_fd; /* a file whose first reply_len bytes are the body (http_reply_file), or -1 */
	struct evkeyvalq reply_headers;
	const struct http_stream_ops *stream_ops; /* a streamed reply's owner, or NULL */
	void *stream_arg;
	bool *deferred; /* the pool thread's flag while its handler runs (http_defer sets it) */
	/* The loop's side. */
	struct http_conn *conn;
	int64_t t0_ms;
	int64_t t0_us, t0_wall_us; /* for the audit log */
};

typedef void (*http_handler)(struct http_req *r);

/* What a route needs of the caller's key (keys.h has the scopes). */
enum http_access {
	HTTP_PUBLIC = 0, /* no key: the probes */
	HTTP_READ = KEY_READ,
	HTTP_SUBMIT = KEY_SUBMIT,
	HTTP_ADMIN = KEY_ADMIN,
};

struct http_route {
	enum ff_http_method method;
	const char *pattern; /* "/api/v1/runs/{id}": {x} matches one non-empty segment; {x*},
				as the last segment, the rest of the path, slashes included */
	http_handler handler;
	enum http_access access; /* the key scope it needs, or HTTP_PUBLIC */
	enum http_body_kind body;
	enum ff_http_where where;
	const char *query; /* the query parameters it takes, space-separated ("state limit");
			      "label*" may be given more than once; NULL: none. Any other is
			      refused (400) before the handler runs */
	/* For a database-thread route (HTTP_ON_POOL): whether this request needs no database
	 * and is cheap enough for the loop, which then runs the handler itself, saving the hop
	 * to a thread and back; the handler may still defer its reply (http_defer). NULL:
	 * always a database thread. */
	bool (*on_loop)(struct http_req *r);
};

struct http_limits {
	const char *listen;
	long max_connections;
	long header_timeout_ms; /* from a request's first byte (a connection's accept) to its head's
				   end */
	long idle_timeout_s;	/* a kept-open connection between requests */
	long min_body_bps;	/* a body must bring this many bytes a second ... */
	long body_window_ms;	/* ... averaged over each window this long */
	size_t max_json_bytes;
	size_t max_target_bytes;
	struct keys *keys;	  /* judges every non-public request's key and rate */
	struct audit *audit;	  /* records every answered request */
	const char *cors_origins; /* FF_CORS_ORIGINS: origins browsers may call from, comma-
				     separated, or "*"; "" for none */
};

struct http_server;

/* Serves routes on limits->listen from base; handlers on HTTP_ON_POOL run on pool, streamed
 * ones on threads of their own, at most max_streams at once (more answer 503). */
struct http_server *http_start(struct event_base *base, struct app *app,
			       const struct http_limits *limits, const struct http_route *routes,
			       size_t nroutes, struct pool *pool, int max_streams,
			       struct ff_err *err);
/* Stops accepting, closes idle connections, and calls done(arg) on the loop once every
 * request in progress got its reply written (or after timeout_ms). */
void http_drain(struct http_server *s, long timeout_ms, void (*done)(void *), void *arg);
void http_free(struct http_server *s); /* NULL-safe; the pool must be stopped first */

/* Ends a handler that returned without replying (http_defer): any thread. */
void http_defer(struct http_req *r);
void http_complete(struct http_req *r);

/* The body of a JSON route, or NULL for none; *len its length. */
const char *http_body(struct http_req *r, size_t *len);
/* The body as a JSON object; replies 400 itself and returns NULL when it is not one. */
cJSON *http_json_body(struct http_req *r);
/* A streamed route's body: up to n bytes as they arrive; 0 at its end; a negative FF_E*
 * with err set when the client went away, sent too much (FF_ETOOBIG) or too slowly. */
long http_body_read(struct http_req *r, void *buf, size_t n, struct ff_err *err);

/* A query parameter, or NULL. */
const char *http_query(struct http_req *r, const char *name);
/* Each value of a query parameter given more than once, in order: start with *at NULL; NULL
 * after the last. */
const char *http_query_each(struct http_req *r, const char *name, const void **at);
const char *http_header(struct http_req *r, const char *name);
/* "GET", "POST", "DELETE", "OPTIONS", or "OTHER". */
const char *http_method_name(enum ff_http_method m);
/* A header for the reply. */
void http_add_header(struct http_req *r, const char *name, const char *value);

/* Replies. json_text: a complete JSON document (copied). */
void http_reply_json(struct http_req *r, int status, const cJSON *body);
void http_reply_json_text(struct http_req *r, int status, const char *json_text, size_t len);
void http_reply_bytes(struct http_req *r, int status, const char *content_type, const void *data,
		      size_t len);
/* The same, taking a malloc'd body. */
void http_reply_take(struct http_req *r, int status, const char *content_type, char *data,
		     size_t len);
/* The same, the body being the first len bytes of the file fd (the reply owns fd): the loop
 * sends it from the file, so a large body never sits in memory. */
void http_reply_file(struct http_req *r, int status, const char *content_type, int fd, size_t len);
/* A 200 whose body goes on after the handler returned, sent in chunks (Transfer-Encoding:
 * chunked) by ops's owner on the loop; the connection closes at its end. */
void http_reply_stream(struct http_req *r, const char *content_type,
		       const struct http_stream_ops *ops, void *arg);
/* On the loop: sends what data holds as a chunk (data is emptied). When the client has
 * not read the last HTTP_STREAM_BEHIND bytes, the stream is cut instead: gone is called
 * before this returns -1. */
#define HTTP_STREAM_BEHIND (1024 * 1024)
int http_stream_send(struct http_stream *st, struct evbuffer *data);
/* On the loop: the last chunk; the stream is no longer the owner's. */
void http_stream_end(struct http_stream *st);

/* A GET's 200 reply held in memory gets a strong ETag, the SHA-256 of its body (its first
 * 128 bits, quoted): a finished run's results never change, so a client that has them sends
 * If-None-Match and gets 304 and no body; a run still going gets a new tag whenever its
 * reply changes. http_etag_of: the tag r's reply gets, false when it gets none.
 * http_etag_set: adds it, and a matching If-None-Match turns the reply into that 304. Any
 * thread, before http_complete. */
#define HTTP_ETAG_SIZE 40
bool http_etag_of(const struct http_req *r, char tag[HTTP_ETAG_SIZE]);
void http_etag_set(struct http_req *r, const char *tag);

/* {"error":{"code","message"[,"field"]},"request_id"} with the status err->code maps to. */
void http_reply_error(struct http_req *r, const struct ff_err *err);
/* An error reply with a status outside the FF_E* mapping (405, 408, 415, 431). */
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
