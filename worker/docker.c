/* docker — Docker Engine API client over libcurl; see docker.h. */
#include "docker.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_buf.h"
#include "ff_util.h"
#include "wmetrics.h"

#define DOCKER_SMALL_REPLY (1u << 20) /* replies other than archives and logs */

struct docker {
	CURL *curl;
	char base[256];
	char errbuf[CURL_ERROR_SIZE];
};

/* A reply body: either collected into a capped buffer, or handed on as multiplexed log
 * frames to a callback. */
struct reply {
	struct ff_buf body;
	struct docker_demux logs; /* a log stream, when logs.on_data is set */
	/* a streamed request body (CURLOPT_READFUNCTION, chunked) */
	docker_read_fn rd;
	void *rd_ctx;
	bool rd_failed;
	/* a reply streamed to a callback as it comes (archive GET into a spool) */
	docker_sink_fn sink;
	void *sink_ctx;
	bool sink_failed;
};

int docker_global_init(struct ff_err *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ff_err_set(err, FF_EINTERNAL, "libcurl could not be initialised");
	return 0;
}

void docker_global_cleanup(void)
{
	curl_global_cleanup();
}

int docker_new(const char *host, struct docker **out, struct ff_err *err)
{
	struct docker *d = calloc(1, sizeof(*d));
	if (!d || !(d->curl = curl_easy_init())) {
		free(d);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	if (strncmp(host, "unix://", 7) == 0) {
		curl_easy_setopt(d->curl, CURLOPT_UNIX_SOCKET_PATH, host + 7);
		snprintf(d->base, sizeof(d->base), "http://localhost/" DOCKER_API_VERSION);
	} else if (strncmp(host, "tcp://", 6) == 0 && strlen(host) < 200) {
		snprintf(d->base, sizeof(d->base), "http://%s/" DOCKER_API_VERSION, host + 6);
	} else {
		docker_free(d);
		return ff_err_set(err, FF_EINVAL, "DOCKER_HOST '%s' is neither unix:// nor tcp://",
				  host);
	}
	curl_easy_setopt(d->curl, CURLOPT_ERRORBUFFER, d->errbuf);
	curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	*out = d;
	return 0;
}

void docker_free(struct docker *d)
{
	if (!d)
		return;
	curl_easy_cleanup(d->curl);
	free(d);
}

/* Takes apart the engine's log stream (see docker.h). */
void docker_demux_feed(struct docker_demux *dm, const char *p, size_t n)
{
	while (n > 0) {
		if (dm->frame_left == 0) {
			size_t take = 8 - dm->hdr_len < n ? 8 - dm->hdr_len : n;
			memcpy(dm->hdr + dm->hdr_len, p, take);
			dm->hdr_len += take;
			p += take;
			n -= take;
			if (dm->hdr_len == 8) {
				dm->frame_left = (size_t)dm->hdr[4] << 24 |
						 (size_t)dm->hdr[5] << 16 |
						 (size_t)dm->hdr[6] << 8 | dm->hdr[7];
				dm->hdr_len = 0;
			}
			continue;
		}
		size_t take = dm->frame_left < n ? dm->frame_left : n;
		dm->on_data(dm->ctx, dm->hdr[0], p, take);
		dm->frame_left -= take;
		p += take;
		n -= take;
	}
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct reply *r = userdata;
	long n = r->rd(r->rd_ctx, p, size * nmemb);
	if (n < 0) {
		r->rd_failed = true;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)n;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct reply *r = userdata;
	size_t n = size * nmemb;
	if (r->logs.on_data) {
		docker_demux_feed(&r->logs, p, n);
		return n;
	}
	if (r->sink) {
		if (r->sink(r->sink_ctx, p, n) < 0) {
			r->sink_failed = true;
			return 0;
		}
		return n;
	}
	return ff_buf_append(&r->body, p, n) < 0 ? 0 : n;
}

/* CURLOPT_XFERINFOFUNCTION: libcurl calls it at least once a second while a call runs,
 * data or not; a log stream's reader gets it as a tick (stream 0). */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct reply *r = userdata;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	r->logs.on_data(r->logs.ctx, 0, NULL, 0);
	return 0;
}

/* Builds "<base><path>" and performs the request. On success *status holds the HTTP status
 * and r the body (for non-2xx replies r holds the engine's error JSON). */
