/* ss_sarif — the scan report as a SARIF 2.1.0 log.
 *
 * Hand-written JSON (the scanner links only libc). Strings are escaped and any invalid UTF-8
 * in them becomes U+FFFD, so the log always parses. Results locate secrets by a URI relative
 * to the base id SRCROOT; columns count Unicode code points (run.columnKind).
 */
#ifndef SS_SARIF_H
#define SS_SARIF_H

#include <stdio.h>

#include "ff_err.h"
#include "ss_scan.h"

#define SS_SARIF_URI_BASE "SRCROOT"

/* Writes the log to fp. root_uri is the absolute "file:///…/" URI of the scan root (given
 * as run.originalUriBaseIds.SRCROOT), or NULL to leave it out. FF_EINTERNAL on a write
 * error. */
int ss_sarif_write(FILE *fp, const struct ss_report *rep, const char *root_uri, struct ff_err *err);
/* Writes the log to a temporary file beside path, then renames it over path, so a reader
 * never sees half a log. FF_EINTERNAL on any I/O error (nothing is left behind). */
int ss_sarif_write_file(const char *path, const struct ss_report *rep, const char *root_uri,
			struct ff_err *err);

/* Percent-encodes a relative path into a URI reference (unreserved characters and '/' kept).
 * Returns a new string (caller frees) or NULL when out of memory. */
char *ss_uri_encode_path(const char *path);
/* Writes s[0..n) as a JSON string literal (with quotes) to fp. */
void ss_json_string(FILE *fp, const char *s, size_t n);

#endif
