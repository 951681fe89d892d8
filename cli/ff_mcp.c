/* ff_mcp — the MCP server on stdio; see ff_mcp.h. */
#include "ff_mcp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_client.h"
#include "ff_util.h"

/* Newest first: the answer to a client asking for none of these. */
static const char *const revisions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

#define RUN_ID_ARG "\"run_id\":{\"type\":\"string\",\"description\":\"a run's id (a UUID)\"}"

static const struct tool {
	const char *name, *description, *schema;
	int (*fn)(struct ff_cmd_ctx *ctx, const cJSON *args, cJSON **out, struct ff_err *err);
} * tool_find(const char *name);

/* ---- the tools: each fills *out (an object) or err ---- */

static const char *arg_str(const cJSON *args, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int need_str(const cJSON *args, const char *name, const char **v, struct ff_err *err)
{
	if (!(*v = arg_str(args, name)))
		return ff_err_field(err, FF_EINVAL, name, "%s is required: a non-empty string",
				    name);
	return 0;
}

static int client(struct ff_cmd_ctx *ctx, struct ff_err *err)
{
	return ff_cmd_client(ctx, err) ? 0 : err->code;
}

static int run_call(struct ff_cmd_ctx *ctx, const cJSON *args, const char *method,
		    const char *suffix, cJSON **out, struct ff_err *err)
{
	const char *id;
	char path[PATH_MAX_LEN];
	int rc = need_str(args, "run_id", &id, err);
	if (!rc && !ff_uuid_valid(id))
		rc = ff_err_field(err, FF_EINVAL, "run_id", "run_id must be a run's id (a UUID)");
	if (!rc)
		rc = ff_cmd_run_path(path, sizeof(path), id, suffix, err);
	if (!rc)
		rc = client(ctx, err);
	return rc ? rc : ff_client_json(ctx->client, method, path, NULL, out, err);
}

static int tool_list_workflows(struct ff_cmd_ctx *ctx, const cJSON *args, cJSON **out,
			       struct ff_err *err)
{
	(void)args;
	cJSON *all = NULL;
	int rc = client(ctx, err);
	if (!rc)
		rc = ff_client_json(ctx->client, "GET", "/api/v1/workflows", NULL, &all, err);
	if (rc)
		return rc;
	/* what an agent needs to choose and call one; not the image, command or resources */
	cJSON *list = cJSON_CreateArray(), *w;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(all, "workflows"))
	{
		cJSON *o = cJSON_CreateObject();
		static const char *const keep[] = {"name", "version", "description", "parameters"};
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(w, keep[i]);
			if (v)
				cJSON_AddItemToObject(o, keep[i], cJSON_Duplicate(v, 1));
		}
		cJSON_AddItemToArray(list, o);
	}
	cJSON_Delete(all);
	*out = cJSON_CreateObject();
	cJSON_AddItemToObject(*out, "workflows", list);
	return 0;
}

static int tool_upload_directory(struct ff_cmd_ctx *ctx, const cJSON *args, cJSON **out,
				 struct ff_err *err)
{
	const char *path;
	int rc = need_str(args, "path", &path, err);
	return rc ? rc : ff_cmd_upload(ctx, path, out, err);
}

static int tool_start_scan(struct ff_cmd_ctx *ctx, const cJSON *args, cJSON **out,
			   struct ff_err *err)
{
	const char *workflow, *path = arg_str(args, "path"), *target = arg_str(args, "target");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(args, "parameters"),
		    *labels = cJSON_GetObjectItemCaseSensitive(args, "labels");
	cJSON *uploaded = NULL;
	int rc = need_str(args, "workflow", &workflow, err);
	if (!rc && !path == !target)
		rc = ff_err_set(err, FF_EINVAL,
				"give either path (a directory to upload) or "
				"target (an uploaded target's sha256)");
	if (!rc && ((params && !cJSON_IsObject(params)) || (labels && !cJSON_IsObject(labels))))
		rc = ff_err_set(err, FF_EINVAL, "parameters and labels must be objects");
	if (!rc && path && !(rc = ff_cmd_upload(ctx, path, &uploaded, err)))
		target = ff_cmd_jstr(uploaded, "sha256");
	if (!rc) {
		struct ff_args a = {.priority = -1,
				    .params = params ? cJSON_Duplicate(params, 1) : NULL,
				    .labels = labels ? cJSON_Duplicate(labels, 1) : NULL};
		rc = ff_cmd_submit(ctx, workflow, target, &a, out, err);
		ff_args_release(&a);
	}
	cJSON_Delete(uploaded);
	return rc;
}

