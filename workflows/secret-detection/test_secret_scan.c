/* Unit tests for ff-secret-scan (ss_lib): SHA-256, entropy, placeholders, every rule's
 * positives and near misses, redaction, allow-lists, the tree walk's filters and the SARIF
 * writer. Kept beside the workflow (not in tests/unit) because it links ss_lib, not
 * ff_common. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "ss_rules.h"
#include "ss_sarif.h"
#include "ss_scan.h"
#include "ss_sha256.h"

/* Fake secrets, spelled so they match the rules while saying FAKE. */
#define AWS_ID	   "AKIAFAKEFAKEFAKE1234"
#define AWS_SECRET "fAkE/SeCrEt+KeY0123456789fakeFAKEfake012"
#define GH_TOKEN   "ghp_FAKE0123456789fakeFAKE0123456789fake"
#define GENERIC	   "Zq8#vLp2!xR7tW4sQ"
#define PK_BODY1   "MIIEpAIBAAKCAQEAFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAK"
#define PK_BODY2   "EKEYfakekeyfakekeyfakekeyfakekeyfakekeyfakekeyfakekeyfakekeyfakekey0"
#define JWT_TOKEN                                                                                  \
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."                                                    \
	"eyJzdWIiOiJmYWtlLXVzZXIiLCJuYW1lIjoiRmFrZSBVc2VyIn0."                                     \
	"FAKEsignatureFAKEsignatureFAKE0123"

static struct ss_findings scan_as(const char *path, const char *text, double min_entropy)
{
	struct ss_findings f = {0};
	struct ss_match_opts o = {.min_entropy = min_entropy};
	struct ff_err err = {0};

	assert_int_equal(ss_scan_buffer(&o, path, text, strlen(text), &f, &err), 0);
	return f;
}

static struct ss_findings scan(const char *text)
{
	return scan_as("t/file.txt", text, SS_DEFAULT_MIN_ENTROPY);
}

/* The secret must appear nowhere a report shows: message, preview, snippet. */
static void assert_no_leak(const struct ss_findings *f, const char *secret)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct ss_finding *x = &f->items[i];
		if (strstr(x->message, secret) || strstr(x->preview, secret) ||
		    strstr(x->snippet, secret))
			fail_msg("secret %s leaked in finding %zu: %s | %s", secret, i, x->message,
				 x->snippet);
	}
}

/* ---- SHA-256 ---- */

