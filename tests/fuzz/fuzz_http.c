/* fuzz_http — the controller's HTTP server (http.c, http_req.c) on arbitrary bytes, driven
 * in-process through its public interface: each input starts a server (http_start) on an
 * event base with a table of stub routes, is written to it over a loopback connection, and
 * the loop runs until the server has answered and closed, or the input is declared a hang.
 * The input is the raw request stream; each form feed (0x0c) is taken out and marks a point
 * where the write is split and the server left to parse what it has, so that the fuzzer
 * also chooses how requests arrive in pieces (a header name cut in two, a chunk size split).
 *
 * The routes are all HTTP_PUBLIC and run on the loop (HTTP_ON_LOOP): no key store and no
 * database pool is needed (keys_check needs PostgreSQL), so the key checks are not covered
 * here. A target route (HTTP_BODY_TARGET) is on the loop too, with no upload slot
 * (max_streams 0): its head checks run, and a body is always refused with a 503.
 *
 * Beyond memory errors and leaks it asserts what a client relies on: the bytes the server
 * sends are a sequence of whole HTTP/1.1 replies and nothing else; each has one
 * Content-Length that its body matches (a 100 Continue none); every JSON body is valid
 * UTF-8 and parses, and an error reply's is {"error":{"code","message"},"request_id"}; no
 * reply follows one that said Connection: close; and the server never leaves a connection
 * open once the client has sent all it will. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ff_buf.h"
#include "ff_log.h"
#include "ff_util.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SPLIT	   '\f'
#define HANG_MS	   5000	      /* the server neither answered nor closed: a hang */
#define MAX_REPLY  (4u << 20) /* everything the server may send for one input */
#define JSON_LIMIT 2048
#define TAR_LIMIT  4096

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_http: %s\n", what);
		abort();
	}
}

/* The stub handler: echoes what the server made of the request (route, path parameters,
 * the query parameters the route takes, the body's length), so the reply depends on it. */
static void echo(struct http_req *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "route", r->route->pattern);
	cJSON *params = cJSON_AddArrayToObject(o, "params");
	for (size_t i = 0; i < HTTP_MAX_PARAMS && r->params[i]; i++)
		cJSON_AddItemToArray(params, cJSON_CreateString(r->params[i]));
	const char *q[] = {"state", "limit", "cursor"};
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		const char *v = http_query(r, q[i]);
		if (v)
			cJSON_AddStringToObject(o, q[i], v);
	}
	size_t len;
	http_body(r, &len);
	cJSON_AddNumberToObject(o, "body_bytes", (double)len);
	http_reply_json(r, 200, o);
	cJSON_Delete(o);
}

/* A JSON route whose handler parses the body (http_json_body replies 400/422 itself). */
static void echo_json(struct http_req *r)
{
	cJSON *j = http_json_body(r);
	if (!j)
		return;
	http_add_header(r, "Location", "/api/v1/runs/x");
	http_reply_json(r, 201, j);
	cJSON_Delete(j);
}

/* Like the real table (api.c): literal segments, {x} parameters, a {x*} tail, one path
 * under several methods (405 with Allow), query lists, each kind of body. */
static const struct http_route routes[] = {
    {HTTP_M_GET, "/health", echo, HTTP_PUBLIC, HTTP_BODY_NONE, HTTP_ON_LOOP, NULL, NULL},
    {HTTP_M_GET, "/api/v1/runs", echo, HTTP_PUBLIC, HTTP_BODY_NONE, HTTP_ON_LOOP,
     "state limit cursor", NULL},
    {HTTP_M_GET, "/api/v1/runs/{id}", echo, HTTP_PUBLIC, HTTP_BODY_NONE, HTTP_ON_LOOP, NULL, NULL},
    {HTTP_M_DELETE, "/api/v1/runs/{id}", echo, HTTP_PUBLIC, HTTP_BODY_NONE, HTTP_ON_LOOP, NULL,
     NULL},
    {HTTP_M_POST, "/api/v1/runs/{id}/retry", echo_json, HTTP_PUBLIC, HTTP_BODY_JSON, HTTP_ON_LOOP,
     NULL, NULL},
    {HTTP_M_GET, "/api/v1/runs/{id}/artifacts/{name*}", echo, HTTP_PUBLIC, HTTP_BODY_NONE,
     HTTP_ON_LOOP, NULL, NULL},
    {HTTP_M_POST, "/api/v1/workflows/{name}/submit", echo_json, HTTP_PUBLIC, HTTP_BODY_JSON,
     HTTP_ON_LOOP, "limit", NULL},
    {HTTP_M_POST, "/api/v1/targets", echo, HTTP_PUBLIC, HTTP_BODY_TARGET, HTTP_ON_LOOP, NULL, NULL},
};

