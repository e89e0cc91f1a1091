/* Typed JSON field reads with path-naming errors; see manifest_read.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "manifest_read.h"

int faas__jread_fail(faas__jread *r, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->rc != 0)
		return r->rc;
	r->rc = FAAS_EINVAL;
	if (!r->err || r->errlen == 0)
		return r->rc;
	n = snprintf(r->err, r->errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= r->errlen)
		return r->rc;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return r->rc;
}

const char *faas__jpath(char *buf, const char *path, const char *key)
{
	int n = path && *path ? snprintf(buf, FAAS__JSON_PATH_MAX, "%s.%s", path, key)
			      : snprintf(buf, FAAS__JSON_PATH_MAX, "%s", key);

	if (n >= FAAS__JSON_PATH_MAX)
		memcpy(buf + FAAS__JSON_PATH_MAX - 4, "...", 4);
	return buf;
}

int faas__jread_keys(faas__jread *r, const cJSON *obj, const char *path,
		     const char *const *allowed)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, obj) {
		const char *const *k = allowed;
		char buf[FAAS__JSON_PATH_MAX];

		while (*k && strcmp(*k, item->string) != 0)
			k++;
		if (!*k)
			return faas__jread_fail(r, faas__jpath(buf, path, item->string),
						"unknown key");
	}
	return 0;
}

static const cJSON *field(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

int faas__jread_uint(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		     uint64_t min, uint64_t max, uint64_t *out)
{
	const cJSON *v = field(obj, key);
	char buf[FAAS__JSON_PATH_MAX];
	double d;

	if (!v)
		return 0;
	faas__jpath(buf, path, key);
	if (!cJSON_IsNumber(v))
		return faas__jread_fail(r, buf, "expected an integer %llu..%llu",
					(unsigned long long)min, (unsigned long long)max);
	d = v->valuedouble;
	if (d != floor(d) || d < (double)min || d > (double)max)
		return faas__jread_fail(r, buf, "expected %llu..%llu, got %g",
					(unsigned long long)min, (unsigned long long)max, d);
	*out = (uint64_t)d;
	return 0;
}

int faas__jread_double(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		       double min, double max, double *out)
{
	const cJSON *v = field(obj, key);
	char buf[FAAS__JSON_PATH_MAX];

	if (!v)
		return 0;
	faas__jpath(buf, path, key);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min ||
	    v->valuedouble > max)
		return faas__jread_fail(r, buf, "expected a number %g..%g", min, max);
	*out = v->valuedouble;
	return 0;
}

int faas__jread_bool(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		     bool *out)
{
	const cJSON *v = field(obj, key);
	char buf[FAAS__JSON_PATH_MAX];

	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return faas__jread_fail(r, faas__jpath(buf, path, key), "expected true or false");
	*out = cJSON_IsTrue(v);
	return 0;
}

int faas__jread_string(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		       size_t max_len, const char **out)
{
	const cJSON *v = field(obj, key);
	char buf[FAAS__JSON_PATH_MAX];

	if (!v)
		return 0;
	faas__jpath(buf, path, key);
	if (!cJSON_IsString(v) || !v->valuestring)
		return faas__jread_fail(r, buf, "expected a string");
	if (v->valuestring[0] == '\0' || strlen(v->valuestring) > max_len)
		return faas__jread_fail(r, buf, "expected 1..%zu characters", max_len);
	*out = v->valuestring;
	return 0;
}

int faas__jread_object(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		       const cJSON **out)
{
	const cJSON *v = field(obj, key);
	char buf[FAAS__JSON_PATH_MAX];

	*out = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsObject(v))
		return faas__jread_fail(r, faas__jpath(buf, path, key), "expected an object");
	*out = v;
	return 0;
}
