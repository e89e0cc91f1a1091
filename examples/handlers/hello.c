/*
 * hello — the smallest useful handler: greets event.name (or the {name} of
 * an HTTP route), or the world.
 */
#include <stdio.h>

#include <faas/handler.h>

/* Longer names are truncated in the greeting rather than refused. */
#define HELLO_GREETING_MAX 256

FAAS_MODULE(NULL, NULL);

FAAS_EXTERN int hello(faas_ctx *ctx, const cJSON *event, cJSON **result);

int hello(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	char greeting[HELLO_GREETING_MAX];
	const char *name = "world";
	const cJSON *field;

	if (result == NULL)
		return faas_ctx_error(ctx, "BadInput", "no result slot");

	/* The name comes from {"name": ...} or, behind an HTTP trigger, from the
	 * route's {name} path parameter. A null event, a non-object and a
	 * non-string name all mean "world": the handler should be callable with
	 * no event at all. */
	field = cJSON_GetObjectItemCaseSensitive(event, "name");
	if (!cJSON_IsString(field))
		field = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(event, "pathParameters"), "name");
	if (cJSON_IsString(field) && field->valuestring != NULL)
		name = field->valuestring;

	snprintf(greeting, sizeof(greeting), "Hello, %s!", name);
	faas_log(ctx, "greeting %s", name);

	*result = cJSON_CreateString(greeting);
	if (*result == NULL)
		return faas_ctx_error(ctx, "OutOfMemory", "cannot create the greeting");
	return 0;
}
