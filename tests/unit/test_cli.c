/* test_cli — the ff client's pure parts: option and k=v parsing, parameter typing, the
 * directory tarball (read back with libarchive and passed through ff_archive_check; the same
 * bytes for the same tree), tar file loading, tables and terminal-safe text, the report
 * writers (XML and CSV escaping of hostile text, atomic files), URL escaping, error answers,
 * and a request in flight given up when a stop signal comes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "ff_archive.h"
#include "ff_args.h"
#include "ff_buf.h"
#include "ff_client.h"
#include "ff_cmd.h"
#include "ff_format.h"
#include "ff_mcp.h"
#include "ff_profile.h"
#include "ff_report.h"
#include "ff_sse.h"
#include "ff_tarball.h"
#include "ff_util.h"

/* ---- k=v and parameter values ---- */

static void kv_split(void **state)
{
	(void)state;
	static const struct {
		const char *arg;
		int rc;
		const char *key, *value;
	} cases[] = {
	    {"a=b", 0, "a", "b"},
	    {"max_depth=3", 0, "max_depth", "3"},
	    {"k=", 0, "k", ""},
	    {"k=a=b", 0, "k", "a=b"}, /* split at the first '=' only */
	    {"x.y-z=1", 0, "x.y-z", "1"},
	    {"=v", FF_EINVAL, NULL, NULL},
	    {"novalue", FF_EINVAL, NULL, NULL},
	    {"sp ace=1", FF_EINVAL, NULL, NULL},
	    {"k$=1", FF_EINVAL, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *key = NULL;
		const char *value = NULL;
		struct ff_err err = {0};
		int rc = ff_kv_split(cases[i].arg, &key, &value, &err);
		assert_int_equal(rc, cases[i].rc);
		if (rc) {
			assert_null(key);
			assert_true(err.msg[0] != '\0');
			continue;
		}
		assert_string_equal(key, cases[i].key);
		assert_string_equal(value, cases[i].value);
		free(key);
	}
	/* a key past 128 bytes is refused */
	char long_arg[200];
	memset(long_arg, 'k', 129);
	memcpy(long_arg + 129, "=1", 3);
	char *key = NULL;
	const char *value;
	assert_int_equal(ff_kv_split(long_arg, &key, &value, NULL), FF_EINVAL);
	long_arg[128] = '=';
	long_arg[129] = '1';
	long_arg[130] = '\0';
	assert_int_equal(ff_kv_split(long_arg, &key, &value, NULL), 0);
	assert_int_equal(strlen(key), 128);
	free(key);
}

static void param_values(void **state)
{
	(void)state;
	enum { NUM, STR, TRUE, FALSE };
	static const struct {
		const char *in;
		int type;
		double num;
	} cases[] = {
	    {"3", NUM, 3},	    {"-2.5", NUM, -2.5}, {"0", NUM, 0},
	    {"1e3", NUM, 1000},	    {"1E-2", NUM, 0.01}, {"-0", NUM, 0},
	    {"true", TRUE, 0},	    {"false", FALSE, 0}, {"True", STR, 0},
	    {"null", STR, 0},	    {"007", STR, 0},	 {"0x10", STR, 0},
	    {"inf", STR, 0},	    {"nan", STR, 0},	 {" 1", STR, 0},
	    {"1 ", STR, 0},	    {"1.", STR, 0},	 {".5", STR, 0},
	    {"+1", STR, 0},	    {"1e", STR, 0},	 {"", STR, 0},
	    {"-", STR, 0},	    {"1e999", STR, 0},	 {"hello world", STR, 0},
	    {"\"quoted\"", STR, 0}, {"[1,2]", STR, 0},	 {"{\"a\":1}", STR, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *v = ff_param_value(cases[i].in);
		assert_non_null(v);
		switch (cases[i].type) {
		case NUM:
			assert_true(cJSON_IsNumber(v));
			assert_true(v->valuedouble == cases[i].num);
			break;
		case TRUE: assert_true(cJSON_IsTrue(v)); break;
		case FALSE: assert_true(cJSON_IsFalse(v)); break;
		default:
			if (!cJSON_IsString(v))
				fail_msg("'%s' should stay a string", cases[i].in);
			assert_string_equal(v->valuestring, cases[i].in);
		}
		cJSON_Delete(v);
	}
}

/* ---- argument parsing ---- */

#define SUBMIT_OPTS (FF_OPT_PARAM | FF_OPT_PRIORITY | FF_OPT_LABEL | FF_OPT_JSON)
#define SCAN_OPTS   (SUBMIT_OPTS | FF_OPT_TIMEOUT | FF_OPT_FAIL_ON)

static int parse(unsigned opts, int min, int max, struct ff_args *a, struct ff_err *err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, err);
	for (char *w; (w = va_arg(ap, char *)) && argc < 32;)
		argv[argc++] = w;
	va_end(ap);
	return ff_args_parse(argc, argv, opts, min, max, a, err);
}

static void args_submit(void **state)
{
	(void)state;
	struct ff_args a;
	struct ff_err err = {0};

	/* options before, between and after positional words; repeated key: last one wins */
	assert_int_equal(parse(SUBMIT_OPTS, 2, 2, &a, &err, "-p", "depth=3", "wf", "--label",
			       "ci=yes", "abc", "--priority", "7", "-pname=x", "--param=depth=4",
			       "--json", NULL),
			 0);
	assert_int_equal(a.npos, 2);
	assert_string_equal(a.pos[0], "wf");
	assert_string_equal(a.pos[1], "abc");
	assert_int_equal(a.priority, 7);
	assert_true(a.json);
	assert_int_equal(cJSON_GetArraySize(a.params), 2);
	cJSON *d = cJSON_GetObjectItemCaseSensitive(a.params, "depth");
	assert_true(cJSON_IsNumber(d));
	assert_int_equal(d->valueint, 4);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(a.params, "name")->valuestring, "x");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(a.labels, "ci")->valuestring, "yes");
	ff_args_release(&a);

	/* labels stay strings even when they look like numbers */
	assert_int_equal(parse(SUBMIT_OPTS, 2, 2, &a, &err, "wf", "abc", "--label", "n=5", NULL),
			 0);
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(a.labels, "n")));
	assert_null(a.params);
	assert_int_equal(a.priority, -1);
	assert_false(a.json);
	ff_args_release(&a);

	/* "--" ends options: a word starting with '-' becomes positional */
	assert_int_equal(parse(SUBMIT_OPTS, 2, 2, &a, &err, "wf", "--", "-odd", NULL), 0);
	assert_string_equal(a.pos[1], "-odd");
	ff_args_release(&a);

	static const struct {
		const char *w[4];
		const char *msg_part;
	} bad[] = {
	    {{"wf", NULL}, "missing"},
	    {{"wf", "abc", "extra", NULL}, "unexpected argument 'extra'"},
	    {{"wf", "abc", "--priority", "10"}, "--priority"},
	    {{"wf", "abc", "--priority", "x"}, "--priority"},
	    {{"wf", "abc", "--priority", NULL}, "needs a value"},
	    {{"wf", "abc", "--timeout", "5"}, "unknown option '--timeout'"},
	    {{"wf", "abc", "--bogus", NULL}, "unknown option"},
	    {{"wf", "abc", "-p", "novalue"}, "--param"},
	    {{"wf", "abc", "--json=yes", NULL}, "takes no value"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[4];
		int argc = 0;
		while (argc < 4 && bad[i].w[argc]) {
			argv[argc] = (char *)bad[i].w[argc];
			argc++;
		}
		memset(&err, 0, sizeof(err));
		assert_int_equal(ff_args_parse(argc, argv, SUBMIT_OPTS, 2, 2, &a, &err), FF_EINVAL);
		if (!strstr(err.msg, bad[i].msg_part))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg_part);
		assert_null(a.params);
	}
}

