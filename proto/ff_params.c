/* ff_params — a workflow's parameter schema (the JSON-Schema subset of a manifest's
 * "parameters") and the check of a run's parameters against it; see ff_params.h.
 *
 * The schema is normalised once, when the manifest loads, so that validation, the API's view
 * and the defaults read one shape, and so that every number in it prints back as written.
 */
#include "ff_params.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_json.h"
#include "ff_manifest.h"
#include "ff_util.h"

#define FIELD_MAX 192
#define ENUM_MAX  256
/* Integers above this lose precision as doubles, and cJSON stores only doubles. */
#define INTEGER_MAX 9007199254740991.0

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* ---- the schema ---- */

enum ptype { PT_STRING, PT_INTEGER, PT_NUMBER, PT_BOOLEAN, PT_NONE };

static enum ptype ptype_of(const char *s)
{
	static const char *const names[] = {"string", "integer", "number", "boolean"};
	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, names[i]))
			return (enum ptype)i;
	return PT_NONE;
}

static enum ptype prop_type(const cJSON *prop)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(prop, "type");
	return ptype_of(cJSON_GetStringValue(t));
}

/* Exact equality of two scalars; cJSON_Compare allows a tolerance on numbers, which would let
 * 0.10000000000000002 through an enum of 0.1. */
static bool scalar_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsBool(a) && cJSON_IsBool(b))
		return cJSON_IsTrue(a) == cJSON_IsTrue(b);
	return false;
}

/* Checks value v against a normalised (or being normalised) property schema. what names the
 * value in the message ("parameter 'depth'"); field names it in err. with_enum is false
 * while the enum itself is being checked. */
static int check_value(const cJSON *prop, const cJSON *v, bool with_enum, const char *field,
		       const char *what, struct ff_err *err)
{
	enum ptype t = prop_type(prop);
	switch (t) {
	case PT_STRING: {
		if (!cJSON_IsString(v))
			return ff_err_field(err, FF_EVALIDATE, field, "%s must be a string", what);
		size_t len = strlen(v->valuestring);
		if (len > FF_MANIFEST_STRING_MAX)
			return ff_err_field(err, FF_EVALIDATE, field, "%s is longer than %d bytes",
					    what, FF_MANIFEST_STRING_MAX);
		if (!ff_utf8_valid(v->valuestring, len))
			return ff_err_field(err, FF_EVALIDATE, field, "%s is not valid utf-8",
					    what);
		const cJSON *ml = cJSON_GetObjectItemCaseSensitive(prop, "maxLength");
		if (cJSON_IsNumber(ml) && (double)utf8_chars(v->valuestring) > ml->valuedouble)
			return ff_err_field(err, FF_EVALIDATE, field,
					    "%s is longer than %g characters", what,
					    ml->valuedouble);
		break;
	}
	case PT_INTEGER:
	case PT_NUMBER: {
		double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
		bool integral = d == floor(d) && fabs(d) <= INTEGER_MAX;
		if (!cJSON_IsNumber(v) || !isfinite(d) || (t == PT_INTEGER && !integral))
			return ff_err_field(err, FF_EVALIDATE, field, "%s must be %s", what,
					    t == PT_INTEGER ? "an integer" : "a number");
		const cJSON *lo = cJSON_GetObjectItemCaseSensitive(prop, "minimum");
		const cJSON *hi = cJSON_GetObjectItemCaseSensitive(prop, "maximum");
		if (cJSON_IsNumber(lo) && d < lo->valuedouble)
			return ff_err_field(err, FF_EVALIDATE, field, "%s must be at least %.15g",
					    what, lo->valuedouble);
		if (cJSON_IsNumber(hi) && d > hi->valuedouble)
			return ff_err_field(err, FF_EVALIDATE, field, "%s must be at most %.15g",
					    what, hi->valuedouble);
		break;
	}
	case PT_BOOLEAN:
		if (!cJSON_IsBool(v))
			return ff_err_field(err, FF_EVALIDATE, field, "%s must be true or false",
					    what);
		break;
	case PT_NONE: return ff_err_field(err, FF_EINTERNAL, field, "%s has no type", what);
	}
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(prop, "enum");
	if (with_enum && en) {
		const cJSON *e = en->child;
		while (e && !scalar_equal(e, v))
			e = e->next;
		if (!e)
			return ff_err_field(err, FF_EVALIDATE, field,
					    "%s must be one of the allowed values", what);
	}
	return 0;
}

/* Refuses a number that cJSON would print as another: its printer settles for 15 digits when
 * they are within an epsilon, so a bound of 9007199254740991 would be shown as ...990. */
