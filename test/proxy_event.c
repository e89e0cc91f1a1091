/* The proxy event's two outputs, on the gateway's internals: for each
 * request, the JSON text (what thread and process functions get) parsed
 * with cJSON must equal the cJSON tree (what inline functions get), and
 * cJSON's printing of the tree must be the text byte for byte (except where
 * a NUL byte ends a tree string), including bytes that are not UTF-8 and
 * control bytes in headers, paths, queries and bodies. */
#include <string.h>

#include <criterion/criterion.h>

#include "proxy_event.h"

TestSuite(proxy_event, .timeout = 30);

typedef struct outputs {
	faas__scratch s_text, s_tree;
	faas__buf text;
	faas__arena arena;
	faas__tree_sink tree;
	faas__route *route;
	cJSON *parsed;
} outputs;

static void outputs_free(outputs *o)
{
	cJSON_Delete(o->parsed);
	faas__scratch_free(&o->s_text);
	faas__scratch_free(&o->s_tree);
	faas__buf_free(&o->text);
	faas__arena_free(&o->arena);
	free(o->route);
}

/* Build both outputs of req for the route spec, as the trigger does: split
 * the path, then one walk per output. */
static void build(outputs *o, const faas__http_request *req, const char *spec)
{
	faas__proxy_request in;
	faas__text_sink ts;
	const char *why;

	memset(o, 0, sizeof(*o));
	cr_assert_eq(faas__route_new(&o->route, spec, &why), 0, "%s: %s", spec, why);
	in.req = req;
	in.route = o->route;
	in.request_id = "0123456789abcdef0123456789abcdef";
	in.request_time = "04/Dec/2025:08:00:00 +0000";
	cr_assert(faas__route_split_path(&o->s_text, req->raw_path));
	cr_assert(faas__route_split_path(&o->s_tree, req->raw_path));
	cr_assert_geq(o->s_text.nsegs, o->route->nseg, "%s does not fit %s", req->raw_path, spec);
	faas__text_sink_init(&ts, &o->text);
	cr_assert_eq(faas__proxy_event(&ts.base, &o->s_text, &in), 0);
	faas__tree_sink_init(&o->tree, &o->arena, 1u << 20);
	cr_assert_eq(faas__proxy_event(&o->tree.base, &o->s_tree, &in), 0);
	cr_assert_not_null(o->tree.root);
	cr_assert_eq(strlen(o->text.data), o->text.len, "the text is NUL-terminated");
	o->parsed = cJSON_ParseWithLength(o->text.data, o->text.len);
	cr_assert_not_null(o->parsed, "not JSON: %s", o->text.data);
}

/* The check of the suite: parse(text) == tree, and print(tree) == text. */
static void check_same(const faas__http_request *req, const char *spec, bool has_nul)
{
	outputs o;
	char *printed;

	build(&o, req, spec);
	cr_assert(cJSON_Compare(o.parsed, o.tree.root, true), "text and tree differ: %s",
	          o.text.data);
	printed = cJSON_PrintUnformatted(o.tree.root);
	cr_assert_not_null(printed);
	if (!has_nul)
		cr_assert_str_eq(printed, o.text.data);
	else
		cr_assert_str_neq(printed, o.text.data, "a NUL byte cannot be in a tree string");
	cJSON_free(printed);
	outputs_free(&o);
}

static faas__http_request request(const char *method, const char *path, const char *raw_path,
                                  const char *query, const faas__http_header *h, size_t nh,
                                  const char *body, size_t body_len)
{
	faas__http_request r;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.target = raw_path;
	r.path = path;
	r.raw_path = raw_path;
	r.query = query;
	r.version_minor = 1;
	r.headers = h;
	r.nheaders = nh;
	r.body = body;
	r.body_len = body_len;
	r.client_ip = "127.0.0.1";
	r.client_loopback = true;
	r.received_ms = 1764835200123u;
	return r;
}

#define HDR(n, v)                                                                                  \
	{                                                                                          \
		n, sizeof(n) - 1, v, sizeof(v) - 1                                                 \
	}
#define NH(a) (sizeof(a) / sizeof(a[0]))

static const cJSON *at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

static void assert_str(const cJSON *v, const char *want)
{
	cr_assert(cJSON_IsString(v), "not a string");
	cr_assert_str_eq(v->valuestring, want);
}

Test(proxy_event, plain_request)
{
	static const faas__http_header h[] = {HDR("Host", "h"), HDR("User-Agent", "t/1"),
	                                      HDR("X-Multi", "1"), HDR("x-multi", "2")};
	faas__http_request r =
	    request("POST", "/a/b c", "/a/b%20c", "x=1&x=2&y=hello+world%21", h, NH(h), "hello", 5);

	check_same(&r, "POST /a/{b}", false);
}

Test(proxy_event, nothing_but_the_request_line)
{
	faas__http_request r = request("GET", "/", "/", "", NULL, 0, NULL, 0);
	outputs o;

	r.version_minor = 0;
	check_same(&r, "ANY /", false);
	build(&o, &r, "ANY /");
	cr_assert(cJSON_IsNull(at(o.tree.root, "headers", NULL)));
	cr_assert(cJSON_IsNull(at(o.tree.root, "pathParameters", NULL)));
	cr_assert(cJSON_IsNull(at(o.tree.root, "body", NULL)));
	assert_str(at(at(o.tree.root, "requestContext", NULL), "protocol", NULL), "HTTP/1.0");
	outputs_free(&o);
}

