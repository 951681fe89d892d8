/* ff_json — strict parsing and typed getters over cJSON; see ff_json.h.
 *
 * cJSON does the parsing; this file adds what it lets through. The text is copied once to a
 * NUL-terminated buffer, so cJSON never looks past len whatever it does at the end of its
 * input; duplicate keys are found afterwards in one walk over the tree.
 */
#include "ff_json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

#define PATH_MAX_BYTES 192 /* longer paths are cut; err->field holds 63 bytes anyway */

/* ---- duplicate keys and strings that are not utf-8 ---- */

struct key_ref {
	const char *key;
	size_t pos; /* index among the object's members */
};

struct dup_scan {
	struct key_ref *keys; /* scratch, as large as the largest object so far */
	size_t cap;
	char path[PATH_MAX_BYTES];
	size_t len; /* strlen(path) */
};

/* What scan found wrong, at s->path. */
enum flaw { FLAW_NONE, FLAW_DUPLICATE, FLAW_NOT_UTF8, FLAW_NOMEM };

static bool utf8(const char *s)
{
	return ff_utf8_valid(s, strlen(s));
}

static int key_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Appends a path segment; returns the length to restore. */
static size_t path_push(struct dup_scan *s, const char *fmt_key, size_t index, bool member)
{
	size_t old = s->len;
	size_t room = sizeof(s->path) - s->len;
	int n;
	if (member)
		n = snprintf(s->path + s->len, room, "%s%s", s->len ? "." : "", fmt_key);
	else
		n = snprintf(s->path + s->len, room, "[%zu]", index);
	if (n > 0)
		s->len += (size_t)n < room ? (size_t)n : room - 1;
	return old;
}

static void path_pop(struct dup_scan *s, size_t old)
{
	s->len = old;
	s->path[old] = '\0';
}

/* The member of obj (n members) whose key repeats an earlier one, the earliest such in
 * document order; NULL when none. */
static const char *first_duplicate(struct dup_scan *s, const cJSON *obj, size_t n, int *oom)
{
	if (n < 2)
		return NULL;
	if (n > s->cap) {
		struct key_ref *k = realloc(s->keys, n * sizeof(*k));
		if (!k) {
			*oom = 1;
			return NULL;
		}
		s->keys = k;
		s->cap = n;
	}
	size_t i = 0;
	for (const cJSON *c = obj->child; c; c = c->next, i++)
		s->keys[i] = (struct key_ref){c->string ? c->string : "", i};
	qsort(s->keys, n, sizeof(*s->keys), key_cmp);
	const struct key_ref *best = NULL;
	for (i = 1; i < n; i++)
		if (!strcmp(s->keys[i - 1].key, s->keys[i].key) &&
		    (!best || s->keys[i].pos < best->pos))
			best = &s->keys[i];
	return best ? best->key : NULL;
}

/* The first flaw in document order, s->path naming where (an invalid key in it is made
 * printable); strings and keys are checked only when asked. cJSON bounds the depth
 * (CJSON_NESTING_LIMIT), and so the recursion. */
static enum flaw scan(struct dup_scan *s, const cJSON *v, bool check_utf8)
{
	if (cJSON_IsString(v))
		return !check_utf8 || utf8(v->valuestring) ? FLAW_NONE : FLAW_NOT_UTF8;
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return FLAW_NONE;
	bool object = cJSON_IsObject(v);
	size_t n = 0;
	for (const cJSON *c = v->child; c; c = c->next)
		n++;
	if (object) {
		int oom = 0;
		const char *dup = first_duplicate(s, v, n, &oom);
		if (oom)
			return FLAW_NOMEM;
		if (dup) {
			path_push(s, dup, 0, true);
			return FLAW_DUPLICATE;
		}
	}
	size_t i = 0;
	for (const cJSON *c = v->child; c; c = c->next, i++) {
		const char *key = c->string ? c->string : "";
		bool bad_key = check_utf8 && object && !utf8(key);
		if (!bad_key && !cJSON_IsObject(c) && !cJSON_IsArray(c) &&
		    !(check_utf8 && cJSON_IsString(c)))
			continue;
		size_t old = path_push(s, key, i, object);
		if (bad_key) {
			ff_utf8_sanitize(s->path + old);
			return FLAW_NOT_UTF8;
		}
		enum flaw f = scan(s, c, check_utf8);
		if (f)
			return f;
		path_pop(s, old);
	}
	return FLAW_NONE;
}

/* ---- the strict parse ---- */

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int ff_json_parse(const char *buf, size_t len, const struct ff_json_opts *opts, cJSON **out,
		  struct ff_err *err)
{
	static const struct ff_json_opts defaults = {0};
	struct dup_scan s = {.len = 0};
	cJSON *root = NULL;
	char *copy = NULL;
	const char *end = NULL;
	int rc = 0;

