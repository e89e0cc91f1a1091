/* HTTP routes, through the public API (the parser and matcher in
 * lib/gateway/routes.c are internal): which specs faas_rule_new() refuses, what
 * {param} and {proxy+} capture (percent-decoded), and which of several
 * matching routes wins. The precedence the code implements, checked below:
 *   1. segment by segment from the left, the first segment where two routes
 *      differ decides: a literal beats {param}, which beats {proxy+};
 *   2. a route of the request's method beats ANY of the same shape;
 *   3. a disabled rule does not take part; HEAD matches only HEAD or ANY.
 * Two rules of the same method and shape (parameter names aside, literals
 * compared decoded) cannot coexist (FAAS_EEXIST), so no tie is left for
 * creation order to break. test/http.c has the first cases of each; these
 * go through the corners. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "http_client.h"

TestSuite(routes, .timeout = 60);

static uv_loop_t loop;
static faas_runtime *rt;
static faas_trigger *web;
static uint16_t port;

/* Answers {"fn": its name, "resource": ..., "params": pathParameters}. */
static int h_where(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(event, "pathParameters");
	const cJSON *resource = cJSON_GetObjectItemCaseSensitive(event, "resource");

	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "fn", faas_ctx_function_name(ctx));
	cJSON_AddItemToObject(*result, "resource", cJSON_Duplicate(resource, true));
	cJSON_AddItemToObject(*result, "params", cJSON_Duplicate(params, true));
	return 0;
}

static void fn(const char *name, faas_isolation isolation)
{
	faas_fn_options fo = th_fopts_static(h_where);

	fo.isolation = isolation;
	th_register(rt, name, &fo);
}

static void setup(void)
{
	faas_runtime_options o = th_ropts();
	faas_http_options ho;
	int rc;

	th_loop_init(&loop);
	rt = th_rt_new(&loop, &o);
	cr_assert_eq(faas_http_options_init(&ho, FAAS_HTTP_OPTIONS_VERSION), 0);
	ho.management_api = false;
	rc = faas_trigger_http_new(&web, rt, "web", &ho);
	cr_assert_eq(rc, 0, "http trigger: %s (%s)", faas_err_name(rc),
	             faas_runtime_last_error(rt));
	port = faas_trigger_http_port(web);
	cr_assert_neq(port, 0);
	for (int i = 0; i < 8; i++) {
		char name[8];

		snprintf(name, sizeof(name), "f%d", i);
		fn(name, FAAS_ISOLATION_THREAD);
	}
	fn("inl", FAAS_ISOLATION_INLINE);
}

static void teardown(void)
{
	th_rt_free(rt, &loop);
}

static faas_rule *rule(const char *route, const char *function)
{
	faas_rule *r = NULL;
	int rc = faas_rule_new(&r, web, route, function);

	cr_assert_eq(rc, 0, "rule \"%s\": %s (%s)", route, faas_err_name(rc),
	             faas_runtime_last_error(rt));
	return r;
}

/* The answer to one request: status, and the body parsed when it is JSON. */
typedef struct answer {
	int status;
	cJSON *body;
} answer;

static answer ask(const char *method, const char *target)
{
	char raw[2048];
	answer a;
	hc c;

	snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nHost: t\r\n\r\n", method, target);
	hc_init(&c, port);
	if (strcmp(method, "HEAD") == 0)
		hc_head(&c);
	hc_send_str(&c, raw);
	hc_read(&c, 1);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s %s: client: %s", method, target, c.error);
	a.status = c.resp[0].status;
	a.body = cJSON_Parse(c.resp[0].body);
	hc_free(&c);
	return a;
}

