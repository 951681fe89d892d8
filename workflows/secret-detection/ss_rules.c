/* ss_rules — the rule table and the single-pass matcher; see ss_rules.h.
 *
 * Hand-written matchers rather than POSIX regex: regexec over every rule for every line costs
 * one pass per rule, where this costs one table lookup per byte plus a short check at the few
 * places a secret can begin.
 */
#include "ss_rules.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ss_rule ss_rules[SS_RULE_COUNT] = {
    [SS_RULE_PRIVATE_KEY] = {"private-key", "PrivateKey", "Private key", "error",
			     "A PEM or OpenSSH private key block.",
			     "Remove the key from the repository, revoke it and issue a new one; "
			     "keep keys in a secret store."},
    [SS_RULE_AWS_ACCESS_KEY_ID] = {"aws-access-key-id", "AwsAccessKeyId", "AWS access key ID",
				   "error",
				   "An AWS access key ID (AKIA or ASIA followed by 16 "
				   "upper-case letters or digits).",
				   "Deactivate the key in IAM and rotate it; use roles or "
				   "environment credentials instead."},
    [SS_RULE_AWS_SECRET_ACCESS_KEY] = {"aws-secret-access-key", "AwsSecretAccessKey",
				       "AWS secret access key", "error",
				       "A 40-character AWS secret access key assigned to an "
				       "AWS secret setting.",
				       "Rotate the key pair in IAM and remove it from the "
				       "repository."},
    [SS_RULE_GITHUB_TOKEN] = {"github-token", "GitHubToken", "GitHub token", "error",
			      "A GitHub personal access, OAuth, user-to-server, server-to-"
			      "server or refresh token (ghp_, gho_, ghu_, ghs_, ghr_).",
			      "Revoke the token in GitHub settings and create a new one."},
    [SS_RULE_GITHUB_FINE_GRAINED_PAT] = {"github-fine-grained-pat", "GitHubFineGrainedPat",
					 "GitHub fine-grained personal access token", "error",
					 "A GitHub fine-grained personal access token "
					 "(github_pat_).",
					 "Revoke the token in GitHub settings and create a new "
					 "one."},
    [SS_RULE_GITLAB_PAT] = {"gitlab-pat", "GitLabPersonalAccessToken",
			    "GitLab personal access token", "error",
			    "A GitLab personal access token (glpat-).",
			    "Revoke the token in GitLab and create a new one."},
    [SS_RULE_SLACK_TOKEN] = {"slack-token", "SlackToken", "Slack token", "error",
			     "A Slack bot, app, user, refresh or legacy token (xoxb-, xoxa-, "
			     "xoxp-, xoxr-, xoxs-).",
			     "Revoke the token in the Slack app settings."},
    [SS_RULE_SLACK_WEBHOOK] = {"slack-webhook", "SlackWebhook", "Slack webhook URL", "warning",
			       "A Slack incoming-webhook URL (hooks.slack.com/services/).",
			       "Regenerate the webhook in Slack; anyone with the URL can post "
			       "to the channel."},
    [SS_RULE_STRIPE_SECRET_KEY] = {"stripe-secret-key", "StripeSecretKey", "Stripe live secret key",
				   "error",
				   "A Stripe live secret or restricted key (sk_live_, rk_live_).",
				   "Roll the key in the Stripe dashboard."},
    [SS_RULE_GOOGLE_API_KEY] = {"google-api-key", "GoogleApiKey", "Google API key", "warning",
				"A Google API key (AIza followed by 35 characters).",
				"Restrict or regenerate the key in the Google Cloud console."},
    [SS_RULE_JWT] = {"jwt", "JsonWebToken", "JSON Web Token", "warning",
		     "A JSON Web Token: three base64url segments, the first starting eyJ.",
		     "Treat the token as a credential: invalidate it if it is still valid and "
		     "rotate the signing key if it was exposed."},
    [SS_RULE_GENERIC_CREDENTIAL] = {"generic-credential", "GenericCredential",
				    "Hard-coded credential", "warning",
				    "A high-entropy value assigned to a password, secret, token "
				    "or API key setting.",
				    "Move the value to a secret store or an environment variable "
				    "and rotate it."},
};

/* Bytes a match can start at: the first letters of the token prefixes, the private-key
 * marker's dash, and the assignment operators the generic rule anchors on. */
enum { T_ALWAYS = 1, T_WORD_START = 2 };

static const unsigned char trig[256] = {
    ['A'] = T_WORD_START, ['g'] = T_WORD_START, ['x'] = T_WORD_START, ['h'] = T_WORD_START,
    ['s'] = T_WORD_START, ['r'] = T_WORD_START, ['e'] = T_WORD_START, ['-'] = T_ALWAYS,
    ['='] = T_ALWAYS,	  [':'] = T_ALWAYS,
};

