/* ff_util — small helpers every binary needs: ids, digests, clocks, UTF-8. */
#ifndef FF_UTIL_H
#define FF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FF_UUID_LEN	  36
#define FF_SHA256_HEX_LEN 64

/* A new random (v4) uuid, lowercase. */
void ff_uuid_new(char out[FF_UUID_LEN + 1]);
/* True for a canonical lowercase uuid. */
bool ff_uuid_valid(const char *s);
/* SHA-256 of buf as lowercase hex. */
void ff_sha256_hex(const void *buf, size_t len, char out[FF_SHA256_HEX_LEN + 1]);
/* True for 64 lowercase hex characters. */
bool ff_sha256_hex_valid(const char *s);
/* 64-bit FNV-1a of a string: a fast, stable hash for names and keys (not for secrets). */
uint64_t ff_fnv1a64(const char *s);
/* The same digest over data that arrives in pieces: new (NULL on no memory), update as it
 * comes, then final writes the hex and frees. */
struct ff_sha256;
struct ff_sha256 *ff_sha256_new(void);
void ff_sha256_update(struct ff_sha256 *h, const void *buf, size_t len);
void ff_sha256_final(struct ff_sha256 *h, char out[FF_SHA256_HEX_LEN + 1]);
void ff_sha256_free(struct ff_sha256 *h); /* NULL-safe; not needed after final */
/* Fills buf with n bytes from the OS's random source (OpenSSL); 0 or FF_EINTERNAL. */
int ff_random_bytes(void *buf, size_t n);
/* The length (1 to 4) of the well-formed UTF-8 sequence at s, which has n > 0 bytes; 0 when
 * it is not one (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut
 * short). A NUL byte is a sequence of length 1. */
size_t ff_utf8_seq_len(const unsigned char *s, size_t n);
/* True if s[0..len) is well-formed UTF-8 without a NUL byte. */
bool ff_utf8_valid(const char *s, size_t len);
/* Makes the NUL-terminated s well-formed UTF-8 in place: each byte that does not start a
 * well-formed sequence becomes '?'. For echoing what a client sent (replies must be valid
 * JSON, which is UTF-8). Returns s. */
char *ff_utf8_sanitize(char *s);
/* Whether word is one of the sep-separated entries of list (NULL: no entries). */
bool ff_list_has(const char *list, char sep, const char *word);
/* Milliseconds, microseconds on a monotonic clock; microseconds since the epoch. */
int64_t ff_now_ms(void);
int64_t ff_now_us(void);
int64_t ff_wall_us(void);
/* The CLOCK_REALTIME instant ms milliseconds from now, for pthread_cond_timedwait. */
struct timespec;
void ff_deadline_in(struct timespec *ts, long ms);

#endif