static const char *str_at(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* method target must be served by function; returns its pathParameters
 * (NULL if none), to be released with cJSON_Delete(). */
static cJSON *served_by(const char *method, const char *target, const char *function)
{
	answer a = ask(method, target);
	cJSON *params;
	const char *who;

	cr_assert_eq(a.status, 200, "%s %s: status %d", method, target, a.status);
	who = str_at(a.body, "fn");
	cr_assert(who && strcmp(who, function) == 0, "%s %s: served by %s, want %s", method, target,
	          who ? who : "(nobody)", function);
	params = cJSON_DetachItemFromObjectCaseSensitive(a.body, "params");
	cJSON_Delete(a.body);
	if (cJSON_IsNull(params)) {
		cJSON_Delete(params);
		return NULL;
	}
	return params;
}

static void expect_route(const char *method, const char *target, const char *function)
{
	cJSON_Delete(served_by(method, target, function));
}

static void expect_status(const char *method, const char *target, int status)
{
	answer a = ask(method, target);

	cr_assert_eq(a.status, status, "%s %s: status %d, want %d", method, target, a.status,
	             status);
	cJSON_Delete(a.body);
}

/* The single parameter name of a route must capture want. */
static void expect_param(const char *target, const char *function, const char *name,
                         const char *want)
{
	cJSON *params = served_by("GET", target, function);
	const char *got = str_at(params, name);

	cr_assert_not_null(got, "%s: no parameter %s", target, name);
	cr_assert_str_eq(got, want, "%s: %s", target, name);
	cr_assert_eq(cJSON_GetArraySize(params), 1);
	cJSON_Delete(params);
}

/* ---- refused specs ---- */

Test(routes, bad_specs_are_einval_and_add_no_rule, .init = setup, .fini = teardown)
{
	static char too_long[1100];
	const char *bad[] = {
	    "",               /* empty */
	    "/static/x",      /* no method */
	    " /a",            /* empty method */
	    "GET ",           /* empty path */
	    "GET\t/a",        /* the separator is one space */
	    "ANY a/b",        /* no leading slash */
	    "GET /{id",       /* unclosed brace */
	    "GET /users/{id", /* unclosed brace, last segment */
	    "GET /{id}}",     /* stray closing brace */
	    "GET /id}",       /* a brace in a literal */
	    "GET /{id}x",     /* a parameter is a whole segment */
	    "GET /x{id}",
	    "GET /{a}{b}",
	    "GET /{proxy+}/{rest+}", /* two {proxy+} */
	    "GET /{p+}/x",           /* {proxy+} not last */
	    "GET /{id}/{id}",        /* duplicate parameter names */
	    "GET /{id}/{id+}",
	    "GET /{a}/b/{a}",
	    "GET /{a*}", /* parameter name characters */
	    "GET /{a/b}",
	    "GET /{é}",
	    "GET /{+}", /* empty names */
	    "GET /{}",
	    "GET /a#b", /* characters a path cannot hold */
	    "GET /a\x01",
	    "GET /caf\xc3\xa9",
	    "GET //a", /* empty segments */
	    "GET /a//b",
	    "GET /a/", /* a trailing slash is ignored in requests, not allowed here */
	    too_long,
	};
	faas_rule *r;

	memcpy(too_long, "GET /", 5);
	memset(too_long + 5, 'x', sizeof(too_long) - 6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = (faas_rule *)&r; /* anything but NULL */
		cr_assert_eq(faas_rule_new(&r, web, bad[i], "f0"), FAAS_EINVAL,
		             "\"%.40s\" accepted", bad[i]);
		cr_assert_null(r, "a refused rule is not handed out");
		cr_assert(strstr(faas_runtime_last_error(rt), "route"), "\"%.40s\": %s", bad[i],
		          faas_runtime_last_error(rt));
	}
	/* None of them became a rule: every request finds nothing. */
	expect_status("GET", "/static/x", 404);
	expect_status("GET", "/a", 404);
	expect_status("GET", "/id%7D", 404);
}

Test(routes, longest_accepted_route_is_1024_characters, .init = setup, .fini = teardown)
{
	char spec[1025 + 1], target[1100];

	memcpy(spec, "GET /", 5);
	memset(spec + 5, 'y', 1024 - 5);
	spec[1024] = '\0';
	rule(spec, "f0");
	snprintf(target, sizeof(target), "%s", spec + 4);
	expect_route("GET", target, "f0");
	spec[1024] = 'y';
	spec[1025] = '\0';
	cr_assert_eq(faas_rule_new(NULL, web, spec, "f1"), FAAS_EINVAL);
}

Test(routes, other_triggers_take_no_route, .init = setup, .fini = teardown)
{
	faas_trigger *timer;
	faas_timer_options to;

	cr_assert_eq(faas_timer_options_init(&to, FAAS_TIMER_OPTIONS_VERSION), 0);
	to.interval_ms = 60000;
	cr_assert_eq(faas_trigger_timer_new(&timer, rt, "tick", &to), 0, "%s",
	             faas_runtime_last_error(rt));
	cr_assert_eq(faas_rule_new(NULL, timer, "GET /a", "f0"), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(rt), "no route"));
	cr_assert_eq(faas_rule_new(NULL, timer, NULL, "f0"), 0);
}

