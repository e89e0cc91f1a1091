/*
 * libfaas util — base64 (RFC 4648) for binary HTTP bodies and X-Amz-Log-Result.
 */
#ifndef FAAS_UTIL_BASE64_H
#define FAAS_UTIL_BASE64_H

#include <stddef.h>

/* out must hold faas__base64_encoded_len(len) + 1 bytes; returns the length written. */
size_t faas__base64_encoded_len(size_t len);
size_t faas__base64_encode(char *out, const void *in, size_t len);
/* Returns the decoded length, or SIZE_MAX for invalid input; out holds len*3/4+3. */
size_t faas__base64_decode(void *out, const char *in, size_t len);

#endif /* FAAS_UTIL_BASE64_H */
