/* ff — the FuzzForge command-line client: upload targets, submit and follow runs, read their
 * findings, SARIF, logs and artifacts through the controller's REST API.
 *
 * This file holds main, the help and the command table; the commands live in cmd_catalog.c
 * (the controller's workflows, readiness), cmd_runs.c (targets and runs), cmd_results.c
 * (what a run left) and cmd_admin.c (API keys, the audit log), their shared helpers in
 * ff_cmd.c.
 *
 * Commands dispatch from one table (name, options, arity, help), so `ff help` and the
 * argument checks can't drift apart. Exit status: 0 success, 1 failure (server error, run
 * not succeeded, connection), 2 usage, 3 findings at or above --fail-on, 128 + the signal
 * when SIGINT or SIGTERM stopped scan or wait.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_args.h"
#include "ff_client.h"
#include "ff_cmd.h"
#include "ff_err.h"
#include "ff_format.h"

struct cmd {
	const char *name;
	int (*fn)(struct ff_cmd_ctx *ctx, struct ff_args *a);
	unsigned opts;
	int min_pos, max_pos;
	const char *synopsis;
	const char *summary;
	const char *help;
};

static const struct cmd *cmd_find(const char *name);

/* ---- usage ---- */

static void print_usage(FILE *f);

static void print_cmd_usage(const struct cmd *c, FILE *f)
{
	fprintf(f, "usage: ff %s%s%s\n", c->name, c->synopsis[0] ? " " : "", c->synopsis);
}

static void print_cmd_help(const struct cmd *c, FILE *f)
{
	print_cmd_usage(c, f);
	fprintf(f, "\n%s\n", c->summary);
	if (c->help[0])
		fprintf(f, "\n%s", c->help);
}

/* ---- the help command ---- */

static int cmd_help(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	(void)ctx;
	if (a->npos == 0) {
		print_usage(stdout);
		return EXIT_OK;
	}
	const struct cmd *c = cmd_find(a->pos[0]);
	if (!c) {
		fprintf(stderr, "ff: unknown command '%s'\n", a->pos[0]);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	print_cmd_help(c, stdout);
	return EXIT_OK;
}

/* ---- shell completion, made from the table so that it can't drift from it ---- */

static int cmd_completion(struct ff_cmd_ctx *ctx, struct ff_args *a);

/* ff version: the client's, and the API's of the controller it would talk to. The
 * controller being away is no failure here: the version is what someone asks when it is. */
static int cmd_version(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	(void)a;
	struct ff_err err = {0};
	cJSON *doc = NULL;
	printf("ff %s\n", FF_VERSION);
	if (!ff_cmd_client(ctx, &err))
		return EXIT_OK;
	ff_client_set_timeout(ctx->client, 5000);
	if (ff_client_json(ctx->client, "GET", "/api/v1/openapi.json", NULL, &doc, &err)) {
		char *m = ff_text_clean(err.msg);
		printf("controller %s: not reachable (%s)\n", ff_client_url(ctx->client),
		       m ? m : "");
		free(m);
		return EXIT_OK;
	}
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "info"), "version"));
	char *cv = ff_text_clean(v ? v : "unknown");
	printf("controller %s: API %s\n", ff_client_url(ctx->client), cv ? cv : "");
	free(cv);
	cJSON_Delete(doc);
	return EXIT_OK;
}

/* ---- the table ---- */

