/* ff_job — the job message: encode, strict decode, the container's environment; see ff_job.h.
 *
 * The decoder faces whatever is on the queue, so it trusts nothing: every field is required,
 * typed and range-checked with the manifest's bounds, and unknown fields are refused (a new
 * field comes with a new "v").
 */
#include "ff_job.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *ff_job_encode_attempt(const struct ff_job *job, int attempt, int max_attempts,
			    size_t *len)
{
	if (!job)
		return NULL;
	struct ff_job next = *job; /* shares job's strings: encoding only reads them */
	next.attempt = attempt;
	next.max_attempts = max_attempts;
	return ff_job_encode(&next, len);
}

/* ---- decoding ---- */

/* Refuses keys of obj not in allowed[] and keys given twice, then requires every one. */
static int check_keys(const cJSON *obj, const char *const *allowed, size_t n, const char *prefix,
		      struct ff_err *err)
{
	uint64_t seen = 0;
	char field[128];
	for (const cJSON *c = obj->child; c; c = c->next) {
		size_t i = 0;
		while (i < n && strcmp(c->string, allowed[i]) != 0)
			i++;
		snprintf(field, sizeof(field), "%s%.64s", prefix, c->string);
		if (i == n)
			return ff_err_field(err, FF_EINVAL, field, "unknown field '%s'", field);
		if (seen & ((uint64_t)1 << i))
			return ff_err_field(err, FF_EINVAL, field, "field '%s' given twice", field);
		seen |= (uint64_t)1 << i;
	}
	for (size_t i = 0; i < n; i++)
		if (!(seen & ((uint64_t)1 << i))) {
			snprintf(field, sizeof(field), "%s%s", prefix, allowed[i]);
			return ff_err_field(err, FF_EINVAL, field, "field '%s' is missing", field);
		}
	return 0;
}

/* An integer field in [lo, hi]. Checked as a double first: a cast of 1e300 is undefined. */
static int get_long(const cJSON *obj, const char *key, const char *field, long lo, long hi,
		    long *out, struct ff_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!isfinite(d) || d != floor(d))
		return ff_err_field(err, FF_EINVAL, field, "%s must be an integer", field);
	if (d < (double)lo || d > (double)hi)
		return ff_err_field(err, FF_EINVAL, field, "%s must be from %ld to %ld", field, lo,
				    hi);
	*out = (long)d;
	return 0;
}

/* A string field that passes valid and is at most max bytes of UTF-8; *out is a copy. */
static int get_string(const cJSON *obj, const char *key, size_t max, bool (*valid)(const char *),
		      char **out, struct ff_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsString(v))
		return ff_err_field(err, FF_EINVAL, key, "%s must be a string", key);
	size_t len = strlen(v->valuestring);
	if (len > max || !ff_manifest_utf8_valid(v->valuestring, len) ||
	    (valid && !valid(v->valuestring)))
		return ff_err_field(err, FF_EINVAL, key, "%s is malformed", key);
	if (!(*out = strdup(v->valuestring)))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	return 0;
}

static int decode_command(const cJSON *root, struct ff_job *j, struct ff_err *err)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "command");
	if (!cJSON_IsArray(cmd))
		return ff_err_field(err, FF_EINVAL, "command", "command must be an array");
	int n = cJSON_GetArraySize(cmd);
	if (n > FF_MANIFEST_COMMAND_MAX)
		return ff_err_field(err, FF_EINVAL, "command", "command has more than %d entries",
				    FF_MANIFEST_COMMAND_MAX);
	if (n == 0)
		return 0;
	if (!(j->command = calloc((size_t)n, sizeof(*j->command))))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	for (const cJSON *c = cmd->child; c; c = c->next) {
		size_t len = cJSON_IsString(c) ? strlen(c->valuestring) : 0;
		if (!cJSON_IsString(c) || len > FF_MANIFEST_STRING_MAX ||
		    !ff_manifest_utf8_valid(c->valuestring, len))
			return ff_err_field(err, FF_EINVAL, "command",
					    "command entries must be utf-8 strings of at most %d "
					    "bytes",
					    FF_MANIFEST_STRING_MAX);
		if (!(j->command[j->ncommand] = strdup(c->valuestring)))
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		j->ncommand++;
	}
	return 0;
}

