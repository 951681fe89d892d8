/* ff_report — the report files `ff scan` leaves for a CI system: the findings as JUnit XML
 * and as CSV (the JSON and SARIF reports are the server's own documents, written as they
 * are), each written atomically so a reader never sees half a file.
 *
 * Findings come from the scanned code, so their text is hostile: quotes, markup, newlines,
 * control characters and bytes that are not UTF-8. The writers here turn any string into
 * well-formed XML or RFC 4180 CSV: a byte that starts no well-formed UTF-8 sequence, and a
 * character XML 1.0 can't hold even as a reference (C0 controls but tab, CR and LF; U+FFFE,
 * U+FFFF), becomes '?', as ff_text_clean does for the terminal.
 *
 * Pure functions over a FILE * (no network), so the tests can drive them with open_memstream.
 */
#ifndef FF_REPORT_H
#define FF_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "ff_err.h"

/* Writes s (NULL: nothing) as XML character data; with attr, fit for a double-quoted
 * attribute value: '"' is escaped and tab, LF and CR become character references, which
 * attribute-value normalisation would otherwise turn into spaces. */
void ff_report_xml_text(FILE *f, const char *s, bool attr);

/* Writes s (NULL: an empty field) as one RFC 4180 field: quoted, with '"' doubled, when it
 * holds a comma, a quote, CR or LF. A field that a spreadsheet would run as a formula (it
 * starts with '=', '+', '-', '@', tab or CR) gets a leading "'", as OWASP advises for CSV
 * meant to be opened in one: the findings' text is written by whoever wrote the code. */
void ff_report_csv_field(FILE *f, const char *s);

/* The findings (an array of the API's Finding objects) as a JUnit XML document with one
 * testsuite named suite: one testcase per finding, failing with its level, rule, message and
 * location; no findings give one passing testcase. Returns 0, or FF_EINTERNAL when f reports
 * a write error. */
int ff_report_junit(FILE *f, const char *suite, const cJSON *findings, struct ff_err *err);

/* The findings as CSV: a header row rule_id,level,path,start_line,end_line,message,fingerprint
 * then one row per finding, CRLF line ends. Returns as ff_report_junit. */
int ff_report_csv(FILE *f, const cJSON *findings, struct ff_err *err);

/* Fills a new file with fill(f, arg, err), then renames it over path, so path holds either
 * what it held before or the whole new report. The temporary file sits next to path (a
 * rename stays on one file system) and is removed when fill or a write fails. Mode 0666
 * less the umask, as any file the user creates. Returns 0 or fill's / the write's error. */
typedef int ff_report_fill_fn(FILE *f, void *arg, struct ff_err *err);
int ff_report_write_atomic(const char *path, ff_report_fill_fn *fill, void *arg,
			   struct ff_err *err);

#endif
