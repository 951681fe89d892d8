/* ff — the FuzzForge command-line client: upload targets, submit and follow runs, read their
 * findings, SARIF, logs and artifacts through the controller's REST API.
 *
 * Commands dispatch from one table (name, options, arity, help), so `ff help` and the
 * argument checks can't drift apart. Exit status: 0 success, 1 failure (server error, run
 * not succeeded, connection), 2 usage, 3 findings at or above --fail-on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ff_args.h"
#include "ff_run_state.h"
#include "ff_client.h"
#include "ff_err.h"
#include "ff_format.h"
#include "ff_tarball.h"
#include "ff_util.h"

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_FINDINGS = 3,
};

#define PATH_MAX_LEN  2048
#define ESC_MAX	      (3 * 255 + 1)
#define FINDINGS_PAGE 1000
#define FINDINGS_MAX  1000000
/* wait keeps polling through this long of consecutive unreachable/5xx answers */
#define WAIT_OUTAGE_MS 60000

struct ctx {
	struct ff_client *client;
	bool tty; /* stderr is a terminal: live progress */
};

struct cmd {
	const char *name;
	int (*fn)(struct ctx *ctx, struct ff_args *a);
	unsigned opts;
	int min_pos, max_pos;
	const char *synopsis;
	const char *summary;
	const char *help;
};

static const struct cmd *cmd_find(const char *name);

/* ---- output helpers ---- */

static int fail(const struct ff_err *err)
{
	char *msg = ff_text_clean(err->msg);
	if (err->field[0]) {
		char *field = ff_text_clean(err->field);
		fprintf(stderr, "ff: %s (%s)\n", msg ? msg : "error", field ? field : "");
		free(field);
	} else {
		fprintf(stderr, "ff: %s\n", msg ? msg : "error");
	}
	free(msg);
	return EXIT_FAIL;
}

static int print_json(const cJSON *j)
{
	char *s = cJSON_Print(j);
	if (!s) {
		fprintf(stderr, "ff: out of memory\n");
		return EXIT_FAIL;
	}
	puts(s);
	cJSON_free(s);
	return EXIT_OK;
}

