/* ff_manifest — one workflow manifest (workflows/<name>/workflow.json): parse, check, show.
 * Its parameter schema is ff_params.h's; the catalogue of all manifests is ff_catalog.h's.
 *
 * A manifest:
 *   {"name": "secret-detection", "version": "1.0.0", "description": "...",
 *    "image": "fuzzforge/secret-detection:1", "command": ["/usr/bin/scan", "--x"],
 *    "parameters": {"type": "object", "additionalProperties": false, "required": [...],
 *                   "properties": {"min_entropy": {"type": "number", "default": 3.5,
 *                                  "minimum": 0, "maximum": 8, "description": "..."},
 *                                  "mode": {"type": "string", "enum": ["a","b"], "maxLength":
 * 16}}}, "resources": {"memory_mb": 512, "cpus": 1.0, "pids": 256, "timeout_s": 600}, "retry":
 * {"max_attempts": 3, "backoff_s": 5, "on_timeout": false}, "pool": "default", "network": "none"}
 */
#ifndef FF_MANIFEST_H
#define FF_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "ff_err.h"
#include "ff_json.h" /* the flags of ff_manifest_get_resources */

/* Bounds shared by manifests and job messages: ff_job_decode() holds a job to the same limits
 * as the manifest it came from. */
#define FF_MANIFEST_MAX_BYTES	  (1024 * 1024) /* a workflow.json, and a job message */
#define FF_MANIFEST_IMAGE_MAX	  255
#define FF_MANIFEST_COMMAND_MAX	  64   /* command entries */
#define FF_MANIFEST_STRING_MAX	  4096 /* bytes: a command entry, a description, a string value */
#define FF_MANIFEST_PARAMS_MAX	  64   /* parameters of a workflow */
#define FF_MANIFEST_MEMORY_MB_MIN 16
#define FF_MANIFEST_MEMORY_MB_MAX 65536
#define FF_MANIFEST_CPUS_MIN	  0.1
#define FF_MANIFEST_CPUS_MAX	  64.0
#define FF_MANIFEST_PIDS_MIN	  16
#define FF_MANIFEST_PIDS_MAX	  65536
#define FF_MANIFEST_TIMEOUT_S_MIN 1
#define FF_MANIFEST_TIMEOUT_S_MAX 604800 /* a week */
#define FF_MANIFEST_ATTEMPTS_MAX  20
#define FF_MANIFEST_BACKOFF_S_MAX 3600

struct ff_manifest {
	char *name; /* [a-z0-9][a-z0-9._-]{0,63} */
	char *version;
	char *description;
	char *image;
	char **command; /* ncommand strings; may be empty (the image's entrypoint runs) */
	size_t ncommand;
	cJSON *parameters; /* the parameter schema, normalised: always an object schema */
	long memory_mb;	   /* defaults: 512 */
	double cpus;	   /* 1.0 */
	long pids;	   /* 256 */
	long timeout_s;	   /* 600 */
	int max_attempts;  /* 1 */
	long backoff_s;	   /* 5 */
	/* retry.on_timeout, default false: a timed-out attempt is final unless set, when it
	 * is retried within max_attempts like a failed one */
	bool retry_on_timeout;
	char *pool;    /* "default" */
	char *network; /* "none" */
	char *path;    /* the file it was loaded from, or NULL */
};

/* What the predicates below want, for messages ("<field> must be <form>"). */
#define FF_MANIFEST_NAME_FORM	 "lowercase letters, digits, '.', '_' or '-' (at most 64)"
#define FF_MANIFEST_VERSION_FORM "letters, digits, '.', '_', '+' or '-' (at most 64)"
#define FF_MANIFEST_IMAGE_FORM	 "an image reference"
#define FF_MANIFEST_POOL_FORM	 "[a-z0-9_-]{1,32}"
#define FF_MANIFEST_NETWORK_FORM "none, bridge or host"

/* Parses and checks one manifest (strictly: see ff_json_parse; a key given twice is
 * FF_EVALIDATE, text that is not one JSON object FF_EINVAL, more than FF_MANIFEST_MAX_BYTES
 * FF_ETOOBIG). On success *out is a new manifest the caller frees with ff_manifest_free().
 * On failure err says what is wrong and where (err->field). */
int ff_manifest_parse(const char *json, size_t len, struct ff_manifest **out, struct ff_err *err);
/* The same for the file at path (read with ff_file_read: FF_ENOTFOUND when missing); every
 * message names the file. m->path is a copy of path. */
int ff_manifest_load_file(const char *path, struct ff_manifest **out, struct ff_err *err);
void ff_manifest_free(struct ff_manifest *m); /* NULL-safe */

/* Reads a "resources" object r (NULL when absent) with the bounds above: the keys memory_mb,
 * cpus, pids and timeout_s, nothing else. One reader for manifests (flags FF_JSON_VALIDATE:
 * absent keys keep their defaults) and job messages (FF_JSON_REQUIRED: all four must be
 * there; errors FF_EINVAL). An out is written only when its key is read. flags as in
 * ff_json.h; err->field is "resources" or "resources.<key>". */
int ff_manifest_get_resources(const cJSON *r, unsigned flags, long *memory_mb, double *cpus,
			      long *pids, long *timeout_s, struct ff_err *err);

/* The manifest as JSON for the API (caller deletes). */
cJSON *ff_manifest_to_json(const struct ff_manifest *m);

/* Predicates for the manifest's string fields, shared with ff_job_decode(). */
bool ff_manifest_name_valid(const char *s);	  /* [a-z0-9][a-z0-9._-]{0,63} */
bool ff_manifest_version_valid(const char *s);	  /* [A-Za-z0-9][A-Za-z0-9._+-]{0,63} */
bool ff_manifest_image_valid(const char *s);	  /* [A-Za-z0-9][A-Za-z0-9._:/@-]{0,254} */
bool ff_manifest_pool_valid(const char *s);	  /* [a-z0-9_-]{1,32} */
bool ff_manifest_network_valid(const char *s);	  /* none, bridge or host */
bool ff_manifest_param_name_valid(const char *s); /* [a-z][a-z0-9_]{0,63} */

#endif
