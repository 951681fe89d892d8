/* ss_sha256 — a small streaming SHA-256 (FIPS 180-4) for finding fingerprints.
 *
 * The scanner is a static binary that links only libc, so it carries its own digest rather
 * than OpenSSL's libcrypto; the unit tests check it against the FIPS vectors and libcrypto.
 */
#ifndef SS_SHA256_H
#define SS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SS_SHA256_LEN	  32
#define SS_SHA256_HEX_LEN 64

struct ss_sha256 {
	uint32_t h[8];
	uint64_t nbytes;
	uint8_t block[64];
	size_t fill;
};

void ss_sha256_init(struct ss_sha256 *s);
void ss_sha256_update(struct ss_sha256 *s, const void *data, size_t len);
/* Writes the digest; s must be initialised again before reuse. */
void ss_sha256_final(struct ss_sha256 *s, uint8_t out[SS_SHA256_LEN]);
/* Finishes s and writes the digest as lowercase hex, NUL-terminated. */
void ss_sha256_final_hex(struct ss_sha256 *s, char out[SS_SHA256_HEX_LEN + 1]);
/* One-shot digest of buf as lowercase hex. */
void ss_sha256_hex(const void *buf, size_t len, char out[SS_SHA256_HEX_LEN + 1]);

#endif