static void test_sha256_vectors(void **state)
{
	static const struct {
		const char *in, *hex;
	} v[] = {
	    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
	     "nopqrlmnopqrsmnopqrstnopqrstu",
	     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	char hex[SS_SHA256_HEX_LEN + 1];
	struct ss_sha256 s;
	char chunk[1000];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ss_sha256_hex(v[i].in, strlen(v[i].in), hex);
		assert_string_equal(hex, v[i].hex);
	}
	/* one million 'a', fed in chunks that straddle block boundaries */
	memset(chunk, 'a', sizeof(chunk));
	ss_sha256_init(&s);
	for (size_t done = 0, step = 1; done < 1000000; done += step, step = step % 997 + 1) {
		if (done + step > 1000000)
			step = 1000000 - done;
		ss_sha256_update(&s, chunk, step);
	}
	ss_sha256_final_hex(&s, hex);
	assert_string_equal(hex,
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_matches_openssl(void **state)
{
	uint8_t buf[300], mine[SS_SHA256_LEN], ref[SHA256_DIGEST_LENGTH];
	unsigned seed = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
	for (size_t len = 0; len <= sizeof(buf); len++) {
		struct ss_sha256 s;
		size_t split = len ? (len * 7) % len : 0;

		ss_sha256_init(&s);
		ss_sha256_update(&s, buf, split);
		ss_sha256_update(&s, buf + split, len - split);
		ss_sha256_final(&s, mine);
		SHA256(buf, len, ref);
		assert_memory_equal(mine, ref, SS_SHA256_LEN);
	}
}

/* ---- entropy, placeholders, allow markers, redaction ---- */

static void test_entropy(void **state)
{
	char all[256];

	(void)state;
	assert_true(ss_entropy("", 0) == 0.0);
	assert_true(ss_entropy("aaaaaaaa", 8) == 0.0);
	assert_true(ss_entropy("abab", 4) == 1.0);
	assert_true(ss_entropy("abcd", 4) == 2.0);
	assert_true(ss_entropy("abcdefgh", 8) == 3.0);
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	assert_true(ss_entropy(all, 256) == 8.0);
	/* the gate: a random-looking value passes 3.5, a word does not */
	assert_true(ss_entropy(GENERIC, strlen(GENERIC)) >= 3.5);
	assert_true(ss_entropy("passwordpassword", 16) < 3.5);
}

static void test_placeholders(void **state)
{
	static const char *const yes[] = {
	    "changeme",		 "CHANGEME123",	    "example-password",
	    "xxxxxxxxxxxx",	 "XXXXXXXX",	    "********",
	    "${DB_PASSWORD}",	 "$DB_PASSWORD",    "<password>",
	    "{{ vault }}",	 "%(password)s",    "os.getenv('PW')",
	    "process.env.TOKEN", "your_token_here", "%APPDATA%",
	    "00000000000000",	 "#{secret}",	    "AKIAIOSFODNN7EXAMPLE",
	};
	static const char *const no[] = {GENERIC, AWS_SECRET, GH_TOKEN, "hunter2hunter2",
					 "S3cr3t-FAKE-value-42!"};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!ss_is_placeholder(yes[i], strlen(yes[i])))
			fail_msg("%s should be a placeholder", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (ss_is_placeholder(no[i], strlen(no[i])))
			fail_msg("%s should not be a placeholder", no[i]);
}

static void test_line_allowed(void **state)
{
	(void)state;
	assert_true(ss_line_allowed("key = 1 # ff:allow", 18));
	assert_true(ss_line_allowed("key = 1 // gitleaks:allow", 25));
	assert_true(ss_line_allowed("key = 1 /* nosecret */", 22));
	assert_false(ss_line_allowed("key = 1 # allow", 15));
	/* only the bytes of the line count */
	assert_false(ss_line_allowed("key = 1 # ff:allow", 9));
}

static void test_redact(void **state)
{
	char out[48];

	(void)state;
	ss_redact(GENERIC, strlen(GENERIC), out, sizeof(out));
	assert_string_equal(out, "Zq8#…");
	/* whole UTF-8 characters */
	ss_redact("ééééééééé", strlen("ééééééééé"), out, sizeof(out));
	assert_string_equal(out, "éééé…");
	/* too small a buffer shows nothing of the secret rather than a cut character */
	ss_redact(GENERIC, strlen(GENERIC), out, 6);
	assert_string_equal(out, "…");
}

/* ---- rules ---- */

struct rule_case {
	int rule;	    /* expected rule, -1 for no finding */
	const char *text;   /* a file's contents */
	const char *secret; /* what must never be shown whole */
};

static const struct rule_case positives[] = {
    {SS_RULE_PRIVATE_KEY,
     "-----BEGIN RSA PRIVATE KEY-----\n" PK_BODY1 "\n" PK_BODY2 "\n-----END RSA PRIVATE KEY-----\n",
     PK_BODY1},
    {SS_RULE_PRIVATE_KEY,
     "-----BEGIN OPENSSH PRIVATE KEY-----\r\n" PK_BODY2 "\r\n-----END OPENSSH PRIVATE KEY-----\r\n",
     PK_BODY2},
    {SS_RULE_PRIVATE_KEY,
     "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
     "AES-128-CBC,00FAKE\n\n" PK_BODY1 "\n-----END RSA PRIVATE KEY-----\n",
     PK_BODY1},
    {SS_RULE_PRIVATE_KEY,
     "{\"key\": \"-----BEGIN PRIVATE KEY-----\\n" PK_BODY1 "\\n" PK_BODY2
     "\\n-----END PRIVATE KEY-----\\n\"}\n",
     PK_BODY1},
    {SS_RULE_AWS_ACCESS_KEY_ID, "aws_access_key_id = " AWS_ID "\n", AWS_ID},
    {SS_RULE_AWS_ACCESS_KEY_ID, "creds: ASIAFAKEFAKEFAKE5678", "ASIAFAKEFAKEFAKE5678"},
    {SS_RULE_AWS_SECRET_ACCESS_KEY, "aws_secret_access_key = \"" AWS_SECRET "\"\n", AWS_SECRET},
    {SS_RULE_AWS_SECRET_ACCESS_KEY, "AWS_SECRET_KEY=" AWS_SECRET "\n", AWS_SECRET},
    {SS_RULE_GITHUB_TOKEN, "GITHUB_TOKEN=" GH_TOKEN "\n", GH_TOKEN},
    {SS_RULE_GITHUB_TOKEN, "x gho_FAKE0123456789fakeFAKE0123456789fake",
     "gho_FAKE0123456789fakeFAKE0123456789fake"},
    {SS_RULE_GITHUB_TOKEN, "(ghu_FAKE0123456789fakeFAKE0123456789fake)",
     "ghu_FAKE0123456789fakeFAKE0123456789fake"},
    {SS_RULE_GITHUB_TOKEN, "'ghs_FAKE0123456789fakeFAKE0123456789fake'",
     "ghs_FAKE0123456789fakeFAKE0123456789fake"},
    {SS_RULE_GITHUB_TOKEN, "ghr_FAKE0123456789fakeFAKE0123456789fake",
     "ghr_FAKE0123456789fakeFAKE0123456789fake"},
    {SS_RULE_GITHUB_FINE_GRAINED_PAT,
     "pat: github_pat_11FAKE0FAKE0123456789ab_FAKEfake0123456789FAKEfake0123456789FAKEfake",
     "github_pat_11FAKE0FAKE0123456789ab_FAKEfake0123456789FAKEfake0123456789FAKEfake"},
    {SS_RULE_GITLAB_PAT, "url=x glpat-FAKEfake0123456789ab;", "glpat-FAKEfake0123456789ab"},
    {SS_RULE_SLACK_TOKEN, "slack: xoxb-000000000000-0000000000000-FAKEfakeFAKEfakeFAKEfake",
     "xoxb-000000000000-0000000000000-FAKEfakeFAKEfakeFAKEfake"},
    {SS_RULE_SLACK_TOKEN, "xoxp-1234567890-FAKEfakeFAKE", "xoxp-1234567890-FAKEfakeFAKE"},
    {SS_RULE_SLACK_WEBHOOK,
     "hook: https://hooks.slack.com/services/T00000000/B00000000/FAKEfakeFAKEfakeFAKEfake\n",
     "T00000000/B00000000/FAKEfakeFAKEfakeFAKEfake"},
    {SS_RULE_STRIPE_SECRET_KEY, "stripe_key: sk_live_FAKEfakeFAKEfake0123456789\n",
     "sk_live_FAKEfakeFAKEfake0123456789"},
    {SS_RULE_STRIPE_SECRET_KEY, "rk_live_FAKEfakeFAKEfake0123456789",
     "rk_live_FAKEfakeFAKEfake0123456789"},
    {SS_RULE_GOOGLE_API_KEY, "MAPS_API_KEY = \"AIzaFAKEfake-FAKE_fake0123456789abcdefg\"",
     "AIzaFAKEfake-FAKE_fake0123456789abcdefg"},
    {SS_RULE_JWT, "Authorization: Bearer " JWT_TOKEN "\n", JWT_TOKEN},
    {SS_RULE_GENERIC_CREDENTIAL, "password = \"" GENERIC "\"\n", GENERIC},
    {SS_RULE_GENERIC_CREDENTIAL, "db:\n  password: '" GENERIC "'\n", GENERIC},
    {SS_RULE_GENERIC_CREDENTIAL, "{\"clientSecret\": \"" GENERIC "\"}", GENERIC},
    {SS_RULE_GENERIC_CREDENTIAL, "apiKey := \"" GENERIC "\"", GENERIC},
    {SS_RULE_GENERIC_CREDENTIAL, "'api_key' => '" GENERIC "',", GENERIC},
    {SS_RULE_GENERIC_CREDENTIAL, "export API_TOKEN=" GENERIC "\n", GENERIC},
    {SS_RULE_GENERIC_CREDENTIAL, "run --db-password=" GENERIC " --verbose", GENERIC},
    {SS_RULE_GENERIC_CREDENTIAL, "spring.datasource.password=" GENERIC, GENERIC},
    {SS_RULE_GENERIC_CREDENTIAL, "ACCESS_KEY: \"S3cr3t-FAKE-value-42!\"", "S3cr3t-FAKE-value-42!"},
};

static const char *const negatives[] = {
    /* near misses of each token */
    "AKIAFAKEFAKEFAKE123 is one short",
    "AKIAFAKEFAKEFAKE12345 is one long",
    "AKIAfakefakefake1234 is lower case",
    "XAKIAFAKEFAKEFAKE1234 inside a word",
    "doc: AKIAIOSFODNN7EXAMPLE",
    "ghp_FAKE0123456789fakeFAKE0123456789fak (35)",
    "ghx_FAKE0123456789fakeFAKE0123456789fake",
    "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "github_pat_short",
    "glpat-tooshort",
    "xoxb-not-a-real-token-at-all",
    "see hooks.slack.com/services/ for details",
    "sk_test_FAKEfakeFAKEfake0123456789",
    "sk_live_short",
    "AIzaFAKEfake-FAKE_fake0123456789abcdef (34)",
    "AIzaFAKEfake-FAKE_fake0123456789abcdefgh (36)",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0 has two segments",
    "-----BEGIN PUBLIC KEY-----\n" PK_BODY1 "\n-----END PUBLIC KEY-----\n",
    "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n",
    "if (strstr(pem, \"-----BEGIN RSA PRIVATE KEY-----\")) return 1;",
    /* generic: placeholders, code, low entropy, short values */
    "password = \"aaaaaaaaaaaaaaaaaaaa\"",
    "password = \"passwordpassword\"",
    "password = \"changeme\"",
    "DB_PASSWORD=${DB_PASSWORD}",
    "password: <password>",
    "password = os.getenv(\"DB_PASSWORD\")",
    "api_key = os.environ[\"API_KEY\"]",
    "const token = process.env.GITHUB_TOKEN;",
    "if password == \"" GENERIC "\":",
    "if (token != \"" GENERIC "\")",
    "def check(password: str) -> bool:",
    "token = make_token(user, expires_in)",
    "secret = self.settings.secret_value",
    "secret_name = \"prod/db/credentials-2024-west\"",
    "token_url = \"https://auth.demo.invalid/oauth2/token\"",
    "password_file = /run/secrets/db_password_v2",
    "password = \"Ab3$efg\"",
    "author = \"" GENERIC "\"",
    "aws_secret_access_key = 0000000000000000000000000000000000000000",
};

static void test_rule_positives(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(positives) / sizeof(positives[0]); i++) {
		const struct rule_case *c = &positives[i];
		struct ss_findings f = scan(c->text);

		if (f.n != 1)
			fail_msg("case %zu (%s): %zu findings, expected 1 %s", i, c->text, f.n,
				 ss_rules[c->rule].id);
		if (f.items[0].rule != c->rule)
			fail_msg("case %zu (%s): rule %s, expected %s", i, c->text,
				 ss_rules[f.items[0].rule].id, ss_rules[c->rule].id);
		assert_string_equal(f.items[0].path, "t/file.txt");
		assert_true(f.items[0].end_col > f.items[0].start_col);
		assert_non_null(strstr(f.items[0].message, "…"));
		assert_no_leak(&f, c->secret);
		/* the preview shows the secret's first four characters */
		assert_memory_equal(f.items[0].preview, c->secret, 4);
		ss_findings_release(&f);
	}
}

/* Negatives may be reported as notes (placeholders such as AKIAIOSFODNN7EXAMPLE are), never
 * as warnings or errors. */
static void test_rule_negatives(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(negatives) / sizeof(negatives[0]); i++) {
		struct ss_findings f = scan(negatives[i]);
		for (size_t k = 0; k < f.n; k++)
			if (strcmp(f.items[k].level, "note") != 0)
				fail_msg("negative %zu (%s) reported %s: %s", i, negatives[i],
					 ss_rules[f.items[k].rule].id, f.items[k].message);
		ss_findings_release(&f);
	}
}

