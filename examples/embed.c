/*
 * faas-embed-example — a host that owns its libuv loop and embeds libfaas in
 * it: a runtime on the host's loop, a handler compiled into the host, three
 * asynchronous calls, then an orderly shutdown with faas_runtime_close().
 */
/* <uv.h> needs POSIX types that a strict C11 build hides. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include <faas.h>

#define EMBED_CALLS 3
#define EMBED_FUNCTION "square"

/* What the host keeps while its calls are in flight. */
typedef struct embed_host {
	int completed;
	int failed;
	int completed_at_close; /* calls delivered when the runtime said it was closed */
} embed_host;

/* A handler linked into the host: no shared object, no dlopen. */
static int square(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(event, "n");
	cJSON *out;
	double v;

	if (!cJSON_IsNumber(n))
		return faas_ctx_error(ctx, "BadInput", "event.n must be a number");
	v = cJSON_GetNumberValue(n);
	faas_log(ctx, "squaring %g", v);
	out = cJSON_CreateObject();
	if (out == NULL || cJSON_AddNumberToObject(out, "square", v * v) == NULL) {
		cJSON_Delete(out);
		return faas_ctx_error(ctx, "OutOfMemory", "cannot build the result");
	}
	*result = out;
	return 0;
}

/* Runs on the loop thread, once per accepted call; act is only borrowed. */
static void on_done(const faas_activation *act, void *userdata)
{
	embed_host *host = userdata;
	const cJSON *result = faas_activation_result(act);
	char *text = result != NULL ? cJSON_PrintUnformatted(result) : NULL;

	host->completed++;
	if (faas_activation_status(act) != FAAS_STATUS_SUCCESS)
		host->failed++;
	printf("%s %s: %s %s\n", faas_activation_function(act), faas_activation_id(act),
	       faas_status_name(faas_activation_status(act)),
	       text != NULL ? text : faas_activation_error_message(act));
	cJSON_free(text);
}

/* Runs on the loop thread once draining is over: every accepted call has
 * been delivered, so the runtime can go. Its handles close on the host's
 * loop, which then runs out of work and returns. */
static void on_closed(faas_runtime *rt, void *userdata)
{
	embed_host *host = userdata;

	host->completed_at_close = host->completed;
	faas_runtime_free(rt);
}

static int invoke_all(faas_runtime *rt, embed_host *host)
{
	for (int i = 1; i <= EMBED_CALLS; i++) {
		cJSON *event = cJSON_CreateObject();
		int rc;

		if (event == NULL || cJSON_AddNumberToObject(event, "n", i) == NULL) {
			cJSON_Delete(event);
			return FAAS_ENOMEM;
		}
		/* The event stays ours: a thread function gets its own copy. */
		rc = faas_invoke(rt, EMBED_FUNCTION, event, on_done, host);
		cJSON_Delete(event);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int main(void)
{
	faas_runtime_options ro = FAAS_RUNTIME_OPTIONS_INIT;
	faas_fn_options fo = FAAS_FN_OPTIONS_INIT;
	embed_host host = {0, 0, -1};
	faas_runtime *rt = NULL;
	uv_loop_t loop;
	int rc;

	rc = uv_loop_init(&loop);
	if (rc != 0) {
		fprintf(stderr, "uv_loop_init: %s\n", uv_strerror(rc));
		return EXIT_FAILURE;
	}

	ro.loop = &loop;
	ro.log_sink = faas_log_sink_stderr();
	rc = faas_runtime_new(&rt, &ro);
	if (rc != 0) {
		fprintf(stderr, "faas_runtime_new: %s: %s\n", faas_strerror(rc),
		        faas_runtime_last_error(NULL));
		uv_loop_close(&loop);
		return EXIT_FAILURE;
	}

	fo.handler = square;
	rc = faas_fn_register(NULL, rt, EMBED_FUNCTION, &fo);
	if (rc == 0)
		rc = invoke_all(rt, &host);
	/* Shut down at once: the three calls drain (they finish normally), then
	 * on_closed frees the runtime. A real host would call this from its
	 * SIGTERM handler, and serve its other handles meanwhile. */
	if (rc == 0)
		rc = faas_runtime_close(rt, on_closed, &host);
	if (rc != 0) {
		fprintf(stderr, "libfaas: %s: %s\n", faas_strerror(rc),
		        faas_runtime_last_error(rt));
		faas_runtime_free(rt);
	}
	/* The host's own loop delivers the completions and the close; it
	 * returns once the runtime's last handle has closed. */
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "uv_loop_close: handles left open\n");
		return EXIT_FAILURE;
	}
	printf("%d of %d calls completed, %d failed, %d before the close callback\n",
	       host.completed, EMBED_CALLS, host.failed, host.completed_at_close);
	return rc == 0 && host.completed == EMBED_CALLS && host.failed == 0 &&
	               host.completed_at_close == EMBED_CALLS
	           ? EXIT_SUCCESS
	           : EXIT_FAILURE;
}