static const struct cmd cmds[] = {
    {"help", cmd_help, 0, 0, 1, "[COMMAND]", "Show the commands, or one command's help.", ""},
    {"version", cmd_version, 0, 0, 0, "",
     "Print the client's version and the API version of the controller at FF_URL.",
     "ff --version is the same. A controller that can't be reached is said, not an error.\n"},
    {"completion", cmd_completion, 0, 1, 1, "bash|zsh",
     "Print the shell completion script for bash or zsh.",
     "examples:\n  source <(ff completion bash)            # in ~/.bashrc\n"
     "  ff completion zsh > \"${fpath[1]}/_ff\"   # then: autoload -U compinit && compinit\n"},
    {"workflows", cmd_workflows, FF_OPT_JSON, 0, 0, "[--json]",
     "List the workflows the controller offers: name, version, description.",
     "example:\n  ff workflows\n"},
    {"workflow", cmd_workflow, FF_OPT_JSON, 1, 1, "NAME [--json]",
     "Describe a workflow: its image, resources, retry policy and parameter table.",
     "The parameter table lists each -p parameter's name, type, default, range and\n"
     "description; --json prints the manifest as the controller holds it.\n"
     "example:\n  ff workflow secret-detection\n"},
    {"upload", cmd_upload, FF_OPT_JSON, 1, 1, "PATH [--json]",
     "Upload a target and print its sha256.",
     "PATH is a directory, packed in memory as a tar.gz of paths relative to it (.git left\n"
     "out, symlinks pointing outside it and special files skipped), or a .tar / .tar.gz\n"
     "file sent as it is. Targets are content-addressed: the same bytes give the same sha256,\n"
     "and the same tree always packs to the same bytes (sorted, no owners or times), so a\n"
     "target the controller holds already is not sent again (\"target <sha> already\n"
     "stored\" on stderr).\n"
     "\nexample:\n  ff upload ./src\n"},
    {"submit", cmd_submit, FF_OPT_PARAM | FF_OPT_PRIORITY | FF_OPT_LABEL | FF_OPT_JSON, 2, 2,
     "WORKFLOW TARGET_SHA [-p k=v]... [--priority N] [--label k=v]... [--json]",
     "Submit a run of WORKFLOW over an uploaded target; print the run id.",
     "options:\n"
     "  -p, --param k=v   a workflow parameter; the value is a JSON number, true or false\n"
     "                    when it reads as one, else a string (repeatable)\n"
     "  --priority N      0 (default) to 9, higher runs first\n"
     "  --label k=v       a free-form label kept with the run (repeatable)\n"
     "  --json            print the whole run as JSON\n"
     "\nexample:\n  ff submit secret-detection 9f86d08...0f00a08 -p min_entropy=4 --label ci=1\n"},
    {"scan", cmd_scan,
     FF_OPT_PARAM | FF_OPT_PRIORITY | FF_OPT_LABEL | FF_OPT_TIMEOUT | FF_OPT_JSON | FF_OPT_FAIL_ON |
	 FF_OPT_REPORTS | FF_OPT_BASELINE | FF_OPT_FAIL_ON_NEW,
     2, 2,
     "WORKFLOW PATH [-p k=v]... [--priority N] [--label k=v]... [--timeout S] "
     "[--fail-on LEVEL] [--baseline RUN|FILE [--fail-on-new]] [--json] [--sarif FILE] "
     "[--json-out FILE] [--junit FILE] [--csv FILE]",
     "Upload PATH, run WORKFLOW over it, wait, and print the findings.",
     "Prints a table (level, rule, path:line, message) and a summary line. PATH is not sent\n"
     "again when the controller holds the same bytes already (\"target <sha> already stored\").\n"
     "Exit status: 0 the run succeeded; 1 it ended failed, timed_out or cancelled (its state\n"
     "and error are printed), or --timeout passed; 3 it succeeded with findings at or above\n"
     "--fail-on LEVEL (error, warning, note or none); 130 / 143 on SIGINT / SIGTERM.\n"
     "On SIGINT, SIGTERM or --timeout the run is cancelled on the server; a second signal\n"
     "exits at once.\n"
     "options: as for submit, plus\n"
     "  --timeout S       give up after S seconds, cancelling the run\n"
     "  --fail-on LEVEL   exit 3 when findings at or above LEVEL exist\n"
     "  --baseline RUN|FILE  compare with run RUN's findings by fingerprint, or with a\n"
     "                    SARIF log FILE kept from an earlier scan (--sarif): each finding\n"
     "                    is new or unchanged, and the baseline's this run lacks are absent\n"
     "  --fail-on-new     with --baseline: --fail-on counts only new findings (any level\n"
     "                    when --fail-on is not given)\n"
     "  --json            print {\"run\": …, \"findings\": […]} instead of the table (and\n"
     "                    \"absent\": […] with --baseline)\n"
     "  --sarif FILE      write the run's SARIF log to FILE\n"
     "  --json-out FILE   write what --json prints to FILE\n"
     "  --junit FILE      write the findings as JUnit XML, one failing testcase each\n"
     "  --csv FILE        write the findings as CSV\n"
     "Report files are written when the run succeeded, whatever --fail-on says, each\n"
     "atomically (a temporary file renamed over FILE).\n"
     "\nexamples:\n  ff scan secret-detection . --fail-on warning --timeout 600 --junit "
     "report.xml\n"
     "  ff scan secret-detection . --baseline \"$(ff runs --label branch=main --state "
     "succeeded --limit 1 --json | jq -r '.runs[0].id')\" --fail-on-new --sarif r.sarif\n"},
    {"status", cmd_status, FF_OPT_JSON, 1, 1, "RUN_ID [--json]",
     "Show a run: state, attempt, progress, worker, error, findings summary, times.",
     "example:\n  ff status 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"wait", cmd_wait, FF_OPT_TIMEOUT | FF_OPT_JSON, 1, 1, "RUN_ID [--timeout S] [--json]",
     "Wait until a run ends; print its final state.",
     "Polls every 100 ms, backing off to 1 s, and shows live progress on stderr when it is a\n"
     "terminal. Exit status 0 when the run succeeded, 1 otherwise (or when --timeout S\n"
     "passes first), 130 / 143 on SIGINT / SIGTERM. On a signal or --timeout the run is\n"
     "cancelled on the server; a second signal exits at once.\n"
     "\nexample:\n  ff wait 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f --timeout 300\n"},
    {"runs", cmd_runs,
     FF_OPT_STATE | FF_OPT_WORKFLOW | FF_OPT_LABEL | FF_OPT_LIMIT | FF_OPT_CURSOR | FF_OPT_JSON, 0,
     0, "[--state S] [--workflow W] [--label k=v]... [--limit N] [--cursor C] [--json]",
     "List runs, newest first.",
     "options:\n"
     "  --state S      queued, running, retrying, succeeded, failed, timed_out or cancelled\n"
     "  --workflow W   only runs of workflow W\n"
     "  --label k=v    only runs carrying label k=v (repeatable: all must match)\n"
     "  --limit N      at most N runs (1-500, default 50)\n"
     "  --cursor C     the next page, as printed after a full page\n"
     "\nexample:\n  ff runs --label branch=main --state succeeded --limit 1\n"},
    {"events", cmd_events, FF_OPT_JSON, 1, 1, "RUN_ID [--json]",
     "Show a run's state history: time, state, attempt, message.",
     "example:\n  ff events 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"findings", cmd_findings, FF_OPT_LEVEL | FF_OPT_JSON | FF_OPT_BASELINE, 1, 1,
     "RUN_ID [--level L] [--baseline RUN2|FILE] [--json]",
     "Print a run's findings as a table and a summary line.",
     "options:\n"
     "  --level L        only findings of level L (error, warning, note, none)\n"
     "  --baseline RUN2|FILE  compare with RUN2's findings (or a SARIF log FILE's) by\n"
     "                   fingerprint: a STATE column (new, unchanged; the baseline's\n"
     "                   findings this run lacks follow as absent)\n"
     "  --json           print {\"findings\": […], \"total\": N} (with --baseline also\n"
     "                   \"absent\": […] and \"new\": N)\n"
     "\nexample:\n  ff findings 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f --level error\n"},
    {"sarif", cmd_sarif, FF_OPT_OUTPUT, 1, 1, "RUN_ID [-o FILE]",
     "Print a run's raw SARIF 2.1.0 log.",
     "example:\n  ff sarif 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f -o results.sarif\n"},
    {"logs", cmd_logs, FF_OPT_FOLLOW, 1, 1, "RUN_ID [-f]", "Print a run's container logs.",
     "Without -f: the stored log of a run that ended. With -f, --follow: its output as the\n"
     "container writes it, from the start, until the run ends (a run that ended already: its\n"
     "whole log).\n\n"
     "example:\n  ff logs -f 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"artifacts", cmd_artifacts, FF_OPT_JSON, 1, 1, "RUN_ID [--json]",
     "List the files a run left under /results/artifacts: name, size.",
     "example:\n  ff artifacts 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"artifact", cmd_artifact, FF_OPT_OUTPUT, 2, 2, "RUN_ID NAME [-o FILE]",
     "Download one artifact to stdout, or to FILE with -o.",
     "example:\n  ff artifact 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f report.html -o report.html\n"},
    {"ready", cmd_ready, 0, 0, 0, "",
     "Ask the controller whether it is ready (GET /readyz); exit 0 if it is, 1 if not.",
     "Prints the controller's answer, which names what is down; needs no key. For scripts\n"
     "and CI jobs that wait for the API, and the controller image's health check.\n"
     "\nexample:\n  until ff ready >/dev/null 2>&1; do sleep 1; done\n"},
    {"cancel", cmd_cancel, FF_OPT_JSON, 1, 1, "RUN_ID [--json]",
     "Cancel a queued or running run; print it.",
     "example:\n  ff cancel 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"retry", cmd_retry, FF_OPT_JSON, 1, 1, "RUN_ID [--json]",
     "Run a finished run again with a fresh attempt budget; print it.",
     "example:\n  ff retry 0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"mcp", cmd_mcp, 0, 0, 0, "",
     "Serve the platform to AI agents: a Model Context Protocol server on stdio.",
     "Tools: list_workflows, upload_directory, start_scan, get_run, list_findings (with a\n"
     "baseline run or SARIF file), get_logs, cancel_run. It uses FF_URL, FF_API_KEY and the\n"
     "profiles as every command does. An MCP client's configuration:\n"
     "  {\"mcpServers\": {\"fuzzforge\": {\"command\": \"ff\", \"args\": [\"mcp\"],\n"
     "    \"env\": {\"FF_URL\": \"http://127.0.0.1:8000\", \"FF_API_KEY\": \"…\"}}}}\n"},
    {"dead-letters", cmd_dead_letters, FF_OPT_JSON, 0, 2,
     "[list] [--json] | requeue RUN_ID | dismiss RUN_ID",
     "Runs that failed past their last attempt: list them, run one again, or dismiss one.",
     "list (the default) shows each run, its workflow, attempts, when and its last error.\n"
     "requeue runs it again with a fresh attempt budget; dismiss forgets it (the run stays\n"
     "failed). Both need an admin key.\n"
     "examples:\n  ff dead-letters\n  ff dead-letters requeue "
     "0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f\n"},
    {"workers", cmd_workers, FF_OPT_JSON, 0, 0, "[--json]",
     "List the workers: id, host, pool, state, runs running of its slots, last heartbeat.",
     "A worker whose heartbeat is older than FF_LEASE_S has its runs handed to others.\n"
     "example:\n  ff workers\n"},
    {"target", cmd_target, FF_OPT_JSON, 1, 1, "SHA256 [--json]",
     "Show an uploaded target: its digest, size and when it was stored.",
     "example:\n  ff target \"$(ff upload ./src)\"\n"},
    {"keys", cmd_keys, FF_OPT_JSON, 1, 4,
     "list [--json] | create NAME SCOPES [RATE_PER_S] [--json] | revoke KEY_ID",
     "Manage API keys (needs an admin key): list them, create one, revoke one.",
     "SCOPES is a comma-separated list of read, submit and admin (admin implies the others).\n"
     "create prints the new key on stdout, the only time it is shown; RATE_PER_S overrides\n"
     "the controller's FF_RATE_PER_S for this key. A revoked key stops working on every\n"
     "controller within a second.\n"
     "examples:\n  ff keys create ci-pipeline read,submit\n  ff keys list\n"
     "  ff keys revoke 3f0c8a52-6c1e-4a8e-9d6b-0d4f3a2b1c0e\n"},
    {"audit", cmd_audit,
     FF_OPT_JSON | FF_OPT_KEY | FF_OPT_SINCE | FF_OPT_STATUS | FF_OPT_LIMIT | FF_OPT_CURSOR, 0, 0,
     "[--key ID] [--since TIME] [--status N] [--limit N] [--cursor C] [--json]",
     "The controller's audit log, newest first (needs an admin key).",
     "Every request the API answered: when, which key (bootstrap is FF_API_KEY), method,\n"
     "route, status, client, request id; --json adds bytes in and out and the duration.\n"
     "--key filters by key id, --since by time (RFC 3339), --status by HTTP status.\n"
     "examples:\n  ff audit --status 401 --since 2026-12-01T00:00:00Z\n"
     "  ff audit --key 3f0c8a52-6c1e-4a8e-9d6b-0d4f3a2b1c0e --json\n"},
};

