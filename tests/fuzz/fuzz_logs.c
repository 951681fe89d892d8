/* fuzz_logs — a container's log stream as the worker takes it: the engine's multiplexed
 * frames through docker_demux_feed into output_feed (the capped log, the ::progress lines).
 * The input's first two bytes choose the log's cap (0..4095 bytes, so that capping is hit)
 * and the third how the stream is cut; the rest is the engine's stream, which is fed three
 * ways: whole, in pieces whose lengths the input chooses, and a byte at a time.
 *
 * Beyond memory errors it asserts: the kept log never exceeds its cap, after every piece;
 * it is exactly the first cap bytes of the frames' payloads (computed here independently,
 * frame by frame), marked truncated exactly when there were more; every progress update has
 * a percentage in 0..100 and text that is valid UTF-8 (progress_text is a text column); and
 * how the stream was cut changes nothing: the three feeds give the same log and the same
 * updates. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "ff_buf.h"
#include "ff_util.h"
#include "output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_logs: %s\n", what);
		abort();
	}
}

/* The progress updates one feed produced, as "pct text\n" lines. */
struct seen {
	struct ff_buf updates;
};

static void on_progress(void *ctx, int pct, const char *text)
{
	struct seen *s = ctx;
	check(pct >= 0 && pct <= 100, "a progress percentage out of 0..100");
	check(ff_utf8_valid(text, strlen(text)), "progress text that is not valid UTF-8");
	char n[8];
	snprintf(n, sizeof(n), "%d ", pct);
	ff_buf_append(&s->updates, n, strlen(n));
	ff_buf_append(&s->updates, text, strlen(text));
	ff_buf_append(&s->updates, "\n", 1);
}

struct feed {
	struct output out;
	struct seen seen;
	struct docker_demux dm;
};

static void feed_init(struct feed *f, size_t cap)
{
	ff_buf_init(&f->seen.updates, SIZE_MAX);
	output_init(&f->out, cap, on_progress, NULL, &f->seen);
	f->dm = (struct docker_demux){.on_data = output_feed, .ctx = &f->out};
}

static void feed_piece(struct feed *f, const char *p, size_t n)
{
	docker_demux_feed(&f->dm, p, n);
	check(f->out.logs.len <= f->out.logs.max, "the kept log is over its cap");
}

static void feed_release(struct feed *f)
{
	output_release(&f->out);
	ff_buf_release(&f->seen.updates);
}

static int same(const struct ff_buf *a, const struct ff_buf *b)
{
	return a->len == b->len && (!a->len || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t cap = ((size_t)data[0] << 8 | data[1]) & 0xfff;
	unsigned cut = data[2];
	const char *s = (const char *)data + 3;
	size_t n = size - 3;

	/* The payloads, frame by frame, without the demultiplexer: what the log must hold. */
	struct ff_buf want;
	ff_buf_init(&want, SIZE_MAX);
	for (size_t i = 0; i + 8 <= n;) {
		const unsigned char *h = (const unsigned char *)s + i;
		size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
		i += 8;
		size_t take = len < n - i ? len : n - i;
		ff_buf_append(&want, s + i, take);
		i += take;
	}

	struct feed whole, pieces, bytes;
	feed_init(&whole, cap);
	feed_init(&pieces, cap);
	feed_init(&bytes, cap);
	int64_t t0 = ff_now_ms();
	feed_piece(&whole, s, n);
	/* piece lengths 1..16 from the cut byte and the stream's own bytes: the fuzzer moves
	 * the cuts by changing either */
	for (size_t i = 0, k = 0; i < n; k++) {
		size_t len = 1 + (((unsigned char)s[k % n] ^ cut) + k) % 16;
		if (len > n - i)
			len = n - i;
		feed_piece(&pieces, s + i, len);
		i += len;
	}
	for (size_t i = 0; i < n; i++)
		feed_piece(&bytes, s + i, 1);

	size_t keep = want.len < cap ? want.len : cap;
	check(whole.out.logs.len == keep &&
		  (!keep || memcmp(whole.out.logs.data, want.data, keep) == 0),
	      "the kept log is not the first cap bytes of the payloads");
	check(whole.out.logs_truncated == (want.len > cap), "truncated says the wrong thing");
	check(same(&whole.out.logs, &pieces.out.logs) && same(&whole.out.logs, &bytes.out.logs),
	      "the kept log depends on how the stream was cut");
	check(whole.out.logs_truncated == pieces.out.logs_truncated &&
		  whole.out.logs_truncated == bytes.out.logs_truncated,
	      "truncated depends on how the stream was cut");
	/* Progress updates are rate-limited by the clock: compared only when all three feeds
	 * ran well within one interval. */
	if (ff_now_ms() - t0 < OUTPUT_PROGRESS_MIN_INTERVAL_MS / 2)
		check(same(&whole.seen.updates, &pieces.seen.updates) &&
			  same(&whole.seen.updates, &bytes.seen.updates),
		      "the progress updates depend on how the stream was cut");

	feed_release(&whole);
	feed_release(&pieces);
	feed_release(&bytes);
	ff_buf_release(&want);
	return 0;
}
