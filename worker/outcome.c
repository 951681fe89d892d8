/* outcome — the next state of a run from how its attempt ended; see outcome.h. */
#include "outcome.h"

#include <stdio.h>
#include <string.h>

#include "ff_util.h"

#define BACKOFF_MAX_S 3600

long outcome_backoff_s(long backoff_s, int attempt)
{
	long delay = backoff_s;
	for (int i = 1; i < attempt && delay < BACKOFF_MAX_S; i++)
		delay *= 2;
	return delay > BACKOFF_MAX_S ? BACKOFF_MAX_S : delay;
}

/* The run's error is a text column, and its reasons may quote what a workflow wrote (a
 * SARIF key, PostgreSQL's message about a value): each byte that is not UTF-8 becomes '?'
 * in place, so that the error itself never makes the result unstorable. */
static void storable(char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t l = ff_utf8_seq_len((const unsigned char *)s + i, n - i);
		if (!l)
			s[i] = '?';
		i += l ? l : 1;
	}
}

void outcome_decide(const struct outcome_facts *f, struct outcome *out)
{
	*out = (struct outcome){.transition = FF_RUN_FINISH, .state = FF_RUN_SUCCEEDED};
	if (f->stop == EXEC_STOP_CANCEL) {
		out->transition = FF_RUN_CANCEL;
		out->state = FF_RUN_CANCELLED;
		return;
	}
	if (f->stop == EXEC_STOP_HANDBACK) {
		out->transition = FF_RUN_HAND_BACK;
		out->state = FF_RUN_QUEUED;
		return;
	}
	if (f->refusal) {
		out->transition = FF_RUN_DEAD_LETTER;
		out->state = FF_RUN_FAILED;
		snprintf(out->error, sizeof(out->error), "%s", f->refusal);
		return;
	}
	/* The first thing that went wrong is the run's error. */
	if (f->platform_error) {
		out->state = FF_RUN_FAILED;
		snprintf(out->error, sizeof(out->error), "%s", f->platform_error);
	} else if (f->timed_out) {
		out->state = FF_RUN_TIMED_OUT;
		snprintf(out->error, sizeof(out->error), "timed out after %ld s", f->timeout_s);
	} else if (f->exit_code != 0) {
		out->state = FF_RUN_FAILED;
		snprintf(out->error, sizeof(out->error), "workflow exited with code %d%s%s",
			 f->exit_code, f->exit_reason ? ": " : "",
			 f->exit_reason ? f->exit_reason : "");
	} else if (!f->have_sarif) {
		out->state = FF_RUN_FAILED;
		snprintf(out->error, sizeof(out->error),
			 "workflow wrote no /results/results.sarif");
	} else if (f->sarif_error) {
		out->state = FF_RUN_FAILED;
		snprintf(out->error, sizeof(out->error), "invalid SARIF: %s", f->sarif_error);
	}
	storable(out->error);
	/* Failures are retried by the workflow's policy; a timeout only when the policy says
	 * so (most would just time out again). Past the budget the run keeps the last
	 * attempt's state, failed or timed_out, and is dead-lettered with its error. */
	bool retryable =
	    out->state == FF_RUN_FAILED || (out->state == FF_RUN_TIMED_OUT && f->retry_on_timeout);
	if (!retryable)
		return;
	if (f->attempt < f->max_attempts) {
		out->transition = FF_RUN_RETRY;
		out->state = FF_RUN_RETRYING;
		out->delay_s = outcome_backoff_s(f->backoff_s, f->attempt);
	} else {
		out->transition = FF_RUN_DEAD_LETTER;
	}
}

void outcome_unstorable(const char *why, struct outcome *out)
{
	*out = (struct outcome){.transition = FF_RUN_DEAD_LETTER, .state = FF_RUN_FAILED};
	snprintf(out->error, sizeof(out->error), "result not storable: %s", why);
	storable(out->error);
}
