/* ss_rules — the rule table and the single-pass matcher; see ss_rules.h.
 *
 * Hand-written matchers rather than POSIX regex: regexec over every rule for every line costs
 * one pass per rule, where this costs one table lookup per byte plus a short check at the few
 * places a secret can begin.
 */
#include "ss_rules.h"

#include "ss_decode.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
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
    [SS_RULE_AZURE_STORAGE_KEY] = {"azure-storage-key", "AzureStorageAccountKey",
				   "Azure storage account key", "error",
				   "An Azure storage account key (AccountKey= followed by 88 "
				   "base64 characters).",
				   "Rotate the key in the storage account's access keys; use a "
				   "managed identity or a SAS with an expiry instead."},
    [SS_RULE_CONNECTION_STRING_PASSWORD] = {"connection-string-password",
					    "ConnectionStringPassword",
					    "Password in a connection URL", "error",
					    "A password inline in a URL or connection string "
					    "(scheme://user:password@host).",
					    "Change the password and pass it to the client from a "
					    "secret store or the environment."},
    [SS_RULE_GENERIC_CREDENTIAL] = {"generic-credential", "GenericCredential",
				    "Hard-coded credential", "warning",
				    "A high-entropy value assigned to a password, secret, token "
				    "or API key setting.",
				    "Move the value to a secret store or an environment variable "
				    "and rotate it."},
};

/* Bytes a match can start at: the first letters of the token prefixes, the private-key
 * marker's dash, the assignment operators the generic rule anchors on, the quotes of the
 * literals that are decoded and joined, and the brackets of character-code lists. */
enum { T_ALWAYS = 1, T_WORD_START = 2 };

static const unsigned char trig[256] = {
    ['A'] = T_WORD_START, ['g'] = T_WORD_START, ['x'] = T_WORD_START, ['h'] = T_WORD_START,
    ['s'] = T_WORD_START, ['r'] = T_WORD_START, ['e'] = T_WORD_START, ['-'] = T_ALWAYS,
    ['='] = T_ALWAYS,	  [':'] = T_ALWAYS,	['"'] = T_ALWAYS,     ['\''] = T_ALWAYS,
    ['`'] = T_ALWAYS,	  ['('] = T_ALWAYS,	['['] = T_ALWAYS,     ['{'] = T_ALWAYS,
};

/* T_WORD_START for letters and digits: a token prefix right after one is inside a word
 * (XAKIA…), so trig[c] & ~in_word[prev] is non-zero only where a match can start. */
static const unsigned char in_word[256] = {
    ['0' ... '9'] = T_WORD_START,
    ['A' ... 'Z'] = T_WORD_START,
    ['a' ... 'z'] = T_WORD_START,
};

/* The positions where a match can start, in order: trig[c] & ~in_word[prev], narrowed by
 * the byte after (what scan_bytes checks next: the token prefixes' second letters, "--",
 * a blank or digit after a bracket). This is the scan's hot loop: with SSE2 (every x86-64)
 * 16 bytes are judged at once and each block's candidates are taken from one bit mask,
 * instead of ten instructions a byte; the last 16 bytes go byte by byte. */
struct starts {
	const char *buf;
	size_t len;
	size_t blk;    /* the block mask describes: [blk, blk + 16) */
	unsigned mask; /* its candidates not yet returned */
};

static bool start_at(const char *buf, size_t i, size_t len)
{
	unsigned char c = (unsigned char)buf[i], d = i + 1 < len ? (unsigned char)buf[i + 1] : 0;
	if (!(trig[c] & ~in_word[i ? (unsigned char)buf[i - 1] : ' ']))
		return false;
	switch (c) {
	case '(':
	case '[':
	case '{': return d == ' ' || (unsigned)(d - '0') < 10;
	case '-': return d == '-';
	case 'A': return d == 'I' || d == 'K' || d == 'S';
	case 'g': return d == 'h' || d == 'l' || d == 'i';
	case 'x':
	case 'h': return d == 'o';
	case 's':
	case 'r': return d == 'k';
	case 'e': return d == 'y';
	default: return true;
	}
}

#ifdef __SSE2__
static inline __m128i eq(__m128i v, char c)
{
	return _mm_cmpeq_epi8(v, _mm_set1_epi8(c));
}

/* start_at for the 16 bytes at i (1 <= i, i + 17 <= len), as a bit mask. */
static unsigned block_starts(const char *buf, size_t i)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(buf + i));
	__m128i p = _mm_loadu_si128((const __m128i *)(buf + i - 1));
	__m128i n = _mm_loadu_si128((const __m128i *)(buf + i + 1));
	/* p in a word: (p | 0x20) - 'a' < 26 or p - '0' < 10, unsigned */
	__m128i l = _mm_sub_epi8(_mm_or_si128(p, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
	__m128i dg = _mm_sub_epi8(p, _mm_set1_epi8('0'));
	__m128i word = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(25)), l),
				    _mm_cmpeq_epi8(_mm_min_epu8(dg, _mm_set1_epi8(9)), dg));
	__m128i nd = _mm_sub_epi8(n, _mm_set1_epi8('0'));
	__m128i n_digit = _mm_cmpeq_epi8(_mm_min_epu8(nd, _mm_set1_epi8(9)), nd);
	__m128i hit = _mm_or_si128(_mm_or_si128(eq(v, '='), eq(v, ':')),
				   _mm_or_si128(_mm_or_si128(eq(v, '"'), eq(v, '\'')), eq(v, '`')));
	__m128i bracket = _mm_or_si128(_mm_or_si128(eq(v, '('), eq(v, '[')), eq(v, '{'));
	hit = _mm_or_si128(hit, _mm_and_si128(bracket, _mm_or_si128(eq(n, ' '), n_digit)));
	hit = _mm_or_si128(hit, _mm_and_si128(eq(v, '-'), eq(n, '-')));
	__m128i ws = _mm_and_si128(eq(v, 'A'),
				   _mm_or_si128(_mm_or_si128(eq(n, 'I'), eq(n, 'K')), eq(n, 'S')));
	ws = _mm_or_si128(
	    ws, _mm_and_si128(eq(v, 'g'),
			      _mm_or_si128(_mm_or_si128(eq(n, 'h'), eq(n, 'l')), eq(n, 'i'))));
	ws = _mm_or_si128(ws, _mm_and_si128(_mm_or_si128(eq(v, 'x'), eq(v, 'h')), eq(n, 'o')));
	ws = _mm_or_si128(ws, _mm_and_si128(_mm_or_si128(eq(v, 's'), eq(v, 'r')), eq(n, 'k')));
	ws = _mm_or_si128(ws, _mm_and_si128(eq(v, 'e'), eq(n, 'y')));
	hit = _mm_or_si128(hit, _mm_andnot_si128(word, ws));
	return (unsigned)_mm_movemask_epi8(hit);
}
#endif