static const char *jstr(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static long jlong(const cJSON *o, const char *key, long dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (long)v->valuedouble : dflt;
}

/* Path "/api/v1/runs/<id><suffix>" with id escaped. */
static int run_path(char *buf, size_t n, const char *id, const char *suffix, struct ff_err *err)
{
	char esc[ESC_MAX];
	if (ff_url_escape(id, esc, sizeof(esc)))
		return ff_err_set(err, FF_EINVAL, "run id too long");
	if ((size_t)snprintf(buf, n, "/api/v1/runs/%s%s", esc, suffix) >= n)
		return ff_err_set(err, FF_EINVAL, "request path too long");
	return 0;
}

static struct ff_client *client(struct ctx *ctx, struct ff_err *err)
{
	if (!ctx->client)
		ctx->client = ff_client_new(getenv("FF_URL"), getenv("FF_API_KEY"), err);
	return ctx->client;
}

/* Fills row, one cell per column, from one element of a listed array. A cell may point into
 * buf, which lasts until the row is added; a NULL cell prints "-". */
typedef void row_fn(const cJSON *item, const char **row, char *buf, size_t bufsz);

/* A table titled hdr with a row per element of array (none when it is missing). NULL with
 * err set on failure. */
static struct ff_table *table_of(const cJSON *array, int ncols, const char *const *hdr,
				 row_fn *fill, struct ff_err *err)
{
	struct ff_table *t = ff_table_new(ncols, hdr);
	const char *row[FF_TABLE_MAX_COLS];
	char buf[1024];
	const cJSON *item;

	if (!t) {
		ff_err_set(err, FF_ENOMEM, "out of memory");
		return NULL;
	}
	cJSON_ArrayForEach(item, array)
	{
		fill(item, row, buf, sizeof(buf));
		if (ff_table_add(t, row, err)) {
			ff_table_free(t);
			return NULL;
		}
	}
	return t;
}

/* GETs path and prints the answer: whole with --json, else as a table of the array under
 * key. more names the command for a page's "more: ff <more> --cursor C" hint on stderr, NULL
 * when the listing has no pages. */
static int list_cmd(struct ctx *ctx, struct ff_args *a, const char *path, const char *key,
		    int ncols, const char *const *hdr, row_fn *fill, const char *more)
{
	struct ff_err err = {0};
	cJSON *res = NULL;
	struct ff_table *t;
	int rc;

	if (!client(ctx, &err) || ff_client_json(ctx->client, "GET", path, NULL, &res, &err))
		return fail(&err);
	if (a->json) {
		rc = print_json(res);
		goto out;
	}
	t = table_of(cJSON_GetObjectItemCaseSensitive(res, key), ncols, hdr, fill, &err);
	if (!t) {
		rc = fail(&err);
		goto out;
	}
	ff_table_print(t, stdout);
	ff_table_free(t);
	rc = EXIT_OK;
	const char *next = more ? jstr(res, "next_cursor") : NULL;
	if (next) {
		char *c = ff_text_clean(next);
		fprintf(stderr, "more: ff %s --cursor %s\n", more, c ? c : "");
		free(c);
	}
out:
	cJSON_Delete(res);
	return rc;
}

/* ---- usage ---- */

static void print_usage(FILE *f);

static void print_cmd_usage(const struct cmd *c, FILE *f)
{
	fprintf(f, "usage: ff %s%s%s\n", c->name, c->synopsis[0] ? " " : "", c->synopsis);
}

static void print_cmd_help(const struct cmd *c, FILE *f)
{
	print_cmd_usage(c, f);
	fprintf(f, "\n%s\n", c->summary);
	if (c->help[0])
		fprintf(f, "\n%s", c->help);
}

/* ---- commands ---- */

static int cmd_help(struct ctx *ctx, struct ff_args *a)
{
	(void)ctx;
	if (a->npos == 0) {
		print_usage(stdout);
		return EXIT_OK;
	}
	const struct cmd *c = cmd_find(a->pos[0]);
	if (!c) {
		fprintf(stderr, "ff: unknown command '%s'\n", a->pos[0]);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	print_cmd_help(c, stdout);
	return EXIT_OK;
}

static void workflow_row(const cJSON *w, const char **row, char *buf, size_t bufsz)
{
	(void)buf;
	(void)bufsz;
	row[0] = jstr(w, "name");
	row[1] = jstr(w, "version");
	row[2] = jstr(w, "description");
}

static int cmd_workflows(struct ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"NAME", "VERSION", "DESCRIPTION"};
	return list_cmd(ctx, a, "/api/v1/workflows", "workflows", 3, hdr, workflow_row, NULL);
}

static int cmd_workflow(struct ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char esc[ESC_MAX], path[PATH_MAX_LEN];
	cJSON *res = NULL;
	int rc;

	if (ff_url_escape(a->pos[0], esc, sizeof(esc))) {
		ff_err_set(&err, FF_EINVAL, "workflow name too long");
		return fail(&err);
	}
	snprintf(path, sizeof(path), "/api/v1/workflows/%s", esc);
	if (!client(ctx, &err) || ff_client_json(ctx->client, "GET", path, NULL, &res, &err))
		return fail(&err);
	rc = print_json(res);
	cJSON_Delete(res);
	return rc;
}

/* Uploads the directory or tar file at path; on success *answer is the server's JSON
 * (caller frees) holding a valid "sha256". */
static int upload(struct ctx *ctx, const char *path, cJSON **answer, struct ff_err *err)
{
	struct ff_tarball_stats st = {0};
	struct stat sb;
	void *buf = NULL;
	size_t len = 0;
	const char *ctype = "application/gzip";
	cJSON *res = NULL;
	int rc;

	if (stat(path, &sb))
		return ff_err_set(err, FF_EINVAL, "cannot open '%s': %s", path, strerror(errno));
	if (S_ISDIR(sb.st_mode)) {
		rc = ff_tarball_dir(path, 0, &buf, &len, &st, err);
		if (rc)
			goto out;
		if (st.skipped)
			fprintf(stderr,
				"ff: warning: left out %llu special files or symlinks pointing "
				"outside '%s'\n",
				(unsigned long long)st.skipped, path);
		if (ctx->tty) {
			char raw[32], packed[32];
			ff_size_human(st.bytes, raw, sizeof(raw));
			ff_size_human(len, packed, sizeof(packed));
			fprintf(stderr, "packed %llu files, %llu directories (%s) into %s\n",
				(unsigned long long)st.files, (unsigned long long)st.dirs, raw,
				packed);
		}
	} else {
		rc = ff_tarball_load_file(path, 0, &buf, &len, &ctype, err);
		if (rc)
			goto out;
	}
	if (!client(ctx, err)) {
		rc = err->code;
		goto out;
	}
	rc = ff_client_post_bytes(ctx->client, "/api/v1/targets", ctype, buf, len, &res, err);
	if (rc)
		goto out;
	if (!ff_sha256_hex_valid(jstr(res, "sha256"))) {
		rc = ff_err_set(err, FF_EINTERNAL, "the controller's answer has no valid sha256");
		goto out;
	}
	*answer = res;
	res = NULL;
out:
	cJSON_Delete(res);
	free(buf);
	return rc;
}

static int cmd_upload(struct ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	cJSON *res = NULL;
	if (upload(ctx, a->pos[0], &res, &err))
		return fail(&err);
	if (a->json)
		print_json(res);
	else
		puts(jstr(res, "sha256"));
	cJSON_Delete(res);
	return EXIT_OK;
}

/* POSTs a run; *run is the answer (caller frees). Takes a's params and labels. */
static int submit(struct ctx *ctx, const char *workflow, const char *target, struct ff_args *a,
		  cJSON **run, struct ff_err *err)
{
	cJSON *body = cJSON_CreateObject();
	int rc = 0;

	if (!body || !cJSON_AddStringToObject(body, "workflow", workflow) ||
	    !cJSON_AddStringToObject(body, "target", target) ||
	    (a->priority >= 0 && !cJSON_AddNumberToObject(body, "priority", a->priority))) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	if (a->params) {
		if (!cJSON_AddItemToObject(body, "parameters", a->params)) {
			rc = ff_err_set(err, FF_ENOMEM, "out of memory");
			goto out;
		}
		a->params = NULL;
	}
	if (a->labels) {
		if (!cJSON_AddItemToObject(body, "labels", a->labels)) {
			rc = ff_err_set(err, FF_ENOMEM, "out of memory");
			goto out;
		}
		a->labels = NULL;
	}
	if (!client(ctx, err)) {
		rc = err->code;
		goto out;
	}
	rc = ff_client_json(ctx->client, "POST", "/api/v1/runs", body, run, err);
	if (!rc && !jstr(*run, "id")) {
		cJSON_Delete(*run);
		*run = NULL;
		rc = ff_err_set(err, FF_EINTERNAL, "the controller's answer has no run id");
	}
out:
	cJSON_Delete(body);
	return rc;
}

static int cmd_submit(struct ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	cJSON *run = NULL;
	if (submit(ctx, a->pos[0], a->pos[1], a, &run, &err))
		return fail(&err);
	if (a->json)
		print_json(run);
	else
		puts(jstr(run, "id"));
	cJSON_Delete(run);
	return EXIT_OK;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void show_progress(const cJSON *run)
{
	const char *state = jstr(run, "state");
	char *text = ff_text_clean(jstr(run, "progress_text"));
	fprintf(stderr, "\r\033[K%s", state ? state : "?");
	long attempt = jlong(run, "attempt", 0), max = jlong(run, "max_attempts", 0);
	if (attempt > 1 || ff_run_state_parse(state) == FF_RUN_RETRYING)
		fprintf(stderr, " (attempt %ld/%ld)", attempt, max);
	if (ff_run_state_parse(state) == FF_RUN_RUNNING)
		fprintf(stderr, " %ld%%", jlong(run, "progress", 0));
	if (text && *text)
		fprintf(stderr, " %.*s", 60, text);
	free(text);
	fflush(stderr);
}

/* Polls the run until it is in a terminal state or timeout_s passes (0: no limit), with a
 * backoff from 100 ms to 1 s. *run_out is the last run seen (caller frees), set also on
 * FF_ETIMEOUT. Outages (no answer, 5xx) are ridden out for up to WAIT_OUTAGE_MS. */
static int wait_run(struct ctx *ctx, const char *id, double timeout_s, cJSON **run_out,
		    struct ff_err *err)
{
	char path[PATH_MAX_LEN];
	cJSON *run = NULL;
	int64_t start = ff_now_ms(), outage_since = 0;
	int64_t deadline = timeout_s > 0 ? start + (int64_t)(timeout_s * 1000.0) : 0;
	long delay = 100;
	bool warned = false, shown = false;
	int rc;

	if ((rc = run_path(path, sizeof(path), id, "", err)))
		return rc;
	if (!client(ctx, err))
		return err->code;
	for (;;) {
		cJSON *next = NULL;
		rc = ff_client_json(ctx->client, "GET", path, NULL, &next, err);
		if (rc) {
			long status = ff_client_last_status(ctx->client);
			bool transient = status == 0 || status >= 500;
			int64_t now = ff_now_ms();
			if (!transient || rc == FF_ENOMEM)
				goto out;
			if (!outage_since)
				outage_since = now;
			if (now - outage_since > WAIT_OUTAGE_MS)
				goto out;
			if (!warned) {
				char *m = ff_text_clean(err->msg);
				fprintf(stderr, "%sff: %s; still trying\n", shown ? "\n" : "",
					m ? m : "");
				free(m);
				warned = true;
			}
			delay = 1000;
		} else {
			outage_since = 0;
			warned = false;
			cJSON_Delete(run);
			run = next;
			if (ctx->tty) {
				show_progress(run);
				shown = true;
			}
			if (ff_run_state_terminal(ff_run_state_parse(jstr(run, "state"))))
				break;
		}
		int64_t now = ff_now_ms();
		long nap = delay;
		if (deadline) {
			if (now >= deadline) {
				const char *st = run ? jstr(run, "state") : NULL;
				if (st)
					rc = ff_err_set(err, FF_ETIMEOUT,
							"run %s still %s after %g s; 'ff wait %s' "
							"waits on",
							id, st, timeout_s, id);
				else
					rc = ff_err_set(err, FF_ETIMEOUT,
							"no state of run %s within %g s", id,
							timeout_s);
				goto out;
			}
			if (deadline - now < nap)
				nap = (long)(deadline - now);
		}
		sleep_ms(nap);
		delay = delay * 2 > 1000 ? 1000 : delay * 2;
	}
	rc = 0;
out:
	if (shown)
		fputs("\r\033[K", stderr);
	if (rc && rc != FF_ETIMEOUT) {
		cJSON_Delete(run);
		run = NULL;
	}
	*run_out = run;
	return rc;
}

/* "run <id> failed: <error>" on stderr for a run that did not succeed. */
static void report_unsuccessful(const cJSON *run)
{
	char *id = ff_text_clean(jstr(run, "id"));
	char *state = ff_text_clean(jstr(run, "state"));
	char *error = ff_text_clean(jstr(run, "error"));
	fprintf(stderr, "ff: run %s %s", id ? id : "?", state ? state : "?");
	if (error && *error)
		fprintf(stderr, ": %s", error);
	long exit_code = jlong(run, "exit_code", -1);
	if (exit_code >= 0)
		fprintf(stderr, " (exit code %ld)", exit_code);
	fputc('\n', stderr);
	free(id);
	free(state);
	free(error);
}

static int cmd_wait(struct ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	cJSON *run = NULL;
	int rc = wait_run(ctx, a->pos[0], a->timeout_s, &run, &err);
	if (rc) {
		cJSON_Delete(run);
		return fail(&err);
	}
	const char *state = jstr(run, "state");
	bool ok = ff_run_state_parse(state) == FF_RUN_SUCCEEDED;
	if (a->json) {
		print_json(run);
	} else {
		char *s = ff_text_clean(state);
		printf("%s\n", s ? s : "");
		free(s);
	}
	if (!ok)
		report_unsuccessful(run);
	cJSON_Delete(run);
	return ok ? EXIT_OK : EXIT_FAIL;
}

/* Fetches every finding of a run, page by page. *out is {"findings": [...], "total": N}
 * (caller frees). level may be NULL. */
static int fetch_findings(struct ctx *ctx, const char *id, const char *level, cJSON **out,
			  struct ff_err *err)
{
	char suffix[128], path[PATH_MAX_LEN];
	cJSON *all = cJSON_CreateObject();
	cJSON *list = all ? cJSON_AddArrayToObject(all, "findings") : NULL;
	long total = -1, got = 0;
	int rc = 0;

	if (!list) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	if (!client(ctx, err)) {
		rc = err->code;
		goto out;
	}
	for (;;) {
		cJSON *page = NULL;
		snprintf(suffix, sizeof(suffix), "/findings?limit=%d&offset=%ld%s%s", FINDINGS_PAGE,
			 got, level ? "&level=" : "", level ? level : "");
		if ((rc = run_path(path, sizeof(path), id, suffix, err)))
			goto out;
		if ((rc = ff_client_json(ctx->client, "GET", path, NULL, &page, err)))
			goto out;
		total = jlong(page, "total", total);
		cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "findings");
		int n = cJSON_GetArraySize(items);
		while (cJSON_IsArray(items) && items->child) {
			cJSON *f = cJSON_DetachItemViaPointer(items, items->child);
			cJSON_AddItemToArray(list, f);
			got++;
		}
		cJSON_Delete(page);
		if (n < FINDINGS_PAGE || (total >= 0 && got >= total) || got >= FINDINGS_MAX)
			break;
	}
	if (!cJSON_AddNumberToObject(all, "total", (double)(total >= 0 ? total : got))) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	*out = all;
	all = NULL;
out:
	cJSON_Delete(all);
	return rc;
}

struct level_counts {
	long n[4]; /* by enum ff_level */
	long total;
};

static void count_findings(const cJSON *findings, struct level_counts *lc)
{
	const cJSON *f;
	memset(lc, 0, sizeof(*lc));
	cJSON_ArrayForEach(f, findings)
	{
		enum ff_level l = ff_level_parse(jstr(f, "level"));
		if (l != FF_LEVEL_INVALID)
			lc->n[l]++;
		lc->total++;
	}
}

static void finding_row(const cJSON *f, const char **row, char *buf, size_t bufsz)
{
	ff_location(jstr(f, "path"), jlong(f, "start_line", 0), buf, bufsz);
	row[0] = jstr(f, "level");
	row[1] = jstr(f, "rule_id");
	row[2] = buf;
	row[3] = jstr(f, "message");
}

/* Unlike a listing, an empty table is left out whole: the summary line after it says
 * "0 findings". */
static int print_findings_table(const cJSON *findings, struct ff_err *err)
{
	static const char *const hdr[] = {"LEVEL", "RULE", "LOCATION", "MESSAGE"};
	struct ff_table *t = table_of(findings, 4, hdr, finding_row, err);

	if (!t)
		return err->code;
	if (ff_table_rows(t))
		ff_table_print(t, stdout);
	ff_table_free(t);
	return 0;
}

static void print_summary(const struct level_counts *lc)
{
	printf("%ld finding%s: %ld error, %ld warning, %ld note, %ld none\n", lc->total,
	       lc->total == 1 ? "" : "s", lc->n[FF_LEVEL_ERROR], lc->n[FF_LEVEL_WARNING],
	       lc->n[FF_LEVEL_NOTE], lc->n[FF_LEVEL_NONE]);
}

static int cmd_findings(struct ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	struct level_counts lc;
	cJSON *all = NULL;
	int rc;

	if (fetch_findings(ctx, a->pos[0], a->level, &all, &err))
		return fail(&err);
	if (a->json) {
		rc = print_json(all);
		goto out;
	}
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(all, "findings");
	if (print_findings_table(list, &err)) {
		rc = fail(&err);
		goto out;
	}
	count_findings(list, &lc);
	print_summary(&lc);
	rc = EXIT_OK;
out:
	cJSON_Delete(all);
	return rc;
}

static int cmd_scan(struct ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	cJSON *target = NULL, *run = NULL, *findings = NULL, *out = NULL;
	struct level_counts lc;
	int rc = EXIT_FAIL;

	if (upload(ctx, a->pos[1], &target, &err) ||
	    submit(ctx, a->pos[0], jstr(target, "sha256"), a, &run, &err)) {
		rc = fail(&err);
		goto out;
	}
	char *id = strdup(jstr(run, "id"));
	if (!id) {
		ff_err_set(&err, FF_ENOMEM, "out of memory");
		rc = fail(&err);
		goto out;
	}
	if (ctx->tty || !a->json) {
		char *cid = ff_text_clean(id);
		fprintf(stderr, "run %s submitted\n", cid ? cid : "");
		free(cid);
	}
	cJSON_Delete(run);
	run = NULL;
	int wrc = wait_run(ctx, id, a->timeout_s, &run, &err);
	free(id);
	if (wrc) {
		rc = fail(&err);
		goto out;
	}
	const char *state = jstr(run, "state");
	if (ff_run_state_parse(state) != FF_RUN_SUCCEEDED) {
		if (a->json)
			print_json(run);
		report_unsuccessful(run);
		rc = EXIT_FAIL;
		goto out;
	}
	if (fetch_findings(ctx, jstr(run, "id"), NULL, &findings, &err)) {
		rc = fail(&err);
		goto out;
	}
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(findings, "findings");
	count_findings(list, &lc);
	if (a->json) {
		out = cJSON_CreateObject();
		if (!out || !cJSON_AddItemReferenceToObject(out, "run", run) ||
		    !cJSON_AddItemReferenceToObject(out, "findings", (cJSON *)list)) {
			ff_err_set(&err, FF_ENOMEM, "out of memory");
			rc = fail(&err);
			goto out;
		}
		print_json(out);
	} else {
		if (print_findings_table(list, &err)) {
			rc = fail(&err);
			goto out;
		}
		print_summary(&lc);
	}
	rc = EXIT_OK;
	if (a->fail_on != FF_LEVEL_INVALID) {
		for (int l = a->fail_on; l <= FF_LEVEL_ERROR; l++)
			if (lc.n[l])
				rc = EXIT_FINDINGS;
	}
out:
	cJSON_Delete(out);
	cJSON_Delete(findings);
	cJSON_Delete(run);
	cJSON_Delete(target);
	return rc;
}

static void kv(const char *key, const char *value)
{
	if (!value)
		return;
	char *v = ff_text_clean(value);
	printf("%-10s %s\n", key, v ? v : "");
	free(v);
}

static void print_run(const cJSON *run)
{
	char buf[512];
	const cJSON *v;

	kv("id:", jstr(run, "id"));
	snprintf(buf, sizeof(buf), "%s (%s)", jstr(run, "workflow") ? jstr(run, "workflow") : "?",
		 jstr(run, "workflow_version") ? jstr(run, "workflow_version") : "?");
	kv("workflow:", buf);
	kv("target:", jstr(run, "target"));
	kv("state:", jstr(run, "state"));
	snprintf(buf, sizeof(buf), "%ld/%ld", jlong(run, "attempt", 0),
		 jlong(run, "max_attempts", 0));
	kv("attempt:", buf);
	if (ff_run_state_parse(jstr(run, "state")) == FF_RUN_RUNNING) {
		const char *pt = jstr(run, "progress_text");
		snprintf(buf, sizeof(buf), "%ld%%%s%s", jlong(run, "progress", 0), pt ? " " : "",
			 pt ? pt : "");
		kv("progress:", buf);
	}
	snprintf(buf, sizeof(buf), "%ld", jlong(run, "priority", 0));
	kv("priority:", buf);
	v = cJSON_GetObjectItemCaseSensitive(run, "labels");
	if (cJSON_IsObject(v) && v->child) {
		size_t off = 0;
		const cJSON *l;
		buf[0] = '\0';
		cJSON_ArrayForEach(l, v)
		{
			if (off < sizeof(buf))
				off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s=%s",
							off ? " " : "", l->string,
							cJSON_IsString(l) ? l->valuestring : "?");
		}
		kv("labels:", buf);
	}
	kv("worker:", jstr(run, "worker"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(run, "exit_code"))) {
		snprintf(buf, sizeof(buf), "%ld", jlong(run, "exit_code", 0));
		kv("exit code:", buf);
	}
	kv("error:", jstr(run, "error"));
	v = cJSON_GetObjectItemCaseSensitive(run, "findings_summary");
	if (cJSON_IsObject(v)) {
		snprintf(buf, sizeof(buf), "%ld (%ld error, %ld warning, %ld note, %ld none)",
			 jlong(v, "total", 0), jlong(v, "error", 0), jlong(v, "warning", 0),
			 jlong(v, "note", 0), jlong(v, "none", 0));
		kv("findings:", buf);
	}
	kv("created:", jstr(run, "created_at"));
	kv("started:", jstr(run, "started_at"));
	kv("finished:", jstr(run, "finished_at"));
}

