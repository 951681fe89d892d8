/* ss_rules — the secret rules and the matcher that finds them in one file's bytes.
 *
 * One pass over the buffer: a byte table flags the characters a secret can start with
 * (AKIA…, ghp_…, -----BEGIN…, eyJ…) and the assignment operators (= and :) that the generic
 * credential rule looks behind for a keyword (password, token, api_key, …). Candidates are
 * then sorted, checked against the allow-list markers of their line, and turned into
 * findings whose preview and snippet never hold the whole secret.
 */
#ifndef SS_RULES_H
#define SS_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "ff_err.h"
#include "ss_sha256.h"

enum ss_rule_id {
	SS_RULE_PRIVATE_KEY,
	SS_RULE_AWS_ACCESS_KEY_ID,
	SS_RULE_AWS_SECRET_ACCESS_KEY,
	SS_RULE_GITHUB_TOKEN,
	SS_RULE_GITHUB_FINE_GRAINED_PAT,
	SS_RULE_GITLAB_PAT,
	SS_RULE_SLACK_TOKEN,
	SS_RULE_SLACK_WEBHOOK,
	SS_RULE_STRIPE_SECRET_KEY,
	SS_RULE_GOOGLE_API_KEY,
	SS_RULE_JWT,
	SS_RULE_AZURE_STORAGE_KEY,
	SS_RULE_CONNECTION_STRING_PASSWORD,
	SS_RULE_GENERIC_CREDENTIAL,
	SS_RULE_COUNT
};

struct ss_rule {
	const char *id;		 /* the stable SARIF ruleId, e.g. "aws-access-key-id" */
	const char *name;	 /* SARIF reportingDescriptor.name, PascalCase */
	const char *kind;	 /* what a message calls it: "AWS access key ID" */
	const char *level;	 /* SARIF level: "error" or "warning" */
	const char *description; /* one sentence for shortDescription */
	const char *help;	 /* what to do about it */
};

extern const struct ss_rule ss_rules[SS_RULE_COUNT];

#define SS_DEFAULT_MIN_ENTROPY 3.5
#define SS_GENERIC_MIN_LEN     8    /* shortest generic credential value */
#define SS_GENERIC_MAX_LEN     200  /* longer values are blobs, not credentials */
#define SS_SHORT_SLACK	       0.6  /* a short value's entropy may be this far below log2(len) */
#define SS_SHORT_CLASSES       2    /* … if it mixes this many of lower, upper, digit, symbol */
#define SS_SHORT_DROP	       1.0  /* … and is at most this far below min_entropy */
#define SS_DECODE_DEPTH	       2    /* decoded text is decoded again at most this many times */
#define SS_DECODE_MIN	       16   /* shorter literals are not decoded */
#define SS_DECODE_MAX	       4096 /* nor longer ones */
#define SS_PART_MAX	       256  /* longest literal joined to others or reversed/rot13ed */
#define SS_PARTS_MAX	       8    /* most literals joined into one */
#define SS_JOIN_MAX	       1024 /* longest joined text */
#define SS_VARS_MAX	       64   /* literals assigned to names remembered per file */
#define SS_PREVIEW_CHARS       4    /* characters of a secret a report may show */
#define SS_FINDINGS_MAX	       10000
#define SS_FILE_CANDIDATES_MAX 1024 /* per file; the rest are counted as dropped */
#define SS_SNIPPET_MAX	       240  /* bytes of a long line shown around a finding */

struct ss_finding {
	int rule;		 /* index into ss_rules */
	char *path;		 /* owned: relative to the scan root, '/'-separated */
	long line;		 /* 1-based */
	long start_col, end_col; /* 1-based Unicode code points; end_col is exclusive */
	char message[192];	 /* names the kind and shows the redacted secret */
	char preview[48];	 /* the secret redacted: first characters then "…" */
	char *snippet;		 /* owned: the line (or a window of it), every secret redacted */
	char fingerprint[SS_SHA256_HEX_LEN + 1]; /* sha256(rule id NUL path NUL secret) */
	const char *level; /* static: "note" for a placeholder, else the rule's level */
};

struct ss_findings {
	struct ss_finding *items;
	size_t n, cap;
	size_t max;	/* most findings kept; 0 means SS_FINDINGS_MAX */
	size_t dropped; /* findings past max or past a file's candidate cap */
};

struct ss_match_opts {
	double min_entropy; /* the generic rule's Shannon-entropy gate, bits per byte */
};

/* Scans buf[0..len) (one file's contents; path is its name relative to the root) and appends
 * its findings to out, in file order. Fails only with FF_ENOMEM. */
int ss_scan_buffer(const struct ss_match_opts *opts, const char *path, const char *buf, size_t len,
		   struct ss_findings *out, struct ff_err *err);
/* Frees every finding's memory and resets f (keeps f->max). NULL-safe. */
void ss_findings_release(struct ss_findings *f);

/* Shannon entropy of s[0..n) over bytes, in bits per byte; 0 for n == 0. */
double ss_entropy(const char *s, size_t n);
/* True for a reference to a secret kept elsewhere, not a value: ${VAR}, $VAR, {{ x }},
 * %(x)s, os.getenv(…), process.env.X. Such values are never reported. */
bool ss_is_reference(const char *s, size_t n);
/* Why s[0..n) looks like a stand-in for a secret ("a documentation example" for
 * AKIAIOSFODNN7EXAMPLE, "a placeholder word" for changeme, "filler characters" for xxxx…,
 * "a template placeholder" for <token>), or NULL. Such values are reported as notes. */
const char *ss_placeholder_reason(const char *s, size_t n);
/* Either of the two above. */
bool ss_is_placeholder(const char *s, size_t n);
/* True if the line carries an allow-list marker: ff:allow, gitleaks:allow or nosecret. */
bool ss_line_allowed(const char *line, size_t n);
/* Writes the redacted form of s[0..n) into out (NUL-terminated, truncated to outsz):
 * its first SS_PREVIEW_CHARS characters followed by "…". */
void ss_redact(const char *s, size_t n, char *out, size_t outsz);

#endif
