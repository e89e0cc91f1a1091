/* Hexadecimal digits: reading one, and writing bytes or a 64-bit value as
 * lowercase hex. Libc only. */
#ifndef FAAS_UTIL_HEX_H
#define FAAS_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value 0..15 of the hex digit c ('0'-'9', 'a'-'f', 'A'-'F'), or -1.
 * c may be any int (a char, or an unsigned char value, or EOF). */
int faas__hexval(int c);

/* Write the len bytes at in as 2 * len lowercase hex digits and a NUL into
 * out (2 * len + 1 bytes). Returns 2 * len. */
size_t faas__hex_encode(char *out, const void *in, size_t len);

/* Write v as exactly 16 lowercase hex digits, most significant first, into
 * out; no NUL. */
void faas__hex_u64(char out[16], uint64_t v);

#endif /* FAAS_UTIL_HEX_H */
