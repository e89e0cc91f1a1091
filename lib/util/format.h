/*
 * libfaas — formatting helpers shared by the library and the faas-worker
 * program (which does not link the library).
 */
#ifndef FAAS_FORMAT_H
#define FAAS_FORMAT_H

#include <stdarg.h>

/* vsnprintf into a malloc()ed string of the right size; NULL on failure. */
char *faas__vformat(const char *fmt, va_list ap);

/* One log line: fmt formatted into stack (size bytes) or, if it does not
 * fit, into a malloc()ed buffer; newlines inside it become spaces (a line
 * stays one line in the sink), and one spare byte is left after the text for
 * the caller's '\n'. Returns the text (stack or the caller's to free: compare
 * with stack), its length in *len, or NULL (bad format, out of memory). */
char *faas__vformat_line(char *stack, size_t size, size_t *len, const char *fmt, va_list ap);

#endif /* FAAS_FORMAT_H */
