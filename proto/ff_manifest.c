/* ff_manifest — workflow manifests, the catalogue of them and run-parameter validation;
 * see ff_manifest.h.
 *
 * Manifests are written by people, so every check names the offending field and unknown
 * keys are refused: a typo ("resource") must not silently fall back to the defaults.
 */
#include "ff_manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIELD_MAX   192
#define ENUM_MAX    256
#define CATALOG_MAX 4096
/* Integers above this lose precision as doubles, and cJSON stores only doubles. */
#define INTEGER_MAX 9007199254740991.0

struct ff_catalog {
	struct ff_manifest **v;
	size_t n, cap;
};

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

bool ff_manifest_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		size_t n;
		uint32_t cp, min;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* Code points of a valid UTF-8 string. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* ---- JSON helpers ---- */

/* Parses exactly len bytes of JSON: no NUL inside, nothing but whitespace after the value.
 * cJSON reads a NUL-terminated copy, so a buffer without a terminator is never over-read. */
static int parse_json(const char *buf, size_t len, cJSON **out, struct ff_err *err)
{
	if (len > FF_MANIFEST_MAX_BYTES)
		return ff_err_set(err, FF_ETOOBIG, "manifest is larger than %d bytes",
				  FF_MANIFEST_MAX_BYTES);
	if (!buf || memchr(buf, '\0', len))
		return ff_err_set(err, FF_EINVAL, "manifest contains a nul byte");
	char *copy = malloc(len + 1);
	if (!copy)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	memcpy(copy, buf, len);
	copy[len] = '\0';
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
	if (!root) {
		size_t at = end && end >= copy ? (size_t)(end - copy) : 0;
		free(copy);
		return ff_err_set(err, FF_EINVAL, "manifest is not valid json (near byte %zu)", at);
	}
	free(copy);
	*out = root;
	return 0;
}

/* Refuses keys of obj not in allowed[], and keys given twice. prefix is prepended to the
 * key to name the field ("resources."). */
static int check_keys(const cJSON *obj, const char *const *allowed, size_t nallowed,
		      const char *prefix, struct ff_err *err)
{
	uint64_t seen = 0;
	char field[FIELD_MAX];
	for (const cJSON *c = obj->child; c; c = c->next) {
		size_t i = 0;
		while (i < nallowed && strcmp(c->string, allowed[i]) != 0)
			i++;
		snprintf(field, sizeof(field), "%s%.64s", prefix, c->string);
		if (i == nallowed)
			return ff_err_field(err, FF_EVALIDATE, field, "unknown field '%s'", field);
		if (seen & ((uint64_t)1 << i))
			return ff_err_field(err, FF_EVALIDATE, field, "field '%s' given twice",
					    field);
		seen |= (uint64_t)1 << i;
	}
	return 0;
}

/* A string field of obj: absent leaves *out as it is (unless required), else it must be a
 * string of at most max bytes of valid UTF-8 that passes valid (when given). */
static int get_string(const cJSON *obj, const char *key, const char *field, bool required,
		      size_t max, bool (*valid)(const char *), const char *form, char **out,
		      struct ff_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v) {
		if (required)
			return ff_err_field(err, FF_EVALIDATE, field, "%s is required", field);
		return 0;
	}
	if (!cJSON_IsString(v))
		return ff_err_field(err, FF_EVALIDATE, field, "%s must be a string", field);
	size_t len = strlen(v->valuestring);
	if (len > max)
		return ff_err_field(err, FF_EVALIDATE, field, "%s is longer than %zu bytes", field,
				    max);
	if (!ff_manifest_utf8_valid(v->valuestring, len))
		return ff_err_field(err, FF_EVALIDATE, field, "%s is not valid utf-8", field);
	if (valid && !valid(v->valuestring))
		return ff_err_field(err, FF_EVALIDATE, field, "%s must be %s", field, form);
	char *copy = strdup(v->valuestring);
	if (!copy)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	free(*out);
	*out = copy;
	return 0;
}

