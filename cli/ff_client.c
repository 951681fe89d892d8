/* ff_client — the controller's REST API over one reused CURL handle; see ff_client.h. */
#include "ff_client.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ff_buf.h"
#include "ff_json.h"
#include "ff_util.h"

#define USER_AGENT "ff/1.0"

struct ff_client {
	CURL *curl;
	char *url;	   /* without trailing '/' */
	char *auth_header; /* "Authorization: Bearer …", NULL without a key */
	long last_status;
	const volatile sig_atomic_t *interrupt; /* see ff_client_set_interrupt */
	long timeout_ms;
	char curl_err[CURL_ERROR_SIZE];
};

/* Where an answer's body goes: a 2xx body to f when set, everything else to memory. */
struct sink {
	struct ff_client *c;
	FILE *f;
	ff_client_data_fn on_data; /* a stream's reader, instead of f */
	void *ctx;
	const char *header; /* one more request header, or NULL */
	bool stream;
	struct ff_buf body; /* max set on each write: max for a 2xx answer, else
			       FF_CLIENT_MAX_ERROR_BODY */
	size_t max;
	uint64_t written, max_written;
	bool toobig, write_failed;
};

const char *ff_client_url(const struct ff_client *c)
{
	return c->url;
}

long ff_client_last_status(const struct ff_client *c)
{
	return c->last_status;
}

void ff_client_set_interrupt(struct ff_client *c, const volatile sig_atomic_t *flag)
{
	c->interrupt = flag;
}

void ff_client_set_timeout(struct ff_client *c, long ms)
{
	c->timeout_ms = ms;
}

static bool interrupted(const struct ff_client *c)
{
	return c->interrupt && *c->interrupt;
}

/* libcurl calls this while a request waits or moves data; non-zero aborts the request. */
static int xfer_check(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		      curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return interrupted(ctx);
}

int ff_url_escape(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t j = 0;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
			     ch == '~';
		size_t need = plain ? 1 : 3;
		if (j + need >= outsz)
			return FF_ETOOBIG;
		if (plain) {
			out[j++] = (char)ch;
		} else {
			out[j++] = '%';
			out[j++] = hex[ch >> 4];
			out[j++] = hex[ch & 15];
		}
	}
	if (j >= outsz)
		return FF_ETOOBIG;
	out[j] = '\0';
	return 0;
}

int ff_query_append(char *url, size_t cap, size_t *len, const char *name, const char *value)
{
	size_t head = strlen(name) + 2; /* "&name=" */
	if (*len + head >= cap)
		return FF_ETOOBIG;
	snprintf(url + *len, cap - *len, "&%s=", name);
	if (ff_url_escape(value, url + *len + head, cap - *len - head)) {
		url[*len] = '\0';
		return FF_ETOOBIG;
	}
	*len += head + strlen(url + *len + head);
	return 0;
}

int ff_client_status_code(long status)
{
	switch (status) {
	case 400: return FF_EINVAL;
	case 401:
	case 403: return FF_EAUTH;
	case 404: return FF_ENOTFOUND;
	case 409: return FF_ECONFLICT;
	case 413: return FF_ETOOBIG;
	case 422: return FF_EVALIDATE;
	case 408:
	case 504: return FF_ETIMEOUT;
	case 429:
	case 502:
	case 503: return FF_EUNAVAIL;
	default: return status >= 400 && status < 500 ? FF_EINVAL : FF_EINTERNAL;
	}
}

int ff_client_error_from_response(long status, const char *body, size_t len, struct ff_err *err)
{
	int code = ff_client_status_code(status);
	static const struct ff_json_opts opts = {.what = "the error answer", .object = true};
	struct ff_err ignored;
	cJSON *root = NULL;
	if (ff_json_parse(body, len, &opts, &root, &ignored) < 0)
		root = NULL; /* not our JSON: shown as text below */
	cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const char *ecode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
	const char *emsg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
	const char *efield = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field"));

	if (ecode && emsg) {
		ff_err_field(err, code, efield, "%s: %s", ecode, emsg);
	} else {
		/* Not our JSON (a proxy's page, an old server): show its first line. */
		size_t n = 0;
		while (body && n < len && n < 200 && body[n] != '\n' && body[n] != '\0')
			n++;
		if (n)
			ff_err_set(err, code, "http_%ld: %.*s", status, (int)n, body);
		else
			ff_err_set(err, code, "http_%ld: unexpected answer", status);
	}
	cJSON_Delete(root);
	return code;
}

