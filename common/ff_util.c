/* ff_util — ids, digests, clocks, UTF-8; see ff_util.h. */
#include "ff_util.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "ff_err.h"

void ff_uuid_new(char out[FF_UUID_LEN + 1])
{
	uuid_t u;
	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

static bool all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool ff_uuid_valid(const char *s)
{
	static const size_t groups[] = {8, 4, 4, 4, 12};
	if (!s)
		return false;
	for (size_t g = 0; g < 5; g++) {
		if (!all_lower_hex(s, groups[g]))
			return false;
		s += groups[g];
		if (*s != (g == 4 ? '\0' : '-'))
			return false;
		s++;
	}
	return true;
}

static void to_hex(const unsigned char md[32], char out[FF_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (unsigned int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

void ff_sha256_hex(const void *buf, size_t len, char out[FF_SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	to_hex(md, out);
}

struct ff_sha256 *ff_sha256_new(void)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		c = NULL;
	}
	return (struct ff_sha256 *)c;
}

void ff_sha256_update(struct ff_sha256 *h, const void *buf, size_t len)
{
	EVP_DigestUpdate((EVP_MD_CTX *)h, buf, len);
}

void ff_sha256_final(struct ff_sha256 *h, char out[FF_SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex((EVP_MD_CTX *)h, md, &mdlen);
	EVP_MD_CTX_free((EVP_MD_CTX *)h);
	to_hex(md, out);
}

void ff_sha256_free(struct ff_sha256 *h)
{
	EVP_MD_CTX_free((EVP_MD_CTX *)h);
}

uint64_t ff_fnv1a64(const char *s)
{
	uint64_t h = 14695981039346656037ULL; /* the FNV offset basis */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

bool ff_sha256_hex_valid(const char *s)
{
	size_t n = 0;
	while (s && s[n] && n <= 64)
		n++;
	return s && n == 64 && all_lower_hex(s, 64);
}

int ff_random_bytes(void *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? 0 : FF_EINTERNAL;
}

int64_t ff_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ff_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ff_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ff_deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

size_t ff_utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t min, cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool ff_list_has(const char *list, char sep, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p; p = strchr(p, sep) ? strchr(p, sep) + 1 : NULL)
		if (!strncmp(p, word, n) && (p[n] == sep || p[n] == '\0'))
			return true;
	return false;
}

char *ff_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		size_t n = ff_utf8_seq_len(p + i, len - i);
		if (!n) {
			p[i] = '?';
			n = 1;
		}
		i += n;
	}
	return s;
}

bool ff_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = p[i] ? ff_utf8_seq_len(p + i, len - i) : 0;
		if (!n)
			return false;
		i += n;
	}
	return true;
}