Test(proxy_event, latin1_and_invalid_utf8_become_replacement_characters)
{
	static const faas__http_header h[] = {HDR("X-Latin", "caf\xe9"),
	                                      HDR("X-Bad", "\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xff")};
	faas__http_request r = request("GET", "/q/\xe9x", "/q/%e9x", "k=%e9&%ff=v&s=%f0%9f%98", h,
	                               NH(h), "caf\xe9", 4);
	outputs o;

	check_same(&r, "ANY /q/{p}", false);
	build(&o, &r, "ANY /q/{p}");
	/* One U+FFFD for each maximal invalid subpart (Unicode's practice, and
	 * util's JSON writer's): E2 82 is the start of a character cut short. */
	assert_str(at(o.tree.root, "headers", "X-Latin"), "caf\xef\xbf\xbd");
	assert_str(at(o.parsed, "headers", "X-Bad"),
	           "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	           "\xef\xbf\xbd|\xef\xbf\xbd");
	assert_str(at(o.tree.root, "pathParameters", "p"), "\xef\xbf\xbdx");
	assert_str(at(o.tree.root, "path", NULL), "/q/\xef\xbf\xbdx");
	assert_str(at(o.parsed, "queryStringParameters", "k"), "\xef\xbf\xbd");
	assert_str(at(o.parsed, "queryStringParameters", "\xef\xbf\xbd"), "v");
	/* A body that is not UTF-8 is base64, not replaced. */
	assert_str(at(o.tree.root, "body", NULL), "Y2Fm6Q==");
	cr_assert(cJSON_IsTrue(at(o.tree.root, "isBase64Encoded", NULL)));
	outputs_free(&o);
}

Test(proxy_event, control_bytes_are_escaped_the_same)
{
	static const char body[] =
	    "line1\nline2\t\"q\"\\ \x1b\x7f \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	static const faas__http_header h[] = {HDR("X-Tab", "a\tb"), HDR("X-Quote", "\"\\/")};
	faas__http_request r =
	    request("PUT", "/c/\x01\"\\", "/c/%01%22%5c", "v=%0a%0d%08%0c%09%1f%7f&w=%c3%a9", h,
	            NH(h), body, sizeof(body) - 1);
	outputs o;

	check_same(&r, "PUT /c/{x}", false);
	build(&o, &r, "PUT /c/{x}");
	/* The short forms, and \u00xx in lowercase for the others. */
	cr_assert(strstr(o.text.data, "\"v\":\"\\n\\r\\b\\f\\t\\u001f\x7f\""), "%s", o.text.data);
	cr_assert(strstr(o.text.data, "\"x\":\"\\u0001\\\"\\\\\""), "%s", o.text.data);
	assert_str(at(o.tree.root, "body", NULL), body);
	cr_assert(cJSON_IsFalse(at(o.tree.root, "isBase64Encoded", NULL)));
	assert_str(at(o.tree.root, "queryStringParameters", "w"), "\xc3\xa9");
	outputs_free(&o);
}

Test(proxy_event, nul_bytes_end_tree_strings_as_parsing_does)
{
	static const faas__http_header h[] = {HDR("Host", "h")};
	faas__http_request r =
	    request("GET", "/n", "/n", "k=%e9%00&z=a%00b", h, NH(h), "\x00\x01\xfe\xff", 4);
	outputs o;

	check_same(&r, "GET /n", true);
	build(&o, &r, "GET /n");
	cr_assert(strstr(o.text.data, "\"z\":\"a\\u0000b\""), "%s", o.text.data);
	assert_str(at(o.tree.root, "queryStringParameters", "z"), "a");
	assert_str(at(o.tree.root, "body", NULL), "AAH+/w==");
	outputs_free(&o);
}

Test(proxy_event, query_keys_alike_after_replacement_are_one_key)
{
	faas__http_request r = request("GET", "/k", "/k", "%e9=1&%ff=2&\xe9=3", NULL, 0, NULL, 0);
	const cJSON *all;
	outputs o;

	check_same(&r, "GET /k", false);
	build(&o, &r, "GET /k");
	assert_str(at(o.tree.root, "queryStringParameters", "\xef\xbf\xbd"), "3");
	all = at(o.parsed, "multiValueQueryStringParameters", "\xef\xbf\xbd");
	cr_assert_eq(cJSON_GetArraySize(all), 3);
	assert_str(cJSON_GetArrayItem(all, 0), "1");
	assert_str(cJSON_GetArrayItem(all, 2), "3");
	cr_assert_eq(cJSON_GetArraySize(at(o.tree.root, "queryStringParameters", NULL)), 1);
	outputs_free(&o);
}

Test(proxy_event, proxy_path_and_repeated_keys)
{
	static const faas__http_header h[] = {HDR("b", "1"), HDR("A", "2"), HDR("a", "3"),
	                                      HDR("B", "\xe9")};
	faas__http_request r = request("DELETE", "/p/a/b/c\xe9/", "/p/a/b%2fc%e9/",
	                               "x=1&&y&x=%e9&=e&x=3", h, NH(h), "{}", 2);
	outputs o;

	check_same(&r, "ANY /p/{rest+}", false);
	build(&o, &r, "ANY /p/{rest+}");
	assert_str(at(o.tree.root, "pathParameters", "rest"), "a/b/c\xef\xbf\xbd");
	assert_str(at(o.tree.root, "headers", "A"), "3");
	cr_assert_eq(cJSON_GetArraySize(at(o.tree.root, "multiValueQueryStringParameters", "x")),
	             3);
	outputs_free(&o);
}