Test(routes, same_shape_is_eexist_literals_compared_decoded, .init = setup, .fini = teardown)
{
	rule("GET /a", "f0");
	cr_assert_eq(faas_rule_new(NULL, web, "GET /%61", "f1"), FAAS_EEXIST);
	rule("ANY /d/{x}", "f0");
	cr_assert_eq(faas_rule_new(NULL, web, "ANY /d/{y}", "f1"), FAAS_EEXIST);
	rule("GET /p/{rest+}", "f0");
	cr_assert_eq(faas_rule_new(NULL, web, "GET /p/{other+}", "f1"), FAAS_EEXIST);
	/* Another kind of segment at the same place is another shape. */
	rule("GET /p/{x}", "f1");
	rule("GET /p/x", "f2");
	/* So is another method. */
	rule("HEAD /a", "f3");
	/* A freed rule's shape is free again. */
	faas_rule_free(rule("PUT /gone", "f0"));
	rule("PUT /gone", "f1");
	expect_route("PUT", "/gone", "f1");
}

/* ---- what routes capture ---- */

Test(routes, param_route, .init = setup, .fini = teardown)
{
	cJSON *params;
	answer a;

	rule("GET /users/{id}", "f0");
	params = served_by("GET", "/users/42", "f0");
	cr_assert_str_eq(str_at(params, "id"), "42");
	cJSON_Delete(params);
	a = ask("GET", "/users/42?x=1");
	cr_assert_eq(a.status, 200);
	cr_assert_str_eq(str_at(a.body, "resource"), "/users/{id}");
	cr_assert_str_eq(str_at(cJSON_GetObjectItemCaseSensitive(a.body, "params"), "id"), "42",
	                 "the query is not part of the parameter");
	cJSON_Delete(a.body);
	expect_param("/users/42/", "f0", "id", "42"); /* the trailing slash is ignored */
	expect_status("GET", "/users", 404);
	expect_status("GET", "/users/", 404);
	expect_status("GET", "/users/42/x", 404);
	expect_status("GET", "/Users/42", 404); /* literals are case-sensitive */
	expect_status("POST", "/users/42", 405);
}

Test(routes, a_param_never_matches_an_empty_segment, .init = setup, .fini = teardown)
{
	rule("GET /a/{x}/b", "f0");
	rule("GET /c/{x}", "f1");
	expect_route("GET", "/a/1/b", "f0");
	expect_status("GET", "/a//b", 404);
	expect_status("GET", "/c//", 404);
}