/* T_WORD_START for letters and digits: a token prefix right after one is inside a word
 * (XAKIA…), so trig[c] & ~in_word[prev] is non-zero only where a match can start. */
static const unsigned char in_word[256] = {
    ['0' ... '9'] = T_WORD_START,
    ['A' ... 'Z'] = T_WORD_START,
    ['a' ... 'z'] = T_WORD_START,
};

static inline bool is_alnum(unsigned char c)
{
	return (unsigned)((c | 32) - 'a') < 26 || (unsigned)(c - '0') < 10;
}

static inline bool is_upnum(unsigned char c)
{
	return (unsigned)(c - 'A') < 26 || (unsigned)(c - '0') < 10;
}

static inline bool is_b64url(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

static inline bool is_b64(unsigned char c)
{
	return is_alnum(c) || c == '+' || c == '/' || c == '=';
}

static inline bool is_ident(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

static inline unsigned char lower(unsigned char c)
{
	return (unsigned)(c - 'A') < 26 ? c | 32 : c;
}

/* Length of the run of bytes satisfying pred starting at p, at most max. */
static size_t run_len(const char *buf, size_t n, size_t p, size_t max, bool (*pred)(unsigned char))
{
	size_t k = 0;

	while (p + k < n && k < max && pred((unsigned char)buf[p + k]))
		k++;
	return k;
}

static bool has_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++) {
		size_t j = 0;
		while (j < m && lower((unsigned char)s[i + j]) == (unsigned char)needle[j])
			j++;
		if (j == m)
			return true;
	}
	return false;
}

static bool starts_ci(const char *s, size_t n, const char *prefix)
{
	size_t m = strlen(prefix);

	if (n < m)
		return false;
	for (size_t i = 0; i < m; i++)
		if (lower((unsigned char)s[i]) != (unsigned char)prefix[i])
			return false;
	return true;
}

double ss_entropy(const char *s, size_t n)
{
	size_t count[256] = {0};
	double h = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		count[(unsigned char)s[i]]++;
	for (int c = 0; c < 256; c++) {
		if (!count[c])
			continue;
		double p = (double)count[c] / (double)n;
		h -= p * log2(p);
	}
	return h;
}

bool ss_is_placeholder(const char *s, size_t n)
{
	static const char *const words[] = {
	    "changeme", "change_me",   "change-me", "example",	"placeholder", "dummy",
	    "redacted", "your_",       "your-",	    "yourpass", "xxxx",	       "****",
	    "....",	"replace_me",  "replaceme", "insert_",	"<your",       "getenv",
	    "environ",	"process.env", "env[",	    "env(",	"env.get",     "secrets.",
	};
	size_t i;

	if (n == 0)
		return true;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (has_ci(s, n, words[i]))
			return true;
	/* templates and variable references: ${VAR}, $VAR, $(cmd), {{ x }}, #{x}, %(x)s, <x>,
	 * %VAR%, {x} */
	if (s[0] == '$' || s[0] == '{' || (n >= 2 && s[0] == '#' && s[1] == '{') ||
	    (n >= 2 && s[0] == '%' && s[1] == '(') || (n >= 2 && s[0] == '<' && s[1] == '%'))
		return true;
	if (s[0] == '<' && s[n - 1] == '>')
		return true;
	if (n >= 2 && s[0] == '%' && s[n - 1] == '%')
		return true;
	/* one character repeated: 00000000, ******** */
	for (i = 1; i < n && s[i] == s[0]; i++)
		;
	return i == n;
}

bool ss_line_allowed(const char *line, size_t n)
{
	static const char *const markers[] = {"ff:allow", "gitleaks:allow", "nosecret"};

	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (memmem(line, n, markers[i], strlen(markers[i])))
			return true;
	return false;
}

void ss_redact(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i = 0, chars = 0;

	if (outsz == 0)
		return;
	/* whole UTF-8 characters, so a preview never ends in half of one */
	while (i < n && chars < SS_PREVIEW_CHARS) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	if (i + sizeof("…") > outsz)
		i = 0;
	memcpy(out, s, i);
	memcpy(out + i, "…", sizeof("…"));
}

/* A place in the buffer a rule matched. */
struct cand {
	int rule;
	size_t rs, re;	 /* the region reported (bytes of buf) */
	size_t ss, se;	 /* the secret's bytes on the region's line, redacted in snippets */
	bool contiguous; /* buf[ss..se) is the whole secret (not so for multi-line keys) */
	bool suppressed; /* shadowed by a more specific rule: redacted but not reported */
	char preview[48];
	char message[192];
	char fp[SS_SHA256_HEX_LEN + 1];
};

