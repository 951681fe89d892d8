/* ff_sarif — normalising a SARIF 2.1.0 log into findings; see ff_sarif.h.
 *
 * The log comes from a workflow container, so it is untrusted: structure that SARIF requires
 * (a version, a runs array, result objects) is checked, while a malformed optional field just
 * counts as absent. Every string kept is valid UTF-8 (the findings go to PostgreSQL as JSON)
 * and bounded, since one rule description repeated over 100000 results would otherwise
 * multiply the log's size.
 */
#include "ff_sarif.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ff_buf.h"
#include "ff_json.h"
#include "ff_util.h"

#define DEFAULT_MAX_FINDINGS 100000
#define MAX_RULE_ID	     1024
#define MAX_MESSAGE	     16384
#define MAX_PATH	     4096
#define MAX_FINGERPRINT	     1024
#define OUTSIDE_NOTE	     "(path outside the target, not kept: "

static const char *const level_names[4] = {"error", "warning", "note", "none"};

int ff_sarif_level_index(const char *level)
{
	for (int i = 0; level && i < 4; i++)
		if (strcmp(level, level_names[i]) == 0)
			return i;
	return -1;
}

/* --- bounded UTF-8 strings ------------------------------------------------------------------- */

static char *clean_copy(const char *s, size_t max)
{
	struct ff_buf b;
	ff_buf_init(&b, max);
	ff_buf_append_utf8(&b, s, strlen(s));
	return ff_buf_take(&b, NULL);
}

/* --- reading the log ------------------------------------------------------------------------- */

static const char *str_at(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static const cJSON *obj_at(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsObject(v) ? v : NULL;
}

static const cJSON *arr_at(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsArray(v) ? v : NULL;
}

/* A non-negative integer below limit, or -1. */
static long index_at(const cJSON *o, const char *key, long limit)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < (double)limit))
		return -1;
	long i = (long)v->valuedouble;
	return (double)i == v->valuedouble ? i : -1;
}

/* A line number (1 or more), or 0 for none; at most INT_MAX, which the findings table's int
 * columns hold: a startLine of 3000000000 is a line far down, not a reason to lose the run. */
static long line_at(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1))
		return 0;
	return v->valuedouble < (double)INT_MAX ? (long)v->valuedouble : INT_MAX;
}

static int level_of(const char *s)
{
	for (int i = 0; s && i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

struct rule_ref {
	const char *id;
	const cJSON *rule;
};

/* A tool component's rules, indexable (cJSON arrays are linked lists), built when first used. */
struct comp {
	const cJSON *rules;
	const cJSON **vec;
	int n;
	bool built;
};

struct run {
	const cJSON *json;
	struct comp driver; /* tool.driver */
	struct comp *exts;  /* tool.extensions */
	int nexts;
	const cJSON **art_vec; /* artifacts */
	int narts;
	struct rule_ref *by_id; /* the driver's rules, sorted, built on first lookup by id */
	size_t nby_id;
	bool indexed;
	bool oom;
};

static const cJSON **vec_of(const cJSON *arr, int *n, bool *oom)
{
	const cJSON *x;
	int i = 0;
	*n = arr ? cJSON_GetArraySize(arr) : 0;
	const cJSON **v = *n ? calloc((size_t)*n, sizeof(*v)) : NULL;
	if (!v) {
		if (*n)
			*oom = true;
		*n = 0;
		return NULL;
	}
	cJSON_ArrayForEach(x, arr)
	{
		v[i++] = x;
	}
	return v;
}

static void comp_build(struct comp *c, bool *oom)
{
	if (!c->built) {
		c->built = true;
		c->vec = vec_of(c->rules, &c->n, oom);
	}
}

static void run_release(struct run *r)
{
	free(r->driver.vec);
	for (int i = 0; i < r->nexts; i++)
		free(r->exts[i].vec);
	free(r->exts);
	free(r->art_vec);
	free(r->by_id);
	memset(r, 0, sizeof(*r));
}

/* 0, or FF_ENOMEM. */
static int run_init(struct run *r, const cJSON *run)
{
	const cJSON *tool = obj_at(run, "tool");
	const cJSON *ext = arr_at(tool, "extensions");
	bool oom = false;

	run_release(r);
	r->json = run;
	r->driver.rules = arr_at(obj_at(tool, "driver"), "rules");
	comp_build(&r->driver, &oom);
	r->art_vec = vec_of(arr_at(run, "artifacts"), &r->narts, &oom);
	r->nexts = ext ? cJSON_GetArraySize(ext) : 0;
	if (r->nexts) {
		const cJSON *x;
		int i = 0;
		r->exts = calloc((size_t)r->nexts, sizeof(*r->exts));
		if (!r->exts) {
			r->nexts = 0;
			return FF_ENOMEM;
		}
		cJSON_ArrayForEach(x, ext)
		{
			r->exts[i++].rules = arr_at(x, "rules");
		}
	}
	return oom ? FF_ENOMEM : 0;
}

static int ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rule_ref *)a)->id, ((const struct rule_ref *)b)->id);
}