/* GET or POST a run path and print the run, as JSON or fields. */
static int show_run(struct ctx *ctx, struct ff_args *a, const char *method, const char *suffix)
{
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];
	cJSON *run = NULL;

	if (run_path(path, sizeof(path), a->pos[0], suffix, &err) || !client(ctx, &err) ||
	    ff_client_json(ctx->client, method, path, NULL, &run, &err))
		return fail(&err);
	if (a->json)
		print_json(run);
	else
		print_run(run);
	cJSON_Delete(run);
	return EXIT_OK;
}

static int cmd_status(struct ctx *ctx, struct ff_args *a)
{
	return show_run(ctx, a, "GET", "");
}

static int cmd_cancel(struct ctx *ctx, struct ff_args *a)
{
	return show_run(ctx, a, "POST", "/cancel");
}

static void run_row(const cJSON *r, const char **row, char *buf, size_t bufsz)
{
	const cJSON *fs = cJSON_GetObjectItemCaseSensitive(r, "findings_summary");
	snprintf(buf, bufsz, "-");
	if (cJSON_IsObject(fs))
		snprintf(buf, bufsz, "%ld", jlong(fs, "total", 0));
	row[0] = jstr(r, "id");
	row[1] = jstr(r, "state");
	row[2] = jstr(r, "workflow");
	row[3] = buf;
	row[4] = jstr(r, "created_at");
}