struct scan {
	const struct ss_match_opts *opts;
	const char *path;
	const char *buf;
	size_t n;
	struct cand *c;
	size_t nc, capc;
	size_t overflow;
	int rc;
};

static void fingerprint_begin(struct ss_sha256 *h, int rule, const char *path)
{
	ss_sha256_init(h);
	ss_sha256_update(h, ss_rules[rule].id, strlen(ss_rules[rule].id) + 1);
	ss_sha256_update(h, path, strlen(path) + 1);
}

static struct cand *cand_new(struct scan *sc, int rule)
{
	struct cand *c;

	if (sc->nc == SS_FILE_CANDIDATES_MAX) {
		sc->overflow++;
		return NULL;
	}
	if (sc->nc == sc->capc) {
		size_t ncap = sc->capc ? sc->capc * 2 : 16;
		struct cand *nv = realloc(sc->c, ncap * sizeof(*nv));
		if (!nv) {
			sc->rc = FF_ENOMEM;
			return NULL;
		}
		sc->c = nv, sc->capc = ncap;
	}
	c = &sc->c[sc->nc++];
	memset(c, 0, sizeof(*c));
	c->rule = rule;
	return c;
}

/* Records a secret that is the contiguous bytes buf[s..e), reported as region [s, e). */
static void add_simple(struct scan *sc, int rule, size_t s, size_t e)
{
	struct ss_sha256 h;
	struct cand *c = cand_new(sc, rule);

	if (!c)
		return;
	c->rs = c->ss = s;
	c->re = c->se = e;
	c->contiguous = true;
	ss_redact(sc->buf + s, e - s, c->preview, sizeof(c->preview));
	snprintf(c->message, sizeof(c->message), "%s found: %s", ss_rules[rule].kind, c->preview);
	fingerprint_begin(&h, rule, sc->path);
	ss_sha256_update(&h, sc->buf + s, e - s);
	ss_sha256_final_hex(&h, c->fp);
}

/* The matchers below look at position i (a trigger byte at a word start) and return the end
 * of what they matched, or 0. */

static size_t match_aws_key_id(struct scan *sc, size_t i)
{
	const char *b = sc->buf + i;

	if (sc->n - i < 20 || (memcmp(b, "AKIA", 4) != 0 && memcmp(b, "ASIA", 4) != 0))
		return 0;
	if (run_len(sc->buf, sc->n, i + 4, 17, is_upnum) != 16)
		return 0;
	if (i + 20 < sc->n && is_alnum((unsigned char)b[20]))
		return 0;
	if (ss_is_placeholder(b, 20))
		return 0;
	add_simple(sc, SS_RULE_AWS_ACCESS_KEY_ID, i, i + 20);
	return i + 20;
}

static size_t match_google(struct scan *sc, size_t i)
{
	if (sc->n - i < 39 || memcmp(sc->buf + i, "AIza", 4) != 0)
		return 0;
	if (run_len(sc->buf, sc->n, i + 4, 36, is_b64url) != 35)
		return 0;
	if (ss_is_placeholder(sc->buf + i, 39))
		return 0;
	add_simple(sc, SS_RULE_GOOGLE_API_KEY, i, i + 39);
	return i + 39;
}

static bool is_alnum_us(unsigned char c)
{
	return is_alnum(c) || c == '_';
}

static bool is_alnum_pred(unsigned char c)
{
	return is_alnum(c);
}

static size_t match_github(struct scan *sc, size_t i)
{
	const char *b = sc->buf + i;
	size_t k;

	if (sc->n - i >= 40 && b[1] == 'h' && b[2] && strchr("pousr", b[2]) && b[3] == '_') {
		k = run_len(sc->buf, sc->n, i + 4, 252, is_alnum_pred);
		if (k < 36 || k > 251 || ss_is_placeholder(b, 4 + k))
			return 0;
		add_simple(sc, SS_RULE_GITHUB_TOKEN, i, i + 4 + k);
		return i + 4 + k;
	}
	if (sc->n - i >= 33 && memcmp(b, "github_pat_", 11) == 0) {
		k = run_len(sc->buf, sc->n, i + 11, 256, is_alnum_us);
		if (k < 22 || k > 255 || ss_is_placeholder(b, 11 + k))
			return 0;
		add_simple(sc, SS_RULE_GITHUB_FINE_GRAINED_PAT, i, i + 11 + k);
		return i + 11 + k;
	}
	if (sc->n - i >= 26 && memcmp(b, "glpat-", 6) == 0) {
		k = run_len(sc->buf, sc->n, i + 6, 256, is_b64url);
		if (k < 20 || k > 255 || ss_is_placeholder(b, 6 + k))
			return 0;
		add_simple(sc, SS_RULE_GITLAB_PAT, i, i + 6 + k);
		return i + 6 + k;
	}
	return 0;
}

