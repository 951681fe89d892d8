/* ff_cmd — what the ff commands share: the context each one runs in, the exit statuses, and
 * the helpers for talking to the controller and printing its answers (errors, JSON, tables,
 * downloads). Internal to the ff binary; ff.c dispatches to the cmd_* functions below from
 * its command table.
 *
 * Every command prints its own output and returns an exit status; an error is printed once,
 * by ff_cmd_fail, where the command gives up.
 */
#ifndef FF_CMD_H
#define FF_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "ff_args.h"
#include "ff_client.h"
#include "ff_err.h"
#include "ff_format.h"

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_FINDINGS = 3,
};

#define PATH_MAX_LEN 2048
#define ESC_MAX	     (3 * 255 + 1)

struct ff_cmd_ctx {
	struct ff_client *client; /* made on first use by ff_cmd_client; main frees it */
	bool tty;		  /* stderr is a terminal: live progress */
	const char *profile;	  /* --profile NAME, or NULL (then FF_PROFILE, else "default") */
};

/* ---- ff_cmd.c: output, JSON access, paths, the client ---- */

/* Prints err as "ff: <message> (<field>)" on stderr; returns EXIT_FAIL. */
int ff_cmd_fail(const struct ff_err *err);
/* Prints j pretty on stdout; EXIT_OK, or EXIT_FAIL (said on stderr) when out of memory. */
int ff_cmd_print_json(const cJSON *j);
/* "key:   value" on stdout, key padded to width so a block of them lines up, value cleaned
 * for the terminal ("-" when NULL). */
void ff_cmd_print_field(const char *key, const char *value, int width);
/* o's string member key; NULL when it is missing or not a string. Points into o. */
const char *ff_cmd_jstr(const cJSON *o, const char *key);
/* o's number member key, truncated; dflt when it is missing or not a number. */
long ff_cmd_jlong(const cJSON *o, const char *key, long dflt);
/* Path "/api/v1/runs/<id><suffix>" with id escaped. */
int ff_cmd_run_path(char *buf, size_t n, const char *id, const char *suffix, struct ff_err *err);
/* ctx's client, made from FF_URL and FF_API_KEY on first use; NULL with err set when they
 * are bad. The client stays owned by ctx. */
/* The client, made on first use for FF_URL and FF_API_KEY; what they leave unset comes from
 * the profile (ff_profile.h): --profile, else FF_PROFILE, else [default] when the config file
 * has one. A profile asked for by name that is missing is an error. */
struct ff_client *ff_cmd_client(struct ff_cmd_ctx *ctx, struct ff_err *err);

/* ---- ff_cmd.c: stopping on SIGINT / SIGTERM ----
 *
 * A CI system cancels a job with SIGTERM (a terminal user with ^C): a command that follows
 * a run catches both, so it can cancel the run on the server instead of leaving it to run
 * on. The handler only records the signal; ctx's client gives up its request at once
 * (ff_client_set_interrupt), the waits end, and the command acts on it. A second signal
 * exits at once, with 128 + its number. main turns any command's exit status into
 * 128 + the signal once one came. */

/* Catches SIGINT (unless it was ignored, as for a background job) and SIGTERM from now on. */
void ff_cmd_catch_stop(void);
/* The signal that asked ff to stop, 0 while none came. */
int ff_cmd_stop_signal(void);
/* "SIGINT", "SIGTERM" or "signal". */
const char *ff_cmd_signal_name(int sig);
/* Whether a stop signal interrupts ctx's requests (the default once the client is made).
 * Off around a request whose answer must be had, such as the submit that names the run
 * to cancel. */
void ff_cmd_interruptible(struct ff_cmd_ctx *ctx, bool on);

/* Fills row, one cell per column, from one element of a listed array. A cell may point into
 * buf, which lasts until the row is added; a NULL cell prints "-". */
typedef void ff_cmd_row_fn(const cJSON *item, const char **row, char *buf, size_t bufsz);

/* A table titled hdr with a row per element of array (none when it is missing). NULL with
 * err set on failure; the caller frees the table. */
struct ff_table *ff_cmd_table_of(const cJSON *array, int ncols, const char *const *hdr,
				 ff_cmd_row_fn *fill, struct ff_err *err);
