/* cmd_catalog — the ff commands about the controller rather than a run: the workflows it
 * offers (workflows; workflow, with its parameter table) and whether it is ready (ready).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ff_cmd.h"

static void workflow_row(const cJSON *w, const char **row, char *buf, size_t bufsz)
{
	(void)buf;
	(void)bufsz;
	row[0] = ff_cmd_jstr(w, "name");
	row[1] = ff_cmd_jstr(w, "version");
	row[2] = ff_cmd_jstr(w, "description");
}

int cmd_workflows(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	static const char *const hdr[] = {"NAME", "VERSION", "DESCRIPTION"};
	return ff_cmd_list(ctx, a, "/api/v1/workflows", "workflows", 3, hdr, workflow_row, NULL);
}

/* A parameter's range: minimum–maximum, the enum's values, or a string's longest length. */
static void param_range(const cJSON *p, char *buf, size_t bufsz)
{
	const cJSON *min = cJSON_GetObjectItemCaseSensitive(p, "minimum"),
		    *max = cJSON_GetObjectItemCaseSensitive(p, "maximum"),
		    *values = cJSON_GetObjectItemCaseSensitive(p, "enum"),
		    *maxlen = cJSON_GetObjectItemCaseSensitive(p, "maxLength"), *v;
	size_t off = 0;
	buf[0] = '\0';
	if (cJSON_IsArray(values)) {
		cJSON_ArrayForEach(v, values)
		{
			char *t = cJSON_IsString(v) ? NULL : cJSON_PrintUnformatted(v);
			if (off < bufsz)
				off += (size_t)snprintf(buf + off, bufsz - off, "%s%s",
							off ? "|" : "", t ? t : v->valuestring);
			free(t);
		}
	} else if (cJSON_IsNumber(min) || cJSON_IsNumber(max)) {
		char lo[32] = "", hi[32] = "";
		if (cJSON_IsNumber(min))
			snprintf(lo, sizeof(lo), "%.15g", min->valuedouble);
		if (cJSON_IsNumber(max))
			snprintf(hi, sizeof(hi), "%.15g", max->valuedouble);
		snprintf(buf, bufsz, "%s\u2013%s", lo, hi);
	} else if (cJSON_IsNumber(maxlen)) {
		snprintf(buf, bufsz, "\u2264 %d chars", maxlen->valueint);
	}
}

struct ff_table *ff_cmd_params_table(const cJSON *schema, struct ff_err *err)
{
	static const char *const hdr[] = {"PARAMETER", "TYPE", "DEFAULT", "RANGE", "DESCRIPTION"};
	struct ff_table *t = ff_table_new(5, hdr);
	const cJSON *p;
	if (!t) {
		ff_err_set(err, FF_ENOMEM, "out of memory");
		return NULL;
	}
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(schema, "properties"))
	{
		char range[256], *def_text = NULL;
		const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "default");
		param_range(p, range, sizeof(range));
		if (def && !(cJSON_IsString(def) && def->valuestring[0]))
			def_text = cJSON_PrintUnformatted(def); /* "" shows as "", text as it is */
		const char *row[] = {p->string, ff_cmd_jstr(p, "type"),
				     def_text ? def_text : (def ? def->valuestring : NULL),
				     range[0] ? range : NULL, ff_cmd_jstr(p, "description")};
		int rc = ff_table_add(t, row, err);
		free(def_text);
		if (rc) {
			ff_table_free(t);
			return NULL;
		}
	}
	return t;
}

/* A workflow's field, "-" when the manifest has none. */
static void kv(const char *key, const char *value)
{
	ff_cmd_print_field(key, value, 12);
}

int cmd_workflow(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char esc[ESC_MAX], path[PATH_MAX_LEN], buf[256];
	cJSON *res = NULL;
	int rc = EXIT_OK;

	if (ff_url_escape(a->pos[0], esc, sizeof(esc))) {
		ff_err_set(&err, FF_EINVAL, "workflow name too long");
		return ff_cmd_fail(&err);
	}
	snprintf(path, sizeof(path), "/api/v1/workflows/%s", esc);
	if (!ff_cmd_client(ctx, &err) || ff_client_json(ctx->client, "GET", path, NULL, &res, &err))
		return ff_cmd_fail(&err);
	if (a->json) {
		rc = ff_cmd_print_json(res);
		cJSON_Delete(res);
		return rc;
	}
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(res, "resources"),
		    *retry = cJSON_GetObjectItemCaseSensitive(res, "retry");
	kv("name:", ff_cmd_jstr(res, "name"));
	kv("version:", ff_cmd_jstr(res, "version"));
	kv("description:", ff_cmd_jstr(res, "description"));
	kv("image:", ff_cmd_jstr(res, "image"));
	double cpus = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "cpus"));
	snprintf(buf, sizeof(buf), "timeout %ld s, memory %ld MiB, %g CPU%s, %ld processes",
		 ff_cmd_jlong(r, "timeout_s", 0), ff_cmd_jlong(r, "memory_mb", 0), cpus,
		 cpus == 1 ? "" : "s", ff_cmd_jlong(r, "pids", 0));
	kv("resources:", buf);
	long attempts = ff_cmd_jlong(retry, "max_attempts", 1);
	snprintf(buf, sizeof(buf), "%ld attempt%s, %ld s apart", attempts, attempts == 1 ? "" : "s",
		 ff_cmd_jlong(retry, "backoff_s", 0));
	kv("retry:", buf);
	kv("network:", ff_cmd_jstr(res, "network"));
	struct ff_table *t =
	    ff_cmd_params_table(cJSON_GetObjectItemCaseSensitive(res, "parameters"), &err);
	if (!t) {
		rc = ff_cmd_fail(&err);
	} else if (ff_table_rows(t)) {
		putchar('\n');
		ff_table_print(t, stdout);
	}
	ff_table_free(t);
	cJSON_Delete(res);
	return rc;
}

int cmd_ready(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	(void)a;
	return ff_cmd_download(ctx, "/readyz", NULL);
}
