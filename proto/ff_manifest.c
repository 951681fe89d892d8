/* ff_manifest — workflow manifests: parsing, checking, the API's view; see ff_manifest.h.
 *
 * Manifests are written by people, so every check names the offending field and unknown
 * keys are refused: a typo ("resource") must not silently fall back to the defaults. The
 * parameter schema is ff_params' business, the catalogue of manifests ff_catalog's.
 */
#include "ff_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_buf.h"
#include "ff_json.h"
#include "ff_params.h"

#define V FF_JSON_VALIDATE /* a manifest that says something wrong is a 422 */
#define R FF_JSON_REQUIRED

/* ---- predicates ---- */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* s is first[0] followed by at most max-1 characters of rest, where the char classes are
 * given as predicates plus extra punctuation. */
static bool matches(const char *s, bool (*first)(char), bool (*cls)(char), const char *extra,
		    size_t max)
{
	if (!s || !first(s[0]))
		return false;
	size_t n = 1;
	for (; s[n]; n++) {
		if (n >= max)
			return false;
		if (!cls(s[n]) && !strchr(extra, s[n]))
			return false;
	}
	return true;
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

bool ff_manifest_name_valid(const char *s)
{
	return matches(s, is_lower_alnum, is_lower_alnum, "._-", 64);
}

bool ff_manifest_version_valid(const char *s)
{
	return matches(s, is_alnum, is_alnum, "._+-", 64);
}

bool ff_manifest_image_valid(const char *s)
{
	return matches(s, is_alnum, is_alnum, "._:/@-", FF_MANIFEST_IMAGE_MAX);
}

static bool is_pool_char(char c)
{
	return is_lower_alnum(c) || c == '_' || c == '-';
}

bool ff_manifest_pool_valid(const char *s)
{
	return matches(s, is_pool_char, is_pool_char, "", 32);
}

bool ff_manifest_network_valid(const char *s)
{
	return s && (!strcmp(s, "none") || !strcmp(s, "bridge") || !strcmp(s, "host"));
}

bool ff_manifest_param_name_valid(const char *s)
{
	return matches(s, is_lower, is_lower_alnum, "_", 64);
}

/* ---- manifests ---- */

void ff_manifest_free(struct ff_manifest *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->version);
	free(m->description);
	free(m->image);
	for (size_t i = 0; i < m->ncommand; i++)
		free(m->command[i]);
	free(m->command);
	cJSON_Delete(m->parameters);
	free(m->pool);
	free(m->network);
	free(m->path);
	free(m);
}

int ff_manifest_get_resources(const cJSON *r, unsigned flags, long *memory_mb, double *cpus,
			      long *pids, long *timeout_s, struct ff_err *err)
{
	static const char *const keys[] = {"memory_mb", "cpus", "pids", "timeout_s"};
	int code = flags & FF_JSON_VALIDATE ? FF_EVALIDATE : FF_EINVAL;
	int rc;
	if (!r && (flags & FF_JSON_REQUIRED))
		return ff_err_field(err, code, "resources", "resources is required");
	if (r && !cJSON_IsObject(r))
		return ff_err_field(err, code, "resources", "resources must be an object");
	if ((rc = ff_json_check_keys(r, "resources.", keys, 4, flags & FF_JSON_REQUIRED ? 4 : 0,
				     flags, err)) < 0 ||
	    (rc = ff_json_get_long(r, "resources.", "memory_mb", flags, FF_MANIFEST_MEMORY_MB_MIN,
				   FF_MANIFEST_MEMORY_MB_MAX, memory_mb, err)) < 0 ||
	    (rc = ff_json_get_number(r, "resources.", "cpus", flags, FF_MANIFEST_CPUS_MIN,
				     FF_MANIFEST_CPUS_MAX, cpus, err)) < 0 ||
	    (rc = ff_json_get_long(r, "resources.", "pids", flags, FF_MANIFEST_PIDS_MIN,
				   FF_MANIFEST_PIDS_MAX, pids, err)) < 0 ||
	    (rc = ff_json_get_long(r, "resources.", "timeout_s", flags, FF_MANIFEST_TIMEOUT_S_MIN,
				   FF_MANIFEST_TIMEOUT_S_MAX, timeout_s, err)) < 0)
		return rc;
	return 0;
}

