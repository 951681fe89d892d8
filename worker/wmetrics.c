/* wmetrics — a worker's metrics and their listener; see wmetrics.h. */
#include "wmetrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ff_config.h"
#include "ff_log.h"
#include "ff_metrics.h"

#define MAX_SERIES   64 /* distinct workflows, and distinct Engine calls */
#define NAME_LEN     96
#define READ_TIMEOUT 2000 /* ms a scraper has to send its request head */

struct series {
	char name[NAME_LEN], outcome[16];
	double count; /* runs: by (name, outcome); calls: failures */
	struct ff_histogram h;
};

static struct {
	pthread_mutex_t mu;
	atomic_int busy, total;
	atomic_ulong returned;
	struct series runs[MAX_SERIES], durations[MAX_SERIES], calls[MAX_SERIES], pulls[MAX_SERIES];
	int nruns, ndurations, ncalls, npulls;
	pthread_t thread;
	int listen_fd, wake[2];
	bool started;
} m = {.mu = PTHREAD_MUTEX_INITIALIZER, .listen_fd = -1, .wake = {-1, -1}};

void wmetrics_slots(int busy, int total)
{
	atomic_store(&m.busy, busy);
	atomic_store(&m.total, total);
}

void wmetrics_delivery_returned(void)
{
	atomic_fetch_add(&m.returned, 1);
}

/* Under mu: the series named (name, outcome) in tab, made if there is room, else NULL. */
static struct series *series_of(struct series *tab, int *n, const char *name, const char *outcome)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(tab[i].name, name) && !strcmp(tab[i].outcome, outcome))
			return &tab[i];
	if (*n == MAX_SERIES)
		return NULL;
	struct series *s = &tab[(*n)++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->outcome, sizeof(s->outcome), "%s", outcome);
	return s;
}

void wmetrics_run(const char *workflow, const char *outcome, double seconds)
{
	pthread_mutex_lock(&m.mu);
	struct series *s = series_of(m.runs, &m.nruns, workflow ? workflow : "", outcome);
	if (s)
		s->count++;
	if ((s = series_of(m.durations, &m.ndurations, workflow ? workflow : "", "")))
		ff_histogram_observe(&s->h, seconds);
	pthread_mutex_unlock(&m.mu);
}

void wmetrics_call_name(const char *method, const char *path, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "%s ", method);
	const char *p = path;
	if (!strncmp(p, "/v1.", 4)) /* the API version prefix */
		p = strchr(p + 1, '/') ? strchr(p + 1, '/') : p;
	/* /containers/<id>/x and /volumes/<name>: the id or name is the second segment */
	for (int seg = 0; *p && *p != '?' && n + 1 < size; seg++) {
		const char *end = p + 1 + strcspn(p + 1, "/?");
		bool is_id = seg == 1 && strncmp(p, "/create", 7) && strncmp(p, "/json", 5);
		int w = is_id ? snprintf(out + n, size - n, "/{id}")
			      : snprintf(out + n, size - n, "%.*s", (int)(end - p), p);
		n += w > 0 ? (size_t)w : 0;
		p = end;
	}
	if (n >= size)
		out[size - 1] = '\0';
}

void wmetrics_engine_call(const char *method, const char *path, double seconds, bool failed)
{
	char name[NAME_LEN];
	wmetrics_call_name(method, path, name, sizeof(name));
	pthread_mutex_lock(&m.mu);
	struct series *s = series_of(m.calls, &m.ncalls, name, "");
	if (s) {
		ff_histogram_observe(&s->h, seconds);
		s->count += failed;
	}
	pthread_mutex_unlock(&m.mu);
}

void wmetrics_image_pull(const char *outcome, double seconds)
{
	pthread_mutex_lock(&m.mu);
	struct series *s = series_of(m.pulls, &m.npulls, outcome, "");
	if (s) {
		ff_histogram_observe(&s->h, seconds);
		s->count++;
	}
	pthread_mutex_unlock(&m.mu);
}

/* Under mu: a family with a sample (its count) or a histogram per series, labelled key=name
 * and, where the series has one, outcome. */
static void put_family(struct ff_buf *b, const char *name, const char *type, const char *help,
		       const char *key, const struct series *tab, int n)
{
	char labels[256];
	ff_metrics_family(b, name, type, help);
	for (int i = 0; i < n; i++) {
		labels[0] = '\0';
		ff_metrics_label(labels, sizeof(labels), key, tab[i].name);
		if (tab[i].outcome[0])
			ff_metrics_label(labels, sizeof(labels), "outcome", tab[i].outcome);
		if (!strcmp(type, "histogram"))
			ff_metrics_histogram(b, name, labels, &tab[i].h);
		else
			ff_metrics_sample(b, name, labels, tab[i].count);
	}
}

