/* ff-controller — the REST API: validates and stores targets and runs, publishes jobs to
 * RabbitMQ, and serves state and results from PostgreSQL. See DESIGN.md and README.md. */
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "committer.h"
#include "pool.h"
#include "ff_config.h"
#include "ff_log.h"
#include "ff_util.h"

#define GET	 HTTP_M_GET
#define POST	 HTTP_M_POST
#define DELETE	 HTTP_M_DELETE
#define JSON	 HTTP_BODY_JSON
#define LOOP	 HTTP_ON_LOOP
#define DRAIN_MS 10000 /* how long replies in progress get at shutdown */

static const struct http_route routes[] = {
    {GET, "/healthz", api_healthz, true, 0, LOOP},
    {GET, "/readyz", api_readyz, true, 0, LOOP},
    {POST, "/api/v1/targets", api_target_upload, false, HTTP_BODY_TARGET, HTTP_STREAMED},
    {GET, "/api/v1/targets/{sha256}", api_target_get, false, 0, 0},
    {GET, "/api/v1/workflows", api_workflows_list, false, 0, LOOP},
    {GET, "/api/v1/workflows/{name}", api_workflow_get, false, 0, LOOP},
    {POST, "/api/v1/runs", api_run_submit, false, JSON, 0},
    {GET, "/api/v1/runs", api_runs_list, false, 0, 0},
    {GET, "/api/v1/runs/{id}", api_run_get, false, 0, 0},
    {GET, "/api/v1/runs/{id}/events", api_run_events, false, 0, 0},
    {GET, "/api/v1/runs/{id}/findings", api_run_findings, false, 0, 0},
    {GET, "/api/v1/runs/{id}/sarif", api_run_sarif, false, 0, 0},
    {GET, "/api/v1/runs/{id}/logs", api_run_logs, false, 0, 0},
    {GET, "/api/v1/runs/{id}/artifacts", api_run_artifacts, false, 0, 0},
    /* an artifact in a subfolder: "sub/x.txt", its slash raw or as %2F (the path is
     * decoded before routing, so both reach {name*} the same) */
    {GET, "/api/v1/runs/{id}/artifacts/{name*}", api_run_artifact, false, 0, 0},
    {POST, "/api/v1/runs/{id}/cancel", api_run_cancel, false, 0, 0},
    {POST, "/api/v1/runs/{id}/retry", api_run_retry, false, 0, 0},
    {GET, "/api/v1/dead-letters", api_dead_letters_list, false, 0, 0},
    {POST, "/api/v1/dead-letters/{id}/requeue", api_dead_letter_requeue, false, 0, 0},
    {DELETE, "/api/v1/dead-letters/{id}", api_dead_letter_delete, false, 0, 0},
    {GET, "/api/v1/workers", api_workers_list, false, 0, 0},
};

static struct http_server *http_server;

static void on_drained(void *arg)
{
	event_base_loopbreak(arg);
}

/* Stop accepting connections, let the requests in progress get their replies written, then
 * exit: nothing accepted is cut in the middle. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct app *app = arg;
	(void)what;
	ff_info("signal %d: shutting down", (int)sig);
	http_drain(http_server, DRAIN_MS, on_drained, app->base);
}

/* FF_API_KEY, when set, is the key. Otherwise the first controller to start on a database
 * makes one, stores its digest and prints the key once; later starts use the digest. */