static int tool_get_run(struct ff_cmd_ctx *ctx, const cJSON *args, cJSON **out, struct ff_err *err)
{
	return run_call(ctx, args, "GET", "", out, err);
}

static int tool_cancel_run(struct ff_cmd_ctx *ctx, const cJSON *args, cJSON **out,
			   struct ff_err *err)
{
	return run_call(ctx, args, "POST", "/cancel", out, err);
}

static int tool_list_findings(struct ff_cmd_ctx *ctx, const cJSON *args, cJSON **out,
			      struct ff_err *err)
{
	const char *id, *level = arg_str(args, "level"), *baseline = arg_str(args, "baseline");
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(args, "limit");
	int limit = cJSON_IsNumber(lim) ? lim->valueint : FF_MCP_MAX_FINDINGS;
	int rc = need_str(args, "run_id", &id, err);
	if (!rc && lim && !cJSON_IsNumber(lim))
		rc = ff_err_field(err, FF_EINVAL, "limit", "limit must be a number");
	if (!rc && (limit < 1 || limit > FF_MCP_MAX_FINDINGS))
		rc = ff_err_field(err, FF_EINVAL, "limit", "limit must be 1-%d",
				  FF_MCP_MAX_FINDINGS);
	if (!rc && level && ff_level_parse(level) == FF_LEVEL_INVALID)
		rc = ff_err_field(err, FF_EINVAL, "level",
				  "level must be error, warning, note or "
				  "none");
	if (!rc)
		rc = ff_cmd_fetch_findings(ctx, id, level, baseline, out, err);
	if (rc)
		return rc;
	/* an agent's context is small: the first `limit`, and how many there are */
	cJSON *list = cJSON_GetObjectItemCaseSensitive(*out, "findings");
	while (cJSON_GetArraySize(list) > limit)
		cJSON_DeleteItemFromArray(list, limit);
	cJSON_AddBoolToObject(*out, "truncated",
			      ff_cmd_jlong(*out, "total", 0) > cJSON_GetArraySize(list));
	return 0;
}

static int tool_get_logs(struct ff_cmd_ctx *ctx, const cJSON *args, cJSON **out, struct ff_err *err)
{
	const char *id;
	char path[PATH_MAX_LEN];
	char *text = NULL;
	size_t len = 0;
	int rc = need_str(args, "run_id", &id, err);
	if (!rc)
		rc = ff_cmd_run_path(path, sizeof(path), id, "/logs", err);
	if (!rc)
		rc = client(ctx, err);
	FILE *f = rc ? NULL : open_memstream(&text, &len);
	if (!rc && !f)
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
	if (!rc)
		rc = ff_client_download(ctx->client, path, f, NULL, err);
	if (f)
		fclose(f);
	if (!rc) {
		/* the end of a long log is what says how it went */
		size_t keep = 64 * 1024, from = len > keep ? len - keep : 0;
		char *clean = ff_utf8_valid(text + from, len - from) ? NULL : strdup(text + from);
		if (clean)
			ff_utf8_sanitize(clean);
		*out = cJSON_CreateObject();
		cJSON_AddStringToObject(*out, "logs", clean ? clean : text + from);
		cJSON_AddBoolToObject(*out, "truncated", from > 0);
		free(clean);
	}
	free(text);
	return rc;
}

