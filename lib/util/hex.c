/* Hex digits. */
#include "hex.h"

static const char digits[] = "0123456789abcdef";

int faas__hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t faas__hex_encode(char *out, const void *in, size_t len)
{
	const unsigned char *p = in;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
	return 2 * len;
}

void faas__hex_u64(char out[16], uint64_t v)
{
	for (int i = 15; i >= 0; i--) {
		out[i] = digits[v & 15];
		v >>= 4;
	}
}
