/* ff_util — small helpers every binary needs: ids, digests, clocks. */
#ifndef FF_UTIL_H
#define FF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FF_UUID_LEN 36
#define FF_SHA256_HEX_LEN 64

/* A new random (v4) uuid, lowercase. */
void ff_uuid_new(char out[FF_UUID_LEN + 1]);
/* True for a canonical lowercase uuid. */
bool ff_uuid_valid(const char *s);
/* SHA-256 of buf as lowercase hex. */
void ff_sha256_hex(const void *buf, size_t len, char out[FF_SHA256_HEX_LEN + 1]);
/* True for 64 lowercase hex characters. */
bool ff_sha256_hex_valid(const char *s);
/* Fills buf with n bytes from the OS's random source (OpenSSL); 0 or FF_EINTERNAL. */
int ff_random_bytes(void *buf, size_t n);
/* Milliseconds on a monotonic clock. */
int64_t ff_now_ms(void);

#endif