static int perform(struct docker *d, const char *method, const char *path, const char *ctype,
		   const void *body, size_t len, long timeout_ms, struct reply *r, long *status,
		   struct ff_err *err)
{
	char url[1024];
	struct curl_slist *hdrs = NULL;
	if ((size_t)snprintf(url, sizeof(url), "%s%s", d->base, path) >= sizeof(url))
		return ff_err_set(err, FF_EINVAL, "engine path too long");
	CURL *c = d->curl;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L); /* resets any body of the previous call */
	if (r->rd) {
		/* unknown length: HTTP/1.1 chunked, pulled from r->rd as libcurl sends */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, r);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)-1);
	} else if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (ctype) {
		char h[128];
		snprintf(h, sizeof(h), "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, h);
	}
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip on uploads */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 0L);
	if (r->logs.on_data) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	d->errbuf[0] = '\0';
	CURLcode cc = curl_easy_perform(c);
	curl_slist_free_all(hdrs);
	if (r->logs.on_data)
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
	if (r->rd) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 0L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, NULL);
		curl_easy_setopt(c, CURLOPT_READDATA, NULL);
	}
	if (r->rd_failed)
		return ff_err_set(err, FF_EINTERNAL, "request body for %s %s failed", method, path);
	if (r->sink_failed)
		return ff_err_set(err, FF_ETOOBIG, "engine reply to %s %s refused by its reader",
				  method, path);
	if (cc == CURLE_WRITE_ERROR && r->body.err == FF_ETOOBIG)
		return ff_err_set(err, FF_ETOOBIG, "engine reply to %s %s exceeds %zu bytes",
				  method, path, r->body.max);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return ff_err_set(err, FF_ETIMEOUT, "engine call %s %s timed out", method, path);
	if (cc != CURLE_OK)
		return ff_err_set(err, FF_EUNAVAIL, "docker engine unreachable: %s",
				  d->errbuf[0] ? d->errbuf : curl_easy_strerror(cc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

/* One Engine API call, timed for the worker's metrics. */
static int call(struct docker *d, const char *method, const char *path, const char *ctype,
		const void *body, size_t len, long timeout_ms, struct reply *r, long *status,
		struct ff_err *err)
{
	int64_t t0 = ff_now_us();
	int rc = perform(d, method, path, ctype, body, len, timeout_ms, r, status, err);
	wmetrics_engine_call(method, path, (double)(ff_now_us() - t0) / 1e6,
			     rc < 0 || *status >= 500);
	return rc;
}

/* Maps a non-2xx reply to an error carrying the engine's message. */
static int engine_error(long status, const struct reply *r, const char *what, struct ff_err *err)
{
	const char *msg = "no message";
	cJSON *j = r->body.data ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
	cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
	if (cJSON_IsString(m))
		msg = m->valuestring;
	int code = status == 404 ? FF_ENOTFOUND : status == 409 ? FF_ECONFLICT : FF_EINTERNAL;
	ff_err_set(err, code, "%s: engine said %ld: %s", what, status, msg);
	cJSON_Delete(j);
	return code;
}

/* A plain call with a small JSON (or empty) reply. ok2 is a second accepted status (e.g.
 * 304 "already stopped"), 0 for none. *out (optional) receives the parsed reply. */
static int simple(struct docker *d, const char *method, const char *path, const cJSON *json,
		  long timeout_ms, long ok2, cJSON **out, struct ff_err *err)
{
	struct reply r = {.body = {.max = DOCKER_SMALL_REPLY}};
	long status = 0;
	char *body = json ? cJSON_PrintUnformatted(json) : NULL;
	int rc = call(d, method, path, json ? "application/json" : NULL, body,
		      body ? strlen(body) : 0, timeout_ms, &r, &status, err);
	free(body);
	if (rc == 0 && (status < 200 || status > 299) && status != ok2)
		rc = engine_error(status, &r, path, err);
	if (rc == 0 && out) {
		*out = r.body.data ? cJSON_ParseWithLength(r.body.data, r.body.len) : NULL;
		if (!*out)
			rc = ff_err_set(err, FF_EINTERNAL, "%s: engine reply is not JSON", path);
	}
	ff_buf_release(&r.body);
	return rc;
}

#define DOCKER_CALL_TIMEOUT_MS 60000L

int docker_ping(struct docker *d, struct ff_err *err)
{
	return simple(d, "GET", "/_ping", NULL, 5000L, 0, NULL, err);
}

int docker_volume_create(struct docker *d, const char *name, const cJSON *labels,
			 struct ff_err *err)
{
	cJSON *spec = cJSON_CreateObject();
	cJSON_AddStringToObject(spec, "Name", name);
	if (labels)
		cJSON_AddItemToObject(spec, "Labels", cJSON_Duplicate(labels, 1));
	int rc = simple(d, "POST", "/volumes/create", spec, DOCKER_CALL_TIMEOUT_MS, 0, NULL, err);
	cJSON_Delete(spec);
	return rc;
}

int docker_volume_remove(struct docker *d, const char *name, struct ff_err *err)
{
	char path[256];
	snprintf(path, sizeof(path), "/volumes/%s?force=1", name);
	int rc = simple(d, "DELETE", path, NULL, DOCKER_CALL_TIMEOUT_MS, 0, NULL, err);
	return rc == FF_ENOTFOUND ? 0 : rc;
}

int docker_container_create(struct docker *d, const char *name, const cJSON *spec, char id[65],
			    struct ff_err *err)
{
	char path[256];
	cJSON *reply = NULL;
	snprintf(path, sizeof(path), "/containers/create?name=%s", name);
	int rc = simple(d, "POST", path, spec, DOCKER_CALL_TIMEOUT_MS, 0, &reply, err);
	if (rc == 0) {
		cJSON *jid = cJSON_GetObjectItemCaseSensitive(reply, "Id");
		if (cJSON_IsString(jid) && strlen(jid->valuestring) <= 64)
			snprintf(id, 65, "%s", jid->valuestring);
		else
			rc = ff_err_set(err, FF_EINTERNAL, "container create: no Id in reply");
	}
	cJSON_Delete(reply);
	return rc;
}

static int container_call(struct docker *d, const char *method, const char *id, const char *action,
			  long timeout_ms, long ok2, cJSON **out, struct ff_err *err)
{
	char path[256];
	snprintf(path, sizeof(path), "/containers/%.64s%s", id, action);
	return simple(d, method, path, NULL, timeout_ms, ok2, out, err);
}

int docker_container_start(struct docker *d, const char *id, struct ff_err *err)
{
	return container_call(d, "POST", id, "/start", DOCKER_CALL_TIMEOUT_MS, 304, NULL, err);
}

int docker_container_kill(struct docker *d, const char *id, struct ff_err *err)
{
	int rc = container_call(d, "POST", id, "/kill", DOCKER_CALL_TIMEOUT_MS, 0, NULL, err);
	return rc == FF_ECONFLICT ? 0 : rc; /* 409: not running */
}

int docker_container_remove(struct docker *d, const char *id, struct ff_err *err)
{
	int rc =
	    container_call(d, "DELETE", id, "?force=1&v=1", DOCKER_CALL_TIMEOUT_MS, 0, NULL, err);
	return rc == FF_ENOTFOUND ? 0 : rc;
}

int docker_container_wait(struct docker *d, const char *id, long timeout_ms, int *exit_code,
			  struct ff_err *err)
{
	cJSON *reply = NULL;
	int rc = container_call(d, "POST", id, "/wait", timeout_ms, 0, &reply, err);
	if (rc == 0) {
		cJSON *st = cJSON_GetObjectItemCaseSensitive(reply, "StatusCode");
		if (cJSON_IsNumber(st))
			*exit_code = st->valueint;
		else
			rc = ff_err_set(err, FF_EINTERNAL, "container wait: no StatusCode");
	}
	cJSON_Delete(reply);
	return rc;
}

int docker_container_follow_logs(struct docker *d, const char *id, long timeout_ms,
				 docker_output_cb on_data, void *ctx, struct ff_err *err)
{
	char path[256];
	struct reply r = {.body = {.max = DOCKER_SMALL_REPLY},
			  .logs = {.on_data = on_data, .ctx = ctx}};
	long status = 0;
	snprintf(path, sizeof(path), "/containers/%.64s/logs?follow=1&stdout=1&stderr=1", id);
	int rc = call(d, "GET", path, NULL, NULL, 0, timeout_ms, &r, &status, err);
	if (rc == 0 && status != 200) {
		rc = ff_err_set(err, status == 404 ? FF_ENOTFOUND : FF_EINTERNAL,
				"container logs: engine said %ld", status);
	}
	ff_buf_release(&r.body);
	return rc;
}

int docker_archive_put(struct docker *d, const char *id, const char *dir, const void *tar,
		       size_t len, struct ff_err *err)
{
	char path[512];
	struct reply r = {.body = {.max = DOCKER_SMALL_REPLY}};
	long status = 0;
	char *edir = curl_easy_escape(d->curl, dir, 0);
	snprintf(path, sizeof(path), "/containers/%.64s/archive?path=%s", id, edir ? edir : "/");
	curl_free(edir);
	int rc = call(d, "PUT", path, "application/x-tar", tar, len, DOCKER_CALL_TIMEOUT_MS * 5, &r,
		      &status, err);
	if (rc == 0 && status != 200)
		rc = engine_error(status, &r, "copy into container", err);
	ff_buf_release(&r.body);
	return rc;
}

int docker_archive_put_stream(struct docker *d, const char *id, const char *dir, docker_read_fn rd,
			      void *ctx, struct ff_err *err)
{
	char path[512];
	struct reply r = {.body = {.max = DOCKER_SMALL_REPLY}, .rd = rd, .rd_ctx = ctx};
	long status = 0;
	char *edir = curl_easy_escape(d->curl, dir, 0);
	snprintf(path, sizeof(path), "/containers/%.64s/archive?path=%s", id, edir ? edir : "/");
	curl_free(edir);
	int rc = call(d, "PUT", path, "application/x-tar", NULL, 0, DOCKER_CALL_TIMEOUT_MS * 10, &r,
		      &status, err);
	if (rc == 0 && status != 200)
		rc = engine_error(status, &r, "copy into container", err);
	ff_buf_release(&r.body);
	return rc;
}

int docker_archive_get_stream(struct docker *d, const char *id, const char *path,
			      docker_sink_fn sink, void *ctx, struct ff_err *err)
{
	char p[512];
	struct reply r = {.body = {.max = DOCKER_SMALL_REPLY}};
	long status = 0;
	char *epath = curl_easy_escape(d->curl, path, 0);
	snprintf(p, sizeof(p), "/containers/%.64s/archive?path=%s", id, epath ? epath : "/");
	curl_free(epath);
	/* the body goes to sink only once the status says it is the archive */
	r.sink = sink;
	r.sink_ctx = ctx;
	int rc = call(d, "GET", p, NULL, NULL, 0, DOCKER_CALL_TIMEOUT_MS * 5, &r, &status, err);
	if (rc == 0 && status != 200)
		rc = ff_err_set(err, status == 404 ? FF_ENOTFOUND : FF_EINTERNAL,
				"copy out of container: engine said %ld", status);
	ff_buf_release(&r.body);
	return rc;
}

int docker_volume_inspect(struct docker *d, const char *name, cJSON **out, struct ff_err *err)
{
	char path[256];
	snprintf(path, sizeof(path), "/volumes/%s", name);
	return simple(d, "GET", path, NULL, DOCKER_CALL_TIMEOUT_MS, 0, out, err);
}

int docker_volume_create2(struct docker *d, const char *name, const cJSON *labels, cJSON **out,
			  struct ff_err *err)
{
	cJSON *spec = cJSON_CreateObject();
	cJSON_AddStringToObject(spec, "Name", name);
	if (labels)
		cJSON_AddItemToObject(spec, "Labels", cJSON_Duplicate(labels, 1));
	int rc = simple(d, "POST", "/volumes/create", spec, DOCKER_CALL_TIMEOUT_MS, 0, out, err);
	cJSON_Delete(spec);
	return rc;
}

int docker_volume_list(struct docker *d, const char *label, cJSON **out, struct ff_err *err)
{
	char path[512], filt[300];
	snprintf(filt, sizeof(filt), "{\"label\":[\"%s\"]}", label);
	char *ef = curl_easy_escape(d->curl, filt, 0);
	snprintf(path, sizeof(path), "/volumes?filters=%s", ef ? ef : "");
	curl_free(ef);
	return simple(d, "GET", path, NULL, DOCKER_CALL_TIMEOUT_MS, 0, out, err);
}

int docker_archive_get(struct docker *d, const char *id, const char *path, size_t max_bytes,
		       void **tar, size_t *len, struct ff_err *err)
{
	char p[512];
	struct reply r = {0};
	long status = 0;
	ff_buf_init(&r.body, max_bytes);
	char *epath = curl_easy_escape(d->curl, path, 0);
	snprintf(p, sizeof(p), "/containers/%.64s/archive?path=%s", id, epath ? epath : "/");
	curl_free(epath);
	int rc = call(d, "GET", p, NULL, NULL, 0, DOCKER_CALL_TIMEOUT_MS * 5, &r, &status, err);
	if (rc == 0 && status != 200)
		rc = engine_error(status, &r, "copy out of container", err);
	char *data = rc == 0 ? ff_buf_take(&r.body, len) : NULL;
	if (data)
		*tar = data;
	else if (rc == 0)
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
	ff_buf_release(&r.body);
	return rc;
}

/* --- image pulls ------------------------------------------------------------------------ */

#define PULL_TIMEOUT_MS 600000L /* a workflow image over a slow registry link */

/* What a pull's progress stream (one JSON object a line) says in the end: the digest the
 * engine reports and the first error, which comes as a line of a 200 reply. */
struct pull_scan {
	char line[4096];
	size_t len;
	bool too_long; /* the line being read is past line[]: skipped */
	char digest[80];
	char error[512];
};

static void pull_line(struct pull_scan *s)
{
	cJSON *j = cJSON_ParseWithLength(s->line, s->len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message"); /* a non-2xx reply */
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
	if (!cJSON_IsString(e))
		e = m;
	if (cJSON_IsString(e) && !s->error[0])
		snprintf(s->error, sizeof(s->error), "%s", e->valuestring);
	if (cJSON_IsString(st) && !strncmp(st->valuestring, "Digest: ", 8))
		snprintf(s->digest, sizeof(s->digest), "%s", st->valuestring + 8);
	cJSON_Delete(j);
}

static int pull_sink(void *ctx, const void *data, size_t n)
{
	struct pull_scan *s = ctx;
	for (const char *p = data, *end = p + n; p < end; p++) {
		if (*p != '\n') {
			if (s->len < sizeof(s->line))
				s->line[s->len++] = *p;
			else
				s->too_long = true;
			continue;
		}
		if (!s->too_long && s->len)
			pull_line(s);
		s->len = 0;
		s->too_long = false;
	}
	return 0;
}

/* "<before><ref, URL-escaped><after>" into path[size]: FF_ETOOBIG when it does not fit. */
static int image_path(struct docker *d, char *path, size_t size, const char *before,
		      const char *ref, const char *after, struct ff_err *err)
{
	char *eref = curl_easy_escape(d->curl, ref, 0);
	if (!eref)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	int n = snprintf(path, size, "%s%s%s", before, eref, after);
	curl_free(eref);
	if (n < 0 || (size_t)n >= size)
		return ff_err_set(err, FF_ETOOBIG, "image name '%s' too long for the engine", ref);
	return 0;
}

int docker_image_pull(struct docker *d, const char *ref, char digest[80], struct ff_err *err)
{
	char path[640];
	struct pull_scan scan = {0};
	struct reply r = {
	    .body = {.max = DOCKER_SMALL_REPLY}, .sink = pull_sink, .sink_ctx = &scan};
	long status = 0;
	/* a ref with its tag or digest: only that one is pulled (a bare name pulls every tag) */
	int rc = image_path(d, path, sizeof(path), "/images/create?fromImage=", ref, "", err);
	if (rc == 0)
		rc = call(d, "POST", path, NULL, NULL, 0, PULL_TIMEOUT_MS, &r, &status, err);
	if (rc == 0 && scan.len && !scan.too_long)
		pull_line(&scan); /* a last line without its newline */
	if (rc == 0 && (status < 200 || status > 299 || scan.error[0])) {
		/* 404: the registry has no such image; a 200 stream can still end in an error */
		int code = status == 404 || strstr(scan.error, "manifest unknown") ||
				   strstr(scan.error, "not found")
			       ? FF_ENOTFOUND
			       : FF_EUNAVAIL;
		rc = ff_err_set(err, code, "%s", scan.error[0] ? scan.error : "no message");
	}
	if (rc == 0)
		snprintf(digest, 80, "%s", scan.digest);
	ff_buf_release(&r.body);
	return rc;
}

int docker_version(struct docker *d, char out[64], struct ff_err *err)
{
	cJSON *reply = NULL;
	int rc = simple(d, "GET", "/version", NULL, 5000L, 0, &reply, err);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "Version");
	if (rc == 0)
		snprintf(out, 64, "%s", cJSON_IsString(v) ? v->valuestring : "unknown");
	cJSON_Delete(reply);
	return rc;
}

int docker_image_list(struct docker *d, cJSON **out, struct ff_err *err)
{
	return simple(d, "GET", "/images/json", NULL, DOCKER_CALL_TIMEOUT_MS, 0, out, err);
}

int docker_image_inspect(struct docker *d, const char *ref, struct ff_err *err)
{
	char path[640];
	int rc = image_path(d, path, sizeof(path), "/images/", ref, "/json", err);
	return rc < 0 ? rc : simple(d, "GET", path, NULL, DOCKER_CALL_TIMEOUT_MS, 0, NULL, err);
}
