/* cmd_results — the ff commands that read what a run left: its findings (findings), its SARIF
 * log (sarif), its container logs (logs) and its artifacts (artifacts, artifact).
 *
 * The findings helpers are also scan's (cmd_runs.c), so they are declared in ff_cmd.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_cmd.h"
#include "ff_buf.h"
#include "ff_sarif.h"
#include "ff_util.h"

#define FINDINGS_PAGE 1000
#define FINDINGS_MAX  1000000

/* The baseline comparison of the first page (the server computes it over all the findings,
 * so every page repeats it): the baseline's findings the run no longer has, and the counts. */
static int keep_comparison(cJSON *all, cJSON *page, struct ff_err *err)
{
	cJSON *absent = cJSON_DetachItemFromObjectCaseSensitive(page, "absent");
	if (!cJSON_IsArray(absent) || !cJSON_AddItemToObject(all, "absent", absent)) {
		cJSON_Delete(absent);
		return ff_err_set(err, FF_EINTERNAL, "the controller sent no baseline comparison");
	}
	if (!cJSON_AddNumberToObject(all, "new", (double)ff_cmd_jlong(page, "new", 0)))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	return 0;
}

/* ---- --baseline FILE: a SARIF log kept from an earlier scan (--sarif), compared here the
 * way the controller compares with a run: by the fingerprints ff_sarif_normalise gives
 * both, the same code the worker ran on the run's log. ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool in_sorted(char **set, size_t n, const char *fp)
{
	return fp && n && bsearch(&fp, set, n, sizeof(*set), cmp_str);
}

static cJSON *absent_finding(const struct ff_finding *b)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "rule_id", b->rule_id);
	cJSON_AddStringToObject(o, "level", b->level);
	cJSON_AddStringToObject(o, "message", b->message);
	if (b->path)
		cJSON_AddStringToObject(o, "path", b->path);
	else
		cJSON_AddNullToObject(o, "path");
	cJSON_AddNumberToObject(o, "start_line", (double)b->start_line);
	cJSON_AddNumberToObject(o, "end_line", (double)b->end_line);
	cJSON_AddStringToObject(o, "fingerprint", b->fingerprint);
	cJSON_AddStringToObject(o, "baseline_state", "absent");
	return o;
}

/* Marks every finding of all new or unchanged against file's, and adds "absent" and "new"
 * as the controller's ?baseline= does. */
static int compare_with_file(cJSON *all, const char *file, struct ff_err *err)
{
	char *buf = NULL;
	size_t len;
	struct ff_findings base = {0};
	cJSON *list = cJSON_GetObjectItemCaseSensitive(all, "findings");
	size_t nrun = (size_t)cJSON_GetArraySize(list), k = 0;
	char **base_fps = NULL, **run_fps = NULL;
	int rc = ff_file_read(file, FF_CLIENT_MAX_BODY, &buf, &len, err);
	if (!rc && (rc = ff_sarif_prescan(buf, len, 0, 0, err)) == 0)
		rc = ff_sarif_normalise(buf, len, FINDINGS_MAX, &base, err);
	if (rc) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		ff_err_set(err, rc == FF_ENOMEM ? rc : FF_EINVAL, "--baseline %s: %s", file, why);
		goto out;
	}
	base_fps = calloc(base.n + 1, sizeof(char *));
	run_fps = calloc(nrun + 1, sizeof(char *));
	if (!base_fps || !run_fps) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < base.n; i++)
		base_fps[i] = base.items[i].fingerprint;
	qsort(base_fps, base.n, sizeof(*base_fps), cmp_str);
	long fresh = 0;
	cJSON *f;
	cJSON_ArrayForEach(f, list)
	{
		const char *fp = ff_cmd_jstr(f, "fingerprint");
		bool known = in_sorted(base_fps, base.n, fp);
		fresh += !known;
		cJSON_AddStringToObject(f, "baseline_state", known ? "unchanged" : "new");
		if (fp)
			run_fps[k++] = (char *)fp;
	}
	qsort(run_fps, k, sizeof(*run_fps), cmp_str);
	cJSON *absent = cJSON_AddArrayToObject(all, "absent");
	for (size_t i = 0; absent && i < base.n; i++)
		if (!in_sorted(run_fps, k, base.items[i].fingerprint))
			cJSON_AddItemToArray(absent, absent_finding(&base.items[i]));
	if (!absent || !cJSON_AddNumberToObject(all, "new", (double)fresh))
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
out:
	ff_findings_release(&base);
	free(base_fps);
	free(run_fps);
	free(buf);
	return rc;
}

