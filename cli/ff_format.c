/* ff_format — tables and terminal-safe text; see ff_format.h. */
#include "ff_format.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ff_table {
	int ncols;
	char *headers[FF_TABLE_MAX_COLS];
	char **cells; /* nrows * ncols, row-major */
	size_t nrows, cap;
};

char *ff_text_clean(const char *s)
{
	if (!s)
		s = "";
	size_t n = strlen(s);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || c == '\r' || c == '\n') {
			out[j++] = ' ';
		} else if (c < 0x20 || c == 0x7f) {
			out[j++] = '?';
		} else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
			   (unsigned char)s[i + 1] <= 0x9f) {
			/* U+0080..U+009F: C1 controls, CSI among them */
			out[j++] = '?';
			i++;
		} else {
			out[j++] = (char)c;
		}
	}
	out[j] = '\0';
	return out;
}

size_t ff_text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

struct ff_table *ff_table_new(int ncols, const char *const *headers)
{
	if (ncols < 1 || ncols > FF_TABLE_MAX_COLS)
		return NULL;
	struct ff_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	for (int i = 0; i < ncols; i++) {
		t->headers[i] = ff_text_clean(headers[i]);
		if (!t->headers[i]) {
			ff_table_free(t);
			return NULL;
		}
	}
	return t;
}

void ff_table_free(struct ff_table *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->ncols; i++)
		free(t->headers[i]);
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

size_t ff_table_rows(const struct ff_table *t)
{
	return t->nrows;
}

int ff_table_add(struct ff_table *t, const char *const *cells, struct ff_err *err)
{
	size_t nc = (size_t)t->ncols;
	if (t->nrows >= FF_TABLE_MAX_ROWS)
		return ff_err_set(err, FF_ETOOBIG, "more than %d rows", FF_TABLE_MAX_ROWS);
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **p = reallocarray(t->cells, ncap * nc, sizeof(*p));
		if (!p)
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		t->cells = p;
		t->cap = ncap;
	}
	char **row = t->cells + t->nrows * nc;
	for (size_t i = 0; i < nc; i++) {
		row[i] = ff_text_clean(cells[i] ? cells[i] : "-");
		if (!row[i]) {
			while (i-- > 0)
				free(row[i]);
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		}
	}
	t->nrows++;
	return 0;
}

static void print_row(const struct ff_table *t, char *const *row, const size_t *width, FILE *f)
{
	size_t pending = 0; /* padding owed, written only before a non-empty cell */
	for (int c = 0; c < t->ncols; c++) {
		if (row[c][0]) {
			fprintf(f, "%*s%s", (int)pending, "", row[c]);
			pending = 0;
		}
		size_t w = ff_text_width(row[c]);
		pending += (w < width[c] ? width[c] - w : 0) + 2;
	}
	fputc('\n', f);
}

void ff_table_print(const struct ff_table *t, FILE *f)
{
	size_t width[FF_TABLE_MAX_COLS] = {0};
	size_t nc = (size_t)t->ncols;

	for (size_t c = 0; c < nc; c++) {
		width[c] = ff_text_width(t->headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = ff_text_width(t->cells[r * nc + c]);
			if (w > width[c])
				width[c] = w;
		}
		if (width[c] > FF_TABLE_MAX_WIDTH)
			width[c] = FF_TABLE_MAX_WIDTH;
	}
	print_row(t, t->headers, width, f);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(t, t->cells + r * nc, width, f);
}

void ff_size_human(uint64_t n, char *buf, size_t bufsz)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	if (n < 1024) {
		snprintf(buf, bufsz, "%" PRIu64 " B", n);
		return;
	}
	double v = (double)n / 1024.0;
	size_t u = 0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, bufsz, "%.1f %s", v, units[u]);
}

void ff_location(const char *path, long line, char *buf, size_t bufsz)
{
	if (!path || !*path)
		snprintf(buf, bufsz, "-");
	else if (line > 0)
		snprintf(buf, bufsz, "%s:%ld", path, line);
	else
		snprintf(buf, bufsz, "%s", path);
}