static size_t sink_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(s->c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (s->on_data && status >= 200 && status < 300) {
		if (s->on_data(s->ctx, data, n) < 0) {
			s->write_failed = true;
			return 0;
		}
		return n;
	}
	if (s->f && status >= 200 && status < 300) {
		if (n > s->max_written - s->written) {
			s->toobig = true;
			return 0;
		}
		if (fwrite(data, 1, n, s->f) != n) {
			s->write_failed = true;
			return 0;
		}
		s->written += n;
		return n;
	}
	/* the status is known before the first byte of the body, and stays */
	s->body.max = status >= 200 && status < 300 ? s->max : FF_CLIENT_MAX_ERROR_BODY;
	int rc = ff_buf_append(&s->body, data, n);
	if (rc == FF_ETOOBIG)
		s->toobig = true;
	return rc < 0 ? 0 : n;
}

struct ff_client *ff_client_new(const char *base_url, const char *api_key, struct ff_err *err)
{
	struct ff_client *c = NULL;

	if (!base_url || !*base_url)
		base_url = FF_CLIENT_DEFAULT_URL;
	if (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8)) {
		ff_err_field(err, FF_EINVAL, "FF_URL",
			     "FF_URL must start with http:// or https://, got '%s'", base_url);
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		ff_err_set(err, FF_EINTERNAL, "cannot initialise libcurl");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail_oom;
	c->url = strdup(base_url);
	c->curl = curl_easy_init();
	if (!c->url || !c->curl)
		goto fail_oom;
	size_t n = strlen(c->url);
	while (n > 0 && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	if (api_key && *api_key &&
	    asprintf(&c->auth_header, "Authorization: Bearer %s", api_key) < 0) {
		c->auth_header = NULL;
		goto fail_oom;
	}
	return c;

fail_oom:
	ff_err_set(err, FF_ENOMEM, "out of memory");
	ff_client_free(c);
	if (!c)
		curl_global_cleanup();
	return NULL;
}

void ff_client_free(struct ff_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->auth_header) {
		/* the key should not linger in freed memory */
		explicit_bzero(c->auth_header, strlen(c->auth_header));
		free(c->auth_header);
	}
	free(c->url);
	free(c);
	curl_global_cleanup();
}

static int add_header(struct curl_slist **list, const char *h)
{
	struct curl_slist *l = curl_slist_append(*list, h);
	if (!l)
		return FF_ENOMEM;
	*list = l;
	return 0;
}

/* One exchange. body/len is sent for POST (len may be 0). The answer goes to s. On a 2xx
 * answer returns 0; otherwise fills err. */
static int request(struct ff_client *c, const char *method, const char *path,
		   const char *content_type, const void *body, size_t len, struct sink *s,
		   struct ff_err *err)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL;
	char ct[128];
	int rc = 0;

	c->last_status = 0;
	c->curl_err[0] = '\0';
	if (interrupted(c))
		return ff_err_set(err, FF_EUNAVAIL, "interrupted");
	if (asprintf(&url, "%s%s", c->url, path) < 0) {
		url = NULL;
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	if (content_type)
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
	/* "Expect:" because evhttp answers 100-continue, but waiting for it costs a round trip */
	if (add_header(&hdrs, "Accept: application/json") || add_header(&hdrs, "Expect:") ||
	    (content_type && add_header(&hdrs, ct)) ||
	    (c->auth_header && add_header(&hdrs, c->auth_header)) ||
	    (s->header && add_header(&hdrs, s->header))) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}

	/* Reset keeps live connections, so the handle is reused without stale options. */
	CURL *h = c->curl;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	if (s->stream) {
		/* A stream is quiet while its run is: TCP keep-alives find a dead peer instead. */
		curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
	} else {
		/* A stalled controller must not hang CI forever; slow large bodies still pass. */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
	}
	if (c->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	if (c->interrupt) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_check);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (!strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		}
	}

	CURLcode cc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	c->last_status = status;
	if (cc == CURLE_WRITE_ERROR && s->toobig) {
		rc = ff_err_set(
		    err, FF_ETOOBIG, "the answer from %s is larger than %llu bytes", url,
		    s->f && status >= 200 && status < 300 ? (unsigned long long)s->max_written
							  : (unsigned long long)s->body.max);
		goto out;
	}
	if (cc == CURLE_WRITE_ERROR && s->write_failed && s->on_data) {
		rc = ff_err_set(err, FF_ECONFLICT, "stopped by its reader");
		goto out;
	}
	if (cc == CURLE_WRITE_ERROR && s->write_failed) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot write the answer: %m");
		goto out;
	}
	if (cc == CURLE_ABORTED_BY_CALLBACK) {
		rc = ff_err_set(err, FF_EUNAVAIL, "interrupted");
		goto out;
	}
	if (cc != CURLE_OK) {
		const char *why = c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc);
		if (status == 0)
			rc = ff_err_set(err, FF_EUNAVAIL,
					"cannot reach the controller at %s (FF_URL): %s", c->url,
					why);
		else
			rc = ff_err_set(err, FF_EUNAVAIL, "%s %s failed: %s", method, url, why);
		goto out;
	}
	if (status < 200 || status >= 300) {
		rc = ff_client_error_from_response(status, s->body.data, s->body.len, err);
		if (status == 401 && !c->auth_header) /* the likely cause, said plainly */
			ff_err_set(err, rc,
				   "no API key: set FF_API_KEY, or a profile's key_file (ff help)");
		goto out;
	}