static const cJSON *rule_by_id(struct run *r, const char *id)
{
	if (!r->indexed) {
		r->indexed = true;
		r->by_id = r->driver.n ? calloc((size_t)r->driver.n, sizeof(*r->by_id)) : NULL;
		if (r->driver.n && !r->by_id)
			r->oom = true;
		for (int i = 0; r->by_id && i < r->driver.n; i++) {
			const char *rid = str_at(r->driver.vec[i], "id");
			if (rid)
				r->by_id[r->nby_id++] = (struct rule_ref){rid, r->driver.vec[i]};
		}
		if (r->nby_id)
			qsort(r->by_id, r->nby_id, sizeof(*r->by_id), ref_cmp);
	}
	if (!r->nby_id)
		return NULL;
	struct rule_ref key = {id, NULL};
	const struct rule_ref *hit = bsearch(&key, r->by_id, r->nby_id, sizeof(key), ref_cmp);
	return hit ? hit->rule : NULL;
}

/* The rule a result refers to: by ruleIndex (or rule.index) in the driver's rules, or in an
 * extension's when rule.toolComponent.index says so, else by id in the driver's rules. */
static const cJSON *rule_of(struct run *r, const cJSON *res, const char *rule_id)
{
	const cJSON *ref = obj_at(res, "rule");
	const cJSON *tc = ref ? obj_at(ref, "toolComponent") : NULL;
	struct comp *c = &r->driver;
	if (tc) {
		long ci = index_at(tc, "index", r->nexts);
		if (ci >= 0) {
			c = &r->exts[ci];
			comp_build(c, &r->oom);
		}
	}
	long i = index_at(res, "ruleIndex", c->n);
	if (i < 0 && ref)
		i = index_at(ref, "index", c->n);
	if (i >= 0)
		return c->vec[i];
	return rule_id && c == &r->driver ? rule_by_id(r, rule_id) : NULL;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void percent_decode(struct ff_buf *b, const char *s)
{
	while (*s) {
		int hi = s[0] == '%' ? hex_val(s[1]) : -1;
		int lo = hi >= 0 ? hex_val(s[2]) : -1;
		/* "%00" stays as written: a NUL would cut the path short */
		if (lo >= 0 && (hi || lo)) {
			char c = (char)(hi << 4 | lo);
			ff_buf_append(b, &c, 1);
			s += 3;
		} else {
			ff_buf_append(b, s, 1);
			s++;
		}
	}
}

/* Normalises a relative path in place: empty and "." segments go, and ".." takes back the
 * segment before it ("./a//b/../c" is "a/c"). False when a ".." would climb above the
 * start: the path leaves the directory it is relative to. */
static bool path_confine(char *s)
{
	char *w = s; /* the end of what is kept; never past r */
	const char *r = s;
	while (*r) {
		size_t n = strcspn(r, "/");
		if (n == 2 && r[0] == '.' && r[1] == '.') {
			if (w == s)
				return false;
			while (w > s && w[-1] != '/')
				w--;
			if (w > s)
				w--;
		} else if (n > 0 && !(n == 1 && r[0] == '.')) {
			if (w > s)
				*w++ = '/';
			memmove(w, r, n);
			w += n;
		}
		r += n;
		if (*r == '/')
			r++;
	}
	*w = '\0';
	return true;
}

/* The path of a uri as the platform shows it: decoded, relative to the target, normalised
 * (path_confine). NULL for none, when the path is outside the target (*outside: absolute
 * but not under /target, or climbing out with ".."), and on running out of memory (*oom).
 * An outside path is never stored as a path: a consumer opening it relative to a checkout
 * would read /etc/shadow or ../../other-repo. */
static char *path_of(const char *uri, bool *outside, bool *oom)
{
	struct ff_buf dec;
	const char *p = uri;
	char *out = NULL;

	ff_buf_init(&dec, 4 * MAX_PATH);
	if (strncasecmp(p, "file:", 5) == 0) {
		p += 5;
		if (p[0] == '/' &&
		    p[1] == '/') { /* an authority ("", "localhost") up to the path */
			p += 2;
			p += strcspn(p, "/");
		}
	}
	percent_decode(&dec, p);
	if (dec.err == FF_ENOMEM) {
		*oom = true;
		goto out;
	}
	char empty[1] = "";
	char *d = dec.data ? dec.data : empty;
	if (strncmp(d, "/target/", 8) == 0)
		d += 8;
	else if (strcmp(d, "/target") == 0)
		d += 7;
	else if (d[0] == '/') {
		*outside = true;
		goto out;
	}
	/* decoded first, so that "%2e%2e%2f" is a ".." too; on raw bytes, since '/' and '.'
	 * never occur inside a multi-byte UTF-8 sequence */
	if (!path_confine(d)) {
		*outside = true;
		goto out;
	}
	if (!*d)
		goto out;
	/* Made valid UTF-8 whole or not at all: cut at MAX_PATH, "a/..b" could end in a ".." (or
	 * ".") segment that path_confine never saw. No real path is that long (PATH_MAX). */
	struct ff_buf clean;
	ff_buf_init(&clean, MAX_PATH);
	ff_buf_append_utf8(&clean, d, strlen(d));
	if (clean.err == FF_ETOOBIG)
		ff_buf_release(&clean);
	else if (!(out = ff_buf_take(&clean, NULL)))
		*oom = true;
out:
	ff_buf_release(&dec);
	return out;
}

/* message.text, with {n} placeholders filled from message.arguments when there are any. */
static char *message_of(const cJSON *res, const cJSON *rule)
{
	const cJSON *msg = obj_at(res, "message");
	const char *text = str_at(msg, "text");
	const cJSON *args = arr_at(msg, "arguments");
	struct ff_buf b;
	const cJSON **av;
	bool oom = false;
	int nargs;

	ff_buf_init(&b, MAX_MESSAGE);
	if (!text)
		text = str_at(obj_at(rule, "shortDescription"), "text");
	if (!text)
		return strdup("");
	if (!args)
		return clean_copy(text, MAX_MESSAGE);
	av = vec_of(args, &nargs, &oom);
	for (const char *p = text; *p && !b.err && !oom;) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			ff_buf_append(&b, p, 1);
			p += 2;
			continue;
		}
		if (p[0] == '{' && p[1] >= '0' && p[1] <= '9') {
			size_t n = 0, d = 1;
			while (d < 6 && p[d] >= '0' && p[d] <= '9')
				n = n * 10 + (size_t)(p[d++] - '0');
			const cJSON *a = p[d] == '}' && n < (size_t)nargs ? av[n] : NULL;
			if (cJSON_IsString(a) && a->valuestring) {
				ff_buf_append_utf8(&b, a->valuestring, strlen(a->valuestring));
				p += d + 1;
				continue;
			}
		}
		size_t run = 1 + strcspn(p + 1, "{}");
		ff_buf_append_utf8(&b, p, run);
		p += run;
	}
	free(av);
	if (oom) {
		ff_buf_release(&b);
		return NULL;
	}
	return ff_buf_take(&b, NULL);
}

