/* Error names and messages, generated from FAAS_ERRNO_MAP, the helpers that
 * record a detailed message on a runtime, and the checks of user-given names
 * shared by functions and triggers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

const char *faas_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define XX(name, value, msg) \
	case value:          \
		return msg;
		FAAS_ERRNO_MAP(XX)
#undef XX
	default:
		return "unknown error";
	}
}

const char *faas_err_name(int err)
{
	switch (err) {
	case 0:
		return "FAAS_OK";
#define XX(name, value, msg) \
	case value:          \
		return "FAAS_" #name;
		FAAS_ERRNO_MAP(XX)
#undef XX
	default:
		return "FAAS_UNKNOWN";
	}
}

/* faas_runtime_new() has no runtime to keep its message in, so failures before
 * one exists go to a per-thread buffer that faas_runtime_last_error(NULL) reads. */
static _Thread_local char thread_last_error[FAAS__ERRMSG_SIZE];

int faas__fail(faas_runtime *rt, int err, const char *fmt, ...)
{
	char *buf = rt ? rt->last_error : thread_last_error;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, FAAS__ERRMSG_SIZE, fmt, ap);
	va_end(ap);
	return err;
}

const char *faas_runtime_last_error(const faas_runtime *rt)
{
	return rt ? rt->last_error : thread_last_error;
}

char *faas__strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

bool faas__valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > FAAS__NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}