static int check_printable(const cJSON *v, const char *field, struct ff_err *err)
{
	if (!cJSON_IsNumber(v))
		return 0;
	cJSON *n = cJSON_CreateNumber(v->valuedouble);
	char *text = n ? cJSON_PrintUnformatted(n) : NULL;
	bool same = text && strtod(text, NULL) == v->valuedouble;
	free(text);
	cJSON_Delete(n);
	if (!same)
		return ff_err_field(err, FF_EVALIDATE, field,
				    "%s needs more than 15 significant digits", field);
	return 0;
}

/* "parameters.properties.<name>[.<key>]"; name is a checked parameter name (<= 64 chars). */
static void prop_field(char field[FIELD_MAX], const char *name, const char *key)
{
	snprintf(field, FIELD_MAX, "parameters.properties.%.64s%s%.16s", name, key ? "." : "",
		 key ? key : "");
}

/* Normalises one property schema `name` into *out. */
static int normalise_prop(const char *name, const cJSON *in, cJSON **out, struct ff_err *err)
{
	static const char *const keys[] = {"type", "description", "title",   "default",
					   "enum", "minimum",	  "maximum", "maxLength"};
	char prefix[FIELD_MAX], dotted[FIELD_MAX], field[FIELD_MAX];
	cJSON *p = NULL;
	int rc;

	prop_field(prefix, name, NULL);
	if (!cJSON_IsObject(in))
		return ff_err_field(err, FF_EVALIDATE, prefix, "%s must be an object", prefix);
	prop_field(dotted, name, "");
	if ((rc = ff_json_check_keys(in, dotted, keys, 8, 0, FF_JSON_VALIDATE, err)) < 0)
		return rc;

	prop_field(field, name, "type");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(in, "type");
	enum ptype t = ptype_of(cJSON_GetStringValue(type));
	if (t == PT_NONE)
		return ff_err_field(err, FF_EVALIDATE, field,
				    "%s must be string, integer, number or boolean", field);
	if (!(p = cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(p, "type", cJSON_GetStringValue(type)))
		goto out_nomem;

	for (int i = 1; i < 3; i++) { /* description, title */
		char *s = NULL;
		if ((rc = ff_json_get_string(in, dotted, keys[i], FF_JSON_VALIDATE,
					     FF_MANIFEST_STRING_MAX, NULL, NULL, &s, err)) < 0)
			goto out_free;
		if (s && !cJSON_AddStringToObject(p, keys[i], s)) {
			free(s);
			goto out_nomem;
		}
		free(s);
	}

	for (int i = 5; i < 7; i++) { /* minimum, maximum */
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keys[i]);
		if (!v)
			continue;
		prop_field(field, name, keys[i]);
		if (t != PT_INTEGER && t != PT_NUMBER) {
			rc = ff_err_field(err, FF_EVALIDATE, field, "%s applies to numbers only",
					  field);
			goto out_free;
		}
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
			rc = ff_err_field(err, FF_EVALIDATE, field, "%s must be a number", field);
			goto out_free;
		}
		if (!cJSON_AddNumberToObject(p, keys[i], v->valuedouble))
			goto out_nomem;
	}

	if (cJSON_GetObjectItemCaseSensitive(in, "maxLength")) {
		double ml = 0;
		prop_field(field, name, "maxLength");
		if (t != PT_STRING) {
			rc = ff_err_field(err, FF_EVALIDATE, field, "%s applies to strings only",
					  field);
			goto out_free;
		}
		if ((rc = ff_json_get_number(in, dotted, "maxLength",
					     FF_JSON_VALIDATE | FF_JSON_INTEGER, 0,
					     FF_MANIFEST_STRING_MAX, &ml, err)) < 0)
			goto out_free;
		if (!cJSON_AddNumberToObject(p, "maxLength", ml))
			goto out_nomem;
	}

	const cJSON *en = cJSON_GetObjectItemCaseSensitive(in, "enum");
	if (en) {
		prop_field(field, name, "enum");
		int n = cJSON_IsArray(en) ? cJSON_GetArraySize(en) : 0;
		if (n < 1 || n > ENUM_MAX) {
			rc = ff_err_field(err, FF_EVALIDATE, field,
					  "%s must be an array of 1 to %d values", field, ENUM_MAX);
			goto out_free;
		}
		if (ff_json_add_copy(p, "enum", en) < 0)
			goto out_nomem;
	}
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(in, "default");
	if (def && ff_json_add_copy(p, "default", def) < 0)
		goto out_nomem;

	/* Numbers must also come out of the API's view as they went in. */
	for (int i = 5; i < 7; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, keys[i]);
		prop_field(field, name, keys[i]);
		if (v && (rc = check_printable(v, field, err)) < 0)
			goto out_free;
	}
	const cJSON *lo = cJSON_GetObjectItemCaseSensitive(p, "minimum");
	const cJSON *hi = cJSON_GetObjectItemCaseSensitive(p, "maximum");
	if (lo && hi && hi->valuedouble < lo->valuedouble) {
		prop_field(field, name, "maximum");
		rc = ff_err_field(err, FF_EVALIDATE, field, "%s is below the minimum", field);
		goto out_free;
	}
	if ((en = cJSON_GetObjectItemCaseSensitive(p, "enum"))) {
		prop_field(field, name, "enum");
		for (const cJSON *e = en->child; e; e = e->next) {
			if ((rc = check_value(p, e, false, field, field, err)) < 0 ||
			    (rc = check_printable(e, field, err)) < 0)
				goto out_free;
			for (const cJSON *f = en->child; f != e; f = f->next)
				if (scalar_equal(e, f)) {
					rc = ff_err_field(err, FF_EVALIDATE, field,
							  "%s lists a value twice", field);
					goto out_free;
				}
		}
	}
	if ((def = cJSON_GetObjectItemCaseSensitive(p, "default"))) {
		prop_field(field, name, "default");
		if ((rc = check_value(p, def, true, field, field, err)) < 0 ||
		    (rc = check_printable(def, field, err)) < 0)
			goto out_free;
	}
	*out = p;
	return 0;