static int parse_limits(const cJSON *root, struct ff_manifest *m, struct ff_err *err)
{
	static const char *const tkeys[] = {"max_attempts", "backoff_s", "on_timeout"};
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "resources");
	const cJSON *retry = cJSON_GetObjectItemCaseSensitive(root, "retry");
	long attempts = m->max_attempts;
	int rc;

	if (retry && !cJSON_IsObject(retry))
		return ff_err_field(err, FF_EVALIDATE, "retry", "retry must be an object");
	if ((rc = ff_manifest_get_resources(res, V, &m->memory_mb, &m->cpus, &m->pids,
					    &m->timeout_s, err)) < 0 ||
	    (rc = ff_json_check_keys(retry, "retry.", tkeys, 3, 0, V, err)) < 0 ||
	    (rc = ff_json_get_long(retry, "retry.", "max_attempts", V, 1, FF_MANIFEST_ATTEMPTS_MAX,
				   &attempts, err)) < 0 ||
	    (rc = ff_json_get_long(retry, "retry.", "backoff_s", V, 0, FF_MANIFEST_BACKOFF_S_MAX,
				   &m->backoff_s, err)) < 0 ||
	    (rc = ff_json_get_bool(retry, "retry.", "on_timeout", V, &m->retry_on_timeout, err)) <
		0)
		return rc;
	m->max_attempts = (int)attempts;
	return 0;
}

static int parse_manifest(const cJSON *root, struct ff_manifest *m, struct ff_err *err)
{
	static const char *const keys[] = {"name",    "version",    "description", "image",
					   "command", "parameters", "resources",   "retry",
					   "pool",    "network"};
	int rc;

	if ((rc = ff_json_check_keys(root, "", keys, 10, 0, V, err)) < 0)
		return rc;
	m->memory_mb = 512;
	m->cpus = 1.0;
	m->pids = 256;
	m->timeout_s = 600;
	m->max_attempts = 1;
	m->backoff_s = 5;
	m->retry_on_timeout = false;
	if (!(m->description = strdup("")) || !(m->pool = strdup("default")) ||
	    !(m->network = strdup("none")))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	if ((rc = ff_json_get_string(root, "", "name", V | R, 64, ff_manifest_name_valid,
				     FF_MANIFEST_NAME_FORM, &m->name, err)) < 0 ||
	    (rc = ff_json_get_string(root, "", "version", V | R, 64, ff_manifest_version_valid,
				     FF_MANIFEST_VERSION_FORM, &m->version, err)) < 0 ||
	    (rc = ff_json_get_string(root, "", "description", V, FF_MANIFEST_STRING_MAX, NULL, NULL,
				     &m->description, err)) < 0 ||
	    (rc = ff_json_get_string(root, "", "image", V | R, FF_MANIFEST_IMAGE_MAX,
				     ff_manifest_image_valid, FF_MANIFEST_IMAGE_FORM, &m->image,
				     err)) < 0 ||
	    (rc = ff_json_get_strings(root, "", "command", V, FF_MANIFEST_COMMAND_MAX,
				      FF_MANIFEST_STRING_MAX, &m->command, &m->ncommand, err)) <
		0 ||
	    (rc = ff_params_normalise(cJSON_GetObjectItemCaseSensitive(root, "parameters"),
				      &m->parameters, err)) < 0 ||
	    (rc = parse_limits(root, m, err)) < 0 ||
	    (rc = ff_json_get_string(root, "", "pool", V, 32, ff_manifest_pool_valid,
				     FF_MANIFEST_POOL_FORM, &m->pool, err)) < 0 ||
	    (rc = ff_json_get_string(root, "", "network", V, 16, ff_manifest_network_valid,
				     FF_MANIFEST_NETWORK_FORM, &m->network, err)) < 0)
		return rc;
	return 0;
}

