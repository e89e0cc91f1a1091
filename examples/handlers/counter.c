/*
 * counter — counts its own calls in the runtime's state backend, so the
 * count survives cold starts and is shared by concurrent calls.
 */
#include <inttypes.h>

#include <faas/handler.h>

#define COUNTER_KEY "count"

FAAS_MODULE(NULL, NULL);

FAAS_EXTERN int counter(faas_ctx *ctx, const cJSON *event, cJSON **result);

int counter(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	int64_t n = 0;
	cJSON *out;
	int rc;

	(void)event;
	if (result == NULL)
		return faas_ctx_error(ctx, "BadInput", "no result slot");

	/* incr is atomic in the backend; a get-then-put here would lose counts
	 * when two calls race. */
	rc = faas_state_incr(ctx, COUNTER_KEY, 1, &n);
	if (rc != 0)
		return faas_ctx_error(ctx, "StateError", "incr %s failed: %d", COUNTER_KEY, rc);

	out = cJSON_CreateObject();
	/* A double holds every count a test or demo can reach exactly. */
	if (out == NULL || cJSON_AddNumberToObject(out, "count", (double)n) == NULL) {
		cJSON_Delete(out);
		return faas_ctx_error(ctx, "OutOfMemory", "cannot build the result");
	}
	*result = out;
	return 0;
}
