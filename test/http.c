/* The HTTP trigger over real TCP on 127.0.0.1: answers and their status
 * codes, limits and timeouts, keep-alive and pipelining, chunked bodies,
 * 100-continue, the proxy event and the proxy response, routes, options,
 * and a client that goes away mid-invocation. */
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "http_client.h"

TestSuite(http, .timeout = 60);

static uv_loop_t loop;
static faas_runtime *rt;
static faas_trigger *web;
static uint16_t port;

static atomic_int ran;     /* handler calls that counted themselves */
static atomic_int entered; /* slow handlers that started */
static atomic_int release_gate;
static atomic_int saw_cancel;

/* ---- handlers ---- */

static const cJSON *field(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *query(const cJSON *event, const char *name)
{
	const cJSON *v = field(field(event, "queryStringParameters"), name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int h_echo(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	atomic_fetch_add(&ran, 1);
	*result = cJSON_Duplicate(event, true);
	return 0;
}

static int h_name(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	*result = cJSON_CreateString(faas_ctx_function_name(ctx));
	return 0;
}

static int h_body(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const cJSON *b = field(event, "body");

	(void)ctx;
	atomic_fetch_add(&ran, 1);
	*result = cJSON_IsString(b) ? cJSON_CreateString(b->valuestring) : cJSON_CreateNull();
	return 0;
}

static int h_sleep(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const char *ms = query(event, "ms"), *tag = query(event, "tag");

	(void)ctx;
	atomic_fetch_add(&entered, 1);
	th_sleep_ms(ms ? (unsigned)atoi(ms) : 0);
	*result = cJSON_CreateString(tag ? tag : "");
	return 0;
}

/* Waits for the test to open the gate, or for cancellation. */
static int h_gate(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	atomic_fetch_add(&entered, 1);
	for (int i = 0; i < 10 * TH_WAIT_MS && !atomic_load(&release_gate); i++) {
		if (faas_ctx_cancelled(ctx)) {
			atomic_store(&saw_cancel, 1);
			return faas_ctx_error(ctx, "Cancelled", "the client went away");
		}
		th_sleep_ms(1);
	}
	*result = cJSON_CreateString("opened");
	return 0;
}

static int h_fail(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	(void)result;
	return faas_ctx_error(ctx, "Boom", "handler failed");
}

static int h_proxy(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const char *which = query(event, "case");
	const char *json = "null";

	(void)ctx;
	if (!which)
		which = "";
	if (strcmp(which, "created") == 0)
		json =
		    "{\"statusCode\":201,\"headers\":{\"X-One\":\"1\",\"Set-Cookie\":\"lost\"},"
		    "\"multiValueHeaders\":{\"Set-Cookie\":[\"a=1\",\"b=2\"]},\"body\":\"made\"}";
	else if (strcmp(which, "binary") == 0)
		json = "{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"AAEC/w==\","
		       "\"headers\":{\"Content-Type\":\"application/octet-stream\"}}";
	else if (strcmp(which, "string-status") == 0)
		json = "{\"statusCode\":\"200\",\"body\":\"x\"}";
	else if (strcmp(which, "fraction-status") == 0)
		json = "{\"statusCode\":200.5,\"body\":\"x\"}";
	else if (strcmp(which, "low-status") == 0)
		json = "{\"statusCode\":101}";
	else if (strcmp(which, "number-header") == 0)
		json = "{\"statusCode\":200,\"headers\":{\"X-N\":5}}";
	else if (strcmp(which, "crlf-header") == 0)
		json = "{\"statusCode\":200,\"headers\":{\"X-N\":\"a\\r\\nInjected: 1\"}}";
	else if (strcmp(which, "bad-multi") == 0)
		json = "{\"statusCode\":200,\"multiValueHeaders\":{\"X-N\":\"not an array\"}}";
	else if (strcmp(which, "bad-base64") == 0)
		json = "{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"***\"}";
	else if (strcmp(which, "object-body") == 0)
		json = "{\"statusCode\":200,\"body\":{\"a\":1}}";
	else if (strcmp(which, "no-content") == 0)
		json = "{\"statusCode\":204,\"body\":\"dropped\"}";
	else if (strcmp(which, "plain") == 0)
		json = "{\"a\":[1,2],\"b\":\"c\"}";
	*result = cJSON_Parse(json);
	return 0;
}

/* ---- fixture ---- */

static faas_http_options hopts(void)
{
	faas_http_options o;

	cr_assert_eq(faas_http_options_init(&o, FAAS_HTTP_OPTIONS_VERSION), 0);
	o.management_api = false;
	return o;
}

static void start(const faas_http_options *ho)
{
	faas_runtime_options o = th_ropts();
	int rc;

	o.threads = 8;
	th_loop_init(&loop);
	rt = th_rt_new(&loop, &o);
	rc = faas_trigger_http_new(&web, rt, "web", ho);
	cr_assert_eq(rc, 0, "http trigger: %s (%s)", faas_err_name(rc),
	             faas_runtime_last_error(rt));
	port = faas_trigger_http_port(web);
	cr_assert_neq(port, 0);
}

static void start_default(void)
{
	faas_http_options o = hopts();

	start(&o);
}

static void setup(void)
{
	atomic_store(&ran, 0);
	atomic_store(&entered, 0);
	atomic_store(&release_gate, 0);
	atomic_store(&saw_cancel, 0);
	rt = NULL;
}

static void teardown(void)
{
	atomic_store(&release_gate, 1);
	if (rt)
		th_rt_free(rt, &loop);
}

static void rule(const char *route, const char *fn)
{
	int rc = faas_rule_new(NULL, web, route, fn);

	cr_assert_eq(rc, 0, "rule %s: %s (%s)", route, faas_err_name(rc),
	             faas_runtime_last_error(rt));
}

static void fn(const char *name, faas_handler_fn h)
{
	th_register_static(rt, name, h);
}

/* One request on a fresh connection, one response. */
static void ask(hc *c, const char *raw)
{
	hc_init(c, port);
	hc_send_str(c, raw);
	hc_read(c, 1);
	hc_run(c, rt);
	cr_assert_str_empty(c->error, "client: %s", c->error);
}

static cJSON *json_body(const hc_response *r)
{
	cJSON *j = cJSON_Parse(r->body);

	cr_assert_not_null(j, "not JSON: %s", r->body);
	return j;
}

static void assert_message(const hc_response *r, const char *message)
{
	cJSON *j = json_body(r);
	const cJSON *m = field(j, "message");

	cr_assert(cJSON_IsString(m), "no message in %s", r->body);
	cr_assert_str_eq(m->valuestring, message);
	cJSON_Delete(j);
}

static bool entered_one(void *arg)
{
	(void)arg;
	return atomic_load(&entered) >= 1;
}

static bool both_served(void *arg)
{
	hc **c = arg;

	return atomic_load(&c[0]->nread) >= 1 && atomic_load(&c[1]->nread) >= 1;
}

static bool served_once(void *arg)
{
	return atomic_load(&((hc *)arg)->nread) >= 1;
}

static bool cancel_seen(void *arg)
{
	(void)arg;
	return atomic_load(&saw_cancel) != 0;
}

/* ---- options ---- */

Test(http, options_init_same_bytes_as_macro)
{
	static const faas_http_options init = FAAS_HTTP_OPTIONS_INIT;
	faas_http_options a, b;

	memset(&a, 0, sizeof(a));
	memcpy(&a, &init, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(faas_http_options_init(&b, FAAS_HTTP_OPTIONS_VERSION), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	memset(&b, 0xa5, sizeof(b));
	cr_assert_eq(faas_http_options_init(&b, FAAS_HTTP_OPTIONS_VERSION), 0);
	cr_assert_eq(b.host, NULL);
	cr_assert_eq(b.port, 0);
	cr_assert_eq(b.max_header_bytes, FAAS_HTTP_DEFAULT_MAX_HEADER_BYTES);
	cr_assert_eq(b.max_connections, FAAS_HTTP_DEFAULT_MAX_CONNECTIONS);
	cr_assert_eq(b.header_timeout_ms, FAAS_HTTP_DEFAULT_HEADER_TIMEOUT_MS);
	cr_assert_eq(b.body_timeout_ms, FAAS_HTTP_DEFAULT_BODY_TIMEOUT_MS);
	cr_assert_eq(b.idle_timeout_ms, FAAS_HTTP_DEFAULT_IDLE_TIMEOUT_MS);
	cr_assert(b.management_api);
	cr_assert_eq(b.bearer_token, NULL);
}

Test(http, options_init_refuses_bad_arguments)
{
	faas_http_options o;

	cr_assert_eq(faas_http_options_init(NULL, FAAS_HTTP_OPTIONS_VERSION), FAAS_EINVAL);
	cr_assert_eq(faas_http_options_init(&o, FAAS_HTTP_OPTIONS_VERSION + 1), FAAS_EINVAL);
	cr_assert_eq(faas_http_options_init(&o, 0), FAAS_EINVAL);
}

static void expect_bad_option(faas_http_options *o, const char *needle)
{
	faas_trigger *t = (faas_trigger *)&t;
	int rc = faas_trigger_http_new(&t, rt, "bad", o);

	cr_assert_eq(rc, FAAS_EINVAL, "%s: got %s", needle, faas_err_name(rc));
	cr_assert_null(t);
	cr_assert(strstr(faas_runtime_last_error(rt), needle), "message \"%s\" lacks \"%s\"",
	          faas_runtime_last_error(rt), needle);
	cr_assert_null(faas_trigger_lookup(rt, "bad"));
}

Test(http, bad_options_are_refused_with_the_field_named, .init = setup, .fini = teardown)
{
	faas_http_options o;

	start_default();
	o = hopts();
	o.version = 99;
	expect_bad_option(&o, "version");
	o = hopts();
	o.max_header_bytes = 10;
	expect_bad_option(&o, "max_header_bytes");
	o = hopts();
	o.max_header_bytes = 1u << 20;
	expect_bad_option(&o, "max_header_bytes");
	o = hopts();
	o.max_connections = 0;
	expect_bad_option(&o, "max_connections");
	o = hopts();
	o.header_timeout_ms = 0;
	expect_bad_option(&o, "header_timeout_ms");
	o = hopts();
	o.body_timeout_ms = 0;
	expect_bad_option(&o, "body_timeout_ms");
	o = hopts();
	o.idle_timeout_ms = 0;
	expect_bad_option(&o, "idle_timeout_ms");
	o = hopts();
	o.host = "localhost.example";
	expect_bad_option(&o, "host");
	o = hopts();
	o.bearer_token = "";
	expect_bad_option(&o, "bearer_token");
	o = hopts();
	o.bearer_token = "two words";
	expect_bad_option(&o, "bearer_token");
	o = hopts();
	/* A NULL out is allowed: the trigger is the runtime's (trigger.h). */
	cr_assert_eq(faas_trigger_http_new(NULL, rt, "bad-no-out", &o), 0);
	cr_assert_eq(faas_trigger_http_new(&web, NULL, "bad", &o), FAAS_EINVAL);
	cr_assert_eq(faas_trigger_http_new(&web, rt, "no spaces allowed", &o), FAAS_EINVAL);
	cr_assert_eq(faas_trigger_http_new(&web, rt, "web", &o), FAAS_EEXIST);
	cr_assert_eq(faas_trigger_http_port(NULL), 0);
}

Test(http, port_in_use_is_a_system_error_with_the_reason, .init = setup, .fini = teardown)
{
	faas_http_options o;
	faas_trigger *t;

	start_default();
	o = hopts();
	o.port = port;
	cr_assert_eq(faas_trigger_http_new(&t, rt, "again", &o), FAAS_ESYSTEM);
	cr_assert_null(t);
	cr_assert(strstr(faas_runtime_last_error(rt), "address already in use"), "%s",
	          faas_runtime_last_error(rt));
	cr_assert_null(faas_trigger_lookup(rt, "again"));
	/* Not an address of this host. */
	o.port = 0;
	o.host = "192.0.2.1";
	cr_assert_eq(faas_trigger_http_new(&t, rt, "again", &o), FAAS_ESYSTEM);
	cr_assert(strstr(faas_runtime_last_error(rt), "192.0.2.1"));
}

Test(http, port_of_other_kinds_is_zero, .init = setup, .fini = teardown)
{
	faas_timer_options to = FAAS_TIMER_OPTIONS_INIT;
	faas_trigger *t;

	start_default();
	to.interval_ms = 3600u * 1000u;
	cr_assert_eq(faas_trigger_timer_new(&t, rt, "tick", &to), 0);
	cr_assert_eq(faas_trigger_http_port(t), 0);
	cr_assert_eq(faas_trigger_http_port(NULL), 0);
}

Test(http, ipv6_loopback_listens, .init = setup, .fini = teardown)
{
	faas_http_options o;
	faas_trigger *t;
	int rc;

	start_default();
	o = hopts();
	o.host = "::1";
	rc = faas_trigger_http_new(&t, rt, "six", &o);
	if (rc == FAAS_ESYSTEM)
		cr_skip_test("no IPv6 loopback here: %s", faas_runtime_last_error(rt));
	cr_assert_eq(rc, 0, "%s", faas_runtime_last_error(rt));
	cr_assert_neq(faas_trigger_http_port(t), 0);
}

Test(http, null_options_mean_defaults, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	hc c;

	start_default();
	cr_assert_eq(faas_trigger_http_new(&t, rt, "defaults", NULL), 0);
	cr_assert_neq(faas_trigger_http_port(t), 0);
	cr_assert_str_eq(faas_trigger_kind(t), "http");
	fn("echo", h_echo);
	cr_assert_eq(faas_rule_new(NULL, t, "GET /x", "echo"), 0);
	hc_init(&c, faas_trigger_http_port(t));
	hc_send_str(&c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&c, 1);
	hc_run(&c, rt);
	cr_assert_eq(c.resp[0].status, 200);
	hc_free(&c);
}

/* ---- routes ---- */

Test(http, malformed_routes_are_refused_with_a_reason, .init = setup, .fini = teardown)
{
	static const char *bad[] = {
	    "get /a",          "FETCH /a",  "GET",         "GET a",      "GET /a//b",    "GET /a/",
	    "GET /{proxy+}/x", "GET /a{b}", "GET /{}",     "GET /{+}",   "GET /{a}/{a}", "GET  /a",
	    "GET /a b",        "GET /a?b",  "GET /{a-}b}", "GET /{a b}",
	};

	start_default();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = faas_rule_new(NULL, web, bad[i], "echo");

		cr_assert_eq(rc, FAAS_EINVAL, "\"%s\" gave %s", bad[i], faas_err_name(rc));
		cr_assert(strstr(faas_runtime_last_error(rt), "route"), "%s",
		          faas_runtime_last_error(rt));
	}
	cr_assert_eq(faas_rule_new(NULL, web, NULL, "echo"), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(rt), "needs a route"));
}

Test(http, duplicate_routes_are_refused, .init = setup, .fini = teardown)
{
	start_default();
	rule("GET /a/{x}", "echo");
	cr_assert_eq(faas_rule_new(NULL, web, "GET /a/{x}", "other"), FAAS_EEXIST);
	/* Same shape, another parameter name: the same route. */
	cr_assert_eq(faas_rule_new(NULL, web, "GET /a/{y}", "other"), FAAS_EEXIST);
	cr_assert(strstr(faas_runtime_last_error(rt), "exists"));
	rule("POST /a/{x}", "echo");
	rule("ANY /a/{x}", "echo");
	rule("GET /a/b", "echo");
	rule("GET /", "echo");
	cr_assert_eq(faas_rule_new(NULL, web, "GET /", "echo"), FAAS_EEXIST);
}

Test(http, most_specific_route_wins, .init = setup, .fini = teardown)
{
	static const struct {
		const char *request, *fn;
	} cases[] = {
	    {"GET /a/b", "literal"},  {"GET /a/c", "param"},         {"GET /z/y/x", "proxy"},
	    {"POST /a/b", "any"},     {"GET /a/b/c", "a-proxy"},     {"GET /q/b", "first-param"},
	    {"GET /a/b/", "literal"}, {"DELETE /a/zz", "any-param"}, {"GET /", "root"},
	};

	start_default();
	fn("literal", h_name);
	fn("param", h_name);
	fn("proxy", h_name);
	fn("any", h_name);
	fn("a-proxy", h_name);
	fn("first-param", h_name);
	fn("any-param", h_name);
	fn("root", h_name);
	rule("GET /{proxy+}", "proxy");
	rule("GET /a/{x}", "param");
	rule("GET /{x}/b", "first-param");
	rule("GET /a/b", "literal");
	rule("ANY /a/b", "any");
	rule("GET /a/{p+}", "a-proxy");
	rule("ANY /a/{y}", "any-param");
	rule("GET /", "root");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char raw[256], want[64];
		hc c;

		snprintf(raw, sizeof(raw), "%s HTTP/1.1\r\nHost: a\r\n\r\n", cases[i].request);
		snprintf(want, sizeof(want), "\"%s\"", cases[i].fn);
		ask(&c, raw);
		cr_assert_eq(c.resp[0].status, 200, "%s: %d", cases[i].request, c.resp[0].status);
		cr_assert_str_eq(c.resp[0].body, want, "%s", cases[i].request);
		hc_free(&c);
	}
}

Test(http, no_route_is_404_and_wrong_method_is_405_with_allow, .init = setup, .fini = teardown)
{
	char allow[64];
	hc c;

	start_default();
	fn("echo", h_echo);
	rule("GET /thing", "echo");
	rule("PUT /thing", "echo");
	ask(&c, "GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(c.resp[0].status, 404);
	assert_message(&c.resp[0], "Not Found");
	hc_free(&c);
	ask(&c, "POST /thing HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
	cr_assert_eq(c.resp[0].status, 405);
	cr_assert_not_null(hc_header(&c.resp[0], "Allow", allow, sizeof(allow)));
	cr_assert_str_eq(allow, "GET, PUT");
	assert_message(&c.resp[0], "Method Not Allowed");
	hc_free(&c);
	cr_assert_eq(atomic_load(&ran), 0);
}

Test(http, disabled_rule_does_not_match, .init = setup, .fini = teardown)
{
	faas_rule *r;
	hc c;

	start_default();
	fn("echo", h_echo);
	cr_assert_eq(faas_rule_new(&r, web, "GET /x", "echo"), 0);
	cr_assert_eq(faas_rule_set_enabled(r, false), 0);
	ask(&c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(c.resp[0].status, 404);
	hc_free(&c);
}

/* ---- the event ---- */

static const cJSON *obj(const cJSON *o, const char *a, const char *b)
{
	return field(field(o, a), b);
}

static void assert_str(const cJSON *v, const char *want)
{
	cr_assert(cJSON_IsString(v), "not a string (want %s)", want);
	cr_assert_str_eq(v->valuestring, want);
}

Test(http, proxy_event_has_every_field, .init = setup, .fini = teardown)
{
	const cJSON *ctx, *mv;
	uint64_t before = th_wall_us() / 1000, epoch;
	cJSON *e;
	hc c;

	start_default();
	fn("echo", h_echo);
	rule("POST /users/{id}/files/{path+}", "echo");
	ask(&c, "POST /users/4%202/files/a/b%20c/d%2Fe?x=1&x=2&y=hello+world%21&z&=v&w=a%3Db "
	        "HTTP/1.1\r\nHost: example\r\nUser-Agent: tester/1\r\nX-Multi: 1\r\n"
	        "x-multi: 2\r\nContent-Length: 5\r\n\r\nhello");
	cr_assert_eq(c.resp[0].status, 200, "%d %s", c.resp[0].status, c.resp[0].body);
	e = json_body(&c.resp[0]);
	assert_str(field(e, "resource"), "/users/{id}/files/{path+}");
	assert_str(field(e, "path"), "/users/4 2/files/a/b c/d/e");
	assert_str(field(e, "httpMethod"), "POST");
	assert_str(obj(e, "headers", "Host"), "example");
	assert_str(obj(e, "headers", "User-Agent"), "tester/1");
	/* The first spelling names it; the last value wins. */
	assert_str(obj(e, "headers", "X-Multi"), "2");
	cr_assert_null(obj(e, "headers", "x-multi"));
	mv = obj(e, "multiValueHeaders", "X-Multi");
	cr_assert_eq(cJSON_GetArraySize(mv), 2);
	assert_str(cJSON_GetArrayItem(mv, 0), "1");
	assert_str(cJSON_GetArrayItem(mv, 1), "2");
	assert_str(obj(e, "queryStringParameters", "x"), "2");
	assert_str(obj(e, "queryStringParameters", "y"), "hello world!");
	assert_str(obj(e, "queryStringParameters", "z"), "");
	assert_str(obj(e, "queryStringParameters", ""), "v");
	assert_str(obj(e, "queryStringParameters", "w"), "a=b");
	mv = obj(e, "multiValueQueryStringParameters", "x");
	cr_assert_eq(cJSON_GetArraySize(mv), 2);
	assert_str(cJSON_GetArrayItem(mv, 0), "1");
	assert_str(cJSON_GetArrayItem(mv, 1), "2");
	assert_str(obj(e, "pathParameters", "id"), "4 2");
	assert_str(obj(e, "pathParameters", "path"), "a/b c/d/e");
	cr_assert(cJSON_IsNull(field(e, "stageVariables")));
	ctx = field(e, "requestContext");
	assert_str(field(ctx, "accountId"), "000000000000");
	assert_str(field(ctx, "resourcePath"), "/users/{id}/files/{path+}");
	assert_str(field(ctx, "httpMethod"), "POST");
	assert_str(field(ctx, "path"), "/users/4 2/files/a/b c/d/e");
	assert_str(field(ctx, "protocol"), "HTTP/1.1");
	assert_str(field(ctx, "stage"), "$default");
	cr_assert(cJSON_IsString(field(ctx, "requestId")));
	cr_assert(th_is_hex_id(field(ctx, "requestId")->valuestring));
	cr_assert(cJSON_IsString(field(ctx, "requestTime")));
	cr_assert_eq(strlen(field(ctx, "requestTime")->valuestring), 26, "%s",
	             field(ctx, "requestTime")->valuestring);
	cr_assert(strstr(field(ctx, "requestTime")->valuestring, " +0000"));
	cr_assert(cJSON_IsNumber(field(ctx, "requestTimeEpoch")));
	epoch = (uint64_t)field(ctx, "requestTimeEpoch")->valuedouble;
	cr_assert(epoch >= before && epoch <= th_wall_us() / 1000 + 1);
	assert_str(obj(ctx, "identity", "sourceIp"), "127.0.0.1");
	assert_str(obj(ctx, "identity", "userAgent"), "tester/1");
	assert_str(field(e, "body"), "hello");
	cr_assert(cJSON_IsFalse(field(e, "isBase64Encoded")));
	cJSON_Delete(e);
	hc_free(&c);
}

/* Inline functions get the event as a tree built straight from the request,
 * thread functions as text: both must see the same event, for plain requests
 * and for ones with bytes that are not UTF-8 (U+FFFD in both). */
static cJSON *event_for(const char *fn_name, const char *path_and_rest)
{
	char raw[1024];
	cJSON *e, *ctx;
	hc c;

	snprintf(raw, sizeof(raw), "POST /%s%s", fn_name, path_and_rest);
	ask(&c, raw);
	cr_assert_eq(c.resp[0].status, 200, "%d %s", c.resp[0].status, c.resp[0].body);
	e = json_body(&c.resp[0]);
	hc_free(&c);
	/* These differ from call to call by design. */
	ctx = cJSON_GetObjectItemCaseSensitive(e, "requestContext");
	cJSON_DeleteItemFromObjectCaseSensitive(ctx, "requestId");
	cJSON_DeleteItemFromObjectCaseSensitive(ctx, "requestTime");
	cJSON_DeleteItemFromObjectCaseSensitive(ctx, "requestTimeEpoch");
	return e;
}

/* The route and path name the function; everything else must match. */
static void strip_route(cJSON *e)
{
	cJSON *ctx = cJSON_GetObjectItemCaseSensitive(e, "requestContext");

	cJSON_DeleteItemFromObjectCaseSensitive(e, "resource");
	cJSON_DeleteItemFromObjectCaseSensitive(e, "path");
	cJSON_DeleteItemFromObjectCaseSensitive(ctx, "resourcePath");
	cJSON_DeleteItemFromObjectCaseSensitive(ctx, "path");
}

Test(http, inline_and_thread_functions_see_the_same_event, .init = setup, .fini = teardown)
{
	static const char *const requests[] = {
		"/a/b%20c?x=1&x=2&y=hello+world%21 HTTP/1.1\r\nHost: h\r\nUser-Agent: t/1\r\n"
		"X-Multi: 1\r\nx-multi: 2\r\nContent-Length: 5\r\n\r\nhello",
		"/q?k=%e9%00 HTTP/1.1\r\nHost: h\r\nX-Latin: caf\xe9\r\nContent-Length: 3\r\n\r\n\x01\x02\xff",
		"/ HTTP/1.0\r\nHost: h\r\n\r\n",
	};
	faas_fn_options fo = th_fopts_static(h_echo);

	start_default();
	fo.isolation = FAAS_ISOLATION_INLINE;
	th_register(rt, "inl", &fo);
	fo.isolation = FAAS_ISOLATION_THREAD;
	th_register(rt, "thr", &fo);
	rule("POST /inl/{proxy+}", "inl");
	rule("POST /thr/{proxy+}", "thr");
	rule("POST /inl", "inl");
	rule("POST /thr", "thr");
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		cJSON *a = event_for("inl", requests[i]), *b = event_for("thr", requests[i]);
		char *pa, *pb;

		strip_route(a);
		strip_route(b);
		pa = cJSON_PrintUnformatted(a);
		pb = cJSON_PrintUnformatted(b);
		cr_assert_str_eq(pa, pb, "request %zu: inline and thread events differ", i);
		cJSON_free(pa);
		cJSON_free(pb);
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
}

Test(http, event_nulls_when_absent, .init = setup, .fini = teardown)
{
	cJSON *e;
	hc c;

	start_default();
	fn("echo", h_echo);
	rule("GET /plain", "echo");
	ask(&c, "GET /plain HTTP/1.0\r\n\r\n");
	cr_assert_eq(c.resp[0].status, 200);
	e = json_body(&c.resp[0]);
	cr_assert(cJSON_IsNull(field(e, "headers")));
	cr_assert(cJSON_IsNull(field(e, "multiValueHeaders")));
	cr_assert(cJSON_IsNull(field(e, "queryStringParameters")));
	cr_assert(cJSON_IsNull(field(e, "multiValueQueryStringParameters")));
	cr_assert(cJSON_IsNull(field(e, "pathParameters")));
	cr_assert(cJSON_IsNull(field(e, "body")));
	cr_assert(cJSON_IsNull(obj(field(e, "requestContext"), "identity", "userAgent")));
	assert_str(obj(e, "requestContext", "protocol"), "HTTP/1.0");
	cr_assert(cJSON_IsFalse(field(e, "isBase64Encoded")));
	cJSON_Delete(e);
	hc_free(&c);
}

Test(http, binary_body_is_base64_in_the_event, .init = setup, .fini = teardown)
{
	static const char req[] = "POST /bin HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n"
	                          "\x00\x01\xfe\xff";
	cJSON *e;
	hc c;

	start_default();
	fn("echo", h_echo);
	rule("POST /bin", "echo");
	hc_init(&c, port);
	hc_send(&c, req, sizeof(req) - 1);
	hc_read(&c, 1);
	hc_run(&c, rt);
	e = json_body(&c.resp[0]);
	assert_str(field(e, "body"), "AAH+/w==");
	cr_assert(cJSON_IsTrue(field(e, "isBase64Encoded")));
	cJSON_Delete(e);
	hc_free(&c);
	/* Latin-1 text is not UTF-8 either. */
	ask(&c, "POST /bin HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\ncaf\xe9");
	e = json_body(&c.resp[0]);
	assert_str(field(e, "body"), "Y2Fm6Q==");
	cr_assert(cJSON_IsTrue(field(e, "isBase64Encoded")));
	cJSON_Delete(e);
	hc_free(&c);
}

/* ---- the response ---- */

static void proxy_case(hc *c, const char *which)
{
	char raw[256];

	snprintf(raw, sizeof(raw), "GET /p?case=%s HTTP/1.1\r\nHost: a\r\n\r\n", which);
	ask(c, raw);
}

Test(http, proxy_response_is_mapped, .init = setup, .fini = teardown)
{
	char v[128];
	hc c;

	start_default();
	fn("proxy", h_proxy);
	rule("GET /p", "proxy");
	proxy_case(&c, "created");
	cr_assert_eq(c.resp[0].status, 201);
	cr_assert_str_eq(c.resp[0].body, "made");
	cr_assert_str_eq(hc_header(&c.resp[0], "X-One", v, sizeof(v)), "1");
	/* Both Set-Cookie values, and not the single one that multi overrides. */
	cr_assert(strstr(c.resp[0].head, "Set-Cookie: a=1\r\n"));
	cr_assert(strstr(c.resp[0].head, "Set-Cookie: b=2\r\n"));
	cr_assert_null(strstr(c.resp[0].head, "lost"));
	cr_assert_str_eq(hc_header(&c.resp[0], "Content-Type", v, sizeof(v)), "application/json");
	cr_assert_str_eq(hc_header(&c.resp[0], "Server", v, sizeof(v)), "libfaas");
	cr_assert_not_null(hc_header(&c.resp[0], "Date", v, sizeof(v)));
	cr_assert_str_eq(hc_header(&c.resp[0], "Connection", v, sizeof(v)), "keep-alive");
	hc_free(&c);

	proxy_case(&c, "binary");
	cr_assert_eq(c.resp[0].status, 200);
	cr_assert_eq(c.resp[0].body_len, 4);
	cr_assert_eq(memcmp(c.resp[0].body, "\x00\x01\x02\xff", 4), 0);
	cr_assert_str_eq(hc_header(&c.resp[0], "Content-Type", v, sizeof(v)),
	                 "application/octet-stream");
	hc_free(&c);

	proxy_case(&c, "plain");
	cr_assert_eq(c.resp[0].status, 200);
	cr_assert_str_eq(c.resp[0].body, "{\"a\":[1,2],\"b\":\"c\"}");
	cr_assert_str_eq(hc_header(&c.resp[0], "Content-Type", v, sizeof(v)), "application/json");
	hc_free(&c);

	proxy_case(&c, "null");
	cr_assert_eq(c.resp[0].status, 200);
	cr_assert_str_eq(c.resp[0].body, "null");
	hc_free(&c);

	proxy_case(&c, "no-content");
	cr_assert_eq(c.resp[0].status, 204);
	cr_assert_null(hc_header(&c.resp[0], "Content-Length", v, sizeof(v)));
	cr_assert_eq(c.len, 0, "no body after a 204");
	hc_free(&c);
}

Test(http, invalid_proxy_response_is_502, .init = setup, .fini = teardown)
{
	static const char *cases[] = {"string-status", "fraction-status", "low-status",
	                              "number-header", "crlf-header",     "bad-multi",
	                              "bad-base64",    "object-body"};

	start_default();
	fn("proxy", h_proxy);
	rule("GET /p", "proxy");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hc c;

		proxy_case(&c, cases[i]);
		cr_assert_eq(c.resp[0].status, 502, "%s: %d", cases[i], c.resp[0].status);
		assert_message(&c.resp[0], "Internal server error");
		cr_assert_null(strstr(c.resp[0].head, "Injected"));
		hc_free(&c);
	}
}

Test(http, head_request_gets_headers_only, .init = setup, .fini = teardown)
{
	char v[32];
	hc c;

	start_default();
	fn("name", h_name);
	rule("HEAD /h", "name");
	hc_init(&c, port);
	hc_head(&c);
	hc_send_str(&c, "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&c, 1);
	/* The connection stays usable: nothing but the head was sent. */
	hc_send_str(&c, "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_head(&c);
	hc_read(&c, 1);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 200);
	cr_assert_str_eq(hc_header(&c.resp[0], "Content-Length", v, sizeof(v)), "6");
	cr_assert_eq(c.resp[1].status, 200);
	cr_assert_eq(c.len, 0);
	hc_free(&c);
}

/* ---- statuses ---- */

Test(http, handler_error_is_502, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	fn("fail", h_fail);
	rule("GET /f", "fail");
	ask(&c, "GET /f HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(c.resp[0].status, 502);
	assert_message(&c.resp[0], "Internal server error");
	hc_free(&c);
}

Test(http, timeout_is_504, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(h_gate);
	hc c;

	start_default();
	fo.timeout_ms = 100;
	th_register(rt, "slow", &fo);
	rule("GET /slow", "slow");
	ask(&c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(c.resp[0].status, 504);
	assert_message(&c.resp[0], "Endpoint request timed out");
	hc_free(&c);
}

Test(http, throttled_is_429, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(h_gate);
	hc a, b;

	start_default();
	fo.max_concurrency = 1;
	th_register(rt, "one", &fo);
	rule("GET /one", "one");
	hc_init(&a, port);
	hc_send_str(&a, "GET /one HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&a, 1);
	hc_start(&a);
	cr_assert(th_wait_for(rt, entered_one, NULL, TH_WAIT_MS));
	ask(&b, "GET /one HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(b.resp[0].status, 429);
	assert_message(&b.resp[0], "Too Many Requests");
	hc_free(&b);
	atomic_store(&release_gate, 1);
	hc_run(&a, rt);
	cr_assert_eq(a.resp[0].status, 200);
	cr_assert_str_eq(a.resp[0].body, "\"opened\"");
	hc_free(&a);
}

Test(http, stopping_runtime_answers_503_and_finishes_in_flight, .init = setup, .fini = teardown)
{
	char v[32];
	hc a, b;

	start_default();
	fn("gate", h_gate);
	rule("GET /g", "gate");
	hc_init(&a, port);
	hc_send_str(&a, "GET /g HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&a, 1);
	hc_start(&a);
	cr_assert(th_wait_for(rt, entered_one, NULL, TH_WAIT_MS));
	cr_assert_eq(faas_runtime_stop(rt), 0);
	ask(&b, "GET /g HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(b.resp[0].status, 503);
	assert_message(&b.resp[0], "Service Unavailable");
	cr_assert_str_eq(hc_header(&b.resp[0], "Connection", v, sizeof(v)), "close");
	hc_free(&b);
	atomic_store(&release_gate, 1);
	hc_run(&a, rt);
	cr_assert_eq(a.resp[0].status, 200);
	cr_assert_str_eq(a.resp[0].body, "\"opened\"");
	hc_free(&a);
	cr_assert_eq(atomic_load(&entered), 1);
}

Test(http, missing_function_is_500, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	rule("GET /ghost", "ghost");
	ask(&c, "GET /ghost HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(c.resp[0].status, 500);
	assert_message(&c.resp[0], "Internal server error");
	hc_free(&c);
}

/* ---- limits ---- */

static void limited_fn(const char *name, faas_handler_fn h, size_t limit)
{
	faas_fn_options fo = th_fopts_static(h);

	fo.payload_limit = limit;
	th_register(rt, name, &fo);
}

static void small_limit_fn(const char *name, faas_handler_fn h)
{
	faas_fn_options fo = th_fopts_static(h);

	fo.payload_limit = 100;
	th_register(rt, name, &fo);
}

Test(http, body_over_the_limit_by_content_length_is_413, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	small_limit_fn("small", h_body);
	rule("POST /s", "small");
	/* The head alone decides: no body is sent at all. */
	hc_init(&c, port);
	hc_send_str(&c, "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
	hc_read(&c, 1);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 413);
	assert_message(&c.resp[0], "Request Too Long");
	cr_assert(c.closed);
	hc_free(&c);
	cr_assert_eq(atomic_load(&ran), 0);
}

Test(http, chunked_body_passing_the_limit_is_413_and_never_runs, .init = setup, .fini = teardown)
{
	static char req[512];
	hc c;

	start_default();
	small_limit_fn("small", h_body);
	rule("POST /s", "small");
	snprintf(req, sizeof(req),
	         "POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	         "3c\r\n%060d\r\n3c\r\n",
	         0);
	hc_init(&c, port);
	hc_send_str(&c, req);
	hc_read(&c, 1);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 413);
	cr_assert(c.closed);
	hc_free(&c);
	cr_assert_eq(atomic_load(&ran), 0);
}

Test(http, event_larger_than_the_limit_is_413, .init = setup, .fini = teardown)
{
	static char req[512];
	hc c;

	start_default();
	small_limit_fn("small", h_body);
	rule("POST /s", "small");
	/* The body fits, the event around it does not. */
	snprintf(req, sizeof(req), "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 90\r\n\r\n%090d",
	         0);
	ask(&c, req);
	cr_assert_eq(c.resp[0].status, 413);
	hc_free(&c);
	cr_assert_eq(atomic_load(&ran), 0);
}

Test(http, header_section_over_the_cap_is_431, .init = setup, .fini = teardown)
{
	faas_http_options o = hopts();
	static char req[2048];
	hc c;

	o.max_header_bytes = 512;
	start(&o);
	fn("echo", h_echo);
	rule("GET /e", "echo");
	snprintf(req, sizeof(req), "GET /e HTTP/1.1\r\nHost: a\r\nX-Big: %0600d\r\n\r\n", 0);
	hc_init(&c, port);
	hc_send_str(&c, req);
	hc_read(&c, 1);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 431);
	cr_assert(c.closed);
	hc_free(&c);
	cr_assert_eq(atomic_load(&ran), 0);
	/* Just under the cap passes. */
	snprintf(req, sizeof(req), "GET /e HTTP/1.1\r\nHost: a\r\nX-Big: %0400d\r\n\r\n", 0);
	ask(&c, req);
	cr_assert_eq(c.resp[0].status, 200);
	hc_free(&c);
}

Test(http, slow_head_is_408, .init = setup, .fini = teardown)
{
	faas_http_options o = hopts();
	uint64_t t0;
	hc c;

	o.header_timeout_ms = 200;
	start(&o);
	fn("echo", h_echo);
	rule("GET /e", "echo");
	hc_init(&c, port);
	hc_send_str(&c, "GET /e HTTP/1.1\r\nHost: a\r\n");
	hc_read(&c, 1);
	hc_expect_close(&c);
	t0 = th_now_ms();
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 408);
	assert_message(&c.resp[0], "Request Timeout");
	cr_assert(c.closed);
	cr_assert_geq(c.closed_at_ms - t0, 150);
	hc_free(&c);
	cr_assert_eq(atomic_load(&ran), 0);
}

Test(http, slow_body_is_408, .init = setup, .fini = teardown)
{
	faas_http_options o = hopts();
	hc c;

	o.body_timeout_ms = 200;
	start(&o);
	fn("body", h_body);
	rule("POST /b", "body");
	hc_init(&c, port);
	hc_send_str(&c, "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
	hc_read(&c, 1);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 408);
	cr_assert(c.closed);
	hc_free(&c);
	cr_assert_eq(atomic_load(&ran), 0);
}

Test(http, silent_connection_is_closed_after_the_header_timeout, .init = setup, .fini = teardown)
{
	faas_http_options o = hopts();
	hc c;

	o.header_timeout_ms = 200;
	start(&o);
	hc_init(&c, port);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert(c.closed);
	cr_assert_eq(c.nresp, 0);
	cr_assert_eq(c.len, 0, "nothing is sent to a client that sent nothing");
	hc_free(&c);
}

Test(http, idle_keep_alive_connection_is_closed_silently, .init = setup, .fini = teardown)
{
	faas_http_options o = hopts();
	uint64_t t0;
	hc c;

	o.idle_timeout_ms = 200;
	start(&o);
	fn("name", h_name);
	rule("GET /n", "name");
	hc_init(&c, port);
	hc_send_str(&c, "GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&c, 1);
	hc_expect_close(&c);
	t0 = th_now_ms();
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 200);
	cr_assert(c.closed);
	cr_assert_geq(c.closed_at_ms - t0, 150);
	cr_assert_eq(c.len, 0, "closed without a word");
	hc_free(&c);
}

Test(http, connections_past_the_cap_are_closed_at_once, .init = setup, .fini = teardown)
{
	faas_http_options o = hopts();
	atomic_int go;
	hc a, b, x;

	atomic_init(&go, 0);
	o.max_connections = 2;
	start(&o);
	fn("name", h_name);
	rule("GET /n", "name");
	hc_init(&a, port);
	hc_init(&b, port);
	hc_send_str(&a, "GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&a, 1);
	hc_wait_flag(&a, &go);
	hc_send_str(&a, "GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&a, 1);
	hc_send_str(&b, "GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&b, 1);
	hc_wait_flag(&b, &go);
	hc_start(&a);
	hc_start(&b);
	/* Both served once: both are connections of the server now. */
	cr_assert(th_wait_for(rt, both_served, (hc *[]){&a, &b}, TH_WAIT_MS));
	hc_init(&x, port);
	hc_expect_close(&x);
	hc_run(&x, rt);
	cr_assert_str_empty(x.error, "%s", x.error);
	cr_assert(x.closed);
	cr_assert_eq(x.nresp, 0);
	hc_free(&x);
	atomic_store(&go, 1);
	hc_run(&a, rt);
	hc_run(&b, rt);
	cr_assert_eq(a.nresp, 2, "%s", a.error);
	cr_assert_eq(b.nresp, 1, "%s", b.error);
	hc_free(&a);
	hc_free(&b);
}

/* ---- connections ---- */

Test(http, keep_alive_serves_several_requests, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	fn("name", h_name);
	rule("GET /n", "name");
	hc_init(&c, port);
	for (int i = 0; i < 5; i++) {
		hc_send_str(&c, "GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
		hc_read(&c, 1);
	}
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.nresp, 5);
	for (int i = 0; i < 5; i++)
		cr_assert_str_eq(c.resp[i].body, "\"name\"");
	hc_free(&c);
}

Test(http, http10_closes_unless_keep_alive_is_asked, .init = setup, .fini = teardown)
{
	char v[32];
	hc c;

	start_default();
	fn("name", h_name);
	rule("GET /n", "name");
	hc_init(&c, port);
	hc_send_str(&c, "GET /n HTTP/1.0\r\n\r\n");
	hc_read(&c, 1);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_str_eq(hc_header(&c.resp[0], "Connection", v, sizeof(v)), "close");
	cr_assert(c.closed);
	hc_free(&c);

	hc_init(&c, port);
	hc_send_str(&c, "GET /n HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	hc_read(&c, 1);
	hc_send_str(&c, "GET /n HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	hc_read(&c, 1);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_str_eq(hc_header(&c.resp[0], "Connection", v, sizeof(v)), "keep-alive");
	cr_assert_eq(c.resp[1].status, 200);
	hc_free(&c);

	/* HTTP/1.1 with Connection: close: answered, then closed. */
	hc_init(&c, port);
	hc_send_str(&c, "GET /n HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	                "GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&c, 1);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.nresp, 1);
	cr_assert(c.closed);
	cr_assert_eq(c.len, 0, "nothing after a closing answer");
	hc_free(&c);
}

Test(http, pipelined_requests_are_answered_in_order, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	fn("sleep", h_sleep);
	rule("GET /s", "sleep");
	hc_init(&c, port);
	/* The first finishes last, the last first. */
	hc_send_str(&c, "GET /s?ms=300&tag=one HTTP/1.1\r\nHost: a\r\n\r\n"
	                "GET /s?ms=150&tag=two HTTP/1.1\r\nHost: a\r\n\r\n"
	                "GET /s?ms=0&tag=three HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_read(&c, 3);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_str_eq(c.resp[0].body, "\"one\"");
	cr_assert_str_eq(c.resp[1].body, "\"two\"");
	cr_assert_str_eq(c.resp[2].body, "\"three\"");
	cr_assert_eq(atomic_load(&entered), 3);
	hc_free(&c);
}

Test(http, many_pipelined_requests_pause_reading_and_all_get_answers, .init = setup,
     .fini = teardown)
{
	static char reqs[40 * 64];
	size_t n = 0;
	hc c;

	start_default();
	fn("name", h_name);
	rule("GET /n", "name");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(reqs + n, sizeof(reqs) - n,
		                      "GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_init(&c, port);
	hc_send(&c, reqs, n);
	hc_read(&c, 16);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	hc_free(&c);
	/* The rest of the 40 were read after the pause; one more connection
	 * proves the server is still fine. */
	hc_init(&c, port);
	hc_send(&c, reqs, n);
	for (int i = 0; i < 40; i += 10)
		hc_read(&c, 10);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	for (int i = 0; i < 16; i++)
		cr_assert_str_eq(c.resp[i].body, "\"name\"");
	hc_free(&c);
}

Test(http, chunked_request_body, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	fn("body", h_body);
	rule("POST /b", "body");
	ask(&c, "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	        "5\r\nhello\r\n6;ext=1;q=\"a b\"\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
	cr_assert_eq(c.resp[0].status, 200);
	cr_assert_str_eq(c.resp[0].body, "\"hello world\"");
	hc_free(&c);
}

Test(http, body_sent_in_pieces, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	fn("body", h_body);
	rule("POST /b", "body");
	hc_init(&c, port);
	hc_send_str(&c, "POST /b HTTP/1.1\r\nHo");
	hc_sleep(&c, 20);
	hc_send_str(&c, "st: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r");
	hc_sleep(&c, 20);
	hc_send_str(&c, "\nhel");
	hc_sleep(&c, 20);
	hc_send_str(&c, "lo\r\n0\r\n\r\n");
	hc_read(&c, 1);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_str_eq(c.resp[0].body, "\"hello\"");
	hc_free(&c);
}

Test(http, expect_100_continue, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	limited_fn("body", h_body, 2000);
	rule("POST /b", "body");
	hc_init(&c, port);
	hc_send_str(&c, "POST /b HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
	                "Content-Length: 5\r\n\r\n");
	hc_read(&c, 1);
	hc_send_str(&c, "hello");
	hc_read(&c, 1);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 100);
	cr_assert_eq(c.resp[1].status, 200);
	cr_assert_str_eq(c.resp[1].body, "\"hello\"");
	hc_free(&c);

	/* Over the limit: 413 at once, never 100. */
	hc_init(&c, port);
	hc_send_str(&c, "POST /b HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
	                "Content-Length: 5000\r\n\r\n");
	hc_read(&c, 1);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 413);
	cr_assert(c.closed);
	hc_free(&c);

	/* An expectation we do not know. */
	hc_init(&c, port);
	hc_send_str(&c,
	            "POST /b HTTP/1.1\r\nHost: a\r\nExpect: magic\r\nContent-Length: 5\r\n\r\n");
	hc_read(&c, 1);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_eq(c.resp[0].status, 417);
	hc_free(&c);
}

Test(http, client_gone_mid_invocation_cancels_it, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	fn("gate", h_gate);
	rule("GET /g", "gate");
	hc_init(&c, port);
	hc_send_str(&c, "GET /g HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_start(&c);
	cr_assert(th_wait_for(rt, entered_one, NULL, TH_WAIT_MS));
	/* The script ends: the client closes its socket. */
	hc_run(&c, rt);
	cr_assert(th_wait_for(rt, cancel_seen, NULL, TH_WAIT_MS),
	          "the handler never saw the cancellation");
	/* The answer (to nobody) is made and dropped; the server goes on. */
	th_spin(rt, 50);
	hc_free(&c);
	fn("name", h_name);
	rule("GET /n", "name");
	ask(&c, "GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(c.resp[0].status, 200);
	hc_free(&c);
}

Test(http, trigger_freed_with_requests_in_flight, .init = setup, .fini = teardown)
{
	hc c;

	start_default();
	fn("gate", h_gate);
	rule("GET /g", "gate");
	hc_init(&c, port);
	hc_send_str(&c, "GET /g HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_expect_close(&c);
	hc_start(&c);
	cr_assert(th_wait_for(rt, entered_one, NULL, TH_WAIT_MS));
	faas_trigger_free(web);
	web = NULL;
	hc_run(&c, rt);
	cr_assert(c.closed);
	cr_assert_eq(c.nresp, 0);
	/* Its client is gone: the invocation is cancelled, and its answer,
	 * made after the trigger went, goes nowhere. */
	cr_assert(th_wait_for(rt, cancel_seen, NULL, TH_WAIT_MS));
	th_spin(rt, 50);
	hc_free(&c);
}

Test(http, runtime_freed_with_connections_open, .init = setup)
{
	hc a, b;

	start_default();
	fn("gate", h_gate);
	fn("name", h_name);
	rule("GET /g", "gate");
	rule("GET /n", "name");
	hc_init(&a, port);
	hc_send_str(&a, "GET /g HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_expect_close(&a);
	hc_init(&b, port);
	hc_send_str(&b, "GET /n HTTP/1.1\r\nHost: a\r\n\r\nGET /n HTTP/1.1\r\nHost: a\r\n");
	hc_read(&b, 1);
	hc_expect_close(&b);
	hc_start(&a);
	hc_start(&b);
	cr_assert(th_wait_for(rt, entered_one, NULL, TH_WAIT_MS));
	cr_assert(th_wait_for(rt, served_once, &b, TH_WAIT_MS));
	atomic_store(&release_gate, 1);
	faas_runtime_free(rt);
	rt = NULL;
	cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(uv_loop_close(&loop), 0);
	hc_join(&a);
	hc_join(&b);
	cr_assert(a.closed);
	cr_assert(b.closed);
	hc_free(&a);
	hc_free(&b);
}

Test(http, trigger_stats_count_requests, .init = setup, .fini = teardown)
{
	faas_trigger_stats st;
	hc c;

	start_default();
	fn("name", h_name);
	rule("GET /n", "name");
	ask(&c, "GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_free(&c);
	ask(&c, "GET /none HTTP/1.1\r\nHost: a\r\n\r\n");
	hc_free(&c);
	cr_assert_eq(faas_trigger_stats_get(&st, web), 0);
	cr_assert_eq(st.fired, 2);
	cr_assert_eq(st.invoked, 1);
}

Test(http, management_prefix_is_an_ordinary_route_when_the_api_is_off, .init = setup,
     .fini = teardown)
{
	hc c;

	start_default();
	fn("name", h_name);
	rule("GET /_faas/health", "name");
	ask(&c, "GET /_faas/health HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(c.resp[0].status, 200);
	cr_assert_str_eq(c.resp[0].body, "\"name\"");
	hc_free(&c);
}