static void args_scan_and_others(void **state)
{
	(void)state;
	struct ff_args a;
	struct ff_err err = {0};

	assert_int_equal(parse(SCAN_OPTS, 2, 2, &a, &err, "wf", ".", "--timeout", "1.5",
			       "--fail-on=warning", NULL),
			 0);
	assert_true(a.timeout_s == 1.5);
	assert_int_equal(a.fail_on, FF_LEVEL_WARNING);
	ff_args_release(&a);

	assert_int_equal(parse(SCAN_OPTS, 2, 2, &a, &err, "wf", ".", NULL), 0);
	assert_int_equal(a.fail_on, FF_LEVEL_INVALID);
	assert_true(a.timeout_s == 0);
	ff_args_release(&a);

	assert_int_equal(parse(SCAN_OPTS, 2, 2, &a, &err, "wf", ".", "--fail-on", "bad", NULL),
			 FF_EINVAL);
	assert_int_equal(parse(SCAN_OPTS, 2, 2, &a, &err, "wf", ".", "--timeout", "-1", NULL),
			 FF_EINVAL);
	assert_int_equal(parse(SCAN_OPTS, 2, 2, &a, &err, "wf", ".", "--timeout", "0", NULL),
			 FF_EINVAL);

	/* runs */
	unsigned runs = FF_OPT_STATE | FF_OPT_WORKFLOW | FF_OPT_LIMIT | FF_OPT_CURSOR;
	assert_int_equal(parse(runs, 0, 0, &a, &err, "--state", "failed", "--limit", "10",
			       "--workflow", "w", NULL),
			 0);
	assert_string_equal(a.state, "failed");
	assert_int_equal(a.limit, 10);
	assert_string_equal(a.workflow, "w");
	ff_args_release(&a);
	assert_int_equal(parse(runs, 0, 0, &a, &err, "--state", "done", NULL), FF_EINVAL);
	assert_int_equal(parse(runs, 0, 0, &a, &err, "--limit", "501", NULL), FF_EINVAL);
	assert_int_equal(parse(runs, 0, 0, &a, &err, "--limit", "0", NULL), FF_EINVAL);

	/* scan's report files; two reports may not share a file, "-" is refused */
	assert_int_equal(parse(SCAN_OPTS | FF_OPT_REPORTS, 2, 2, &a, &err, "wf", ".", "--sarif",
			       "r.sarif", "--json-out=r.json", "--junit", "r.xml", "--csv", "r.csv",
			       NULL),
			 0);
	assert_string_equal(a.sarif, "r.sarif");
	assert_string_equal(a.json_out, "r.json");
	assert_string_equal(a.junit, "r.xml");
	assert_string_equal(a.csv, "r.csv");
	ff_args_release(&a);
	assert_int_equal(parse(SCAN_OPTS | FF_OPT_REPORTS, 2, 2, &a, &err, "wf", ".", "--junit",
			       "same", "--csv", "same", NULL),
			 FF_EINVAL);
	assert_non_null(strstr(err.msg, "--junit and --csv both name 'same'"));
	assert_int_equal(
	    parse(SCAN_OPTS | FF_OPT_REPORTS, 2, 2, &a, &err, "wf", ".", "--csv", "-", NULL),
	    FF_EINVAL);
	assert_int_equal(
	    parse(SCAN_OPTS | FF_OPT_REPORTS, 2, 2, &a, &err, "wf", ".", "--sarif=", NULL),
	    FF_EINVAL);
	assert_int_equal(parse(SCAN_OPTS, 2, 2, &a, &err, "wf", ".", "--junit", "x", NULL),
			 FF_EINVAL);

	/* artifact -o, and --help even with missing arguments */
	assert_int_equal(parse(FF_OPT_OUTPUT, 2, 2, &a, &err, "r", "n", "-o", "out.bin", NULL), 0);
	assert_string_equal(a.output, "out.bin");
	ff_args_release(&a);
	assert_int_equal(parse(FF_OPT_OUTPUT, 2, 2, &a, &err, "--help", NULL), 0);
	assert_true(a.help);
	ff_args_release(&a);
}

static void levels_and_states(void **state)
{
	(void)state;
	assert_int_equal(ff_level_parse("error"), FF_LEVEL_ERROR);
	assert_int_equal(ff_level_parse("none"), FF_LEVEL_NONE);
	assert_int_equal(ff_level_parse("Error"), FF_LEVEL_INVALID);
	assert_int_equal(ff_level_parse(NULL), FF_LEVEL_INVALID);
	assert_true(FF_LEVEL_ERROR > FF_LEVEL_WARNING && FF_LEVEL_WARNING > FF_LEVEL_NOTE &&
		    FF_LEVEL_NOTE > FF_LEVEL_NONE);
}

/* ---- tarball ---- */

static void write_file(const char *dir, const char *rel, const char *content)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

static void make_tree(char *dir)
{
	char p[512];
	assert_non_null(mkdtemp(dir));
	write_file(dir, "a.txt", "alpha\n");
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(dir, "sub/b.txt", "bravo bravo\n");
	write_file(dir, "sub/empty", "");
	snprintf(p, sizeof(p), "%s/.git", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(dir, ".git/config", "[remote] secret\n");
	write_file(dir, "sub/.git", "gitdir: ../.git/modules/sub\n"); /* a submodule's .git file */
	write_file(dir, ".gitignore", "*.o\n");			      /* kept: not .git */
	snprintf(p, sizeof(p), "%s/sub/in", dir);
	assert_int_equal(symlink("../a.txt", p), 0);
	snprintf(p, sizeof(p), "%s/out", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/sub/up", dir);
	assert_int_equal(symlink("../../x", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0644), 0);
}

static void remove_tree(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

struct seen {
	char names[16][64];
	char contents[16][64];
	int n;
	int filter;
};

static void read_back(const void *buf, size_t len, struct seen *s)
{
	struct archive *r = archive_read_new();
	struct archive_entry *e;
	assert_non_null(r);
	archive_read_support_filter_all(r);
	archive_read_support_format_all(r);
	assert_int_equal(archive_read_open_memory(r, buf, len), ARCHIVE_OK);
	memset(s, 0, sizeof(*s));
	while (archive_read_next_header(r, &e) == ARCHIVE_OK) {
		assert_true(s->n < 16);
		const char *name = archive_entry_pathname(e);
		assert_true(name[0] != '/');
		assert_false(name[0] == '.' && name[1] == '/');
		assert_int_equal(archive_entry_uid(e), 0);
		assert_int_equal(archive_entry_gid(e), 0);
		const char *uname = archive_entry_uname(e);
		if (uname && *uname)
			fail_msg("%s: owner name '%s' kept", name, uname);
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		if (archive_entry_filetype(e) == AE_IFLNK)
			snprintf(s->contents[s->n], sizeof(s->contents[0]), "-> %s",
				 archive_entry_symlink(e));
		else if (archive_entry_filetype(e) == AE_IFREG)
			assert_true(archive_read_data(r, s->contents[s->n],
						      sizeof(s->contents[0]) - 1) >= 0);
		s->n++;
	}
	s->filter = archive_filter_code(r, 0);
	archive_read_free(r);
}

static int find(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++) {
		const char *n = s->names[i];
		size_t l = strlen(name);
		/* directories may carry a trailing '/' */
		if (!strncmp(n, name, l) && (n[l] == '\0' || (n[l] == '/' && n[l + 1] == '\0')))
			return i;
	}
	return -1;
}

static void tarball_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-test-cli-XXXXXX";
	struct ff_tarball_stats st;
	struct ff_err err = {0};
	struct seen s;
	void *buf = NULL;
	size_t len = 0;
	int i;

	make_tree(dir);
	assert_int_equal(ff_tarball_dir(dir, 0, &buf, &len, &st, &err), 0);
	assert_string_equal(ff_tarball_content_type(buf, len), "application/gzip");
	read_back(buf, len, &s);
	assert_int_equal(s.filter, ARCHIVE_FILTER_GZIP);

	/* exactly: a.txt, .gitignore, sub, sub/b.txt, sub/empty, sub/in */
	assert_int_equal(s.n, 6);
	assert_true((i = find(&s, "a.txt")) >= 0);
	assert_string_equal(s.contents[i], "alpha\n");
	assert_true((i = find(&s, "sub/b.txt")) >= 0);
	assert_string_equal(s.contents[i], "bravo bravo\n");
	assert_true((i = find(&s, "sub/empty")) >= 0);
	assert_string_equal(s.contents[i], "");
	assert_true((i = find(&s, "sub/in")) >= 0);
	assert_string_equal(s.contents[i], "-> ../a.txt");
	assert_true(find(&s, "sub") >= 0);
	assert_true(find(&s, ".gitignore") >= 0);
	assert_int_equal(find(&s, ".git"), -1);
	assert_int_equal(find(&s, ".git/config"), -1);
	assert_int_equal(find(&s, "sub/.git"), -1);
	assert_int_equal(find(&s, "out"), -1);
	assert_int_equal(find(&s, "sub/up"), -1);
	assert_int_equal(find(&s, "fifo"), -1);
	assert_int_equal(st.files, 4);
	assert_int_equal(st.dirs, 1);
	assert_int_equal(st.symlinks, 1);
	assert_int_equal(st.skipped, 3); /* out, sub/up, fifo */
	assert_int_equal(st.bytes, 6 + 12 + 0 + 4);
	/* and the controller's upload check accepts it */
	struct ff_archive_info info = {0};
	if (ff_archive_check(buf, len, NULL, &info, &err))
		fail_msg("ff_archive_check: %s", err.msg);
	assert_int_equal(info.entries, 6);
	assert_int_equal(info.files, 4);
	free(buf);

	/* a trailing slash on the directory changes nothing */
	char slashed[64];
	snprintf(slashed, sizeof(slashed), "%s//", dir);
	assert_int_equal(ff_tarball_dir(slashed, 0, &buf, &len, NULL, &err), 0);
	read_back(buf, len, &s);
	assert_int_equal(s.n, 6);
	assert_true(find(&s, "sub/b.txt") >= 0);
	free(buf);

	/* past the cap: FF_ETOOBIG, nothing returned */
	buf = NULL;
	assert_int_equal(ff_tarball_dir(dir, 64, &buf, &len, NULL, &err), FF_ETOOBIG);
	assert_null(buf);

	/* not a directory */
	char file[96];
	snprintf(file, sizeof(file), "%s/a.txt", dir);
	assert_int_equal(ff_tarball_dir(file, 0, &buf, &len, NULL, &err), FF_EINVAL);
	assert_int_equal(ff_tarball_dir("/nonexistent/ff", 0, &buf, &len, NULL, &err), FF_EINVAL);
	remove_tree(dir);
}

static void tarball_empty_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-test-cli-XXXXXX";
	struct ff_err err = {0};
	struct seen s;
	void *buf = NULL;
	size_t len = 0;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ff_tarball_dir(dir, 0, &buf, &len, NULL, &err), 0);
	assert_true(len > 0);
	read_back(buf, len, &s);
	assert_int_equal(s.n, 0);
	free(buf);
	remove_tree(dir);
}

