/*
 * libfaas — formatting helpers shared by the library and the faas-worker
 * program (which does not link the library).
 */
#ifndef FAAS_FORMAT_H
#define FAAS_FORMAT_H

#include <stdarg.h>

/* vsnprintf into a malloc()ed string of the right size; NULL on failure. */
char *faas__vformat(const char *fmt, va_list ap);

#endif /* FAAS_FORMAT_H */
