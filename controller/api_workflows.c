/* api_workflows — the workflow catalogue loaded at start from FF_WORKFLOWS_DIR. */
#include "api.h"
#include "app.h"

void api_workflows_list(struct http_req *r)
{
	const struct ff_catalog *c = r->app->catalog;
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "workflows");
	for (size_t i = 0; i < ff_catalog_count(c); i++)
		cJSON_AddItemToArray(arr, ff_manifest_to_json(ff_catalog_at(c, i)));
	http_reply_json(r, 200, o);
	cJSON_Delete(o);
}

void api_workflow_get(struct http_req *r)
{
	const struct ff_manifest *m = ff_catalog_find(r->app->catalog, r->params[0]);
	if (!m)
		return http_reply_fail(r, FF_ENOTFOUND, NULL, "no workflow '%.64s'", r->params[0]);
	cJSON *o = ff_manifest_to_json(m);
	http_reply_json(r, 200, o);
	cJSON_Delete(o);
}
