/* ss_scan — walking a source tree and scanning each of its text files.
 *
 * The walk lists every candidate file first (so progress can be reported as a share of
 * files), never follows symbolic links, prunes vendored and generated directories
 * (.git, node_modules, vendor, third_party, dist, build, __pycache__, .venv), anything an
 * exclude glob or the root's .ffsecretsignore names and, when there are include globs, anything
 * they do not select, then scans the files one by one, skipping binaries (a NUL byte in the
 * first 8 KiB) and files over the size limit.
 */
#ifndef SS_SCAN_H
#define SS_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ff_err.h"
#include "ss_rules.h"

#define SS_VERSION	       "1.0.0"
#define SS_IGNORE_FILE	       ".ffsecretsignore"
#define SS_BINARY_PROBE	       8192
#define SS_DEFAULT_MAX_FILE_KB 1024
#define SS_MAX_FILE_KB_LIMIT   102400
#define SS_FILES_MAX	       500000 /* files listed; the rest of a bigger tree is not scanned */
#define SS_DEPTH_MAX	       64
#define SS_GLOBS_MAX	       256
#define SS_GLOB_LEN_MAX	       1024
#define SS_IGNORE_FILE_MAX     65536
#define SS_NOTICES_MAX	       100
/* An empty tree (or one of binaries and skipped files only): a success with 0 findings, said
 * in a note-level notification and the last progress line, as every static analysis does. */
#define SS_NOTHING_TO_SCAN "nothing to analyse: no text files"

/* A list of path globs. Matching, for a path relative to the root ("src/app/.env"):
 *   - a trailing '/' makes the glob match directories only;
 *   - a glob without '/' matches the base name at any depth ("*.min.js", "fixtures");
 *   - a glob with '/' matches the whole relative path, '*' crossing '/' (docs/<star>,
 *     /config/dev.env anchored at the root; <star><star>/x also matches x at the root);
 *   - a matched directory stands for everything below it: exclude skips it all, include
 *     takes it all. */
struct ss_globs {
	char **v;
	size_t n;
};

/* Adds the sep-separated globs of list (whitespace trimmed, empties and, for lines, '#'
 * comments skipped). FF_EINVAL, naming field, past SS_GLOBS_MAX globs or SS_GLOB_LEN_MAX
 * bytes in one. */
int ss_globs_add(struct ss_globs *g, const char *list, char sep, const char *field,
		 struct ff_err *err);
bool ss_globs_match(const struct ss_globs *g, const char *relpath, bool is_dir);
void ss_globs_release(struct ss_globs *g); /* NULL-safe */

/* True for the names of directories never scanned (.git, node_modules, …). */
bool ss_skip_dir_name(const char *name);
/* True if buf looks binary: a NUL byte in its first SS_BINARY_PROBE bytes. */
bool ss_is_binary(const char *buf, size_t n);

struct ss_scan_opts {
	double min_entropy;  /* generic rule gate, 0..8 */
	size_t max_file_kb;  /* files larger than this are skipped */
	const char *include; /* comma-separated globs of the only paths to scan, or NULL: all */
	const char *exclude; /* comma-separated globs, or NULL */
	FILE *progress;	     /* where "::progress N text" lines go, or NULL */
};

/* skipped_excluded counts the paths exclude globs, the ignore file or include globs left out;
 * a directory left out whole counts once. */
struct ss_stats {
	size_t files_listed, files_scanned;
	unsigned long long bytes_scanned;
	size_t skipped_binary, skipped_large, skipped_excluded, skipped_vendored;
	size_t skipped_special, skipped_unreadable;
	double seconds;
};

/* Something the scan could not do (a file it could not read); becomes a SARIF
 * toolExecutionNotification. */
struct ss_notice {
	char *path; /* owned, relative to the root; NULL when about the whole scan */
	char msg[160];
	bool note; /* level note (a fact about the scan), not warning (something not done) */
};

struct ss_report {
	struct ss_findings findings;
	struct ss_stats stats;
	struct ss_notice *notices;
	size_t nnotices, notices_dropped;
};

/* Scans the tree at root. With include globs, a path is scanned only if one selects it,
 * itself or through a directory above it ("config" takes everything below config/); the
 * exclusions apply on top. Fails with FF_EINVAL when opts->include or opts->exclude is
 * malformed, FF_ENOTFOUND or FF_EINTERNAL when root cannot be opened as a directory, and
 * FF_ENOMEM; unreadable files and a bad ignore file become notices. On success rep holds the
 * findings (sorted by path, then position); release it with ss_report_release() either way. */
int ss_scan_tree(const char *root, const struct ss_scan_opts *opts, struct ss_report *rep,
		 struct ff_err *err);
void ss_report_release(struct ss_report *rep); /* NULL-safe */

#endif
