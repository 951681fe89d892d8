/* ff_metrics — Prometheus text exposition; see ff_metrics.h. */
#include "ff_metrics.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const double ff_hist_bounds[FF_HIST_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
						0.25,  0.5,    1,     2.5,  10,	   60,	 3600};

atomic_uint_fast64_t ff_metrics_db_reconnects, ff_metrics_amqp_connects;

void ff_histogram_observe(struct ff_histogram *h, double seconds)
{
	int i = 0;
	while (i < FF_HIST_BUCKETS && seconds > ff_hist_bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (uint_fast64_t)(seconds > 0 ? seconds * 1e6 : 0),
				  memory_order_relaxed);
}

/* Appends printf output; a failed append (the buffer's limit) only shortens the reply. */
__attribute__((format(printf, 2, 3))) static void put(struct ff_buf *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		ff_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void ff_metrics_family(struct ff_buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void ff_metrics_sample(struct ff_buf *b, const char *name, const char *labels, double value)
{
	if (labels && *labels)
		put(b, "%s{%s} %.17g\n", name, labels, value);
	else
		put(b, "%s %.17g\n", name, value);
}

void ff_metrics_histogram(struct ff_buf *b, const char *name, const char *labels,
			  const struct ff_histogram *h)
{
	const char *sep = labels && *labels ? "," : "";
	labels = labels ? labels : "";
	uint_fast64_t cum = 0;
	for (int i = 0; i <= FF_HIST_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
		if (i < FF_HIST_BUCKETS)
			put(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
			    ff_hist_bounds[i], (unsigned long long)cum);
		else
			put(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
			    (unsigned long long)cum);
	}
	double sum = (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6;
	put(b, "%s_sum%s%s%s %.6f\n", name, *labels ? "{" : "", labels, *labels ? "}" : "", sum);
	put(b, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
	    (unsigned long long)cum);
}

void ff_metrics_label(char *labels, size_t size, const char *key, const char *value)
{
	size_t n = strlen(labels);
	int w = snprintf(labels + n, size - n, "%s%s=\"", n ? "," : "", key);
	if (w < 0 || (size_t)w >= size - n)
		return;
	n += (size_t)w;
	for (const char *p = value ? value : ""; *p && n + 3 < size; p++) {
		if (*p == '\\' || *p == '"' || *p == '\n') {
			labels[n++] = '\\';
			labels[n++] = *p == '\n' ? 'n' : *p;
		} else {
			labels[n++] = *p;
		}
	}
	if (n + 1 < size)
		labels[n++] = '"';
	labels[n] = '\0';
}

void ff_metrics_process(struct ff_buf *b)
{
	char line[256];
	long rss_kib = 0, fds = 0;
	unsigned long ut = 0, st = 0;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &rss_kib) == 1)
			break;
	if (f)
		fclose(f);
	if ((f = fopen("/proc/self/stat", "r"))) {
		char stat[1024];
		const char *after = fgets(stat, sizeof(stat), f) ? strrchr(stat, ')') : NULL;
		if (!after || sscanf(after, ") %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				     &ut, &st) != 2)
			ut = st = 0;
		fclose(f);
	}
	DIR *d = opendir("/proc/self/fd");
	while (d && readdir(d))
		fds++;
	if (d) {
		closedir(d);
		fds -= 3; /* ".", ".." and the directory's own descriptor */
	}
	ff_metrics_family(b, "process_resident_memory_bytes", "gauge",
			  "Resident memory size in bytes.");
	ff_metrics_sample(b, "process_resident_memory_bytes", NULL, (double)rss_kib * 1024);
	ff_metrics_family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
	ff_metrics_sample(b, "process_open_fds", NULL, (double)fds);
	ff_metrics_family(b, "process_cpu_seconds_total", "counter",
			  "Total user and system CPU time spent in seconds.");
	ff_metrics_sample(b, "process_cpu_seconds_total", NULL,
			  (double)(ut + st) / (double)sysconf(_SC_CLK_TCK));
}

void ff_metrics_connections(struct ff_buf *b)
{
	ff_metrics_family(b, "fuzzforge_db_reconnects_total", "counter",
			  "PostgreSQL connections re-made after one was lost.");
	ff_metrics_sample(b, "fuzzforge_db_reconnects_total", NULL,
			  (double)atomic_load(&ff_metrics_db_reconnects));
	ff_metrics_family(b, "fuzzforge_broker_connections_total", "counter",
			  "RabbitMQ connections opened (the first of each user, then reconnects).");
	ff_metrics_sample(b, "fuzzforge_broker_connections_total", NULL,
			  (double)atomic_load(&ff_metrics_amqp_connects));
}
