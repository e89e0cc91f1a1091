/* The HTTP server's strictness (RFC 9112): every request shape that a
 * lenient parser would accept and another parser could read differently is
 * answered 400 and the connection closed, the handler never running. One
 * test per shape, sent as raw bytes over TCP. */
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "http_client.h"

TestSuite(http_strict, .timeout = 60);

static uv_loop_t loop;
static faas_runtime *rt;
static uint16_t port;
static atomic_int ran;

static int h_count(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	atomic_fetch_add(&ran, 1);
	*result = cJSON_CreateString("ok");
	return 0;
}

static void setup(void)
{
	faas_runtime_options o = th_ropts();
	faas_http_options ho;
	faas_trigger *t;

	atomic_store(&ran, 0);
	o.threads = 2;
	th_loop_init(&loop);
	rt = th_rt_new(&loop, &o);
	cr_assert_eq(faas_http_options_init(&ho, FAAS_HTTP_OPTIONS_VERSION), 0);
	ho.management_api = false;
	cr_assert_eq(faas_trigger_http_new(&t, rt, "web", &ho), 0);
	port = faas_trigger_http_port(t);
	th_register_static(rt, "count", h_count);
	cr_assert_eq(faas_rule_new(NULL, t, "ANY /{p+}", "count"), 0);
	cr_assert_eq(faas_rule_new(NULL, t, "ANY /", "count"), 0);
}

static void teardown(void)
{
	th_rt_free(rt, &loop);
}

/* Send raw bytes; expect exactly one answer, 400, then the close. */
static void refused(const char *raw, size_t len, const char *why)
{
	hc c;

	hc_init(&c, port);
	hc_send(&c, raw, len);
	hc_read(&c, 1);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s: %s", why, c.error);
	cr_assert_eq(c.resp[0].status, 400, "%s: got %d", why, c.resp[0].status);
	cr_assert(strstr(c.resp[0].body, "Bad Request"), "%s", c.resp[0].body);
	cr_assert(strstr(c.resp[0].head, "Connection: close\r\n"));
	cr_assert(c.closed, "%s: the connection stayed open", why);
	cr_assert_eq(c.len, 0, "%s: more was sent after the 400", why);
	cr_assert_eq(atomic_load(&ran), 0, "%s: the handler ran", why);
	hc_free(&c);
}

static void accepted(const char *raw, size_t len)
{
	hc c;

	hc_init(&c, port);
	hc_send(&c, raw, len);
	hc_read(&c, 1);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 200, "got %d: %s", c.resp[0].status, c.resp[0].body);
	hc_free(&c);
}

