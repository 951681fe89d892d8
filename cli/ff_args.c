/* ff_args — option parsing for the ff commands; see ff_args.h.
 *
 * A small table-driven parser rather than getopt_long: every command accepts its own subset of
 * options, options may follow positional words whatever POSIXLY_CORRECT says, and the parser
 * is re-entrant so the tests can run it many times.
 */
#include "ff_args.h"
#include "ff_run_state.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 128

struct opt_def {
	const char *name; /* long name without "--" */
	unsigned flag;
	char shortname; /* 0 when none */
	bool has_arg;
};

static const struct opt_def opt_defs[] = {
    {"param", FF_OPT_PARAM, 'p', true},
    {"priority", FF_OPT_PRIORITY, 0, true},
    {"label", FF_OPT_LABEL, 0, true},
    {"timeout", FF_OPT_TIMEOUT, 0, true},
    {"json", FF_OPT_JSON, 0, false},
    {"state", FF_OPT_STATE, 0, true},
    {"workflow", FF_OPT_WORKFLOW, 0, true},
    {"limit", FF_OPT_LIMIT, 0, true},
    {"level", FF_OPT_LEVEL, 0, true},
    {"output", FF_OPT_OUTPUT, 'o', true},
    {"fail-on", FF_OPT_FAIL_ON, 0, true},
    {"cursor", FF_OPT_CURSOR, 0, true},
    {"key", FF_OPT_KEY, 0, true},
    {"since", FF_OPT_SINCE, 0, true},
    {"status", FF_OPT_STATUS, 0, true},
    {"sarif", FF_OPT_SARIF, 0, true},
    {"json-out", FF_OPT_JSON_OUT, 0, true},
    {"junit", FF_OPT_JUNIT, 0, true},
    {"csv", FF_OPT_CSV, 0, true},
    {"baseline", FF_OPT_BASELINE, 0, true},
    {"fail-on-new", FF_OPT_FAIL_ON_NEW, 0, false},
    {"follow", FF_OPT_FOLLOW, 'f', false},
};

enum ff_level ff_level_parse(const char *s)
{
	if (!s)
		return FF_LEVEL_INVALID;
	if (!strcmp(s, "error"))
		return FF_LEVEL_ERROR;
	if (!strcmp(s, "warning"))
		return FF_LEVEL_WARNING;
	if (!strcmp(s, "note"))
		return FF_LEVEL_NOTE;
	if (!strcmp(s, "none"))
		return FF_LEVEL_NONE;
	return FF_LEVEL_INVALID;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool ff_json_number_valid(const char *s)
{
	if (!s)
		return false;
	if (*s == '-')
		s++;
	if (*s == '0') {
		s++;
	} else if (is_digit(*s)) {
		while (is_digit(*s))
			s++;
	} else {
		return false;
	}
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return false;
		while (is_digit(*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!is_digit(*s))
			return false;
		while (is_digit(*s))
			s++;
	}
	return *s == '\0';
}

cJSON *ff_param_value(const char *value)
{
	if (!strcmp(value, "true"))
		return cJSON_CreateTrue();
	if (!strcmp(value, "false"))
		return cJSON_CreateFalse();
	if (ff_json_number_valid(value)) {
		errno = 0;
		double d = strtod(value, NULL);
		/* "1e999" is valid JSON but no finite double: keep the user's text. */
		if (errno != ERANGE && isfinite(d))
			return cJSON_CreateNumber(d);
	}
	return cJSON_CreateString(value);
}

static bool key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
	       c == '.' || c == '-';
}

int ff_kv_split(const char *arg, char **key, const char **value, struct ff_err *err)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		return ff_err_set(err, FF_EINVAL, "expected key=value, got '%s'", arg);
	size_t klen = (size_t)(eq - arg);
	if (klen == 0)
		return ff_err_set(err, FF_EINVAL, "empty key in '%s'", arg);
	if (klen > KEY_MAX)
		return ff_err_set(err, FF_EINVAL, "key longer than %d bytes in '%.40s...'", KEY_MAX,
				  arg);
	for (size_t i = 0; i < klen; i++)
		if (!key_char_ok(arg[i]))
			return ff_err_set(
			    err, FF_EINVAL,
			    "key '%.*s' may hold only letters, digits, '_', '.' and '-'", (int)klen,
			    arg);
	char *k = strndup(arg, klen);
	if (!k)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	*key = k;
	*value = eq + 1;
	return 0;
}

/* Adds key=value from arg to *obj (created on first use); a repeated key replaces the earlier
 * value, as later flags override earlier ones everywhere else. */