int ff_cmd_fetch_findings(struct ff_cmd_ctx *ctx, const char *id, const char *level,
			  const char *baseline, cJSON **out, struct ff_err *err)
{
	const char *baseline_file = baseline && !ff_uuid_valid(baseline) ? baseline : NULL;
	if (baseline_file)
		baseline = NULL; /* the run's findings alone; compared here */
	char suffix[256], path[PATH_MAX_LEN], base_q[160] = "";
	cJSON *all = cJSON_CreateObject();
	cJSON *list = all ? cJSON_AddArrayToObject(all, "findings") : NULL;
	long total = -1, got = 0;
	int rc = 0;

	if (!list) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	if (!ff_cmd_client(ctx, err)) {
		rc = err->code;
		goto out;
	}
	size_t base_len = 0;
	if (baseline && ff_query_append(base_q, sizeof(base_q), &base_len, "baseline", baseline)) {
		rc = ff_err_set(err, FF_EINVAL, "--baseline: run id too long");
		goto out;
	}
	for (;;) {
		cJSON *page = NULL;
		snprintf(suffix, sizeof(suffix), "/findings?limit=%d&offset=%ld%s%s%s",
			 FINDINGS_PAGE, got, level ? "&level=" : "", level ? level : "", base_q);
		if ((rc = ff_cmd_run_path(path, sizeof(path), id, suffix, err)))
			goto out;
		if ((rc = ff_client_json(ctx->client, "GET", path, NULL, &page, err)))
			goto out;
		if (baseline && got == 0 && (rc = keep_comparison(all, page, err))) {
			cJSON_Delete(page);
			goto out;
		}
		total = ff_cmd_jlong(page, "total", total);
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
	if (baseline_file && (rc = compare_with_file(all, baseline_file, err)))
		goto out;
	*out = all;
	all = NULL;
out:
	cJSON_Delete(all);
	return rc;
}

void ff_cmd_count_findings(const cJSON *findings, struct ff_cmd_level_counts *lc)
{
	const cJSON *f;
	memset(lc, 0, sizeof(*lc));
	cJSON_ArrayForEach(f, findings)
	{
		enum ff_level l = ff_level_parse(ff_cmd_jstr(f, "level"));
		if (l != FF_LEVEL_INVALID)
			lc->n[l]++;
		lc->total++;
	}
}

static void finding_row(const cJSON *f, const char **row, char *buf, size_t bufsz)
{
	ff_location(ff_cmd_jstr(f, "path"), ff_cmd_jlong(f, "start_line", 0), buf, bufsz);
	row[0] = ff_cmd_jstr(f, "level");
	row[1] = ff_cmd_jstr(f, "rule_id");
	row[2] = buf;
	row[3] = ff_cmd_jstr(f, "message");
}

/* With a baseline: its state first (new, unchanged, absent). */
static void compared_row(const cJSON *f, const char **row, char *buf, size_t bufsz)
{
	row[0] = ff_cmd_jstr(f, "baseline_state");
	finding_row(f, row + 1, buf, bufsz);
}

/* The run's findings, then the baseline's absent ones: one array of references (caller
 * cJSON_Deletes), or NULL when out of memory. */
static cJSON *findings_and_absent(const cJSON *findings, const cJSON *absent)
{
	cJSON *rows = cJSON_CreateArray();
	const cJSON *parts[] = {findings, absent}, *f;
	for (int i = 0; i < 2 && rows; i++)
		cJSON_ArrayForEach(f, parts[i])
		{
			if (!cJSON_AddItemReferenceToArray(rows, (cJSON *)f)) {
				cJSON_Delete(rows);
				return NULL;
			}
		}
	return rows;
}

/* Unlike a listing, an empty table is left out whole: the summary line after it says
 * "0 findings". With a baseline comparison, the baseline's absent findings follow the run's. */
int ff_cmd_print_findings_table(const cJSON *all, struct ff_err *err)
{
	static const char *const hdr[] = {"STATE", "LEVEL", "RULE", "LOCATION", "MESSAGE"};
	const cJSON *findings = cJSON_GetObjectItemCaseSensitive(all, "findings");
	const cJSON *absent = cJSON_GetObjectItemCaseSensitive(all, "absent");
	struct ff_table *t;

	if (absent) {
		cJSON *rows = findings_and_absent(findings, absent);
		if (!rows)
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		t = ff_cmd_table_of(rows, 5, hdr, compared_row, err);
		cJSON_Delete(rows);
	} else {
		t = ff_cmd_table_of(findings, 4, hdr + 1, finding_row, err);
	}
	if (!t)
		return err->code;
	if (ff_table_rows(t))
		ff_table_print(t, stdout);
	ff_table_free(t);
	return 0;
}

void ff_cmd_print_summary(const cJSON *all, const struct ff_cmd_level_counts *lc)
{
	printf("%ld finding%s: %ld error, %ld warning, %ld note, %ld none\n", lc->total,
	       lc->total == 1 ? "" : "s", lc->n[FF_LEVEL_ERROR], lc->n[FF_LEVEL_WARNING],
	       lc->n[FF_LEVEL_NOTE], lc->n[FF_LEVEL_NONE]);
	const cJSON *absent = cJSON_GetObjectItemCaseSensitive(all, "absent");
	if (absent) {
		long fresh = ff_cmd_jlong(all, "new", 0);
		printf("against the baseline: %ld new, %ld unchanged, %d absent\n", fresh,
		       ff_cmd_jlong(all, "total", 0) - fresh, cJSON_GetArraySize(absent));
	}
}

int cmd_findings(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	struct ff_cmd_level_counts lc;
	cJSON *all = NULL;
	int rc;

	if (ff_cmd_fetch_findings(ctx, a->pos[0], a->level, a->baseline, &all, &err))
		return ff_cmd_fail(&err);
	if (a->json) {
		rc = ff_cmd_print_json(all);
		goto out;
	}
	if (ff_cmd_print_findings_table(all, &err)) {
		rc = ff_cmd_fail(&err);
		goto out;
	}
	ff_cmd_count_findings(cJSON_GetObjectItemCaseSensitive(all, "findings"), &lc);
	ff_cmd_print_summary(all, &lc);
	rc = EXIT_OK;
out:
	cJSON_Delete(all);
	return rc;
}

int cmd_sarif(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];
	if (ff_cmd_run_path(path, sizeof(path), a->pos[0], "/sarif", &err))
		return ff_cmd_fail(&err);
	return ff_cmd_download(ctx, path, a->output);
}

