/* ff_sarif — normalising a SARIF 2.1.0 log into the platform's findings. */
#ifndef FF_SARIF_H
#define FF_SARIF_H

#include <stdbool.h>
#include <stddef.h>

#include "ff_err.h"

struct ff_finding {
	char *rule_id;	   /* result.ruleId, else rules[ruleIndex].id, else "unknown" */
	char *level;	   /* error | warning | note | none; result.level, else the rule's
			      defaultConfiguration.level, else "warning" (SARIF's default) */
	char *message;	   /* message.text, else the rule's shortDescription.text, else "" */
	char *path;	   /* first location's artifactLocation.uri, percent-decoded, with any
			      "file://" scheme and a leading "/target/" stripped, normalised ("./",
			      "//" and "a/.." resolved); NULL if none, and NULL when the path is
			      outside the target (absolute elsewhere, or climbing out with ".."):
			      then the message starts "(path outside the target, not kept: <uri>) ";
			      NULL too when longer than 4096 bytes once made valid UTF-8 */
	long start_line;   /* region.startLine, 0 if none, at most INT_MAX (an int column) */
	long end_line;	   /* region.endLine, else start_line */
	char *fingerprint; /* first partialFingerprints value (or fingerprints), else the SHA-256
			      hex of rule_id NUL path NUL start_line NUL message */
};

struct ff_findings {
	struct ff_finding *items;
	size_t n;
	size_t count_by_level[4]; /* indexed by ff_sarif_level_index() */
	size_t paths_outside;	  /* findings kept whose path was outside the target */
};

/* Parses a SARIF log (every run's results). A log that is not one JSON object (strictly, by
 * ff_json_parse: no bytes after it, no key given twice at any depth), not version "2.1.0",
 * or without a "runs" array fails with FF_EVALIDATE. At most max_findings are kept (0 = 100000);
 * the counts still count all. On success out holds the findings; release with
 * ff_findings_release(). */
int ff_sarif_normalise(const char *buf, size_t len, size_t max_findings, struct ff_findings *out,
		       struct ff_err *err);
void ff_findings_release(struct ff_findings *f);
/* error=0 warning=1 note=2 none=3; -1 for anything else */
int ff_sarif_level_index(const char *level);

/* The log with runs[].automationDetails.id set to id in every run (a workflow's own value
 * replaced): the platform names the analysis, so GitHub code scanning tells apart the logs of
 * one workflow in different pipelines. On success *out (*out_len bytes, compact JSON) is for
 * the caller to free. */
int ff_sarif_set_automation_id(const char *buf, size_t len, const char *id, char **out,
			       size_t *out_len, struct ff_err *err);

/* Why a workflow says it could not do its job: the text of the first error-level
 * toolExecutionNotification of an invocation whose executionSuccessful is false, copied into
 * out (cut to size). True when there is one. The worker adds it to the run's error of a
 * workflow that exited non-zero ("workflow exited with code 1: no fuzz harness found"). */
bool ff_sarif_failure_text(const char *buf, size_t len, char *out, size_t size);

/* The pre-scan that bounds what parsing a log may cost, run before ff_sarif_normalise on
 * any log from outside: one linear pass over the text (no allocation) that counts JSON
 * values (strings, keys included, numbers, literals, objects, arrays) and the nesting
 * depth, and fails with FF_ETOOBIG and a message naming the limit past max_values or
 * max_depth (0 for the defaults). cJSON costs about 64 bytes per value, so the default
 * 500,000 values bound the tree near 32 MB. It checks no syntax: that is the parser's. */
#define FF_SARIF_DEFAULT_MAX_VALUES 500000
#define FF_SARIF_DEFAULT_MAX_DEPTH  64
int ff_sarif_prescan(const char *buf, size_t len, size_t max_values, size_t max_depth,
		     struct ff_err *err);

#endif
