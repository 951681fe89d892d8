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
#include "follow.h"
#include "pool.h"
#include "cache.h"
#include "metrics.h"
#include "ff_config.h"
#include "ff_log.h"
#include "ff_util.h"

#define DRAIN_MS 10000 /* how long replies in progress get at shutdown */

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

int main(int argc, char **argv)
{
	struct app app = {0};
	struct http_limits lim = {0};
	const char *log_level, *image_pins;
	long max_target_mb, max_json_kb, fault, db_threads, max_uploads, max_followers, rate_per_s,
	    rate_burst, audit_days, cache_mb;
	const struct ff_config_entry config[] = {
	    {"FF_LISTEN", FF_CFG_STR, "0.0.0.0:8000", 0, 0, &lim.listen, "listen address (IPv4)"},
	    {"DATABASE_URL", FF_CFG_STR,
	     "postgresql://fuzzforge:fuzzforge@127.0.0.1:5432/fuzzforge", 0, 0,
	     &app.cfg.database_url, "PostgreSQL connection URL"},
	    {"AMQP_URL", FF_CFG_STR, "amqp://guest:guest@127.0.0.1:5672/", 0, 0, &app.cfg.amqp_url,
	     "RabbitMQ URL"},
	    {"FF_WORKFLOWS_DIR", FF_CFG_STR, FF_SOURCE_DIR "/workflows", 0, 0,
	     &app.cfg.workflows_dir, "colon-separated directories of workflows"},
	    {"FF_IMAGE_PINS", FF_CFG_STR, "", 0, 0, &image_pins,
	     "file of \"<image> sha256:...\" lines (deploy/build-images.sh writes it when it "
	     "pushes to FF_REGISTRY): workflows' images pinned by digest; empty: none"},
	    {"FF_API_KEY", FF_CFG_STR, NULL, 0, 0, &app.cfg.api_key,
	     "the bootstrap admin key, at least 16 characters (required); other keys are "
	     "created with POST /api/v1/keys"},
	    {"FF_RATE_PER_S", FF_CFG_INT, "50", 1, 1000000, &rate_per_s,
	     "requests a second a key may make (its token bucket's refill), unless the key "
	     "was created with its own rate_per_s"},
	    {"FF_CORS_ORIGINS", FF_CFG_STR, "", 0, 0, &lim.cors_origins,
	     "origins browsers may call the API from, comma-separated (https://ui.example), or * "
	     "for any; empty: none (no CORS headers)"},
	    {"FF_AUDIT_DAYS", FF_CFG_INT, "90", 1, 36500, &audit_days,
	     "days the audit log keeps a request"},
	    {"FF_RATE_BURST", FF_CFG_INT, "100", 1, 1000000, &rate_burst,
	     "requests a key may make at once (its token bucket's size)"},
	    {"FF_MAX_TARGET_MB", FF_CFG_INT, "256", 1, 2047, &max_target_mb,
	     "largest target upload, MiB"},
	    {"FF_MAX_JSON_KB", FF_CFG_INT, "1024", 1, 65536, &max_json_kb,
	     "largest JSON request body, KiB"},
	    {"FF_MAX_UPLOADS", FF_CFG_INT, "4", 1, 256, &max_uploads,
	     "target uploads at once (more answer 503)"},
	    {"FF_MAX_FOLLOWERS", FF_CFG_INT, "256", 1, 65536, &max_followers,
	     "clients following runs' live logs and events at once (more answer 503)"},
	    {"FF_CACHE_MB", FF_CFG_INT, "64", 0, 65536, &cache_mb,
	     "MiB of finished runs' replies kept in memory and answered without the database; "
	     "0: none"},
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
	    {"FF_BROKER_AUDIT_S", FF_CFG_INT, "60", 0, 86400, &app.cfg.broker_audit_s,
	     "runs waiting this long for a job their queue no longer holds (a broker node lost "
	     "with its disk) are published again; 0: never checked"},
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
	if (!app.cfg.api_key || strlen(app.cfg.api_key) < 16) {
		fprintf(stderr, "ff-controller: FF_API_KEY must be set to a key of at least 16 "
				"characters: the bootstrap admin key\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads(); /* handler threads wake the loop */

	if (ff_catalog_load(app.cfg.workflows_dir, &app.catalog, &err) < 0) {
		ff_error("workflows: %s", err.msg);
		goto out;
	}
	ff_info("loaded %zu workflows from %s", ff_catalog_count(app.catalog),
		app.cfg.workflows_dir);
	size_t pinned = 0;
	if (*image_pins && ff_catalog_pin(app.catalog, image_pins, &pinned, &err) < 0) {
		ff_error("FF_IMAGE_PINS: %s", err.msg);
		goto out;
	}
	if (*image_pins)
		ff_info("%zu workflow images pinned by digest from %s", pinned, image_pins);
	const struct keys_config kc = {.database_url = app.cfg.database_url,
				       .bootstrap_key = app.cfg.api_key,
				       .rate_per_s = (double)rate_per_s,
				       .burst = (double)rate_burst};
	if (app_connect_db(&app, &err) < 0 || keys_start(&kc, &app.keys, &err) < 0 ||
	    audit_start(app.cfg.database_url, audit_days, &lim.audit, &err) < 0 ||
	    pool_start(app.cfg.database_url, (int)db_threads, &pool, &err) < 0 ||
	    cache_start(app.cfg.database_url, (size_t)cache_mb << 20, &app.cache, &err) < 0 ||
	    metrics_new(api_routes, api_nroutes, &app.metrics, &err) < 0) {
		ff_error("postgresql: %s", err.msg);
		goto out;
	}
	if (health_start(app.cfg.database_url, app.cfg.amqp_url, &app.health, &err) < 0 ||
	    committer_start(&app, &app.committer, &err) < 0) {
		ff_error("%s", err.msg);
		goto out;
	}
	lim.keys = app.keys;
	if (!(app.base = event_base_new()) ||
	    follow_start(app.cfg.database_url, app.base, (int)max_followers, &app.follow, &err) <
		0 ||
	    !(http_server = http_start(app.base, &app, &lim, api_routes, api_nroutes, pool,
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
	follow_stop(app.follow); /* after the server: its streams are gone */
	cache_stop(app.cache);	 /* after the pool and the server: nothing asks it any more */
	metrics_free(app.metrics);
	audit_stop(lim.audit); /* after the server: its last replies are recorded */
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (app.base)
		event_base_free(app.base);
	health_stop(app.health);
	keys_stop(app.keys);
	ff_amqp_free(app.amqp);
	ff_db_free(app.db);
	ff_catalog_free(app.catalog);
	return rc;
}
