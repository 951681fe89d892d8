/* ff_client — the controller's REST API over libcurl, as the ff CLI uses it.
 *
 * One client holds one CURL easy handle for the whole process, so successive calls (wait's
 * polling above all) reuse the connection. Every /api/v1 call carries
 * "Authorization: Bearer <key>" when a key is set. Bodies kept in memory are capped at
 * FF_CLIENT_MAX_BODY; bodies streamed to a file at FF_CLIENT_MAX_DOWNLOAD.
 *
 * Errors: a non-2xx answer fills err with the server's {"error":{code,message,field}}:
 * err->msg is "<code>: <message>", err->field the field, err->code the FF_E* matching the
 * HTTP status. Not reaching the server at all gives FF_EUNAVAIL with a message naming the URL.
 */
#ifndef FF_CLIENT_H
#define FF_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <signal.h>

#include <cjson/cJSON.h>

#include "ff_err.h"

#define FF_CLIENT_DEFAULT_URL	 "http://127.0.0.1:8000"
#define FF_CLIENT_MAX_BODY	 ((size_t)256 << 20)
#define FF_CLIENT_MAX_DOWNLOAD	 ((uint64_t)4 << 30)
#define FF_CLIENT_MAX_ERROR_BODY ((size_t)1 << 20)

struct ff_client;

/* A client for base_url ("http[s]://host[:port][/prefix]", trailing slashes ignored) sending
 * api_key (NULL or "" for none). Both strings are copied. NULL with err filled on a bad URL
 * or when libcurl can't start. Free with ff_client_free (NULL-safe). */
struct ff_client *ff_client_new(const char *base_url, const char *api_key, struct ff_err *err);
void ff_client_free(struct ff_client *c);
/* From now on, a request gives up as soon as *flag is non-zero (set by a signal handler):
 * one in flight within a moment (libcurl's progress callback runs when its poll is
 * interrupted by the signal, and about once a second otherwise), one not yet started at
 * once. It fails with FF_EUNAVAIL "interrupted". NULL: requests are never interrupted. */
void ff_client_set_interrupt(struct ff_client *c, const volatile sig_atomic_t *flag);
/* A limit on each whole request from now on, in milliseconds; 0 (the default): none, only
 * the connect timeout and the stall limit. */
void ff_client_set_timeout(struct ff_client *c, long ms);
/* The base URL as the client uses it (owned by c). */
const char *ff_client_url(const struct ff_client *c);
/* The HTTP status of the last answer, 0 when none came. */
long ff_client_last_status(const struct ff_client *c);

/* Sends method (GET, POST, …) to base_url + path (path starts with '/', already escaped) with
 * body as JSON (NULL for none). On a 2xx answer, when out is not NULL, *out is the parsed
 * answer (caller cJSON_Deletes). */
int ff_client_json(struct ff_client *c, const char *method, const char *path, const cJSON *body,
		   cJSON **out, struct ff_err *err);

/* POSTs body to path under an Idempotency-Key (a fresh one for each call), retrying what a
 * controller or balancer refuses for the moment (no connection, 429, 502, 503, 504) for up
 * to about 8 s: the key makes a retry of a request that did land return the same resource,
 * never a second one. Otherwise as ff_client_json. */
int ff_client_post_once(struct ff_client *c, const char *path, const cJSON *body, cJSON **out,
			struct ff_err *err);

/* POSTs len bytes of buf with the given Content-Type; otherwise as ff_client_json. */
int ff_client_post_bytes(struct ff_client *c, const char *path, const char *content_type,
			 const void *buf, size_t len, cJSON **out, struct ff_err *err);

/* GETs path and writes a 2xx body to f as it arrives (up to FF_CLIENT_MAX_DOWNLOAD bytes);
 * *written (may be NULL) gets the byte count. An error answer is not written to f. */
int ff_client_download(struct ff_client *c, const char *path, FILE *f, uint64_t *written,
		       struct ff_err *err);

/* A body read as it arrives, without a limit on its length or its silences (a run's live
 * logs or events): GETs path (with header, one more request header line, or NULL) and hands
 * each piece of a 2xx body to on_data, which returns 0, or -1 to stop (FF_ECONFLICT). A body
 * cut before its end fails with FF_EUNAVAIL. */
typedef int (*ff_client_data_fn)(void *ctx, const char *data, size_t len);
int ff_client_stream(struct ff_client *c, const char *path, const char *header,
		     ff_client_data_fn on_data, void *ctx, struct ff_err *err);
/* Fills err from an error answer: status and body (the JSON error object, or anything else a
 * proxy might send). Returns the FF_E* code. Exposed for the tests. */
int ff_client_error_from_response(long status, const char *body, size_t len, struct ff_err *err);
/* The FF_E* code for an HTTP status >= 400. */
int ff_client_status_code(long status);

/* Percent-encodes s for use as one path segment or query value: everything but
 * [A-Za-z0-9-._~] becomes %XX. 0, or FF_ETOOBIG when out (outsz bytes) is too small. */
int ff_url_escape(const char *s, char *out, size_t outsz);

/* Appends "&name=<value percent-encoded>" to the query in url (cap bytes, *len used), moving
 * *len on. 0, or FF_ETOOBIG when it does not fit (url and *len are then as they were). */
int ff_query_append(char *url, size_t cap, size_t *len, const char *name, const char *value);

#endif
