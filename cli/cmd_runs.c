/* cmd_runs — the ff commands that start and follow runs: upload a target, submit a run, wait
 * for it, scan (all three, then the findings), and status, cancel, runs and events.
 *
 * wait and scan share one loop (wait_run), which follows the run's events as the controller
 * streams them, rides out controller outages and shows live progress when stderr is a
 * terminal, and one way out of it (follow_run): a run given up on, by a stop signal or
 * --timeout, is cancelled on the server.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ff_cmd.h"
#include "ff_report.h"
#include "ff_sse.h"
#include "ff_run_state.h"
#include "ff_tarball.h"
#include "ff_util.h"

/* wait keeps polling through this long of consecutive unreachable/5xx answers */
#define WAIT_OUTAGE_MS 60000
/* the most a cancel on the way out may take: CI sends SIGKILL some seconds after SIGTERM */
#define CANCEL_TIMEOUT_MS 5000L

/* Whether the controller holds the target buf already (GET /api/v1/targets/{sha256}); then
 * *answer is its answer (caller frees) and ff says so. Targets are content-addressed and a
 * directory always packs to the same bytes, so a tree scanned before is not sent again. Any
 * failure here just means "send it": the upload says what is wrong, if anything is. */
static bool target_stored(struct ff_cmd_ctx *ctx, const void *buf, size_t len, cJSON **answer)
{
	char sha[FF_SHA256_HEX_LEN + 1], path[128];
	struct ff_err ignored = {0};
	cJSON *res = NULL;

	ff_sha256_hex(buf, len, sha);
	snprintf(path, sizeof(path), "/api/v1/targets/%s", sha);
	if (ff_client_json(ctx->client, "GET", path, NULL, &res, &ignored) ||
	    strcmp(ff_cmd_jstr(res, "sha256") ? ff_cmd_jstr(res, "sha256") : "", sha)) {
		cJSON_Delete(res);
		return false;
	}
	fprintf(stderr, "target %s already stored\n", sha);
	*answer = res;
	return true;
}

int ff_cmd_upload(struct ff_cmd_ctx *ctx, const char *path, cJSON **answer, struct ff_err *err)
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
	if (!ff_cmd_client(ctx, err)) {
		rc = err->code;
		goto out;
	}
	if (target_stored(ctx, buf, len, answer)) {
		rc = 0;
		goto out;
	}
	rc = ff_client_post_bytes(ctx->client, "/api/v1/targets", ctype, buf, len, &res, err);
	if (rc)
		goto out;
	if (!ff_sha256_hex_valid(ff_cmd_jstr(res, "sha256"))) {
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

int cmd_upload(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	cJSON *res = NULL;
	if (ff_cmd_upload(ctx, a->pos[0], &res, &err))
		return ff_cmd_fail(&err);
	if (a->json)
		ff_cmd_print_json(res);
	else
		puts(ff_cmd_jstr(res, "sha256"));
	cJSON_Delete(res);
	return EXIT_OK;
}

int ff_cmd_submit(struct ff_cmd_ctx *ctx, const char *workflow, const char *target,
		  struct ff_args *a, cJSON **run, struct ff_err *err)
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
	if (!ff_cmd_client(ctx, err)) {
		rc = err->code;
		goto out;
	}
	rc = ff_client_post_once(ctx->client, "/api/v1/runs", body, run, err);
	if (!rc && !ff_cmd_jstr(*run, "id")) {
		cJSON_Delete(*run);
		*run = NULL;
		rc = ff_err_set(err, FF_EINTERNAL, "the controller's answer has no run id");
	}
out:
	cJSON_Delete(body);
	return rc;
}

int cmd_submit(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	cJSON *run = NULL;
	if (ff_cmd_submit(ctx, a->pos[0], a->pos[1], a, &run, &err))
		return ff_cmd_fail(&err);
	if (a->json)
		ff_cmd_print_json(run);
	else
		puts(ff_cmd_jstr(run, "id"));
	cJSON_Delete(run);
	return EXIT_OK;
}

