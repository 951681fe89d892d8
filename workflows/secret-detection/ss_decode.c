/* ss_decode — decoders for the encodings secrets hide under; see ss_decode.h. */
#include "ss_decode.h"

#include <string.h>

const char *const ss_codec_names[SS_DEC_COUNT] = {
    [SS_DEC_BASE64] = "base64",	       [SS_DEC_HEX] = "hex",
    [SS_DEC_URL] = "URL-encoding",     [SS_DEC_ESCAPES] = "string escapes",
    [SS_DEC_BINARY] = "binary digits", [SS_DEC_REVERSED] = "reversed",
    [SS_DEC_ROT13] = "rot13",
};

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 32;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static long dec_base64(const char *s, size_t n, char *out)
{
	unsigned acc = 0;
	int bits = 0;
	long o = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1; /* no base64 text has this length */
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return o;
}

static long dec_hex(const char *s, size_t n, char *out)
{
	long o = 0;
	size_t i = 0;

	if (n >= 2 && s[0] == '0' && (s[1] | 32) == 'x')
		i = 2;
	while (i < n) {
		int hi, lo;
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'x')
			i += 2; /* \x41\x4b… */
		if (i + 1 >= n)
			return -1;
		hi = hexval((unsigned char)s[i]);
		lo = hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	return o;
}

static long dec_url(const char *s, size_t n, char *out)
{
	long o = 0;
	int escapes = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 0 && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			out[o++] = (char)(hexval((unsigned char)s[i + 1]) << 4 |
					  hexval((unsigned char)s[i + 2]));
			i += 2;
			escapes++;
		} else {
			out[o++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	return escapes ? o : -1;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* n hex digits at s as a number, or -1 */
static long hexnum(const char *s, size_t n)
{
	long v = 0;

	for (size_t i = 0; i < n; i++) {
		int d = hexval((unsigned char)s[i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static long dec_escapes(const char *s, size_t n, char *out)
{
	long o = 0;
	int escapes = 0;

	for (size_t i = 0; i < n; i++) {
		long cp;
		if (s[i] != '\\' || i + 1 >= n) {
			out[o++] = s[i];
			continue;
		}
		escapes++;
		switch (s[++i]) {
		case 'u':
			/* \uXXXX takes 6 bytes and yields at most 3 (a pair 12 for 4), so it fits
			 */
			if (i + 4 >= n || (cp = hexnum(s + i + 1, 4)) < 0)
				return -1;
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' &&
			    s[i + 2] == 'u') {
				long lo = hexnum(s + i + 3, 4);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			o += (long)put_utf8(out + o, (unsigned)cp);
			break;
		case 'x':
			if (i + 2 >= n || (cp = hexnum(s + i + 1, 2)) < 0)
				return -1;
			i += 2;
			out[o++] = (char)cp;
			break;
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case 'r': out[o++] = '\r'; break;
		default: out[o++] = s[i]; break; /* \" \' \\ \/ and the rest stand for themselves */
		}
	}
	return escapes ? o : -1;
}

static long dec_binary(const char *s, size_t n, char *out)
{
	long o = 0;
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ') {
			if (bits % 8)
				return -1; /* groups must be whole bytes */
			continue;
		}
		if (s[i] != '0' && s[i] != '1')
			return -1;
		acc = acc << 1 | (unsigned)(s[i] - '0');
		if (++bits % 8 == 0)
			out[o++] = (char)(acc & 0xff);
	}
	return bits && bits % 8 == 0 ? o : -1;
}

long ss_decode(int codec, const char *s, size_t n, char *out)
{
	switch (codec) {
	case SS_DEC_BASE64: return dec_base64(s, n, out);
	case SS_DEC_HEX: return n % 2 && !(n > 2 && s[1] == 'x') ? -1 : dec_hex(s, n, out);
	case SS_DEC_URL: return dec_url(s, n, out);
	case SS_DEC_ESCAPES: return dec_escapes(s, n, out);
	case SS_DEC_BINARY: return dec_binary(s, n, out);
	case SS_DEC_REVERSED:
		for (size_t i = 0; i < n; i++)
			out[i] = s[n - 1 - i];
		return (long)n;
	case SS_DEC_ROT13:
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i], b = (c | 32);
			out[i] =
			    (char)(b >= 'a' && b <= 'z' ? (c & ~31u) | ((b - 'a' + 13) % 26 + 1)
							: c);
		}
		return (long)n;
	}
	return -1;
}

bool ss_is_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return false;
		if (c == 0x7f)
			return false;
	}
	return n > 0;
}

void ss_xor(const char *s, size_t n, const char *key, size_t kn, char *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(s[i] ^ key[i % kn]);
}
