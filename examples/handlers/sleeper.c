/*
 * sleeper — sleeps event.ms milliseconds, in small steps so that a deadline
 * or a stopping runtime ends it promptly.
 */
/* nanosleep() is POSIX, not C11; say so for builds that do not. */
#define _POSIX_C_SOURCE 200809L

#include <time.h>

#include <faas/handler.h>

#define SLEEPER_DEFAULT_MS 100u
/* Lambda's longest timeout: sleeping longer could never finish anyway. */
#define SLEEPER_MAX_MS 900000u
/* Short enough that a cancelled call returns within a few milliseconds. */
#define SLEEPER_STEP_MS 5u
#define SLEEPER_NS_PER_MS 1000000L

FAAS_MODULE(NULL, NULL);

FAAS_EXTERN int sleeper(faas_ctx *ctx, const cJSON *event, cJSON **result);

static unsigned int requested_ms(const cJSON *event)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(event, "ms");
	double v;

	if (!cJSON_IsNumber(ms))
		return SLEEPER_DEFAULT_MS;
	v = cJSON_GetNumberValue(ms);
	/* Compare before converting: a huge or NaN double has no unsigned value. */
	if (!(v > 0))
		return 0;
	if (v > SLEEPER_MAX_MS)
		return SLEEPER_MAX_MS;
	return (unsigned int)v;
}

int sleeper(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	unsigned int want, slept = 0;
	cJSON *out;

	if (result == NULL)
		return faas_ctx_error(ctx, "BadInput", "no result slot");

	want = requested_ms(event);
	while (slept < want) {
		unsigned int step = want - slept < SLEEPER_STEP_MS ? want - slept : SLEEPER_STEP_MS;
		struct timespec ts = {0, (long)step * SLEEPER_NS_PER_MS};

		if (faas_ctx_cancelled(ctx))
			return faas_ctx_error(ctx, "Cancelled", "cancelled after %u ms", slept);
		/* An interrupted step counts as slept: the loop is a bound on
		 * work, not a precise clock. */
		nanosleep(&ts, NULL);
		slept += step;
	}

	out = cJSON_CreateObject();
	if (out == NULL || cJSON_AddNumberToObject(out, "slept_ms", slept) == NULL) {
		cJSON_Delete(out);
		return faas_ctx_error(ctx, "OutOfMemory", "cannot build the result");
	}
	*result = out;
	return 0;
}