static int add_kv(cJSON **obj, const char *arg, bool typed, const char *opt, struct ff_err *err)
{
	char *key = NULL;
	const char *value = NULL;
	cJSON *item = NULL;
	struct ff_err kverr = {0};
	int rc = ff_kv_split(arg, &key, &value, &kverr);
	if (!rc && !value)
		rc = FF_EINTERNAL;
	if (rc)
		return ff_err_set(err, rc, "%s: %s", opt, kverr.msg);
	if (!*obj && !(*obj = cJSON_CreateObject())) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	item = typed ? ff_param_value(value) : cJSON_CreateString(value);
	if (!item) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(*obj, key);
	if (!cJSON_AddItemToObject(*obj, key, item)) {
		cJSON_Delete(item);
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
out:
	free(key);
	return rc;
}

/* Parses a whole-word integer in [min, max]. */
static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	if (!is_digit(*s) && *s != '-')
		return FF_EINVAL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return FF_EINVAL;
	*out = v;
	return 0;
}

static int apply_opt(struct ff_args *a, const struct opt_def *d, const char *val,
		     struct ff_err *err)
{
	long n;
	if (!val)
		val = ""; /* flags without a value; keeps every case below total */
	switch (d->flag) {
	case FF_OPT_PARAM: return add_kv(&a->params, val, true, "--param", err);
	case FF_OPT_LABEL: return add_kv(&a->labels, val, false, "--label", err);
	case FF_OPT_PRIORITY:
		if (parse_long(val, 0, 9, &n))
			return ff_err_set(err, FF_EINVAL,
					  "--priority wants an integer 0-9, got '%s'", val);
		a->priority = (int)n;
		return 0;
	case FF_OPT_TIMEOUT: {
		char *end;
		errno = 0;
		double t = strtod(val, &end);
		if (!is_digit(*val) || errno || *end || !isfinite(t) || t <= 0 || t > 1e7)
			return ff_err_set(err, FF_EINVAL,
					  "--timeout wants a positive number of seconds, got '%s'",
					  val);
		a->timeout_s = t;
		return 0;
	}
	case FF_OPT_LIMIT:
		if (parse_long(val, 1, 500, &n))
			return ff_err_set(err, FF_EINVAL,
					  "--limit wants an integer 1-500, got '%s'", val);
		a->limit = n;
		return 0;
	case FF_OPT_JSON: a->json = true; return 0;
	case FF_OPT_STATE:
		if (ff_run_state_parse(val) < 0) {
			char all[96];
			ff_run_states_array(FF_RUN_ALL, all, sizeof(all));
			return ff_err_set(err, FF_EINVAL, "--state wants one of %s; got '%s'", all,
					  val);
		}
		a->state = val;
		return 0;
	case FF_OPT_LEVEL:
	case FF_OPT_FAIL_ON: {
		enum ff_level l = ff_level_parse(val);
		if (l == FF_LEVEL_INVALID)
			return ff_err_set(err, FF_EINVAL,
					  "--%s wants one of error, warning, note, none; got '%s'",
					  d->name, val);
		if (d->flag == FF_OPT_LEVEL)
			a->level = val;
		else
			a->fail_on = l;
		return 0;
	}
	case FF_OPT_WORKFLOW:
		if (!*val)
			return ff_err_set(err, FF_EINVAL, "--workflow wants a name");
		a->workflow = val;
		return 0;
	case FF_OPT_OUTPUT:
		if (!*val)
			return ff_err_set(err, FF_EINVAL, "--output wants a file name");
		a->output = val;
		return 0;
	case FF_OPT_SARIF:
	case FF_OPT_JSON_OUT:
	case FF_OPT_JUNIT:
	case FF_OPT_CSV: {
		const char **slot = d->flag == FF_OPT_SARIF	 ? &a->sarif
				    : d->flag == FF_OPT_JSON_OUT ? &a->json_out
				    : d->flag == FF_OPT_JUNIT	 ? &a->junit
								 : &a->csv;
		/* "-" would be stdout, which holds the table (or --json) already */
		if (!*val || !strcmp(val, "-"))
			return ff_err_set(err, FF_EINVAL, "--%s wants a file name", d->name);
		*slot = val;
		return 0;
	}
	case FF_OPT_BASELINE:
		if (!*val)
			return ff_err_set(err, FF_EINVAL,
					  "--baseline wants a run id or a SARIF file");
		a->baseline = val;
		return 0;
	case FF_OPT_FAIL_ON_NEW: a->fail_on_new = true; return 0;
	case FF_OPT_FOLLOW: a->follow = true; return 0;
	case FF_OPT_CURSOR: a->cursor = val; return 0;
	case FF_OPT_KEY: a->key = val; return 0;
	case FF_OPT_SINCE: a->since = val; return 0;
	case FF_OPT_STATUS:
		if (parse_long(val, 100, 599, &n))
			return ff_err_set(err, FF_EINVAL,
					  "--status wants an HTTP status 100-599, got '%s'", val);
		a->status = n;
		return 0;
	}
	return ff_err_set(err, FF_EINTERNAL, "unhandled option --%s", d->name);
}