/* Sleeps ms, or less when a stop signal comes (it interrupts nanosleep: no SA_RESTART). A
 * signal just before the sleep starts is seen after it, at most a poll interval (1 s) late. */
static void nap_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (!ff_cmd_stop_signal() && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void show_progress(const cJSON *run)
{
	const char *state = ff_cmd_jstr(run, "state");
	char *text = ff_text_clean(ff_cmd_jstr(run, "progress_text"));
	fprintf(stderr, "\r\033[K%s", state ? state : "?");
	long attempt = ff_cmd_jlong(run, "attempt", 0), max = ff_cmd_jlong(run, "max_attempts", 0);
	if (attempt > 1 || ff_run_state_parse(state) == FF_RUN_RETRYING)
		fprintf(stderr, " (attempt %ld/%ld)", attempt, max);
	if (ff_run_state_parse(state) == FF_RUN_RUNNING)
		fprintf(stderr, " %ld%%", ff_cmd_jlong(run, "progress", 0));
	if (text && *text)
		fprintf(stderr, " %.*s", 60, text);
	free(text);
	fflush(stderr);
}

/* ---- the run's events, followed live (GET …/events?follow=1) ---- */

struct watch {
	struct ff_cmd_ctx *ctx;
	cJSON *run; /* the run as last seen: its state and progress updated from the events */
	bool *shown;
	bool ended;
	struct ff_sse sse;
	char last_id[64];
};

static void set_item(cJSON *o, const char *name, cJSON *v)
{
	if (v && cJSON_HasObjectItem(o, name))
		cJSON_ReplaceItemInObjectCaseSensitive(o, name, v);
	else if (v)
		cJSON_AddItemToObject(o, name, v);
}

static void on_run_event(void *arg, const char *event, const char *id, const char *data)
{
	struct watch *w = arg;
	snprintf(w->last_id, sizeof(w->last_id), "%s", id);
	if (!strcmp(event, "end")) {
		w->ended = true;
		return;
	}
	cJSON *d = cJSON_Parse(data);
	if (!strcmp(event, "state")) {
		set_item(w->run, "state", cJSON_DetachItemFromObject(d, "state"));
		set_item(w->run, "attempt", cJSON_DetachItemFromObject(d, "attempt"));
	} else if (!strcmp(event, "progress")) {
		set_item(w->run, "progress", cJSON_DetachItemFromObject(d, "progress"));
		set_item(w->run, "progress_text", cJSON_DetachItemFromObject(d, "text"));
	}
	cJSON_Delete(d);
	if (w->ctx->tty) {
		show_progress(w->run);
		*w->shown = true;
	}
}

static int on_events_data(void *arg, const char *data, size_t len)
{
	struct watch *w = arg;
	return ff_sse_feed(&w->sse, data, len) ? -1 : 0;
}

/* Follows the run's events until its end, the deadline (0: none) or a stop signal, showing
 * progress as it comes; resumes after *last_id (updated). 0 once the run ended; else an FF_E*
 * code with err (FF_EINVAL: the controller does not stream events, poll instead). */
static int watch_events(struct ff_cmd_ctx *ctx, const char *id, cJSON *run, int64_t deadline,
			char last_id[64], bool *shown, struct ff_err *err)
{
	char path[PATH_MAX_LEN], header[96] = "";
	struct watch w = {.ctx = ctx, .run = run, .shown = shown};
	int rc = ff_cmd_run_path(path, sizeof(path), id, "/events?follow=1", err);
	if (rc)
		return rc;
	if (last_id[0])
		snprintf(header, sizeof(header), "Last-Event-ID: %s", last_id);
	memcpy(w.last_id, last_id, sizeof(w.last_id));
	ff_sse_init(&w.sse, on_run_event, &w);
	if (deadline)
		ff_client_set_timeout(ctx->client, (long)(deadline - ff_now_ms()) + 1);
	rc =
	    ff_client_stream(ctx->client, path, header[0] ? header : NULL, on_events_data, &w, err);
	ff_client_set_timeout(ctx->client, 0);
	ff_sse_release(&w.sse);
	memcpy(last_id, w.last_id, sizeof(w.last_id));
	if (rc == FF_EINVAL && ff_client_last_status(ctx->client) == 400)
		return rc; /* an older controller: no follow parameter */
	if (!rc && !w.ended)
		rc = ff_err_set(err, FF_EUNAVAIL, "the event stream stopped before the run's end");
	return rc;
}

/* Waits for the run to be in a terminal state or for timeout_s to pass (0: no limit):
 * follows its events as they come, and polls with a backoff from 100 ms to 1 s only where
 * the controller does not stream them. *run_out is the last run seen (caller frees), set also on
 * FF_ETIMEOUT. Outages (no answer, 5xx) are ridden out for up to WAIT_OUTAGE_MS. A stop
 * signal ends the wait within a moment (FF_EUNAVAIL "interrupted"). */
static int wait_run(struct ff_cmd_ctx *ctx, const char *id, double timeout_s, cJSON **run_out,
		    struct ff_err *err)
{
	char path[PATH_MAX_LEN];
	cJSON *run = NULL;
	int64_t start = ff_now_ms(), outage_since = 0;
	int64_t deadline = timeout_s > 0 ? start + (int64_t)(timeout_s * 1000.0) : 0;
	long delay = 100;
	bool warned = false, shown = false, streams = true;
	char last_id[64] = "";
	int rc;

	if ((rc = ff_cmd_run_path(path, sizeof(path), id, "", err)))
		return rc;
	if (!ff_cmd_client(ctx, err))
		return err->code;
	for (;;) {
		cJSON *next = NULL;
		if (ff_cmd_stop_signal()) {
			rc = ff_err_set(err, FF_EUNAVAIL, "interrupted");
			goto out;
		}
		rc = ff_client_json(ctx->client, "GET", path, NULL, &next, err);
		if (rc && ff_cmd_stop_signal())
			continue; /* said at the top */
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
			if (ff_run_state_terminal(ff_run_state_parse(ff_cmd_jstr(run, "state"))))
				break;
		}
		int64_t now = ff_now_ms();
		long nap = delay;
		if (deadline) {
			if (now >= deadline) {
				const char *st = run ? ff_cmd_jstr(run, "state") : NULL;
				if (st)
					rc = ff_err_set(err, FF_ETIMEOUT,
							"run %s still %s after %g s", id, st,
							timeout_s);
				else
					rc = ff_err_set(err, FF_ETIMEOUT,
							"no state of run %s within %g s", id,
							timeout_s);
				goto out;
			}
			if (deadline - now < nap)
				nap = (long)(deadline - now);
		}
		if (streams && !rc) {
			/* until the run ends; then the GET above says how */
			rc = watch_events(ctx, id, run, deadline, last_id, &shown, err);
			if (rc == FF_EINVAL)
				streams = false;
			if (!rc || ff_cmd_stop_signal())
				continue;
			if (rc != FF_EUNAVAIL && rc != FF_EINVAL)
				goto out;
		}
		nap_ms(nap);
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
	char *id = ff_text_clean(ff_cmd_jstr(run, "id"));
	char *state = ff_text_clean(ff_cmd_jstr(run, "state"));
	char *error = ff_text_clean(ff_cmd_jstr(run, "error"));
	fprintf(stderr, "ff: run %s %s", id ? id : "?", state ? state : "?");
	if (error && *error)
		fprintf(stderr, ": %s", error);
	long exit_code = ff_cmd_jlong(run, "exit_code", -1);
	if (exit_code >= 0)
		fprintf(stderr, " (exit code %ld)", exit_code);
	fputc('\n', stderr);
	free(id);
	free(state);
	free(error);
}

/* Cancels run id on the server, saying how it went. The request is not interruptible (a
 * second signal exits from the handler) and is bounded, since CI kills a job that takes
 * too long to stop. */
static void cancel_run(struct ff_cmd_ctx *ctx, const char *id)
{
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];
	char *cid = ff_text_clean(id);

	ff_cmd_interruptible(ctx, false);
	ff_client_set_timeout(ctx->client, CANCEL_TIMEOUT_MS);
	if (ff_cmd_run_path(path, sizeof(path), id, "/cancel", &err) ||
	    ff_client_json(ctx->client, "POST", path, NULL, NULL, &err)) {
		char *m = ff_text_clean(err.msg);
		fprintf(stderr, "ff: could not cancel run %s on the server: %s\n", cid ? cid : "",
			m ? m : "");
		free(m);
	} else {
		fprintf(stderr, "ff: cancelled run %s on the server\n", cid ? cid : "");
	}
	ff_client_set_timeout(ctx->client, 0);
	ff_cmd_interruptible(ctx, true);
	free(cid);
}

