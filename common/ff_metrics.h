/* ff_metrics — Prometheus' text exposition format (version 0.0.4): latency histograms that
 * any thread observes without a lock, and the writers a /metrics reply is made of. The
 * controller serves it at GET /metrics, each worker on FF_METRICS_LISTEN. Names follow
 * Prometheus' conventions: fuzzforge_ prefix, base units (seconds, bytes), _total counters;
 * `promtool check metrics` judges the output in the tests. */
#ifndef FF_METRICS_H
#define FF_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "ff_buf.h"

#define FF_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Upper bounds, in seconds, of a latency histogram's buckets: 1 ms .. 1 h. */
#define FF_HIST_BUCKETS 14
extern const double ff_hist_bounds[FF_HIST_BUCKETS];

struct ff_histogram {
	atomic_uint_fast64_t counts[FF_HIST_BUCKETS + 1]; /* per bucket, not cumulative; +Inf */
	atomic_uint_fast64_t sum_us;
};

void ff_histogram_observe(struct ff_histogram *h, double seconds);

/* # HELP and # TYPE (counter, gauge, histogram) of a family; its samples follow. */
void ff_metrics_family(struct ff_buf *b, const char *name, const char *type, const char *help);
/* name{labels} value; labels is `a="x",b="y"` (values escaped with ff_metrics_label) or
 * NULL. */
void ff_metrics_sample(struct ff_buf *b, const char *name, const char *labels, double value);
/* The _bucket (cumulative, le=), _sum and _count lines of h. */
void ff_metrics_histogram(struct ff_buf *b, const char *name, const char *labels,
			  const struct ff_histogram *h);
/* key="value" appended to labels (size bytes), with a comma before it unless labels is
 * empty; the value's \, " and newline escaped. */
void ff_metrics_label(char *labels, size_t size, const char *key, const char *value);
/* process_resident_memory_bytes, process_open_fds, process_cpu_seconds_total from /proc. */
void ff_metrics_process(struct ff_buf *b);

/* Process-wide, counted by ff_db and ff_amqp: connections re-made after a loss, and broker
 * connections opened. */
extern atomic_uint_fast64_t ff_metrics_db_reconnects, ff_metrics_amqp_connects;
/* ff_metrics_db_reconnects and ff_metrics_amqp_connects as their families. */
void ff_metrics_connections(struct ff_buf *b);

#endif