static bool is_slack_char(unsigned char c)
{
	return is_alnum(c) || c == '-';
}

static size_t match_slack(struct scan *sc, size_t i)
{
	const char *b = sc->buf + i;
	size_t k, d;

	if (sc->n - i < 15 || memcmp(b, "xox", 3) != 0 || !b[3] || !strchr("baprs", b[3]) ||
	    b[4] != '-')
		return 0;
	k = run_len(sc->buf, sc->n, i + 5, 251, is_slack_char);
	if (k < 10 || k > 250)
		return 0;
	/* real tokens carry numeric team and user ids; prose like xoxb-not-a-token does not */
	for (d = 0; d < k && (unsigned)(b[5 + d] - '0') >= 10; d++)
		;
	if (d == k)
		return 0;
	if (ss_is_placeholder(b, 5 + k))
		return 0;
	add_simple(sc, SS_RULE_SLACK_TOKEN, i, i + 5 + k);
	return i + 5 + k;
}

static bool is_hook_char(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '/';
}

static size_t match_slack_webhook(struct scan *sc, size_t i)
{
	static const char pfx[] = "hooks.slack.com/services/";
	size_t m = sizeof(pfx) - 1, k;

	if (sc->n - i < m + 20 || memcmp(sc->buf + i, pfx, m) != 0)
		return 0;
	k = run_len(sc->buf, sc->n, i + m, 201, is_hook_char);
	if (k < 20 || k > 200 || !memchr(sc->buf + i + m, '/', k))
		return 0;
	if (ss_is_placeholder(sc->buf + i + m, k))
		return 0;
	add_simple(sc, SS_RULE_SLACK_WEBHOOK, i + m, i + m + k);
	return i + m + k;
}

static size_t match_stripe(struct scan *sc, size_t i)
{
	const char *b = sc->buf + i;
	size_t k;

	if (sc->n - i < 32 || b[1] != 'k' || memcmp(b + 2, "_live_", 6) != 0)
		return 0;
	k = run_len(sc->buf, sc->n, i + 8, 248, is_alnum_pred);
	if (k < 24 || k > 247 || ss_is_placeholder(b, 8 + k))
		return 0;
	add_simple(sc, SS_RULE_STRIPE_SECRET_KEY, i, i + 8 + k);
	return i + 8 + k;
}

static size_t match_jwt(struct scan *sc, size_t i)
{
	size_t p = i, k1, k2, k3;

	if (sc->n - i < 30 || memcmp(sc->buf + i, "eyJ", 3) != 0)
		return 0;
	k1 = run_len(sc->buf, sc->n, p, 4096, is_b64url);
	p += k1;
	if (k1 < 10 || p >= sc->n || sc->buf[p] != '.')
		return 0;
	k2 = run_len(sc->buf, sc->n, ++p, 8192, is_b64url);
	p += k2;
	if (k2 < 4 || p >= sc->n || sc->buf[p] != '.')
		return 0;
	k3 = run_len(sc->buf, sc->n, ++p, 4096, is_b64url);
	p += k3;
	if (k3 < 8)
		return 0;
	add_simple(sc, SS_RULE_JWT, i, p);
	return p;
}

/* -----BEGIN [LABEL ]PRIVATE KEY[ BLOCK]----- followed by at least 64 characters of base64
 * body, in PEM lines or in one string with \n escapes. The body is the secret. */