/* Packs dir into a file from a child process: what another run of ff would send. */
static void pack_in_child(const char *dir, const char *outfile)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		void *buf = NULL;
		size_t len = 0;
		struct ff_err err = {0};
		if (ff_tarball_dir(dir, 0, &buf, &len, NULL, &err))
			_exit(1);
		FILE *f = fopen(outfile, "wb");
		_exit(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0 ? 0 : 2);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Writes the same tree into dir, its files created in the given order. */
static void make_same_tree(char *dir, bool reverse)
{
	static const char *const names[] = {
	    "zeta.c",
	    "alpha.c",
	    "mid/b.txt",
	    "mid/a.txt",
	    "a-b",
	    "mid-x",
	    /* non-ASCII and long enough for a pax extended header */
	    "mid/\xc3\xa9t\xc3\xa9-long-name-long-name-long-name-long-name-long-name-long-name-"
	    "long-name-long-name-long-name.txt",
	};
	const size_t n = sizeof(names) / sizeof(names[0]);
	char p[512];
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/mid", dir);
	assert_int_equal(mkdir(p, 0750), 0);
	for (size_t k = 0; k < n; k++) {
		const char *name = names[reverse ? n - 1 - k : k];
		write_file(dir, name, name);
	}
	snprintf(p, sizeof(p), "%s/alpha.c", dir);
	assert_int_equal(chmod(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/mid/link", dir);
	assert_int_equal(symlink("a.txt", p), 0);
}

static void touch_all(const char *dir, time_t when)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "find '%s' -exec touch -h -d @%lld {} +", dir, (long long)when);
	assert_int_equal(system(cmd), 0);
}

static void tarball_deterministic(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-test-cli-XXXXXX", other[] = "/tmp/ff-test-cli-XXXXXX";
	char file[64], sha1[FF_SHA256_HEX_LEN + 1], sha2[FF_SHA256_HEX_LEN + 1];
	struct ff_err err = {0};
	void *a = NULL, *b = NULL, *c = NULL;
	size_t alen = 0, blen = 0, clen = 0;

	make_same_tree(dir, false);
	touch_all(dir, 1000000000);
	assert_int_equal(ff_tarball_dir(dir, 0, &a, &alen, NULL, &err), 0);
	/* new times on every entry: the same bytes */
	touch_all(dir, 1700000000);
	assert_int_equal(ff_tarball_dir(dir, 0, &b, &blen, NULL, &err), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(b);
	/* the same tree made in another order (another readdir order), in another process */
	make_same_tree(other, true);
	snprintf(file, sizeof(file), "%s.tgz", other);
	pack_in_child(other, file);
	assert_int_equal(ff_tarball_load_file(file, 0, &c, &clen, &(const char *){NULL}, &err), 0);
	ff_sha256_hex(a, alen, sha1);
	ff_sha256_hex(c, clen, sha2);
	assert_string_equal(sha1, sha2);
	unlink(file);

	/* the gzip header has no timestamp (bytes 4-7) */
	const unsigned char *g = a;
	assert_true(alen > 10 && g[4] == 0 && g[5] == 0 && g[6] == 0 && g[7] == 0);
	/* entries sorted by path, every mtime 0, permission bits kept */
	struct archive *r = archive_read_new();
	struct archive_entry *e;
	char prev[512] = "";
	int n = 0;
	archive_read_support_filter_all(r);
	archive_read_support_format_all(r);
	assert_int_equal(archive_read_open_memory(r, a, alen), ARCHIVE_OK);
	while (archive_read_next_header(r, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		if (strcmp(prev, name) >= 0)
			fail_msg("'%s' comes after '%s'", name, prev);
		snprintf(prev, sizeof(prev), "%s", name);
		assert_int_equal(archive_entry_mtime(e), 0);
		if (!strcmp(name, "alpha.c"))
			assert_int_equal(archive_entry_perm(e), 0755);
		if (!strncmp(name, "mid", 3) && archive_entry_filetype(e) == AE_IFDIR)
			assert_int_equal(archive_entry_perm(e), 0750);
		n++;
	}
	archive_read_free(r);
	assert_int_equal(n, 9); /* 7 files, mid, mid/link */

	/* a different file content is a different archive */
	write_file(dir, "zeta.c", "changed");
	assert_int_equal(ff_tarball_dir(dir, 0, &b, &blen, NULL, &err), 0);
	assert_false(alen == blen && !memcmp(a, b, alen));
	free(a);
	free(b);
	free(c);
	remove_tree(dir);
	remove_tree(other);
}

static void save(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void tarball_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-test-cli-XXXXXX";
	char p[128];
	struct ff_err err = {0};
	void *gz = NULL, *buf = NULL;
	size_t gzlen = 0, len = 0;
	const char *ct = NULL;

	assert_non_null(mkdtemp(dir));
	write_file(dir, "x.c", "int main(void) { return 0; }\n");
	assert_int_equal(ff_tarball_dir(dir, 0, &gz, &gzlen, NULL, &err), 0);

	/* a .tar.gz is sent as it is */
	snprintf(p, sizeof(p), "%s/t.tgz", dir);
	save(p, gz, gzlen);
	assert_int_equal(ff_tarball_load_file(p, 0, &buf, &len, &ct, &err), 0);
	assert_string_equal(ct, "application/gzip");
	assert_int_equal(len, gzlen);
	assert_memory_equal(buf, gz, len);
	free(buf);

	/* an uncompressed tar (libarchive writes one) */
	struct archive *w = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char tar[8192];
	size_t tarlen = 0;
	archive_write_set_format_pax_restricted(w);
	assert_int_equal(archive_write_open_memory(w, tar, sizeof(tar), &tarlen), ARCHIVE_OK);
	archive_entry_set_pathname(e, "f.txt");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 2);
	assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(w, "hi", 2), 2);
	archive_write_close(w);
	archive_write_free(w);
	archive_entry_free(e);
	snprintf(p, sizeof(p), "%s/t.tar", dir);
	save(p, tar, tarlen);
	assert_int_equal(ff_tarball_load_file(p, 0, &buf, &len, &ct, &err), 0);
	assert_string_equal(ct, "application/x-tar");
	assert_int_equal(len, tarlen);
	free(buf);
	/* larger than the cap */
	buf = NULL;
	assert_int_equal(ff_tarball_load_file(p, 100, &buf, &len, &ct, &err), FF_ETOOBIG);
	assert_null(buf);

	/* neither tar nor gzip */
	snprintf(p, sizeof(p), "%s/x.c", dir);
	assert_int_equal(ff_tarball_load_file(p, 0, &buf, &len, &ct, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "neither"));
	snprintf(p, sizeof(p), "%s/missing.tar", dir);
	assert_int_equal(ff_tarball_load_file(p, 0, &buf, &len, &ct, &err), FF_EINVAL);

	free(gz);
	remove_tree(dir);
}