/* ff_client_data_fn: a followed log, to stdout as it comes (a pipe to a CI log too). */
static int print_piece(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	return fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -1;
}

int cmd_logs(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];
	if (ff_cmd_run_path(path, sizeof(path), a->pos[0], a->follow ? "/logs?follow=1" : "/logs",
			    &err))
		return ff_cmd_fail(&err);
	if (!a->follow)
		return ff_cmd_download(ctx, path, NULL);
	if (!ff_cmd_client(ctx, &err))
		return ff_cmd_fail(&err);
	int rc = ff_client_stream(ctx->client, path, NULL, print_piece, NULL, &err);
	if (rc == FF_ECONFLICT)
		ff_err_set(&err, FF_EINTERNAL, "cannot write the log: %s", strerror(errno));
	else if (rc == FF_EUNAVAIL && ff_client_last_status(ctx->client) == 200)
		ff_err_set(&err, FF_EUNAVAIL,
			   "the log stream was cut before the run ended (the controller went "
			   "away?): ff logs -f again to follow it from the start");
	return rc ? ff_cmd_fail(&err) : EXIT_OK;
}

static void artifact_row(const cJSON *x, const char **row, char *buf, size_t bufsz)
{
	long n = ff_cmd_jlong(x, "size", -1);
	if (n >= 0)
		ff_size_human((uint64_t)n, buf, bufsz);
	else
		snprintf(buf, bufsz, "-");
	row[0] = ff_cmd_jstr(x, "name");
	row[1] = buf;
}

int cmd_artifacts(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"NAME", "SIZE"};
	struct ff_err err = {0};
	char path[PATH_MAX_LEN];

	if (ff_cmd_run_path(path, sizeof(path), a->pos[0], "/artifacts", &err))
		return ff_cmd_fail(&err);
	return ff_cmd_list(ctx, a, path, "artifacts", 2, hdr, artifact_row, NULL);
}

int cmd_artifact(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char esc[ESC_MAX], suffix[ESC_MAX + 16], path[PATH_MAX_LEN];
	if (ff_url_escape(a->pos[1], esc, sizeof(esc))) {
		ff_err_set(&err, FF_EINVAL, "artifact name too long");
		return ff_cmd_fail(&err);
	}
	snprintf(suffix, sizeof(suffix), "/artifacts/%s", esc);
	if (ff_cmd_run_path(path, sizeof(path), a->pos[0], suffix, &err))
		return ff_cmd_fail(&err);
	return ff_cmd_download(ctx, path, a->output);
}
