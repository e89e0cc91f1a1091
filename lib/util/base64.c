/* Base64 (RFC 4648, standard alphabet, padded) for binary HTTP bodies and
 * X-Amz-Log-Result. Decoding is strict: only the alphabet, padding only at
 * the end; the padding itself may be left out. */
#include <stdint.h>

#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t faas__base64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

size_t faas__base64_encode(char *out, const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t o = 0, i = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t faas__base64_decode(void *out, const char *in, size_t len)
{
	unsigned char *o = out;
	size_t n = 0, i, pad = 0;
	uint32_t acc = 0;
	unsigned int bits = 0;

	/* Up to two '=' end the text, and only to fill its last quantum. */
	while (pad < 2 && len > 0 && in[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad && (len + pad) % 4 != 0)
		return SIZE_MAX;
	if (len % 4 == 1)
		return SIZE_MAX;
	for (i = 0; i < len; i++) {
		int v = value_of(in[i]);

		if (v < 0)
			return SIZE_MAX;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	/* The bits left over must be zero: "QQ==" is "A", "QR==" is not. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return SIZE_MAX;
	return n;
}