static void link_inside(void **state)
{
	(void)state;
	static const struct {
		const char *entry, *target;
		bool inside;
	} cases[] = {
	    {"l", "a.txt", true},
	    {"l", "./a.txt", true},
	    {"l", "..", false},
	    {"l", "../x", false},
	    {"sub/l", "../a.txt", true},
	    {"sub/l", "../../a", false},
	    {"a/b/l", "../../c", true},
	    {"a/b/l", "../../../c", false},
	    {"a/b/l", "x/../../..", true},
	    {"a/b/l", "x/../../../..", false},
	    {"l", "/etc/passwd", false},
	    {"l", "", false},
	    {"./sub/l", "../a", true},
	    {"sub//l", "../a", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ff_tarball_link_inside(cases[i].entry, cases[i].target) != cases[i].inside)
			fail_msg("case %zu: %s -> %s", i, cases[i].entry, cases[i].target);
}

/* ---- output ---- */

static char *capture_table(struct ff_table *t)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	ff_table_print(t, f);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void table_format(void **state)
{
	(void)state;
	static const char *const hdr[] = {"LEVEL", "RULE", "LOCATION", "MESSAGE"};
	struct ff_table *t = ff_table_new(4, hdr);
	struct ff_err err = {0};
	assert_non_null(t);
	const char *r1[] = {"error", "sql-injection", "src/db.c:42", "tainted\tinput"};
	const char *r2[] = {"note", "x", NULL, "ok"};
	assert_int_equal(ff_table_add(t, r1, &err), 0);
	assert_int_equal(ff_table_add(t, r2, &err), 0);
	assert_int_equal(ff_table_rows(t), 2);
	char *out = capture_table(t);
	assert_string_equal(out, "LEVEL  RULE           LOCATION     MESSAGE\n"
				 "error  sql-injection  src/db.c:42  tainted input\n"
				 "note   x              -            ok\n");
	free(out);
	ff_table_free(t);

	/* a cell past FF_TABLE_MAX_WIDTH doesn't widen its column for the other rows */
	static const char *const h2[] = {"A", "B"};
	t = ff_table_new(2, h2);
	char wide[80];
	memset(wide, 'w', 60);
	wide[60] = '\0';
	const char *w1[] = {wide, "1"};
	const char *w2[] = {"s", "2"};
	assert_int_equal(ff_table_add(t, w1, &err), 0);
	assert_int_equal(ff_table_add(t, w2, &err), 0);
	out = capture_table(t);
	char *line2 = strchr(out, '\n') + 1;
	assert_int_equal(strchr(line2, '\n') - line2, 60 + 2 + 1);
	char *line3 = strchr(line2, '\n') + 1;
	assert_int_equal(strchr(line3, '2') - line3, FF_TABLE_MAX_WIDTH + 2);
	free(out);
	ff_table_free(t);

	/* UTF-8 counts as one column per code point */
	static const char *const h3[] = {"K", "V"};
	t = ff_table_new(2, h3);
	const char *u1[] = {"h\xc3\xa9", "1"};
	assert_int_equal(ff_table_add(t, u1, &err), 0);
	out = capture_table(t);
	assert_string_equal(out, "K   V\nh\xc3\xa9  1\n");
	free(out);
	ff_table_free(t);

	/* empty trailing cells leave no trailing blanks */
	t = ff_table_new(2, h3);
	const char *e1[] = {"key", ""};
	assert_int_equal(ff_table_add(t, e1, &err), 0);
	out = capture_table(t);
	assert_string_equal(out, "K    V\nkey\n");
	free(out);
	ff_table_free(t);

	assert_null(ff_table_new(0, hdr));
	assert_null(ff_table_new(FF_TABLE_MAX_COLS + 1, hdr));
}

/* On a terminal: the table fits its width, the widest columns (the message first) cut with
 * "…", no column below its header; levels coloured, headers not. */
static void table_fits_the_terminal(void **state)
{
	(void)state;
	static const char *const hdr[] = {"LEVEL", "RULE", "LOCATION", "MESSAGE"};
	struct ff_table *t = ff_table_new(4, hdr);
	struct ff_err err = {0};
	const char *r1[] = {"error", "hardcoded-password-in-config",
			    "src/settings/production.py:42",
			    "a password is assigned to a variable named like a credential"};
	assert_int_equal(ff_table_add(t, r1, &err), 0);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	ff_table_print_fit(t, f, 60, false);
	fclose(f);
	for (char *line = out; *line;) {
		char *nl = strchr(line, '\n');
		*nl = '\0';
		assert_true(ff_text_width(line) <= 60);
		*nl = '\n';
		line = nl + 1;
	}
	assert_non_null(strstr(out, "\u2026"));
	assert_non_null(strstr(out, "LEVEL  RULE"));
	free(out);
	/* too narrow to fit: every column at its floor, still whole headers */
	f = open_memstream(&out, &len);
	ff_table_print_fit(t, f, 10, true);
	fclose(f);
	assert_non_null(strstr(out, "LEVEL  RULE      LOCATION  MESSAGE\n"));
	assert_non_null(strstr(out, "\033[31merror\033[0m  "));
	free(out);
	ff_table_free(t);
	/* not a terminal: no width, no colour */
	f = open_memstream(&out, &len);
	assert_int_equal(ff_terminal_width(f), 0);
	assert_false(ff_colour(f));
	fclose(f);
	free(out);
}

static void text_clean(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"a\tb\nc\rd", "a b c d"},
	    {"\x1b]0;pwned\x07title", "?]0;pwned?title"},
	    {"\x1b[2J", "?[2J"},
	    {"del\x7f", "del?"},
	    {"c1 \xc2\x9b"
	     "31m",
	     "c1 ?31m"},				      /* U+009B, the 8-bit CSI */
	    {"caf\xc3\xa9 \xc2\xa9", "caf\xc3\xa9 \xc2\xa9"}, /* é and © stay */
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *c = ff_text_clean(cases[i].in);
		assert_string_equal(c, cases[i].out);
		free(c);
	}
	char *c = ff_text_clean(NULL);
	assert_string_equal(c, "");
	free(c);
	assert_int_equal(ff_text_width("caf\xc3\xa9"), 4);
}

