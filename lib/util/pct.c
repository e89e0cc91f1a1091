/* Percent-decoding, one pass, writing never ahead of reading. */
#include "hex.h"
#include "pct.h"

size_t faas__pct_decode(char *dst, const char *src, size_t n, unsigned int flags)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = src[i];
		int hi, lo;

		if (ch == '%') {
			if (i + 2 < n && (hi = faas__hexval(src[i + 1])) >= 0 &&
			    (lo = faas__hexval(src[i + 2])) >= 0) {
				ch = (char)(hi * 16 + lo);
				i += 2;
			} else if (flags & FAAS__PCT_STRICT) {
				return FAAS__PCT_ERROR;
			}
		} else if (ch == '+' && (flags & FAAS__PCT_PLUS_SPACE)) {
			ch = ' ';
		}
		if (ch == '\0' && (flags & FAAS__PCT_REJECT_NUL))
			return FAAS__PCT_ERROR;
		dst[o++] = ch;
	}
	return o;
}