/* Waits for run id to end. When a stop signal comes or timeout_s passes first, the run is
 * cancelled on the server rather than left running for nobody: a CI job that gave up on it
 * won't read its results. Returns EXIT_OK with *run the run in its terminal state (caller
 * frees), else EXIT_FAIL with the reason said on stderr (main makes it 128 + the signal). */
static int follow_run(struct ff_cmd_ctx *ctx, const char *id, double timeout_s, cJSON **run)
{
	struct ff_err err = {0};
	int rc = wait_run(ctx, id, timeout_s, run, &err);
	int sig = ff_cmd_stop_signal();

	if (!rc && !sig)
		return EXIT_OK;
	cJSON_Delete(*run);
	*run = NULL;
	if (!rc) /* it ended as the signal came: nothing left to cancel */
		return EXIT_FAIL;
	if (sig)
		fprintf(stderr, "ff: %s: stopping\n", ff_cmd_signal_name(sig));
	else if (rc == FF_ETIMEOUT)
		ff_cmd_fail(&err);
	else
		return ff_cmd_fail(&err); /* the controller gone or the run unknown: no cancel */
	cancel_run(ctx, id);
	return EXIT_FAIL;
}

int cmd_wait(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	cJSON *run = NULL;
	ff_cmd_catch_stop();
	int rc = follow_run(ctx, a->pos[0], a->timeout_s, &run);
	if (rc)
		return rc;
	const char *state = ff_cmd_jstr(run, "state");
	bool ok = ff_run_state_parse(state) == FF_RUN_SUCCEEDED;
	if (a->json) {
		ff_cmd_print_json(run);
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

/* ---- scan's report files ---- */

/* What one run left, shared by every report written from it. */
struct scan_result {
	struct ff_cmd_ctx *ctx;
	const cJSON *run, *findings; /* findings: the array */
	const cJSON *doc;	     /* {"run": …, "findings": […]}, as --json prints it */
};

static int fill_sarif(FILE *f, void *arg, struct ff_err *err)
{
	struct scan_result *r = arg;
	char path[PATH_MAX_LEN];
	int rc = ff_cmd_run_path(path, sizeof(path), ff_cmd_jstr(r->run, "id"), "/sarif", err);
	return rc ? rc : ff_client_download(r->ctx->client, path, f, NULL, err);
}

static int fill_json(FILE *f, void *arg, struct ff_err *err)
{
	struct scan_result *r = arg;
	char *s = cJSON_Print(r->doc);
	if (!s)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	fputs(s, f);
	fputc('\n', f);
	cJSON_free(s);
	return 0;
}

static int fill_junit(FILE *f, void *arg, struct ff_err *err)
{
	struct scan_result *r = arg;
	const char *wf = ff_cmd_jstr(r->run, "workflow");
	return ff_report_junit(f, wf ? wf : "fuzzforge", r->findings, err);
}

static int fill_csv(FILE *f, void *arg, struct ff_err *err)
{
	struct scan_result *r = arg;
	return ff_report_csv(f, r->findings, err);
}

/* Writes every report asked for, each whole or not at all; the first failure is said and
 * ends it (EXIT_FAIL). */
static int write_reports(const struct ff_args *a, struct scan_result *r)
{
	const struct {
		const char *file;
		ff_report_fill_fn *fill;
	} reports[] = {
	    {a->sarif, fill_sarif},
	    {a->json_out, fill_json},
	    {a->junit, fill_junit},
	    {a->csv, fill_csv},
	};
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
		struct ff_err err = {0};
		if (reports[i].file &&
		    ff_report_write_atomic(reports[i].file, reports[i].fill, r, &err))
			return ff_cmd_fail(&err);
	}
	return EXIT_OK;
}

/* Uploads and submits for scan; *id is the run's id (caller frees). Returns the exit status. */
static int scan_start(struct ff_cmd_ctx *ctx, struct ff_args *a, char **id)
{
	struct ff_err err = {0};
	cJSON *target = NULL, *run = NULL;
	int rc = EXIT_OK;

	if (ff_cmd_upload(ctx, a->pos[1], &target, &err)) {
		rc = ff_cmd_fail(&err);
		goto out;
	}
	/* Once the server has the run it must tell us its id, or a stop could not cancel it:
	 * a signal now waits for the answer and is acted on in follow_run. */
	ff_cmd_interruptible(ctx, false);
	int src = ff_cmd_submit(ctx, a->pos[0], ff_cmd_jstr(target, "sha256"), a, &run, &err);
	ff_cmd_interruptible(ctx, true);
	if (src) {
		rc = ff_cmd_fail(&err);
		goto out;
	}
	if (!(*id = strdup(ff_cmd_jstr(run, "id")))) {
		ff_err_set(&err, FF_ENOMEM, "out of memory");
		rc = ff_cmd_fail(&err);
		goto out;
	}
	if (ctx->tty || !a->json) {
		char *cid = ff_text_clean(*id);
		fprintf(stderr, "run %s submitted\n", cid ? cid : "");
		free(cid);
	}
out:
	cJSON_Delete(run);
	cJSON_Delete(target);
	return rc;
}

/* Whether a finding fails the scan: --fail-on LEVEL counts those at or above LEVEL, and with
 * --fail-on-new only the new ones (any level when --fail-on is not given). */
static bool fails_the_scan(const struct ff_args *a, const cJSON *findings)
{
	enum ff_level floor = a->fail_on;
	if (floor == FF_LEVEL_INVALID && a->fail_on_new)
		floor = FF_LEVEL_NONE;
	if (floor == FF_LEVEL_INVALID)
		return false;
	const cJSON *f;
	cJSON_ArrayForEach(f, findings)
	{
		const char *st = ff_cmd_jstr(f, "baseline_state");
		if (ff_level_parse(ff_cmd_jstr(f, "level")) >= floor &&
		    (!a->fail_on_new || (st && !strcmp(st, "new"))))
			return true;
	}
	return false;
}

int cmd_scan(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	cJSON *run = NULL, *findings = NULL, *out = NULL;
	struct ff_cmd_level_counts lc;
	char *id = NULL;
	int rc;

	ff_cmd_catch_stop();
	if ((rc = scan_start(ctx, a, &id)) || (rc = follow_run(ctx, id, a->timeout_s, &run)))
		goto out;
	const char *state = ff_cmd_jstr(run, "state");
	if (ff_run_state_parse(state) != FF_RUN_SUCCEEDED) {
		if (a->json)
			ff_cmd_print_json(run);
		report_unsuccessful(run);
		rc = EXIT_FAIL;
		goto out;
	}
	if (ff_cmd_fetch_findings(ctx, ff_cmd_jstr(run, "id"), NULL, a->baseline, &findings,
				  &err)) {
		rc = ff_cmd_fail(&err);
		goto out;
	}
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(findings, "findings");
	cJSON *absent = cJSON_GetObjectItemCaseSensitive(findings, "absent");
	ff_cmd_count_findings(list, &lc);
	out = cJSON_CreateObject();
	if (!out || !cJSON_AddItemReferenceToObject(out, "run", run) ||
	    !cJSON_AddItemReferenceToObject(out, "findings", (cJSON *)list) ||
	    (absent && !cJSON_AddItemReferenceToObject(out, "absent", absent))) {
		ff_err_set(&err, FF_ENOMEM, "out of memory");
		rc = ff_cmd_fail(&err);
		goto out;
	}
	if (a->json) {
		ff_cmd_print_json(out);
	} else {
		if (ff_cmd_print_findings_table(findings, &err)) {
			rc = ff_cmd_fail(&err);
			goto out;
		}
		ff_cmd_print_summary(findings, &lc);
	}
	struct scan_result res = {.ctx = ctx, .run = run, .findings = list, .doc = out};
	if ((rc = write_reports(a, &res)))
		goto out;
	if (fails_the_scan(a, list))
		rc = EXIT_FINDINGS;
out:
	free(id);
	cJSON_Delete(out);
	cJSON_Delete(findings);
	cJSON_Delete(run);
	return rc;
}

/* A run's or a target's field; one the server left out is not shown. */
static void kv(const char *key, const char *value)
{
	if (value)
		ff_cmd_print_field(key, value, 10);
}

static void print_run(const cJSON *run)
{
	char buf[512];
	const cJSON *v;

	kv("id:", ff_cmd_jstr(run, "id"));
	snprintf(buf, sizeof(buf), "%s (%s)",
		 ff_cmd_jstr(run, "workflow") ? ff_cmd_jstr(run, "workflow") : "?",
		 ff_cmd_jstr(run, "workflow_version") ? ff_cmd_jstr(run, "workflow_version") : "?");
	kv("workflow:", buf);
	kv("target:", ff_cmd_jstr(run, "target"));
	kv("state:", ff_cmd_jstr(run, "state"));
	snprintf(buf, sizeof(buf), "%ld/%ld", ff_cmd_jlong(run, "attempt", 0),
		 ff_cmd_jlong(run, "max_attempts", 0));
	kv("attempt:", buf);
	if (ff_run_state_parse(ff_cmd_jstr(run, "state")) == FF_RUN_RUNNING) {
		const char *pt = ff_cmd_jstr(run, "progress_text");
		snprintf(buf, sizeof(buf), "%ld%%%s%s", ff_cmd_jlong(run, "progress", 0),
			 pt ? " " : "", pt ? pt : "");
		kv("progress:", buf);
	}
	snprintf(buf, sizeof(buf), "%ld", ff_cmd_jlong(run, "priority", 0));
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
	kv("worker:", ff_cmd_jstr(run, "worker"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(run, "exit_code"))) {
		snprintf(buf, sizeof(buf), "%ld", ff_cmd_jlong(run, "exit_code", 0));
		kv("exit code:", buf);
	}
	kv("error:", ff_cmd_jstr(run, "error"));
	v = cJSON_GetObjectItemCaseSensitive(run, "findings_summary");
	if (cJSON_IsObject(v)) {
		snprintf(buf, sizeof(buf), "%ld (%ld error, %ld warning, %ld note, %ld none)",
			 ff_cmd_jlong(v, "total", 0), ff_cmd_jlong(v, "error", 0),
			 ff_cmd_jlong(v, "warning", 0), ff_cmd_jlong(v, "note", 0),
			 ff_cmd_jlong(v, "none", 0));
		kv("findings:", buf);
	}
	kv("created:", ff_cmd_jstr(run, "created_at"));
	kv("started:", ff_cmd_jstr(run, "started_at"));
	kv("finished:", ff_cmd_jstr(run, "finished_at"));
}

/* GET or POST a run path and print the run, as JSON or fields. */
static int show_run(struct ff_cmd_ctx *ctx, struct ff_args *a, const char *method,
		    const char *suffix)
{
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];
	cJSON *run = NULL;

	if (ff_cmd_run_path(path, sizeof(path), a->pos[0], suffix, &err) ||
	    !ff_cmd_client(ctx, &err) ||
	    ff_client_json(ctx->client, method, path, NULL, &run, &err))
		return ff_cmd_fail(&err);
	if (a->json)
		ff_cmd_print_json(run);
	else
		print_run(run);
	cJSON_Delete(run);
	return EXIT_OK;
}