static void sizes_and_locations(void **state)
{
	(void)state;
	char b[64];
	ff_size_human(0, b, sizeof(b));
	assert_string_equal(b, "0 B");
	ff_size_human(1023, b, sizeof(b));
	assert_string_equal(b, "1023 B");
	ff_size_human(1536, b, sizeof(b));
	assert_string_equal(b, "1.5 KiB");
	ff_size_human((uint64_t)5 << 30, b, sizeof(b));
	assert_string_equal(b, "5.0 GiB");
	ff_location("src/a.c", 12, b, sizeof(b));
	assert_string_equal(b, "src/a.c:12");
	ff_location("src/a.c", 0, b, sizeof(b));
	assert_string_equal(b, "src/a.c");
	ff_location(NULL, 3, b, sizeof(b));
	assert_string_equal(b, "-");
	ff_location("", 3, b, sizeof(b));
	assert_string_equal(b, "-");
}

/* ff workers' heartbeat column: the age of an API timestamp, in the unit that reads best. */
static void ages(void **state)
{
	(void)state;
	char b[64];
	const time_t now = 1796314711; /* 2026-12-03T16:18:31Z */
	ff_age("2026-12-03T16:18:31.506997Z", now, b, sizeof(b));
	assert_string_equal(b, "0s ago");
	ff_age("2026-12-03T16:16:32Z", now, b, sizeof(b));
	assert_string_equal(b, "119s ago");
	ff_age("2026-12-03T16:16:31Z", now, b, sizeof(b));
	assert_string_equal(b, "2m ago");
	ff_age("2026-12-03T14:18:32Z", now, b, sizeof(b));
	assert_string_equal(b, "119m ago");
	ff_age("2026-12-01T16:18:31Z", now, b, sizeof(b));
	assert_string_equal(b, "48h ago");
	ff_age("2026-12-03T16:20:00Z", now, b, sizeof(b)); /* the worker's clock is ahead */
	assert_string_equal(b, "0s ago");
	ff_age("yesterday", now, b, sizeof(b));
	assert_string_equal(b, "yesterday");
	ff_age(NULL, now, b, sizeof(b));
	assert_string_equal(b, "-");
}

/* ---- report files ---- */

/* A small file's contents (caller frees). */
static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;
	struct ff_err err = {0};
	if (ff_file_read(path, 1 << 20, &buf, &len, &err))
		fail_msg("%s", err.msg);
	return buf;
}

typedef void writer_fn(FILE *f, const char *s, bool flag);

static char *capture(writer_fn *w, const char *in, bool flag)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	w(f, in, flag);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void csv_field(FILE *f, const char *s, bool flag)
{
	(void)flag;
	ff_report_csv_field(f, s);
}

static void xml_and_csv_escaping(void **state)
{
	(void)state;
	static const struct {
		const char *in, *text, *attr, *csv;
	} cases[] = {
	    {"plain", "plain", "plain", "plain"},
	    {"a<b>&c", "a&lt;b&gt;&amp;c", "a&lt;b&gt;&amp;c", "a<b>&c"},
	    {"say \"hi\"", "say \"hi\"", "say &quot;hi&quot;", "\"say \"\"hi\"\"\""},
	    {"it's", "it's", "it's", "it's"},
	    {"a,b", "a,b", "a,b", "\"a,b\""},
	    {"l1\nl2\r\n\tx", "l1\nl2&#13;\n\tx", "l1&#10;l2&#13;&#10;&#9;x", "\"l1\nl2\r\n\tx\""},
	    {"]]>", "]]&gt;", "]]&gt;", "]]>"},
	    /* controls XML 1.0 can't hold, DEL, invalid UTF-8, U+FFFE: '?' */
	    {"\x01\x1b[2J\x7f", "??[2J?", "??[2J?", "??[2J?"},
	    {"bad \xff\xc3 \xc0\xaf", "bad ?? ??", "bad ?? ??", "bad ?? ??"},
	    {"nc \xef\xbf\xbe", "nc ?", "nc ?", "nc ?"},
	    /* well-formed UTF-8 stays */
	    {"caf\xc3\xa9 \xf0\x9f\x94\x92", "caf\xc3\xa9 \xf0\x9f\x94\x92",
	     "caf\xc3\xa9 \xf0\x9f\x94\x92", "caf\xc3\xa9 \xf0\x9f\x94\x92"},
	    /* a spreadsheet formula is defused */
	    {"=HYPERLINK(\"x\")", "=HYPERLINK(\"x\")", "=HYPERLINK(&quot;x&quot;)",
	     "\"'=HYPERLINK(\"\"x\"\")\""},
	    {"@SUM(A1)", "@SUM(A1)", "@SUM(A1)", "'@SUM(A1)"},
	    {"-1+1", "-1+1", "-1+1", "'-1+1"},
	    {"", "", "", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = capture(ff_report_xml_text, cases[i].in, false);
		char *at = capture(ff_report_xml_text, cases[i].in, true);
		char *c = capture(csv_field, cases[i].in, false);
		if (strcmp(t, cases[i].text) || strcmp(at, cases[i].attr) ||
		    strcmp(c, cases[i].csv))
			fail_msg("case %zu: text '%s' attr '%s' csv '%s'", i, t, at, c);
		free(t);
		free(at);
		free(c);
	}
	char *n = capture(ff_report_xml_text, NULL, true);
	assert_string_equal(n, "");
	free(n);
	n = capture(csv_field, NULL, false);
	assert_string_equal(n, "");
	free(n);
}

static char *render(int (*fn)(FILE *, const cJSON *, struct ff_err *), const cJSON *findings)
{
	char *out = NULL;
	size_t len = 0;
	struct ff_err err = {0};
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(fn(f, findings, &err), 0);
	assert_int_equal(fclose(f), 0);
	return out;
}

static int junit_of(FILE *f, const cJSON *findings, struct ff_err *err)
{
	return ff_report_junit(f, "wf<&>", findings, err);
}

static void junit_and_csv_reports(void **state)
{
	(void)state;
	const char *json =
	    "[{\"rule_id\":\"r1\",\"level\":\"error\",\"message\":\"bad <x> & \\\"y\\\"\\n"
	    "next\",\"path\":\"src/a.c\",\"start_line\":3,\"end_line\":4,"
	    "\"fingerprint\":\"f1\"},"
	    "{\"rule_id\":\"r,2\",\"level\":\"note\",\"message\":\"\\u001b[31m\"}]";
	cJSON *findings = cJSON_Parse(json);
	assert_non_null(findings);

	char *x = render(junit_of, findings);
	assert_string_equal(
	    x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
	       "<testsuite name=\"wf&lt;&amp;&gt;\" tests=\"2\" failures=\"2\" errors=\"0\" "
	       "skipped=\"0\">\n"
	       "  <testcase classname=\"wf&lt;&amp;&gt;\" name=\"r1 at src/a.c:3\">\n"
	       "    <failure type=\"error\" message=\"bad &lt;x&gt; &amp; &quot;y&quot;&#10;next\">"
	       "level: error\nrule: r1\nlocation: src/a.c:3\nmessage: bad &lt;x&gt; &amp; "
	       "\"y\"\nnext</failure>\n  </testcase>\n"
	       "  <testcase classname=\"wf&lt;&amp;&gt;\" name=\"r,2 at -\">\n"
	       "    <failure type=\"note\" message=\"?[31m\">level: note\nrule: r,2\nlocation: -\n"
	       "message: ?[31m</failure>\n  </testcase>\n"
	       "</testsuite>\n</testsuites>\n");
	free(x);

	char *c = render(ff_report_csv, findings);
	assert_string_equal(c, "rule_id,level,path,start_line,end_line,message,fingerprint\r\n"
			       "r1,error,src/a.c,3,4,\"bad <x> & \"\"y\"\"\nnext\",f1\r\n"
			       "\"r,2\",note,,,,?[31m,\r\n");
	free(c);

	/* no findings: one passing testcase, a header-only CSV */
	cJSON *none = cJSON_CreateArray();
	x = render(junit_of, none);
	assert_non_null(strstr(x, "tests=\"1\" failures=\"0\""));
	assert_non_null(
	    strstr(x, "<testcase classname=\"wf&lt;&amp;&gt;\" name=\"no findings\"/>"));
	assert_null(strstr(x, "<failure"));
	free(x);
	c = render(ff_report_csv, none);
	assert_string_equal(c, "rule_id,level,path,start_line,end_line,message,fingerprint\r\n");
	free(c);
	cJSON_Delete(none);
	cJSON_Delete(findings);
}

static int fill_text(FILE *f, void *arg, struct ff_err *err)
{
	(void)err;
	fputs(arg, f);
	return 0;
}

static int fill_fails(FILE *f, void *arg, struct ff_err *err)
{
	fputs(arg, f);
	return ff_err_set(err, FF_EUNAVAIL, "the download broke off");
}

static void report_atomic(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-test-cli-XXXXXX", path[96], cmd[160];
	struct ff_err err = {0};
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.xml", dir);

	assert_int_equal(ff_report_write_atomic(path, fill_text, "first", &err), 0);
	char *got = slurp(path);
	assert_string_equal(got, "first");
	free(got);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	mode_t um = umask(0);
	umask(um);
	assert_int_equal(sb.st_mode & 0777, 0666 & ~um);
	/* replaced whole */
	assert_int_equal(ff_report_write_atomic(path, fill_text, "second", &err), 0);
	got = slurp(path);
	assert_string_equal(got, "second");
	free(got);
	/* a failed fill leaves the old report and no temporary file */
	assert_int_equal(ff_report_write_atomic(path, fill_fails, "half", &err), FF_EUNAVAIL);
	got = slurp(path);
	assert_string_equal(got, "second");
	free(got);
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
	/* a directory that isn't there */
	snprintf(path, sizeof(path), "%s/no/such/dir.xml", dir);
	assert_int_equal(ff_report_write_atomic(path, fill_text, "x", &err), FF_EINVAL);
	remove_tree(dir);
}

/* ---- a stop signal gives up a request in flight ---- */

static volatile sig_atomic_t stop_flag;

static void on_alarm(int sig)
{
	stop_flag = sig;
}

static void request_interrupted(void **state)
{
	(void)state;
	/* a server that takes the connection (the kernel's backlog) and never answers */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &salen), 0);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));

	struct ff_err err = {0};
	struct ff_client *c = ff_client_new(url, NULL, &err);
	assert_non_null(c);
	ff_client_set_interrupt(c, &stop_flag);
	struct sigaction act = {.sa_handler = on_alarm}, old;
	sigemptyset(&act.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &act, &old), 0);
	struct itimerval it = {.it_value = {.tv_usec = 200000}};
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);

	int64_t t0 = ff_now_ms();
	assert_int_equal(ff_client_json(c, "GET", "/api/v1/runs/x", NULL, NULL, &err), FF_EUNAVAIL);
	int64_t took = ff_now_ms() - t0;
	assert_string_equal(err.msg, "interrupted");
	if (took > 2500)
		fail_msg("the request took %lld ms to give up", (long long)took);
	/* once the flag is up, a request does not even start */
	assert_int_equal(ff_client_json(c, "GET", "/", NULL, NULL, &err), FF_EUNAVAIL);
	assert_int_equal(ff_client_last_status(c), 0);

	/* without the flag, the client's own limit ends it */
	ff_client_set_interrupt(c, NULL);
	ff_client_set_timeout(c, 300);
	t0 = ff_now_ms();
	assert_int_equal(ff_client_json(c, "GET", "/", NULL, NULL, &err), FF_EUNAVAIL);
	assert_true(ff_now_ms() - t0 < 2500);
	assert_null(strstr(err.msg, "interrupted"));

	sigaction(SIGALRM, &old, NULL);
	ff_client_free(c);
	close(s);
}