/* The first string value of partialFingerprints, else of fingerprints. */
static const char *tool_fingerprint(const cJSON *res)
{
	static const char *const keys[] = {"partialFingerprints", "fingerprints"};
	for (int k = 0; k < 2; k++) {
		const cJSON *x;
		cJSON_ArrayForEach(x, obj_at(res, keys[k]))
		{
			if (cJSON_IsString(x) && x->valuestring && *x->valuestring)
				return x->valuestring;
		}
	}
	return NULL;
}

static char *computed_fingerprint(const struct ff_finding *f)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char line[24];
	char *out = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *path = f->path ? f->path : "";

	snprintf(line, sizeof(line), "%ld", f->start_line);
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, f->rule_id, strlen(f->rule_id) + 1) ||
	    !EVP_DigestUpdate(ctx, path, strlen(path) + 1) ||
	    !EVP_DigestUpdate(ctx, line, strlen(line) + 1) ||
	    !EVP_DigestUpdate(ctx, f->message, strlen(f->message)) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen))
		goto out;
	out = malloc(2 * mdlen + 1);
	if (!out)
		goto out;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
out:
	EVP_MD_CTX_free(ctx);
	return out;
}

static void finding_release(struct ff_finding *f)
{
	free(f->rule_id);
	free(f->level);
	free(f->message);
	free(f->path);
	free(f->fingerprint);
	memset(f, 0, sizeof(*f));
}