/* Placeholders are reported as notes whose message says why. */
static void test_placeholder_notes(void **state)
{
	static const struct {
		const char *text, *why;
		int rule;
	} cases[] = {
	    {"aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "documentation example",
	     SS_RULE_AWS_ACCESS_KEY_ID},
	    {"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	     "documentation example", SS_RULE_AWS_SECRET_ACCESS_KEY},
	    {"password = \"changeme\"", "placeholder word", SS_RULE_GENERIC_CREDENTIAL},
	    {"db:\n  password: changeme\n", "placeholder word", SS_RULE_GENERIC_CREDENTIAL},
	    {"token: \"<your-token>\"", "placeholder word", SS_RULE_GENERIC_CREDENTIAL},
	    {"hook: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
	     "filler", SS_RULE_SLACK_WEBHOOK},
	    {"url = postgresql://user:password@db/app", "placeholder word",
	     SS_RULE_CONNECTION_STRING_PASSWORD},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_findings f = scan(cases[i].text);
		if (f.n != 1)
			fail_msg("case %zu (%s): %zu findings, expected one note", i, cases[i].text,
				 f.n);
		assert_int_equal(f.items[0].rule, cases[i].rule);
		assert_string_equal(f.items[0].level, "note");
		if (!strstr(f.items[0].message, cases[i].why))
			fail_msg("case %zu: message %s does not say %s", i, f.items[0].message,
				 cases[i].why);
		ss_findings_release(&f);
	}
	/* references to a secret kept elsewhere are not reported at all */
	struct ss_findings f = scan("DB_PASSWORD=${DB_PASSWORD}\npassword = os.getenv(\"PW\")\n");
	assert_int_equal(f.n, 0);
	ss_findings_release(&f);
}

/* Each new rule, decoder and join, one case each: the rule, and how the message says it was
 * found. The corpus in tests/secrets has them in every language and format. */
static void test_decoded(void **state)
{
	static const struct {
		const char *text, *how;
		int rule;
	} cases[] = {
	    {"k = \"Z2hwX2FqQUl4Tkt1OGlTMkc4TlBSVmRENTNYODNSWkp6enp6Z0VPeg==\"", "base64",
	     SS_RULE_GITHUB_TOKEN},
	    {"k = \"414b4941554a5a444538475844364e4346313045\"", "hex", SS_RULE_AWS_ACCESS_KEY_ID},
	    {"k = "
	     "\"%67%6C%70%61%74%2D%46%44%45%45%74%66%6A%67%56%76%56%71%45%31%53%6B%48%62%6E%38\"",
	     "URL-encoding", SS_RULE_GITLAB_PAT},
	    {"k = \"y6hQ1fPZwP6Ea1N5NEnvmEog_evil_ks\"[::-1]", "reversed",
	     SS_RULE_STRIPE_SECRET_KEY},
	    {"k = rot13(\"tycng-SQRRgswtIiIdR1FxUoa8\")", "rot13", SS_RULE_GITLAB_PAT},
	    {"s = \"{\\\"password\\\": \\\"Vq7#pL2x!Rm9\\\"}\"", "string escapes",
	     SS_RULE_GENERIC_CREDENTIAL},
	    {"k = String.fromCharCode(65, 75, 73, 65, 85, 74, 90, 68, 69, 56, 71, 88, 68, 54, 78, "
	     "67, 70, 49, 48, 69)",
	     "character codes", SS_RULE_AWS_ACCESS_KEY_ID},
	    {"k = {'A', 'K', 'I', 'A', 'U', 'J', 'Z', 'D', 'E', '8', 'G', 'X', 'D', '6', 'N', 'C', "
	     "'F', '1', '0', 'E'};",
	     "char array", SS_RULE_AWS_ACCESS_KEY_ID},
	    {"k = \"AKIAUJZD\" +\n  \"E8GXD6NCF10E\";", "concatenated", SS_RULE_AWS_ACCESS_KEY_ID},
	    {"a = \"AKIAUJZD\"\nb = \"E8GXD6NCF10E\"\nk = a + b\n", "joined from variables",
	     SS_RULE_AWS_ACCESS_KEY_ID},
	    {"conn: \"AccountName=a;AccountKey=kyU81lSvTfrXFCegrrP+6SMvivIhH57kkcWxC+y1Vjv8Hm+TQn7"
	     "LyP4pVeXNjkbcjtS3wnZNKlpNdncG+F2GkA==;\"",
	     "Azure", SS_RULE_AZURE_STORAGE_KEY},
	    {"DATABASE_URL=postgresql://app:Tr0ub4dor-x9q@db:5432/app", "connection URL",
	     SS_RULE_CONNECTION_STRING_PASSWORD},
	    {"CREATE USER app WITH PASSWORD 'Qz8!vL3mTx7p';", "credential",
	     SS_RULE_GENERIC_CREDENTIAL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_findings f = scan(cases[i].text);
		if (f.n != 1)
			fail_msg("case %zu (%s): %zu findings, expected 1", i, cases[i].text, f.n);
		if (f.items[0].rule != cases[i].rule)
			fail_msg("case %zu: rule %s", i, ss_rules[f.items[0].rule].id);
		if (!strstr(f.items[0].message, cases[i].how))
			fail_msg("case %zu: message %s does not say %s", i, f.items[0].message,
				 cases[i].how);
		ss_findings_release(&f);
	}
}

static void test_generic_gates(void **state)
{
	struct ss_findings f;

	(void)state;
	/* min length 8, with the entropy gate out of the way */
	f = scan_as("a", "password = \"Ab3$efg\"", 0);
	assert_int_equal(f.n, 0);
	ss_findings_release(&f);
	f = scan_as("a", "password = \"Ab3$efgh\"", 0);
	assert_int_equal(f.n, 1);
	ss_findings_release(&f);
	/* the entropy threshold is the caller's */
	f = scan_as("a", "password = \"passwordpassword\"", 2.0);
	assert_int_equal(f.n, 1);
	ss_findings_release(&f);
	f = scan_as("a", "password = \"" GENERIC "\"", 8.0);
	assert_int_equal(f.n, 0);
	ss_findings_release(&f);
	/* a token in a credential setting is reported once, as the token */
	f = scan("token = \"" GH_TOKEN "\"");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.items[0].rule, SS_RULE_GITHUB_TOKEN);
	ss_findings_release(&f);
}

static void test_positions(void **state)
{
	struct ss_findings f;

	(void)state;
	f = scan("first line\n  token = \"" GENERIC "\"\n");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.items[0].line, 2);
	assert_int_equal(f.items[0].start_col, 12);
	assert_int_equal(f.items[0].end_col, 12 + (long)strlen(GENERIC));
	ss_findings_release(&f);
	/* columns count characters, not bytes */
	f = scan("x\n\ny\n# clé: " AWS_ID "\n");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.items[0].line, 4);
	assert_int_equal(f.items[0].start_col, 8);
	assert_int_equal(f.items[0].end_col, 28);
	ss_findings_release(&f);
	/* a private key is reported at its BEGIN line, with the header as region */
	f = scan("\n\nkey:\n-----BEGIN EC PRIVATE KEY-----\n" PK_BODY1
		 "\n-----END EC PRIVATE KEY-----");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.items[0].line, 4);
	assert_int_equal(f.items[0].start_col, 1);
	assert_int_equal(f.items[0].end_col, 1 + (long)strlen("-----BEGIN EC PRIVATE KEY-----"));
	assert_non_null(strstr(f.items[0].message, "EC PRIVATE KEY"));
	ss_findings_release(&f);
	/* several findings come back in file order */
	f = scan(GH_TOKEN " " AWS_ID "\n" JWT_TOKEN);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.items[0].rule, SS_RULE_GITHUB_TOKEN);
	assert_int_equal(f.items[1].rule, SS_RULE_AWS_ACCESS_KEY_ID);
	assert_int_equal(f.items[1].start_col, 42);
	assert_int_equal(f.items[2].rule, SS_RULE_JWT);
	assert_int_equal(f.items[2].line, 2);
	ss_findings_release(&f);
}

