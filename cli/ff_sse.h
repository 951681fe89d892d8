/* ff_sse — a Server-Sent Events parser (the WHATWG "event stream" format), fed the body of
 * GET /api/v1/runs/{id}/events?follow=1 in pieces as it arrives: each message (the lines up
 * to a blank one) goes to a callback with its event name ("message" when none was given),
 * the last event id seen, and its data lines joined by '\n'. Comment lines (":…") are
 * skipped; a line or a message past FF_SSE_MAX bytes is an error. Pure: no I/O. */
#ifndef FF_SSE_H
#define FF_SSE_H

#include <stddef.h>

#include "ff_buf.h"

#define FF_SSE_MAX (1u << 20)

typedef void (*ff_sse_fn)(void *ctx, const char *event, const char *id, const char *data);

struct ff_sse {
	struct ff_buf line, data;
	char event[64];
	char id[64]; /* the last event id, kept across messages as the format says */
	int cr;	     /* the last byte was a CR: a LF right after it ends no second line */
	ff_sse_fn on_message;
	void *ctx;
};

void ff_sse_init(struct ff_sse *p, ff_sse_fn on_message, void *ctx);
void ff_sse_release(struct ff_sse *p);
/* 0, or FF_ETOOBIG / FF_ENOMEM: the stream cannot go on. */
int ff_sse_feed(struct ff_sse *p, const char *buf, size_t n);

#endif