static int setup_api_key(struct app *app, struct ff_err *err)
{
	if (app->cfg.api_key)
		ff_sha256_hex(app->cfg.api_key, strlen(app->cfg.api_key), app->api_key_sha256);
	unsigned char raw[24];
	char key[3 + 2 * sizeof(raw) + 1] = "ff_", digest[65];
	if (ff_random_bytes(raw, sizeof(raw)) < 0)
		return ff_err_set(err, FF_EINTERNAL, "no randomness for an API key");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(key + 3 + 2 * i, 3, "%02x", raw[i]);
	ff_sha256_hex(key, strlen(key), digest);
	const char *p[] = {digest};
	PGresult *res = ff_db_query(app->db,
				    "WITH ins AS (INSERT INTO api_keys (name, key_sha256) "
				    "VALUES ('default', $1) ON CONFLICT (name) DO NOTHING "
				    "RETURNING key_sha256) "
				    "SELECT key_sha256, true FROM ins UNION ALL "
				    "SELECT key_sha256, false FROM api_keys WHERE name = 'default' "
				    "AND NOT EXISTS (SELECT 1 FROM ins)",
				    1, p, err);
	if (!res)
		return err->code;
	snprintf(app->stored_key_sha256, sizeof(app->stored_key_sha256), "%s",
		 PQgetvalue(res, 0, 0));
	int created = *PQgetvalue(res, 0, 1) == 't';
	PQclear(res);
	if (created && !app->cfg.api_key) {
		/* Shown once: only its digest is kept. */
		fprintf(stdout, "FuzzForge API key (shown once, store it): %s\n", key);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct app app = {0};
	struct http_limits lim = {0};
	const char *log_level;
	long max_target_mb, max_json_kb, fault, db_threads, max_uploads;
	const struct ff_config_entry config[] = {
	    {"FF_LISTEN", FF_CFG_STR, "0.0.0.0:8000", 0, 0, &lim.listen, "listen address (IPv4)"},
	    {"DATABASE_URL", FF_CFG_STR,
	     "postgresql://fuzzforge:fuzzforge@127.0.0.1:5432/fuzzforge", 0, 0,
	     &app.cfg.database_url, "PostgreSQL connection URL"},
	    {"AMQP_URL", FF_CFG_STR, "amqp://guest:guest@127.0.0.1:5672/", 0, 0, &app.cfg.amqp_url,
	     "RabbitMQ URL"},
	    {"FF_WORKFLOWS_DIR", FF_CFG_STR, FF_SOURCE_DIR "/workflows", 0, 0,
	     &app.cfg.workflows_dir, "colon-separated directories of workflows"},
	    {"FF_API_KEY", FF_CFG_STR, NULL, 0, 0, &app.cfg.api_key,
	     "the API key (if unset, one is generated at first start and printed once)"},
	    {"FF_MAX_TARGET_MB", FF_CFG_INT, "256", 1, 2047, &max_target_mb,
	     "largest target upload, MiB"},
	    {"FF_MAX_JSON_KB", FF_CFG_INT, "1024", 1, 65536, &max_json_kb,
	     "largest JSON request body, KiB"},
	    {"FF_MAX_UPLOADS", FF_CFG_INT, "4", 1, 256, &max_uploads,
	     "target uploads at once (more answer 503)"},
	    {"FF_DB_THREADS", FF_CFG_INT, "4", 1, 64, &db_threads,
	     "database threads (each with its own connection) for the API's queries"},
	    {"FF_HTTP_MAX_CONNECTIONS", FF_CFG_INT, "1024", 1, 65536, &lim.max_connections,
	     "client connections at once (more answer 503)"},
	    {"FF_HTTP_HEADER_TIMEOUT_MS", FF_CFG_INT, "10000", 50, 600000, &lim.header_timeout_ms,
	     "a request head must arrive within this (408 past it)"},
	    {"FF_HTTP_IDLE_TIMEOUT_S", FF_CFG_INT, "60", 1, 3600, &lim.idle_timeout_s,
	     "a kept-open connection with no request is closed after this"},
	    {"FF_HTTP_MIN_BODY_BPS", FF_CFG_INT, "8192", 0, 1L << 30, &lim.min_body_bps,
	     "a request body slower than this, bytes/s over a window, is cut (408)"},
	    {"FF_HTTP_BODY_WINDOW_MS", FF_CFG_INT, "10000", 100, 600000, &lim.body_window_ms,
	     "the window the body rate is measured over"},
	    {"FF_DB_WAIT_S", FF_CFG_INT, "60", 0, 3600, &app.cfg.db_wait_s,
	     "how long to wait for PostgreSQL at start"},
	    {"FF_LEASE_S", FF_CFG_INT, "30", 3, 3600, &app.cfg.lease_s,
	     "a running run whose worker is silent this long goes back to the queue"},
	    {"FF_FAULT_EXIT_AFTER_COMMIT", FF_CFG_INT, "0", 0, 1, &fault,
	     "tests only: exit between committing a run and publishing it"},
	    {"FF_LOG_LEVEL", FF_CFG_STR, "info", 0, 0, &log_level, "debug, info, warn or error"},
	};
	const size_t nconfig = sizeof(config) / sizeof(config[0]);
	struct ff_err err = {0};
	struct event *sigterm = NULL, *sigint = NULL;
	struct pool *pool = NULL;
	int rc = 1;

	if (argc > 1) {
		int help = argc == 2 && !strcmp(argv[1], "--help");
		fprintf(help ? stdout : stderr,
			"usage: ff-controller\nServes the FuzzForge REST API. Applies pending "
			"database migrations at start.\n");
		ff_config_usage(help ? stdout : stderr, config, nconfig);
		return help ? 0 : 2;
	}
	if (ff_config_load(config, nconfig, NULL, &err) < 0) {
		fprintf(stderr, "ff-controller: %s\n", err.msg);
		return 2;
	}
	int lvl = ff_log_level_parse(log_level);
	if (lvl >= 0)
		ff_log_min_level = (enum ff_log_level)lvl;
	app.cfg.listen = lim.listen;
	app.cfg.fault_exit_after_commit = (int)fault;
	lim.max_target_bytes = (size_t)max_target_mb << 20;
	lim.max_json_bytes = (size_t)max_json_kb << 10;
	lim.api_key_sha256 = app.api_key_sha256;
	lim.stored_key_sha256 = app.stored_key_sha256;
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads(); /* handler threads wake the loop */

	if (ff_catalog_load(app.cfg.workflows_dir, &app.catalog, &err) < 0) {
		ff_error("workflows: %s", err.msg);
		goto out;
	}
	ff_info("loaded %zu workflows from %s", ff_catalog_count(app.catalog),
		app.cfg.workflows_dir);
	if (app_connect_db(&app, &err) < 0 || setup_api_key(&app, &err) < 0 ||
	    pool_start(app.cfg.database_url, (int)db_threads, &pool, &err) < 0) {
		ff_error("postgresql: %s", err.msg);
		goto out;
	}
	if (health_start(app.cfg.database_url, app.cfg.amqp_url, &app.health, &err) < 0 ||
	    committer_start(&app, &app.committer, &err) < 0) {
		ff_error("%s", err.msg);
		goto out;
	}
	if (!(app.base = event_base_new()) ||
	    !(http_server =
		  http_start(app.base, &app, &lim, routes, sizeof(routes) / sizeof(routes[0]), pool,
			     (int)max_uploads, &err))) {
		ff_error("http: %s", err.msg);
		goto out;
	}
	sigterm = evsignal_new(app.base, SIGTERM, on_signal, &app);
	sigint = evsignal_new(app.base, SIGINT, on_signal, &app);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	ff_info("ff-controller listening on %s", lim.listen);
	event_base_dispatch(app.base);
	rc = 0;
out:
	/* The committer replies to the submits it holds, the pool finishes what it has, then
	 * the server goes with whatever was handed back. */
	committer_stop(app.committer);
	pool_stop(pool);
	http_free(http_server);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (app.base)
		event_base_free(app.base);
	health_stop(app.health);
	ff_amqp_free(app.amqp);
	ff_db_free(app.db);
	ff_catalog_free(app.catalog);
	return rc;
}
