/* parse — the record parser of parse.h. */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

static void copy_bytes(void *dst, const uint8_t *src, size_t n)
{
	uint8_t *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = src[i];
}

static int parse_name(struct rec *r, const uint8_t *p)
{
	r->name = malloc(r->len); /* BUG: no room for the terminator */
	if (!r->name)
		return -1;
	copy_bytes(r->name, p, r->len);
	r->name[r->len] = '\0';
	return 0;
}

static int parse_data(struct rec *r, const uint8_t *p)
{
	r->data = malloc(r->len ? r->len : 1);
	if (!r->data)
		return -1;
	copy_bytes(r->data, p, r->len);
	return 0;
}

int rec_parse(const uint8_t *buf, size_t size, struct rec_file *f)
{
	size_t off = 4;

	memset(f, 0, sizeof(*f));
	if (size < 4 || buf[0] != 'R' || buf[1] != 'E' || buf[2] != 'C' || buf[3] != '1')
		return -1;
	while (off < size && f->n < REC_MAX) {
		struct rec *r = &f->recs[f->n];
		int rc = 0;

		if (size - off < 3)
			goto fail;
		r->type = buf[off];
		r->len = (uint16_t)(buf[off + 1] << 8 | buf[off + 2]);
		off += 3;
		if (r->len > size - off)
			goto fail;
		if (r->type == REC_END)
			break;
		f->n++;
		if (r->type == REC_NAME)
			rc = parse_name(r, buf + off);
		else if (r->type == REC_DATA)
			rc = parse_data(r, buf + off);
		if (rc < 0)
			goto fail;
		off += r->len;
	}
	return 0;

fail:
	rec_file_release(f);
	return -1;
}

void rec_file_release(struct rec_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->recs[i].name);
		free(f->recs[i].data);
	}
	memset(f, 0, sizeof(*f));
}