static int cmd_runs(struct ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"ID", "STATE", "WORKFLOW", "FINDINGS", "CREATED"};
	struct ff_err err = {0};
	char path[PATH_MAX_LEN], esc[ESC_MAX];
	size_t off;

	off = (size_t)snprintf(path, sizeof(path), "/api/v1/runs?limit=%ld",
			       a->limit ? a->limit : 50);
	const char *names[] = {"state", "workflow", "cursor"};
	const char *vals[] = {a->state, a->workflow, a->cursor};
	for (int i = 0; i < 3; i++) {
		if (!vals[i])
			continue;
		if (ff_url_escape(vals[i], esc, sizeof(esc)) ||
		    (off += (size_t)snprintf(path + off, sizeof(path) - off, "&%s=%s", names[i],
					     esc)) >= sizeof(path)) {
			ff_err_set(&err, FF_EINVAL, "--%s value too long", names[i]);
			return fail(&err);
		}
	}
	return list_cmd(ctx, a, path, "runs", 5, hdr, run_row, "runs");
}

static void event_row(const cJSON *e, const char **row, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%ld", jlong(e, "attempt", 0));
	row[0] = jstr(e, "ts");
	row[1] = jstr(e, "state");
	row[2] = buf;
	row[3] = jstr(e, "message") ? jstr(e, "message") : "";
}