static void test_fingerprint(void **state)
{
	static const char src[] = "aws-access-key-id\0cfg/a.env\0" AWS_ID;
	char want[SS_SHA256_HEX_LEN + 1];
	struct ss_findings a, b, c;

	(void)state;
	ss_sha256_hex(src, sizeof(src) - 1, want);
	a = scan_as("cfg/a.env", "id=" AWS_ID "\n", 3.5);
	b = scan_as("cfg/a.env", "# moved down\n\n\nkey_id: " AWS_ID "\n", 3.5);
	c = scan_as("cfg/b.env", "id=" AWS_ID "\n", 3.5);
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 1);
	assert_int_equal(c.n, 1);
	assert_string_equal(a.items[0].fingerprint, want);
	assert_string_equal(b.items[0].fingerprint, want); /* lines moved: same fingerprint */
	assert_string_not_equal(c.items[0].fingerprint, want);
	ss_findings_release(&a);
	ss_findings_release(&b);
	ss_findings_release(&c);
	/* a key's fingerprint covers its body, not its layout */
	a = scan("-----BEGIN PRIVATE KEY-----\n" PK_BODY1 "\n" PK_BODY2
		 "\n-----END PRIVATE KEY-----");
	b = scan("-----BEGIN PRIVATE KEY-----\\n" PK_BODY1 PK_BODY2 "\\n-----END PRIVATE KEY-----");
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 1);
	assert_string_equal(a.items[0].fingerprint, b.items[0].fingerprint);
	ss_findings_release(&a);
	ss_findings_release(&b);
}

