/* cmd_catalog — the ff commands about the controller rather than a run: the workflows it
 * offers (workflows, workflow) and whether it is ready (ready).
 */
#include <stdio.h>

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

int cmd_workflow(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	struct ff_err err = {0};
	char esc[ESC_MAX], path[PATH_MAX_LEN];
	cJSON *res = NULL;
	int rc;

	if (ff_url_escape(a->pos[0], esc, sizeof(esc))) {
		ff_err_set(&err, FF_EINVAL, "workflow name too long");
		return ff_cmd_fail(&err);
	}
	snprintf(path, sizeof(path), "/api/v1/workflows/%s", esc);
	if (!ff_cmd_client(ctx, &err) || ff_client_json(ctx->client, "GET", path, NULL, &res, &err))
		return ff_cmd_fail(&err);
	rc = ff_cmd_print_json(res);
	cJSON_Delete(res);
	return rc;
}

int cmd_ready(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	(void)a;
	return ff_cmd_download(ctx, "/readyz", NULL);
}
