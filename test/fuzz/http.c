/* libFuzzer target: any bytes through one connection of an HTTP trigger,
 * without a socket: the strictness layer, http-parser, routes, the proxy
 * event, the handler (inline), the proxy response and the answer's bytes,
 * with the management API on. The input arrives in up to three reads (the
 * first byte picks where it is cut), so split requests, chunks and lines
 * are covered too.
 *
 * What must hold: no crash, leak or sanitizer report; every request either
 * gets its answer or is waiting for a handler; a connection always goes
 * away cleanly. The "mirror" function answers with the request's body
 * parsed as JSON, so the fuzzer also writes proxy responses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "http_server.h"

/* Loop turns allowed for inline handlers' answers to be delivered. */
#define TURNS 16

static faas_runtime *rt;
static faas__http_server *srv;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static int h_mirror(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(event, "body");

	(void)ctx;
	if (cJSON_IsString(body))
		*result = cJSON_Parse(body->valuestring);
	if (!*result)
		*result = cJSON_Duplicate(event, true);
	return 0;
}

static int h_fail(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	(void)result;
	return faas_ctx_error(ctx, "Fuzz", "failed on purpose");
}

static void reg(const char *name, faas_handler_fn h, size_t limit)
{
	faas_fn_options fo;

	check(faas_fn_options_init(&fo, FAAS_FN_OPTIONS_VERSION) == 0, "fn options");
	fo.handler = h;
	fo.isolation = FAAS_ISOLATION_INLINE;
	fo.payload_limit = limit;
	check(faas_fn_register(NULL, rt, name, &fo) == 0, "register");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	faas_runtime_options ro;
	faas_http_options ho;
	faas_trigger *t;
	static const char *const routes[][2] = {
	    {"ANY /{proxy+}", "mirror"}, {"ANY /", "mirror"},         {"GET /a/{b}", "mirror"},
	    {"POST /a/b", "fail"},       {"PUT /small/{x}", "small"}, {"GET /ghost", "ghost"},
	};

	(void)argc;
	(void)argv;
	check(faas_runtime_options_init(&ro, FAAS_RUNTIME_OPTIONS_VERSION) == 0, "rt options");
	ro.threads = 1;
	ro.activation_capacity = 16;
	check(faas_runtime_new(&rt, &ro) == 0, "runtime");
	reg("mirror", h_mirror, 0);
	reg("fail", h_fail, 0);
	reg("small", h_mirror, 300);
	check(faas_http_options_init(&ho, FAAS_HTTP_OPTIONS_VERSION) == 0, "http options");
	ho.max_header_bytes = 1024;
	ho.management_api = true;
	check(faas__http_trigger_new_detached(&t, rt, "fuzz", &ho, &srv) == 0, "trigger");
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		check(faas_rule_new(NULL, t, routes[i][0], routes[i][1]) == 0, "rule");
	return 0;
}

static void settle(faas__http_conn *c)
{
	uv_loop_t *loop = faas_runtime_loop(rt);

	for (int i = 0; i < TURNS; i++) {
		faas__http_conn_complete_writes(c);
		if (!faas__http_conn_waiting(c))
			break;
		uv_run(loop, UV_RUN_NOWAIT);
	}
	faas__http_conn_complete_writes(c);
	check(!faas__http_conn_waiting(c), "an inline handler's answer never came");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	faas__http_conn *c;
	size_t cut1, cut2;

	if (size == 0)
		return 0;
	c = faas__http_conn_new_detached(srv);
	check(c != NULL, "connection");
	/* The first byte cuts the rest into three reads. */
	size--;
	cut1 = size ? (data[0] & 0x0f) * size / 16 : 0;
	cut2 = size ? cut1 + (size - cut1) * (data[0] >> 4) / 16 : 0;
	data++;
	faas__http_conn_feed(c, (const char *)data, cut1);
	settle(c);
	faas__http_conn_feed(c, (const char *)data + cut1, cut2 - cut1);
	settle(c);
	faas__http_conn_feed(c, (const char *)data + cut2, size - cut2);
	settle(c);
	faas__http_conn_close(c);
	uv_run(faas_runtime_loop(rt), UV_RUN_NOWAIT);
	return 0;
}
