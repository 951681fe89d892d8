/* ff_format — tables and terminal-safe text; see ff_format.h. */
#include "ff_format.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

/* The ANSI colour of a cell that is one of these words (a level, a state, a baseline
 * state), or NULL. */
static const char *colour_of(const char *cell)
{
	static const struct {
		const char *word, *sgr;
	} words[] = {
	    {"error", "31"},   {"failed", "31"},   {"timed_out", "31"}, {"new", "31"},
	    {"warning", "33"}, {"retrying", "33"}, {"cancelled", "33"}, {"note", "36"},
	    {"running", "36"}, {"queued", "36"},   {"succeeded", "32"}, {"unchanged", "2"},
	    {"absent", "32"},  {"dead", "31"},	   {"idle", "32"},
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(cell, words[i].word))
			return words[i].sgr;
	return NULL;
}

/* The first max characters of s (the last of them "…" when s is longer), into out. */
static const char *fit_cell(const char *s, size_t max, char *out, size_t outsz)
{
	if (ff_text_width(s) <= max || max == 0)
		return s;
	size_t n = 0, chars = 0;
	for (; s[n] && n + 4 < outsz; n++) {
		if (((unsigned char)s[n] & 0xc0) != 0x80 && ++chars == max)
			break; /* room for the ellipsis */
	}
	memcpy(out, s, n);
	memcpy(out + n, "\u2026", strlen("\u2026"));
	out[n + strlen("\u2026")] = '\0';
	return out;
}

/* cut: cells wider than their column are cut (a fitted table), else printed whole. */
static void print_row(const struct ff_table *t, char *const *row, const size_t *width, bool cut,
		      bool colour, FILE *f)
{
	char fitted[1024];
	size_t pending = 0; /* padding owed, written only before a non-empty cell */
	for (int c = 0; c < t->ncols; c++) {
		const char *cell =
		    cut ? fit_cell(row[c], width[c], fitted, sizeof(fitted)) : row[c];
		const char *sgr = colour ? colour_of(cell) : NULL;
		if (cell[0]) {
			fprintf(f, "%*s", (int)pending, "");
			if (sgr)
				fprintf(f, "\033[%sm%s\033[0m", sgr, cell);
			else
				fputs(cell, f);
			pending = 0;
		}
		size_t w = ff_text_width(cell);
		pending += (w < width[c] ? width[c] - w : 0) + 2;
	}
	fputc('\n', f);
}

/* Narrows the widest columns, one character at a time, until the row fits in max (no
 * column below its header or FF_TABLE_MIN_WIDTH); a table that cannot fit stays as wide
 * as it must. */
static void fit_widths(size_t *width, const size_t *floor, size_t nc, size_t max)
{
	size_t total = 2 * (nc - 1);
	for (size_t c = 0; c < nc; c++)
		total += width[c];
	while (total > max) {
		size_t widest = nc;
		for (size_t c = nc; c-- > 0;) /* ties: the rightmost, the message, gives first */
			if (width[c] > floor[c] && (widest == nc || width[c] > width[widest]))
				widest = c;
		if (widest == nc)
			return;
		width[widest]--;
		total--;
	}
}

void ff_table_print_fit(const struct ff_table *t, FILE *f, size_t max_width, bool colour)
{
	size_t width[FF_TABLE_MAX_COLS] = {0}, floor[FF_TABLE_MAX_COLS];
	size_t nc = (size_t)t->ncols;

	for (size_t c = 0; c < nc; c++) {
		width[c] = ff_text_width(t->headers[c]);
		floor[c] = width[c] > FF_TABLE_MIN_WIDTH ? width[c] : FF_TABLE_MIN_WIDTH;
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = ff_text_width(t->cells[r * nc + c]);
			if (w > width[c])
				width[c] = w;
		}
		if (width[c] > FF_TABLE_MAX_WIDTH && (max_width == 0 || c + 1 < nc))
			width[c] = FF_TABLE_MAX_WIDTH;
		if (floor[c] > width[c])
			floor[c] = width[c];
	}
	if (max_width)
		fit_widths(width, floor, nc, max_width);
	print_row(t, t->headers, width, max_width > 0, false, f);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(t, t->cells + r * nc, width, max_width > 0, colour, f);
}

void ff_table_print(const struct ff_table *t, FILE *f)
{
	ff_table_print_fit(t, f, ff_terminal_width(f), ff_colour(f));
}

size_t ff_terminal_width(FILE *f)
{
	struct winsize ws;
	if (!isatty(fileno(f)))
		return 0;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *cols = getenv("COLUMNS");
	long n = cols ? strtol(cols, NULL, 10) : 0;
	return n > 0 ? (size_t)n : 80;
}

bool ff_colour(FILE *f)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	return isatty(fileno(f)) && !(no && *no) && !(term && !strcmp(term, "dumb"));
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

void ff_age(const char *ts, time_t now, char *buf, size_t bufsz)
{
	struct tm tm = {0};
	const char *rest = ts ? strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest) {
		snprintf(buf, bufsz, "%s", ts ? ts : "-");
		return;
	}
	long s = (long)difftime(now, timegm(&tm));
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, bufsz, "%lds ago", s);
	else if (s < 7200)
		snprintf(buf, bufsz, "%ldm ago", s / 60);
	else
		snprintf(buf, bufsz, "%ldh ago", s / 3600);
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
