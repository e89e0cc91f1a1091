/* Percent-decoding (RFC 3986 §2.1) for request paths and query strings,
 * with the variants the callers differ on as flags. Libc only. */
#ifndef FAAS_UTIL_PCT_H
#define FAAS_UTIL_PCT_H

#include <stddef.h>
#include <stdint.h>

/* '+' decodes to a space (application/x-www-form-urlencoded: query strings,
 * not paths). */
#define FAAS__PCT_PLUS_SPACE 0x1u
/* A NUL byte in the output (from %00, or a NUL in src) is an error: for
 * text that goes on as a C string. */
#define FAAS__PCT_REJECT_NUL 0x2u
/* A '%' not followed by two hex digits is an error. Without this flag it is
 * kept as it is, with what follows ("%zz" stays "%zz", "100%" stays "100%"). */
#define FAAS__PCT_STRICT 0x4u

/* What faas__pct_decode returns for an error. */
#define FAAS__PCT_ERROR SIZE_MAX

/* Decode the n bytes at src into dst, which has room for n bytes (decoding
 * never lengthens) and may be src itself (in-place decoding). No NUL is
 * appended. Returns the decoded length, or FAAS__PCT_ERROR as the flags
 * say; dst then holds an unspecified prefix. */
size_t faas__pct_decode(char *dst, const char *src, size_t n, unsigned int flags);

#endif /* FAAS_UTIL_PCT_H */
