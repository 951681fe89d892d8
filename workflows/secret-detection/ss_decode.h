/* ss_decode — the encodings a secret is hidden under, undone so the rules can match again.
 *
 * Each decoder takes the text of one string literal and writes what it stands for, or says it
 * is not in that encoding. None of them allocates: every encoding here is at least as long as
 * what it encodes, so an output buffer of the input's size always suffices. The matcher
 * (ss_rules.c) decides which literals to try and scans what comes out.
 */
#ifndef SS_DECODE_H
#define SS_DECODE_H

#include <stdbool.h>
#include <stddef.h>

enum ss_codec {
	SS_DEC_BASE64,	 /* standard or URL-safe alphabet, padding optional */
	SS_DEC_HEX,	 /* pairs of hex digits, optionally 0x- or \x-prefixed */
	SS_DEC_URL,	 /* %XX escapes (and + for space) */
	SS_DEC_ESCAPES,	 /* \uXXXX, \xHH, \" \\ \/ \n …: JSON, JavaScript, Python, Java */
	SS_DEC_BINARY,	 /* groups of 8 binary digits, space-separated or not */
	SS_DEC_REVERSED, /* the characters in reverse order */
	SS_DEC_ROT13,	 /* letters rotated by 13 */
	SS_DEC_COUNT
};

/* What a message calls each: "base64", "hex", … */
extern const char *const ss_codec_names[SS_DEC_COUNT];

/* Decodes s[0..n) as codec into out (room for n bytes). Returns the decoded length, or -1 when
 * s is not in that encoding (a character outside its alphabet, a bad length, or no escape at
 * all for SS_DEC_URL and SS_DEC_ESCAPES, whose output would equal the input). */
long ss_decode(int codec, const char *s, size_t n, char *out);

/* True when s[0..n) reads as text: printable ASCII, tab, CR, LF, or UTF-8 above 0x7f. Decoded
 * bytes that are not text are not rescanned (a PNG in base64, a SHA-256 in hex). */
bool ss_is_text(const char *s, size_t n);

/* XORs s[0..n) with key[0..kn) repeated, into out. */
void ss_xor(const char *s, size_t n, const char *key, size_t kn, char *out);

#endif