/* ---- a submit refused for the moment is retried under one Idempotency-Key ---- */

/* A server (a child process) that answers its first request 503 and its second 202, and
 * writes each request's Idempotency-Key header, one a line, to fd. */
static void refusing_server(int s, int fd)
{
	for (int i = 0; i < 2; i++) {
		int c = accept(s, NULL, NULL);
		char head[8192];
		size_t n = 0;
		ssize_t got;
		while (n < sizeof(head) - 1 &&
		       (got = read(c, head + n, sizeof(head) - 1 - n)) > 0) {
			n += (size_t)got;
			head[n] = '\0';
			char *end = strstr(head, "\r\n\r\n");
			char *cl = strcasestr(head, "Content-Length: ");
			if (end && cl && n >= (size_t)(end + 4 - head) + strtoul(cl + 16, NULL, 10))
				break;
		}
		head[n] = '\0';
		char *k = strcasestr(head, "Idempotency-Key: ");
		size_t klen = k ? strcspn(k + 17, "\r\n") : 0;
		(void)!write(fd, k ? k + 17 : "-", k ? klen : 1);
		(void)!write(fd, "\n", 1);
		static const char busy[] =
		    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		static const char ok[] =
		    "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
		    "Content-Length: 11\r\nConnection: close\r\n\r\n{\"id\":\"r1\"}";
		(void)!write(c, i == 0 ? busy : ok, i == 0 ? sizeof(busy) - 1 : sizeof(ok) - 1);
		close(c);
	}
}

static void post_once_retries(void **state)
{
	(void)state;
	int s = socket(AF_INET, SOCK_STREAM, 0), fds[2];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &salen), 0);
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		refusing_server(s, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	struct ff_err err = {0};
	struct ff_client *c = ff_client_new(url, NULL, &err);
	assert_non_null(c);
	cJSON *body = cJSON_Parse("{\"workflow\":\"w\"}"), *out = NULL;
	assert_int_equal(ff_client_post_once(c, "/api/v1/runs", body, &out, &err), 0);
	assert_string_equal(cJSON_GetObjectItem(out, "id")->valuestring, "r1");
	char keys[256] = "";
	size_t n = 0;
	ssize_t got;
	while ((got = read(fds[0], keys + n, sizeof(keys) - 1 - n)) > 0)
		n += (size_t)got;
	keys[n] = '\0';
	/* two requests, one key: "ff-<uuid>\nff-<uuid>\n", the same twice */
	char *nl = strchr(keys, '\n');
	assert_non_null(nl);
	assert_int_equal(strncmp(keys, "ff-", 3), 0);
	assert_string_equal(nl + 1 + (nl - keys), "\n");
	assert_int_equal(strncmp(keys, nl + 1, (size_t)(nl - keys)), 0);
	waitpid(pid, NULL, 0);
	cJSON_Delete(body);
	cJSON_Delete(out);
	ff_client_free(c);
	close(fds[0]);
	close(s);
}

/* ---- client helpers ---- */