/* ---- redaction in snippets ---- */

#define LONG_LINE 20000

static void test_snippet_redaction(void **state)
{
	char *line, *p;
	struct ss_findings f;
	size_t i;

	(void)state;
	/* two secrets and a second copy of one on a line */
	f = scan("password = \"" GENERIC "\"; id = " AWS_ID " # was \"" GENERIC "\"\n");
	assert_int_equal(f.n, 2);
	assert_no_leak(&f, GENERIC);
	assert_no_leak(&f, AWS_ID);
	assert_string_equal(f.items[0].snippet, "password = \"Zq8#…\"; id = AKIA… # was \"Zq8#…\"");
	ss_findings_release(&f);

	/* a long line shows a window, and never a cut secret at its edge */
	line = malloc(LONG_LINE);
	assert_non_null(line);
	p = line;
	for (i = 0; i < 500; i++)
		p += snprintf(p, LONG_LINE - (size_t)(p - line), "x = %04zu; ", i);
	p += snprintf(p, LONG_LINE - (size_t)(p - line), "%s%95s", AWS_ID, "");
	p += snprintf(p, LONG_LINE - (size_t)(p - line),
		      "secret = \"S3cr3t-FAKE-value-42!-and-then-some-more-random-Q9z\"");
	for (i = 0; i < 500; i++)
		p += snprintf(p, LONG_LINE - (size_t)(p - line), " y = %04zu;", i);
	f = scan(line);
	assert_int_equal(f.n, 2);
	for (i = 0; i < f.n; i++) {
		const char *s = f.items[i].snippet;
		assert_true(strlen(s) < SS_SNIPPET_MAX + 120);
		assert_true(strncmp(s, "…", strlen("…")) == 0);
		assert_null(strstr(s, "cr3t-FAKE"));
		assert_null(strstr(s, "FAKEFAKE"));
	}
	assert_no_leak(&f, AWS_ID);
	ss_findings_release(&f);
	free(line);

	/* the body of a key in one escaped string is redacted out of the header's snippet */
	f = scan("{\"pem\": \"-----BEGIN PRIVATE KEY-----\\n" PK_BODY1
		 "\\n-----END PRIVATE KEY-----\"}");
	assert_int_equal(f.n, 1);
	assert_null(strstr(f.items[0].snippet, "AAKCAQEA"));
	assert_non_null(strstr(f.items[0].snippet, "-----BEGIN PRIVATE KEY-----"));
	ss_findings_release(&f);
}

static void test_allow_list(void **state)
{
	struct ss_findings f;

	(void)state;
	f = scan("a = " AWS_ID " # ff:allow\n"
		 "b = " GH_TOKEN " // gitleaks:allow\n"
		 "password = \"" GENERIC "\" # nosecret\n"
		 "c = " AWS_ID "\n");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.items[0].line, 4);
	ss_findings_release(&f);
	/* a private key is allowed by a marker on its BEGIN line */
	f = scan("-----BEGIN PRIVATE KEY----- ff:allow\n" PK_BODY1 "\n-----END PRIVATE KEY-----");
	assert_int_equal(f.n, 0);
	ss_findings_release(&f);
}

