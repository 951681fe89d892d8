/* ff_job — the job message: encode, strict decode, the container's environment; see ff_job.h.
 *
 * The decoder faces whatever is on the queue, so it trusts nothing: every field is required,
 * typed and range-checked with the manifest's bounds, and unknown fields are refused (a new
 * field comes with a new "v").
 */
#include "ff_job.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_json.h"
#include "ff_util.h"

/* Integers above this lose precision as doubles, and cJSON stores only doubles. */
#define INTEGER_MAX 9007199254740991.0

void ff_job_free(struct ff_job *job)
{
	if (!job)
		return;
	free(job->workflow);
	free(job->workflow_version);
	free(job->image);
	for (size_t i = 0; i < job->ncommand; i++)
		free(job->command[i]);
	free(job->command);
	cJSON_Delete(job->parameters);
	free(job->pool);
	free(job->network);
	free(job);
}

static int copy_command(struct ff_job *j, char *const *cmd, size_t n)
{
	if (!n)
		return 0;
	if (!(j->command = calloc(n, sizeof(*j->command))))
		return -1;
	for (; j->ncommand < n; j->ncommand++)
		if (!(j->command[j->ncommand] = strdup(cmd[j->ncommand])))
			return -1;
	return 0;
}

struct ff_job *ff_job_new(const struct ff_manifest *m, const char *run_id, const char *target,
			  const cJSON *params)
{
	if (!m || !ff_uuid_valid(run_id) || !ff_sha256_hex_valid(target) ||
	    (params && !cJSON_IsObject(params)))
		return NULL;
	struct ff_job *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	memcpy(j->run_id, run_id, sizeof(j->run_id));
	memcpy(j->target, target, sizeof(j->target));
	j->attempt = 1;
	j->max_attempts = m->max_attempts;
	j->backoff_s = m->backoff_s;
	j->retry_on_timeout = m->retry_on_timeout;
	j->memory_mb = m->memory_mb;
	j->cpus = m->cpus;
	j->pids = m->pids;
	j->timeout_s = m->timeout_s;
	j->parameters = params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
	if (!(j->workflow = strdup(m->name)) || !(j->workflow_version = strdup(m->version)) ||
	    !(j->image = strdup(m->image)) || !(j->pool = strdup(m->pool)) ||
	    !(j->network = strdup(m->network)) || !j->parameters ||
	    copy_command(j, m->command, m->ncommand) < 0) {
		ff_job_free(j);
		return NULL;
	}
	return j;
}

/* A number as JSON text that reads back as the same double: integers without a decimal
 * point, others with the fewest digits that survive. cJSON's own printer compares with a
 * tolerance and would turn 9007199254740991 into 9007199254740990. */
