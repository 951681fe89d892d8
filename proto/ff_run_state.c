/* ff_run_state — run states, their names and the transition table; see ff_run_state.h. */
#include "ff_run_state.h"

#include <stdio.h>
#include <string.h>

/* The one place the API's state names are spelled. */
static const char *const names[FF_RUN_NSTATES] = {
    [FF_RUN_QUEUED] = "queued",	      [FF_RUN_RUNNING] = "running",
    [FF_RUN_RETRYING] = "retrying",   [FF_RUN_SUCCEEDED] = "succeeded",
    [FF_RUN_FAILED] = "failed",	      [FF_RUN_TIMED_OUT] = "timed_out",
    [FF_RUN_CANCELLED] = "cancelled",
};

#define B(s) FF_RUN_BIT(FF_RUN_##s)

const struct ff_run_transition_def ff_run_transitions[FF_RUN_NTRANSITIONS] = {
    [FF_RUN_SUBMIT] = {"submit", 0, B(QUEUED)},
    [FF_RUN_START] = {"start", FF_RUN_WAITING, B(RUNNING)},
    [FF_RUN_FINISH] = {"finish", B(RUNNING), B(SUCCEEDED) | B(TIMED_OUT)},
    [FF_RUN_RETRY] = {"retry", B(RUNNING), B(RETRYING)},
    [FF_RUN_DEAD_LETTER] = {"dead_letter", B(RUNNING), B(FAILED) | B(TIMED_OUT)},
    [FF_RUN_CANCEL] = {"cancel", FF_RUN_WAITING | B(RUNNING), B(CANCELLED)},
    [FF_RUN_REQUEUE] = {"requeue", FF_RUN_TERMINAL, B(QUEUED)},
    [FF_RUN_HAND_BACK] = {"hand_back", B(RUNNING), B(QUEUED)},
    [FF_RUN_LEASE_EXPIRY] = {"lease_expiry", B(RUNNING), B(QUEUED) | B(FAILED)},
};

const char *ff_run_state_name(enum ff_run_state s)
{
	return (unsigned)s < FF_RUN_NSTATES ? names[s] : NULL;
}

int ff_run_state_parse(const char *name)
{
	for (int s = 0; name && s < FF_RUN_NSTATES; s++)
		if (!strcmp(name, names[s]))
			return s;
	return -1;
}

bool ff_run_state_terminal(enum ff_run_state s)
{
	return (unsigned)s < FF_RUN_NSTATES && (FF_RUN_TERMINAL & FF_RUN_BIT(s));
}

bool ff_run_transition_allowed(enum ff_run_transition t, enum ff_run_state from,
			       enum ff_run_state to)
{
	if ((unsigned)t >= FF_RUN_NTRANSITIONS || (unsigned)from >= FF_RUN_NSTATES ||
	    (unsigned)to >= FF_RUN_NSTATES)
		return false;
	const struct ff_run_transition_def *d = &ff_run_transitions[t];
	return (d->from & FF_RUN_BIT(from)) && (d->to & FF_RUN_BIT(to));
}

const char *ff_run_states_array(unsigned set, char *buf, size_t size)
{
	size_t off = (size_t)snprintf(buf, size, "{");
	for (int s = 0; s < FF_RUN_NSTATES && off < size; s++)
		if (set & FF_RUN_BIT(s))
			off += (size_t)snprintf(buf + off, size - off, "%s%s", off > 1 ? "," : "",
						names[s]);
	if (off < size)
		snprintf(buf + off, size - off, "}");
	return buf;
}