/* GETs path and prints the answer: whole with --json, else as a table of the array under
 * key. more names the command for a page's "more: ff <more> --cursor C" hint on stderr, NULL
 * when the listing has no pages. Returns the exit status. */
int ff_cmd_list(struct ff_cmd_ctx *ctx, struct ff_args *a, const char *path, const char *key,
		int ncols, const char *const *hdr, ff_cmd_row_fn *fill, const char *more);
/* GETs path and writes the body as it is to output ("-" or NULL: stdout); a file left by a
 * failed download is removed. Returns the exit status. */
int ff_cmd_download(struct ff_cmd_ctx *ctx, const char *path, const char *output);
/* Uploads the directory or tar file at path, unless the controller holds it already; on
 * success *answer is the server's JSON (caller frees) holding a valid "sha256". */
int ff_cmd_upload(struct ff_cmd_ctx *ctx, const char *path, cJSON **answer, struct ff_err *err);
/* POSTs a run of workflow on target; *run is the answer (caller frees). Takes a's params and
 * labels (a->params, a->labels become NULL) and its priority (-1: none). */
int ff_cmd_submit(struct ff_cmd_ctx *ctx, const char *workflow, const char *target,
		  struct ff_args *a, cJSON **run, struct ff_err *err);

/* ---- cmd_results.c: findings, shared with scan ---- */

struct ff_cmd_level_counts {
	long n[4]; /* by enum ff_level */
	long total;
};

/* Fetches every finding of a run, page by page. *out is {"findings": [...], "total": N}
 * (caller frees). level and baseline may be NULL. With a baseline run, each finding has its
 * baseline_state (new, unchanged) and *out also holds "absent" (the baseline's findings the
 * run no longer has) and "new" (how many are new): the controller matches fingerprints. */
int ff_cmd_fetch_findings(struct ff_cmd_ctx *ctx, const char *id, const char *level,
			  const char *baseline, cJSON **out, struct ff_err *err);
void ff_cmd_count_findings(const cJSON *findings, struct ff_cmd_level_counts *lc);
/* The findings of what ff_cmd_fetch_findings fetched as a level, rule, location, message
 * table on stdout (a state column first, and the absent ones after, with a baseline);
 * nothing when there are none. */
int ff_cmd_print_findings_table(const cJSON *all, struct ff_err *err);
/* "N findings: E error, W warning, …" on stdout; with a baseline, a second line
 * "against the baseline: N new, N unchanged, N absent". */
void ff_cmd_print_summary(const cJSON *all, const struct ff_cmd_level_counts *lc);

/* ---- the commands, one per entry of ff.c's table; each returns the exit status ---- */

/* cmd_catalog.c: what the controller offers, and whether it is up */
int cmd_workflows(struct ff_cmd_ctx *ctx, struct ff_args *a);
/* A workflow's parameters (its JSON Schema) as a table: name, type, default, range
 * (minimum–maximum, enum values, or a string's maxLength), description. NULL with err. */
struct ff_table *ff_cmd_params_table(const cJSON *schema, struct ff_err *err);
int cmd_workflow(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_ready(struct ff_cmd_ctx *ctx, struct ff_args *a);

/* cmd_runs.c: targets in, runs submitted, followed, shown, listed and cancelled */
int cmd_upload(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_submit(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_wait(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_scan(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_status(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_cancel(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_retry(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_runs(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_target(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_events(struct ff_cmd_ctx *ctx, struct ff_args *a);

/* cmd_admin.c: running the platform: API keys, the audit log, dead letters, workers */
int cmd_keys(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_audit(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_dead_letters(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_workers(struct ff_cmd_ctx *ctx, struct ff_args *a);
/* ff_mcp.c */
int cmd_mcp(struct ff_cmd_ctx *ctx, struct ff_args *a);

/* cmd_results.c: what a run left: findings, SARIF, logs, artifacts */
int cmd_findings(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_sarif(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_logs(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_artifacts(struct ff_cmd_ctx *ctx, struct ff_args *a);
int cmd_artifact(struct ff_cmd_ctx *ctx, struct ff_args *a);

#endif
