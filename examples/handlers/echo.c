/*
 * echo — returns its event unchanged: the handler behind "is the pipe
 * working?" checks and payload-size experiments.
 */
#include <faas/handler.h>

FAAS_MODULE(NULL, NULL);

FAAS_EXTERN int echo(faas_ctx *ctx, const cJSON *event, cJSON **result);

int echo(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	if (result == NULL)
		return faas_ctx_error(ctx, "BadInput", "no result slot");

	/* The event belongs to libfaas and dies with the call, so the result
	 * must be a copy, never the event itself. */
	*result = event != NULL ? cJSON_Duplicate(event, 1) : cJSON_CreateNull();
	if (*result == NULL)
		return faas_ctx_error(ctx, "OutOfMemory", "cannot copy the event");
	return 0;
}