static int level_for(const cJSON *res, const cJSON *rule)
{
	int lv = level_of(str_at(res, "level"));
	if (lv >= 0)
		return lv;
	/* SARIF 3.27.10: a result that is not a failure ("pass", "informational", …) has
	 * level "none" unless it says otherwise */
	const char *kind = str_at(res, "kind");
	if (kind && strcmp(kind, "fail") != 0)
		return 3;
	lv = level_of(str_at(obj_at(rule, "defaultConfiguration"), "level"));
	return lv >= 0 ? lv : 1;
}

/* The message of a finding whose path is outside the target: the path goes in front, so that
 * the finding stays visible and says where the tool pointed. */
static char *mark_outside(char *message, const char *uri)
{
	struct ff_buf b;
	ff_buf_init(&b, MAX_MESSAGE);
	ff_buf_append(&b, OUTSIDE_NOTE, strlen(OUTSIDE_NOTE));
	ff_buf_append_utf8(&b, uri, strnlen(uri, 256));
	ff_buf_append(&b, ") ", 2);
	ff_buf_append_utf8(&b, message, strlen(message));
	free(message);
	return b.err == FF_ENOMEM ? (ff_buf_release(&b), NULL) : ff_buf_take(&b, NULL);
}

/* Fills f from one result (*outside: its path was refused); 0 or FF_ENOMEM. */
static int finding_from(struct run *r, const cJSON *res, const char *rule_id, const cJSON *rule,
			int lv, struct ff_finding *f, bool *outside)
{
	bool oom = false;
	f->rule_id = clean_copy(rule_id && *rule_id ? rule_id : "unknown", MAX_RULE_ID);
	f->level = strdup(level_names[lv]);
	f->message = message_of(res, rule);

	const cJSON *loc = cJSON_GetArrayItem(arr_at(res, "locations"), 0);
	const cJSON *phys = obj_at(loc, "physicalLocation");
	const cJSON *al = obj_at(phys, "artifactLocation");
	const char *uri = str_at(al, "uri");
	if (!uri && al) {
		long ai = index_at(al, "index", r->narts);
		if (ai >= 0)
			uri = str_at(obj_at(r->art_vec[ai], "location"), "uri");
	}
	f->path = uri ? path_of(uri, outside, &oom) : NULL;
	if (*outside && f->message)
		f->message = mark_outside(f->message, uri);
	const cJSON *region = obj_at(phys, "region");
	f->start_line = line_at(region, "startLine");
	f->end_line = line_at(region, "endLine");
	if (f->end_line < f->start_line)
		f->end_line = f->start_line;
	if (!f->rule_id || !f->level || !f->message || oom)
		return FF_ENOMEM;

	const char *fp = tool_fingerprint(res);
	f->fingerprint = fp ? clean_copy(fp, MAX_FINGERPRINT) : computed_fingerprint(f);
	return f->fingerprint ? 0 : FF_ENOMEM;
}