static int cmd_events(struct ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"TIME", "STATE", "ATTEMPT", "MESSAGE"};
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];

	if (run_path(path, sizeof(path), a->pos[0], "/events", &err))
		return fail(&err);
	return list_cmd(ctx, a, path, "events", 4, hdr, event_row, NULL);
}

static int download_to(struct ctx *ctx, const char *path, const char *output)
{
	struct ff_err err = {0};
	bool to_stdout = !output || !strcmp(output, "-");
	FILE *f = to_stdout ? stdout : fopen(output, "wb");

	if (!f) {
		ff_err_set(&err, FF_EINVAL, "cannot create '%s': %s", output, strerror(errno));
		return fail(&err);
	}
	int rc =
	    client(ctx, &err) ? ff_client_download(ctx->client, path, f, NULL, &err) : err.code;
	if (!to_stdout) {
		if (fclose(f) && !rc)
			rc = ff_err_set(&err, FF_EINTERNAL, "cannot write '%s': %s", output,
					strerror(errno));
		if (rc)
			unlink(output); /* no half-written artifact left looking complete */
	}
	return rc ? fail(&err) : EXIT_OK;
}

static int cmd_sarif(struct ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];
	if (run_path(path, sizeof(path), a->pos[0], "/sarif", &err))
		return fail(&err);
	return download_to(ctx, path, a->output);
}