int cmd_status(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	return show_run(ctx, a, "GET", "");
}

int cmd_cancel(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	return show_run(ctx, a, "POST", "/cancel");
}

int cmd_retry(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	return show_run(ctx, a, "POST", "/retry");
}

static void run_row(const cJSON *r, const char **row, char *buf, size_t bufsz)
{
	const cJSON *fs = cJSON_GetObjectItemCaseSensitive(r, "findings_summary");
	snprintf(buf, bufsz, "-");
	if (cJSON_IsObject(fs))
		snprintf(buf, bufsz, "%ld", ff_cmd_jlong(fs, "total", 0));
	row[0] = ff_cmd_jstr(r, "id");
	row[1] = ff_cmd_jstr(r, "state");
	row[2] = ff_cmd_jstr(r, "workflow");
	row[3] = buf;
	row[4] = ff_cmd_jstr(r, "created_at");
}

int cmd_target(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char path[128], size[32];
	cJSON *t = NULL;
	if (!ff_sha256_hex_valid(a->pos[0])) {
		fprintf(stderr, "ff target: SHA256 must be 64 hex digits (as ff upload prints)\n");
		return EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/api/v1/targets/%s", a->pos[0]);
	if (!ff_cmd_client(ctx, &err) || ff_client_json(ctx->client, "GET", path, NULL, &t, &err))
		return ff_cmd_fail(&err);
	if (a->json) {
		int rc = ff_cmd_print_json(t);
		cJSON_Delete(t);
		return rc;
	}
	long n = ff_cmd_jlong(t, "size", -1);
	if (n >= 0)
		ff_size_human((uint64_t)n, size, sizeof(size));
	kv("sha256:", ff_cmd_jstr(t, "sha256"));
	kv("size:", n >= 0 ? size : NULL);
	kv("stored:", ff_cmd_jstr(t, "created_at"));
	cJSON_Delete(t);
	return EXIT_OK;
}

int cmd_runs(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"ID", "STATE", "WORKFLOW", "FINDINGS", "CREATED"};
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];
	size_t off = (size_t)snprintf(path, sizeof(path), "/api/v1/runs?limit=%ld",
				      a->limit ? a->limit : 50);
	const char *names[] = {"state", "workflow", "cursor"};
	const char *vals[] = {a->state, a->workflow, a->cursor};
	for (int i = 0; i < 3; i++) {
		if (vals[i] && ff_query_append(path, sizeof(path), &off, names[i], vals[i])) {
			ff_err_set(&err, FF_EINVAL, "--%s value too long", names[i]);
			return ff_cmd_fail(&err);
		}
	}
	/* Each --label k=v becomes one label=k=v: the server ANDs them, so the list is the runs
	 * carrying every label asked for (how a pipeline finds its default branch's last run). */
	const cJSON *l;
	cJSON_ArrayForEach(l, a->labels)
	{
		char kv[ESC_MAX];
		if ((size_t)snprintf(kv, sizeof(kv), "%s=%s", l->string, l->valuestring) >=
			sizeof(kv) ||
		    ff_query_append(path, sizeof(path), &off, "label", kv)) {
			ff_err_set(&err, FF_EINVAL, "--label value too long");
			return ff_cmd_fail(&err);
		}
	}
	return ff_cmd_list(ctx, a, path, "runs", 5, hdr, run_row, "runs");
}

static void event_row(const cJSON *e, const char **row, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%ld", ff_cmd_jlong(e, "attempt", 0));
	row[0] = ff_cmd_jstr(e, "ts");
	row[1] = ff_cmd_jstr(e, "state");
	row[2] = buf;
	row[3] = ff_cmd_jstr(e, "message") ? ff_cmd_jstr(e, "message") : "";
}

int cmd_events(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"TIME", "STATE", "ATTEMPT", "MESSAGE"};
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];

	if (ff_cmd_run_path(path, sizeof(path), a->pos[0], "/events", &err))
		return ff_cmd_fail(&err);
	return ff_cmd_list(ctx, a, path, "events", 4, hdr, event_row, NULL);
}