/* Counts one result, and keeps it while under max. */
static int add_finding(struct ff_findings *out, size_t *cap, size_t max, struct run *r,
		       const cJSON *res, struct ff_err *err)
{
	const char *rule_id = str_at(res, "ruleId");
	if (!rule_id)
		rule_id = str_at(obj_at(res, "rule"), "id");
	const cJSON *rule = rule_of(r, res, rule_id);
	if (!rule_id)
		rule_id = str_at(rule, "id");
	int lv = level_for(res, rule);

	if (r->oom)
		return ff_err_set(err, FF_ENOMEM, "out of memory reading the sarif log");
	out->count_by_level[lv]++;
	if (out->n >= max)
		return 0;
	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		if (ncap > max)
			ncap = max;
		struct ff_finding *items = realloc(out->items, ncap * sizeof(*items));
		if (!items)
			return ff_err_set(err, FF_ENOMEM, "out of memory reading the sarif log");
		out->items = items;
		*cap = ncap;
	}
	struct ff_finding *f = &out->items[out->n];
	memset(f, 0, sizeof(*f));
	bool outside = false;
	if (finding_from(r, res, rule_id, rule, lv, f, &outside) < 0) {
		finding_release(f);
		return ff_err_set(err, FF_ENOMEM, "out of memory reading the sarif log");
	}
	out->paths_outside += outside;
	out->n++;
	return 0;
}

int ff_sarif_normalise(const char *buf, size_t len, size_t max_findings, struct ff_findings *out,
		       struct ff_err *err)
{
	struct ff_findings res = {0};
	struct run r = {0};
	size_t cap = 0;
	int rc = 0, ri = 0;
	cJSON *root = NULL;
	/* a log that is not one JSON object, or says a key twice, is not SARIF */
	static const struct ff_json_opts opts = {
	    .what = "the sarif log", .code = FF_EVALIDATE, .object = true};

	if (!max_findings)
		max_findings = DEFAULT_MAX_FINDINGS;
	if ((rc = ff_json_parse(buf, len, &opts, &root, err)) < 0)
		goto out;
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.1.0") != 0) {
		rc = ff_err_field(err, FF_EVALIDATE, "version",
				  "the sarif log is not version 2.1.0");
		goto out;
	}
	const cJSON *runs = arr_at(root, "runs");
	if (!runs) {
		rc = ff_err_field(err, FF_EVALIDATE, "runs", "the sarif log has no runs array");
		goto out;
	}
	const cJSON *run;
	cJSON_ArrayForEach(run, runs)
	{
		if (!cJSON_IsObject(run)) {
			rc = ff_err_field(err, FF_EVALIDATE, "runs", "runs[%d] is not an object",
					  ri);
			goto out;
		}
		if (run_init(&r, run) < 0) {
			rc = ff_err_set(err, FF_ENOMEM, "out of memory reading the sarif log");
			goto out;
		}
		const cJSON *results = cJSON_GetObjectItemCaseSensitive(run, "results");
		if (!results || cJSON_IsNull(results)) {
			ri++;
			continue;
		}
		if (!cJSON_IsArray(results)) {
			rc = ff_err_field(err, FF_EVALIDATE, "runs",
					  "runs[%d].results is not an array", ri);
			goto out;
		}
		int xi = 0;
		const cJSON *x;
		cJSON_ArrayForEach(x, results)
		{
			if (!cJSON_IsObject(x)) {
				rc = ff_err_field(err, FF_EVALIDATE, "runs",
						  "runs[%d].results[%d] is not an object", ri, xi);
				goto out;
			}
			if ((rc = add_finding(&res, &cap, max_findings, &r, x, err)) < 0)
				goto out;
			xi++;
		}
		ri++;
	}
	*out = res;
	memset(&res, 0, sizeof(res));
