/* ff_json — the one strict JSON layer: parsing untrusted text into cJSON, and typed getters
 * that name the offending field.
 *
 * Everything JSON that crosses a trust boundary comes through ff_json_parse(): job messages
 * off the broker, workflow manifests, SARIF logs from workflow containers, HTTP request bodies
 * and the CLI's answers. cJSON alone is lax in ways that matter here: it stops after the first
 * value (so "{}garbage" parses), keeps both members of {"a":1,"a":2} (so two readers of one
 * document can disagree on what it says), and reads a C string (so a NUL inside the buffer
 * ends it early). ff_json_parse() refuses all three.
 *
 * Errors go through struct ff_err. err->field is a path into the document: object members are
 * joined with '.', array elements are "[i]" ("resources.cpus", "runs[0].results[3].ruleId"),
 * cut to fit the field (63 bytes). Messages are lowercase without a trailing period.
 */
#ifndef FF_JSON_H
#define FF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "ff_buf.h"
#include "ff_err.h"

/* How ff_json_parse() reads one document. A zeroed struct is valid: any value, no cap,
 * FF_EINVAL for every refusal, and messages that call it "the json". */
struct ff_json_opts {
	const char *what; /* names the document in messages: "job message", "manifest" */
	size_t max_bytes; /* longer input is FF_ETOOBIG; 0: no cap */
	int code;	  /* the FF_E* for text that is not one JSON value; 0: FF_EINVAL */
	int dup_code;	  /* the FF_E* for a key given twice; 0: the same as code */
	int utf8_code;	  /* the FF_E* for a string or key that is not utf-8; 0: not checked
			     here (a getter checks what it reads; SARIF repairs it) */
	bool object;	  /* the value must be an object (else code, field "") */
};

/* Parses exactly len bytes of buf (which needs no NUL terminator and is never read past len)
 * as one JSON value, with nothing but JSON whitespace (space, tab, CR, LF) after it. Refused,
 * with opts->code unless said otherwise:
 *   - len > opts->max_bytes (when set): FF_ETOOBIG;
 *   - a NUL byte anywhere in buf, or buf NULL;
 *   - invalid JSON, empty input included (the message gives the byte offset);
 *   - bytes after the value;
 *   - an object, at any depth, with a key given twice: opts->dup_code, err->field the path
 *     of the second occurrence ("parameters.depth"). Found by sorting each object's keys, so
 *     an object of n keys costs O(n log n);
 *   - with opts->utf8_code, a string or a key, at any depth, that is not well-formed UTF-8
 *     (RFC 8259 wants it; PostgreSQL's text refuses it): that code, err->field its path
 *     (invalid bytes in a key shown as '?');
 *   - with opts->object, a value that is not an object;
 *   - FF_ENOMEM.
 * On success *out is the tree; the caller frees it with cJSON_Delete(). On failure *out is
 * untouched. opts may be NULL (all defaults). */
int ff_json_parse(const char *buf, size_t len, const struct ff_json_opts *opts, cJSON **out,
		  struct ff_err *err);

/* ---- typed getters ----
 *
 * Each reads member key of object obj (obj may be NULL: every member is then absent) and names
 * it prefix + key in err->field and in its message ("resources." + "cpus"). flags:
 *   FF_JSON_REQUIRED   absent is an error ("<field> is required"); without it, absent
 *                      leaves *out as it is and returns 0, so *out can hold a default;
 *   FF_JSON_VALIDATE   a bad value is FF_EVALIDATE (422, a well-formed document that says
 *                      something wrong: a manifest); without it FF_EINVAL (400: a job
 *                      message, a malformed request).
 * *out is written only on success. */
enum {
	FF_JSON_REQUIRED = 1 << 0,
	FF_JSON_VALIDATE = 1 << 1,
	FF_JSON_INTEGER = 1 << 2, /* ff_json_get_number: the number must be integral */
};

/* Refuses a member of obj whose key is not in allowed[0..nallowed) ("unknown field
 * '<field>'"), or that is given twice, and requires the first nrequired of allowed[]
 * ("field '<field>' is missing"). nallowed is at most 64. The code follows flags
 * (FF_JSON_VALIDATE); FF_JSON_REQUIRED is ignored. */
int ff_json_check_keys(const cJSON *obj, const char *prefix, const char *const *allowed,
		       size_t nallowed, size_t nrequired, unsigned flags, struct ff_err *err);

/* A finite number in [lo, hi] (integral too with FF_JSON_INTEGER). */
int ff_json_get_number(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
		       double lo, double hi, double *out, struct ff_err *err);
/* An integer in [lo, hi], checked as a double before any conversion (a cast of 1e300 to long
 * is undefined). */
int ff_json_get_long(const cJSON *obj, const char *prefix, const char *key, unsigned flags, long lo,
		     long hi, long *out, struct ff_err *err);
/* true or false, nothing else (no 0/1, no "true"). */
int ff_json_get_bool(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
		     bool *out, struct ff_err *err);
/* A string of at most max bytes of valid UTF-8 without NUL that passes valid (when not NULL);
 * form says what valid wants, for the message ("<field> must be <form>"; NULL: "<field> is
 * malformed"). On success *out is a copy the caller frees, and the string *out held before
 * is freed (so *out may start as a default). */
int ff_json_get_string(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
		       size_t max, bool (*valid)(const char *), const char *form, char **out,
		       struct ff_err *err);
/* An array of at most max_items strings, each at most max_len bytes of valid UTF-8; the field
 * of any refusal is the array's. On success *out is a new array of *n copies (NULL when
 * empty) the caller frees with ff_json_strings_free(); *out and *n are untouched when absent
 * and not required. */
int ff_json_get_strings(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
			size_t max_items, size_t max_len, char ***out, size_t *n,
			struct ff_err *err);
/* Frees n strings of v and v; NULL-safe. */
void ff_json_strings_free(char **v, size_t n);

/* Adds a deep copy of v to object to as key: 0, or FF_ENOMEM (to is unchanged). */
int ff_json_add_copy(cJSON *to, const char *key, const cJSON *v);

/* Appends the n bytes at s (UTF-8) as a JSON string, quotes included: ", \\ and control
 * characters escaped, everything else as it is. 0, or the buffer's error. */
int ff_json_append_string(struct ff_buf *b, const char *s, size_t n);

/* True if v is a string of at most max bytes of valid UTF-8 without NUL. */
bool ff_json_string_ok(const cJSON *v, size_t max);

#endif