static size_t match_private_key(struct scan *sc, size_t i)
{
	const char *buf = sc->buf;
	size_t n = sc->n, p = i + 11, lab = p, hdr_end, body = 0, first = 0, last = 0;
	size_t line_end, limit;
	bool line_start = false;
	char lead[8];
	size_t nlead = 0;
	struct ss_sha256 h;
	struct cand *c;

	while (p < n && p - lab < 48 && (is_upnum((unsigned char)buf[p]) || buf[p] == ' '))
		p++;
	if (n - p < 5 || memcmp(buf + p, "-----", 5) != 0)
		return 0;
	if (!(p - lab >= 11 && memcmp(buf + p - 11, "PRIVATE KEY", 11) == 0) &&
	    !(p - lab >= 17 && memcmp(buf + p - 17, "PRIVATE KEY BLOCK", 17) == 0))
		return 0;
	hdr_end = p + 5;
	line_end = hdr_end;
	while (line_end < n && buf[line_end] != '\n')
		line_end++;

	fingerprint_begin(&h, SS_RULE_PRIVATE_KEY, sc->path);
	limit = hdr_end + 65536 < n ? hdr_end + 65536 : n;
	for (p = hdr_end; p < limit;) {
		unsigned char ch = (unsigned char)buf[p];
		if (line_start) {
			/* armour headers (Proc-Type:, DEK-Info:, Version:) are not key bytes */
			size_t e = p;
			while (e < limit && buf[e] != '\n' && buf[e] != '\\' && buf[e] != ':')
				e++;
			line_start = false;
			if (e < limit && buf[e] == ':') {
				while (e < limit && buf[e] != '\n' &&
				       !(buf[e] == '\\' && e + 1 < limit && buf[e + 1] == 'n'))
					e++;
				p = e;
				continue;
			}
		}
		if (is_b64(ch)) {
			if (!body)
				first = p;
			if (nlead < SS_PREVIEW_CHARS)
				lead[nlead++] = (char)ch;
			ss_sha256_update(&h, &ch, 1);
			body++;
			last = ++p;
			continue;
		}
		if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t') {
			line_start = line_start || ch == '\n';
			p++;
			continue;
		}
		if (ch == '\\' && p + 1 < limit && (buf[p + 1] == 'n' || buf[p + 1] == 'r')) {
			line_start = true;
			p += 2;
			continue;
		}
		break; /* -----END…, a closing quote, or anything else ends the body */
	}
	if (body < 64)
		return 0;
	c = cand_new(sc, SS_RULE_PRIVATE_KEY);
	if (!c)
		return last;
	c->rs = i;
	c->re = hdr_end;
	/* the part of the body on the header's own line (a key in one escaped string) */
	c->ss = first < line_end ? first : hdr_end;
	c->se = first < line_end ? (last < line_end ? last : line_end) : hdr_end;
	ss_redact(lead, nlead, c->preview, sizeof(c->preview));
	snprintf(c->message, sizeof(c->message), "Private key (%.*s) found: %s",
		 (int)(hdr_end - 5 - lab), buf + lab, c->preview);
	ss_sha256_final_hex(&h, c->fp);
	return last;
}

/* The identifier before an assignment operator at op: `db_password =`, `"apiKey":`,
 * `--token=`. Returns its length and start, 0 if none. */
static size_t ident_before(const char *buf, size_t op, size_t *start)
{
	size_t j = op, end;

	while (j > 0 && (buf[j - 1] == ' ' || buf[j - 1] == '\t'))
		j--;
	if (j > 0 && (buf[j - 1] == '"' || buf[j - 1] == '\'' || buf[j - 1] == '`'))
		j--;
	end = j;
	while (j > 0 && end - j < 64 && is_ident((unsigned char)buf[j - 1]))
		j--;
	*start = j;
	return end - j;
}

struct word {
	const char *s;
	size_t n;
};

#define W(lit)                                                                                     \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}

/* Keywords that make a setting a credential, by first letter: this runs at every '=' and
 * ':' of every file, so it dispatches on one byte instead of searching for each word. */
static const struct word kw_a[] = {W("apikey"),	   W("api_key"),    W("api-key"), W("access_key"),
				   W("accesskey"), W("access-key"), W("auth_key")};
static const struct word kw_c[] = {W("credential")};
static const struct word kw_p[] = {W("passw"), W("passphrase"), W("private_key"), W("privatekey"),
				   W("private-key")};
static const struct word kw_s[] = {W("secret")};
static const struct word kw_t[] = {W("token")};

/* Settings named after a credential that hold something else: token_url, password_file. */
static const struct word not_secret[] = {
    W("url"),	 W("uri"),	W("file"),   W("path"),	  W("name"),   W("type"),    W("length"),
    W("size"),	 W("endpoint"), W("header"), W("prefix"), W("format"), W("version"), W("timeout"),
    W("expiry"), W("expires"),	W("field"),  W("count"),  W("_id"),    W("-id"),     W(".id"),
    W("_dir"),	 W("_len"),	W("_ttl"),   W("_env"),	  W("_var"),   W("_key_id"), W("_policy"),
};

static bool has_keyword(const char *low, size_t n)
{
	for (size_t j = 0; j + 5 <= n; j++) {
		const struct word *k;
		size_t nk;

		switch (low[j]) {
		case 'a': k = kw_a, nk = sizeof(kw_a) / sizeof(kw_a[0]); break;
		case 'c': k = kw_c, nk = 1; break;
		case 'p': k = kw_p, nk = sizeof(kw_p) / sizeof(kw_p[0]); break;
		case 's': k = kw_s, nk = 1; break;
		case 't': k = kw_t, nk = 1; break;
		default: continue;
		}
		for (size_t i = 0; i < nk; i++)
			if (j + k[i].n <= n && memcmp(low + j, k[i].s, k[i].n) == 0)
				return true;
	}
	return false;
}

