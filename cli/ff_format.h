/* ff_format — what ff prints for people: aligned tables, terminal-safe text, sizes.
 *
 * Everything shown comes from the server and, through findings and logs, from the analysed
 * code itself, so text meant for a terminal goes through ff_text_clean first: a finding's
 * message must not be able to move the cursor or retitle the window.
 */
#ifndef FF_FORMAT_H
#define FF_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ff_err.h"

#define FF_TABLE_MAX_COLS 8
#define FF_TABLE_MAX_ROWS 1000000
/* Columns other than the last are padded to their widest cell up to this many characters;
 * a longer cell is printed whole (cut, on a terminal) and pushes the rest of its row right. */
#define FF_TABLE_MAX_WIDTH 48

struct ff_table;

/* A table with ncols (1..FF_TABLE_MAX_COLS) columns titled by headers (copied). NULL on OOM or
 * a bad ncols. Free with ff_table_free. */
struct ff_table *ff_table_new(int ncols, const char *const *headers);
void ff_table_free(struct ff_table *t);
/* Appends a row of ncols cells (copied through ff_text_clean; a NULL cell prints "-").
 * FF_ETOOBIG past FF_TABLE_MAX_ROWS rows, FF_ENOMEM. */
int ff_table_add(struct ff_table *t, const char *const *cells, struct ff_err *err);
size_t ff_table_rows(const struct ff_table *t);
/* Prints the header and the rows, columns separated by two spaces, no trailing blanks. On a
 * terminal the table is fitted to its width (ff_terminal_width) and levels and states are
 * coloured (ff_colour); into a pipe or a file every cell is printed whole, uncoloured. */
void ff_table_print(const struct ff_table *t, FILE *f);
/* The same for a given width (0: not fitted) and colour: the widest columns are narrowed,
 * the rightmost first on ties, down to their header or FF_TABLE_MIN_WIDTH, a cut cell
 * ending in "…". Exposed for the tests. */
#define FF_TABLE_MIN_WIDTH 8
void ff_table_print_fit(const struct ff_table *t, FILE *f, size_t max_width, bool colour);
/* The columns of the terminal f is (TIOCGWINSZ, else $COLUMNS, else 80); 0 when f is not
 * a terminal. */
size_t ff_terminal_width(FILE *f);
/* Whether to colour what goes to f: a terminal, NO_COLOR unset or empty
 * (https://no-color.org), TERM not "dumb". */
bool ff_colour(FILE *f);

/* A copy of s fit for one line of a terminal: tabs, CR and LF become spaces, other control
 * characters (C0, DEL, and the C1 range as UTF-8) become '?'. NULL s gives "". Returns
 * malloc'd memory (caller frees) or NULL on OOM. */
char *ff_text_clean(const char *s);
/* Characters in a UTF-8 string as a terminal shows them (one per code point). */
size_t ff_text_width(const char *s);

/* "512 B", "1.5 KiB", "3.2 MiB", … into buf. */
void ff_size_human(uint64_t n, char *buf, size_t bufsz);

/* How long before now an API timestamp (2026-12-03T16:18:31.506997Z, read as UTC) was, as
 * "12s ago", "5m ago" (from 2 minutes) or "3h ago" (from 2 hours), into buf; a time after now
 * (clocks apart) is "0s ago". Text that is no such timestamp is copied as it is, NULL
 * gives "-". */
void ff_age(const char *ts, time_t now, char *buf, size_t bufsz);

/* "path:line" when line > 0, "path" when path is set, "-" otherwise, into buf. */
void ff_location(const char *path, long line, char *buf, size_t bufsz);

#endif
