/* test_run_state — the lifecycle's states and its transition table (the table itself; the
 * statements that enforce it are walked against PostgreSQL by it_lifecycle). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ff_run_state.h"

static void names_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < FF_RUN_NSTATES; s++) {
		const char *name = ff_run_state_name((enum ff_run_state)s);
		assert_non_null(name);
		assert_int_equal(ff_run_state_parse(name), s);
	}
	assert_null(ff_run_state_name(FF_RUN_NSTATES));
	assert_int_equal(ff_run_state_parse("done"), -1);
	assert_int_equal(ff_run_state_parse("Queued"), -1);
	assert_int_equal(ff_run_state_parse(NULL), -1);
	assert_string_equal(ff_run_state_name(FF_RUN_TIMED_OUT), "timed_out");
}

static void terminal_states(void **state)
{
	(void)state;
	int terminal = 0;
	for (int s = 0; s < FF_RUN_NSTATES; s++)
		terminal += ff_run_state_terminal((enum ff_run_state)s);
	assert_int_equal(terminal, 4);
	assert_true(ff_run_state_terminal(FF_RUN_CANCELLED));
	assert_false(ff_run_state_terminal(FF_RUN_RETRYING));
	assert_false(ff_run_state_terminal((enum ff_run_state) - 1));
}

/* Every transition leads somewhere; none leaves a terminal state except requeue; none
 * enters running except start; and the predicate agrees with the table on every pair. */
static void table_is_consistent(void **state)
{
	(void)state;
	for (int t = 0; t < FF_RUN_NTRANSITIONS; t++) {
		const struct ff_run_transition_def *d = &ff_run_transitions[t];
		assert_non_null(d->name);
		assert_int_not_equal(d->to, 0);
		assert_int_equal(d->from & ~FF_RUN_ALL, 0);
		assert_int_equal(d->to & ~FF_RUN_ALL, 0);
		if (t != FF_RUN_REQUEUE)
			assert_int_equal(d->from & FF_RUN_TERMINAL, 0);
		if (t != FF_RUN_START)
			assert_int_equal(d->to & FF_RUN_BIT(FF_RUN_RUNNING), 0);
		for (int from = 0; from < FF_RUN_NSTATES; from++)
			for (int to = 0; to < FF_RUN_NSTATES; to++)
				assert_int_equal(
				    ff_run_transition_allowed((enum ff_run_transition)t,
							      (enum ff_run_state)from,
							      (enum ff_run_state)to),
				    (d->from & FF_RUN_BIT(from)) && (d->to & FF_RUN_BIT(to)));
	}
	assert_false(ff_run_transition_allowed(FF_RUN_NTRANSITIONS, FF_RUN_QUEUED, FF_RUN_RUNNING));
	/* a few that must never be allowed */
	assert_false(ff_run_transition_allowed(FF_RUN_FINISH, FF_RUN_SUCCEEDED, FF_RUN_FAILED));
	assert_false(ff_run_transition_allowed(FF_RUN_CANCEL, FF_RUN_FAILED, FF_RUN_CANCELLED));
	assert_false(ff_run_transition_allowed(FF_RUN_START, FF_RUN_RUNNING, FF_RUN_RUNNING));
	assert_true(ff_run_transition_allowed(FF_RUN_START, FF_RUN_RETRYING, FF_RUN_RUNNING));
}

static void state_arrays(void **state)
{
	(void)state;
	char buf[96];
	assert_string_equal(ff_run_states_array(FF_RUN_WAITING, buf, sizeof(buf)),
			    "{queued,retrying}");
	assert_string_equal(ff_run_states_array(0, buf, sizeof(buf)), "{}");
	assert_string_equal(ff_run_states_array(FF_RUN_ALL, buf, sizeof(buf)),
			    "{queued,running,retrying,succeeded,failed,timed_out,cancelled}");
	char small[8];
	ff_run_states_array(FF_RUN_ALL, small, sizeof(small)); /* truncated, never overrun */
	assert_true(strlen(small) < sizeof(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_round_trip),
	    cmocka_unit_test(terminal_states),
	    cmocka_unit_test(table_is_consistent),
	    cmocka_unit_test(state_arrays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
