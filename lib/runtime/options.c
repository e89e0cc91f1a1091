/* Runtime options: faas_runtime_options_init(), the table of numeric ranges
 * (shared with the manifest reader), and the check faas_runtime_new() runs. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core.h"
#include "options.h"

/* Bounds on runtime options that have no natural limit, so a typo cannot ask
 * for a billion threads or a terabyte of logs. */
#define FAAS__MAX_STUCK_THREADS_LIMIT 4096u
#define FAAS__MAX_ACTIVATION_CAPACITY FAAS__OPTION_MAX_COUNT
#define FAAS__MIN_LOG_LIMIT 256u
#define FAAS__MAX_LOG_LIMIT (64u * 1024u * 1024u)
#define FAAS__MAX_GRANULARITY_MS 60000u

#define RANGE(section, key, name, field, kind, min, max)                                   \
	{                                                                                  \
		section, key, name, offsetof(faas_runtime_options, field), kind, min, max \
	}

/* The prices are doubles, checked apart (check_prices); the manifest reads
 * them with bounds of its own. */
const faas__option_range faas__option_ranges[] = {
	RANGE("runtime", "threads", "threads", threads, FAAS__OPTION_UINT, 0, FAAS_MAX_THREADS),
	RANGE("runtime", "max_concurrency", "max_concurrency", max_concurrency,
	      FAAS__OPTION_UINT, 1, FAAS__OPTION_NO_MAX),
	RANGE("runtime", "max_stuck_threads", "max_stuck_threads", max_stuck_threads,
	      FAAS__OPTION_UINT, 0, FAAS__MAX_STUCK_THREADS_LIMIT),
	RANGE("defaults", "timeout_ms", "default_timeout_ms", default_timeout_ms,
	      FAAS__OPTION_U32, FAAS_MIN_TIMEOUT_MS, FAAS_MAX_TIMEOUT_MS),
	RANGE("defaults", "memory_mb", "default_memory_mb", default_memory_mb, FAAS__OPTION_U32,
	      FAAS_MIN_MEMORY_MB, FAAS_MAX_MEMORY_MB),
	RANGE("runtime", "activation_capacity", "activation_capacity", activation_capacity,
	      FAAS__OPTION_UINT, 1, FAAS__MAX_ACTIVATION_CAPACITY),
	RANGE("runtime", "log_limit_bytes", "log_limit_bytes", log_limit_bytes,
	      FAAS__OPTION_SIZE, FAAS__MIN_LOG_LIMIT, FAAS__MAX_LOG_LIMIT),
	RANGE("runtime", "drain_timeout_ms", "drain_timeout_ms", drain_timeout_ms,
	      FAAS__OPTION_U32, 0, FAAS_MAX_TIMEOUT_MS),
	RANGE("runtime", "max_stuck_per_function", "max_stuck_per_function",
	      max_stuck_per_function, FAAS__OPTION_UINT, 0, FAAS__MAX_STUCK_THREADS_LIMIT),
	RANGE("pricing", "granularity_ms", "pricing.granularity_ms", pricing.granularity_ms,
	      FAAS__OPTION_U32, 1, FAAS__MAX_GRANULARITY_MS),
};
const size_t faas__option_nranges = sizeof(faas__option_ranges) / sizeof(faas__option_ranges[0]);

#undef RANGE

uint64_t faas__option_get(const faas_runtime_options *o, const faas__option_range *r)
{
	const char *field = (const char *)o + r->offset;

	switch (r->kind) {
	case FAAS__OPTION_UINT:
		return *(const unsigned int *)(const void *)field;
	case FAAS__OPTION_U32:
		return *(const uint32_t *)(const void *)field;
	case FAAS__OPTION_SIZE:
		return *(const size_t *)(const void *)field;
	}
	return 0;
}

void faas__option_set(faas_runtime_options *o, const faas__option_range *r, uint64_t v)
{
	char *field = (char *)o + r->offset;

	switch (r->kind) {
	case FAAS__OPTION_UINT:
		*(unsigned int *)(void *)field = (unsigned int)v;
		break;
	case FAAS__OPTION_U32:
		*(uint32_t *)(void *)field = (uint32_t)v;
		break;
	case FAAS__OPTION_SIZE:
		*(size_t *)(void *)field = (size_t)v;
		break;
	}
}