out_nomem:
	rc = ff_err_set(err, FF_ENOMEM, "out of memory");
out_free:
	cJSON_Delete(p);
	return rc;
}

int ff_params_normalise(const cJSON *in, cJSON **out, struct ff_err *err)
{
	static const char *const keys[] = {"type",	 "additionalProperties", "required",
					   "properties", "description",		 "title"};
	cJSON *s = NULL, *props = NULL, *req = NULL, *prop = NULL;
	int rc;

	if (in && !cJSON_IsObject(in))
		return ff_err_field(err, FF_EVALIDATE, "parameters",
				    "parameters must be an object schema");
	if (in &&
	    (rc = ff_json_check_keys(in, "parameters.", keys, 6, 0, FF_JSON_VALIDATE, err)) < 0)
		return rc;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(in, "type");
	if (type && !(cJSON_IsString(type) && !strcmp(type->valuestring, "object")))
		return ff_err_field(err, FF_EVALIDATE, "parameters.type",
				    "parameters.type must be \"object\"");
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(in, "additionalProperties");
	if (ap && !cJSON_IsFalse(ap))
		return ff_err_field(err, FF_EVALIDATE, "parameters.additionalProperties",
				    "parameters.additionalProperties must be false: unknown "
				    "parameters are always refused");

	if (!(s = cJSON_CreateObject()) || !cJSON_AddStringToObject(s, "type", "object") ||
	    !cJSON_AddFalseToObject(s, "additionalProperties"))
		goto out_nomem;
	for (int i = 4; i < 6; i++) {
		char *str = NULL;
		if ((rc = ff_json_get_string(in, "parameters.", keys[i], FF_JSON_VALIDATE,
					     FF_MANIFEST_STRING_MAX, NULL, NULL, &str, err)) < 0)
			goto out_free;
		if (str && !cJSON_AddStringToObject(s, keys[i], str)) {
			free(str);
			goto out_nomem;
		}
		free(str);
	}

	if (!(props = cJSON_AddObjectToObject(s, "properties")))
		goto out_nomem;
	const cJSON *inprops = cJSON_GetObjectItemCaseSensitive(in, "properties");
	if (inprops && !cJSON_IsObject(inprops)) {
		rc = ff_err_field(err, FF_EVALIDATE, "parameters.properties",
				  "parameters.properties must be an object");
		goto out_free;
	}
	size_t n = 0;
	for (const cJSON *c = inprops ? inprops->child : NULL; c; c = c->next) {
		char field[FIELD_MAX];
		snprintf(field, sizeof(field), "parameters.properties.%.64s", c->string);
		if (++n > FF_MANIFEST_PARAMS_MAX) {
			rc = ff_err_field(err, FF_EVALIDATE, "parameters.properties",
					  "a workflow has at most %d parameters",
					  FF_MANIFEST_PARAMS_MAX);
			goto out_free;
		}
		if (!ff_manifest_param_name_valid(c->string)) {
			rc = ff_err_field(err, FF_EVALIDATE, field,
					  "parameter names must match [a-z][a-z0-9_]{0,63}");
			goto out_free;
		}
		if (cJSON_GetObjectItemCaseSensitive(props, c->string)) {
			rc = ff_err_field(err, FF_EVALIDATE, field, "parameter '%s' given twice",
					  c->string);
			goto out_free;
		}
		if ((rc = normalise_prop(c->string, c, &prop, err)) < 0)
			goto out_free;
		if (!cJSON_AddItemToObject(props, c->string, prop)) {
			cJSON_Delete(prop);
			goto out_nomem;
		}
	}

	if (!(req = cJSON_AddArrayToObject(s, "required")))
		goto out_nomem;
	const cJSON *inreq = cJSON_GetObjectItemCaseSensitive(in, "required");
	if (inreq && !cJSON_IsArray(inreq)) {
		rc = ff_err_field(err, FF_EVALIDATE, "parameters.required",
				  "parameters.required must be an array of parameter names");
		goto out_free;
	}
	for (const cJSON *r = inreq ? inreq->child : NULL; r; r = r->next) {
		const char *name = cJSON_GetStringValue(r);
		if (!name || !cJSON_GetObjectItemCaseSensitive(props, name)) {
			rc = ff_err_field(err, FF_EVALIDATE, "parameters.required",
					  "parameters.required names an undefined parameter");
			goto out_free;
		}
		for (const cJSON *q = req->child; q; q = q->next)
			if (!strcmp(q->valuestring, name)) {
				rc = ff_err_field(err, FF_EVALIDATE, "parameters.required",
						  "parameters.required lists '%s' twice", name);
				goto out_free;
			}
		cJSON *dup = cJSON_CreateString(name);
		if (!dup || !cJSON_AddItemToArray(req, dup)) {
			cJSON_Delete(dup);
			goto out_nomem;
		}
	}
	*out = s;
	return 0;

out_nomem:
	rc = ff_err_set(err, FF_ENOMEM, "out of memory");
out_free:
	cJSON_Delete(s);
	return rc;
}