static void format_number(double d, char *buf, size_t size)
{
	if (d == floor(d) && fabs(d) <= INTEGER_MAX) {
		snprintf(buf, size, "%lld", (long long)d);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

/* Adds a number written exactly (a raw item); false when d is not finite or on no memory. */
static bool add_exact_number(cJSON *o, const char *key, double d)
{
	char buf[40];
	if (!isfinite(d))
		return false;
	format_number(d, buf, sizeof(buf));
	return cJSON_AddRawToObject(o, key, buf) != NULL;
}

/* The parameters to encode, with numbers written exactly. */
static cJSON *encode_params(const cJSON *params)
{
	cJSON *o = cJSON_CreateObject();
	for (const cJSON *p = params ? params->child : NULL; o && p; p = p->next) {
		if (cJSON_IsNumber(p)) {
			if (add_exact_number(o, p->string, p->valuedouble))
				continue;
		} else {
			cJSON *v = cJSON_Duplicate(p, 1);
			if (v && cJSON_AddItemToObject(o, p->string, v))
				continue;
			cJSON_Delete(v);
		}
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *ff_job_encode(const struct ff_job *job, size_t *len)
{
	cJSON *o = NULL, *cmd, *res;
	char *text = NULL;
	if (!job || !(o = cJSON_CreateObject()))
		return NULL;
	/* The oldest version that carries the job, so older workers take what they can run. */
	int version = job->retry_on_timeout ? 2 : 1;
	if (!cJSON_AddNumberToObject(o, "v", version) ||
	    !cJSON_AddStringToObject(o, "run_id", job->run_id) ||
	    !cJSON_AddNumberToObject(o, "attempt", job->attempt) ||
	    !cJSON_AddNumberToObject(o, "max_attempts", job->max_attempts) ||
	    !cJSON_AddNumberToObject(o, "backoff_s", (double)job->backoff_s) ||
	    (version == 2 && !cJSON_AddTrueToObject(o, "retry_on_timeout")) ||
	    !cJSON_AddStringToObject(o, "workflow", job->workflow) ||
	    !cJSON_AddStringToObject(o, "workflow_version", job->workflow_version) ||
	    !cJSON_AddStringToObject(o, "image", job->image) ||
	    !(cmd = cJSON_AddArrayToObject(o, "command")))
		goto out;
	for (size_t i = 0; i < job->ncommand; i++) {
		cJSON *s = cJSON_CreateString(job->command[i]);
		if (!s || !cJSON_AddItemToArray(cmd, s)) {
			cJSON_Delete(s);
			goto out;
		}
	}
	cJSON *params = encode_params(job->parameters);
	if (!params || !cJSON_AddItemToObject(o, "parameters", params)) {
		cJSON_Delete(params);
		goto out;
	}
	if (!cJSON_AddStringToObject(o, "target", job->target) ||
	    !cJSON_AddStringToObject(o, "pool", job->pool) ||
	    !cJSON_AddStringToObject(o, "network", job->network) ||
	    !(res = cJSON_AddObjectToObject(o, "resources")) ||
	    !cJSON_AddNumberToObject(res, "memory_mb", (double)job->memory_mb) ||
	    !add_exact_number(res, "cpus", job->cpus) ||
	    !cJSON_AddNumberToObject(res, "pids", (double)job->pids) ||
	    !cJSON_AddNumberToObject(res, "timeout_s", (double)job->timeout_s))
		goto out;
	if ((text = cJSON_PrintUnformatted(o)) && len)
		*len = strlen(text);
out:
	cJSON_Delete(o);
	return text;
}

char *ff_job_encode_attempt(const struct ff_job *job, int attempt, int max_attempts, size_t *len)
{
	if (!job)
		return NULL;
	struct ff_job next = *job; /* shares job's strings: encoding only reads them */
	next.attempt = attempt;
	next.max_attempts = max_attempts;
	return ff_job_encode(&next, len);
}

/* ---- comparing ---- */

static bool same_string(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/* Parameters are validated scalars: same names, and each value the same type and value. */
static bool same_params(const cJSON *a, const cJSON *b)
{
	if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
		return false;
	for (const cJSON *x = a ? a->child : NULL; x; x = x->next) {
		const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
		if (!y || (x->type & 0xff) != (y->type & 0xff) ||
		    (cJSON_IsString(x) && strcmp(x->valuestring, y->valuestring)) ||
		    (cJSON_IsNumber(x) && x->valuedouble != y->valuedouble))
			return false;
	}
	return true;
}

const char *ff_job_differs(const struct ff_job *a, const struct ff_job *b)
{
	if (strcmp(a->run_id, b->run_id))
		return "run_id";
	if (a->backoff_s != b->backoff_s)
		return "backoff_s";
	if (a->retry_on_timeout != b->retry_on_timeout)
		return "retry_on_timeout";
	if (!same_string(a->workflow, b->workflow))
		return "workflow";
	if (!same_string(a->workflow_version, b->workflow_version))
		return "workflow_version";
	if (!same_string(a->image, b->image))
		return "image";
	if (a->ncommand != b->ncommand)
		return "command";
	for (size_t i = 0; i < a->ncommand; i++)
		if (!same_string(a->command[i], b->command[i]))
			return "command";
	if (!same_params(a->parameters, b->parameters))
		return "parameters";
	if (strcmp(a->target, b->target))
		return "target";
	if (!same_string(a->pool, b->pool))
		return "pool";
	if (!same_string(a->network, b->network))
		return "network";
	if (a->memory_mb != b->memory_mb)
		return "resources.memory_mb";
	if (a->cpus != b->cpus)
		return "resources.cpus";
	if (a->pids != b->pids)
		return "resources.pids";
	if (a->timeout_s != b->timeout_s)
		return "resources.timeout_s";
	return NULL;
}

/* ---- decoding ---- */

/* parameters: an object of at most FF_MANIFEST_PARAMS_MAX well-named scalars (the strict
 * parse has refused duplicates already). */
static int decode_params(const cJSON *root, struct ff_job *j, struct ff_err *err)
{
	char field[128];
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "parameters");
	if (!cJSON_IsObject(p))
		return ff_err_field(err, FF_EINVAL, "parameters", "parameters must be an object");
	size_t n = 0;
	for (const cJSON *c = p->child; c; c = c->next) {
		snprintf(field, sizeof(field), "parameters.%.64s", c->string);
		if (++n > FF_MANIFEST_PARAMS_MAX)
			return ff_err_field(err, FF_EINVAL, "parameters", "more than %d parameters",
					    FF_MANIFEST_PARAMS_MAX);
		if (!ff_manifest_param_name_valid(c->string))
			return ff_err_field(err, FF_EINVAL, field, "bad parameter name");
		if (cJSON_IsString(c)) {
			if (!ff_json_string_ok(c, FF_MANIFEST_STRING_MAX))
				return ff_err_field(err, FF_EINVAL, field,
						    "parameter '%s' is malformed", c->string);
		} else if (cJSON_IsNumber(c)) {
			if (!isfinite(c->valuedouble))
				return ff_err_field(err, FF_EINVAL, field,
						    "parameter '%s' is not finite", c->string);
		} else if (!cJSON_IsBool(c)) {
			return ff_err_field(err, FF_EINVAL, field,
					    "parameter '%s' must be a string, number or boolean",
					    c->string);
		}
	}
	if (!(j->parameters = cJSON_Duplicate(p, 1)))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	return 0;
}

static int decode_fields(const cJSON *root, struct ff_job *j, struct ff_err *err)
{
	/* Version 1 has the first 14; version 2 adds the last. */
	static const char *const keys[] = {
	    "v",	 "run_id",     "attempt",	   "max_attempts",
	    "backoff_s", "workflow",   "workflow_version", "image",
	    "command",	 "parameters", "target",	   "pool",
	    "network",	 "resources",  "retry_on_timeout"};
	const unsigned req = FF_JSON_REQUIRED;
	long attempt = 0, max_attempts = 0;
	int rc;

	/* The version first, so a newer message says so rather than naming its new fields. */
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "v");
	if (!cJSON_IsNumber(ver) || (ver->valuedouble != 1 && ver->valuedouble != 2))
		return ff_err_field(err, FF_EINVAL, "v", "unsupported job version");
	size_t nkeys = ver->valuedouble == 1 ? 14 : 15;
	if ((rc = ff_json_check_keys(root, "", keys, nkeys, nkeys, 0, err)) < 0)
		return rc;
	/* Present exactly when the version is 2 (check_keys saw to it). */
	j->retry_on_timeout = false;
	if ((rc = ff_json_get_bool(root, "", "retry_on_timeout", 0, &j->retry_on_timeout, err)) < 0)
		return rc;

	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "run_id");
	if (!cJSON_IsString(id) || !ff_uuid_valid(id->valuestring))
		return ff_err_field(err, FF_EINVAL, "run_id", "run_id must be a lowercase uuid");
	memcpy(j->run_id, id->valuestring, sizeof(j->run_id));
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "target");
	if (!cJSON_IsString(t) || !ff_sha256_hex_valid(t->valuestring))
		return ff_err_field(err, FF_EINVAL, "target",
				    "target must be 64 lowercase hex digits");
	memcpy(j->target, t->valuestring, sizeof(j->target));

	if ((rc = ff_json_get_long(root, "", "max_attempts", req, 1, FF_MANIFEST_ATTEMPTS_MAX,
				   &max_attempts, err)) < 0 ||
	    (rc = ff_json_get_long(root, "", "attempt", req, 1, max_attempts, &attempt, err)) < 0 ||
	    (rc = ff_json_get_long(root, "", "backoff_s", req, 0, FF_MANIFEST_BACKOFF_S_MAX,
				   &j->backoff_s, err)) < 0)
		return rc;
	j->attempt = (int)attempt;
	j->max_attempts = (int)max_attempts;

	if ((rc = ff_json_get_string(root, "", "workflow", req, 64, ff_manifest_name_valid,
				     FF_MANIFEST_NAME_FORM, &j->workflow, err)) < 0 ||
	    (rc = ff_json_get_string(root, "", "workflow_version", req, 64,
				     ff_manifest_version_valid, FF_MANIFEST_VERSION_FORM,
				     &j->workflow_version, err)) < 0 ||
	    (rc = ff_json_get_string(root, "", "image", req, FF_MANIFEST_IMAGE_MAX,
				     ff_manifest_image_valid, FF_MANIFEST_IMAGE_FORM, &j->image,
				     err)) < 0 ||
	    (rc = ff_json_get_string(root, "", "pool", req, 32, ff_manifest_pool_valid,
				     FF_MANIFEST_POOL_FORM, &j->pool, err)) < 0 ||
	    (rc = ff_json_get_string(root, "", "network", req, 16, ff_manifest_network_valid,
				     FF_MANIFEST_NETWORK_FORM, &j->network, err)) < 0 ||
	    (rc = ff_json_get_strings(root, "", "command", req, FF_MANIFEST_COMMAND_MAX,
				      FF_MANIFEST_STRING_MAX, &j->command, &j->ncommand, err)) <
		0 ||
	    (rc = decode_params(root, j, err)) < 0 ||
	    (rc = ff_manifest_get_resources(cJSON_GetObjectItemCaseSensitive(root, "resources"),
					    req, &j->memory_mb, &j->cpus, &j->pids, &j->timeout_s,
					    err)) < 0)
		return rc;
	return 0;
}

int ff_job_decode(const char *buf, size_t len, struct ff_job **out, struct ff_err *err)
{
	static const struct ff_json_opts opts = {
	    .what = "job message", .max_bytes = FF_MANIFEST_MAX_BYTES, .object = true};
	cJSON *root = NULL;
	struct ff_job *j = NULL;
	int rc;

	if ((rc = ff_json_parse(buf, len, &opts, &root, err)) < 0)
		return rc;
	if (!(j = calloc(1, sizeof(*j)))) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = decode_fields(root, j, err)) < 0)
		goto out;
	*out = j;
	j = NULL;