#define REFUSED(name, raw)                                                                         \
	Test(http_strict, name, .init = setup, .fini = teardown)                                   \
	{                                                                                          \
		static const char r[] = raw;                                                       \
		refused(r, sizeof(r) - 1, #name);                                                  \
	}

#define ACCEPTED(name, raw)                                                                        \
	Test(http_strict, name, .init = setup, .fini = teardown)                                   \
	{                                                                                          \
		static const char r[] = raw;                                                       \
		accepted(r, sizeof(r) - 1);                                                        \
	}

/* The baseline: a correct request passes. */
ACCEPTED(plain_request_passes, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
ACCEPTED(leading_empty_line_is_allowed, "\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n")
ACCEPTED(obs_text_in_a_value_is_allowed, "GET /a HTTP/1.1\r\nHost: x\r\nX: caf\xc3\xa9\r\n\r\n")
ACCEPTED(tab_in_a_value_is_allowed, "GET /a HTTP/1.1\r\nHost: x\r\nX: a\tb\r\n\r\n")
ACCEPTED(chunk_extensions_are_allowed,
         "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5 ; a ; b = c;d=\"q \\\" s\"\r\nhello\r\n0;last\r\n\r\n")
ACCEPTED(uppercase_chunked_is_allowed,
         "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n")
ACCEPTED(absolute_form_target_is_allowed, "GET http://x/a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n")

/* Line endings. */
REFUSED(bare_lf_everywhere, "GET /a HTTP/1.1\nHost: x\n\n")
REFUSED(bare_lf_after_the_request_line, "GET /a HTTP/1.1\nHost: x\r\n\r\n")
REFUSED(bare_lf_in_a_header_line, "GET /a HTTP/1.1\r\nHost: x\nX: y\r\n\r\n")
REFUSED(bare_lf_ending_the_head, "GET /a HTTP/1.1\r\nHost: x\r\n\n")
REFUSED(bare_lf_before_the_request, "\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n")
REFUSED(bare_cr_in_a_header_line, "GET /a HTTP/1.1\r\nHost: x\rX: y\r\n\r\n")
REFUSED(bare_lf_in_a_chunk_size_line,
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n")

/* Folding and header syntax. */
REFUSED(obs_fold_with_space, "GET /a HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n")
REFUSED(obs_fold_with_tab, "GET /a HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n")
REFUSED(whitespace_before_the_first_header, "GET /a HTTP/1.1\r\n Host: x\r\n\r\n")
REFUSED(whitespace_before_the_colon, "GET /a HTTP/1.1\r\nHost : x\r\n\r\n")
REFUSED(empty_header_name, "GET /a HTTP/1.1\r\nHost: x\r\n: y\r\n\r\n")
REFUSED(header_name_with_a_bad_character, "GET /a HTTP/1.1\r\nHost: x\r\nX(y): z\r\n\r\n")

/* Control characters. */
REFUSED(control_character_in_the_target, "GET /a\x01z HTTP/1.1\r\nHost: x\r\n\r\n")
REFUSED(tab_in_the_request_line, "GET\t/a HTTP/1.1\r\nHost: x\r\n\r\n")
REFUSED(nul_in_the_request_line, "GET /a\0z HTTP/1.1\r\nHost: x\r\n\r\n")
REFUSED(high_byte_in_the_target, "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n")
REFUSED(control_character_in_a_value, "GET /a HTTP/1.1\r\nHost: x\r\nX: a\x01z\r\n\r\n")
REFUSED(del_in_a_value, "GET /a HTTP/1.1\r\nHost: x\r\nX: a\x7fz\r\n\r\n")
REFUSED(nul_in_a_value, "GET /a HTTP/1.1\r\nHost: x\r\nX: a\0z\r\n\r\n")
REFUSED(escaped_nul_in_the_path, "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n")

/* The request line. */
REFUSED(double_space_in_the_request_line, "GET  /a HTTP/1.1\r\nHost: x\r\n\r\n")
REFUSED(missing_version, "GET /a\r\nHost: x\r\n\r\n")
REFUSED(version_1_2, "GET /a HTTP/1.2\r\nHost: x\r\n\r\n")
REFUSED(version_2_0, "GET /a HTTP/2.0\r\nHost: x\r\n\r\n")
REFUSED(version_0_9, "GET /a HTTP/0.9\r\nHost: x\r\n\r\n")
REFUSED(version_lowercase, "GET /a http/1.1\r\nHost: x\r\n\r\n")
REFUSED(version_with_extra_digits, "GET /a HTTP/1.10\r\nHost: x\r\n\r\n")
REFUSED(trailing_space_after_the_version, "GET /a HTTP/1.1 \r\nHost: x\r\n\r\n")
REFUSED(connect_method, "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n")

/* Framing headers. */
REFUSED(content_length_with_transfer_encoding,
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n")
REFUSED(transfer_encoding_with_content_length,
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
        "0\r\n\r\n")
REFUSED(repeated_transfer_encoding, "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
REFUSED(transfer_encoding_list,
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
REFUSED(unknown_transfer_encoding,
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n")
REFUSED(chunked_not_last_transfer_encoding,
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n")
REFUSED(transfer_encoding_on_http10,
        "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
REFUSED(duplicate_content_length,
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz")
REFUSED(content_length_list, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\nz")
REFUSED(content_length_signed, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\nz")
REFUSED(content_length_empty, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n")
REFUSED(duplicate_host, "GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
REFUSED(missing_host_on_http11, "GET /a HTTP/1.1\r\nX: y\r\n\r\n")

/* Chunk sizes and extensions. */
#define CHUNKED_HEAD "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
REFUSED(chunk_size_not_hex, CHUNKED_HEAD "zz\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_size_negative, CHUNKED_HEAD "-5\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_size_with_0x, CHUNKED_HEAD "0x5\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_size_empty, CHUNKED_HEAD "\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_size_leading_space, CHUNKED_HEAD " 5\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_size_two_numbers, CHUNKED_HEAD "5 5\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_size_too_many_digits, CHUNKED_HEAD "00000000000000005\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_extension_without_name, CHUNKED_HEAD "5;=x\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_extension_bad_name, CHUNKED_HEAD "5;a@b\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_extension_without_value, CHUNKED_HEAD "5;a=\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_extension_unterminated_quote, CHUNKED_HEAD "5;a=\"x\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_extension_control_character, CHUNKED_HEAD "5;a=b\x01\r\nhello\r\n0\r\n\r\n")
REFUSED(chunk_data_without_crlf, CHUNKED_HEAD "5\r\nhelloX\r\n0\r\n\r\n")
REFUSED(chunk_data_with_bare_lf, CHUNKED_HEAD "5\r\nhello\n0\r\n\r\n")
REFUSED(obs_fold_in_a_trailer, CHUNKED_HEAD "0\r\nT: a\r\n b\r\n\r\n")
REFUSED(bare_lf_in_a_trailer, CHUNKED_HEAD "0\r\nT: a\n\r\n")

Test(http_strict, long_chunk_extension_is_refused, .init = setup, .fini = teardown)
{
	static char req[8192];
	int n = snprintf(req, sizeof(req), CHUNKED_HEAD "5;a=%05000d\r\nhello\r\n0\r\n\r\n", 0);

	refused(req, (size_t)n, "chunk line over the limit");
}

Test(http_strict, smuggled_request_after_a_refusal_is_never_read, .init = setup, .fini = teardown)
{
	/* A classic CL.TE smuggling attempt: whatever the framing, the second
	 * request must not run. */
	static const char r[] = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
	                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /b HTTP/1.1\r\n"
	                        "Host: x\r\n\r\n";

	refused(r, sizeof(r) - 1, "CL.TE");
}

Test(http_strict, answers_before_a_refusal_are_kept, .init = setup, .fini = teardown)
{
	static const char r[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\nHost: x\n\n";
	hc c;

	hc_init(&c, port);
	hc_send(&c, r, sizeof(r) - 1);
	hc_read(&c, 2);
	hc_expect_close(&c);
	hc_run(&c, rt);
	cr_assert_str_empty(c.error, "%s", c.error);
	cr_assert_eq(c.resp[0].status, 200);
	cr_assert_eq(c.resp[1].status, 400);
	cr_assert(c.closed);
	cr_assert_eq(atomic_load(&ran), 1);
	hc_free(&c);
}