static void test_caps(void **state)
{
	struct ss_findings f = {.max = 5};
	struct ss_match_opts o = {.min_entropy = 3.5};
	struct ff_err err = {0};
	size_t n = 2000 * 21 + 1, i;
	char *buf = malloc(n);

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < 10; i++)
		memcpy(buf + 21 * i, AWS_ID "\n", 21);
	assert_int_equal(ss_scan_buffer(&o, "x", buf, 210, &f, &err), 0);
	assert_int_equal(f.n, 5);
	assert_int_equal(f.dropped, 5);
	ss_findings_release(&f);
	assert_int_equal(f.max, 5);

	f.max = 0;
	for (i = 0; i < 2000; i++)
		memcpy(buf + 21 * i, AWS_ID "\n", 21);
	assert_int_equal(ss_scan_buffer(&o, "x", buf, 2000 * 21, &f, &err), 0);
	assert_int_equal(f.n, SS_FILE_CANDIDATES_MAX);
	assert_int_equal(f.dropped, 2000 - SS_FILE_CANDIDATES_MAX);
	assert_int_equal(f.items[SS_FILE_CANDIDATES_MAX - 1].line, SS_FILE_CANDIDATES_MAX);
	ss_findings_release(&f);
	free(buf);
}

/* ---- the tree ---- */

static char tree[64];