Test(routes, params_are_percent_decoded, .init = setup, .fini = teardown)
{
	static const struct {
		const char *raw, *decoded;
	} cases[] = {
	    {"a%20b", "a b"},   {"a%2Fb", "a/b"}, /* one segment: split before decoding */
	    {"a%2fb", "a/b"},   {"%E2%9C%93", "\xe2\x9c\x93"},
	    {"a+b", "a+b"},                     /* '+' is a space only in queries */
	    {"100%25", "100%"}, {"%zz", "%zz"}, /* invalid escapes stay as sent */
	    {"%4", "%4"},       {"x%", "x%"},
	    {"%3F%23", "?#"},   {"%7Bid%7D", "{id}"},
	};
	char target[128];

	rule("GET /users/{id}", "f0");
	rule("GET /inline/{id}", "inl");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(target, sizeof(target), "/users/%s", cases[i].raw);
		expect_param(target, "f0", "id", cases[i].decoded);
		/* An inline function gets the event as a tree: the same values. */
		snprintf(target, sizeof(target), "/inline/%s", cases[i].raw);
		expect_param(target, "inl", "id", cases[i].decoded);
	}
}

Test(routes, several_params, .init = setup, .fini = teardown)
{
	cJSON *params;

	rule("GET /o/{org}/r/{repo}/{file.name-x_y}", "f0");
	params = served_by("GET", "/o/acme/r/libfaas/README%2Emd", "f0");
	cr_assert_eq(cJSON_GetArraySize(params), 3);
	cr_assert_str_eq(str_at(params, "org"), "acme");
	cr_assert_str_eq(str_at(params, "repo"), "libfaas");
	cr_assert_str_eq(str_at(params, "file.name-x_y"), "README.md");
	cJSON_Delete(params);
}

Test(routes, proxy_route, .init = setup, .fini = teardown)
{
	rule("ANY /files/{proxy+}", "f0");
	rule("GET /inline/{proxy+}", "inl");
	expect_param("/files/a", "f0", "proxy", "a");
	expect_param("/files/a/b/c", "f0", "proxy", "a/b/c");
	expect_param("/files/a/b/", "f0", "proxy", "a/b");
	expect_param("/files/a%2Fb/c%20d", "f0", "proxy", "a/b/c d");
	expect_param("/files/a?q=1", "f0", "proxy", "a");
	expect_param("/inline/a/b%20c/", "inl", "proxy", "a/b c");
	/* ANY takes every method. */
	expect_route("POST", "/files/x", "f0");
	expect_route("DELETE", "/files/x/y", "f0");
	expect_route("OPTIONS", "/files/x", "f0");
	/* {proxy+} needs at least one segment. */
	expect_status("GET", "/files", 404);
	expect_status("GET", "/files/", 404);
	expect_status("GET", "/filesx/a", 404);
}

Test(routes, root_proxy_takes_everything_but_the_root, .init = setup, .fini = teardown)
{
	rule("GET /{proxy+}", "f0");
	expect_param("/a", "f0", "proxy", "a");
	expect_param("/a/b/c/d/e/f", "f0", "proxy", "a/b/c/d/e/f");
	expect_status("GET", "/", 404);
	rule("GET /", "f1");
	expect_route("GET", "/", "f1");
	cJSON_Delete(served_by("GET", "/", "f1")); /* no parameters: null */
}

Test(routes, literal_routes, .init = setup, .fini = teardown)
{
	rule("GET /static/x", "f0");
	rule("GET /a%20b", "f1");
	rule("GET /a%2Fb", "f2");
	cr_assert_null(served_by("GET", "/static/x", "f0"), "no parameters: null");
	expect_route("GET", "/static/x/", "f0");
	expect_status("GET", "/static/y", 404);
	expect_status("GET", "/static/x/y", 404);
	expect_status("GET", "/static", 404);
	/* Literals are matched decoded, on both sides. */
	expect_route("GET", "/a%20b", "f1");
	expect_route("GET", "/%61%20%62", "f1");
	expect_route("GET", "/a%2Fb", "f2");
	expect_route("GET", "/a%2fb", "f2");
	expect_status("GET", "/a/b", 404);
	expect_route("GET", "/st%61tic/x", "f0");
}

