/* output — what a workflow container prints: its stdout and stderr kept up to a cap (a
 * capped log says so) and handed on in pieces as it grows, for the run's followers, at most
 * one piece per OUTPUT_PIECE_INTERVAL_MS; and the `::progress <0-100> <text>` lines of its
 * stdout turned into progress updates, at most one per PROGRESS_MIN_INTERVAL_MS (100 %
 * always goes through). */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_buf.h"

#define OUTPUT_PROGRESS_MIN_INTERVAL_MS 250
#define OUTPUT_PIECE_INTERVAL_MS	250

/* Called with each progress update that gets through; text is valid only during the call,
 * and valid UTF-8 (each byte that is not becomes '?'). */
typedef void (*output_progress_cb)(void *ctx, int pct, const char *text);
/* Called with the log's bytes [at, at + len) kept since the last piece. */
typedef void (*output_piece_cb)(void *ctx, size_t at, const char *data, size_t len);

struct output {
	struct ff_buf logs; /* capped at the logs_cap given to output_init */
	bool logs_truncated;
	char line[512]; /* the stdout line being assembled */
	size_t line_len;
	bool line_overflow; /* longer than line: not a progress line */
	int64_t progress_at;
	size_t piece_end; /* the log's bytes before this went out in pieces */
	int64_t piece_at;
	output_progress_cb on_progress;
	output_piece_cb on_piece; /* NULL: no pieces */
	void *ctx;
};

void output_init(struct output *o, size_t logs_cap, output_progress_cb on_progress,
		 output_piece_cb on_piece, void *ctx);
void output_release(struct output *o);
/* A piece of the container's output (stream 1 stdout, 2 stderr), as docker_output_cb;
 * stream 0 (no data) says time passed, so that a tail the interval held back goes out. */
void output_feed(void *output, int stream, const char *data, size_t len);

/* Parses a "::progress <0-100> <text>" line: true with *pct and *text (pointing into line)
 * when it is one. */
bool output_progress_parse(const char *line, int *pct, const char **text);

#endif