/* The first candidate at or after i, or len. Called with i rising. */
static size_t next_start(struct starts *st, size_t i)
{
#ifdef __SSE2__
	if (i >= st->blk && i < st->blk + 16) { /* still in the block: its mask knows */
		st->mask &= ~0u << (i - st->blk);
		if (st->mask)
			return st->blk + (size_t)__builtin_ctz(st->mask);
		i = st->blk + 16;
	}
	if (i == 0) {
		if (st->len && start_at(st->buf, 0, st->len))
			return 0;
		i = 1;
	}
	for (; i + 17 <= st->len; i += 16) {
		st->blk = i;
		if ((st->mask = block_starts(st->buf, i)))
			return i + (size_t)__builtin_ctz(st->mask);
	}
	st->blk = SIZE_MAX - 16; /* the tail: byte by byte */
#endif
	for (; i < st->len; i++)
		if (start_at(st->buf, i, st->len))
			return i;
	return st->len;
}

/* strtol(buf + p, &end, 0) kept within buf[0..n), which need not end in a NUL (a file's
 * bytes, a decoded string): a decimal, 0x hex or 0 octal number; its value saturates at
 * LONG_MAX / 16. Returns the position after it, p when there is none. */
static size_t parse_number(const char *buf, size_t p, size_t n, long *v)
{
	int base = 10;
	size_t q = p;
	if (q + 1 < n && buf[q] == '0' && (buf[q + 1] == 'x' || buf[q + 1] == 'X') && q + 2 < n &&
	    isxdigit((unsigned char)buf[q + 2])) {
		base = 16;
		q += 2;
	} else if (q < n && buf[q] == '0') {
		base = 8;
	}
	*v = 0;
	for (; q < n; q++) {
		int d = isdigit((unsigned char)buf[q])			? buf[q] - '0'
			: base == 16 && isxdigit((unsigned char)buf[q]) ? (buf[q] | 32) - 'a' + 10
									: 99;
		if (d >= base)
			break;
		*v = *v > LONG_MAX / 16 / base ? LONG_MAX / 16 : *v * base + d;
	}
	return q;
}

/* Byte classes, one table load per test: these run over every identifier and value. */
enum { B_ALNUM = 1, B_UPNUM = 2, B_B64URL = 4, B_B64 = 8, B_IDENT = 16 };
#define B_WORD (B_ALNUM | B_B64URL | B_B64 | B_IDENT)
static const unsigned char byte_class[256] = {
    ['0' ... '9'] = B_WORD | B_UPNUM,
    ['A' ... 'Z'] = B_WORD | B_UPNUM,
    ['a' ... 'z'] = B_WORD,
    ['_'] = B_B64URL | B_IDENT,
    ['-'] = B_B64URL | B_IDENT,
    ['.'] = B_IDENT,
    ['+'] = B_B64,
    ['/'] = B_B64,
    ['='] = B_B64,
};

static inline bool is_alnum(unsigned char c)
{
	return byte_class[c] & B_ALNUM;
}

static inline bool is_upnum(unsigned char c)
{
	return byte_class[c] & B_UPNUM;
}

static inline bool is_b64url(unsigned char c)
{
	return byte_class[c] & B_B64URL;
}

static inline bool is_b64(unsigned char c)
{
	return byte_class[c] & B_B64;
}