/* ---- validation of a run's parameters ---- */

static bool is_required(const cJSON *schema, const char *name)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
	for (const cJSON *r = req ? req->child : NULL; r; r = r->next)
		if (!strcmp(r->valuestring, name))
			return true;
	return false;
}

int ff_params_validate(const cJSON *schema, const cJSON *params, cJSON **out, struct ff_err *err)
{
	char field[FIELD_MAX], what[FIELD_MAX];
	cJSON *o = NULL;
	uint64_t seen = 0;
	int rc = 0;

	if (!schema)
		return ff_err_set(err, FF_EINVAL, "no parameter schema");
	if (params && !cJSON_IsObject(params))
		return ff_err_field(err, FF_EINVAL, "parameters", "parameters must be an object");
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");

	/* Names first: every one must be defined, and given once. The properties are at
	 * most FF_MANIFEST_PARAMS_MAX, so a bit per property records what was seen. */
	for (const cJSON *p = params ? params->child : NULL; p; p = p->next) {
		size_t i = 0;
		const cJSON *d = props ? props->child : NULL;
		while (d && strcmp(d->string, p->string) != 0)
			d = d->next, i++;
		snprintf(field, sizeof(field), "parameters.%.64s", p->string);
		if (!d)
			return ff_err_field(err, FF_EVALIDATE, field, "unknown parameter '%.64s'",
					    p->string);
		if (seen & ((uint64_t)1 << i))
			return ff_err_field(err, FF_EVALIDATE, field, "parameter '%s' given twice",
					    p->string);
		seen |= (uint64_t)1 << i;
	}

	if (!(o = cJSON_CreateObject()))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	for (const cJSON *d = props ? props->child : NULL; d; d = d->next) {
		const cJSON *v =
		    params ? cJSON_GetObjectItemCaseSensitive(params, d->string) : NULL;
		snprintf(field, sizeof(field), "parameters.%.64s", d->string);
		snprintf(what, sizeof(what), "parameter '%.64s'", d->string);
		if (!v)
			v = cJSON_GetObjectItemCaseSensitive(d, "default");
		if (!v) {
			if (!is_required(schema, d->string))
				continue;
			rc = ff_err_field(err, FF_EVALIDATE, field, "parameter '%s' is required",
					  d->string);
			goto out;
		}
		if ((rc = check_value(d, v, true, field, what, err)) < 0)
			goto out;
		if (ff_json_add_copy(o, d->string, v) < 0) {
			rc = ff_err_set(err, FF_ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = o;
	o = NULL;
out:
	cJSON_Delete(o);
	return rc;
}