static bool ident_is_credential(const char *id, size_t n, bool *aws_secret)
{
	char low[64];
	size_t i;

	if (n == 0 || n > sizeof(low))
		return false;
	for (i = 0; i < n; i++)
		low[i] = (char)lower((unsigned char)id[i]);
	if (!has_keyword(low, n))
		return false;
	for (i = 0; i < sizeof(not_secret) / sizeof(not_secret[0]); i++)
		if (n >= not_secret[i].n &&
		    memcmp(low + n - not_secret[i].n, not_secret[i].s, not_secret[i].n) == 0)
			return false;
	*aws_secret = memmem(low, n, "secretaccesskey", 15) ||
		      memmem(low, n, "secret_access_key", 17) ||
		      (memmem(low, n, "aws", 3) && memmem(low, n, "secret", 6));
	return true;
}

static bool is_bare_end(unsigned char c)
{
	return c <= ' ' || c == ',' || c == ';' || c == ')' || c == ']' || c == '}' || c == '"' ||
	       c == '\'' || c == '`' || c == '\\';
}

static bool only_word_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((unsigned)((c | 32) - 'a') < 26 || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* The generic rule and the AWS secret rule: a credential-named setting assigned a value.
 * op is the '=' or ':' under the cursor. */
static void match_assignment(struct scan *sc, size_t op)
{
	const char *buf = sc->buf;
	size_t n = sc->n, p = op + 1, istart, ilen, vs, ve;
	bool quoted = false, aws = false;
	const char *v;
	size_t vn;

	if (buf[op] == '=') {
		if (op > 0 && buf[op - 1] && strchr("=!<>:+-*/%&|^~", buf[op - 1]))
			return; /* comparisons, compound assignments, := handled at the ':' */
		if (p < n && buf[p] == '=')
			return;
		if (p < n && buf[p] == '>')
			p++;
	} else {
		if ((op > 0 && buf[op - 1] == ':') || (p < n && buf[p] == ':'))
			return;
		if (p < n && buf[p] == '=')
			p++;
		else if (p + 1 < n && buf[p] == '/' && buf[p + 1] == '/')
			return;
	}
	ilen = ident_before(buf, op, &istart);
	if (!ilen || !ident_is_credential(buf + istart, ilen, &aws))
		return;
	while (p < n && (buf[p] == ' ' || buf[p] == '\t'))
		p++;
	if (p < n && (buf[p] == '"' || buf[p] == '\'' || buf[p] == '`')) {
		char q = buf[p];
		vs = ve = ++p;
		while (ve < n && buf[ve] != q && buf[ve] != '\n' && ve - vs <= SS_GENERIC_MAX_LEN) {
			if (buf[ve] == '\\')
				ve++;
			ve++;
		}
		if (ve >= n || buf[ve] != q)
			return;
		quoted = true;
	} else {
		vs = ve = p;
		while (ve < n && !is_bare_end((unsigned char)buf[ve]) &&
		       ve - vs <= SS_GENERIC_MAX_LEN)
			ve++;
	}
	v = buf + vs;
	vn = ve - vs;
	if (vn < SS_GENERIC_MIN_LEN || vn > SS_GENERIC_MAX_LEN)
		return;
	if (starts_ci(v, vn, "http://") || starts_ci(v, vn, "https://") || v[0] == '/' ||
	    starts_ci(v, vn, "./") || starts_ci(v, vn, "~/"))
		return; /* a URL or a path to where the secret lives, not the secret */
	if (!quoted && (memchr(v, '(', vn) || memchr(v, '[', vn) || only_word_chars(v, vn)))
		return; /* code: a call, an index, a variable or attribute name */
	if (memchr(v, ' ', vn) || memchr(v, '\t', vn))
		return; /* prose, a command line or a passphrase: not what this rule can judge */
	if (aws && vn == 40 && run_len(v, vn, 0, 40, is_b64) == 40) {
		/* a real key is 40 random characters; a fixed gate keeps out 0000… fillers */
		if (ss_entropy(v, vn) >= 3.0 && !ss_is_placeholder(v, vn))
			add_simple(sc, SS_RULE_AWS_SECRET_ACCESS_KEY, vs, ve);
		return;
	}
	if (ss_entropy(v, vn) < sc->opts->min_entropy || ss_is_placeholder(v, vn))
		return;
	add_simple(sc, SS_RULE_GENERIC_CREDENTIAL, vs, ve);
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->rs != y->rs)
		return x->rs < y->rs ? -1 : 1;
	return x->rule - y->rule;
}

/* Columns count Unicode code points (run.columnKind "unicodeCodePoints"). */
static long col_of(const char *buf, size_t line_start, size_t pos)
{
	long col = 1;

	for (size_t i = line_start; i < pos; i++)
		col += ((unsigned char)buf[i] & 0xc0) != 0x80;
	return col;
}

struct span {
	size_t s, e;
	const char *preview;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->e < y->e ? 1 : (x->e > y->e ? -1 : 0);
}

#define SNIPPET_SPANS_MAX 64

