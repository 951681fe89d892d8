/* output — container output capture and progress lines; see output.h. */
#include "output.h"

#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

#define PROGRESS_PREFIX "::progress "

void output_init(struct output *o, size_t logs_cap, output_progress_cb on_progress,
		 output_piece_cb on_piece, void *ctx)
{
	*o = (struct output){.on_progress = on_progress, .on_piece = on_piece, .ctx = ctx};
	ff_buf_init(&o->logs, logs_cap);
}

void output_release(struct output *o)
{
	ff_buf_release(&o->logs);
}

bool output_progress_parse(const char *line, int *pct, const char **text)
{
	if (strncmp(line, PROGRESS_PREFIX, strlen(PROGRESS_PREFIX)) != 0)
		return false;
	const char *p = line + strlen(PROGRESS_PREFIX);
	char *end;
	long v = strtol(p, &end, 10);
	if (end == p || v < 0 || v > 100)
		return false;
	while (*end == ' ')
		end++;
	*pct = (int)v;
	*text = end;
	return true;
}

/* What fits under the cap is kept; the rest only marks the log truncated. */
static void logs_append(struct output *o, const char *data, size_t len)
{
	size_t room = o->logs.max - o->logs.len;
	if (len > room) {
		o->logs_truncated = true;
		len = room;
	}
	if (len)
		ff_buf_append(&o->logs, data, len); /* on no memory the log just stops */
}

static void progress_line(struct output *o, char *line)
{
	int pct;
	const char *text;
	if (!output_progress_parse(line, &pct, &text))
		return;
	/* progress_text is a text column: a byte that is not UTF-8 (a Latin-1 "ä") would make
	 * PostgreSQL refuse every such update */
	ff_utf8_sanitize(line);
	int64_t now = ff_now_ms();
	if (pct < 100 && now - o->progress_at < OUTPUT_PROGRESS_MIN_INTERVAL_MS)
		return; /* a chatty workflow must not turn into a write per line */
	o->progress_at = now;
	if (o->on_progress)
		o->on_progress(o->ctx, pct, text);
}

/* What the log gained since the last piece, once the interval has passed. */
static void piece(struct output *o)
{
	int64_t now = ff_now_ms();
	if (!o->on_piece || o->logs.len == o->piece_end ||
	    now - o->piece_at < OUTPUT_PIECE_INTERVAL_MS)
		return;
	o->on_piece(o->ctx, o->piece_end, o->logs.data + o->piece_end, o->logs.len - o->piece_end);
	o->piece_end = o->logs.len;
	o->piece_at = now;
}

void output_feed(void *output, int stream, const char *data, size_t len)
{
	struct output *o = output;
	logs_append(o, data, len);
	piece(o);
	if (stream != 1)
		return;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			o->line[o->line_len] = '\0';
			if (!o->line_overflow)
				progress_line(o, o->line);
			o->line_len = 0;
			o->line_overflow = false;
		} else if (o->line_len + 1 < sizeof(o->line)) {
			o->line[o->line_len++] = data[i];
		} else {
			o->line_overflow = true;
		}
	}
}