/* parameters: an object of at most FF_MANIFEST_PARAMS_MAX distinct, well-named scalars. */
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
		for (const cJSON *d = p->child; d != c; d = d->next)
			if (!strcmp(d->string, c->string))
				return ff_err_field(err, FF_EINVAL, field,
						    "parameter '%s' given twice", c->string);
		if (cJSON_IsString(c)) {
			size_t len = strlen(c->valuestring);
			if (len > FF_MANIFEST_STRING_MAX ||
			    !ff_manifest_utf8_valid(c->valuestring, len))
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

static int decode_resources(const cJSON *root, struct ff_job *j, struct ff_err *err)
{
	static const char *const keys[] = {"memory_mb", "cpus", "pids", "timeout_s"};
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "resources");
	int rc;
	if (!cJSON_IsObject(r))
		return ff_err_field(err, FF_EINVAL, "resources", "resources must be an object");
	if ((rc = check_keys(r, keys, 4, "resources.", err)) < 0)
		return rc;
	const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(r, "cpus");
	if (!cJSON_IsNumber(cpus) || !(cpus->valuedouble >= FF_MANIFEST_CPUS_MIN) ||
	    !(cpus->valuedouble <= FF_MANIFEST_CPUS_MAX))
		return ff_err_field(err, FF_EINVAL, "resources.cpus",
				    "resources.cpus must be a number from %g to %g",
				    FF_MANIFEST_CPUS_MIN, FF_MANIFEST_CPUS_MAX);
	j->cpus = cpus->valuedouble;
	if ((rc = get_long(r, "memory_mb", "resources.memory_mb", FF_MANIFEST_MEMORY_MB_MIN,
			   FF_MANIFEST_MEMORY_MB_MAX, &j->memory_mb, err)) < 0 ||
	    (rc = get_long(r, "pids", "resources.pids", FF_MANIFEST_PIDS_MIN, FF_MANIFEST_PIDS_MAX,
			   &j->pids, err)) < 0 ||
	    (rc = get_long(r, "timeout_s", "resources.timeout_s", FF_MANIFEST_TIMEOUT_S_MIN,
			   FF_MANIFEST_TIMEOUT_S_MAX, &j->timeout_s, err)) < 0)
		return rc;
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
	long attempt = 0, max_attempts = 0;
	int rc;

	if (!cJSON_IsObject(root))
		return ff_err_set(err, FF_EINVAL, "a job must be a json object");
	/* The version first, so a newer message says so rather than naming its new fields. */
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "v");
	if (!cJSON_IsNumber(ver) || (ver->valuedouble != 1 && ver->valuedouble != 2))
		return ff_err_field(err, FF_EINVAL, "v", "unsupported job version");
	if ((rc = check_keys(root, keys, ver->valuedouble == 1 ? 14 : 15, "", err)) < 0)
		return rc;
	/* Present exactly when the version is 2 (check_keys saw to it). */
	const cJSON *rot = cJSON_GetObjectItemCaseSensitive(root, "retry_on_timeout");
	if (rot && !cJSON_IsBool(rot))
		return ff_err_field(err, FF_EINVAL, "retry_on_timeout",
				    "retry_on_timeout must be true or false");
	j->retry_on_timeout = cJSON_IsTrue(rot);

	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "run_id");
	if (!cJSON_IsString(id) || !ff_uuid_valid(id->valuestring))
		return ff_err_field(err, FF_EINVAL, "run_id", "run_id must be a lowercase uuid");
	memcpy(j->run_id, id->valuestring, sizeof(j->run_id));
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "target");
	if (!cJSON_IsString(t) || !ff_sha256_hex_valid(t->valuestring))
		return ff_err_field(err, FF_EINVAL, "target",
				    "target must be 64 lowercase hex digits");
	memcpy(j->target, t->valuestring, sizeof(j->target));

	if ((rc = get_long(root, "max_attempts", "max_attempts", 1, FF_MANIFEST_ATTEMPTS_MAX,
			   &max_attempts, err)) < 0 ||
	    (rc = get_long(root, "attempt", "attempt", 1, max_attempts, &attempt, err)) < 0 ||
	    (rc = get_long(root, "backoff_s", "backoff_s", 0, FF_MANIFEST_BACKOFF_S_MAX,
			   &j->backoff_s, err)) < 0)
		return rc;
	j->attempt = (int)attempt;
	j->max_attempts = (int)max_attempts;

	if ((rc = get_string(root, "workflow", 64, ff_manifest_name_valid, &j->workflow, err)) <
		0 ||
	    (rc = get_string(root, "workflow_version", 64, ff_manifest_version_valid,
			     &j->workflow_version, err)) < 0 ||
	    (rc = get_string(root, "image", FF_MANIFEST_IMAGE_MAX, ff_manifest_image_valid,
			     &j->image, err)) < 0 ||
	    (rc = get_string(root, "pool", 32, ff_manifest_pool_valid, &j->pool, err)) < 0 ||
	    (rc = get_string(root, "network", 16, ff_manifest_network_valid, &j->network, err)) <
		0 ||
	    (rc = decode_command(root, j, err)) < 0 || (rc = decode_params(root, j, err)) < 0 ||
	    (rc = decode_resources(root, j, err)) < 0)
		return rc;
	return 0;
}

int ff_job_decode(const char *buf, size_t len, struct ff_job **out, struct ff_err *err)
{
	cJSON *root = NULL;
	struct ff_job *j = NULL;
	char *copy = NULL;
	const char *end = NULL;
	int rc;

	if (len > FF_MANIFEST_MAX_BYTES)
		return ff_err_set(err, FF_ETOOBIG, "job message is larger than %d bytes",
				  FF_MANIFEST_MAX_BYTES);
	if (!buf || memchr(buf, '\0', len))
		return ff_err_set(err, FF_EINVAL, "job message contains a nul byte");
	/* A terminated copy: the message body has no NUL after it, and cJSON must not look. */
	if (!(copy = malloc(len + 1)))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	memcpy(copy, buf, len);
	copy[len] = '\0';
	if (!(root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1))) {
		size_t at = end && end >= copy ? (size_t)(end - copy) : 0;
		rc =
		    ff_err_set(err, FF_EINVAL, "job message is not valid json (near byte %zu)", at);
		goto out;
	}
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
	free(copy);
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