/* The line [ls, le) as a snippet around candidate cands[k], with every candidate's secret on
 * the line, and every other copy of those secrets, replaced by its preview. Returns a new
 * string (caller frees) or NULL on allocation failure. */
static char *build_snippet(const struct scan *sc, size_t k, size_t ls, size_t le)
{
	const char *buf = sc->buf;
	const struct cand *me = &sc->c[k];
	struct span sp[SNIPPET_SPANS_MAX];
	size_t nsp = 0, ts = ls, te = le, ws, we, i, j, cap, o = 0;
	bool grew;
	char *out;

	while (te > ts && (buf[te - 1] == '\r' || buf[te - 1] == ' ' || buf[te - 1] == '\t'))
		te--;
	while (ts < te && (buf[ts] == ' ' || buf[ts] == '\t'))
		ts++;
	ws = ts, we = te;
	for (i = 0; i < sc->nc && nsp < SNIPPET_SPANS_MAX; i++) {
		const struct cand *c = &sc->c[i];
		if (c->se > c->ss && c->ss >= ls && c->ss < le)
			sp[nsp++] = (struct span){c->ss, c->se < le ? c->se : le, c->preview};
	}
	if (we - ws > SS_SNIPPET_MAX) {
		size_t half =
		    (SS_SNIPPET_MAX -
		     (me->re - me->rs < SS_SNIPPET_MAX ? me->re - me->rs : SS_SNIPPET_MAX)) /
		    2;
		size_t nws = me->rs > ws + half ? me->rs - half : ws;
		size_t nwe = me->re + half < we ? me->re + half : we;
		ws = nws, we = nwe;
		/* never cut a secret in two: widen over any span the window clips */
		do {
			grew = false;
			for (i = 0; i < nsp; i++) {
				if (sp[i].s < ws && sp[i].e > ws)
					ws = sp[i].s, grew = true;
				if (sp[i].s < we && sp[i].e > we)
					we = sp[i].e, grew = true;
			}
		} while (grew);
		while (ws > ts && ((unsigned char)buf[ws] & 0xc0) == 0x80)
			ws--;
		while (we < te && ((unsigned char)buf[we] & 0xc0) == 0x80)
			we++;
	}
	/* other copies of the same secrets in the window */
	for (i = 0, j = nsp; i < j && nsp < SNIPPET_SPANS_MAX; i++) {
		size_t len = sp[i].e - sp[i].s, p = ws;
		const char *hit;
		if (len < SS_GENERIC_MIN_LEN)
			continue;
		while (p < we && nsp < SNIPPET_SPANS_MAX &&
		       (hit = memmem(buf + p, we - p, buf + sp[i].s, len))) {
			size_t at = (size_t)(hit - buf);
			if (at != sp[i].s)
				sp[nsp++] = (struct span){at, at + len, sp[i].preview};
			p = at + len;
		}
	}
	qsort(sp, nsp, sizeof(sp[0]), span_cmp);

	cap = (we - ws) + nsp * 48 + 16;
	out = malloc(cap);
	if (!out)
		return NULL;
	if (ws > ts)
		o += (size_t)snprintf(out + o, cap - o, "…");
	for (i = ws, j = 0; i < we;) {
		while (j < nsp && sp[j].e <= i)
			j++;
		if (j < nsp && sp[j].s <= i) {
			/* the secret redacted; overlapping spans collapse into the first */
			o += (size_t)snprintf(out + o, cap - o, "%s", sp[j].preview);
			i = sp[j].e < we ? sp[j].e : we;
			continue;
		}
		size_t stop = j < nsp && sp[j].s < we ? sp[j].s : we;
		memcpy(out + o, buf + i, stop - i);
		o += stop - i;
		i = stop;
	}
	if (we < te && o + sizeof("…") <= cap)
		o += (size_t)snprintf(out + o, cap - o, "…");
	out[o] = '\0';
	return out;
}

static int findings_push(struct ss_findings *out, struct ss_finding *f)
{
	size_t max = out->max ? out->max : SS_FINDINGS_MAX;

	if (out->n >= max) {
		out->dropped++;
		free(f->path);
		free(f->snippet);
		return 0;
	}
	if (out->n == out->cap) {
		size_t ncap = out->cap ? out->cap * 2 : 64;
		struct ss_finding *nv = realloc(out->items, ncap * sizeof(*nv));
		if (!nv) {
			free(f->path);
			free(f->snippet);
			return FF_ENOMEM;
		}
		out->items = nv, out->cap = ncap;
	}
	out->items[out->n++] = *f;
	return 0;
}

