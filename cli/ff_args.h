/* ff_args — the ff command line: options each command accepts, -p/--label k=v pairs and the
 * typing of parameter values. Pure functions (no I/O, no network) so the tests can drive them.
 */
#ifndef FF_ARGS_H
#define FF_ARGS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "ff_err.h"

/* Options a command may accept; a command's spec is an OR of these. */
enum ff_opt {
	FF_OPT_PARAM = 1 << 0,	  /* -p, --param k=v (repeatable) */
	FF_OPT_PRIORITY = 1 << 1, /* --priority N, 0-9 */
	FF_OPT_LABEL = 1 << 2,	  /* --label k=v (repeatable) */
	FF_OPT_TIMEOUT = 1 << 3,  /* --timeout S, seconds */
	FF_OPT_JSON = 1 << 4,	  /* --json */
	FF_OPT_STATE = 1 << 5,	  /* --state S */
	FF_OPT_WORKFLOW = 1 << 6, /* --workflow W */
	FF_OPT_LIMIT = 1 << 7,	  /* --limit N, 1-500 */
	FF_OPT_LEVEL = 1 << 8,	  /* --level L */
	FF_OPT_OUTPUT = 1 << 9,	  /* -o, --output FILE */
	FF_OPT_FAIL_ON = 1 << 10, /* --fail-on L */
	FF_OPT_CURSOR = 1 << 11,  /* --cursor C */
	FF_OPT_KEY = 1 << 12,	  /* --key ID (an API key's id) */
	FF_OPT_SINCE = 1 << 13,	  /* --since TIMESTAMP */
	FF_OPT_STATUS = 1 << 14,  /* --status N, an HTTP status 100-599 */
	/* scan's report files; no two may name the same file */
	FF_OPT_SARIF = 1 << 15,	      /* --sarif FILE */
	FF_OPT_JSON_OUT = 1 << 16,    /* --json-out FILE */
	FF_OPT_JUNIT = 1 << 17,	      /* --junit FILE */
	FF_OPT_CSV = 1 << 18,	      /* --csv FILE */
	FF_OPT_BASELINE = 1 << 19,    /* --baseline RUN: compare with that run's findings */
	FF_OPT_FAIL_ON_NEW = 1 << 20, /* --fail-on-new: --fail-on counts new findings only */
	FF_OPT_FOLLOW = 1 << 21,      /* -f, --follow: live until the run ends */
};

#define FF_OPT_REPORTS (FF_OPT_SARIF | FF_OPT_JSON_OUT | FF_OPT_JUNIT | FF_OPT_CSV)

#define FF_ARGS_MAX_POS 4

/* Finding levels, most severe first; FF_LEVEL_INVALID for anything else. */
enum ff_level {
	FF_LEVEL_INVALID = -1,
	FF_LEVEL_NONE = 0,
	FF_LEVEL_NOTE = 1,
	FF_LEVEL_WARNING = 2,
	FF_LEVEL_ERROR = 3,
};

/* What one command line said. Strings point into argv (not owned); params and labels are
 * owned (NULL when no -p / --label was given) and freed by ff_args_release. */
struct ff_args {
	const char *pos[FF_ARGS_MAX_POS];
	int npos;
	cJSON *params;	  /* object: -p values typed by ff_param_value */
	cJSON *labels;	  /* object: string values */
	int priority;	  /* -1 when not given */
	double timeout_s; /* 0 when not given: wait forever */
	long limit;	  /* 0 when not given */
	bool json;
	bool help; /* -h / --help */
	const char *state, *workflow, *level, *output, *cursor, *key, *since;
	const char *sarif, *json_out, *junit, *csv; /* report files; NULL when not asked for */
	const char *baseline;			    /* a run id; NULL when not given */
	bool fail_on_new;
	bool follow;
	long status;	       /* 0 when not given */
	enum ff_level fail_on; /* FF_LEVEL_INVALID when not given */
};

/* Parses argv[0..argc) (the words after the command name) against the options in allowed
 * (enum ff_opt) and between min_pos and max_pos positional words. Options may come before,
 * between or after positional words; "--" ends options; "--opt=value" and "--opt value" are
 * both accepted. On failure returns FF_EINVAL with err naming the offending word; a is then
 * released already. Call ff_args_release(a) after success. */
int ff_args_parse(int argc, char **argv, unsigned allowed, int min_pos, int max_pos,
		  struct ff_args *a, struct ff_err *err);
void ff_args_release(struct ff_args *a);
/* The options in allowed as words for shell completion, "--param -p --priority …", into
 * buf (n bytes). */
const char *ff_args_option_words(unsigned allowed, char *buf, size_t n);

/* Splits "key=value" at the first '='. The key must be non-empty and at most 128 bytes of
 * [A-Za-z0-9_.-]. On success *key is malloc'd (caller frees) and *value points into arg. */
int ff_kv_split(const char *arg, char **key, const char **value, struct ff_err *err);

/* The JSON value for a -p value: a number when value is a JSON number (strict JSON grammar:
 * "1", "-2.5", "1e3", not "007", "0x10", "inf" or " 1"), true/false for exactly "true" and
 * "false", else the string itself. Returns a new item (caller cJSON_Deletes) or NULL on OOM. */
cJSON *ff_param_value(const char *value);

/* True when s is a number in the strict JSON grammar. */
bool ff_json_number_valid(const char *s);

/* "error" → FF_LEVEL_ERROR, …; FF_LEVEL_INVALID for NULL or anything else. */
enum ff_level ff_level_parse(const char *s);

#endif
