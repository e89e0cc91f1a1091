/*
 * memhog — allocates event.mb megabytes under the call's memory accounting
 * and touches every page, to show what a memory limit does to a call.
 */
#include <string.h>

#include <faas/handler.h>

#define MEMHOG_DEFAULT_MB 64u
/* The largest memory limit a function can have; asking for more can only fail. */
#define MEMHOG_MAX_MB 10240u
#define MEMHOG_CHUNK ((size_t)1024 * 1024)
#define MEMHOG_FILL 0xa5

FAAS_MODULE(NULL, NULL);

FAAS_EXTERN int memhog(faas_ctx *ctx, const cJSON *event, cJSON **result);

static unsigned int requested_mb(const cJSON *event)
{
	const cJSON *mb = cJSON_GetObjectItemCaseSensitive(event, "mb");
	double v;

	if (!cJSON_IsNumber(mb))
		return MEMHOG_DEFAULT_MB;
	v = cJSON_GetNumberValue(mb);
	if (!(v > 0))
		return 0;
	if (v > MEMHOG_MAX_MB)
		return MEMHOG_MAX_MB;
	return (unsigned int)v;
}

static void free_chunks(faas_ctx *ctx, void **chunks, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		faas_ctx_free(ctx, chunks[i]);
}

int memhog(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	unsigned int want, got;
	void **chunks;
	cJSON *out;

	if (result == NULL)
		return faas_ctx_error(ctx, "BadInput", "no result slot");

	want = requested_mb(event);
	/* The table of chunks is charged too, as a real program's would be. */
	chunks = want > 0 ? faas_ctx_alloc(ctx, want * sizeof(*chunks)) : NULL;
	if (want > 0 && chunks == NULL)
		return faas_ctx_error(ctx, "OutOfMemory", "cannot allocate the chunk table");

	for (got = 0; got < want; got++) {
		chunks[got] = faas_ctx_alloc(ctx, MEMHOG_CHUNK);
		if (chunks[got] == NULL) {
			free_chunks(ctx, chunks, got);
			faas_ctx_free(ctx, chunks);
			return faas_ctx_error(ctx, "OutOfMemory", "allocation failed after %u MB",
			                      got);
		}
		/* Untouched pages cost nothing; writing them makes the memory real. */
		memset(chunks[got], MEMHOG_FILL, MEMHOG_CHUNK);
	}
	free_chunks(ctx, chunks, got);
	faas_ctx_free(ctx, chunks);

	out = cJSON_CreateObject();
	if (out == NULL || cJSON_AddNumberToObject(out, "allocated_mb", got) == NULL) {
		cJSON_Delete(out);
		return faas_ctx_error(ctx, "OutOfMemory", "cannot build the result");
	}
	*result = out;
	return 0;
}