/* A number field of obj in [lo, hi]; integral when integer. Absent leaves *out. */
static int get_number(const cJSON *obj, const char *key, const char *field, bool integer, double lo,
		      double hi, double *out, struct ff_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return 0;
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!cJSON_IsNumber(v) || !isfinite(d) || (integer && d != floor(d)))
		return ff_err_field(err, FF_EVALIDATE, field, "%s must be %s", field,
				    integer ? "an integer" : "a number");
	if (d < lo || d > hi)
		return ff_err_field(err, FF_EVALIDATE, field, "%s must be from %g to %g", field, lo,
				    hi);
	*out = d;
	return 0;
}

static int get_long(const cJSON *obj, const char *key, const char *field, long lo, long hi,
		    long *out, struct ff_err *err)
{
	double d = (double)*out;
	int rc = get_number(obj, key, field, true, (double)lo, (double)hi, &d, err);
	if (rc == 0)
		*out = (long)d;
	return rc;
}

/* A boolean field of obj: true or false, nothing else (no 0/1, no "true"). Absent leaves
 * *out. */
static int get_bool(const cJSON *obj, const char *key, const char *field, bool *out,
		    struct ff_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return ff_err_field(err, FF_EVALIDATE, field, "%s must be true or false", field);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* ---- parameter schema ---- */

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
		if (!ff_manifest_utf8_valid(v->valuestring, len))
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

static int add_dup(cJSON *to, const char *key, const cJSON *v)
{
	cJSON *d = cJSON_Duplicate(v, 1);
	if (!d || !cJSON_AddItemToObject(to, key, d)) {
		cJSON_Delete(d);
		return -1;
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
	char prefix[FIELD_MAX], field[FIELD_MAX];
	cJSON *p = NULL;
	int rc;

	prop_field(prefix, name, NULL);
	if (!cJSON_IsObject(in))
		return ff_err_field(err, FF_EVALIDATE, prefix, "%s must be an object", prefix);
	prop_field(field, name, "");
	if ((rc = check_keys(in, keys, 8, field, err)) < 0)
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
		prop_field(field, name, keys[i]);
		if ((rc = get_string(in, keys[i], field, false, FF_MANIFEST_STRING_MAX, NULL, NULL,
				     &s, err)) < 0)
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
		if ((rc = get_number(in, "maxLength", field, true, 0, FF_MANIFEST_STRING_MAX, &ml,
				     err)) < 0)
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
		if (add_dup(p, "enum", en) < 0)
			goto out_nomem;
	}
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(in, "default");
	if (def && add_dup(p, "default", def) < 0)
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

/* The parameter schema, normalised to {"type": "object", "additionalProperties": false,
 * "properties": {...}, "required": [...]} (plus description/title when given). */
static int normalise_params(const cJSON *in, cJSON **out, struct ff_err *err)
{
	static const char *const keys[] = {"type",	 "additionalProperties", "required",
					   "properties", "description",		 "title"};
	cJSON *s = NULL, *props = NULL, *req = NULL, *prop = NULL;
	int rc;

	if (in && !cJSON_IsObject(in))
		return ff_err_field(err, FF_EVALIDATE, "parameters",
				    "parameters must be an object schema");
	if (in && (rc = check_keys(in, keys, 6, "parameters.", err)) < 0)
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
		char field[FIELD_MAX];
		snprintf(field, sizeof(field), "parameters.%.16s", keys[i]);
		if ((rc = get_string(in, keys[i], field, false, FF_MANIFEST_STRING_MAX, NULL, NULL,
				     &str, err)) < 0)
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

static int parse_command(const cJSON *root, struct ff_manifest *m, struct ff_err *err)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "command");
	if (!cmd)
		return 0;
	if (!cJSON_IsArray(cmd))
		return ff_err_field(err, FF_EVALIDATE, "command",
				    "command must be an array of strings");
	int n = cJSON_GetArraySize(cmd);
	if (n > FF_MANIFEST_COMMAND_MAX)
		return ff_err_field(err, FF_EVALIDATE, "command",
				    "command has more than %d entries", FF_MANIFEST_COMMAND_MAX);
	if (n == 0)
		return 0;
	if (!(m->command = calloc((size_t)n, sizeof(*m->command))))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	for (const cJSON *c = cmd->child; c; c = c->next) {
		size_t len = cJSON_IsString(c) ? strlen(c->valuestring) : 0;
		if (!cJSON_IsString(c) || len > FF_MANIFEST_STRING_MAX ||
		    !ff_manifest_utf8_valid(c->valuestring, len))
			return ff_err_field(err, FF_EVALIDATE, "command",
					    "command entries must be utf-8 strings of at most %d "
					    "bytes",
					    FF_MANIFEST_STRING_MAX);
		if (!(m->command[m->ncommand] = strdup(c->valuestring)))
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		m->ncommand++;
	}
	return 0;
}

static int parse_limits(const cJSON *root, struct ff_manifest *m, struct ff_err *err)
{
	static const char *const rkeys[] = {"memory_mb", "cpus", "pids", "timeout_s"};
	static const char *const tkeys[] = {"max_attempts", "backoff_s", "on_timeout"};
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "resources");
	const cJSON *retry = cJSON_GetObjectItemCaseSensitive(root, "retry");
	long attempts = m->max_attempts;
	int rc;

	if (res && !cJSON_IsObject(res))
		return ff_err_field(err, FF_EVALIDATE, "resources", "resources must be an object");
	if (retry && !cJSON_IsObject(retry))
		return ff_err_field(err, FF_EVALIDATE, "retry", "retry must be an object");
	if ((res && (rc = check_keys(res, rkeys, 4, "resources.", err)) < 0) ||
	    (retry && (rc = check_keys(retry, tkeys, 3, "retry.", err)) < 0) ||
	    (rc = get_long(res, "memory_mb", "resources.memory_mb", FF_MANIFEST_MEMORY_MB_MIN,
			   FF_MANIFEST_MEMORY_MB_MAX, &m->memory_mb, err)) < 0 ||
	    (rc = get_number(res, "cpus", "resources.cpus", false, FF_MANIFEST_CPUS_MIN,
			     FF_MANIFEST_CPUS_MAX, &m->cpus, err)) < 0 ||
	    (rc = get_long(res, "pids", "resources.pids", FF_MANIFEST_PIDS_MIN,
			   FF_MANIFEST_PIDS_MAX, &m->pids, err)) < 0 ||
	    (rc = get_long(res, "timeout_s", "resources.timeout_s", FF_MANIFEST_TIMEOUT_S_MIN,
			   FF_MANIFEST_TIMEOUT_S_MAX, &m->timeout_s, err)) < 0 ||
	    (rc = get_long(retry, "max_attempts", "retry.max_attempts", 1, FF_MANIFEST_ATTEMPTS_MAX,
			   &attempts, err)) < 0 ||
	    (rc = get_long(retry, "backoff_s", "retry.backoff_s", 0, FF_MANIFEST_BACKOFF_S_MAX,
			   &m->backoff_s, err)) < 0 ||
	    (rc = get_bool(retry, "on_timeout", "retry.on_timeout", &m->retry_on_timeout,
			   err)) < 0)
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

	if (!cJSON_IsObject(root))
		return ff_err_set(err, FF_EINVAL, "a manifest must be a json object");
	if ((rc = check_keys(root, keys, 10, "", err)) < 0)
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
	if ((rc = get_string(root, "name", "name", true, 64, ff_manifest_name_valid,
			     "lowercase letters, digits, '.', '_' or '-' (at most 64)", &m->name,
			     err)) < 0 ||
	    (rc = get_string(root, "version", "version", true, 64, ff_manifest_version_valid,
			     "letters, digits, '.', '_', '+' or '-' (at most 64)", &m->version,
			     err)) < 0 ||
	    (rc = get_string(root, "description", "description", false, FF_MANIFEST_STRING_MAX,
			     NULL, NULL, &m->description, err)) < 0 ||
	    (rc = get_string(root, "image", "image", true, FF_MANIFEST_IMAGE_MAX,
			     ff_manifest_image_valid, "an image reference", &m->image, err)) < 0 ||
	    (rc = parse_command(root, m, err)) < 0 ||
	    (rc = normalise_params(cJSON_GetObjectItemCaseSensitive(root, "parameters"),
				   &m->parameters, err)) < 0 ||
	    (rc = parse_limits(root, m, err)) < 0 ||
	    (rc = get_string(root, "pool", "pool", false, 32, ff_manifest_pool_valid,
			     "[a-z0-9_-]{1,32}", &m->pool, err)) < 0 ||
	    (rc = get_string(root, "network", "network", false, 16, ff_manifest_network_valid,
			     "none, bridge or host", &m->network, err)) < 0)
		return rc;
	return 0;
}

