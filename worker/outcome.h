/* outcome — what an attempt's end means for the run: the pure decision, with no I/O, from
 * what happened (a stop request, a failure of ours, the timeout, the exit code, the SARIF
 * log) and the attempt budget, to the lifecycle transition the worker performs. */
#ifndef OUTCOME_H
#define OUTCOME_H

#include <stdbool.h>

#include "exec.h"
#include "ff_run_state.h"

/* What happened during one attempt. */
struct outcome_facts {
	enum exec_stop stop; /* a cancel or a drain's hand-back, seen by the heartbeat */
	const char *refusal; /* the worker will not run this job at all (a network it does
				not allow): failed for good, no retry; NULL: none */
	const char
	    *platform_error; /* a step of ours failed (volumes, engine, results); NULL: none */
	bool timed_out;	     /* the container ran past timeout_s and was killed */
	long timeout_s;
	int exit_code;		 /* -1: it never exited */
	const char *exit_reason; /* why the workflow says it failed (its SARIF log); NULL: none */
	bool have_sarif;	 /* /results/results.sarif was there */
	const char *sarif_error; /* why it is not valid SARIF; NULL when it is */
	int attempt, max_attempts;
	bool retry_on_timeout;
	long backoff_s;
};

struct outcome {
	/* FF_RUN_FINISH, FF_RUN_RETRY, FF_RUN_DEAD_LETTER or FF_RUN_HAND_BACK to perform;
	 * FF_RUN_CANCEL: the run was cancelled, there is nothing to record. */
	enum ff_run_transition transition;
	enum ff_run_state state; /* the state it moves to */
	long delay_s;		 /* FF_RUN_RETRY: when the next attempt is due */
	char error[600];	 /* the run's error, "" for none */
};

void outcome_decide(const struct outcome_facts *f, struct outcome *out);

/* The end of an attempt whose result the database refused for its data, though it was
 * validated first (a value the schema cannot hold: see store.h): failed and dead-lettered
 * at once, "result not storable: <why>", since every further attempt would write the same.
 * why is PostgreSQL's message, which may quote the value: a byte in it that is not UTF-8
 * becomes '?', as in every error outcome_decide writes, so that the error is storable. */
void outcome_unstorable(const char *why, struct outcome *out);

/* The delay before attempt `attempt + 1` after attempt `attempt` failed: backoff_s doubled
 * per attempt, at most an hour. */
long outcome_backoff_s(long backoff_s, int attempt);

#endif