static struct event_base *base;
static char listen_at[32];

/* A free loopback port, found once: http_start takes host:port and says nothing of the
 * port it got, so port 0 is no use. The listener sets SO_REUSEADDR, so each input binds
 * the same port again. */
static void setup(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	check(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		  getsockname(fd, (struct sockaddr *)&sin, &sl) == 0,
	      "no loopback port");
	close(fd);
	snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%u", ntohs(sin.sin_port));
	signal(SIGPIPE, SIG_IGN); /* as ff-controller: a write to a closed peer is an error */
	ff_log_min_level = (enum ff_log_level)(FF_LOG_ERROR + 1); /* a line per reply otherwise */
	check((base = event_base_new()) != NULL, "no event base");
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One turn of the loop, then whatever the server sent. Returns 1 once it closed (EOF or
 * reset). */
static int pump(int fd, struct ff_buf *got)
{
	char buf[16384];
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			check(ff_buf_append(got, buf, (size_t)n) == 0, "the server sent too much");
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return 1;
		return 0;
	}
}

/* Writes p[0..n) whole, turning the loop while the socket is full. */
static int send_all(int fd, const char *p, size_t n, struct ff_buf *got)
{
	int64_t t0 = now_ms();
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w, n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1; /* the server closed (a refusal with Connection: close) */
		if (pump(fd, got))
			return -1;
		check(now_ms() - t0 < HANG_MS, "the server stopped reading");
	}
	return 0;
}

/* Value of header name in the head [h, end), or NULL; *count how often it occurs. */
static const char *header_in(const char *h, const char *end, const char *name, int *count)
{
	const char *found = NULL;
	size_t nl = strlen(name);
	*count = 0;
	for (const char *l = h; l < end;) {
		const char *eol = memmem(l, (size_t)(end - l), "\r\n", 2);
		if (!eol)
			eol = end;
		if ((size_t)(eol - l) > nl && l[nl] == ':' && strncasecmp(l, name, nl) == 0) {
			++*count;
			found = l + nl + 1;
			while (*found == ' ')
				found++;
		}
		l = eol + 2;
	}
	return found;
}

/* An error reply's body: {"error":{"code":"...","message":"..."[,"field"]},"request_id"}. */
static void check_json(int status, const char *body, size_t len)
{
	check(ff_utf8_valid(body, len), "a JSON reply is not valid UTF-8");
	cJSON *j = cJSON_ParseWithLength(body, len);
	check(j != NULL, "a JSON reply does not parse");
	if (status >= 400) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		check(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")) &&
			  cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")) &&
			  cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "request_id")),
		      "an error reply lacks error.code, error.message or request_id");
	}
	cJSON_Delete(j);
}

/* The bytes the server sent: whole replies, one after another, and nothing more. */
static void check_replies(const char *p, size_t n)
{
	const char *end = p + n;
	int closed = 0;
	while (p < end) {
		check(!closed, "a reply after Connection: close");
		check(end - p >= 12 && memcmp(p, "HTTP/1.1 ", 9) == 0, "not an HTTP/1.1 reply");
		int status = 0;
		for (int i = 9; i < 12; i++) {
			check(p[i] >= '0' && p[i] <= '9', "a status that is not 3 digits");
			status = status * 10 + (p[i] - '0');
		}
		check(status >= 100 && status <= 599, "a status out of range");
		const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		check(head_end != NULL, "a reply's head is cut short");
		const char *h = memmem(p, (size_t)(head_end - p), "\r\n", 2);
		h = h ? h + 2 : head_end;
		const char *body = head_end + 4;
		int count;
		const char *cl = header_in(h, head_end + 2, "Content-Length", &count);
		if (status == 100) {
			check(count == 0, "a 100 Continue with a Content-Length");
			p = body;
			continue;
		}
		check(count == 1, "a reply without exactly one Content-Length");
		char *num_end;
		unsigned long long len = strtoull(cl, &num_end, 10);
		check(num_end != cl && *num_end == '\r', "a Content-Length that is not a number");
		check(len <= (unsigned long long)(end - body),
		      "a body shorter than its Content-Length");
		const char *ct = header_in(h, head_end + 2, "Content-Type", &count);
		check(count == 1, "a reply without exactly one Content-Type");
		if (strncmp(ct, "application/json\r", 17) == 0)
			check_json(status, body, (size_t)len);
		else
			check(status < 400, "an error reply that is not JSON");
		header_in(h, head_end + 2, "Connection", &count);
		closed = count > 0;
		p = body + len;
	}
}