int faas_runtime_options_init(faas_runtime_options *opts, unsigned int version)
{
	/* Static, so its padding is zero and the bytes match the macro's. */
	static const faas_runtime_options tmpl = FAAS_RUNTIME_OPTIONS_INIT;

	if (!opts || version != FAAS_RUNTIME_OPTIONS_VERSION)
		return FAAS_EINVAL;
	memcpy(opts, &tmpl, sizeof(tmpl));
	return 0;
}

/* A caller built against version 1 passed a shorter struct: only its
 * fields are read, the later ones take their defaults. */
#define FAAS__RUNTIME_OPTIONS_V1_SIZE offsetof(faas_runtime_options, store_path)

int faas__runtime_options_upgrade(faas_runtime_options *out, const faas_runtime_options *in)
{
	static const faas_runtime_options tmpl = FAAS_RUNTIME_OPTIONS_INIT;

	*out = tmpl;
	if (in->version == 1) {
		memcpy(out, in, FAAS__RUNTIME_OPTIONS_V1_SIZE);
	} else if (in->version == FAAS_RUNTIME_OPTIONS_VERSION) {
		*out = *in;
	} else {
		return faas__fail(NULL, FAAS_EINVAL, "runtime options version %u, expected 1..%u",
		                  in->version, FAAS_RUNTIME_OPTIONS_VERSION);
	}
	out->version = FAAS_RUNTIME_OPTIONS_VERSION;
	return 0;
}

/* The ranges of one part of the table: the pricing section or the rest, so
 * that the checks keep the order they always had around the prices. */
static int check_ranges(const faas_runtime_options *o, bool pricing)
{
	for (size_t i = 0; i < faas__option_nranges; i++) {
		const faas__option_range *r = &faas__option_ranges[i];
		unsigned long long v = faas__option_get(o, r);

		if ((strcmp(r->section, "pricing") == 0) != pricing)
			continue;
		if (v >= r->min && (r->max == FAAS__OPTION_NO_MAX || v <= r->max))
			continue;
		if (r->max == FAAS__OPTION_NO_MAX)
			return faas__fail(NULL, FAAS_EINVAL, "%s: expected >= %llu, got %llu",
					  r->name, (unsigned long long)r->min, v);
		return faas__fail(NULL, FAAS_EINVAL, "%s: expected %llu..%llu, got %llu", r->name,
				  (unsigned long long)r->min, (unsigned long long)r->max, v);
	}
	return 0;
}

static int check_prices(const faas_pricing *p)
{
	if (!isfinite(p->gb_second_usd) || p->gb_second_usd < 0 || !isfinite(p->request_usd) ||
	    p->request_usd < 0)
		return faas__fail(NULL, FAAS_EINVAL, "pricing: prices must be finite and >= 0");
	return 0;
}

static int check_hooks(const faas_runtime_options *o)
{
	if (o->log_sink && (o->log_sink->version != FAAS_LOG_SINK_VERSION || !o->log_sink->write))
		return faas__fail(NULL, FAAS_EINVAL, "log_sink: version %u or write missing",
				  o->log_sink->version);
	if (o->state && (o->state->version != FAAS_STATE_BACKEND_VERSION || !o->state->get ||
			 !o->state->put || !o->state->del || !o->state->incr))
		return faas__fail(NULL, FAAS_EINVAL,
				  "state: backend version %u (expected %u) or a function missing",
				  o->state->version, FAAS_STATE_BACKEND_VERSION);
	if (o->billing && o->billing->version != FAAS_BILLING_HOOK_VERSION)
		return faas__fail(NULL, FAAS_EINVAL, "billing: hook version %u, expected %u",
				  o->billing->version, FAAS_BILLING_HOOK_VERSION);
	return 0;
}

int faas__runtime_options_check(const faas_runtime_options *o)
{
	int rc;

	if (o->store_path && !o->store_path[0])
		return faas__fail(NULL, FAAS_EINVAL, "store_path: empty (NULL means no store)");
	if ((rc = check_ranges(o, false)) != 0 || (rc = check_prices(&o->pricing)) != 0 ||
	    (rc = check_ranges(o, true)) != 0)
		return rc;
	return check_hooks(o);
}
