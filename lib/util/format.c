/* Formatting helpers shared by the library and faas-worker; see format.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

char *faas__vformat(const char *fmt, va_list ap)
{
	va_list copy;
	char *s;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *faas__vformat_line(char *stack, size_t size, size_t *len, const char *fmt, va_list ap)
{
	char *line = stack;
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(stack, size - 1, fmt, copy);
	va_end(copy);
	if (n < 0)
		return NULL;
	if ((size_t)n >= size - 1) {
		line = malloc((size_t)n + 2);
		if (!line)
			return NULL;
		vsnprintf(line, (size_t)n + 1, fmt, ap);
	}
	for (char *p = line; (p = memchr(p, '\n', (size_t)n - (size_t)(p - line))) != NULL;)
		*p = ' ';
	*len = (size_t)n;
	return line;
}