int ss_scan_buffer(const struct ss_match_opts *opts, const char *path, const char *buf, size_t len,
		   struct ss_findings *out, struct ff_err *err)
{
	struct scan sc = {.opts = opts, .path = path, .buf = buf, .n = len};
	size_t i, j, scan_pos = 0, line_pos = 0, ls = 0, le = 0, col_pos = 0;
	long line_no = 1, col = 1;
	bool allowed = false;
	int rc = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		size_t end = 0;

		/* the hot loop: a table test per byte, true only where a match can start */
		if (!(trig[c] & ~in_word[i ? (unsigned char)buf[i - 1] : ' ']))
			continue;
		if (c == '=' || c == ':') {
			match_assignment(&sc, i);
		} else if (c == '-') {
			if (len - i > 16 && buf[i + 1] == '-' &&
			    memcmp(buf + i, "-----BEGIN ", 11) == 0)
				end = match_private_key(&sc, i);
		} else if (i + 1 < len) {
			/* the second byte first: most word starts go no further */
			unsigned char d = (unsigned char)buf[i + 1];
			switch (c) {
			case 'A':
				if (d == 'I')
					end = match_google(&sc, i);
				else if (d == 'K' || d == 'S')
					end = match_aws_key_id(&sc, i);
				break;
			case 'g':
				if (d == 'h' || d == 'l' || d == 'i')
					end = match_github(&sc, i);
				break;
			case 'x':
				if (d == 'o')
					end = match_slack(&sc, i);
				break;
			case 'h':
				if (d == 'o')
					end = match_slack_webhook(&sc, i);
				break;
			case 's':
			case 'r':
				if (d == 'k')
					end = match_stripe(&sc, i);
				break;
			case 'e':
				if (d == 'y')
					end = match_jwt(&sc, i);
				break;
			}
		}
		if (sc.rc)
			break;
		if (end > i + 1)
			i = end - 1; /* a token's own bytes hold no further secrets */
	}
	if (sc.rc) {
		rc = ff_err_set(err, sc.rc, "out of memory scanning %s", path);
		goto out;
	}
	out->dropped += sc.overflow;
	if (sc.nc)
		qsort(sc.c, sc.nc, sizeof(sc.c[0]), cand_cmp);
	/* a value that holds a recognised token is reported as that token, not as generic */
	for (i = 0; i < sc.nc; i++) {
		if (sc.c[i].rule != SS_RULE_GENERIC_CREDENTIAL)
			continue;
		for (j = 0; j < sc.nc; j++)
			if (sc.c[j].rule != SS_RULE_GENERIC_CREDENTIAL && sc.c[j].rs < sc.c[i].re &&
			    sc.c[i].rs < sc.c[j].re)
				sc.c[i].suppressed = true;
	}
	for (i = 0; i < sc.nc; i++) {
		struct cand *c = &sc.c[i];
		struct ss_finding f = {0};

		/* candidates come sorted, so the line count only moves forward */
		while (scan_pos < c->rs) {
			const char *nl = memchr(buf + scan_pos, '\n', c->rs - scan_pos);
			if (!nl) {
				scan_pos = c->rs;
				break;
			}
			line_no++;
			line_pos = scan_pos = (size_t)(nl - buf) + 1;
		}
		if (i == 0 || c->rs >= le) {
			/* a new line; candidates on one long line share its bounds and columns */
			const char *nl = memchr(buf + c->rs, '\n', len - c->rs);
			ls = line_pos;
			le = nl ? (size_t)(nl - buf) : len;
			allowed = ss_line_allowed(buf + ls, le - ls);
			col_pos = ls, col = 1;
		}
		if (c->suppressed || allowed)
			continue;
		f.rule = c->rule;
		f.line = line_no;
		if (c->rs < col_pos)
			col_pos = ls, col = 1;
		col += col_of(buf, col_pos, c->rs) - 1;
		col_pos = c->rs;
		f.start_col = col;
		f.end_col = f.start_col + col_of(buf, c->rs, c->re < le ? c->re : le) - 1;
		memcpy(f.message, c->message, sizeof(f.message));
		memcpy(f.preview, c->preview, sizeof(f.preview));
		memcpy(f.fingerprint, c->fp, sizeof(f.fingerprint));
		f.path = strdup(path);
		f.snippet = build_snippet(&sc, i, ls, le);
		if (!f.path || !f.snippet) {
			free(f.path);
			free(f.snippet);
			rc = ff_err_set(err, FF_ENOMEM, "out of memory scanning %s", path);
			goto out;
		}
		rc = findings_push(out, &f);
		if (rc) {
			ff_err_set(err, rc, "out of memory scanning %s", path);
			goto out;
		}
	}
out:
	free(sc.c);
	return rc;
}

void ss_findings_release(struct ss_findings *f)
{
	size_t max;

	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->items[i].path);
		free(f->items[i].snippet);
	}
	free(f->items);
	max = f->max;
	memset(f, 0, sizeof(*f));
	f->max = max;
}
