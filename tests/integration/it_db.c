/* it_db — common/ff_db.c against the real PostgreSQL: a connection whose backend is ended
 * under it reconnects on the next statement (outside a transaction), and the session
 * options it was opened with (ff_db_connect_with) hold on the new connection too, which is
 * what keeps the controller's publishers on synchronous_commit off after a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ff_db.h"
#include "ff_err.h"
#include "itest.h"

static struct itest T;

/* A one-row, one-column query's text, or fails the test. */
static void query_text(struct ff_db *db, const char *sql, char *out, size_t cap)
{
	struct ff_err err;
	PGresult *res = ff_db_query(db, sql, 0, NULL, &err);
	if (!res)
		fail_msg("%s: %s", sql, err.msg);
	snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* Ends db's backend from another connection, as a server restart or an idle-session kill
 * would. */
static void end_backend(struct ff_db *db)
{
	char pid[32];
	query_text(db, "SELECT pg_backend_pid()::text", pid, sizeof(pid));
	assert_int_equal(itest_sql_long(&T,
					"SELECT count(*) FROM pg_terminate_backend($1::int) t "
					"WHERE t",
					pid),
			 1);
	/* the backend is gone once pg_stat_activity no longer lists it */
	int64_t deadline = itest_now_ms() + 10000;
	while (itest_sql_long(&T, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int",
			      pid) > 0) {
		if (itest_now_ms() > deadline)
			fail_msg("backend %s still there after 10 s", pid);
		itest_pause_ms(20);
	}
}

static void session_options_survive_a_reconnect(void **state)
{
	(void)state;
	struct ff_db *db = NULL;
	struct ff_err err;
	if (ff_db_connect_with(T.db_url, "-c statement_timeout=4321 -c synchronous_commit=off", &db,
			       &err) < 0)
		fail_msg("connect: %s", err.msg);
	char before[64], after[64], sync[16];
	query_text(db, "SELECT pg_backend_pid()::text", before, sizeof(before));
	query_text(db, "SHOW statement_timeout", after, sizeof(after));
	assert_string_equal(after, "4321ms");

	end_backend(db);
	query_text(db, "SELECT pg_backend_pid()::text", after, sizeof(after));
	assert_string_not_equal(before, after); /* a new connection answered */
	query_text(db, "SHOW statement_timeout", after, sizeof(after));
	assert_string_equal(after, "4321ms");
	query_text(db, "SHOW synchronous_commit", sync, sizeof(sync));
	assert_string_equal(sync, "off");
	ff_db_free(db);
}

static void plain_connection_keeps_the_defaults(void **state)
{
	(void)state;
	struct ff_db *db = NULL;
	struct ff_err err;
	if (ff_db_connect(T.db_url, &db, &err) < 0)
		fail_msg("connect: %s", err.msg);
	char sync[16];
	end_backend(db);
	query_text(db, "SHOW synchronous_commit", sync, sizeof(sync));
	assert_string_equal(sync, "on");
	ff_db_free(db);
}

static int setup(void **state)
{
	(void)state;
	itest_setup(&T, "db");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown(&T);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(session_options_survive_a_reconnect),
	    cmocka_unit_test(plain_connection_keeps_the_defaults),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
