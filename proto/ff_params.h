/* ff_params — a workflow's parameter schema and the check of a run's parameters against it.
 *
 * The schema is the JSON-Schema subset a manifest's "parameters" may use:
 *   {"type": "object", "additionalProperties": false, "required": ["name", ...],
 *    "properties": {"<name>": {"type": "string" | "integer" | "number" | "boolean",
 *                              "default": v, "enum": [v, ...], "minimum": n, "maximum": n,
 *                              "maxLength": n, "description": "...", "title": "..."}},
 *    "description": "...", "title": "..."}
 * with at most FF_MANIFEST_PARAMS_MAX properties named [a-z][a-z0-9_]{0,63}. Unknown
 * parameters are always refused, so additionalProperties may only be false.
 *
 * Errors are FF_EVALIDATE (the manifest or the parameters say something wrong), with
 * err->field a path: "parameters.properties.<name>.<keyword>" for the schema,
 * "parameters.<name>" for a run's parameters.
 */
#ifndef FF_PARAMS_H
#define FF_PARAMS_H

#include <cjson/cJSON.h>

#include "ff_err.h"

/* Checks the schema in (NULL: no parameters) and normalises it to {"type": "object",
 * "additionalProperties": false, "properties": {...}, "required": [...]} (plus description
 * and title when given; each property with its type and the keywords it gave). On success
 * *out is the new schema, the caller cJSON_Deletes it. */
int ff_params_normalise(const cJSON *in, cJSON **out, struct ff_err *err);

/* Checks a run's parameters (a JSON object, or NULL for none) against a normalised schema:
 * types, enum, minimum/maximum, maxLength, required, unknown names refused. On success *out
 * is a new object (caller deletes) with every default filled in. On failure err->code is
 * FF_EVALIDATE (FF_EINVAL if params is not an object, or schema is NULL) and err->field is
 * "parameters.<name>". */
int ff_params_validate(const cJSON *schema, const cJSON *params, cJSON **out, struct ff_err *err);

#endif