static void put(const char *rel, const char *data, size_t n)
{
	char path[512], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	for (slash = strchr(path + strlen(tree) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void puts_file(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static int tree_setup(void **state)
{
	char big[3000], target[128], link[128];

	(void)state;
	snprintf(tree, sizeof(tree), "/tmp/ss-test-XXXXXX");
	if (!mkdtemp(tree))
		return -1;
	puts_file("app/.env", "A=" AWS_ID "\n");
	puts_file("app/main.py", "TOKEN = \"" GH_TOKEN "\"\n");
	puts_file("node_modules/pkg/index.js", AWS_ID);
	puts_file(".git/config", AWS_ID);
	puts_file("vendor/lib.go", AWS_ID);
	puts_file("build/out.txt", AWS_ID);
	puts_file("sub/dist/bundle.js", AWS_ID);
	puts_file("pkg/__pycache__/m.pyc", AWS_ID);
	puts_file(".venv/lib/site.py", AWS_ID);
	puts_file("docs/notes.md", AWS_ID);
	puts_file("fixtures/tokens.txt", AWS_ID);
	puts_file("keep/skip.min.js", AWS_ID);
	puts_file(".ffsecretsignore", "# fixtures hold revoked tokens\nfixtures/\n\n*.min.js\n");
	put("data/blob.bin", "BIN\0\0" AWS_ID, 25);
	memset(big, 'a', sizeof(big));
	memcpy(big, AWS_ID "\n", 21);
	put("big.txt", big, sizeof(big));
	for (int i = 0; i < 40; i++) {
		char name[32];
		snprintf(name, sizeof(name), "many/f%02d.txt", i);
		puts_file(name, "nothing to see\n");
	}
	/* links are never followed, to files or directories */
	snprintf(target, sizeof(target), "%s/app/.env", tree);
	snprintf(link, sizeof(link), "%s/link.env", tree);
	if (symlink(target, link) < 0)
		return -1;
	snprintf(target, sizeof(target), "%s/app", tree);
	snprintf(link, sizeof(link), "%s/linkdir", tree);
	if (symlink(target, link) < 0)
		return -1;
	return 0;
}

static int tree_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_tree_filters(void **state)
{
	struct ss_scan_opts o = {
	    .min_entropy = 3.5, .max_file_kb = 2, .exclude = "docs, nothing/*"};
	struct ss_report rep = {0};
	struct ff_err err = {0};
	char *progress = NULL;
	size_t plen = 0, lines = 0;
	FILE *pf = open_memstream(&progress, &plen);

	(void)state;
	o.progress = pf;
	assert_int_equal(ss_scan_tree(tree, &o, &rep, &err), 0);
	fclose(pf);
	assert_int_equal(rep.findings.n, 2);
	assert_string_equal(rep.findings.items[0].path, "app/.env");
	assert_string_equal(rep.findings.items[1].path, "app/main.py");
	assert_int_equal(rep.findings.items[1].rule, SS_RULE_GITHUB_TOKEN);
	assert_int_equal(rep.stats.skipped_binary, 1);
	assert_int_equal(rep.stats.skipped_large, 1);
	assert_int_equal(rep.stats.skipped_vendored, 7);
	assert_int_equal(rep.stats.skipped_excluded, 3); /* docs, fixtures, skip.min.js */
	assert_int_equal(rep.stats.skipped_special, 2);	 /* the two links */
	assert_int_equal(rep.nnotices, 0);
	/* progress: a first and last line, about one per tenth, and nothing else */
	assert_true(strncmp(progress, "::progress 0 ", 13) == 0);
	assert_non_null(strstr(progress, "::progress 100 done: "));
	for (char *p = progress; (p = strchr(p, '\n')); p++)
		lines++;
	assert_true(lines >= 5 && lines <= 12);
	free(progress);
	ss_report_release(&rep);

	/* nothing left to scan: a success with 0 findings and a note saying so */
	o.include = "no-such-dir";
	pf = open_memstream(&progress, &plen);
	o.progress = pf;
	assert_int_equal(ss_scan_tree(tree, &o, &rep, &err), 0);
	fclose(pf);
	assert_int_equal(rep.findings.n, 0);
	assert_int_equal(rep.nnotices, 1);
	assert_true(rep.notices[0].note);
	assert_string_equal(rep.notices[0].msg, SS_NOTHING_TO_SCAN);
	assert_non_null(strstr(progress, "::progress 100 " SS_NOTHING_TO_SCAN "\n"));
	free(progress);
	ss_report_release(&rep);
	o.include = NULL;

	/* without the size limit and excludes, the big file and docs count */
	o.max_file_kb = 1024;
	o.exclude = NULL;
	o.progress = NULL;
	assert_int_equal(ss_scan_tree(tree, &o, &rep, &err), 0);
	assert_int_equal(rep.findings.n, 4);
	ss_report_release(&rep);
}

static void test_tree_errors(void **state)
{
	struct ss_scan_opts o = {.min_entropy = 3.5, .max_file_kb = 1024};
	struct ss_report rep = {0};
	struct ff_err err = {0};
	char glob[SS_GLOB_LEN_MAX + 2];

	(void)state;
	assert_int_equal(ss_scan_tree("/nonexistent/ss-test", &o, &rep, &err), FF_ENOTFOUND);
	ss_report_release(&rep);
	memset(glob, 'a', sizeof(glob) - 1);
	glob[sizeof(glob) - 1] = '\0';
	o.exclude = glob;
	assert_int_equal(ss_scan_tree(tree, &o, &rep, &err), FF_EINVAL);
	assert_string_equal(err.field, "exclude");
	ss_report_release(&rep);
	o.exclude = NULL;
	o.include = glob;
	assert_int_equal(ss_scan_tree(tree, &o, &rep, &err), FF_EINVAL);
	assert_string_equal(err.field, "include");
	ss_report_release(&rep);
}

/* The paths of the findings of a scan with these include and exclude globs, comma-joined. */
static const char *scan_included(const char *include, const char *exclude, struct ss_report *rep)
{
	static char paths[512];
	struct ss_scan_opts o = {
	    .min_entropy = 3.5, .max_file_kb = 1024, .include = include, .exclude = exclude};
	struct ff_err err = {0};
	size_t n = 0;

	memset(rep, 0, sizeof(*rep));
	assert_int_equal(ss_scan_tree(tree, &o, rep, &err), 0);
	paths[0] = '\0';
	for (size_t i = 0; i < rep->findings.n; i++)
		n += (size_t)snprintf(paths + n, sizeof(paths) - n, "%s%s", i ? "," : "",
				      rep->findings.items[i].path);
	return paths;
}

static void test_tree_include(void **state)
{
	struct ss_report rep;

	(void)state;
	puts_file("app/conf/db.env", "B=" AWS_ID "\n");
	puts_file("docs/conf/old.env", "C=" AWS_ID "\n");

	/* empty: everything, as without include */
	assert_string_equal(scan_included("", NULL, &rep),
			    "app/.env,app/conf/db.env,app/main.py,big.txt,docs/conf/old.env,"
			    "docs/notes.md");
	ss_report_release(&rep);

	/* a directory, by name or path, takes everything below it */
	assert_string_equal(scan_included("app", NULL, &rep),
			    "app/.env,app/conf/db.env,app/main.py");
	assert_int_equal(rep.stats.files_listed, 3);
	ss_report_release(&rep);
	assert_string_equal(scan_included("/app/conf/", NULL, &rep), "app/conf/db.env");
	ss_report_release(&rep);
	/* a name glob at any depth: conf/ in app and docs */
	assert_string_equal(scan_included("conf/", NULL, &rep),
			    "app/conf/db.env,docs/conf/old.env");
	ss_report_release(&rep);

	/* a file glob; directories nothing below can match are skipped whole */
	assert_string_equal(scan_included("app/*.py, *.md", NULL, &rep),
			    "app/main.py,docs/notes.md");
	ss_report_release(&rep);
	assert_string_equal(scan_included("app/*.py", NULL, &rep), "app/main.py");
	assert_int_equal(rep.stats.files_listed, 1);
	/* .ffsecretsignore, big.txt, app/.env, app/conf/db.env, and whole data, docs, fixtures
	 * (the ignore file), keep, many, pkg, sub: pkg/__pycache__ and sub/dist are not reached */
	assert_int_equal(rep.stats.skipped_excluded, 11);
	assert_int_equal(rep.stats.skipped_vendored, 5);
	ss_report_release(&rep);

	/* exclude and the ignore file still apply on top */
	assert_string_equal(scan_included("app,docs", "conf", &rep),
			    "app/.env,app/main.py,docs/notes.md");
	ss_report_release(&rep);
	assert_string_equal(scan_included("fixtures,keep/*", NULL, &rep), "");
	ss_report_release(&rep);
}

static void test_globs(void **state)
{
	struct ss_globs g = {0};
	struct ff_err err = {0};

	(void)state;
	assert_int_equal(ss_globs_add(&g, " *.min.js , docs/ ,/config/dev.env,tests/*,**/gen/*.c,",
				      ',', "exclude", &err),
			 0);
	assert_int_equal(g.n, 5);
	assert_true(ss_globs_match(&g, "web/app.min.js", false));
	assert_true(ss_globs_match(&g, "app.min.js", false));
	assert_false(ss_globs_match(&g, "app.js", false));
	assert_true(ss_globs_match(&g, "docs", true));
	assert_true(ss_globs_match(&g, "a/docs", true));
	assert_false(ss_globs_match(&g, "docs", false)); /* trailing '/': directories only */
	assert_true(ss_globs_match(&g, "config/dev.env", false));
	assert_false(ss_globs_match(&g, "x/config/dev.env", false));
	assert_true(ss_globs_match(&g, "tests/a/b.py", false));
	assert_true(ss_globs_match(&g, "gen/x.c", false));
	assert_true(ss_globs_match(&g, "a/b/gen/x.c", false));
	ss_globs_release(&g);
	/* ignore-file syntax: lines, comments */
	assert_int_equal(
	    ss_globs_add(&g, "# comment\n\n  secrets.env  \r\n", '\n', "exclude", &err), 0);
	assert_int_equal(g.n, 1);
	assert_true(ss_globs_match(&g, "deep/secrets.env", false));
	ss_globs_release(&g);
	/* runs of '/' count as one: "b//" is the directory name glob "b/" */
	assert_int_equal(ss_globs_add(&g, "b//,//c/d", ',', "exclude", &err), 0);
	assert_true(ss_globs_match(&g, "a/b", true));
	assert_false(ss_globs_match(&g, "a/b", false));
	assert_true(ss_globs_match(&g, "c/d", false));
	ss_globs_release(&g);
}

static void test_binary_probe(void **state)
{
	char buf[SS_BINARY_PROBE + 10];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	assert_false(ss_is_binary(buf, sizeof(buf)));
	buf[SS_BINARY_PROBE - 1] = '\0';
	assert_true(ss_is_binary(buf, sizeof(buf)));
	buf[SS_BINARY_PROBE - 1] = 'a';
	buf[SS_BINARY_PROBE] = '\0'; /* past the probe: text */
	assert_false(ss_is_binary(buf, sizeof(buf)));
	assert_false(ss_is_binary(buf, 0));
	assert_true(ss_skip_dir_name("node_modules"));
	assert_true(ss_skip_dir_name(".git"));
	assert_false(ss_skip_dir_name("src"));
}

/* ---- SARIF ---- */

static void test_json_string(void **state)
{
	static const char in[] = "\x01\"\\\xff\xc3(\xc3\xa9\n\xc0\xaf\xed\xa0\x80";
	char *out = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&out, &n);
	cJSON *j;

	(void)state;
	ss_json_string(fp, in, sizeof(in) - 1);
	fclose(fp);
	j = cJSON_Parse(out);
	assert_non_null(j);
	assert_true(cJSON_IsString(j));
	assert_string_equal(j->valuestring, "\x01\"\\\xef\xbf\xbd\xef\xbf\xbd(\xc3\xa9\n"
					    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
					    "\xef\xbf\xbd");
	cJSON_Delete(j);
	free(out);
	out = ss_uri_encode_path("dir with space/ü:x#y.txt");
	assert_string_equal(out, "dir%20with%20space/%C3%BC%3Ax%23y.txt");
	free(out);
}

static void test_sarif_log(void **state)
{
	struct ss_scan_opts o = {.min_entropy = 3.5, .max_file_kb = 1024};
	struct ss_report rep = {0};
	struct ff_err err = {0};
	char *text = NULL, path[128];
	size_t n = 0;
	FILE *fp = open_memstream(&text, &n);
	cJSON *log, *run, *rules, *results, *r;
	struct stat st;

	(void)state;
	assert_int_equal(ss_scan_tree(tree, &o, &rep, &err), 0);
	assert_int_equal(ss_sarif_write(fp, &rep, "file:///target/", &err), 0);
	fclose(fp);
	assert_null(strstr(text, AWS_ID));
	assert_null(strstr(text, GH_TOKEN));
	log = cJSON_Parse(text);
	assert_non_null(log);
	assert_string_equal(cJSON_GetObjectItem(log, "version")->valuestring, "2.1.0");
	run = cJSON_GetArrayItem(cJSON_GetObjectItem(log, "runs"), 0);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "tool"), "driver"),
				"name")
		->valuestring,
	    "ff-secret-scan");
	rules = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "tool"), "driver"),
				    "rules");
	assert_int_equal(cJSON_GetArraySize(rules), SS_RULE_COUNT);
	results = cJSON_GetObjectItem(run, "results");
	assert_int_equal(cJSON_GetArraySize(results), 4);
	cJSON_ArrayForEach(r, results)
	{
		int idx = cJSON_GetObjectItem(r, "ruleIndex")->valueint;
		cJSON *loc = cJSON_GetObjectItem(
		    cJSON_GetArrayItem(cJSON_GetObjectItem(r, "locations"), 0), "physicalLocation");
		cJSON *art = cJSON_GetObjectItem(loc, "artifactLocation");
		cJSON *region = cJSON_GetObjectItem(loc, "region");
		cJSON *fps = cJSON_GetObjectItem(r, "partialFingerprints");

		assert_string_equal(
		    cJSON_GetObjectItem(r, "ruleId")->valuestring,
		    cJSON_GetObjectItem(cJSON_GetArrayItem(rules, idx), "id")->valuestring);
		assert_string_equal(cJSON_GetObjectItem(r, "level")->valuestring,
				    ss_rules[idx].level);
		assert_string_equal(cJSON_GetObjectItem(art, "uriBaseId")->valuestring, "SRCROOT");
		assert_true(cJSON_GetObjectItem(art, "uri")->valuestring[0] != '/');
		assert_true(cJSON_GetObjectItem(region, "startLine")->valueint >= 1);
		assert_non_null(
		    cJSON_GetObjectItem(cJSON_GetObjectItem(region, "snippet"), "text"));
		assert_int_equal(strlen(cJSON_GetObjectItem(fps, "secretHash/v1")->valuestring),
				 64);
	}
	cJSON_Delete(log);
	free(text);

	/* to a file: written whole, then renamed; a missing directory is an I/O error */
	snprintf(path, sizeof(path), "%s/out.sarif", tree);
	assert_int_equal(ss_sarif_write_file(path, &rep, NULL, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 1000);
	unlink(path);
	snprintf(path, sizeof(path), "%s/missing/out.sarif", tree);
	assert_int_equal(ss_sarif_write_file(path, &rep, NULL, &err), FF_EINTERNAL);
	ss_report_release(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_vectors),
	    cmocka_unit_test(test_sha256_matches_openssl),
	    cmocka_unit_test(test_entropy),
	    cmocka_unit_test(test_placeholders),
	    cmocka_unit_test(test_line_allowed),
	    cmocka_unit_test(test_redact),
	    cmocka_unit_test(test_rule_positives),
	    cmocka_unit_test(test_rule_negatives),
	    cmocka_unit_test(test_placeholder_notes),
	    cmocka_unit_test(test_decoded),
	    cmocka_unit_test(test_generic_gates),
	    cmocka_unit_test(test_positions),
	    cmocka_unit_test(test_fingerprint),
	    cmocka_unit_test(test_snippet_redaction),
	    cmocka_unit_test(test_allow_list),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_globs),
	    cmocka_unit_test(test_binary_probe),
	    cmocka_unit_test(test_json_string),
	    cmocka_unit_test_setup_teardown(test_tree_filters, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_tree_errors, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_tree_include, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_sarif_log, tree_setup, tree_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
