/* ff_run_state — the run lifecycle as data: the states a run can be in, their names, and
 * the one table of allowed transitions. Pure (no I/O), so the CLI uses it too; the
 * transitions themselves are performed against PostgreSQL by ff_run.h, whose guards come
 * from this table.
 *
 *   submit ──► queued ──start──► running ──finish──► succeeded | timed_out
 *                ▲                 │ │ ├──dead_letter──► failed | timed_out
 *                │                 │ │ └──cancel──► cancelled   (also from queued, retrying)
 *                │                 │ └──retry──► retrying ──start──► running
 *                └── hand_back, lease_expiry (or failed past the losses), requeue (any terminal)
 */
#ifndef FF_RUN_STATE_H
#define FF_RUN_STATE_H

#include <stdbool.h>
#include <stddef.h>

enum ff_run_state {
	FF_RUN_QUEUED,	  /* waiting for a worker: its job is published or in the outbox */
	FF_RUN_RUNNING,	  /* an attempt holds it under a lease */
	FF_RUN_RETRYING,  /* an attempt failed; the next is due at next_attempt_at */
	FF_RUN_SUCCEEDED, /* terminal: the workflow ran and its results are stored */
	FF_RUN_FAILED,	  /* terminal: failed past its attempt budget (dead-lettered) */
	FF_RUN_TIMED_OUT, /* terminal: the last attempt ran past the manifest's timeout */
	FF_RUN_CANCELLED, /* terminal: cancelled by request */
	FF_RUN_NSTATES,
};

/* A set of states as a bitmask. */
#define FF_RUN_BIT(s)  (1u << (s))
#define FF_RUN_ALL     ((1u << FF_RUN_NSTATES) - 1)
#define FF_RUN_WAITING (FF_RUN_BIT(FF_RUN_QUEUED) | FF_RUN_BIT(FF_RUN_RETRYING))
#define FF_RUN_TERMINAL                                                                            \
	(FF_RUN_BIT(FF_RUN_SUCCEEDED) | FF_RUN_BIT(FF_RUN_FAILED) | FF_RUN_BIT(FF_RUN_TIMED_OUT) | \
	 FF_RUN_BIT(FF_RUN_CANCELLED))

enum ff_run_transition {
	FF_RUN_SUBMIT,	     /* a new run -> queued (controller) */
	FF_RUN_START,	     /* queued, retrying -> running (worker) */
	FF_RUN_FINISH,	     /* running -> succeeded, timed_out (worker) */
	FF_RUN_RETRY,	     /* running -> retrying: an attempt failed within budget (worker) */
	FF_RUN_DEAD_LETTER,  /* running -> failed, timed_out: past the budget (worker) */
	FF_RUN_CANCEL,	     /* queued, retrying, running -> cancelled (controller) */
	FF_RUN_REQUEUE,	     /* any terminal -> queued with a fresh budget (controller) */
	FF_RUN_HAND_BACK,    /* running -> queued, attempt not counted: a draining worker */
	FF_RUN_LEASE_EXPIRY, /* running -> queued, or failed past the losses (controller) */
	FF_RUN_NTRANSITIONS,
};

struct ff_run_transition_def {
	const char *name;
	unsigned from; /* FF_RUN_BIT set; 0 for submit (the run does not exist yet) */
	unsigned to;
};

/* The table, indexed by enum ff_run_transition. */
extern const struct ff_run_transition_def ff_run_transitions[FF_RUN_NTRANSITIONS];

/* "queued", "running", …; NULL outside the enum. */
const char *ff_run_state_name(enum ff_run_state s);
/* The state named name, or -1 (also for NULL). */
int ff_run_state_parse(const char *name);
bool ff_run_state_terminal(enum ff_run_state s);
/* True when the table lets t move a run from `from` to `to`. */
bool ff_run_transition_allowed(enum ff_run_transition t, enum ff_run_state from,
			       enum ff_run_state to);
/* The set as a PostgreSQL text[] literal, "{queued,retrying}", into buf (size >= 96). */
const char *ff_run_states_array(unsigned set, char *buf, size_t size);

#endif
