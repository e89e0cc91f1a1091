/* The state contract's rules, shared by every backend (state_rules.h). */
#include <stdlib.h>
#include <string.h>

#include <faas/errors.h>
#include <faas/handler.h>

#include "state_rules.h"

bool faas__state_put_matches(bool exists, uint64_t version, uint64_t expected)
{
	if (expected == FAAS_STATE_ANY)
		return true;
	if (expected == FAAS_STATE_ABSENT)
		return !exists;
	return exists && version == expected;
}

int faas__state_del_check(bool exists, uint64_t version, uint64_t expected)
{
	if (!exists)
		return FAAS_ENOTFOUND;
	/* ABSENT can never match a key that exists. */
	if (expected != FAAS_STATE_ANY && version != expected)
		return FAAS_ECONFLICT;
	return 0;
}

/* Strictly an optional '-' and digits: strtoll() would also take leading
 * spaces and a '+', and stop at an embedded NUL, which would let "  7" count
 * as a number in one backend and not in another. Overflow is refused. */
static bool parse_int64(const char *s, size_t len, int64_t *out)
{
	bool neg = len > 0 && s[0] == '-';
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
	uint64_t v = 0;
	size_t i = neg ? 1 : 0;

	if (i == len)
		return false;
	for (; i < len; i++) {
		unsigned d = (unsigned char)s[i] - (unsigned)'0';

		if (d > 9 || v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	/* INT64_MIN has no positive twin to negate. */
	if (neg)
		*out = v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return true;
}

int faas__state_incr_sum(bool exists, const char *old, size_t len, int64_t delta, int64_t *sum)
{
	int64_t v = 0;

	if (exists && !parse_int64(old, len, &v))
		return FAAS_EINVAL;
	if ((delta > 0 && v > INT64_MAX - delta) || (delta < 0 && v < INT64_MIN - delta))
		return FAAS_EINVAL; /* refused, never wrapped or clamped */
	*sum = v + delta;
	return 0;
}

bool faas__state_valid_call(const faas_state_backend *self, const char *key)
{
	return self && key && key[0] != '\0';
}

char *faas__state_copy_value(const void *value, size_t len)
{
	/* len + 1 must not wrap to a tiny allocation that memcpy then overruns. */
	char *v = len < SIZE_MAX ? malloc(len + 1) : NULL;

	if (v) {
		if (len > 0)
			memcpy(v, value, len);
		v[len] = '\0';
	}
	return v;
}