int ff_manifest_parse(const char *json, size_t len, struct ff_manifest **out, struct ff_err *err)
{
	cJSON *root = NULL;
	struct ff_manifest *m = NULL;
	int rc = parse_json(json, len, &root, err);
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
static int err_in_file(struct ff_err *err, const char *path, int rc)
{
	if (err) {
		char msg[sizeof(err->msg)];
		memcpy(msg, err->msg, sizeof(msg));
		msg[sizeof(msg) - 1] = '\0';
		snprintf(err->msg, sizeof(err->msg), "%.200s: %.300s", path, msg);
	}
	return rc;
}

static int read_file(const char *path, char **out, size_t *len, struct ff_err *err)
{
	char *buf = NULL;
	size_t n = 0;
	struct stat st;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ff_err_set(err, errno == ENOENT ? FF_ENOTFOUND : FF_EINVAL,
				  "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = ff_err_set(err, FF_EINVAL, "not a regular file");
		goto out;
	}
	if (st.st_size > FF_MANIFEST_MAX_BYTES) {
		rc = ff_err_set(err, FF_ETOOBIG, "manifest is larger than %d bytes",
				FF_MANIFEST_MAX_BYTES);
		goto out;
	}
	/* One byte more than the limit, to notice a file that grew since fstat. */
	if (!(buf = malloc(FF_MANIFEST_MAX_BYTES + 1))) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, FF_MANIFEST_MAX_BYTES + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ff_err_set(err, FF_EINTERNAL, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > FF_MANIFEST_MAX_BYTES) {
			rc = ff_err_set(err, FF_ETOOBIG, "manifest is larger than %d bytes",
					FF_MANIFEST_MAX_BYTES);
			goto out;
		}
	}
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

int ff_manifest_load_file(const char *path, struct ff_manifest **out, struct ff_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	struct ff_manifest *m = NULL;
	int rc;
	if (!path)
		return ff_err_set(err, FF_EINVAL, "no manifest path");
	if ((rc = read_file(path, &buf, &len, err)) < 0 ||
	    (rc = ff_manifest_parse(buf, len, &m, err)) < 0)
		goto out;
	if (!(m->path = strdup(path))) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	*out = m;
	m = NULL;
out:
	free(buf);
	ff_manifest_free(m);
	return rc < 0 ? err_in_file(err, path, rc) : 0;
}

/* ---- parameter validation ---- */

static bool is_required(const cJSON *schema, const char *name)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
	for (const cJSON *r = req ? req->child : NULL; r; r = r->next)
		if (!strcmp(r->valuestring, name))
			return true;
	return false;
}