/* s for inside a single-quoted zsh word: ' closed, escaped and reopened, and ':' (what
 * _describe splits a name from its description at) escaped. */
static void put_zsh_quoted(const char *s, FILE *f)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else if (*s == ':')
			fputs("\\:", f);
		else
			fputc(*s, f);
	}
}

static void completion_bash(FILE *f)
{
	char words[1024];
	fputs("# bash completion for ff: source <(ff completion bash)\n"
	      "_ff() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} at=1 opts=\n"
	      "\t[ \"${COMP_WORDS[1]}\" = --profile ] && at=3\n"
	      "\tif [ \"$COMP_CWORD\" -eq \"$at\" ]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"",
	      f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "%s%s", i ? " " : "", cmds[i].name);
	fputs("\" -- \"$cur\"))\n\t\treturn\n\tfi\n\tcase \"${COMP_WORDS[at]}\" in\n", f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "\t%s) opts=\"%s --help\" ;;\n", cmds[i].name,
			ff_args_option_words(cmds[i].opts, words, sizeof(words)));
	fputs("\tesac\n"
	      "\tif [[ $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	      "\telse\n"
	      "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\tfi\n"
	      "}\n"
	      "complete -o filenames -F _ff ff\n",
	      f);
}

static void completion_zsh(FILE *f)
{
	char words[1024];
	fputs("#compdef ff\n# zsh completion for ff: ff completion zsh > \"${fpath[1]}/_ff\"\n"
	      "_ff() {\n\tlocal -a commands opts\n\tcommands=(\n",
	      f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		fprintf(f, "\t\t'%s:", cmds[i].name);
		put_zsh_quoted(cmds[i].summary, f);
		fputs("'\n", f);
	}
	fputs("\t)\n\tlocal at=2\n\t[[ $words[2] == --profile ]] && at=4\n"
	      "\tif (( CURRENT == at )); then\n\t\t_describe command commands\n\t\treturn\n"
	      "\tfi\n\tcase $words[at] in\n",
	      f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "\t%s) opts=(%s --help) ;;\n", cmds[i].name,
			ff_args_option_words(cmds[i].opts, words, sizeof(words)));
	fputs("\tesac\n\tif [[ $PREFIX == -* ]]; then\n\t\tcompadd -- $opts\n\telse\n"
	      "\t\t_files\n\tfi\n}\n_ff \"$@\"\n",
	      f);
}