/* ---- precedence ---- */

Test(routes, literal_beats_param_beats_proxy_whatever_the_order, .init = setup, .fini = teardown)
{
	/* Made least specific first, and then the other way round. */
	rule("GET /p/{proxy+}", "f0");
	rule("GET /p/{x}", "f1");
	rule("GET /p/me", "f2");
	rule("GET /q/me", "f2");
	rule("GET /q/{x}", "f1");
	rule("GET /q/{proxy+}", "f0");
	for (int i = 0; i < 2; i++) {
		const char *base = i ? "/q" : "/p";
		char t[32];

		snprintf(t, sizeof(t), "%s/me", base);
		expect_route("GET", t, "f2");
		snprintf(t, sizeof(t), "%s/you", base);
		expect_route("GET", t, "f1");
		snprintf(t, sizeof(t), "%s/me/too", base);
		expect_route("GET", t, "f0");
	}
}

Test(routes, the_leftmost_difference_decides, .init = setup, .fini = teardown)
{
	rule("GET /{a}/lit", "f0");
	rule("GET /lit/{b}", "f1");
	/* Both have one literal; the first segment decides. */
	expect_route("GET", "/lit/lit", "f1");
	expect_route("GET", "/other/lit", "f0");
	/* A {param} then {proxy+} beats a {proxy+} one segment earlier. */
	rule("GET /r/{x}/{proxy+}", "f2");
	rule("GET /r/{proxy+}", "f3");
	expect_route("GET", "/r/1/2", "f2");
	expect_route("GET", "/r/1/2/3", "f2");
	expect_route("GET", "/r/1", "f3");
}

Test(routes, a_more_specific_any_beats_a_less_specific_method, .init = setup, .fini = teardown)
{
	rule("GET /m/{x}", "f0");
	rule("ANY /m/me", "f1");
	expect_route("GET", "/m/me", "f1");
	expect_route("GET", "/m/you", "f0");
	expect_route("PATCH", "/m/me", "f1");
	expect_status("PATCH", "/m/you", 405);
}

Test(routes, on_the_same_shape_the_method_beats_any_whatever_the_order, .init = setup,
     .fini = teardown)
{
	rule("ANY /s/{x}", "f0");
	rule("GET /s/{y}", "f1");
	rule("POST /t/{y}", "f1");
	rule("ANY /t/{x}", "f0");
	expect_route("GET", "/s/1", "f1");
	expect_route("POST", "/s/1", "f0");
	expect_route("POST", "/t/1", "f1");
	expect_route("GET", "/t/1", "f0");
}

Test(routes, head_matches_only_head_or_any, .init = setup, .fini = teardown)
{
	rule("GET /h", "f0");
	rule("ANY /h2", "f1");
	rule("HEAD /h3", "f2");
	rule("GET /h3", "f3");
	expect_status("HEAD", "/h", 405);
	expect_status("HEAD", "/h2", 200);
	expect_status("HEAD", "/h3", 200);
	expect_route("GET", "/h3", "f3");
}

Test(routes, a_disabled_rule_lets_the_next_best_match, .init = setup, .fini = teardown)
{
	faas_rule *lit;

	rule("GET /d/{x}", "f0");
	lit = rule("GET /d/me", "f1");
	expect_route("GET", "/d/me", "f1");
	cr_assert_eq(faas_rule_set_enabled(lit, false), 0);
	expect_route("GET", "/d/me", "f0");
	cr_assert_eq(faas_rule_set_enabled(lit, true), 0);
	expect_route("GET", "/d/me", "f1");
	/* A disabled rule still holds its shape. */
	cr_assert_eq(faas_rule_set_enabled(lit, false), 0);
	cr_assert_eq(faas_rule_new(NULL, web, "GET /d/me", "f2"), FAAS_EEXIST);
}
