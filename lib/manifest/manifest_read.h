/*
 * libfaas — typed reads of JSON fields that name their JSON path in every
 * error, for the manifest (lib/manifest.c).
 */
#ifndef FAAS_MANIFEST_READ_H
#define FAAS_MANIFEST_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "faas/common.h"

/* The longest JSON path named in a message; deeper ones are cut (with "..."). */
#define FAAS__JSON_PATH_MAX 256

typedef struct faas__jread {
	char *err;
	size_t errlen;
	int rc; /* the first error, or 0 */
} faas__jread;

/* Record an error at path (the first one wins). Returns FAAS_EINVAL. */
int faas__jread_fail(faas__jread *r, const char *path, const char *fmt, ...)
	FAAS_PRINTF(3, 4);

/* path + "." + key into buf. */
const char *faas__jpath(char *buf, const char *path, const char *key);

/* Every key of obj must be in allowed (NULL-terminated). */
int faas__jread_keys(faas__jread *r, const cJSON *obj, const char *path,
		     const char *const *allowed);

/* Optional fields: absent leaves *out as it is. Present but wrong → error. */
int faas__jread_uint(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		     uint64_t min, uint64_t max, uint64_t *out);
int faas__jread_double(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		       double min, double max, double *out);
int faas__jread_bool(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		     bool *out);
/* *out is borrowed from obj. */
int faas__jread_string(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		       size_t max_len, const char **out);
/* The object (or NULL if absent); an error if present and not an object. */
int faas__jread_object(faas__jread *r, const cJSON *obj, const char *path, const char *key,
		       const cJSON **out);

#endif /* FAAS_MANIFEST_READ_H */