	if (!opts)
		opts = &defaults;
	const char *what = opts->what ? opts->what : "the json";
	int code = opts->code ? opts->code : FF_EINVAL;
	int dup_code = opts->dup_code ? opts->dup_code : code;

	if (opts->max_bytes && len > opts->max_bytes)
		return ff_err_set(err, FF_ETOOBIG, "%s is larger than %zu bytes", what,
				  opts->max_bytes);
	if (!buf || !len)
		return ff_err_set(err, code, "%s is empty", what);
	if (memchr(buf, '\0', len))
		return ff_err_set(err, code, "%s contains a nul byte", what);
	if (!(copy = malloc(len + 1)))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	memcpy(copy, buf, len);
	copy[len] = '\0';

	if (!(root = cJSON_ParseWithLengthOpts(copy, len, &end, 0))) {
		size_t at = end && end >= copy ? (size_t)(end - copy) : 0;
		/* cJSON says nothing else; a failed allocation reads as bad text */
		rc = ff_err_set(err, code, "%s is not valid json (near byte %zu)", what, at);
		goto out;
	}
	while (end < copy + len && json_space(*end))
		end++;
	if (end != copy + len) {
		rc = ff_err_set(err, code, "%s has bytes after the json value (at byte %zu)", what,
				(size_t)(end - copy));
		goto out;
	}
	if (opts->object && !cJSON_IsObject(root)) {
		rc = ff_err_set(err, code, "%s must be a json object", what);
		goto out;
	}
	switch (scan(&s, root, opts->utf8_code != 0)) {
	case FLAW_NONE: break;
	case FLAW_NOMEM: rc = ff_err_set(err, FF_ENOMEM, "out of memory"); goto out;
	case FLAW_DUPLICATE:
		rc = ff_err_field(err, dup_code, s.path, "%s has key '%s' twice", what, s.path);
		goto out;
	case FLAW_NOT_UTF8:
		rc = ff_err_field(err, opts->utf8_code, s.path, "%s: %s is not valid utf-8", what,
				  s.path[0] ? s.path : "the value");
		goto out;
	}
	*out = root;
	root = NULL;
out:
	free(s.keys);
	cJSON_Delete(root);
	free(copy);
	return rc;
}

/* ---- getters ---- */

static int code_of(unsigned flags)
{
	return flags & FF_JSON_VALIDATE ? FF_EVALIDATE : FF_EINVAL;
}

/* The member key of obj, in *v; 1 when present, 0 when absent and allowed to be, else the
 * error. field gets prefix + key. */
static int member(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
		  char *field, size_t size, const cJSON **v, struct ff_err *err)
{
	snprintf(field, size, "%s%s", prefix ? prefix : "", key);
	*v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	if (*v)
		return 1;
	if (flags & FF_JSON_REQUIRED)
		return ff_err_field(err, code_of(flags), field, "%s is required", field);
	return 0;
}

int ff_json_check_keys(const cJSON *obj, const char *prefix, const char *const *allowed,
		       size_t nallowed, size_t nrequired, unsigned flags, struct ff_err *err)
{
	uint64_t seen = 0;
	char field[PATH_MAX_BYTES];
	int code = code_of(flags);
	if (!prefix)
		prefix = "";
	if (nallowed > 64 || nrequired > nallowed)
		return ff_err_set(err, FF_EINTERNAL, "bad key list");
	for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next) {
		const char *key = c->string ? c->string : "";
		size_t i = 0;
		while (i < nallowed && strcmp(key, allowed[i]) != 0)
			i++;
		snprintf(field, sizeof(field), "%s%.64s", prefix, key);
		if (i == nallowed)
			return ff_err_field(err, code, field, "unknown field '%s'", field);
		if (seen & ((uint64_t)1 << i))
			return ff_err_field(err, code, field, "field '%s' given twice", field);
		seen |= (uint64_t)1 << i;
	}
	for (size_t i = 0; i < nrequired; i++)
		if (!(seen & ((uint64_t)1 << i))) {
			snprintf(field, sizeof(field), "%s%s", prefix, allowed[i]);
			return ff_err_field(err, code, field, "field '%s' is missing", field);
		}
	return 0;
}

/* The number v as a double, NAN when it is not a finite number (or not integral when
 * integer is set). */
static double finite_number(const cJSON *v, bool integer)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!isfinite(d) || (integer && d != floor(d)))
		return NAN;
	return d;
}

int ff_json_get_number(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
		       double lo, double hi, double *out, struct ff_err *err)
{
	char field[PATH_MAX_BYTES];
	const cJSON *v;
	int rc = member(obj, prefix, key, flags, field, sizeof(field), &v, err);
	if (rc <= 0)
		return rc;
	bool integer = flags & FF_JSON_INTEGER;
	double d = finite_number(v, integer);
	if (isnan(d))
		return ff_err_field(err, code_of(flags), field, "%s must be %s", field,
				    integer ? "an integer" : "a number");
	if (d < lo || d > hi)
		return ff_err_field(err, code_of(flags), field, "%s must be from %g to %g", field,
				    lo, hi);
	*out = d;
	return 0;
}