void wmetrics_render(struct ff_buf *b)
{
	pthread_mutex_lock(&m.mu);
	put_family(b, "fuzzforge_worker_runs_total", "counter",
		   "Attempts this worker's executors finished, by workflow and outcome.",
		   "workflow", m.runs, m.nruns);
	put_family(b, "fuzzforge_run_duration_seconds", "histogram",
		   "Time an executor spent on an attempt, by workflow.", "workflow", m.durations,
		   m.ndurations);
	put_family(b, "fuzzforge_engine_call_duration_seconds", "histogram",
		   "Docker Engine API calls, by method and path (ids folded).", "call", m.calls,
		   m.ncalls);
	put_family(b, "fuzzforge_engine_call_failures_total", "counter",
		   "Docker Engine API calls with no reply or a 5xx status.", "call", m.calls,
		   m.ncalls);
	put_family(b, "fuzzforge_image_pulls_total", "counter",
		   "Workflow images pulled from FF_REGISTRY, by outcome.", "outcome", m.pulls,
		   m.npulls);
	put_family(b, "fuzzforge_image_pull_duration_seconds", "histogram",
		   "Time pulls from FF_REGISTRY took, by outcome.", "outcome", m.pulls, m.npulls);
	pthread_mutex_unlock(&m.mu);
	int busy = atomic_load(&m.busy), total = atomic_load(&m.total);
	ff_metrics_family(b, "fuzzforge_worker_slots", "gauge",
			  "Runs held against FF_WORKER_CONCURRENCY, busy or free (busy may exceed "
			  "it by one: a run still recording while the next one starts).");
	ff_metrics_sample(b, "fuzzforge_worker_slots", "state=\"busy\"", busy);
	ff_metrics_sample(b, "fuzzforge_worker_slots", "state=\"free\"",
			  total > busy ? total - busy : 0);
	ff_metrics_family(b, "fuzzforge_worker_deliveries_returned_total", "counter",
			  "Deliveries handed back to the queue unstarted: no executor was free.");
	ff_metrics_sample(b, "fuzzforge_worker_deliveries_returned_total", NULL,
			  (double)atomic_load(&m.returned));
	ff_metrics_connections(b);
	ff_metrics_process(b);
}

/* One scrape: the request head, then the reply; the connection closes. */
static void serve(int fd)
{
	char head[2048];
	size_t n = 0;
	while (n < sizeof(head) - 1 && !memmem(head, n, "\r\n\r\n", 4)) {
		if (poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, READ_TIMEOUT) <= 0)
			return;
		ssize_t got = read(fd, head + n, sizeof(head) - 1 - n);
		if (got <= 0)
			return;
		n += (size_t)got;
	}
	head[n] = '\0';
	bool ok = !strncmp(head, "GET /metrics ", 13) || !strncmp(head, "GET /metrics?", 13);
	struct ff_buf body;
	ff_buf_init(&body, SIZE_MAX);
	if (ok)
		wmetrics_render(&body);
	else
		ff_buf_append(&body, "only GET /metrics here\n", 23);
	char hdr[256];
	int h = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 ok ? "200 OK" : "404 Not Found",
			 ok ? FF_METRICS_CONTENT_TYPE : "text/plain", body.len);
	(void)!write(fd, hdr, (size_t)h);
	for (size_t off = 0; off < body.len;) {
		ssize_t w = write(fd, body.data + off, body.len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	ff_buf_release(&body);
}

static void *listen_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd fds[] = {{.fd = m.listen_fd, .events = POLLIN},
				       {.fd = m.wake[0], .events = POLLIN}};
		if (poll(fds, 2, -1) < 0)
			continue;
		if (fds[1].revents)
			return NULL;
		int fd = accept(m.listen_fd, NULL, NULL);
		if (fd >= 0) {
			serve(fd);
			close(fd);
		}
	}
}

int wmetrics_listen(const char *listen_addr, struct ff_err *err)
{
	if (!listen_addr || !*listen_addr)
		return 0;
	char host[256];
	int port, one = 1;
	if (ff_config_split_hostport(listen_addr, host, sizeof(host), &port, err) < 0)
		return -1;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sin.sin_addr) != 1)
		return ff_err_set(err, FF_EINVAL, "FF_METRICS_LISTEN: '%s' is not an IPv4 address",
				  host);
	m.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m.listen_fd < 0 ||
	    setsockopt(m.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(m.listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(m.listen_fd, 16) < 0 || pipe(m.wake) < 0) {
		int e = errno;
		wmetrics_stop();
		return ff_err_set(err, FF_EUNAVAIL, "FF_METRICS_LISTEN %s: %s", listen_addr,
				  strerror(e));
	}
	if (pthread_create(&m.thread, NULL, listen_main, NULL) != 0) {
		wmetrics_stop();
		return ff_err_set(err, FF_EINTERNAL, "cannot start the metrics listener");
	}
	m.started = true;
	ff_info("metrics on http://%s/metrics", listen_addr);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void wmetrics_stop(void)
{
	if (m.started) {
		(void)!write(m.wake[1], "x", 1);
		pthread_join(m.thread, NULL);
		m.started = false;
	}
	close_fd(&m.listen_fd);
	close_fd(&m.wake[0]);
	close_fd(&m.wake[1]);
}