int ff_manifest_parse(const char *json, size_t len, struct ff_manifest **out, struct ff_err *err)
{
	cJSON *root = NULL;
	struct ff_manifest *m = NULL;
	static const struct ff_json_opts opts = {.what = "manifest",
						 .max_bytes = FF_MANIFEST_MAX_BYTES,
						 .dup_code = FF_EVALIDATE,
						 .object = true};
	int rc = ff_json_parse(json, len, &opts, &root, err);
	if (rc < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m)))) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = parse_manifest(root, m, err)) < 0)
		goto out;
	*out = m;
	m = NULL;
out:
	ff_manifest_free(m);
	cJSON_Delete(root);
	return rc;
}

/* Prefixes err's message with the file's path, so a catalogue error names the file. */
static void err_in_file(struct ff_err *err, const char *path)
{
	if (err) {
		char msg[sizeof(err->msg)];
		memcpy(msg, err->msg, sizeof(msg));
		msg[sizeof(msg) - 1] = '\0';
		snprintf(err->msg, sizeof(err->msg), "%.200s: %.300s", path, msg);
	}
}

int ff_manifest_load_file(const char *path, struct ff_manifest **out, struct ff_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	struct ff_manifest *m = NULL;
	int rc;
	if (!path)
		return ff_err_set(err, FF_EINVAL, "no manifest path");
	/* the reader's errors name the file already */
	if ((rc = ff_file_read(path, FF_MANIFEST_MAX_BYTES, &buf, &len, err)) < 0)
		return rc;
	if ((rc = ff_manifest_parse(buf, len, &m, err)) < 0) {
		err_in_file(err, path);
		goto out;
	}
	if (!(m->path = strdup(path))) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	*out = m;
	m = NULL;
out:
	free(buf);
	ff_manifest_free(m);
	return rc;
}

/* ---- the manifest as JSON ---- */

cJSON *ff_manifest_to_json(const struct ff_manifest *m)
{
	cJSON *o = NULL, *cmd, *res, *retry;
	if (!m || !(o = cJSON_CreateObject()))
		return NULL;
	if (!cJSON_AddStringToObject(o, "name", m->name) ||
	    !cJSON_AddStringToObject(o, "version", m->version) ||
	    !cJSON_AddStringToObject(o, "description", m->description) ||
	    !cJSON_AddStringToObject(o, "image", m->image) ||
	    !(cmd = cJSON_AddArrayToObject(o, "command")))
		goto out_free;
	for (size_t i = 0; i < m->ncommand; i++) {
		cJSON *s = cJSON_CreateString(m->command[i]);
		if (!s || !cJSON_AddItemToArray(cmd, s)) {
			cJSON_Delete(s);
			goto out_free;
		}
	}
	if (ff_json_add_copy(o, "parameters", m->parameters) < 0 ||
	    !(res = cJSON_AddObjectToObject(o, "resources")) ||
	    !cJSON_AddNumberToObject(res, "memory_mb", (double)m->memory_mb) ||
	    !cJSON_AddNumberToObject(res, "cpus", m->cpus) ||
	    !cJSON_AddNumberToObject(res, "pids", (double)m->pids) ||
	    !cJSON_AddNumberToObject(res, "timeout_s", (double)m->timeout_s) ||
	    !(retry = cJSON_AddObjectToObject(o, "retry")) ||
	    !cJSON_AddNumberToObject(retry, "max_attempts", m->max_attempts) ||
	    !cJSON_AddNumberToObject(retry, "backoff_s", (double)m->backoff_s) ||
	    !cJSON_AddBoolToObject(retry, "on_timeout", m->retry_on_timeout) ||
	    !cJSON_AddStringToObject(o, "pool", m->pool) ||
	    !cJSON_AddStringToObject(o, "network", m->network))
		goto out_free;
	return o;

out_free:
	cJSON_Delete(o);
	return NULL;
}
