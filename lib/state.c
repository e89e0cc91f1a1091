/* State calls from handlers: namespacing keys and checking arguments before
 * they reach the runtime's backend. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Keys beyond this are refused rather than silently cut. */
#define FAAS__STATE_KEY_MAX 1024u
/* A namespaced key fits here without an allocation in the common case. */
#define FAAS__STATE_KEY_STACK 256u

/* Build "<ns>/<key>" into buf, or into a malloc()ed string if it is longer. */
static char *scoped_key(const faas_ctx *ctx, const char *key, char *buf, size_t size)
{
	size_t ns_len = strlen(ctx->fn->state_ns), key_len = strlen(key);
	char *out = buf;

	if (ns_len + key_len + 1 > size) {
		out = malloc(ns_len + key_len + 1);
		if (!out)
			return NULL;
	}
	memcpy(out, ctx->fn->state_ns, ns_len);
	memcpy(out + ns_len, key, key_len + 1);
	return out;
}

static bool valid_key(const char *key)
{
	size_t n;

	if (!key)
		return false;
	n = strlen(key);
	return n > 0 && n <= FAAS__STATE_KEY_MAX;
}

#define WITH_SCOPED_KEY(ctx, key, scoped, body)                                    \
	do {                                                                       \
		char stack_[FAAS__STATE_KEY_STACK];                                \
		char *scoped = scoped_key((ctx), (key), stack_, sizeof(stack_));   \
		if (!scoped)                                                       \
			return FAAS_ENOMEM;                                        \
		body;                                                              \
		if (scoped != stack_)                                              \
			free(scoped);                                              \
	} while (0)

int faas_state_get(faas_ctx *ctx, const char *key, char **value_out, size_t *len_out,
		   uint64_t *version_out)
{
	faas_state_backend *b;
	size_t len = 0;
	uint64_t version = 0;
	int rc;

	if (value_out)
		*value_out = NULL;
	if (!ctx || !valid_key(key) || !value_out)
		return FAAS_EINVAL;
	b = ctx->state_backend;
	WITH_SCOPED_KEY(ctx, key, scoped, rc = b->get(b, scoped, value_out, &len, &version));
	if (len_out)
		*len_out = rc == 0 ? len : 0;
	if (version_out)
		*version_out = rc == 0 ? version : 0;
	return rc;
}

int faas_state_put(faas_ctx *ctx, const char *key, const void *value, size_t len,
		   uint64_t expected_version, uint64_t *version_out)
{
	faas_state_backend *b;
	int rc;

	if (!ctx || !valid_key(key) || (!value && len > 0))
		return FAAS_EINVAL;
	b = ctx->state_backend;
	WITH_SCOPED_KEY(ctx, key, scoped,
			rc = b->put(b, scoped, value ? value : "", len, expected_version,
				    version_out));
	return rc;
}

int faas_state_delete(faas_ctx *ctx, const char *key, uint64_t expected_version)
{
	faas_state_backend *b;
	int rc;

	if (!ctx || !valid_key(key))
		return FAAS_EINVAL;
	b = ctx->state_backend;
	WITH_SCOPED_KEY(ctx, key, scoped, rc = b->del(b, scoped, expected_version));
	return rc;
}

int faas_state_incr(faas_ctx *ctx, const char *key, int64_t delta, int64_t *value_out)
{
	faas_state_backend *b;
	int rc;

	if (!ctx || !valid_key(key))
		return FAAS_EINVAL;
	b = ctx->state_backend;
	WITH_SCOPED_KEY(ctx, key, scoped, rc = b->incr(b, scoped, delta, value_out));
	return rc;
}

void faas_state_free(char *value)
{
	free(value);
}
