/* ff_cmd — the helpers every ff command uses; see ff_cmd.h.
 *
 * Here so that each is written once: printing an error or a JSON answer, reading an answer's
 * fields, building a run's path, making the client, and the two shapes most commands take:
 * a listing (--json or a table) and a download (stdout or -o FILE).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_cmd.h"
#include "ff_profile.h"

int ff_cmd_fail(const struct ff_err *err)
{
	char *msg = ff_text_clean(err->msg);
	if (err->field[0]) {
		char *field = ff_text_clean(err->field);
		fprintf(stderr, "ff: %s (%s)\n", msg ? msg : "error", field ? field : "");
		free(field);
	} else {
		fprintf(stderr, "ff: %s\n", msg ? msg : "error");
	}
	free(msg);
	return EXIT_FAIL;
}

int ff_cmd_print_json(const cJSON *j)
{
	char *s = cJSON_Print(j);
	if (!s) {
		fprintf(stderr, "ff: out of memory\n");
		return EXIT_FAIL;
	}
	puts(s);
	cJSON_free(s);
	return EXIT_OK;
}

void ff_cmd_print_field(const char *key, const char *value, int width)
{
	char *v = ff_text_clean(value ? value : "-");
	printf("%-*s %s\n", width, key, v ? v : "");
	free(v);
}

const char *ff_cmd_jstr(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

long ff_cmd_jlong(const cJSON *o, const char *key, long dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (long)v->valuedouble : dflt;
}

int ff_cmd_run_path(char *buf, size_t n, const char *id, const char *suffix, struct ff_err *err)
{
	char esc[ESC_MAX];
	if (ff_url_escape(id, esc, sizeof(esc)))
		return ff_err_set(err, FF_EINVAL, "run id too long");
	if ((size_t)snprintf(buf, n, "/api/v1/runs/%s%s", esc, suffix) >= n)
		return ff_err_set(err, FF_EINVAL, "request path too long");
	return 0;
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	if (stop_signal) {
		static const char msg[] = "ff: second signal: exiting now\n";
		ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)ignored;
		_exit(128 + sig);
	}
	stop_signal = sig;
}

void ff_cmd_catch_stop(void)
{
	struct sigaction sa = {.sa_handler = on_stop}, old;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a nap between polls ends at the signal */
	if (sigaction(SIGINT, &sa, &old) == 0 && old.sa_handler == SIG_IGN)
		sigaction(SIGINT, &old, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int ff_cmd_stop_signal(void)
{
	return stop_signal;
}

const char *ff_cmd_signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

void ff_cmd_interruptible(struct ff_cmd_ctx *ctx, bool on)
{
	if (ctx->client)
		ff_client_set_interrupt(ctx->client, on ? &stop_signal : NULL);
}

static const char *env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

struct ff_client *ff_cmd_client(struct ff_cmd_ctx *ctx, struct ff_err *err)
{
	if (ctx->client)
		return ctx->client;
	const char *url = env_set("FF_URL"), *key = env_set("FF_API_KEY");
	const char *name = ctx->profile ? ctx->profile : env_set("FF_PROFILE");
	struct ff_profile p = {0};
	char path[1024];
	if (!url || !key || name) {
		int rc = ff_profile_load(ff_profile_path(path, sizeof(path)),
					 name ? name : "default", &p, err);
		if (rc && (name || rc != FF_ENOTFOUND))
			return NULL; /* asked for by name, or a config file with a mistake */
		if (p.key_readable_by_others)
			fprintf(stderr,
				"ff: warning: the key file of profile [%s] can be read by "
				"others (chmod 600 it)\n",
				name ? name : "default");
	}
	ctx->client = ff_client_new(url ? url : p.url, key ? key : p.key, err);
	explicit_bzero(p.key, sizeof(p.key));
	ff_cmd_interruptible(ctx, true);
	return ctx->client;
}

struct ff_table *ff_cmd_table_of(const cJSON *array, int ncols, const char *const *hdr,
				 ff_cmd_row_fn *fill, struct ff_err *err)
{
	struct ff_table *t = ff_table_new(ncols, hdr);
	const char *row[FF_TABLE_MAX_COLS];
	char buf[1024];
	const cJSON *item;

	if (!t) {
		ff_err_set(err, FF_ENOMEM, "out of memory");
		return NULL;
	}
	cJSON_ArrayForEach(item, array)
	{
		fill(item, row, buf, sizeof(buf));
		if (ff_table_add(t, row, err)) {
			ff_table_free(t);
			return NULL;
		}
	}
	return t;
}

int ff_cmd_list(struct ff_cmd_ctx *ctx, struct ff_args *a, const char *path, const char *key,
		int ncols, const char *const *hdr, ff_cmd_row_fn *fill, const char *more)
{
	struct ff_err err = {0};
	cJSON *res = NULL;
	struct ff_table *t;
	int rc;

	if (!ff_cmd_client(ctx, &err) || ff_client_json(ctx->client, "GET", path, NULL, &res, &err))
		return ff_cmd_fail(&err);
	if (a->json) {
		rc = ff_cmd_print_json(res);
		goto out;
	}
	t = ff_cmd_table_of(cJSON_GetObjectItemCaseSensitive(res, key), ncols, hdr, fill, &err);
	if (!t) {
		rc = ff_cmd_fail(&err);
		goto out;
	}
	ff_table_print(t, stdout);
	ff_table_free(t);
	rc = EXIT_OK;
	const char *next = more ? ff_cmd_jstr(res, "next_cursor") : NULL;
	if (next) {
		char *c = ff_text_clean(next);
		fprintf(stderr, "more: ff %s --cursor %s\n", more, c ? c : "");
		free(c);
	}
out:
	cJSON_Delete(res);
	return rc;
}

int ff_cmd_download(struct ff_cmd_ctx *ctx, const char *path, const char *output)
{
	struct ff_err err = {0};
	bool to_stdout = !output || !strcmp(output, "-");
	FILE *f = to_stdout ? stdout : fopen(output, "wb");

	if (!f) {
		ff_err_set(&err, FF_EINVAL, "cannot create '%s': %s", output, strerror(errno));
		return ff_cmd_fail(&err);
	}
	int rc = ff_cmd_client(ctx, &err) ? ff_client_download(ctx->client, path, f, NULL, &err)
					  : err.code;
	if (!to_stdout) {
		if (fclose(f) && !rc)
			rc = ff_err_set(&err, FF_EINTERNAL, "cannot write '%s': %s", output,
					strerror(errno));
		if (rc)
			unlink(output); /* no half-written artifact left looking complete */
	}
	return rc ? ff_cmd_fail(&err) : EXIT_OK;
}