out:
	curl_slist_free_all(hdrs);
	free(url);
	return rc;
}

/* Parses a 2xx JSON answer held in s into *out. */
static int parse_answer(const struct sink *s, const char *path, cJSON **out, struct ff_err *err)
{
	char what[128];
	if (!out)
		return 0;
	snprintf(what, sizeof(what), "the controller's answer to %.80s", path);
	const struct ff_json_opts opts = {.what = what, .code = FF_EINTERNAL};
	return ff_json_parse(s->body.data, s->body.len, &opts, out, err);
}

int ff_client_json(struct ff_client *c, const char *method, const char *path, const cJSON *body,
		   cJSON **out, struct ff_err *err)
{
	struct sink s = {.c = c, .max = FF_CLIENT_MAX_BODY};
	char *text = NULL;
	int rc;

	if (body && !(text = cJSON_PrintUnformatted(body)))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	rc = request(c, method, path, text ? "application/json" : NULL, text,
		     text ? strlen(text) : 0, &s, err);
	if (!rc)
		rc = parse_answer(&s, path, out, err);
	ff_buf_release(&s.body);
	cJSON_free(text);
	return rc;
}

int ff_client_post_once(struct ff_client *c, const char *path, const cJSON *body, cJSON **out,
			struct ff_err *err)
{
	static const int backoff_ms[] = {250, 500, 1000, 2000, 4000};
	char key[FF_UUID_LEN + 1], header[64];
	char *text = cJSON_PrintUnformatted(body);
	if (!text)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	ff_uuid_new(key);
	snprintf(header, sizeof(header), "Idempotency-Key: ff-%s", key);
	int rc;
	for (size_t i = 0;; i++) {
		struct sink s = {.c = c, .max = FF_CLIENT_MAX_BODY, .header = header};
		rc = request(c, "POST", path, "application/json", text, strlen(text), &s, err);
		if (!rc)
			rc = parse_answer(&s, path, out, err);
		ff_buf_release(&s.body);
		bool transient = (rc == FF_EUNAVAIL || rc == FF_ETIMEOUT) &&
				 c->last_status != 408 && !interrupted(c);
		if (!transient || i == sizeof(backoff_ms) / sizeof(backoff_ms[0]))
			break;
		usleep((useconds_t)backoff_ms[i] * 1000);
	}
	cJSON_free(text);
	return rc;
}

int ff_client_post_bytes(struct ff_client *c, const char *path, const char *content_type,
			 const void *buf, size_t len, cJSON **out, struct ff_err *err)
{
	struct sink s = {.c = c, .max = FF_CLIENT_MAX_BODY};
	int rc = request(c, "POST", path, content_type, buf, len, &s, err);
	if (!rc)
		rc = parse_answer(&s, path, out, err);
	ff_buf_release(&s.body);
	return rc;
}

int ff_client_download(struct ff_client *c, const char *path, FILE *f, uint64_t *written,
		       struct ff_err *err)
{
	struct sink s = {
	    .c = c, .f = f, .max = FF_CLIENT_MAX_BODY, .max_written = FF_CLIENT_MAX_DOWNLOAD};
	int rc = request(c, "GET", path, NULL, NULL, 0, &s, err);
	if (!rc && fflush(f) != 0)
		rc = ff_err_set(err, FF_EINTERNAL, "cannot write the answer: %m");
	if (!rc && written)
		*written = s.written;
	ff_buf_release(&s.body);
	return rc;
}

int ff_client_stream(struct ff_client *c, const char *path, const char *header,
		     ff_client_data_fn on_data, void *ctx, struct ff_err *err)
{
	struct sink s = {.c = c,
			 .on_data = on_data,
			 .ctx = ctx,
			 .header = header,
			 .stream = true,
			 .max = FF_CLIENT_MAX_BODY};
	int rc = request(c, "GET", path, NULL, NULL, 0, &s, err);
	ff_buf_release(&s.body);
	return rc;
}