static const struct tool tools[] = {
    {"list_workflows",
     "List the analyses the platform can run (static analysis, secret detection, fuzzing), "
     "each with its version, description and the JSON Schema of its parameters.",
     "{\"type\":\"object\",\"properties\":{}}", tool_list_workflows},
    {"upload_directory",
     "Upload a directory (or a .tar/.tar.gz file) on this machine as a scan target; returns "
     "its sha256. The same tree always gives the same digest and is not sent twice.",
     "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\",\"description\":"
     "\"a directory or tar file\"}},\"required\":[\"path\"]}",
     tool_upload_directory},
    {"start_scan",
     "Start a run of a workflow over a directory (uploaded first) or an uploaded target; "
     "returns the run (id, state). Follow it with get_run; read its findings with "
     "list_findings once it succeeded.",
     "{\"type\":\"object\",\"properties\":{\"workflow\":{\"type\":\"string\",\"description\":"
     "\"a name from list_workflows\"},\"path\":{\"type\":\"string\",\"description\":\"a "
     "directory to upload and scan\"},\"target\":{\"type\":\"string\",\"description\":\"an "
     "uploaded target's sha256, instead of path\"},\"parameters\":{\"type\":\"object\","
     "\"description\":\"the workflow's parameters (its schema in list_workflows)\"},"
     "\"labels\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"},"
     "\"description\":\"key/value labels (branch, commit) to find the run by\"}},"
     "\"required\":[\"workflow\"]}",
     tool_start_scan},
    {"get_run",
     "A run's state (queued, running, retrying, succeeded, failed, timed_out, cancelled), "
     "progress, error and findings summary.",
     "{\"type\":\"object\",\"properties\":{" RUN_ID_ARG "},\"required\":[\"run_id\"]}",
     tool_get_run},
    {"list_findings",
     "A finished run's findings (rule, level, message, path, line, fingerprint) in the "
     "order the workflow wrote them; with baseline, each is new or "
     "unchanged against that earlier run, and the baseline's findings this run lacks are "
     "listed as absent.",
     "{\"type\":\"object\",\"properties\":{" RUN_ID_ARG ",\"baseline\":{\"type\":\"string\","
     "\"description\":\"an earlier run's id, or a SARIF file on this machine, to compare "
     "with\"},\"level\":{\"type\":\"string\",\"enum\":[\"error\",\"warning\",\"note\","
     "\"none\"]},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200,"
     "\"default\":200}},\"required\":[\"run_id\"]}",
     tool_list_findings},
    {"get_logs", "The last 64 KiB of a finished run's container output.",
     "{\"type\":\"object\",\"properties\":{" RUN_ID_ARG "},\"required\":[\"run_id\"]}",
     tool_get_logs},
    {"cancel_run", "Cancel a queued or running run.",
     "{\"type\":\"object\",\"properties\":{" RUN_ID_ARG "},\"required\":[\"run_id\"]}",
     tool_cancel_run},
};

static const struct tool *tool_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!strcmp(tools[i].name, name))
			return &tools[i];
	return NULL;
}

/* ---- the protocol ---- */

static cJSON *reply(const cJSON *id)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "jsonrpc", "2.0");
	cJSON_AddItemToObject(r, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	return r;
}

static cJSON *error_reply(const cJSON *id, int code, const char *message)
{
	cJSON *r = reply(id), *e = cJSON_AddObjectToObject(r, "error");
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	return r;
}

static cJSON *initialize(const cJSON *params)
{
	const char *asked =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "protocolVersion"));
	const char *version = revisions[0];
	for (size_t i = 0; asked && i < sizeof(revisions) / sizeof(revisions[0]); i++)
		if (!strcmp(asked, revisions[i]))
			version = revisions[i];
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "protocolVersion", version);
	cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "tools"), "listChanged", 0);
	cJSON *info = cJSON_AddObjectToObject(r, "serverInfo");
	cJSON_AddStringToObject(info, "name", "fuzzforge");
	cJSON_AddStringToObject(info, "version", FF_VERSION);
	cJSON_AddStringToObject(r, "instructions",
				"FuzzForge runs security analyses of source trees in isolated "
				"containers. list_workflows, then start_scan with a directory, "
				"get_run until its state is terminal, then list_findings.");
	return r;
}

static cJSON *tools_list(void)
{
	cJSON *r = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(r, "tools");
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "name", tools[i].name);
		cJSON_AddStringToObject(t, "description", tools[i].description);
		cJSON_AddItemToObject(t, "inputSchema", cJSON_Parse(tools[i].schema));
		cJSON_AddItemToArray(list, t);
	}
	return r;
}

/* A tool's outcome as MCP has it: its object as text and as structuredContent, or its error
 * as text with isError. */
static cJSON *tool_result(const cJSON *out, int rc, const struct ff_err *err)
{
	cJSON *r = cJSON_CreateObject(), *content = cJSON_AddArrayToObject(r, "content");
	cJSON *text = cJSON_CreateObject();
	cJSON_AddStringToObject(text, "type", "text");
	if (rc) {
		char msg[sizeof(err->msg) + 96];
		snprintf(msg, sizeof(msg), "error: %s%s%s%s", err->msg, err->field[0] ? " (" : "",
			 err->field, err->field[0] ? ")" : "");
		cJSON_AddStringToObject(text, "text", msg);
		cJSON_AddBoolToObject(r, "isError", 1);
	} else {
		char *s = cJSON_PrintUnformatted(out);
		cJSON_AddStringToObject(text, "text", s ? s : "{}");
		free(s);
		cJSON_AddItemToObject(r, "structuredContent", cJSON_Duplicate(out, 1));
	}
	cJSON_AddItemToArray(content, text);
	return r;
}