int ff_json_get_long(const cJSON *obj, const char *prefix, const char *key, unsigned flags, long lo,
		     long hi, long *out, struct ff_err *err)
{
	char field[PATH_MAX_BYTES];
	const cJSON *v;
	int rc = member(obj, prefix, key, flags, field, sizeof(field), &v, err);
	if (rc <= 0)
		return rc;
	double d = finite_number(v, true);
	if (isnan(d))
		return ff_err_field(err, code_of(flags), field, "%s must be an integer", field);
	if (d < (double)lo || d > (double)hi)
		return ff_err_field(err, code_of(flags), field, "%s must be from %ld to %ld", field,
				    lo, hi);
	*out = (long)d;
	return 0;
}

int ff_json_get_bool(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
		     bool *out, struct ff_err *err)
{
	char field[PATH_MAX_BYTES];
	const cJSON *v;
	int rc = member(obj, prefix, key, flags, field, sizeof(field), &v, err);
	if (rc <= 0)
		return rc;
	if (!cJSON_IsBool(v))
		return ff_err_field(err, code_of(flags), field, "%s must be true or false", field);
	*out = cJSON_IsTrue(v);
	return 0;
}

bool ff_json_string_ok(const cJSON *v, size_t max)
{
	if (!cJSON_IsString(v) || !v->valuestring)
		return false;
	size_t len = strlen(v->valuestring);
	return len <= max && ff_utf8_valid(v->valuestring, len);
}

int ff_json_get_string(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
		       size_t max, bool (*valid)(const char *), const char *form, char **out,
		       struct ff_err *err)
{
	char field[PATH_MAX_BYTES];
	const cJSON *v;
	int code = code_of(flags);
	int rc = member(obj, prefix, key, flags, field, sizeof(field), &v, err);
	if (rc <= 0)
		return rc;
	if (!cJSON_IsString(v) || !v->valuestring)
		return ff_err_field(err, code, field, "%s must be a string", field);
	size_t len = strlen(v->valuestring);
	if (len > max)
		return ff_err_field(err, code, field, "%s is longer than %zu bytes", field, max);
	if (!ff_utf8_valid(v->valuestring, len))
		return ff_err_field(err, code, field, "%s is not valid utf-8", field);
	if (valid && !valid(v->valuestring)) {
		if (form)
			return ff_err_field(err, code, field, "%s must be %s", field, form);
		return ff_err_field(err, code, field, "%s is malformed", field);
	}
	char *copy = strdup(v->valuestring);
	if (!copy)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	free(*out);
	*out = copy;
	return 0;
}

void ff_json_strings_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int ff_json_get_strings(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
			size_t max_items, size_t max_len, char ***out, size_t *n,
			struct ff_err *err)
{
	char field[PATH_MAX_BYTES];
	const cJSON *v;
	int code = code_of(flags);
	int rc = member(obj, prefix, key, flags, field, sizeof(field), &v, err);
	if (rc <= 0)
		return rc;
	if (!cJSON_IsArray(v))
		return ff_err_field(err, code, field, "%s must be an array of strings", field);
	size_t count = 0;
	for (const cJSON *c = v->child; c; c = c->next) {
		if (++count > max_items)
			return ff_err_field(err, code, field, "%s has more than %zu entries", field,
					    max_items);
		if (!ff_json_string_ok(c, max_len))
			return ff_err_field(err, code, field,
					    "%s entries must be utf-8 strings of at most %zu bytes",
					    field, max_len);
	}
	char **strs = count ? calloc(count, sizeof(*strs)) : NULL;
	if (count && !strs)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	size_t i = 0;
	for (const cJSON *c = v->child; c; c = c->next, i++)
		if (!(strs[i] = strdup(c->valuestring))) {
			ff_json_strings_free(strs, i);
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		}
	*out = strs;
	*n = count;
	return 0;
}

int ff_json_add_copy(cJSON *to, const char *key, const cJSON *v)
{
	cJSON *d = cJSON_Duplicate(v, 1);
	if (!d || !cJSON_AddItemToObject(to, key, d)) {
		cJSON_Delete(d);
		return FF_ENOMEM;
	}
	return 0;
}

int ff_json_append_string(struct ff_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t from = 0; /* s[from..i) is appended as it is when an escape or the end comes */
	int rc = ff_buf_append(b, "\"", 1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		char esc[6] = {'\\', (char)c};
		size_t len = 2;
		if (c == '\n' || c == '\t' || c == '\r') {
			esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			len = 6;
		}
		rc = ff_buf_append(b, s + from, i - from);
		rc = rc ? rc : ff_buf_append(b, esc, len);
		from = i + 1;
	}
	rc = rc ? rc : ff_buf_append(b, s + from, n - from);
	return rc ? rc : ff_buf_append(b, "\"", 1);
}