out:
	ff_job_free(j);
	cJSON_Delete(root);
	return rc;
}

/* ---- the environment ---- */

/* A parameter's value as the container sees it; NULL on a non-scalar or no memory. */
static char *param_value(const cJSON *v)
{
	char buf[64];
	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	if (cJSON_IsBool(v))
		return strdup(cJSON_IsTrue(v) ? "true" : "false");
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return NULL;
	format_number(v->valuedouble, buf, sizeof(buf));
	return strdup(buf);
}

static char *env_entry(const char *prefix, const char *name, const char *value)
{
	size_t np = strlen(prefix), nn = strlen(name), nv = strlen(value);
	char *s = malloc(np + nn + nv + 2);
	if (!s)
		return NULL;
	memcpy(s, prefix, np);
	for (size_t i = 0; i < nn; i++)
		s[np + i] =
		    (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 'a' + 'A') : name[i];
	s[np + nn] = '=';
	memcpy(s + np + nn + 1, value, nv + 1);
	return s;
}

char **ff_job_env(const struct ff_job *job)
{
	char num[32];
	if (!job)
		return NULL;
	size_t n = 0, i = 0;
	for (const cJSON *p = job->parameters ? job->parameters->child : NULL; p; p = p->next)
		n++;
	char **env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	if (!(env[i++] = env_entry("FF_RUN_ID", "", job->run_id)))
		goto out_free;
	snprintf(num, sizeof(num), "%ld", job->timeout_s);
	if (!(env[i++] = env_entry("FF_TIMEOUT_S", "", num)))
		goto out_free;
	for (const cJSON *p = job->parameters ? job->parameters->child : NULL; p; p = p->next) {
		char *v = param_value(p);
		if (!v)
			goto out_free;
		env[i] = env_entry("FF_PARAM_", p->string, v);
		free(v);
		if (!env[i++])
			goto out_free;
	}
	return env;

out_free:
	ff_job_env_free(env);
	return NULL;
}

void ff_job_env_free(char **env)
{
	if (!env)
		return;
	for (char **e = env; *e; e++)
		free(*e);
	free(env);
}
