/* ff_util — ids, digests, clocks; see ff_util.h. */
#include "ff_util.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
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

void ff_sha256_hex(const void *buf, size_t len, char out[FF_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
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