/* Connects the non-blocking fd. libFuzzer's timer signal (SIGALRM, every second) would
 * interrupt a blocking connect (EINTR, seen in CI); non-blocking, the connect is waited for
 * with poll, which is simply asked again when a signal cuts it short. */
static void connect_loopback(int fd, const struct sockaddr_in *sin)
{
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == 0)
		return;
	check(errno == EINPROGRESS || errno == EINTR, strerror(errno));
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int64_t t0 = now_ms();
	for (int n; (n = poll(&p, 1, 1000)) <= 0;) {
		check(n == 0 || errno == EINTR, strerror(errno));
		check(now_ms() - t0 < HANG_MS, "no connection in time");
	}
	int e = 0;
	socklen_t el = sizeof(e);
	check(getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0, strerror(e));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base)
		setup();
	const struct http_limits lim = {
	    .listen = listen_at,
	    .max_connections = 4,
	    .header_timeout_ms = 10000,
	    .idle_timeout_s = 10,
	    .min_body_bps = 1,
	    .body_window_ms = 10000,
	    .max_json_bytes = JSON_LIMIT,
	    .max_target_bytes = TAR_LIMIT,
	    .keys = NULL, /* every route is public: keys_check is never reached */
	};
	struct ff_err err = {0};
	struct http_server *s =
	    http_start(base, NULL, &lim, routes, sizeof(routes) / sizeof(routes[0]), NULL, 0, &err);
	check(s != NULL, err.msg);

	struct sockaddr_in sin = {.sin_family = AF_INET};
	int port = atoi(strchr(listen_at, ':') + 1);
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	check(fd >= 0, "no socket");
	/* Each input from its own loopback source address (127.0.x.y): the client's
	 * shutdown makes it the side that closes first, so every input leaves a TIME_WAIT
	 * behind, and a thousand inputs a second would use up one address's ports. */
	static uint32_t source;
	struct sockaddr_in from = {.sin_family = AF_INET};
	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (source++ % 65000));
	check(bind(fd, (struct sockaddr *)&from, sizeof(from)) == 0, strerror(errno));
	check(fcntl(fd, F_SETFL, O_NONBLOCK) == 0, "cannot make the socket non-blocking");
	connect_loopback(fd, &sin);

	struct ff_buf got;
	ff_buf_init(&got, MAX_REPLY);
	const char *p = (const char *)data, *end = p + size;
	int closed = 0;
	while (p < end && !closed) {
		const char *cut = memchr(p, SPLIT, (size_t)(end - p));
		size_t n = cut ? (size_t)(cut - p) : (size_t)(end - p);
		if (send_all(fd, p, n, &got) < 0)
			break;
		p += n + (cut != NULL);
		/* let the server parse this piece before the next one arrives */
		for (int i = 0; i < 4 && !closed; i++)
			closed = pump(fd, &got);
	}
	/* All sent: the server must answer what it has and close, whatever state it is in. */
	shutdown(fd, SHUT_WR);
	int64_t t0 = now_ms();
	while (!closed) {
		closed = pump(fd, &got);
		check(closed || now_ms() - t0 < HANG_MS,
		      "the connection stays open after the client's end");
	}
	/* A reset where the server has not closed yet, so that it does not wait for us. */
	struct linger lg = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	http_free(s);

	if (getenv("FUZZ_HTTP_DUMP")) /* to see what an input got: FUZZ_HTTP_DUMP=1 replay_http f */
		fwrite(ff_buf_str(&got), 1, got.len, stderr);
	check_replies(ff_buf_str(&got), got.len);
	ff_buf_release(&got);
	return 0;
}
