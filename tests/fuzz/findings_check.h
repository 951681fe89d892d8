/* findings_check — what every SARIF finding must be before it is stored, whatever log it
 * came from; shared by fuzz_sarif and fuzz_results (a header, not a fuzz_*.c: one harness
 * per file is what CMake globs). Aborts, naming the broken rule, on the first violation:
 *   - a valid level, a non-empty rule id and fingerprint, a message;
 *   - every string well-formed UTF-8 without a NUL byte (findings columns are text);
 *   - a path confined to the target: not absolute, no empty, "." or ".." segment;
 *   - lines within an int column: 0 <= start_line <= end_line <= INT_MAX;
 *   - counts that cover the kept findings, at most max kept. */
#ifndef FINDINGS_CHECK_H
#define FINDINGS_CHECK_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_sarif.h"
#include "ff_util.h"

static void findings_fail(const char *harness, const char *what, const char *s)
{
	fprintf(stderr, "%s: %s%s%.300s%s\n", harness, what, s ? " (\"" : "", s ? s : "",
		s ? "\")" : "");
	abort();
}

static int text_ok(const char *s)
{
	return s && ff_utf8_valid(s, strlen(s));
}

/* Not absolute, and each segment neither empty nor "." nor "..". */
static int path_confined(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (;;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!p[n])
			return 1;
		p += n + 1;
	}
}

static void findings_check(const char *harness, const struct ff_findings *f, size_t max)
{
	size_t total = 0;
	for (int i = 0; i < 4; i++)
		total += f->count_by_level[i];
	if (f->n > max || total < f->n || f->paths_outside > f->n)
		findings_fail(harness, "counts that do not cover the findings", NULL);
	for (size_t i = 0; i < f->n; i++) {
		const struct ff_finding *x = &f->items[i];
		if (!text_ok(x->level) || ff_sarif_level_index(x->level) < 0)
			findings_fail(harness, "a bad level", x->level);
		if (!text_ok(x->rule_id) || !*x->rule_id)
			findings_fail(harness, "a rule id empty or not UTF-8", x->rule_id);
		if (!text_ok(x->fingerprint) || !*x->fingerprint)
			findings_fail(harness, "a fingerprint empty or not UTF-8", x->fingerprint);
		if (!text_ok(x->message))
			findings_fail(harness, "a message missing or not UTF-8", x->message);
		if (x->path && (!text_ok(x->path) || !path_confined(x->path)))
			findings_fail(harness, "a stored path not confined to the target", x->path);
		if (x->start_line < 0 || x->end_line < x->start_line || x->end_line > INT_MAX)
			findings_fail(harness, "lines out of an int column's range", NULL);
	}
}

#endif
