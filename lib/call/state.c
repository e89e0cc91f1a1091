/* State calls from handlers: namespacing keys and checking arguments before
 * they reach the runtime's backend. */
#include <stdlib.h>
#include <string.h>

#include "call.h"

/* Keys beyond this are refused rather than silently cut. */
#define FAAS__STATE_KEY_MAX 1024u
#define FAAS__STATE_KEY_STACK 256u

/* A namespaced key, "<ns><key>" (the namespace ends with '/'), kept on the
 * stack when it fits, which is nearly always. */
typedef struct scoped_key {
	char stack[FAAS__STATE_KEY_STACK];
	char *key;
} scoped_key;

static int scope_key(scoped_key *s, const faas_ctx *ctx, const char *key)
{
	size_t ns_len = strlen(ctx->fn->state_ns), key_len = strlen(key);

	s->key = s->stack;
	if (ns_len + key_len + 1 > sizeof(s->stack)) {
		s->key = malloc(ns_len + key_len + 1);
		if (!s->key)
			return FAAS_ENOMEM;
	}
	memcpy(s->key, ctx->fn->state_ns, ns_len);
	memcpy(s->key + ns_len, key, key_len + 1);
	return 0;
}

static void unscope_key(scoped_key *s)
{
	if (s->key != s->stack)
		free(s->key);
}

static bool valid_key(const char *key)
{
	size_t n;

	if (!key)
		return false;
	n = strlen(key);
	return n > 0 && n <= FAAS__STATE_KEY_MAX;
}

int faas__state_scoped_key(const faas_ctx *ctx, const char *key, char **out)
{
	scoped_key k;
	int rc;

	*out = NULL;
	if (!ctx || !valid_key(key))
		return FAAS_EINVAL;
	if ((rc = scope_key(&k, ctx, key)) != 0)
		return rc;
	*out = k.key == k.stack ? faas__strdup(k.key) : k.key;
	return *out ? 0 : FAAS_ENOMEM;
}

int faas_state_get(faas_ctx *ctx, const char *key, char **value_out, size_t *len_out,
		   uint64_t *version_out)
{
	faas_state_backend *b;
	size_t len = 0;
	uint64_t version = 0;
	scoped_key k;
	int rc;

	if (value_out)
		*value_out = NULL;
	if (len_out)
		*len_out = 0;
	if (version_out)
		*version_out = 0;
	if (!ctx || !valid_key(key) || !value_out)
		return FAAS_EINVAL;
	if ((rc = scope_key(&k, ctx, key)) != 0)
		return rc;
	b = ctx->state_backend;
	rc = b->get(b, k.key, value_out, &len, &version);
	unscope_key(&k);
	if (rc == 0 && len_out)
		*len_out = len;
	if (rc == 0 && version_out)
		*version_out = version;
	return rc;
}

int faas_state_put(faas_ctx *ctx, const char *key, const void *value, size_t len,
		   uint64_t expected_version, uint64_t *version_out)
{
	faas_state_backend *b;
	scoped_key k;
	int rc;

	if (!ctx || !valid_key(key) || (!value && len > 0))
		return FAAS_EINVAL;
	if ((rc = scope_key(&k, ctx, key)) != 0)
		return rc;
	b = ctx->state_backend;
	rc = b->put(b, k.key, value ? value : "", len, expected_version, version_out);
	unscope_key(&k);
	return rc;
}

int faas_state_delete(faas_ctx *ctx, const char *key, uint64_t expected_version)
{
	faas_state_backend *b;
	scoped_key k;
	int rc;

	if (!ctx || !valid_key(key))
		return FAAS_EINVAL;
	if ((rc = scope_key(&k, ctx, key)) != 0)
		return rc;
	b = ctx->state_backend;
	rc = b->del(b, k.key, expected_version);
	unscope_key(&k);
	return rc;
}

int faas_state_incr(faas_ctx *ctx, const char *key, int64_t delta, int64_t *value_out)
{
	faas_state_backend *b;
	scoped_key k;
	int rc;

	if (!ctx || !valid_key(key))
		return FAAS_EINVAL;
	if ((rc = scope_key(&k, ctx, key)) != 0)
		return rc;
	b = ctx->state_backend;
	rc = b->incr(b, k.key, delta, value_out);
	unscope_key(&k);
	return rc;
}

void faas_state_free(char *value)
{
	free(value);
}