static int cmd_logs(struct ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];
	if (run_path(path, sizeof(path), a->pos[0], "/logs", &err))
		return fail(&err);
	return download_to(ctx, path, NULL);
}

static int cmd_ready(struct ctx *ctx, struct ff_args *a)
{
	(void)a;
	return download_to(ctx, "/readyz", NULL);
}

static void artifact_row(const cJSON *x, const char **row, char *buf, size_t bufsz)
{
	long n = jlong(x, "size", -1);
	if (n >= 0)
		ff_size_human((uint64_t)n, buf, bufsz);
	else
		snprintf(buf, bufsz, "-");
	row[0] = jstr(x, "name");
	row[1] = buf;
}

static int cmd_artifacts(struct ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"NAME", "SIZE"};
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];

	if (run_path(path, sizeof(path), a->pos[0], "/artifacts", &err))
		return fail(&err);
	return list_cmd(ctx, a, path, "artifacts", 2, hdr, artifact_row, NULL);
}

static int cmd_artifact(struct ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char esc[ESC_MAX], suffix[ESC_MAX + 16], path[PATH_MAX_LEN];
	if (ff_url_escape(a->pos[1], esc, sizeof(esc))) {
		ff_err_set(&err, FF_EINVAL, "artifact name too long");
		return fail(&err);
	}
	snprintf(suffix, sizeof(suffix), "/artifacts/%s", esc);
	if (run_path(path, sizeof(path), a->pos[0], suffix, &err))
		return fail(&err);
	return download_to(ctx, path, a->output);
}

