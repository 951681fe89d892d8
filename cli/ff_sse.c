/* ff_sse — the event stream parser; see ff_sse.h. */
#include "ff_sse.h"

#include <string.h>

#include "ff_err.h"

void ff_sse_init(struct ff_sse *p, ff_sse_fn on_message, void *ctx)
{
	*p = (struct ff_sse){.on_message = on_message, .ctx = ctx};
	ff_buf_init(&p->line, FF_SSE_MAX);
	ff_buf_init(&p->data, FF_SSE_MAX);
}

void ff_sse_release(struct ff_sse *p)
{
	ff_buf_release(&p->line);
	ff_buf_release(&p->data);
}

static void copy_field(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* One whole line, without its end. */
static int line(struct ff_sse *p, const char *l, size_t n)
{
	if (n == 0) { /* a blank line: the message is complete */
		if (p->data.len || p->event[0]) {
			if (p->data.len && p->data.data[p->data.len - 1] == '\n')
				p->data.data[--p->data.len] = '\0';
			p->on_message(p->ctx, p->event[0] ? p->event : "message", p->id,
				      p->data.len ? p->data.data : "");
		}
		p->data.len = 0;
		if (p->data.data)
			p->data.data[0] = '\0';
		p->event[0] = '\0';
		return 0;
	}
	if (l[0] == ':')
		return 0; /* a comment: a keep-alive */
	const char *colon = memchr(l, ':', n);
	size_t name_len = colon ? (size_t)(colon - l) : n;
	const char *v = colon ? colon + 1 : l + n;
	if (colon && v < l + n && *v == ' ')
		v++;
	if (name_len == 4 && !memcmp(l, "data", 4)) {
		int rc = ff_buf_append(&p->data, v, (size_t)(l + n - v));
		return rc ? rc : ff_buf_append(&p->data, "\n", 1);
	}
	if (name_len == 5 && !memcmp(l, "event", 5))
		copy_field(p->event, sizeof(p->event), v);
	else if (name_len == 2 && !memcmp(l, "id", 2) && !memchr(v, '\0', (size_t)(l + n - v)))
		copy_field(p->id, sizeof(p->id), v);
	return 0; /* retry: and unknown fields are ignored */
}

int ff_sse_feed(struct ff_sse *p, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = buf[i];
		if (ch == '\n' && p->cr) {
			p->cr = 0;
			continue;
		}
		p->cr = ch == '\r';
		if (ch == '\n' || ch == '\r') {
			int rc = line(p, p->line.len ? p->line.data : "", p->line.len);
			p->line.len = 0;
			if (rc)
				return rc;
			continue;
		}
		int rc = ff_buf_append(&p->line, &ch, 1);
		if (rc)
			return rc;
	}
	return 0;
}