static inline bool is_ident(unsigned char c)
{
	return byte_class[c] & B_IDENT;
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

bool ss_is_reference(const char *s, size_t n)
{
	static const char *const words[] = {"getenv",	"environ", "process.env",
					    "env[",	"env(",	   "env.get",
					    "secrets.", "vault:",  "keyvault:"};

	if (n == 0)
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (has_ci(s, n, words[i]))
			return true;
	/* templates and variable references: ${VAR}, $VAR, $(cmd), {{ x }}, #{x}, %(x)s, <%= x %>,
	 * %VAR%, {x} */
	if (s[0] == '$' || s[0] == '{' || (n >= 2 && s[0] == '#' && s[1] == '{') ||
	    (n >= 2 && s[0] == '%' && s[1] == '(') || (n >= 2 && s[0] == '<' && s[1] == '%'))
		return true;
	return n >= 2 && s[0] == '%' && s[n - 1] == '%';
}

const char *ss_placeholder_reason(const char *s, size_t n)
{
	/* the documentation examples of providers first: they name the word EXAMPLE */
	static const struct {
		const char *word, *why;
	} words[] = {
	    {"example", "a documentation example"}, {"changeme", "a placeholder word"},
	    {"change_me", "a placeholder word"},    {"change-me", "a placeholder word"},
	    {"placeholder", "a placeholder word"},  {"dummy", "a placeholder word"},
	    {"redacted", "a placeholder word"},	    {"your_", "a placeholder word"},
	    {"your-", "a placeholder word"},	    {"yourpass", "a placeholder word"},
	    {"replace_me", "a placeholder word"},   {"replaceme", "a placeholder word"},
	    {"insert_", "a placeholder word"},	    {"<your", "a placeholder word"},
	    {"xxxx", "filler characters"},	    {"****", "filler characters"},
	    {"....", "filler characters"},
	};
	size_t i;

	if (n == 0)
		return "empty";
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (has_ci(s, n, words[i].word))
			return words[i].why;
	if (s[0] == '<' && s[n - 1] == '>')
		return "a template placeholder";
	/* one character repeated: 00000000, ******** */
	for (i = 1; i < n && s[i] == s[0]; i++)
		;
	return i == n ? "filler characters" : NULL;
}

bool ss_is_placeholder(const char *s, size_t n)
{
	return ss_is_reference(s, n) || ss_placeholder_reason(s, n);
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
	size_t rs, re;	   /* the region reported (bytes of buf) */
	size_t ss, se;	   /* the secret's bytes on the region's line, redacted in snippets */
	bool contiguous;   /* buf[ss..se) is the whole secret (not so for multi-line keys) */
	bool suppressed;   /* shadowed by a more specific rule: redacted but not reported */
	bool decoded;	   /* found in what a literal decodes to (rescan), not in the bytes */
	const char *level; /* "note" for a placeholder; NULL: the rule's level */
	char preview[48];
	char message[192];
	char fp[SS_SHA256_HEX_LEN + 1];
};

/* A literal assigned to a name: name buf[ns..ns+nn), value buf[vs..ve). */
struct var {
	size_t ns, nn, vs, ve;
};

struct scan {
	const struct ss_match_opts *opts;
	int depth;	  /* 0 for the file, n inside text decoded n times */
	size_t lit_end;	  /* quotes before this offset belong to a literal already looked at */
	struct var *vars; /* the last SS_VARS_MAX literals assigned to names, a ring; NULL in
			   * decoded text */
	size_t nvars, nextvar;
	size_t xkey_s, xkey_e; /* the last short literal assigned to a key, xor or mask name */
	struct var pending;    /* a name assigned the literal at pending.vs, not yet read */
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

/* Records a secret that is the contiguous bytes buf[s..e), reported as region [s, e); why,
 * when not NULL, says it looks like a placeholder, and makes it a note. */
static void add_reason(struct scan *sc, int rule, size_t s, size_t e, const char *why)
{
	struct ss_sha256 h;
	struct cand *c = cand_new(sc, rule);

	if (!c)
		return;
	c->rs = c->ss = s;
	c->re = c->se = e;
	c->contiguous = true;
	ss_redact(sc->buf + s, e - s, c->preview, sizeof(c->preview));
	if (why) {
		c->level = "note";
		snprintf(c->message, sizeof(c->message),
			 "%s found: %s (a note: the value looks like %s)", ss_rules[rule].kind,
			 c->preview, why);
	} else {
		snprintf(c->message, sizeof(c->message), "%s found: %s", ss_rules[rule].kind,
			 c->preview);
	}
	fingerprint_begin(&h, rule, sc->path);
	ss_sha256_update(&h, sc->buf + s, e - s);
	ss_sha256_final_hex(&h, c->fp);
}

/* Placeholders (AKIAIOSFODNN7EXAMPLE, xxxx…) are reported too, as notes: a reviewer decides. */
static void add_simple(struct scan *sc, int rule, size_t s, size_t e)
{
	add_reason(sc, rule, s, e, ss_placeholder_reason(sc->buf + s, e - s));
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
	add_simple(sc, SS_RULE_AWS_ACCESS_KEY_ID, i, i + 20);
	return i + 20;
}

static size_t match_google(struct scan *sc, size_t i)
{
	if (sc->n - i < 39 || memcmp(sc->buf + i, "AIza", 4) != 0)
		return 0;
	if (run_len(sc->buf, sc->n, i + 4, 36, is_b64url) != 35)
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
		if (k < 36 || k > 251)
			return 0;
		add_simple(sc, SS_RULE_GITHUB_TOKEN, i, i + 4 + k);
		return i + 4 + k;
	}
	if (sc->n - i >= 33 && memcmp(b, "github_pat_", 11) == 0) {
		k = run_len(sc->buf, sc->n, i + 11, 256, is_alnum_us);
		if (k < 22 || k > 255)
			return 0;
		add_simple(sc, SS_RULE_GITHUB_FINE_GRAINED_PAT, i, i + 11 + k);
		return i + 11 + k;
	}
	if (sc->n - i >= 26 && memcmp(b, "glpat-", 6) == 0) {
		k = run_len(sc->buf, sc->n, i + 6, 256, is_b64url);
		if (k < 20 || k > 255)
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
	if (k < 24 || k > 247)
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
static const struct word kw_a[] = {W("apikey"),	    W("api_key"),   W("api-key"),    W("api.key"),
				   W("access_key"), W("accesskey"), W("access-key"), W("auth_key")};
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

/* Character classes present in a value: lower, upper, digit, other. */
static int char_classes(const char *v, size_t n)
{
	int m = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		m |= (unsigned)(c - 'a') < 26	? 1
		     : (unsigned)(c - 'A') < 26 ? 2
		     : (unsigned)(c - '0') < 10 ? 4
						: 8;
	}
	return __builtin_popcount((unsigned)m);
}

/* Judges the value buf[vs..ve) assigned to a credential-named setting (quoted says it was a
 * string literal) and records it under the generic rule or the AWS secret rule. */
static void judge_value(struct scan *sc, size_t vs, size_t ve, bool quoted, bool aws)
{
	const char *v = sc->buf + vs;
	size_t vn = ve - vs;
	double h;

	if (vn < SS_GENERIC_MIN_LEN || vn > SS_GENERIC_MAX_LEN)
		return;
	if (starts_ci(v, vn, "http://") || starts_ci(v, vn, "https://") || v[0] == '/' ||
	    starts_ci(v, vn, "./") || starts_ci(v, vn, "~/"))
		return; /* a URL or a path to where the secret lives, not the secret */
	if (!quoted && (memchr(v, '(', vn) || memchr(v, '[', vn) || memchr(v, '<', vn)))
		return; /* code: a call, an index, or markup around it (<span>, </code>) */
	if (memchr(v, ' ', vn) || memchr(v, '\t', vn))
		return; /* prose, a command line or a passphrase: not what this rule can judge */
	if (ss_is_reference(v, vn))
		return;
	/* before the test for names: "password: changeme" is a placeholder, and a note */
	if (ss_placeholder_reason(v, vn)) {
		add_simple(sc,
			   aws && vn == 40 ? SS_RULE_AWS_SECRET_ACCESS_KEY
					   : SS_RULE_GENERIC_CREDENTIAL,
			   vs, ve);
		return;
	}
	if (!quoted && only_word_chars(v, vn))
		return; /* code: a variable or attribute name */
	if (aws && vn == 40 && run_len(v, vn, 0, 40, is_b64) == 40) {
		/* a real key is 40 random characters; a fixed gate keeps out 0000… fillers */
		if (ss_entropy(v, vn) >= 3.0)
			add_simple(sc, SS_RULE_AWS_SECRET_ACCESS_KEY, vs, ve);
		return;
	}
	/* Short passwords cannot reach min_entropy (n distinct characters give at most log2(n)
	 * bits), so a value also passes when nearly every character is distinct (entropy within
	 * SS_SHORT_SLACK bits of log2(n)), it mixes SS_SHORT_CLASSES character classes, and it
	 * is within SS_SHORT_DROP of min_entropy. */
	h = ss_entropy(v, vn);
	if (h < sc->opts->min_entropy && (h < sc->opts->min_entropy - SS_SHORT_DROP ||
					  h < log2((double)(vn < 64 ? vn : 64)) - SS_SHORT_SLACK ||
					  char_classes(v, vn) < SS_SHORT_CLASSES))
		return;
	add_simple(sc, SS_RULE_GENERIC_CREDENTIAL, vs, ve);
}

/* AccountKey=<88 base64 characters> in an Azure storage connection string, at the '=' at op. */
static bool match_azure(struct scan *sc, size_t istart, size_t ilen, size_t p)
{
	size_t k;

	if (ilen < 10 || !starts_ci(sc->buf + istart + ilen - 10, 10, "accountkey"))
		return false;
	k = run_len(sc->buf, sc->n, p, 89, is_b64);
	if (k != 88)
		return false;
	add_simple(sc, SS_RULE_AZURE_STORAGE_KEY, p, p + k);
	return true;
}

static bool is_scheme_char(unsigned char c)
{
	return is_alnum(c) || c == '+' || c == '-' || c == '.';
}

static bool is_userinfo_char(unsigned char c)
{
	return c > ' ' && c != '@' && c != '/' && c != ':' && c != '"' && c != '\'' && c != '`' &&
	       c != '<' && c != '>' && c != '\\';
}

/* scheme://user:password@host — a password inline in a URL, at the ':' at op. */
static void match_url_password(struct scan *sc, size_t op)
{
	const char *buf = sc->buf;
	size_t s = op, u, pw, pe;

	while (s > 0 && op - s < 32 && is_scheme_char((unsigned char)buf[s - 1]))
		s--;
	if (s == op || !((unsigned)((buf[s] | 32) - 'a') < 26))
		return;
	u = op + 3;
	pw = u + run_len(buf, sc->n, u, 128, is_userinfo_char);
	if (pw == u || pw >= sc->n || buf[pw] != ':')
		return;
	pe = ++pw;
	while (pe < sc->n && pe - pw <= 128 && is_userinfo_char((unsigned char)buf[pe]))
		pe++;
	if (pe == pw || pe >= sc->n || buf[pe] != '@' || pe - pw > 128)
		return;
	if (pe - pw < 4 || ss_is_reference(buf + pw, pe - pw))
		return;
	/* "user:password@host" and "user:pass@host" are how documentation writes it */
	if (has_ci(buf + pw, pe - pw, "pass") || has_ci(buf + pw, pe - pw, "secret") ||
	    has_ci(buf + pw, pe - pw, "pwd") ||
	    (pw - 1 - u == 4 && starts_ci(buf + u, 4, "user")) ||
	    (pw - 1 - u == 8 && starts_ci(buf + u, 8, "username")))
		add_reason(sc, SS_RULE_CONNECTION_STRING_PASSWORD, pw, pe, "a placeholder word");
	else
		add_simple(sc, SS_RULE_CONNECTION_STRING_PASSWORD, pw, pe);
}

/* The closing quote of the literal opening at q, within max bytes and on the same line, or 0. */
static size_t literal_end(const char *buf, size_t n, size_t q, size_t max)
{
	size_t lim = n - q - 1 < max ? n - q - 1 : max;
	const char *s = buf + q + 1, *e = memchr(s, buf[q], lim);

	/* memchr finds the candidate fast; a backslash or newline before it means looking
	 * closer */
	if (e && !memchr(s, '\n', (size_t)(e - s)) && !memchr(s, '\\', (size_t)(e - s)))
		return (size_t)(e - buf);
	for (size_t p = q + 1; p < n && p - q <= max; p++) {
		if (buf[p] == '\\') {
			p++;
			continue;
		}
		if (buf[p] == '\n')
			return 0;
		if (buf[p] == buf[q])
			return p;
	}
	return 0;
}

/* A pattern literal holding one fixed string, /^hunter2$/ or re.compile(r"^hunter2$"): its
 * text between the anchors, or false when it has any operator a real pattern would. */
static bool regex_literal(const char *buf, size_t n, size_t p, size_t *vs, size_t *ve)
{
	size_t s, e;

	if (starts_ci(buf + p, n - p, "re.compile("))
		p += 11;
	else if (starts_ci(buf + p, n - p, "new regexp("))
		p += 11;
	if (p < n && buf[p] == 'r')
		p++;
	if (p >= n || !(buf[p] == '/' || buf[p] == '"' || buf[p] == '\''))
		return false;
	e = literal_end(buf, n, p, SS_GENERIC_MAX_LEN);
	if (!e)
		return false;
	s = p + 1;
	if (s < e && buf[s] == '^')
		s++;
	if (e > s && buf[e - 1] == '$')
		e--;
	for (size_t i = s; i < e; i++)
		if (strchr("[](){}*+?|\\", buf[i]))
			return false;
	*vs = s, *ve = e;
	return true;
}

static void rescan_expr(struct scan *sc, size_t op, size_t p);
static void remember_literal(struct scan *sc, size_t istart, size_t ilen, size_t vs, size_t ve);

/* The generic rule and the AWS secret rule: a credential-named setting assigned a value.
 * op is the '=' or ':' under the cursor. Also records literals assigned to names (for the
 * concatenations rescan_expr joins) and finds Azure keys and URL passwords. */
static void match_assignment(struct scan *sc, size_t op)
{
	const char *buf = sc->buf;
	size_t n = sc->n, p = op + 1, istart, ilen, vs, ve;
	bool quoted = false, aws = false;

	if (buf[op] == '=') {
		if (op > 0 && buf[op - 1] && strchr("=!<>:+-*/%&|^~", buf[op - 1]))
			return; /* comparisons, compound assignments, := handled at the ':' */
		if (p < n && buf[p] == '=')
			return;
		if (p < n && buf[p] == '>')
			p++;
	} else {
		if ((op > 0 && buf[op - 1] == ':') || (p < n && (buf[p] == ':' || buf[p] == '?')))
			return; /* ::, and ${VAR:?message} in shell */
		if (p < n && buf[p] == '=')
			p++;
		else if (p + 1 < n && buf[p] == '/' && buf[p + 1] == '/') {
			match_url_password(sc, op);
			return;
		}
	}
	ilen = ident_before(buf, op, &istart);
	if (!ilen)
		return;
	while (p < n && (buf[p] == ' ' || buf[p] == '\t'))
		p++;
	if (buf[op] == '=' && lower((unsigned char)buf[istart + ilen - 1]) == 'y' &&
	    match_azure(sc, istart, ilen, p))
		return;
	if (!ident_is_credential(buf + istart, ilen, &aws)) {
		/* the literal, if one follows, is remembered when match_literal reaches it */
		if (p < n && (buf[p] == '"' || buf[p] == '\'' || buf[p] == '`'))
			sc->pending = (struct var){istart, ilen, p, 0};
		else if (p < n && is_ident((unsigned char)buf[p]) && sc->nvars)
			rescan_expr(sc, op, p);
		return;
	}
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
		remember_literal(sc, istart, ilen, vs, ve);
	} else {
		if (p < n && is_ident((unsigned char)buf[p]) && sc->nvars)
			rescan_expr(sc, op, p);
		vs = ve = p;
		while (ve < n && !is_bare_end((unsigned char)buf[ve]) &&
		       ve - vs <= SS_GENERIC_MAX_LEN)
			ve++;
	}
	if (!quoted && regex_literal(buf, n, vs, &vs, &ve))
		quoted = true;
	judge_value(sc, vs, ve, quoted, aws);
}

/* ---- decode and rescan ----
 *
 * A string literal may hold a secret in another form: encoded (base64, hex, …), reversed,
 * XORed with a key written beside it, spelled as character codes, or split into parts that
 * are joined at run time. Each form is undone into a buffer and the buffer scanned again with
 * every rule, SS_DECODE_DEPTH levels deep at most; what is found there is reported at the
 * literal, its message saying how it was found ("base64 → GitHub token found: ghp_…"). */

/* Scans sc->buf[0..n) with every rule; the candidates go to sc->c. */
static void scan_bytes(struct scan *sc);

/* Scans dec[0..dn) (what buf[rs..re) decodes to) and adds what it finds as candidates at
 * [rs, re), marked decoded, their messages prefixed with how. */
static void rescan(struct scan *sc, size_t rs, size_t re, const char *how, const char *dec,
		   size_t dn)
{
	struct scan in = {.opts = sc->opts, .path = sc->path, .buf = dec, .n = dn};

	if (sc->depth >= SS_DECODE_DEPTH || dn < SS_GENERIC_MIN_LEN)
		return;
	in.depth = sc->depth + 1;
	scan_bytes(&in);
	for (size_t i = 0; i < in.nc && !sc->rc; i++) {
		struct cand *o, *c = &in.c[i];
		if (c->suppressed)
			continue;
		o = cand_new(sc, c->rule);
		if (!o)
			break;
		*o = *c;
		o->rs = o->ss = rs;
		o->re = o->se = re;
		o->decoded = true;
		snprintf(o->message, sizeof(o->message), "%s \xe2\x86\x92 %.*s", how,
			 (int)(sizeof(o->message) - 40), c->message);
	}
	if (in.rc)
		sc->rc = in.rc;
	sc->overflow += in.overflow;
	free(in.c);
}

/* Remembers a literal assigned to a name (for rescan_expr) and, when the name says it is a
 * key or a mask, as the key XORed blobs are tried with. */
static void remember_literal(struct scan *sc, size_t istart, size_t ilen, size_t vs, size_t ve)
{
	struct var *v;

	if (!sc->vars || ve - vs > SS_PART_MAX)
		return;
	v = &sc->vars[sc->nextvar];
	sc->nextvar = (sc->nextvar + 1) % SS_VARS_MAX;
	if (sc->nvars < SS_VARS_MAX)
		sc->nvars++;
	*v = (struct var){istart, ilen, vs, ve};
	if (ve > vs && ve - vs <= 32) {
		/* one pass for key, xor and mask: this runs for every short literal assigned */
		const char *nm = sc->buf + istart;
		for (size_t i = 0; i + 3 <= ilen; i++) {
			unsigned char c = lower((unsigned char)nm[i]);
			if ((c == 'k' && starts_ci(nm + i, ilen - i, "key")) ||
			    (c == 'x' && starts_ci(nm + i, ilen - i, "xor")) ||
			    (c == 'm' && starts_ci(nm + i, ilen - i, "mask"))) {
				sc->xkey_s = vs, sc->xkey_e = ve;
				break;
			}
		}
	}
}

static const struct var *find_var(const struct scan *sc, size_t s, size_t n)
{
	for (size_t i = 0; i < sc->nvars; i++) {
		const struct var *v = &sc->vars[i];
		if (v->nn == n && memcmp(sc->buf + v->ns, sc->buf + s, n) == 0)
			return v;
	}
	return NULL;
}

static bool is_name_char(unsigned char c)
{
	return is_alnum(c) || c == '_';
}

/* name + name + "literal" …, the right-hand side at p of the assignment at op: when every
 * name was assigned a literal before, the parts joined are rescanned. */
static void rescan_expr(struct scan *sc, size_t op, size_t p)
{
	const char *buf = sc->buf;
	char out[SS_JOIN_MAX];
	size_t o = 0, terms = 0, names = 0, end = p;

	/* most right-hand sides are calls or names alone: look for the + before anything else */
	size_t q = p + run_len(buf, sc->n, p, 64, is_name_char);
	while (q < sc->n && buf[q] == ' ')
		q++;
	if (q >= sc->n || buf[q] != '+')
		return;
	while (p < sc->n && terms < SS_PARTS_MAX) {
		size_t k = run_len(buf, sc->n, p, 64, is_name_char), s, e;
		if (k) {
			const struct var *v = find_var(sc, p, k);
			if (!v)
				return;
			s = v->vs, e = v->ve, names++;
			p += k;
		} else if (buf[p] == '"' || buf[p] == '\'' || buf[p] == '`') {
			e = literal_end(buf, sc->n, p, SS_PART_MAX);
			if (!e)
				return;
			s = p + 1;
			p = e + 1;
		} else {
			return;
		}
		if (o + (e - s) > sizeof(out))
			return;
		memcpy(out + o, buf + s, e - s);
		o += e - s, terms++, end = p;
		while (p < sc->n && (buf[p] == ' ' || buf[p] == '\t'))
			p++;
		if (p >= sc->n || buf[p] != '+')
			break;
		p++;
		while (p < sc->n && (buf[p] == ' ' || buf[p] == '\t'))
			p++;
	}
	if (terms >= 2 && names >= 1)
		rescan(sc, op + 1, end, "joined from variables", out, o);
}

/* Blobs that decode to bytes rather than text may be XORed: tried with the last short literal
 * assigned to a key, xor or mask name, and with each number after a ^ on the blob's line. */
static void try_xor(struct scan *sc, size_t rs, size_t re, const char *how, const char *b, size_t n)
{
	char x[SS_DECODE_MAX], key, msg[64];
	size_t p = re;

	if (sc->xkey_e > sc->xkey_s) {
		ss_xor(b, n, sc->buf + sc->xkey_s, sc->xkey_e - sc->xkey_s, x);
		if (ss_is_text(x, n)) {
			snprintf(msg, sizeof(msg), "%s, XOR with the key beside it", how);
			rescan(sc, rs, re, msg, x, n);
		}
	}
	while (p < sc->n && sc->buf[p] != '\n' && p - re < 256) {
		long v;
		if (sc->buf[p++] != '^')
			continue;
		while (p < sc->n && sc->buf[p] == ' ')
			p++;
		size_t end = parse_number(sc->buf, p, sc->n, &v);
		if (end == p || v <= 0 || v > 255)
			continue;
		key = (char)v;
		ss_xor(b, n, &key, 1, x);
		if (ss_is_text(x, n)) {
			snprintf(msg, sizeof(msg), "%s, XOR with 0x%02lx", how, v);
			rescan(sc, rs, re, msg, x, n);
		}
	}
}

/* True when s[0..n) reversed (or rot13ed) begins with the prefix of a token a rule knows. */
static bool token_start(int codec, const char *s, size_t n)
{
	static const char *const prefixes[] = {"AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_",
					       "ghr_", "gith", "glpa", "xoxb", "xoxa", "xoxp",
					       "xoxr", "xoxs", "sk_l", "rk_l", "AIza", "eyJ"};
	char head[4];

	/* the first letters of the prefixes below, as they are stored: reversed or rot13ed */
	if (n < 4 || !strchr(codec == SS_DEC_REVERSED ? "Aegrsx" : "Nefkrt",
			     s[codec == SS_DEC_REVERSED ? n - 1 : 0]))
		return false;
	if (codec == SS_DEC_REVERSED) {
		for (int i = 0; i < 4; i++)
			head[i] = s[n - 1 - i];
	} else {
		ss_decode(SS_DEC_ROT13, s, 4, head);
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (head[0] == prefixes[i][0] &&
		    memcmp(head, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* Tries every decoder that fits the literal content buf[vs..ve). */
/* Byte classes of a literal's characters, so one table lookup per byte tells which decoders
 * can apply. */
enum {
	C_B64 = 1,
	C_HEX = 2,
	C_BIN = 4,
	C_BS = 8,
	C_PCT = 16,
	C_SPACE = 32,
	C_UP = 64,
	C_LOW = 128
};

static const unsigned char lit_class[256] = {
    ['A' ... 'F'] = C_B64 | C_HEX | C_UP,
    ['G' ... 'Z'] = C_B64 | C_UP,
    ['a' ... 'f'] = C_B64 | C_HEX | C_LOW,
    ['g' ... 'z'] = C_B64 | C_LOW,
    ['0' ... '1'] = C_B64 | C_HEX | C_BIN,
    ['2' ... '9'] = C_B64 | C_HEX,
    ['+'] = C_B64,
    ['/'] = C_B64,
    ['_'] = C_B64,
    ['-'] = C_B64,
    ['\\'] = C_BS,
    ['%'] = C_PCT,
    [' '] = C_SPACE | C_BIN,
};

/* True when XOR could apply to a blob ending at re: a key was assigned, or a ^ follows it on
 * its line. */
static bool xor_possible(const struct scan *sc, size_t re)
{
	const char *nl;

	if (sc->xkey_e > sc->xkey_s)
		return true;
	nl = memchr(sc->buf + re, '\n', sc->n - re);
	return memchr(sc->buf + re, '^', (nl ? (size_t)(nl - sc->buf) : sc->n) - re) != NULL;
}

static void decode_literal(struct scan *sc, size_t vs, size_t ve)
{
	const char *s = sc->buf + vs;
	size_t n = ve - vs, i, pad = n;
	unsigned all = 0xff, any = 0;
	char out[SS_DECODE_MAX];

	if (n < SS_DECODE_MIN || n > SS_DECODE_MAX)
		return;
	while (pad > n - 2 && s[pad - 1] == '=')
		pad--; /* base64 padding */
	for (i = 0; i < pad; i++) {
		unsigned c = lit_class[(unsigned char)s[i]];
		all &= c;
		any |= c;
	}
	for (; i < n; i++)
		any |= C_B64 | C_PCT; /* '=' is base64 padding, and stops hex and binary */
	if (pad < n)
		all &= C_B64;
	for (int codec = 0; codec < SS_DEC_COUNT && !sc->rc; codec++) {
		long k;
		switch (codec) {
		/* base64 of 12 bytes or more all but always mixes cases; identifiers do not */
		case SS_DEC_BASE64:
			if (!(all & C_B64) || (any & (C_UP | C_LOW)) != (C_UP | C_LOW))
				continue;
			break;
		case SS_DEC_HEX:
			if (!(all & C_HEX) && !((any & C_BS) && s[1] == 'x'))
				continue;
			break;
		case SS_DEC_URL:
			if (!(any & C_PCT))
				continue;
			break;
		case SS_DEC_ESCAPES:
			if (!(any & C_BS))
				continue;
			break;
		case SS_DEC_BINARY:
			if (!(all & C_BIN))
				continue;
			break;
		default:
			/* reversed and rot13 text is rescanned only when it starts with a token
			 * prefix: rescanning every literal twice would halve the speed */
			if ((any & C_SPACE) || n > SS_PART_MAX || !token_start(codec, s, n))
				continue;
			break;
		}
		/* random base64 and hex decode to bytes that are not text within the first few:
		 * decode 16 characters first, and everything only if they are text or could be
		 * XORed */
		if ((codec == SS_DEC_BASE64 || codec == SS_DEC_HEX) && !xor_possible(sc, ve)) {
			k = ss_decode(codec, s, 16, out);
			if (k > 0 && !ss_is_text(out, (size_t)k))
				continue;
		}
		k = ss_decode(codec, s, n, out);
		if (k < SS_GENERIC_MIN_LEN)
			continue;
		if (ss_is_text(out, (size_t)k))
			rescan(sc, vs, ve, ss_codec_names[codec], out, (size_t)k);
		else if (codec == SS_DEC_BASE64 || codec == SS_DEC_HEX)
			try_xor(sc, vs, ve, ss_codec_names[codec], out, (size_t)k);
	}
}

/* 'g', 'h', 'p', '_', … from the quote at q: a char array, joined and rescanned. */
static void char_list(struct scan *sc, size_t q)
{
	const char *buf = sc->buf;
	char out[SS_JOIN_MAX];
	size_t o = 0, p = q, last = q;

	while (p + 2 < sc->n && buf[p] == '\'' && o < sizeof(out)) {
		if (buf[p + 1] == '\\' && p + 3 < sc->n && buf[p + 3] == '\'') {
			out[o++] = buf[p + 2];
			p += 4;
		} else if (buf[p + 2] == '\'') {
			out[o++] = buf[p + 1];
			p += 3;
		} else {
			break;
		}
		last = p;
		while (p < sc->n && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\n' ||
				     buf[p] == '\r' || buf[p] == ','))
			p++;
	}
	sc->lit_end = last;
	if (o >= SS_GENERIC_MIN_LEN)
		rescan(sc, q, last, "char array", out, o);
}

/* 103, 104, 112, … after the bracket at b: character codes, joined and rescanned (and tried
 * as an XORed blob when they are not text). */
static void code_list(struct scan *sc, size_t b)
{
	const char *buf = sc->buf;
	char out[SS_JOIN_MAX];
	size_t o = 0, p = b + 1, first, last = 0;

	while (p < sc->n && (buf[p] == ' ' || buf[p] == '\n'))
		p++;
	first = p;
	while (p < sc->n && (unsigned)(buf[p] - '0') < 10 && o < sizeof(out)) {
		long v;
		size_t end = parse_number(buf, p, sc->n, &v);
		if (v < 0 || v > 255)
			return;
		out[o++] = (char)v;
		p = last = end;
		while (p < sc->n && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\n' ||
				     buf[p] == '\r' || buf[p] == ','))
			p++;
	}
	if (o < SS_GENERIC_MIN_LEN)
		return;
	if (ss_is_text(out, o))
		rescan(sc, first, last, "character codes", out, o);
	else
		try_xor(sc, first, last, "byte array", out, o);
}

static bool is_join_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\\';
}

/* "sk_live_" + "goEm…" + …, or adjacent literals ("AKIA" "UJZD"): the literal at q (closing
 * at e) and those joined to it, rescanned as one. */
static void join_literals(struct scan *sc, size_t q, size_t e)
{
	const char *buf = sc->buf;
	char out[SS_JOIN_MAX];
	size_t o = e - q - 1, p = e + 1, parts = 1, last = e;

	if (o > SS_PART_MAX)
		return;
	memcpy(out, buf + q + 1, o);
	size_t b = q;
	bool paren;

	while (b > 0 && (buf[b - 1] == ' ' || buf[b - 1] == '\t'))
		b--;
	paren = b > 0 && buf[b - 1] == '(';
	while (parts < SS_PARTS_MAX) {
		size_t e2, a;
		bool op = false, nl = false;
		while (p < sc->n && p - last < 64 &&
		       (is_join_space((unsigned char)buf[p]) || buf[p] == '+' || buf[p] == '.')) {
			op |= buf[p] == '+' || buf[p] == '.' || buf[p] == '\\';
			nl |= buf[p] == '\n';
			p++;
		}
		if (p >= sc->n || !(buf[p] == '"' || buf[p] == '\'' || buf[p] == '`'))
			break;
		/* literals on separate lines are one only when an operator or a parenthesis
		 * joins them: Python's ("a"\n "b"), JavaScript's "a" +\n "b" */
		if (nl && !op && !paren)
			break;
		e2 = literal_end(buf, sc->n, p, SS_PART_MAX);
		if (!e2 || o + (e2 - p - 1) > sizeof(out))
			break;
		for (a = e2 + 1; a < sc->n && buf[a] == ' '; a++)
			;
		if (a < sc->n && buf[a] == ':')
			break; /* the next literal is a key: "a": 1, "b": 2 */
		memcpy(out + o, buf + p + 1, e2 - p - 1);
		o += e2 - p - 1, parts++;
		last = e2, p = e2 + 1;
	}
	if (parts < 2)
		return;
	sc->lit_end = last + 1;
	rescan(sc, q, last + 1, "concatenated literals", out, o);
}

/* ["xoxb", "8528…", …].join("-"): the literals of an array opened before q, joined with the
 * separator. */
static void join_array(struct scan *sc, size_t q)
{
	const char *buf = sc->buf;
	char out[SS_JOIN_MAX];
	size_t o = 0, p = q, parts = 0, s[SS_PARTS_MAX], e[SS_PARTS_MAX], sep_s, sep_e;

	while (p < sc->n && parts < SS_PARTS_MAX && buf[p] == buf[q]) {
		e[parts] = literal_end(buf, sc->n, p, SS_PART_MAX);
		if (!e[parts])
			return;
		s[parts] = p + 1;
		p = e[parts++] + 1;
		while (p < sc->n && (buf[p] == ' ' || buf[p] == ','))
			p++;
	}
	if (parts < 2 || sc->n - p < 9 || buf[p] != ']' || memcmp(buf + p + 1, ".join(", 6) != 0)
		return;
	sep_s = p + 7;
	sep_e = literal_end(buf, sc->n, sep_s, 8);
	if (!sep_e)
		return;
	sep_s++;
	for (size_t i = 0; i < parts; i++) {
		size_t need = (e[i] - s[i]) + (i ? sep_e - sep_s : 0);
		if (o + need > sizeof(out))
			return;
		if (i) {
			memcpy(out + o, buf + sep_s, sep_e - sep_s);
			o += sep_e - sep_s;
		}
		memcpy(out + o, buf + s[i], e[i] - s[i]);
		o += e[i] - s[i];
	}
	sc->lit_end = e[parts - 1] + 1;
	rescan(sc, q, e[parts - 1] + 1, "joined array", out, o);
}

/* CREATE USER … WITH PASSWORD '…' and ALTER USER … IDENTIFIED BY "…": SQL sets passwords
 * with a keyword, not an operator. */
static void sql_password(struct scan *sc, size_t q, size_t e)
{
	size_t j = q;

	while (j > 0 && sc->buf[j - 1] == ' ')
		j--;
	if (j == 0 || (lower((unsigned char)sc->buf[j - 1]) != 'd' &&
		       lower((unsigned char)sc->buf[j - 1]) != 'y'))
		return; /* neither passworD nor identified bY: most literals stop here */
	if (!(j >= 9 && starts_ci(sc->buf + j - 9, 9, " password")) &&
	    !(j >= 14 && starts_ci(sc->buf + j - 14, 14, " identified by")))
		return;
	/* prose says "identified by "aOrderBy"" too: a password here must hold a non-letter */
	for (size_t i = q + 1; i < e; i++)
		if (!((unsigned)((sc->buf[i] | 32) - 'a') < 26)) {
			judge_value(sc, q + 1, e, true, false);
			return;
		}
}

/* A string literal opening at q. */
static void match_literal(struct scan *sc, size_t q)
{
	const char *buf = sc->buf;
	size_t e = literal_end(buf, sc->n, q, SS_DECODE_MAX), b = q;

	if (!e)
		return;
	sc->lit_end = e + 1;
	if (sc->pending.vs == q && sc->pending.nn)
		remember_literal(sc, sc->pending.ns, sc->pending.nn, q + 1, e);
	if (buf[q] == '\'' && (e - q == 2 || (e - q == 3 && buf[q + 1] == '\\'))) {
		char_list(sc, q);
		return;
	}
	if (sc->depth >= SS_DECODE_DEPTH)
		return;
	sql_password(sc, q, e);
	decode_literal(sc, q + 1, e);
	while (b > 0 && buf[b - 1] == ' ')
		b--;
	if (b > 0 && buf[b - 1] == '[')
		join_array(sc, q);
	if (sc->lit_end == e + 1)
		join_literals(sc, q, e);
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
		if (c->decoded && c->suppressed)
			continue; /* a copy of a secret the bytes show, redacted as that */
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

/* What the candidates found shadow: a value that holds a recognised token is reported as that
 * token, not as generic; a decoded finding that the bytes themselves show (a key in a string
 * with \n escapes), or that another decoder found first, is reported once. */
static void suppress_shadowed(struct scan *sc)
{
	for (size_t i = 0; i < sc->nc; i++) {
		struct cand *a = &sc->c[i];
		for (size_t j = 0; j < sc->nc && !a->suppressed; j++) {
			const struct cand *b = &sc->c[j];
			if (j == i || b->suppressed || !(b->rs < a->re && a->rs < b->re))
				continue;
			if (a->rule == SS_RULE_GENERIC_CREDENTIAL && b->rule != a->rule)
				a->suppressed = true;
			else if (a->decoded && b->rule == a->rule && (!b->decoded || j < i))
				a->suppressed = true;
		}
	}
}

static void scan_bytes(struct scan *sc)
{
	const char *buf = sc->buf;
	size_t len = sc->n;

	struct starts st = {.buf = buf, .len = len, .blk = SIZE_MAX - 16};
	for (size_t i = next_start(&st, 0); i < len; i = next_start(&st, i + 1)) {
		unsigned char c = (unsigned char)buf[i];
		size_t end = 0;

		if (c == '=' || c == ':') {
			match_assignment(sc, i);
		} else if (c == '"' || c == '\'' || c == '`') {
			if (i >= sc->lit_end)
				match_literal(sc, i);
		} else if (c == '(' || c == '[' || c == '{') {
			if (i + 1 < len && sc->depth < SS_DECODE_DEPTH &&
			    (buf[i + 1] == ' ' || (unsigned)(buf[i + 1] - '0') < 10))
				code_list(sc, i);
		} else if (c == '-') {
			if (len - i > 16 && buf[i + 1] == '-' &&
			    memcmp(buf + i, "-----BEGIN ", 11) == 0)
				end = match_private_key(sc, i);
		} else if (i + 1 < len) {
			/* the second byte first: most word starts go no further */
			unsigned char d = (unsigned char)buf[i + 1];
			switch (c) {
			case 'A':
				if (d == 'I')
					end = match_google(sc, i);
				else if (d == 'K' || d == 'S')
					end = match_aws_key_id(sc, i);
				break;
			case 'g':
				if (d == 'h' || d == 'l' || d == 'i')
					end = match_github(sc, i);
				break;
			case 'x':
				if (d == 'o')
					end = match_slack(sc, i);
				break;
			case 'h':
				if (d == 'o')
					end = match_slack_webhook(sc, i);
				break;
			case 's':
			case 'r':
				if (d == 'k')
					end = match_stripe(sc, i);
				break;
			case 'e':
				if (d == 'y')
					end = match_jwt(sc, i);
				break;
			}
		}
		if (sc->rc)
			break;
		if (end > i + 1)
			i = end - 1; /* a token's own bytes hold no further secrets */
	}
	if (sc->nc)
		qsort(sc->c, sc->nc, sizeof(sc->c[0]), cand_cmp);
	suppress_shadowed(sc);
}

int ss_scan_buffer(const struct ss_match_opts *opts, const char *path, const char *buf, size_t len,
		   struct ss_findings *out, struct ff_err *err)
{
	struct var vars[SS_VARS_MAX];
	struct scan sc = {.opts = opts, .path = path, .buf = buf, .n = len, .vars = vars};
	size_t i, scan_pos = 0, line_pos = 0, ls = 0, le = 0, col_pos = 0;
	long line_no = 1, col = 1;
	bool allowed = false;
	int rc = 0;

	scan_bytes(&sc);
	if (sc.rc) {
		rc = ff_err_set(err, sc.rc, "out of memory scanning %s", path);
		goto out;
	}
	out->dropped += sc.overflow;
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
		f.level = c->level ? c->level : ss_rules[c->rule].level;
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
