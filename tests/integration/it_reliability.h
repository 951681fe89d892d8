/* it_reliability — helpers shared by the failure tests (it_reliability_*.c) and the soak
 * benchmark: SQL probes that survive a database restart, waits on SQL conditions with
 * deadlines, Docker leftovers by run label, bare API calls and the broker's shell controls.
 * Header-only (static inline) so that each test program takes what it uses. */
#ifndef IT_RELIABILITY_H
#define IT_RELIABILITY_H

#include <errno.h>
#include <libpq-fe.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "itest.h"

/* The interval between two looks at a condition. */
#define REL_POLL_MS 50

/* One value of a single-row query as text into buf. 0, or -1 when the database is away
 * (the connection is dropped, to be made again on the next call) or there is no row. */
static inline int rel_sql_try_text(struct itest *t, const char *sql, const char *param, char *buf,
				   size_t len)
{
	if (!t->pg) {
		t->pg = PQconnectdb(t->db_url);
		if (PQstatus(t->pg) != CONNECTION_OK) {
			PQfinish(t->pg);
			t->pg = NULL;
			return -1;
		}
	}
	const char *p[] = {param};
	PGresult *r = PQexecParams(t->pg, sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	if (ok)
		snprintf(buf, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (!ok && PQstatus(t->pg) != CONNECTION_OK) {
		PQfinish(t->pg);
		t->pg = NULL;
	}
	return ok ? 0 : -1;
}

/* Like itest_sql_long, as text; fails the test on error. */
static inline void rel_sql_text(struct itest *t, const char *sql, const char *param, char *buf,
				size_t len)
{
	if (rel_sql_try_text(t, sql, param, buf, len) < 0)
		fail_msg("%s: no value (%s)", sql, t->pg ? PQerrorMessage(t->pg) : "no connection");
}

/* Polls a single-value query until it equals want; fails the test past the deadline. Errors
 * count as "not yet", so a wait can span a database restart. */
static inline void rel_wait_sql(struct itest *t, const char *sql, const char *param, long want,
				int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	char v[64] = "";
	for (;;) {
		if (rel_sql_try_text(t, sql, param, v, sizeof(v)) == 0 &&
		    strtol(v, NULL, 10) == want)
			return;
		if (itest_now_ms() > deadline)
			fail_msg("not %ld within %d ms (last '%s'): %s [%s]", want, timeout_ms, v,
				 sql, param ? param : "");
		itest_pause_ms(REL_POLL_MS);
	}
}

/* A run's terminal states, as a SQL list. */
#define REL_TERMINAL_STATES "('succeeded', 'failed', 'timed_out', 'cancelled')"

/* Waits until the run is in a terminal state, by SQL (the API may be down meanwhile). */
static inline void rel_wait_terminal_sql(struct itest *t, const char *id, int timeout_ms)
{
	rel_wait_sql(t, "SELECT count(*) FROM runs WHERE id = $1 AND state IN " REL_TERMINAL_STATES,
		     id, 1, timeout_ms);
}

/* The run has exactly one result row and one `succeeded` event: it finished once. */
static inline void rel_assert_succeeded_once(struct itest *t, const char *id)
{
	assert_int_equal(
	    itest_sql_long(t, "SELECT count(*) FROM run_results WHERE run_id = $1", id), 1);
	assert_int_equal(itest_sql_long(t,
					"SELECT count(*) FROM run_events WHERE run_id = $1 AND "
					"state = 'succeeded'",
					id),
			 1);
}

/* Number of lines a shell command prints (-1 if it cannot run). */
static inline long rel_shell_lines(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	char line[512];
	long n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	return pclose(f) == 0 ? n : -1;
}

/* Containers (all states) and volumes Docker still has for a run. */
static inline long rel_docker_leftovers(const char *run_id)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "docker ps -aq --filter label=fuzzforge.run=%s", run_id);
	long c = rel_shell_lines(cmd);
	snprintf(cmd, sizeof(cmd), "docker volume ls -q --filter label=fuzzforge.run=%s", run_id);
	long v = rel_shell_lines(cmd);
	return c < 0 || v < 0 ? -1 : c + v;
}

/* Waits until the run is running and its container runs on the engine. Asked of the
 * engine, not of the run's history: the worker may hold the "container started" event for
 * a second (worker/exec.c note_later), which is most of a short test run. */
static inline void rel_wait_container_started(struct itest *t, const char *id, int timeout_ms)
{
	char cmd[256], state[32] = "";
	snprintf(cmd, sizeof(cmd),
		 "docker ps -q --filter label=fuzzforge.run=%s --filter status=running", id);
	int64_t deadline = itest_now_ms() + timeout_ms;
	while (rel_shell_lines(cmd) < 1 ||
	       rel_sql_try_text(t, "SELECT state FROM runs WHERE id = $1", id, state,
				sizeof(state)) < 0 ||
	       strcmp(state, "running") != 0) {
		if (itest_now_ms() > deadline)
			fail_msg("run %s: no container running within %d ms (state '%s')", id,
				 timeout_ms, state);
		itest_pause_ms(REL_POLL_MS);
	}
}

/* Waits until Docker holds nothing of the run (a worker removes its container and results
 * volume just after recording the result); fails naming what was waited for. */
static inline void rel_wait_no_leftovers(const char *run_id, int timeout_ms, const char *what)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	while (rel_docker_leftovers(run_id) != 0) {
		if (itest_now_ms() > deadline)
			fail_msg(
			    "%s: Docker still holds a container or volume of run %s after %d s",
			    what, run_id, timeout_ms / 1000);
		itest_pause_ms(REL_POLL_MS);
	}
}

/* An authenticated call without a body; returns the status (0 when it did not answer). */
static inline long rel_call(struct itest *t, const char *method, const char *path, cJSON **json_out)
{
	struct itest_resp r;
	long status = itest_http(t, method, path, NULL, NULL, 0, 1, &r) == 0 ? r.status : 0;
	if (json_out) {
		*json_out = r.json;
		r.json = NULL;
	}
	itest_resp_release(&r);
	return status;
}

/* POST /api/v1/runs/<id><suffix> (cancel, retry) or another POST path; returns the status. */
static inline long rel_run_action(struct itest *t, const char *id, const char *action)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/runs/%s/%s", id, action);
	return rel_call(t, "POST", path, NULL);
}

/* The body of a submit of workflow over target with parameters (JSON object text or NULL). */
static inline const char *rel_body(char *buf, size_t len, const char *workflow, const char *target,
				   const char *params, int priority)
{
	snprintf(buf, len,
		 "{\"workflow\":\"%s\",\"target\":\"%s\",\"parameters\":%s,\"priority\":%d}",
		 workflow, target, params ? params : "{}", priority);
	return buf;
}

/* rabbitmqctl stop_app / start_app on the machine's broker, blocking. 0 on success. */
static inline int rel_broker(const char *verb)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rabbitmqctl -q %s >/dev/null 2>&1", verb);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs a shell command in a child process; returns its pid (reap it with rel_reap). */
static inline pid_t rel_spawn_shell(const char *cmd)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* 1 once the child has exited (its status in *status), 0 while it runs. */
static inline int rel_reaped(pid_t pid, int *status)
{
	int st = 0;
	pid_t w = waitpid(pid, &st, WNOHANG);
	if (w == pid || (w < 0 && errno == ECHILD)) {
		if (status)
			*status = w == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		return 1;
	}
	return 0;
}

#endif