static int cmd_completion(struct ff_cmd_ctx *ctx, struct ff_args *a)
{
	(void)ctx;
	if (!strcmp(a->pos[0], "bash"))
		completion_bash(stdout);
	else if (!strcmp(a->pos[0], "zsh"))
		completion_zsh(stdout);
	else {
		fprintf(stderr, "ff completion: bash or zsh, not '%s'\n", a->pos[0]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static const struct cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void print_usage(FILE *f)
{
	/* the summaries line up after the longest name (dead-letters), whatever it is */
	int w = 0;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if ((int)strlen(cmds[i].name) > w)
			w = (int)strlen(cmds[i].name);
	fputs("usage: ff [--profile NAME] COMMAND [ARGS]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-*s  %s\n", w, cmds[i].name, cmds[i].summary);
	fputs("\nenvironment:\n"
	      "  FF_URL       the controller (default " FF_CLIENT_DEFAULT_URL ")\n"
	      "  FF_API_KEY   the API key, sent as a bearer token\n"
	      "  FF_PROFILE   the profile of $XDG_CONFIG_HOME/fuzzforge/config to use (url,\n"
	      "               key_file) where FF_URL or FF_API_KEY is unset; --profile NAME\n"
	      "               too; default: [default]\n"
	      "\n'ff help COMMAND' or 'ff COMMAND --help' shows a command's options.\n",
	      f);
}

int main(int argc, char **argv)
{
	struct ff_cmd_ctx ctx = {.tty = isatty(STDERR_FILENO)};
	struct ff_args a;
	struct ff_err err = {0};
	int rc;

	/* ff [--profile NAME] COMMAND ...: the one option before the command */
	if (argc > 1 && !strncmp(argv[1], "--profile", 9) &&
	    (argv[1][9] == '=' || argv[1][9] == '\0')) {
		bool joined = argv[1][9] == '=';
		if (!joined && argc < 3) {
			fputs("ff: --profile wants a profile name\n", stderr);
			return EXIT_USAGE;
		}
		ctx.profile = joined ? argv[1] + 10 : argv[2];
		argv += joined ? 1 : 2;
		argc -= joined ? 1 : 2;
	}
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help"))
		name = "help";
	if (!strcmp(name, "--version") || !strcmp(name, "-V"))
		name = "version";
	const struct cmd *c = cmd_find(name);
	if (!c) {
		fprintf(stderr, "ff: unknown command '%s'\n", argv[1]);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (ff_args_parse(argc - 2, argv + 2, c->opts, c->min_pos, c->max_pos, &a, &err)) {
		char *m = ff_text_clean(err.msg);
		fprintf(stderr, "ff %s: %s\n", c->name, m ? m : "bad arguments");
		free(m);
		print_cmd_usage(c, stderr);
		return EXIT_USAGE;
	}
	if (a.help) {
		print_cmd_help(c, stdout);
		ff_args_release(&a);
		return EXIT_OK;
	}
	rc = c->fn(&ctx, &a);
	/* stopped by a signal: say so the way a shell would, whatever the command made of it */
	if (ff_cmd_stop_signal())
		rc = 128 + ff_cmd_stop_signal();
	ff_args_release(&a);
	ff_client_free(ctx.client);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		fprintf(stderr, "ff: cannot write the output: %s\n", strerror(errno));
		rc = EXIT_FAIL;
	}
	return rc;
}