int ff_manifest_validate_params(const struct ff_manifest *m, const cJSON *params, cJSON **out,
				struct ff_err *err)
{
	char field[FIELD_MAX], what[FIELD_MAX];
	cJSON *o = NULL;
	uint64_t seen = 0;
	int rc = 0;

	if (!m || !m->parameters)
		return ff_err_set(err, FF_EINVAL, "no manifest");
	if (params && !cJSON_IsObject(params))
		return ff_err_field(err, FF_EINVAL, "parameters", "parameters must be an object");
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(m->parameters, "properties");

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
			if (!is_required(m->parameters, d->string))
				continue;
			rc = ff_err_field(err, FF_EVALIDATE, field, "parameter '%s' is required",
					  d->string);
			goto out;
		}
		if ((rc = check_value(d, v, true, field, what, err)) < 0)
			goto out;
		if (add_dup(o, d->string, v) < 0) {
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
	if (add_dup(o, "parameters", m->parameters) < 0 ||
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

/* ---- the catalogue ---- */

void ff_catalog_free(struct ff_catalog *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		ff_manifest_free(c->v[i]);
	free(c->v);
	free(c);
}

size_t ff_catalog_count(const struct ff_catalog *c)
{
	return c ? c->n : 0;
}

const struct ff_manifest *ff_catalog_at(const struct ff_catalog *c, size_t i)
{
	return c && i < c->n ? c->v[i] : NULL;
}

const struct ff_manifest *ff_catalog_find(const struct ff_catalog *c, const char *name)
{
	if (!c || !name)
		return NULL;
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(name, c->v[mid]->name);
		if (cmp == 0)
			return c->v[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int catalog_add(struct ff_catalog *c, struct ff_manifest *m, struct ff_err *err)
{
	if (c->n == CATALOG_MAX)
		return ff_err_set(err, FF_ETOOBIG, "more than %d workflows", CATALOG_MAX);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct ff_manifest **v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = m;
	return 0;
}

/* By name, then by path, so the duplicate message is the same on every load. */
static int by_name(const void *a, const void *b)
{
	const struct ff_manifest *x = *(const struct ff_manifest *const *)a;
	const struct ff_manifest *y = *(const struct ff_manifest *const *)b;
	int cmp = strcmp(x->name, y->name);
	return cmp ? cmp : strcmp(x->path, y->path);
}

/* Loads every <dir>/<entry>/workflow.json; entries that are not directories, hidden ones
 * and those without a workflow.json are skipped. */
static int load_dir(struct ff_catalog *c, const char *dir, struct ff_err *err)
{
	char path[PATH_MAX];
	struct stat st;
	int rc = 0;
	DIR *d = opendir(dir);
	if (!d)
		return ff_err_set(err, errno == ENOENT ? FF_ENOTFOUND : FF_EINVAL,
				  "workflow directory %s: %s", dir, strerror(errno));
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			if (errno)
				rc = ff_err_set(err, FF_EINTERNAL, "reading %s: %s", dir,
						strerror(errno));
			break;
		}
		if (e->d_name[0] == '.')
			continue;
		int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) - sizeof("/workflow.json")) {
			rc = ff_err_set(err, FF_EINVAL, "path too long in %s", dir);
			break;
		}
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(path + n, sizeof(path) - (size_t)n, "/workflow.json");
		if (stat(path, &st) < 0 && errno == ENOENT)
			continue;
		struct ff_manifest *m = NULL;
		if ((rc = ff_manifest_load_file(path, &m, err)) < 0)
			break;
		if ((rc = catalog_add(c, m, err)) < 0) {
			ff_manifest_free(m);
			break;
		}
	}
	closedir(d);
	return rc;
}

int ff_catalog_load(const char *dirs, struct ff_catalog **out, struct ff_err *err)
{
	struct ff_catalog *c = NULL;
	char dir[PATH_MAX];
	int rc = 0;
	if (!dirs)
		return ff_err_set(err, FF_EINVAL, "no workflow directories");
	if (!(c = calloc(1, sizeof(*c))))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	for (const char *p = dirs; *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (len >= sizeof(dir)) {
			rc = ff_err_set(err, FF_EINVAL, "workflow directory name too long");
			goto out;
		}
		memcpy(dir, p, len);
		dir[len] = '\0';
		p += len + (colon ? 1 : 0);
		if (len && (rc = load_dir(c, dir, err)) < 0)
			goto out;
	}
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), by_name);
	for (size_t i = 1; i < c->n; i++)
		if (!strcmp(c->v[i - 1]->name, c->v[i]->name)) {
			rc = ff_err_field(err, FF_ECONFLICT, "name",
					  "workflow '%s' is defined twice: %s and %s",
					  c->v[i]->name, c->v[i - 1]->path, c->v[i]->path);
			goto out;
		}
	*out = c;
	c = NULL;
out:
	ff_catalog_free(c);
	return rc;
}
