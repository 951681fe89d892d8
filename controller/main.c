/* ff-controller — the REST API: validates and stores targets and runs, publishes jobs to
 * RabbitMQ, and serves state and results from PostgreSQL. See DESIGN.md and README.md. */
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "outbox.h"
#include "reaper.h"
#include "ff_config.h"
#include "ff_log.h"
#include "ff_util.h"

#define DISPATCH_EVERY_MS 1000

static const struct http_route routes[] = {
    {EVHTTP_REQ_GET, "/healthz", api_healthz, 1, 0},
    {EVHTTP_REQ_GET, "/readyz", api_readyz, 1, 0},
    {EVHTTP_REQ_POST, "/api/v1/targets", api_target_upload, 0, SIZE_MAX},
    {EVHTTP_REQ_GET, "/api/v1/targets/{sha256}", api_target_get, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/workflows", api_workflows_list, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/workflows/{name}", api_workflow_get, 0, 0},
    {EVHTTP_REQ_POST, "/api/v1/runs", api_run_submit, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/runs", api_runs_list, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/runs/{id}", api_run_get, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/runs/{id}/events", api_run_events, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/runs/{id}/findings", api_run_findings, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/runs/{id}/sarif", api_run_sarif, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/runs/{id}/logs", api_run_logs, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/runs/{id}/artifacts", api_run_artifacts, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/runs/{id}/artifacts/{name}", api_run_artifact, 0, 0},
    {EVHTTP_REQ_POST, "/api/v1/runs/{id}/cancel", api_run_cancel, 0, 0},
    {EVHTTP_REQ_POST, "/api/v1/runs/{id}/retry", api_run_retry, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/dead-letters", api_dead_letters_list, 0, 0},
    {EVHTTP_REQ_POST, "/api/v1/dead-letters/{id}/requeue", api_dead_letter_requeue, 0, 0},
    {EVHTTP_REQ_DELETE, "/api/v1/dead-letters/{id}", api_dead_letter_delete, 0, 0},
    {EVHTTP_REQ_GET, "/api/v1/workers", api_workers_list, 0, 0},
};

/* Once a second: keep an idle broker connection's heartbeats flowing (and notice when it
 * is gone), then reap expired leases and publish what is due in the outbox. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct app *app = arg;
	struct ff_err err;
	(void)fd, (void)what;
	if (app->amqp && ff_amqp_service(app->amqp, &err) < 0) {
		ff_warn("broker connection lost: %s", err.msg);
		app_amqp_reset(app);
	}
	reaper_tick(app);
	outbox_sweep(app);
}

static struct evhttp *http_server;

static void stop_listening(struct evhttp_bound_socket *b, void *arg)
{
	(void)arg;
	evconnlistener_disable(evhttp_bound_socket_get_listener(b));
}

/* Stop accepting connections, let replies already written reach their clients, then exit.
 * Handlers run to completion inside the loop, so no request is ever cut in the middle. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct app *app = arg;
	struct timeval flush = {1, 0};
	(void)what;
	ff_info("signal %d: shutting down", (int)sig);
	if (http_server)
		evhttp_foreach_bound_socket(http_server, stop_listening, NULL);
	event_base_loopexit(app->base, &flush);
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
	const char *log_level;
	long max_target_mb, max_json_kb, fault;
	const struct ff_config_entry config[] = {
	    {"FF_LISTEN", FF_CFG_STR, "0.0.0.0:8000", 0, 0, &app.cfg.listen, "listen address"},
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
	struct evhttp *http = NULL;
	struct event *timer = NULL, *sigterm = NULL, *sigint = NULL;
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
	app.cfg.max_target_bytes = (size_t)max_target_mb << 20;
	app.cfg.max_json_bytes = (size_t)max_json_kb << 10;
	app.cfg.fault_exit_after_commit = (int)fault;
	signal(SIGPIPE, SIG_IGN);

	if (ff_catalog_load(app.cfg.workflows_dir, &app.catalog, &err) < 0) {
		ff_error("workflows: %s", err.msg);
		goto out;
	}
	ff_info("loaded %zu workflows from %s", ff_catalog_count(app.catalog),
		app.cfg.workflows_dir);
	if (app_connect_db(&app, &err) < 0 || setup_api_key(&app, &err) < 0) {
		ff_error("postgresql: %s", err.msg);
		goto out;
	}
	if (health_start(app.cfg.database_url, app.cfg.amqp_url, &app.health, &err) < 0) {
		ff_error("health: %s", err.msg);
		goto out;
	}
	if (!app_amqp(&app, &err))
		ff_warn("rabbitmq not reachable yet (%s); submits answer 503 until it is", err.msg);

	app.base = event_base_new();
	/* The upload route's limit is a setting, so the table is copied before it is used. */
	static struct http_route table[sizeof(routes) / sizeof(routes[0])];
	memcpy(table, routes, sizeof(routes));
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].max_body == SIZE_MAX)
			table[i].max_body = app.cfg.max_target_bytes;
	if (!app.base ||
	    !(http = http_start(&app, table, sizeof(table) / sizeof(table[0]), &err))) {
		ff_error("http: %s", err.msg);
		goto out;
	}
	http_server = http;
	struct timeval every = {DISPATCH_EVERY_MS / 1000, (DISPATCH_EVERY_MS % 1000) * 1000};
	timer = event_new(app.base, -1, EV_PERSIST, on_timer, &app);
	event_add(timer, &every);
	sigterm = evsignal_new(app.base, SIGTERM, on_signal, &app);
	sigint = evsignal_new(app.base, SIGINT, on_signal, &app);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	ff_info("ff-controller listening on %s", app.cfg.listen);
	event_base_dispatch(app.base);
	rc = 0;
out:
	if (http)
		evhttp_free(http);
	if (timer)
		event_free(timer);
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