/* Two reports renamed onto one file would leave only the last: refuse it up front. */
static int reports_distinct(const struct ff_args *a, struct ff_err *err)
{
	const char *names[] = {"sarif", "json-out", "junit", "csv"};
	const char *files[] = {a->sarif, a->json_out, a->junit, a->csv};
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			if (files[i] && files[j] && !strcmp(files[i], files[j]))
				return ff_err_set(err, FF_EINVAL, "--%s and --%s both name '%s'",
						  names[i], names[j], files[i]);
	return 0;
}

static const struct opt_def *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++)
		if (strlen(opt_defs[i].name) == len && !strncmp(opt_defs[i].name, name, len))
			return &opt_defs[i];
	return NULL;
}

static const struct opt_def *find_short(char c)
{
	for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++)
		if (opt_defs[i].shortname && opt_defs[i].shortname == c)
			return &opt_defs[i];
	return NULL;
}

const char *ff_args_option_words(unsigned allowed, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++) {
		const struct opt_def *d = &opt_defs[i];
		if (!(allowed & d->flag))
			continue;
		int w = d->shortname
			    ? snprintf(buf + len, n - len, "%s--%s -%c", len ? " " : "", d->name,
				       d->shortname)
			    : snprintf(buf + len, n - len, "%s--%s", len ? " " : "", d->name);
		if (w < 0 || (size_t)w >= n - len)
			break; /* the buffer holds every option of any command; cut otherwise */
		len += (size_t)w;
	}
	return buf;
}

void ff_args_release(struct ff_args *a)
{
	if (!a)
		return;
	cJSON_Delete(a->params);
	cJSON_Delete(a->labels);
	a->params = NULL;
	a->labels = NULL;
}

int ff_args_parse(int argc, char **argv, unsigned allowed, int min_pos, int max_pos,
		  struct ff_args *a, struct ff_err *err)
{
	int rc = 0;
	bool opts_done = false;

	memset(a, 0, sizeof(*a));
	a->priority = -1;
	a->fail_on = FF_LEVEL_INVALID;
	if (max_pos > FF_ARGS_MAX_POS)
		max_pos = FF_ARGS_MAX_POS;

	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		const struct opt_def *d = NULL;
		const char *val = NULL;

		if (opts_done || w[0] != '-' || !strcmp(w, "-")) {
			if (a->npos >= max_pos) {
				rc = ff_err_set(err, FF_EINVAL, "unexpected argument '%s'", w);
				goto out;
			}
			a->pos[a->npos++] = w;
			continue;
		}
		if (!strcmp(w, "--")) {
			opts_done = true;
			continue;
		}
		if (!strcmp(w, "-h") || !strcmp(w, "--help")) {
			a->help = true;
			continue;
		}
		if (w[1] == '-') {
			const char *name = w + 2;
			const char *eq = strchr(name, '=');
			d = find_long(name, eq ? (size_t)(eq - name) : strlen(name));
			if (eq)
				val = eq + 1;
		} else {
			d = find_short(w[1]);
			if (d && w[2])
				val = w + 2; /* -pkey=value */
		}
		if (!d || !(allowed & d->flag)) {
			rc = ff_err_set(err, FF_EINVAL, "unknown option '%s'", w);
			goto out;
		}
		if (!d->has_arg && val) {
			rc = ff_err_set(err, FF_EINVAL, "option --%s takes no value", d->name);
			goto out;
		}
		if (d->has_arg && !val) {
			if (i + 1 >= argc || !argv[i + 1]) {
				rc = ff_err_set(err, FF_EINVAL, "option '%s' needs a value", w);
				goto out;
			}
			val = argv[++i];
		}
		rc = apply_opt(a, d, val, err);
		if (rc)
			goto out;
	}
	if ((rc = reports_distinct(a, err)))
		goto out;
	if (a->fail_on_new && !a->baseline) {
		rc = ff_err_set(err, FF_EINVAL, "--fail-on-new needs --baseline RUN|FILE");
		goto out;
	}
	if (!a->help && a->npos < min_pos) {
		rc = ff_err_set(err, FF_EINVAL, "missing argument%s",
				min_pos - a->npos > 1 ? "s" : "");
		goto out;
	}
out:
	if (rc)
		ff_args_release(a);
	return rc;
}