out:
	run_release(&r);
	ff_findings_release(&res);
	cJSON_Delete(root);
	return rc;
}

void ff_findings_release(struct ff_findings *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		finding_release(&f->items[i]);
	free(f->items);
	memset(f, 0, sizeof(*f));
}

/* --- the pre-scan ------------------------------------------------------------------------------
 */

int ff_sarif_prescan(const char *buf, size_t len, size_t max_values, size_t max_depth,
		     struct ff_err *err)
{
	size_t values = 0, depth = 0;
	if (!max_values)
		max_values = FF_SARIF_DEFAULT_MAX_VALUES;
	if (!max_depth)
		max_depth = FF_SARIF_DEFAULT_MAX_DEPTH;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == '"') {
			values++;
			for (i++; i < len && buf[i] != '"'; i++)
				if (buf[i] == '\\')
					i++;
		} else if (c == '{' || c == '[') {
			values++;
			if (++depth > max_depth)
				return ff_err_set(err, FF_ETOOBIG,
						  "results.sarif nests deeper than %zu levels, the "
						  "FF_SARIF_MAX_DEPTH limit",
						  max_depth);
		} else if (c == '}' || c == ']') {
			if (depth)
				depth--;
		} else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
			values++;
			while (i + 1 < len && buf[i + 1] != ',' && buf[i + 1] != ']' &&
			       buf[i + 1] != '}' && buf[i + 1] != ' ' && buf[i + 1] != '\n' &&
			       buf[i + 1] != '\t' && buf[i + 1] != '\r' && buf[i + 1] != '"')
				i++;
		} else {
			continue;
		}
		/* object keys count as values: each costs a cJSON node's worth too */
		if (values > max_values)
			return ff_err_set(err, FF_ETOOBIG,
					  "results.sarif holds more than %zu JSON values, the "
					  "FF_SARIF_MAX_VALUES limit",
					  max_values);
	}
	return 0;
}

bool ff_sarif_failure_text(const char *buf, size_t len, char *out, size_t size)
{
	cJSON *log = cJSON_ParseWithLength(buf, len);
	const cJSON *run, *inv, *n;
	bool found = false;

	cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(log, "runs"))
	{
		cJSON_ArrayForEach(inv, cJSON_GetObjectItemCaseSensitive(run, "invocations"))
		{
			if (!cJSON_IsFalse(
				cJSON_GetObjectItemCaseSensitive(inv, "executionSuccessful")))
				continue;
			cJSON_ArrayForEach(
			    n, cJSON_GetObjectItemCaseSensitive(inv, "toolExecutionNotifications"))
			{
				const char *level = cJSON_GetStringValue(
				    cJSON_GetObjectItemCaseSensitive(n, "level"));
				const char *text =
				    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(n, "message"), "text"));
				if (level && text && strcmp(level, "error") == 0) {
					snprintf(out, size, "%s", text);
					found = true;
					goto out;
				}
			}
		}
	}
out:
	cJSON_Delete(log);
	return found;
}

int ff_sarif_set_automation_id(const char *buf, size_t len, const char *id, char **out,
			       size_t *out_len, struct ff_err *err)
{
	cJSON *log = cJSON_ParseWithLength(buf, len);
	cJSON *run;
	int rc = 0;

	*out = NULL;
	if (!log)
		return ff_err_set(err, FF_EINVAL, "the log is not JSON");
	cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(log, "runs"))
	{
		cJSON *ad = cJSON_CreateObject();
		if (!ad || !cJSON_AddStringToObject(ad, "id", id)) {
			cJSON_Delete(ad);
			rc = ff_err_set(err, FF_ENOMEM, "out of memory");
			goto out;
		}
		if (cJSON_HasObjectItem(run, "automationDetails"))
			cJSON_ReplaceItemInObjectCaseSensitive(run, "automationDetails", ad);
		else
			cJSON_AddItemToObject(run, "automationDetails", ad);
	}
	*out = cJSON_PrintUnformatted(log);
	if (!*out)
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
	else
		*out_len = strlen(*out);
out:
	cJSON_Delete(log);
	return rc;
}
