/* itest — the integration-test harness: a fresh PostgreSQL database per test program, the
 * real ff-controller and ff-worker binaries started as child processes against the real
 * RabbitMQ and Docker engine, an HTTP client for the API, and SQL probes for end states.
 * Every wait has a deadline; nothing sleeps in place of a condition. */
#ifndef ITEST_H
#define ITEST_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ITEST_MAX_PROCS 16
#define ITEST_API_KEY	"itest-key-0123456789"
/* The repository (ITEST_WORKFLOWS_DIR is <repo>/tests/workflows). */
#define ITEST_REPO ITEST_WORKFLOWS_DIR "/../.."

struct itest {
	char name[64];
	char db_url[256];
	char amqp_url[256];
	char base_url[64];
	int port;
	pid_t procs[ITEST_MAX_PROCS];
	int nprocs;
	PGconn *pg;
	void *curl;
};

struct itest_resp {
	long status;
	char *body;
	size_t len;
	cJSON *json; /* parsed body when it is JSON, else NULL */
};

/* Creates database and broker vhost ff_it_<name>_<build dir hash> afresh (so two checkouts
 * may run one test at once) and picks a free port.
 * Returns 0 or fails the test. */
int itest_setup(struct itest *t, const char *name);
/* Stops every process started (SIGTERM, then SIGKILL past a deadline), then drops the
 * database and the vhost. A test that fails never gets here: its database and vhost stay
 * for a look, until the next itest_setup of the same name drops them. */
void itest_teardown(struct itest *t);

/* Starts ff-controller (waits until /readyz answers 200) or ff-worker (waits until it
 * consumes). extra_env: NULL-terminated "K=V" strings, or NULL. Logs go to
 * <build>/tests/integration/logs/<name>-<proc>.log. */
pid_t itest_start_controller(struct itest *t, const char *const *extra_env);
pid_t itest_start_worker(struct itest *t, const char *const *extra_env);
/* Sends sig and waits up to timeout_ms; returns the exit status (or -1 on timeout). */
int itest_stop(struct itest *t, pid_t pid, int sig, int timeout_ms);

/* One API call; body may be NULL. auth: 1 the right key, 2 a wrong one, 0 none. */
int itest_http(struct itest *t, const char *method, const char *path, const char *ctype,
	       const void *body, size_t len, int auth, struct itest_resp *resp);
void itest_resp_release(struct itest_resp *r);

/* Builds a tar of files given as {path, content, path, content, ..., NULL}; gzip if asked.
 * Returns malloc'd bytes. */
void *itest_tar(const char *const *files, int gzip, size_t *len);
/* Uploads a tar of files; out gets the sha256. */
void itest_upload(struct itest *t, const char *const *files, char out[65]);
/* Uploads a gzipped tar of the tree under dir (paths relative to dir, symbolic links stored
 * as links, not followed); out gets the sha256. Fails the test if dir cannot be read. */
void itest_upload_dir(struct itest *t, const char *dir, char out[65]);
/* POST /api/v1/runs with json; on 202 copies the run id into id. Returns the status. */
long itest_submit(struct itest *t, const char *json, char id[37]);
/* The same with an Idempotency-Key header (key at most 300 bytes). */
long itest_submit_idempotent(struct itest *t, const char *key, const char *json, char id[37]);
/* Polls GET /api/v1/runs/{id} until a terminal state or timeout_ms; returns the run JSON
 * (caller deletes) or fails the test. */
cJSON *itest_wait_terminal(struct itest *t, const char *id, int timeout_ms);
/* Waits until the run is in state, or fails the test. */
void itest_wait_state(struct itest *t, const char *id, const char *state, int timeout_ms);

/* CLOCK_MONOTONIC in milliseconds, for deadlines. */
int64_t itest_now_ms(void);
/* The pause between two looks at a condition (never a stand-in for one). */
void itest_pause_ms(int ms);

/* A single-value SQL query on the test database, as a long (fails the test on error). */
long itest_sql_long(struct itest *t, const char *sql, const char *param);

/* The string member k of o, or NULL when o has no such string. */
const char *itest_str(const cJSON *o, const char *k);
/* A file of less than 1 MiB as a malloc'd NUL-terminated string, or fails the test. */
char *itest_read_file(const char *path);
/* Runs argv (no shell, argv[0] a full path) and waits; returns its exit status, or -1. */
int itest_run_cmd(char *const argv[]);
/* Fails the test, naming the script that builds it, unless the Docker image exists. */
void itest_require_image(const char *image);
/* GET path with the right key into r; fails the test unless the status is 200. */
void itest_get_ok(struct itest *t, const char *path, struct itest_resp *r);

/* itest_setup, then a controller and a worker (two jobs at a time) serving the repository's
 * built-in workflows (<repo>/workflows). */
void itest_setup_workflows(struct itest *t, const char *name);
/* Submits a run of workflow on target with params (a JSON object); fails the test unless 202. */
void itest_submit_workflow(struct itest *t, const char *workflow, const char *target,
			   const char *params, char id[37]);
/* Fails the test unless the run's SARIF log validates against tests/data/sarif-schema-2.1.0.json
 * (python3-jsonschema) and passes checks_py, Python run after with the parsed log in `log`. */
void itest_check_sarif(struct itest *t, const char *id, const char *checks_py, const char *what);
/* Waits for a workflow run to succeed with progress 100 and checks its SARIF log as above;
 * returns its findings (GET /findings, caller deletes). what names the run in failures. */
cJSON *itest_finished_run(struct itest *t, const char *id, int timeout_ms, const char *checks_py,
			  const char *what);

/* Sorts n strings in place (strcmp order). */
void itest_sort_strs(char **v, size_t n);
/* Fails the test, printing both lists, unless the sorted findings keys got and want are equal. */
void itest_assert_same_keys(char *const *got, size_t ngot, char *const *want, size_t nwant,
			    const char *what);

#endif