/* ---- the table ---- */

static const struct cmd cmds[] = {
    {"help", cmd_help, 0, 0, 1, "[COMMAND]", "Show the commands, or one command's help.", ""},
    {"workflows", cmd_workflows, FF_OPT_JSON, 0, 0, "[--json]",
     "List the workflows the controller offers: name, version, description.",
     "example:\n  ff workflows\n"},
    {"workflow", cmd_workflow, 0, 1, 1, "NAME",
     "Print a workflow's manifest (parameters, resources, retry policy) as JSON.",
     "example:\n  ff workflow secret-detection\n"},
    {"upload", cmd_upload, FF_OPT_JSON, 1, 1, "PATH [--json]",
     "Upload a target and print its sha256.",
     "PATH is a directory, packed in memory as a tar.gz of paths relative to it (.git left\n"
     "out, symlinks pointing outside it and special files skipped), or a .tar / .tar.gz\n"
     "file sent as it is. Targets are content-addressed: the same bytes give the same sha256.\n"
     "\nexample:\n  ff upload ./src\n"},
    {"submit", cmd_submit, FF_OPT_PARAM | FF_OPT_PRIORITY | FF_OPT_LABEL | FF_OPT_JSON, 2, 2,
     "WORKFLOW TARGET_SHA [-p k=v]... [--priority N] [--label k=v]... [--json]",
     "Submit a run of WORKFLOW over an uploaded target; print the run id.",
     "options:\n"
     "  -p, --param k=v   a workflow parameter; the value is a JSON number, true or false\n"
     "                    when it reads as one, else a string (repeatable)\n"
     "  --priority N      0 (default) to 9, higher runs first\n"
     "  --label k=v       a free-form label kept with the run (repeatable)\n"
     "  --json            print the whole run as JSON\n"
     "\nexample:\n  ff submit secret-detection 9f86d08...0f00a08 -p min_entropy=4 --label ci=1\n"},
    {"scan", cmd_scan,
     FF_OPT_PARAM | FF_OPT_PRIORITY | FF_OPT_LABEL | FF_OPT_TIMEOUT | FF_OPT_JSON | FF_OPT_FAIL_ON,
     2, 2,
     "WORKFLOW PATH [-p k=v]... [--priority N] [--label k=v]... [--timeout S] "
     "[--fail-on LEVEL] [--json]",
     "Upload PATH, run WORKFLOW over it, wait, and print the findings.",
     "Prints a table (level, rule, path:line, message) and a summary line.\n"
     "Exit status: 0 the run succeeded; 1 it ended failed, timed_out or cancelled (its state\n"
     "and error are printed), or --timeout passed; 3 it succeeded with findings at or above\n"
     "--fail-on LEVEL (error, warning, note or none).\n"
     "options: as for submit, plus\n"
     "  --timeout S       stop waiting after S seconds (the run goes on)\n"
     "  --fail-on LEVEL   exit 3 when findings at or above LEVEL exist\n"
     "  --json            print {\"run\": …, \"findings\": […]} instead of the table\n"
     "\nexample:\n  ff scan secret-detection . --fail-on warning --timeout 600\n"},
    {"status", cmd_status, FF_OPT_JSON, 1, 1, "RUN_ID [--json]",
     "Show a run: state, attempt, progress, worker, error, findings summary, times.",
     "example:\n  ff status 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"wait", cmd_wait, FF_OPT_TIMEOUT | FF_OPT_JSON, 1, 1, "RUN_ID [--timeout S] [--json]",
     "Wait until a run ends; print its final state.",
     "Polls every 100 ms, backing off to 1 s, and shows live progress on stderr when it is a\n"
     "terminal. Exit status 0 when the run succeeded, 1 otherwise (or when --timeout S\n"
     "passes first).\n"
     "\nexample:\n  ff wait 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f --timeout 300\n"},
    {"runs", cmd_runs, FF_OPT_STATE | FF_OPT_WORKFLOW | FF_OPT_LIMIT | FF_OPT_CURSOR | FF_OPT_JSON,
     0, 0, "[--state S] [--workflow W] [--limit N] [--cursor C] [--json]",
     "List runs, newest first.",
     "options:\n"
     "  --state S      queued, running, retrying, succeeded, failed, timed_out or cancelled\n"
     "  --workflow W   only runs of workflow W\n"
     "  --limit N      at most N runs (1-500, default 50)\n"
     "  --cursor C     the next page, as printed after a full page\n"
     "\nexample:\n  ff runs --state failed --limit 10\n"},
    {"events", cmd_events, FF_OPT_JSON, 1, 1, "RUN_ID [--json]",
     "Show a run's state history: time, state, attempt, message.",
     "example:\n  ff events 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"findings", cmd_findings, FF_OPT_LEVEL | FF_OPT_JSON, 1, 1, "RUN_ID [--level L] [--json]",
     "Print a run's findings as a table and a summary line.",
     "options:\n"
     "  --level L   only findings of level L (error, warning, note, none)\n"
     "  --json      print {\"findings\": […], \"total\": N}\n"
     "\nexample:\n  ff findings 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f --level error\n"},
    {"sarif", cmd_sarif, FF_OPT_OUTPUT, 1, 1, "RUN_ID [-o FILE]",
     "Print a run's raw SARIF 2.1.0 log.",
     "example:\n  ff sarif 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f -o results.sarif\n"},
    {"logs", cmd_logs, 0, 1, 1, "RUN_ID", "Print a run's container logs.",
     "example:\n  ff logs 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"artifacts", cmd_artifacts, FF_OPT_JSON, 1, 1, "RUN_ID [--json]",
     "List the files a run left under /results/artifacts: name, size.",
     "example:\n  ff artifacts 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"artifact", cmd_artifact, FF_OPT_OUTPUT, 2, 2, "RUN_ID NAME [-o FILE]",
     "Download one artifact to stdout, or to FILE with -o.",
     "example:\n  ff artifact 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f report.html -o report.html\n"},
    {"ready", cmd_ready, 0, 0, 0, "",
     "Ask the controller whether it is ready (GET /readyz); exit 0 if it is, 1 if not.",
     "Prints the controller's answer, which names what is down; needs no key. For scripts\n"
     "and CI jobs that wait for the API, and the controller image's health check.\n"
     "\nexample:\n  until ff ready >/dev/null 2>&1; do sleep 1; done\n"},
    {"cancel", cmd_cancel, FF_OPT_JSON, 1, 1, "RUN_ID [--json]",
     "Cancel a queued or running run; print it.",
     "example:\n  ff cancel 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
};

static const struct cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void print_usage(FILE *f)
{
	fputs("usage: ff COMMAND [ARGS]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fputs("\nenvironment:\n"
	      "  FF_URL       the controller (default " FF_CLIENT_DEFAULT_URL ")\n"
	      "  FF_API_KEY   the API key, sent as a bearer token\n"
	      "\n'ff help COMMAND' or 'ff COMMAND --help' shows a command's options.\n",
	      f);
}

int main(int argc, char **argv)
{
	struct ctx ctx = {.tty = isatty(STDERR_FILENO)};
	struct ff_args a;
	struct ff_err err = {0};
	int rc;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help"))
		name = "help";
	const struct cmd *c = cmd_find(name);
	if (!c) {
		fprintf(stderr, "ff: unknown command '%s'\n", argv[1]);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (ff_args_parse(argc - 2, argv + 2, c->opts, c->min_pos, c->max_pos, &a, &err)) {
		char *m = ff_text_clean(err.msg);
		fprintf(stderr, "ff %s: %s\n", c->name, m ? m : "bad arguments");
		free(m);
		print_cmd_usage(c, stderr);
		return EXIT_USAGE;
	}
	if (a.help) {
		print_cmd_help(c, stdout);
		ff_args_release(&a);
		return EXIT_OK;
	}
	rc = c->fn(&ctx, &a);
	ff_args_release(&a);
	ff_client_free(ctx.client);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		fprintf(stderr, "ff: cannot write the output: %s\n", strerror(errno));
		rc = EXIT_FAIL;
	}
	return rc;
}