static void url_escape(void **state)
{
	(void)state;
	char out[32];
	assert_int_equal(ff_url_escape("abc-1.2_~", out, sizeof(out)), 0);
	assert_string_equal(out, "abc-1.2_~");
	assert_int_equal(ff_url_escape("../x y/?&=#", out, sizeof(out)), 0);
	assert_string_equal(out, "..%2Fx%20y%2F%3F%26%3D%23");
	assert_int_equal(ff_url_escape("\xc3\xa9", out, sizeof(out)), 0);
	assert_string_equal(out, "%C3%A9");
	assert_int_equal(ff_url_escape("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(ff_url_escape("abcd", out, 4), FF_ETOOBIG);
	assert_int_equal(ff_url_escape("abc", out, 4), 0);
	assert_int_equal(ff_url_escape("ab/", out, 5), FF_ETOOBIG);
}

/* Query parameters appended whole or not at all. */
static void query_append(void **state)
{
	(void)state;
	char url[32] = "/r?limit=5";
	size_t len = strlen(url);
	assert_int_equal(ff_query_append(url, sizeof(url), &len, "label", "k=v w"), 0);
	assert_string_equal(url, "/r?limit=5&label=k%3Dv%20w");
	assert_int_equal(len, strlen(url));
	char small[16] = "/r?limit=5";
	len = strlen(small);
	assert_int_equal(ff_query_append(small, sizeof(small), &len, "state", "queued"),
			 FF_ETOOBIG);
	assert_string_equal(small, "/r?limit=5");
	assert_int_equal(len, strlen(small));
	assert_int_equal(ff_query_append(small, sizeof(small), &len, "s", "q"), 0);
	assert_string_equal(small, "/r?limit=5&s=q");
}

static void error_answers(void **state)
{
	(void)state;
	struct ff_err err = {0};
	const char *body = "{\"error\":{\"code\":\"validation_failed\",\"message\":\"priority must "
			   "be 0-9\",\"field\":\"priority\"},\"request_id\":\"r1\"}";
	assert_int_equal(ff_client_error_from_response(422, body, strlen(body), &err),
			 FF_EVALIDATE);
	assert_string_equal(err.msg, "validation_failed: priority must be 0-9");
	assert_string_equal(err.field, "priority");

	body = "{\"error\":{\"code\":\"not_found\",\"message\":\"no such run\"}}";
	assert_int_equal(ff_client_error_from_response(404, body, strlen(body), &err),
			 FF_ENOTFOUND);
	assert_string_equal(err.msg, "not_found: no such run");
	assert_string_equal(err.field, "");

	body = "<html>Bad Gateway</html>\nmore";
	assert_int_equal(ff_client_error_from_response(502, body, strlen(body), &err), FF_EUNAVAIL);
	assert_string_equal(err.msg, "http_502: <html>Bad Gateway</html>");
	assert_int_equal(ff_client_error_from_response(500, NULL, 0, &err), FF_EINTERNAL);
	assert_string_equal(err.msg, "http_500: unexpected answer");

	assert_int_equal(ff_client_status_code(401), FF_EAUTH);
	assert_int_equal(ff_client_status_code(403), FF_EAUTH);
	assert_int_equal(ff_client_status_code(409), FF_ECONFLICT);
	assert_int_equal(ff_client_status_code(413), FF_ETOOBIG);
	assert_int_equal(ff_client_status_code(415), FF_EINVAL);
	assert_int_equal(ff_client_status_code(503), FF_EUNAVAIL);

	/* the base URL must be http(s) */
	assert_null(ff_client_new("ftp://x", NULL, &err));
	assert_string_equal(err.field, "FF_URL");
	struct ff_client *c = ff_client_new("http://127.0.0.1:1///", "k", &err);
	assert_non_null(c);
	assert_string_equal(ff_client_url(c), "http://127.0.0.1:1");
	ff_client_free(c);
}

/* ---- ff_sse ---- */

struct sse_seen {
	char text[1024]; /* "event|id|data;" per message */
};

static void sse_record(void *ctx, const char *event, const char *id, const char *data)
{
	struct sse_seen *s = ctx;
	size_t n = strlen(s->text);
	snprintf(s->text + n, sizeof(s->text) - n, "%s|%s|%s;", event, id, data);
}

/* Messages come whole however the stream is cut: CRLF, CR or LF line ends, comments
 * skipped, data lines joined, the id kept across messages, an unnamed event a "message". */
static void sse_parses_any_split(void **state)
{
	(void)state;
	static const char stream[] =
	    ": keep-alive\n\nid: 7\nevent: state\ndata: {\"state\":\"running\"}\n\n"
	    "event: progress\r\ndata:{\"progress\":5}\r\n\r\n"
	    "data: a\rdata: b\r\rretry: 10\nid: 8\nevent: end\ndata\n\n";
	static const char want[] = "state|7|{\"state\":\"running\"};progress|7|{\"progress\":5};"
				   "message|7|a\nb;end|8|;";
	for (size_t cut = 0; cut < sizeof(stream) - 1; cut++) {
		struct sse_seen seen = {""};
		struct ff_sse p;
		ff_sse_init(&p, sse_record, &seen);
		assert_int_equal(ff_sse_feed(&p, stream, cut), 0);
		assert_int_equal(ff_sse_feed(&p, stream + cut, sizeof(stream) - 1 - cut), 0);
		assert_string_equal(seen.text, want);
		ff_sse_release(&p);
	}
	/* a line past the limit ends the stream */
	struct sse_seen seen = {""};
	struct ff_sse p;
	ff_sse_init(&p, sse_record, &seen);
	char *big = malloc(FF_SSE_MAX + 2);
	memset(big, 'x', FF_SSE_MAX + 1);
	assert_int_equal(ff_sse_feed(&p, big, FF_SSE_MAX + 1), FF_ETOOBIG);
	free(big);
	ff_sse_release(&p);
}

/* ---- ff_profile ---- */

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Profiles by name; the key from its key_file; a mistake named by line; missing ones. */
static void profiles_load(void **state)
{
	(void)state;
	char dir[] = "/tmp/ff-profile-XXXXXX", conf[128], key[128], text[512];
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/config", dir);
	snprintf(key, sizeof(key), "%s/ci.key", dir);
	write_text(key, "  ci-key-0123456789abcdef  \nsecond line\n", 0600);
	snprintf(text, sizeof(text),
		 "# laptop\n[default]\nurl = http://127.0.0.1:8000\n\n; the farm\n"
		 "[ci]\n  url=https://ff.example\nkey_file = %s\n",
		 key);
	write_text(conf, text, 0644);
	struct ff_profile p;
	struct ff_err err = {0};
	assert_int_equal(ff_profile_load(conf, "ci", &p, &err), 0);
	assert_string_equal(p.url, "https://ff.example");
	assert_string_equal(p.key, "ci-key-0123456789abcdef");
	assert_false(p.key_readable_by_others);
	assert_int_equal(ff_profile_load(conf, "default", &p, &err), 0);
	assert_string_equal(p.url, "http://127.0.0.1:8000");
	assert_string_equal(p.key, "");
	assert_int_equal(ff_profile_load(conf, "prod", &p, &err), FF_ENOTFOUND);
	assert_non_null(strstr(err.msg, "[prod]"));
	chmod(key, 0644);
	assert_int_equal(ff_profile_load(conf, "ci", &p, &err), 0);
	assert_true(p.key_readable_by_others);
	write_text(conf, "[ci]\nurl = x\ntoken = y\n", 0644);
	assert_int_equal(ff_profile_load(conf, "ci", &p, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "config:3: unknown setting 'token'"));
	write_text(conf, "[ci]\nkey_file = /nonexistent/k\n", 0644);
	assert_int_equal(ff_profile_load(conf, "ci", &p, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "/nonexistent/k"));
	unlink(conf);
	assert_int_equal(ff_profile_load(conf, "default", &p, &err), FF_ENOTFOUND);
	unlink(key);
	rmdir(dir);
}

/* ff workflow's parameter table: type, default ("" for an empty string), the range of a
 * number, an enum's values, a string's longest length. */
static void params_table(void **state)
{
	(void)state;
	cJSON *schema = cJSON_Parse(
	    "{\"type\":\"object\",\"properties\":{"
	    "\"greeting\":{\"type\":\"string\",\"default\":\"hello\",\"maxLength\":32,"
	    "\"description\":\"echoed\"},"
	    "\"depth\":{\"type\":\"integer\",\"default\":3,\"minimum\":1,\"maximum\":1048576},"
	    "\"mode\":{\"type\":\"string\",\"enum\":[\"fast\",\"deep\"],\"default\":\"fast\"},"
	    "\"ratio\":{\"type\":\"number\",\"minimum\":0.5},"
	    "\"exclude\":{\"type\":\"string\",\"default\":\"\"},"
	    "\"verbose\":{\"type\":\"boolean\",\"default\":false}}}");
	struct ff_err err = {0};
	struct ff_table *t = ff_cmd_params_table(schema, &err);
	assert_non_null(t);
	char *out = capture_table(t);
	assert_string_equal(out, "PARAMETER  TYPE     DEFAULT  RANGE       DESCRIPTION\n"
				 "greeting   string   hello    \u2264 32 chars  echoed\n"
				 "depth      integer  3        1\u20131048576   -\n"
				 "mode       string   fast     fast|deep   -\n"
				 "ratio      number   -        0.5\u2013        -\n"
				 "exclude    string   \"\"       -           -\n"
				 "verbose    boolean  false    -           -\n");
	free(out);
	ff_table_free(t);
	cJSON_Delete(schema);
}

/* ---- ff_mcp: the protocol, without a controller ---- */

static cJSON *mcp(struct ff_cmd_ctx *ctx, const char *line)
{
	char *out = ff_mcp_handle(ctx, line, strlen(line));
	cJSON *j = out ? cJSON_Parse(out) : NULL;
	if (out)
		assert_non_null(j);
	free(out);
	return j;
}

static const cJSON *at(const cJSON *j, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, a);
	return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

/* initialize negotiates a revision; tools/list lists every tool with an object schema;
 * notifications and blank lines get no answer; protocol errors get their codes; a tool's
 * own failure (a bad argument; here also no controller) is a result with isError. */
static void mcp_protocol(void **state)
{
	(void)state;
	setenv("FF_URL", "http://127.0.0.1:1", 1); /* nobody: a tool that calls out fails */
	struct ff_cmd_ctx ctx = {0};
	cJSON *r = mcp(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
			     "\"params\":{\"protocolVersion\":\"2025-03-26\"}}");
	assert_string_equal(at(at(r, "result", NULL), "protocolVersion", NULL)->valuestring,
			    "2025-03-26");
	assert_string_equal(at(at(r, "result", NULL), "serverInfo", "name")->valuestring,
			    "fuzzforge");
	cJSON_Delete(r);
	/* the other revisions a client may ask for come back as asked, the spec's rule */
	static const char *const asked[] = {"2025-11-25", "2025-06-18", "2024-11-05"};
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		char line[160];
		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
			 "\"params\":{\"protocolVersion\":\"%s\"}}",
			 asked[i]);
		r = mcp(&ctx, line);
		assert_string_equal(at(at(r, "result", NULL), "protocolVersion", NULL)->valuestring,
				    asked[i]);
		assert_non_null(at(at(r, "result", NULL), "capabilities", "tools"));
		cJSON_Delete(r);
	}
	r = mcp(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}");
	assert_true(cJSON_IsObject(at(r, "result", NULL)));
	assert_int_equal(at(r, "id", NULL)->valueint, 9);
	cJSON_Delete(r);
	r = mcp(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"initialize\","
		      "\"params\":{\"protocolVersion\":\"1999-01-01\"}}");
	assert_string_equal(at(at(r, "result", NULL), "protocolVersion", NULL)->valuestring,
			    "2025-11-25");
	assert_string_equal(at(r, "id", NULL)->valuestring, "a");
	cJSON_Delete(r);
	assert_null(mcp(&ctx, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
	assert_null(mcp(&ctx, "  \r\n"));
	r = mcp(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
	const cJSON *t, *tools = at(at(r, "result", NULL), "tools", NULL);
	assert_true(cJSON_GetArraySize(tools) >= 6);
	cJSON_ArrayForEach(t, tools)
	{
		assert_non_null(cJSON_GetStringValue(at(t, "name", NULL)));
		assert_string_equal(at(t, "inputSchema", "type")->valuestring, "object");
	}
	cJSON_Delete(r);
	static const struct {
		const char *line;
		int code;
	} errors[] = {
	    {"{not json", -32700},
	    {"[1,2]", -32600},
	    {"{\"jsonrpc\":\"2.0\",\"id\":3}", -32600},
	    {"{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"ping\"}", -32600},
	    {"{\"id\":3,\"method\":\"ping\"}", -32600},
	    {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", -32600},
	    {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", -32600},
	    {"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/list\"}", -32601},
	    {"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}",
	     -32602},
	};
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		r = mcp(&ctx, errors[i].line);
		assert_int_equal(at(r, "error", "code")->valueint, errors[i].code);
		cJSON_Delete(r);
	}
	assert_null(mcp(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}")); /* a response */
	static const char *const tool_errors[] = {
	    "{\"name\":\"get_run\",\"arguments\":{}}",
	    "{\"name\":\"get_run\",\"arguments\":{\"run_id\":\"not-a-uuid\"}}",
	    "{\"name\":\"start_scan\",\"arguments\":{\"workflow\":\"w\"}}",
	    "{\"name\":\"list_findings\",\"arguments\":{\"run_id\":\"x\",\"limit\":0}}",
	    "{\"name\":\"list_findings\",\"arguments\":{\"run_id\":\"x\",\"limit\":\"5\"}}",
	    "{\"name\":\"list_findings\",\"arguments\":{\"run_id\":\"x\",\"level\":\"bad\"}}",
	    "{\"name\":\"upload_directory\",\"arguments\":{}}",
	    "{\"name\":\"cancel_run\",\"arguments\":{\"run_id\":\"nope\"}}",
	    "{\"name\":\"list_workflows\",\"arguments\":{}}", /* the controller is down */
	};
	for (size_t i = 0; i < sizeof(tool_errors) / sizeof(tool_errors[0]); i++) {
		char line[512];
		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":%s}",
			 tool_errors[i]);
		r = mcp(&ctx, line);
		const cJSON *res = at(r, "result", NULL);
		assert_true(cJSON_IsTrue(at(res, "isError", NULL)));
		const cJSON *text = cJSON_GetArrayItem(at(res, "content", NULL), 0);
		assert_non_null(strstr(at(text, "text", NULL)->valuestring, "error: "));
		cJSON_Delete(r);
	}
	ff_client_free(ctx.client);
	unsetenv("FF_URL");
}

/* The stdio loop: one answer line per request line, none for a notification or a blank
 * line, in order; a bad line does not stop the ones after it. */
static void mcp_serve_lines(void **state)
{
	(void)state;
	static const char input[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
	    "\"clientInfo\":{\"name\":\"t\",\"version\":\"0\"}}}\n"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
	    "\n"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/li\n"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/list\"}\n"
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}"; /* no last newline */
	FILE *in = fmemopen((void *)input, sizeof(input) - 1, "r");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(in);
	assert_non_null(out);
	struct ff_cmd_ctx ctx = {0};
	assert_int_equal(ff_mcp_serve(&ctx, in, out), 0);
	fclose(in);
	fclose(out);
	static const struct {
		int id, error; /* 0: a result */
	} want[] = {{1, 0}, {-1, -32700}, {3, -32601}, {4, 0}};
	char *save = NULL, *line = strtok_r(text, "\n", &save);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]);
	     i++, line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(line);
		cJSON *r = cJSON_Parse(line);
		assert_non_null(r);
		assert_string_equal(at(r, "jsonrpc", NULL)->valuestring, "2.0");
		if (want[i].id < 0)
			assert_true(cJSON_IsNull(at(r, "id", NULL)));
		else
			assert_int_equal(at(r, "id", NULL)->valueint, want[i].id);
		if (want[i].error)
			assert_int_equal(at(r, "error", "code")->valueint, want[i].error);
		else
			assert_non_null(at(r, "result", NULL));
		cJSON_Delete(r);
	}
	assert_null(line);
	free(text);
	ff_client_free(ctx.client);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kv_split),
	    cmocka_unit_test(sse_parses_any_split),
	    cmocka_unit_test(table_fits_the_terminal),
	    cmocka_unit_test(profiles_load),
	    cmocka_unit_test(mcp_protocol),
	    cmocka_unit_test(mcp_serve_lines),
	    cmocka_unit_test(params_table),
	    cmocka_unit_test(param_values),
	    cmocka_unit_test(args_submit),
	    cmocka_unit_test(args_scan_and_others),
	    cmocka_unit_test(levels_and_states),
	    cmocka_unit_test(tarball_dir),
	    cmocka_unit_test(tarball_empty_dir),
	    cmocka_unit_test(tarball_files),
	    cmocka_unit_test(link_inside),
	    cmocka_unit_test(table_format),
	    cmocka_unit_test(text_clean),
	    cmocka_unit_test(sizes_and_locations),
	    cmocka_unit_test(ages),
	    cmocka_unit_test(url_escape),
	    cmocka_unit_test(query_append),
	    cmocka_unit_test(error_answers),
	    cmocka_unit_test(tarball_deterministic),
	    cmocka_unit_test(xml_and_csv_escaping),
	    cmocka_unit_test(junit_and_csv_reports),
	    cmocka_unit_test(report_atomic),
	    cmocka_unit_test(request_interrupted),
	    cmocka_unit_test(post_once_retries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