static cJSON *tools_call(struct ff_cmd_ctx *ctx, const cJSON *id, const cJSON *params)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "name"));
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
	const struct tool *t = tool_find(name);
	if (!t) {
		char msg[160];
		snprintf(msg, sizeof(msg), "no tool named '%.100s'", name ? name : "");
		return error_reply(id, -32602, msg);
	}
	if (args && !cJSON_IsObject(args))
		return error_reply(id, -32602, "arguments must be an object");
	struct ff_err err = {0};
	cJSON *out = NULL;
	int rc = t->fn(ctx, args, &out, &err);
	cJSON *r = reply(id);
	cJSON_AddItemToObject(r, "result", tool_result(out, rc, &err));
	cJSON_Delete(out);
	return r;
}

char *ff_mcp_handle(struct ff_cmd_ctx *ctx, const char *line, size_t len)
{
	size_t n = 0;
	while (n < len && strchr(" \t\r\n", line[n]))
		n++;
	if (n == len)
		return NULL;
	cJSON *msg = cJSON_ParseWithLength(line, len), *r = NULL;
	if (!msg) {
		r = error_reply(NULL, -32700, "parse error: not a JSON message");
		goto out;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "method"));
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	const char *version =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc"));
	/* MCP's ids are strings or numbers, never null */
	bool id_ok = cJSON_IsObject(msg) && (cJSON_IsString(id) || cJSON_IsNumber(id));
	if (!cJSON_IsObject(msg) || !method || !version || strcmp(version, "2.0") ||
	    (id && !id_ok)) {
		/* a response to us (we send no requests) is dropped; anything else is refused */
		if (id_ok && method == NULL &&
		    (cJSON_HasObjectItem(msg, "result") || cJSON_HasObjectItem(msg, "error")))
			goto out;
		r = error_reply(id_ok ? id : NULL, -32600,
				"invalid request: not a JSON-RPC 2.0 request");
		goto out;
	}
	if (!id)
		goto out; /* a notification (initialized, cancelled): nothing to answer */
	if (!strcmp(method, "initialize")) {
		r = reply(id);
		cJSON_AddItemToObject(r, "result", initialize(params));
	} else if (!strcmp(method, "ping")) {
		r = reply(id);
		cJSON_AddItemToObject(r, "result", cJSON_CreateObject());
	} else if (!strcmp(method, "tools/list")) {
		r = reply(id);
		cJSON_AddItemToObject(r, "result", tools_list());
	} else if (!strcmp(method, "tools/call")) {
		r = tools_call(ctx, id, params);
	} else {
		char m[160];
		snprintf(m, sizeof(m), "method not found: %.100s", method);
		r = error_reply(id, -32601, m);
	}
out:;
	char *text = r ? cJSON_PrintUnformatted(r) : NULL;
	cJSON_Delete(r);
	cJSON_Delete(msg);
	return text;
}

int ff_mcp_serve(struct ff_cmd_ctx *ctx, FILE *in, FILE *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, in)) >= 0) {
		char *answer = (size_t)n > FF_MCP_MAX_LINE
				   ? strdup("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
					    "-32600,\"message\":\"message too large\"}}")
				   : ff_mcp_handle(ctx, line, (size_t)n);
		if (answer &&
		    (fputs(answer, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF)) {
			free(answer);
			break; /* the client is gone */
		}
		free(answer);
	}
	free(line);
	return EXIT_OK;
}

int cmd_mcp(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	(void)a;
	ctx->tty = false; /* no progress lines: stderr is the client's log */
	/* stdout is the protocol's alone: it keeps a descriptor of its own, and fd 1 becomes
	 * stderr, so a stray print from code shared with the commands can't break a message */
	int fd = dup(STDOUT_FILENO);
	FILE *out = fd < 0 ? NULL : fdopen(fd, "w");
	if (!out || fflush(stdout) == EOF || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		fprintf(stderr, "ff mcp: cannot set up stdout: %s\n", strerror(errno));
		if (out)
			fclose(out);
		else if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	int rc = ff_mcp_serve(ctx, stdin, out);
	fclose(out);
	return rc;
}
