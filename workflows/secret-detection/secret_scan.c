/* ff-secret-scan — the secret-detection workflow's scanner.
 *
 *   ff-secret-scan [--min-entropy X] [--include GLOB,GLOB] [--exclude GLOB,GLOB]
 *                  [--max-file-kb N] ROOT OUT.sarif
 *
 * Settings also come from the platform's FF_PARAM_MIN_ENTROPY, FF_PARAM_INCLUDE,
 * FF_PARAM_EXCLUDE and FF_PARAM_MAX_FILE_KB; a flag wins over its variable. Exit 0 when the scan
 * ran (findings or not), 2 on a usage error, 1 when ROOT cannot be read or OUT cannot be written.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "ss_sarif.h"
#include "ss_scan.h"

#define EXIT_USAGE    2
#define EXIT_IO	      1
#define GLOB_LIST_MAX 1024 /* the manifest's maxLength of include and exclude */

static const char usage_text[] =
    "usage: ff-secret-scan [--min-entropy X] [--include GLOB,GLOB] [--exclude GLOB,GLOB]\n"
    "                      [--max-file-kb N] ROOT OUT.sarif\n"
    "  --min-entropy X   Shannon entropy a generic credential needs, 0-8 (default 3.5)\n"
    "  --include GLOBS   comma-separated path globs of the only paths to scan (default all)\n"
    "  --exclude GLOBS   comma-separated path globs to skip\n"
    "  --max-file-kb N   skip files larger than N KiB, 1-102400 (default 1024)\n"
    "Environment: FF_PARAM_MIN_ENTROPY, FF_PARAM_INCLUDE, FF_PARAM_EXCLUDE,\n"
    "FF_PARAM_MAX_FILE_KB (flags win).\n";

static void log_json(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One JSON object per line on stderr, as every platform component logs. */
static void log_json(const char *level, const char *fmt, ...)
{
	char msg[1024], ts[40], tb[32];
	const char *run_id = getenv("FF_RUN_ID");
	struct timeval tv;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, sizeof(ts), "%s.%03dZ", tb, (int)(tv.tv_usec / 1000));
	fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level);
	ss_json_string(stderr, msg, strlen(msg));
	if (run_id && *run_id) {
		fputs(",\"run_id\":", stderr);
		ss_json_string(stderr, run_id, strlen(run_id));
	}
	fputs("}\n", stderr);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ff-secret-scan: %s\n%s", msg, usage_text);
	return EXIT_USAGE;
}

static int parse_entropy(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 8)
		return -1;
	*out = v;
	return 0;
}

static int parse_kb(const char *s, size_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > SS_MAX_FILE_KB_LIMIT)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* A glob list: *val from its flag or, if none, the variable var; a usage error if too long. */
static int glob_param(const char **val, const char *var, const char *name)
{
	const char *env = getenv(var);

	if (!*val && env && *env)
		*val = env;
	if (*val && strlen(*val) > GLOB_LIST_MAX)
		return usage_error("the %s list is longer than %d bytes", name, GLOB_LIST_MAX);
	return 0;
}

/* "file:///abs/root/" for run.originalUriBaseIds, or NULL. Caller frees. */
static char *root_uri(const char *root)
{
	char *abs = realpath(root, NULL), *enc, *uri = NULL;

	if (!abs)
		return NULL;
	enc = ss_uri_encode_path(abs);
	if (enc && asprintf(&uri, "file://%s%s", enc, enc[strlen(enc) - 1] == '/' ? "" : "/") < 0)
		uri = NULL;
	free(enc);
	free(abs);
	return uri;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"min-entropy", required_argument, NULL, 'e'},
	    {"include", required_argument, NULL, 'i'},
	    {"exclude", required_argument, NULL, 'x'},
	    {"max-file-kb", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct ss_scan_opts opts = {.min_entropy = SS_DEFAULT_MIN_ENTROPY,
				    .max_file_kb = SS_DEFAULT_MAX_FILE_KB};
	struct ss_report rep = {0};
	struct ff_err err = {0};
	const char *env, *root, *out;
	char *uri = NULL;
	bool have_entropy = false, have_kb = false;
	double mbps;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (parse_entropy(optarg, &opts.min_entropy) < 0)
				return usage_error(
				    "--min-entropy must be a number from 0 to 8, not "
				    "'%s'",
				    optarg);
			have_entropy = true;
			break;
		case 'i': opts.include = optarg; break;
		case 'x': opts.exclude = optarg; break;
		case 'm':
			if (parse_kb(optarg, &opts.max_file_kb) < 0)
				return usage_error("--max-file-kb must be an integer from 1 to "
						   "102400, not '%s'",
						   optarg);
			have_kb = true;
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': puts("ff-secret-scan " SS_VERSION); return 0;
		default: return usage_error("unknown option");
		}
	}
	if (argc - optind != 2)
		return usage_error("expected ROOT and OUT.sarif");
	/* the platform's parameters, for each setting no flag gave */
	env = getenv("FF_PARAM_MIN_ENTROPY");
	if (!have_entropy && env && *env && parse_entropy(env, &opts.min_entropy) < 0)
		return usage_error("FF_PARAM_MIN_ENTROPY must be a number from 0 to 8, not '%s'",
				   env);
	env = getenv("FF_PARAM_MAX_FILE_KB");
	if (!have_kb && env && *env && parse_kb(env, &opts.max_file_kb) < 0)
		return usage_error("FF_PARAM_MAX_FILE_KB must be an integer from 1 to 102400, not "
				   "'%s'",
				   env);
	rc = glob_param(&opts.include, "FF_PARAM_INCLUDE", "include");
	if (!rc)
		rc = glob_param(&opts.exclude, "FF_PARAM_EXCLUDE", "exclude");
	if (rc)
		return rc;
	root = argv[optind];
	out = argv[optind + 1];
	opts.progress = stdout;

	rc = ss_scan_tree(root, &opts, &rep, &err);
	if (rc == FF_EINVAL) {
		ss_report_release(&rep);
		return usage_error("%s", err.msg);
	}
	if (rc) {
		log_json("error", "scan failed: %s", err.msg);
		ss_report_release(&rep);
		return EXIT_IO;
	}
	uri = root_uri(root);
	rc = ss_sarif_write_file(out, &rep, uri, &err);
	if (rc) {
		log_json("error", "%s", err.msg);
		rc = EXIT_IO;
		goto out;
	}
	mbps = rep.stats.seconds > 0
		   ? (double)rep.stats.bytes_scanned / 1048576.0 / rep.stats.seconds
		   : 0;
	log_json("info",
		 "scanned %zu of %zu files (%.1f MiB in %.3f s, %.0f MiB/s): %zu findings, "
		 "%zu binary, %zu too large, %zu excluded, %zu unreadable",
		 rep.stats.files_scanned, rep.stats.files_listed,
		 (double)rep.stats.bytes_scanned / 1048576.0, rep.stats.seconds, mbps,
		 rep.findings.n, rep.stats.skipped_binary, rep.stats.skipped_large,
		 rep.stats.skipped_excluded, rep.stats.skipped_unreadable);
	rc = 0;
out:
	free(uri);
	ss_report_release(&rep);
	return rc;
}
