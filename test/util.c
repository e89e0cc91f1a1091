/* util/: the libc-only bottom layer, tested through its internal headers:
 * buf, json, date, pct, hex, heap, sig, clock. cJSON is used only to check
 * that the writer's text parses back to what was written. */
#include <criterion/criterion.h>
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "format.h"
#include "clock.h"
#include "date.h"
#include "heap.h"
#include "hex.h"
#include "json.h"
#include "pct.h"
#include "sig.h"

/* U+FFFD, the replacement character, in UTF-8. */
#define R "\xef\xbf\xbd"

/* Under AddressSanitizer, a huge allocation returns NULL, as without it,
 * instead of aborting: buf's failure path is tested that way. ASan reads
 * this hook at start-up; without ASan it is never called. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* A small deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

/* ================================ buf ================================ */

static void assert_terminated(const faas__buf *b)
{
	if (b->data) {
		cr_assert(b->cap >= b->len + 1);
		cr_assert_eq(b->data[b->len], '\0');
	}
}

Test(buf, init_matches_macro)
{
	faas__buf a = FAAS__BUF_INIT, b;

	memset(&b, 0x5a, sizeof(b));
	faas__buf_init(&b, 0);
	cr_assert_null(b.data);
	cr_assert_eq(a.data, b.data);
	cr_assert_eq(a.len, b.len);
	cr_assert_eq(a.cap, b.cap);
	cr_assert_eq(a.max, b.max);
	cr_assert_eq(a.failed, b.failed);
}

Test(buf, growth_byte_by_byte)
{
	faas__buf b = FAAS__BUF_INIT;

	for (size_t i = 0; i < 100000; i++) {
		faas__buf_append_char(&b, (char)('a' + i % 26));
		cr_assert_eq(b.len, i + 1);
		assert_terminated(&b);
	}
	cr_assert_not(b.failed);
	for (size_t i = 0; i < 100000; i++)
		cr_assert_eq(b.data[i], (char)('a' + i % 26));
	faas__buf_free(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
}

Test(buf, append_bytes_with_nuls)
{
	faas__buf b = FAAS__BUF_INIT;
	static const char bytes[] = {'a', '\0', 'b', '\0'};

	faas__buf_append(&b, bytes, sizeof(bytes));
	faas__buf_append_str(&b, "cd");
	faas__buf_append(&b, NULL, 0);
	cr_assert_eq(b.len, 6);
	cr_assert_eq(memcmp(b.data, "a\0b\0cd", 7), 0);
	faas__buf_free(&b);
}

Test(buf, reserve_keeps_len)
{
	faas__buf b = FAAS__BUF_INIT;

	faas__buf_append_str(&b, "xyz");
	cr_assert(faas__buf_reserve(&b, 5000));
	cr_assert_eq(b.len, 3);
	cr_assert(b.cap >= 5004);
	cr_assert_str_eq(b.data, "xyz");
	cr_assert(faas__buf_reserve(&b, 0));
	faas__buf_free(&b);
}

Test(buf, reserve_overflow_fails)
{
	faas__buf b = FAAS__BUF_INIT;

	faas__buf_append_str(&b, "ok");
	cr_assert_not(faas__buf_reserve(&b, SIZE_MAX));
	cr_assert(b.failed);
	cr_assert_str_eq(b.data, "ok");
	faas__buf_free(&b);

	/* A realloc that cannot succeed: the failure path proper. */
	faas__buf_append_str(&b, "ok");
	cr_assert_not(faas__buf_reserve(&b, SIZE_MAX / 2));
	cr_assert(b.failed);
	cr_assert_str_eq(b.data, "ok");
	cr_assert_eq(b.len, 2);
	faas__buf_free(&b);
}

Test(buf, max_cap_and_failed_is_sticky)
{
	faas__buf b;

	faas__buf_init(&b, 10);
	faas__buf_append(&b, "0123456789", 10);
	cr_assert_not(b.failed);
	cr_assert_eq(b.len, 10);
	cr_assert(b.cap <= 11, "a bounded buffer allocates at most max + 1: %zu", b.cap);
	faas__buf_append_char(&b, 'x');
	cr_assert(b.failed);
	cr_assert_eq(b.len, 10);
	cr_assert_str_eq(b.data, "0123456789");
	/* Sticky: even what would fit is refused now. */
	faas__buf_reset(&b);
	cr_assert_not(b.failed);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.data, "");
	faas__buf_append(&b, "abcdefgh", 8);
	faas__buf_append(&b, "ijk", 3); /* all or nothing: 11 > 10 */
	cr_assert(b.failed);
	cr_assert_str_eq(b.data, "abcdefgh");
	faas__buf_append_char(&b, 'z');
	faas__buf_append_str(&b, "");
	faas__buf_appendf(&b, "%d", 1);
	cr_assert_eq(b.len, 8);
	cr_assert_str_eq(b.data, "abcdefgh");
	cr_assert_null(faas__buf_take(&b, NULL));
	cr_assert_eq(b.max, 10);
	cr_assert_not(b.failed);
	faas__buf_free(&b);
}

Test(buf, max_large)
{
	faas__buf b;

	faas__buf_init(&b, 1000);
	for (int i = 0; i < 1000; i++)
		faas__buf_append_char(&b, 'q');
	cr_assert_not(b.failed);
	cr_assert(b.cap <= 1001);
	faas__buf_append_char(&b, 'q');
	cr_assert(b.failed);
	cr_assert_eq(b.len, 1000);
	assert_terminated(&b);
	faas__buf_free(&b);
}

Test(buf, appendf_short_and_long)
{
	faas__buf b = FAAS__BUF_INIT;
	char *big = malloc(100001);
	size_t len;
	char *text;

	memset(big, 'L', 100000);
	big[100000] = '\0';
	faas__buf_appendf(&b, "%s=%d;", "n", 42);
	cr_assert_str_eq(b.data, "n=42;");
	/* Fits in the spare room: formatted once. */
	faas__buf_appendf(&b, "%c", 'x');
	cr_assert_str_eq(b.data, "n=42;x");
	faas__buf_appendf(&b, "[%s]", big);
	cr_assert_eq(b.len, 6 + 100002);
	cr_assert_eq(b.data[6], '[');
	cr_assert_eq(b.data[7 + 99999], 'L');
	cr_assert_eq(b.data[b.len - 1], ']');
	assert_terminated(&b);
	faas__buf_appendf(&b, "%s", "");
	cr_assert_eq(b.len, 6 + 100002);
	text = faas__buf_take(&b, &len);
	cr_assert_eq(len, 6 + 100002);
	cr_assert_eq(strlen(text), len);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	free(text);
	free(big);
}

Test(buf, appendf_past_max)
{
	faas__buf b;

	faas__buf_init(&b, 16);
	faas__buf_appendf(&b, "%s", "0123456789");
	/* The room left is larger than 6 bytes, but the text would pass max. */
	cr_assert(faas__buf_reserve(&b, 0));
	faas__buf_appendf(&b, "%s", "abcdefg");
	cr_assert(b.failed);
	cr_assert_eq(b.len, 10);
	cr_assert_str_eq(b.data, "0123456789");
	faas__buf_free(&b);

	/* Where the spare room is too small but max is not reached. */
	faas__buf_init(&b, 0);
	faas__buf_append_str(&b, "x");
	faas__buf_appendf(&b, "%0500d", 7);
	cr_assert_not(b.failed);
	cr_assert_eq(b.len, 501);
	cr_assert_eq(b.data[500], '7');
	faas__buf_free(&b);
}

Test(buf, take_empty_and_reuse)
{
	faas__buf b = FAAS__BUF_INIT;
	size_t len = 99;
	char *s = faas__buf_take(&b, &len);

	cr_assert_not_null(s);
	cr_assert_str_eq(s, "");
	cr_assert_eq(len, 0);
	free(s);
	faas__buf_append_str(&b, "again");
	s = faas__buf_take(&b, NULL);
	cr_assert_str_eq(s, "again");
	free(s);
	faas__buf_free(&b);
	faas__buf_free(&b);
	faas__buf_free(NULL);
}

Test(buf, reset_keeps_memory)
{
	faas__buf b = FAAS__BUF_INIT;
	char *data;
	size_t cap;

	faas__buf_append_str(&b, "some text that needs memory");
	data = b.data;
	cap = b.cap;
	faas__buf_reset(&b);
	cr_assert_eq(b.data, data);
	cr_assert_eq(b.cap, cap);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.data, "");
	faas__buf_free(&b);
}

/* ================================ json =============================== */

/* s (n bytes) escaped, as a malloc()ed string. */
static char *esc(const char *s, size_t n)
{
	faas__buf b = FAAS__BUF_INIT;
	char *out;

	faas__json_escape(&b, s, n);
	out = faas__buf_take(&b, NULL);
	cr_assert_not_null(out);
	return out;
}

/* The escaped form of in is "expect" exactly, parses with cJSON, and the
 * writer's text is valid UTF-8. */
static void check_escape(const char *in, size_t n, const char *expect)
{
	char *got = esc(in, n);
	size_t qlen = strlen(expect) + 3;
	char *quoted = malloc(qlen);
	cJSON *j;

	cr_assert_not_null(quoted);
	snprintf(quoted, qlen, "\"%s\"", expect);
	cr_assert_str_eq(got, quoted);
	cr_assert(faas__utf8_valid(got, strlen(got)));
	j = cJSON_Parse(got);
	cr_assert_not_null(j, "cJSON cannot parse %s", got);
	cr_assert(cJSON_IsString(j));
	cJSON_Delete(j);
	free(quoted);
	free(got);
}

#define CHECK(lit, expect) check_escape((lit), sizeof(lit) - 1, (expect))

Test(json, every_control_byte)
{
	for (int c = 0; c < 0x20; c++) {
		char in[1] = {(char)c}, expect[8];

		switch (c) {
		case '\b':
			strcpy(expect, "\\b");
			break;
		case '\f':
			strcpy(expect, "\\f");
			break;
		case '\n':
			strcpy(expect, "\\n");
			break;
		case '\r':
			strcpy(expect, "\\r");
			break;
		case '\t':
			strcpy(expect, "\\t");
			break;
		default:
			snprintf(expect, sizeof(expect), "\\u%04x", (unsigned int)c);
			break;
		}
		check_escape(in, 1, expect);
	}
	CHECK("\x1f", "\\u001f");
	CHECK("\x0b", "\\u000b");
}

Test(json, control_bytes_as_cjson_prints_them)
{
	for (int c = 1; c < 0x80; c++) {
		char in[2] = {(char)c, '\0'};
		cJSON *s = cJSON_CreateString(in);
		char *theirs = cJSON_PrintUnformatted(s), *ours = esc(in, 1);
		cJSON *back = cJSON_Parse(ours);

		cr_assert_str_eq(ours, theirs, "byte 0x%02x", (unsigned int)c);
		cr_assert_not_null(back);
		cr_assert_str_eq(back->valuestring, in);
		cJSON_Delete(back);
		cJSON_Delete(s);
		free(theirs);
		free(ours);
	}
}

Test(json, nul_del_quote_backslash)
{
	CHECK("a\0b", "a\\u0000b");
	CHECK("\x7f", "\x7f");
	CHECK("\"", "\\\"");
	CHECK("\\", "\\\\");
	CHECK("say \"hi\"\\n", "say \\\"hi\\\"\\\\n");
	CHECK("", "");
	CHECK("/", "/");
}

Test(json, valid_utf8_unchanged)
{
	static const char *const valid[] = {
	    "\xc2\x80",         /* U+0080 */
	    "\xc3\xa9",         /* U+00E9 */
	    "\xdf\xbf",         /* U+07FF */
	    "\xe0\xa0\x80",     /* U+0800 */
	    "\xe2\x82\xac",     /* U+20AC */
	    "\xed\x9f\xbf",     /* U+D7FF */
	    "\xee\x80\x80",     /* U+E000 */
	    "\xef\xbf\xbd",     /* U+FFFD */
	    "\xef\xbf\xbf",     /* U+FFFF */
	    "\xf0\x90\x80\x80", /* U+10000 */
	    "\xf0\x9f\x98\x80", /* U+1F600 */
	    "\xf3\xbf\xbf\xbf", /* U+FFFFF */
	    "\xf4\x8f\xbf\xbf", /* U+10FFFF */
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		cJSON *j;
		char *got;

		check_escape(valid[i], strlen(valid[i]), valid[i]);
		cr_assert(faas__utf8_valid(valid[i], strlen(valid[i])));
		got = esc(valid[i], strlen(valid[i]));
		j = cJSON_Parse(got);
		cr_assert_str_eq(j->valuestring, valid[i]);
		cJSON_Delete(j);
		free(got);
	}
}

Test(json, invalid_shapes)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    /* lone continuation bytes */
	    {"\x80", R},
	    {"\xbf", R},
	    {"a\x80z", "a" R "z"},
	    {"\x80\x80", R R},
	    /* bytes that never start a character */
	    {"\xc0\x80", R R}, /* overlong NUL */
	    {"\xc1\xbf", R R},
	    {"\xf5", R},
	    {"\xf5\x80\x80\x80", R R R R},
	    {"\xfe", R},
	    {"\xff", R},
	    /* overlong three and four bytes */
	    {"\xe0\x80\x80", R R R},
	    {"\xe0\x9f\xbf", R R R},
	    {"\xf0\x80\x80\x80", R R R R},
	    {"\xf0\x8f\xbf\xbf", R R R R},
	    /* surrogates */
	    {"\xed\xa0\x80", R R R},
	    {"\xed\xbf\xbf", R R R},
	    {"\xed\xa0\x80\xed\xb0\x80", R R R R R R}, /* a CESU-8 pair */
	    /* past U+10FFFF */
	    {"\xf4\x90\x80\x80", R R R R},
	    {"\xf7\xbf\xbf\xbf", R R R R},
	    /* truncated at the end: one U+FFFD for the whole prefix */
	    {"a\xc3", "a" R},
	    {"a\xe2\x82", "a" R},
	    {"a\xe2", "a" R},
	    {"a\xf0\x9f\x98", "a" R},
	    {"\xf0\x9f", R},
	    {"\xf0", R},
	    /* truncated in the middle */
	    {"\xe2\x82z", R "z"},
	    {"\xc3\xc3\xa9", R "\xc3\xa9"},
	    {"\xe2\x82\xe2\x82\xac", R "\xe2\x82\xac"},
	    {"\xf0\x9f\x98\xf0\x9f\x98\x80", R "\xf0\x9f\x98\x80"},
	    {"\xe2\x82\"", R "\\\""},
	    {"\xc3\n", R "\\n"},
	    {"\xf0\x9f\x98\x01", R "\\u0001"},
	    {"\xe1\x80\xe1\x80", R R},
	    /* Unicode 15 ch. 3, table 3-8 and the examples around it */
	    {"\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", "a" R R R "b" R "c" R R "d"},
	    {"\xc0\xaf\xe0\x80\xbf\xf0\x81\x82\x41", R R R R R R R R "A"},
	    {"\xed\xa0\x80\xed\xbf\xbf\xed\xaf\x41", R R R R R R R R "A"},
	    {"\xf4\x91\x92\x93\xff\x41\x80\xbf\x42", R R R R R "A" R R "B"},
	    {"\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41", R R R R "A"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_escape(cases[i].in, strlen(cases[i].in), cases[i].out);
		cr_assert_not(faas__utf8_valid(cases[i].in, strlen(cases[i].in)), "case %zu", i);
	}
}

Test(json, utf8_valid)
{
	cr_assert(faas__utf8_valid("", 0));
	cr_assert(faas__utf8_valid("a\0b", 3));
	cr_assert(faas__utf8_valid("\x7f", 1));
	cr_assert(faas__utf8_valid("\xf4\x8f\xbf\xbf", 4));
	cr_assert_not(faas__utf8_valid("\xf4\x8f\xbf", 3));
	cr_assert_not(faas__utf8_valid("\xf4\x8f\xbf\xbf", 3));
	cr_assert(faas__utf8_valid("\xe2\x82\xac", 3));
	cr_assert_not(faas__utf8_valid("\xe2\x82\xac", 2));
}

/* A reference decoder written the slow way: code point by code point, with
 * the RFC 3629 ranges. Returns whether s is valid. */
static bool slow_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			k = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			k = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			k = 4;
			cp = s[i] & 0x07;
		} else {
			return false;
		}
		if (i + k > n)
			return false;
		for (size_t j = 1; j < k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k;
	}
	return true;
}

Test(json, random_bytes)
{
	/* Bytes drawn mostly from the interesting ranges, so that valid and
	 * invalid sequences of every length come up often. */
	static const unsigned char pool[] = {'a',  '"',  '\\', '\n', 0x01, 0x7f, 0x80, 0x8f,
	                                     0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0,
	                                     0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff};

	for (int round = 0; round < 20000; round++) {
		unsigned char in[12];
		size_t n = (size_t)(rng() % sizeof(in));
		char *got;
		cJSON *j;
		bool valid;

		for (size_t i = 0; i < n; i++)
			in[i] = pool[rng() % sizeof(pool)];
		valid = slow_valid(in, n);
		cr_assert_eq(faas__utf8_valid((const char *)in, n), valid);
		got = esc((const char *)in, n);
		cr_assert(faas__utf8_valid(got, strlen(got)));
		j = cJSON_Parse(got);
		cr_assert_not_null(j, "cJSON cannot parse %s", got);
		if (valid) {
			/* Valid text: what cJSON itself prints, and parses back. */
			char cstr[sizeof(in) + 1];
			cJSON *s;
			char *theirs;

			memcpy(cstr, in, n);
			cstr[n] = '\0';
			s = cJSON_CreateString(cstr);
			theirs = cJSON_PrintUnformatted(s);
			cr_assert_str_eq(got, theirs);
			cr_assert_str_eq(j->valuestring, cstr);
			free(theirs);
			cJSON_Delete(s);
		} else {
			cr_assert_not_null(strstr(got, R));
		}
		cJSON_Delete(j);
		free(got);
	}
}

Test(json, escape_into_bounded_buffer)
{
	faas__buf b;

	/* 4 bytes that become 12: the buffer fits the real text exactly. */
	faas__buf_init(&b, 14);
	faas__json_escape(&b, "\x01\x02", 2);
	cr_assert_not(b.failed);
	cr_assert_str_eq(b.data, "\"\\u0001\\u0002\"");
	faas__buf_free(&b);

	faas__buf_init(&b, 13);
	faas__json_escape(&b, "\x01\x02", 2);
	cr_assert(b.failed);
	faas__buf_free(&b);
}

/* The writer's text, which must also be what cJSON parses back. */
static char *finish(faas__json *w, faas__buf *b)
{
	char *s;
	cJSON *j;

	cr_assert(faas__json_done(w));
	s = faas__buf_take(b, NULL);
	cr_assert_not_null(s);
	j = cJSON_Parse(s);
	cr_assert_not_null(j, "cJSON cannot parse %s", s);
	cJSON_Delete(j);
	return s;
}

static char *one_value(void (*write)(faas__json *, const void *), const void *arg)
{
	faas__buf b = FAAS__BUF_INIT;
	faas__json w;

	faas__json_init(&w, &b);
	write(&w, arg);
	return finish(&w, &b);
}

static void write_i64(faas__json *w, const void *v)
{
	faas__json_int64(w, *(const int64_t *)v);
}

static void write_u64(faas__json *w, const void *v)
{
	faas__json_uint64(w, *(const uint64_t *)v);
}

static void write_dbl(faas__json *w, const void *v)
{
	faas__json_double(w, *(const double *)v);
}

static void check_i64(int64_t v, const char *expect)
{
	char *s = one_value(write_i64, &v);

	cr_assert_str_eq(s, expect);
	free(s);
}

static void check_u64(uint64_t v, const char *expect)
{
	char *s = one_value(write_u64, &v);

	cr_assert_str_eq(s, expect);
	free(s);
}

static void check_dbl(double v, const char *expect)
{
	char *s = one_value(write_dbl, &v);

	cr_assert_str_eq(s, expect);
	free(s);
}

Test(json, integers)
{
	check_i64(0, "0");
	check_i64(-1, "-1");
	check_i64(7, "7");
	check_i64(INT64_MAX, "9223372036854775807");
	check_i64(INT64_MIN, "-9223372036854775808");
	check_u64(0, "0");
	check_u64(10, "10");
	check_u64(UINT64_MAX, "18446744073709551615");
	for (int i = 0; i < 1000; i++) {
		int64_t v = (int64_t)rng();
		char expect[32];

		snprintf(expect, sizeof(expect), "%lld", (long long)v);
		check_i64(v, expect);
	}
}

Test(json, doubles)
{
	check_dbl(0.0, "0");
	check_dbl(-0.0, "-0");
	check_dbl(1.0, "1");
	check_dbl(-1.5, "-1.5");
	check_dbl(0.1, "0.1");
	check_dbl(1e300, "1e+300");
	check_dbl(1e-300, "1e-300");
	check_dbl(123.456, "123.456");
	check_dbl(9007199254740992.0, "9007199254740992");
	check_dbl(1.0 / 3.0, "0.3333333333333333");
	check_dbl(0.1 + 0.2, "0.30000000000000004");
	check_dbl(DBL_MAX, "1.7976931348623157e+308");
	check_dbl(5e-324, "4.94065645841247e-324"); /* any nearby text reads back */
	check_dbl(2.0 / 3.0, "0.6666666666666666");
	check_dbl(1e23, "1e+23");
	check_dbl(0.1 + 0.7, "0.7999999999999999");
	check_dbl(NAN, "null");
	check_dbl(INFINITY, "null");
	check_dbl(-INFINITY, "null");
}

Test(json, doubles_round_trip)
{
	for (int i = 0; i < 20000; i++) {
		uint64_t bits = rng();
		double v, back;
		char *s;

		memcpy(&v, &bits, sizeof(v));
		s = one_value(write_dbl, &v);
		if (!isfinite(v)) {
			cr_assert_str_eq(s, "null");
		} else {
			char *end;

			back = strtod(s, &end);
			cr_assert_eq(*end, '\0');
			cr_assert(back == v, "%s does not read back as %a", s, v);
			/* The first of %.15g, %.16g, %.17g that reads back. */
			char want[64];

			for (int prec = 15; prec <= 17; prec++) {
				snprintf(want, sizeof(want), "%.*g", prec, v);
				if (strtod(want, NULL) == v)
					break;
			}
			cr_assert_str_eq(s, want);
		}
		free(s);
	}
}

/* A locale whose decimal point is ',': an installed one, else one compiled
 * with localedef into a temporary LOCPATH (Debian ships the sources). */
static bool comma_locale(char *dir, size_t size)
{
	static const char *const locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
	                                      "fr_FR.utf8"};
	char cmd[256];

	for (size_t i = 0; i < sizeof(locales) / sizeof(locales[0]); i++)
		if (setlocale(LC_NUMERIC, locales[i]))
			return true;
	snprintf(dir, size, "/tmp/faas-util-locale-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	snprintf(cmd, sizeof(cmd), "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1",
	         dir);
	if (system(cmd) != 0)
		return false;
	setenv("LOCPATH", dir, 1);
	return setlocale(LC_NUMERIC, "de_DE.UTF-8") != NULL;
}

Test(json, doubles_ignore_the_locale, .timeout = 60)
{
	char dir[64] = "", cmd[128];
	bool found = comma_locale(dir, sizeof(dir));
	char text[16];

	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		cr_assert_eq(system(cmd), 0);
	}
	if (!found)
		cr_skip_test("no locale with a decimal comma, and localedef could not make one");
	/* The locale is loaded: it stays after its files are gone. */
	snprintf(text, sizeof(text), "%.1f", 0.5);
	cr_assert_str_eq(text, "0,5");
	check_dbl(0.1, "0.1");
	check_dbl(-2.5e-10, "-2.5e-10");
	check_dbl(1.0 / 3.0, "0.3333333333333333");
	check_dbl(12345.678, "12345.678");
	setlocale(LC_NUMERIC, "C");
}

Test(json, nesting_and_commas)
{
	faas__buf b = FAAS__BUF_INIT;
	faas__json w;
	char *s;

	faas__json_init(&w, &b);
	cr_assert_not(faas__json_done(&w));
	faas__json_begin_object(&w);
	faas__json_key_str(&w, "a");
	faas__json_int64(&w, 1);
	faas__json_key(&w, "b\0", 2);
	faas__json_begin_array(&w);
	faas__json_uint64(&w, 1);
	faas__json_string(&w, "two", 3);
	faas__json_begin_object(&w);
	faas__json_key_str(&w, "c");
	faas__json_null(&w);
	faas__json_key_str(&w, "d");
	faas__json_bool(&w, true);
	faas__json_end_object(&w);
	faas__json_begin_array(&w);
	faas__json_end_array(&w);
	faas__json_begin_object(&w);
	faas__json_end_object(&w);
	faas__json_bool(&w, false);
	faas__json_end_array(&w);
	faas__json_key_str(&w, "e\"");
	faas__json_raw(&w, "{\"x\":[1,2]}", 11);
	faas__json_key_str(&w, "f");
	faas__json_cstring(&w, NULL);
	faas__json_key_str(&w, "g");
	faas__json_cstring(&w, "\xe9t\xe9");
	faas__json_key_str(&w, "h");
	faas__json_double(&w, 2.5);
	cr_assert_not(faas__json_done(&w));
	faas__json_end_object(&w);
	s = finish(&w, &b);
	cr_assert_str_eq(s, "{\"a\":1,\"b\\u0000\":[1,\"two\",{\"c\":null,\"d\":true},[],{},false],"
	                    "\"e\\\"\":{\"x\":[1,2]},\"f\":null,\"g\":\"" R "t" R "\",\"h\":2.5}");
	free(s);
}

Test(json, top_level_scalars_and_arrays)
{
	faas__buf b = FAAS__BUF_INIT;
	faas__json w;
	char *s;

	faas__buf_append_str(&b, "prefix:");
	faas__json_init(&w, &b);
	faas__json_begin_array(&w);
	for (int i = 0; i < 5; i++)
		faas__json_int64(&w, i);
	faas__json_end_array(&w);
	cr_assert(faas__json_done(&w));
	s = faas__buf_take(&b, NULL);
	cr_assert_str_eq(s, "prefix:[0,1,2,3,4]");
	free(s);

	faas__json_init(&w, &b);
	faas__json_string(&w, "x", 1);
	s = finish(&w, &b);
	cr_assert_str_eq(s, "\"x\"");
	free(s);
}

/* Each misuse marks the buffer failed. */
static void misuse_key_in_array(faas__json *w)
{
	faas__json_begin_array(w);
	faas__json_key_str(w, "k");
}

static void misuse_value_without_key(faas__json *w)
{
	faas__json_begin_object(w);
	faas__json_int64(w, 1);
}

static void misuse_two_keys(faas__json *w)
{
	faas__json_begin_object(w);
	faas__json_key_str(w, "a");
	faas__json_key_str(w, "b");
}

static void misuse_end_after_key(faas__json *w)
{
	faas__json_begin_object(w);
	faas__json_key_str(w, "a");
	faas__json_end_object(w);
}

static void misuse_wrong_end(faas__json *w)
{
	faas__json_begin_object(w);
	faas__json_end_array(w);
}

static void misuse_end_at_top(faas__json *w)
{
	faas__json_end_object(w);
}

static void misuse_key_at_top(faas__json *w)
{
	faas__json_key_str(w, "a");
}

static void misuse_two_values(faas__json *w)
{
	faas__json_int64(w, 1);
	faas__json_int64(w, 2);
}

static void misuse_too_deep(faas__json *w)
{
	for (unsigned int i = 0; i <= FAAS__JSON_DEPTH_MAX; i++)
		faas__json_begin_array(w);
}

Test(json, misuse_fails)
{
	void (*const misuses[])(faas__json *) = {
	    misuse_key_in_array,  misuse_value_without_key, misuse_two_keys,
	    misuse_end_after_key, misuse_wrong_end,         misuse_end_at_top,
	    misuse_key_at_top,    misuse_two_values,        misuse_too_deep,
	};

	for (size_t i = 0; i < sizeof(misuses) / sizeof(misuses[0]); i++) {
		faas__buf b = FAAS__BUF_INIT;
		faas__json w;

		faas__json_init(&w, &b);
		misuses[i](&w);
		cr_assert(b.failed, "misuse %zu was not caught", i);
		cr_assert_not(faas__json_done(&w));
		cr_assert_null(faas__buf_take(&b, NULL));
	}
}

Test(json, deepest_nesting)
{
	faas__buf b = FAAS__BUF_INIT;
	faas__json w;
	char *s;

	faas__json_init(&w, &b);
	for (unsigned int i = 0; i < FAAS__JSON_DEPTH_MAX; i++) {
		faas__json_begin_object(&w);
		faas__json_key_str(&w, "k");
	}
	faas__json_begin_array(&w);
	cr_assert(b.failed); /* one past */
	faas__buf_free(&b);

	faas__json_init(&w, &b);
	for (unsigned int i = 0; i < FAAS__JSON_DEPTH_MAX; i++) {
		faas__json_begin_array(&w);
		if (i % 2)
			faas__json_int64(&w, i);
	}
	for (unsigned int i = 0; i < FAAS__JSON_DEPTH_MAX; i++)
		faas__json_end_array(&w);
	s = finish(&w, &b);
	cr_assert_eq(strncmp(s, "[[1,[[3,[", 9), 0, "%s", s);
	free(s);
}

Test(json, writer_on_failed_buffer)
{
	faas__buf b;
	faas__json w;

	faas__buf_init(&b, 8);
	faas__json_init(&w, &b);
	faas__json_begin_object(&w);
	faas__json_key_str(&w, "long key");
	faas__json_string(&w, "v", 1);
	faas__json_end_object(&w);
	cr_assert(b.failed);
	cr_assert_not(faas__json_done(&w));
	cr_assert(b.len <= 8);
	assert_terminated(&b);
	faas__buf_free(&b);
}

/* A random document written with the writer and with cJSON: the same text. */
static cJSON *random_doc(faas__json *w, int depth)
{
	int kind = (int)(rng() % (depth > 3 ? 5 : 7));
	char str[8];
	size_t n = (size_t)(rng() % sizeof(str));

	for (size_t i = 0; i < n; i++)
		str[i] = (char)(1 + rng() % 0x7f);
	str[n] = '\0';
	switch (kind) {
	case 0:
		faas__json_null(w);
		return cJSON_CreateNull();
	case 1:
		faas__json_bool(w, n % 2);
		return cJSON_CreateBool(n % 2);
	case 2:
		faas__json_int64(w, (int64_t)n - 3);
		return cJSON_CreateNumber((double)n - 3);
	case 3:
	case 4:
		faas__json_cstring(w, str);
		return cJSON_CreateString(str);
	case 5: {
		cJSON *a = cJSON_CreateArray();

		faas__json_begin_array(w);
		for (size_t i = 0; i < n % 4; i++)
			cJSON_AddItemToArray(a, random_doc(w, depth + 1));
		faas__json_end_array(w);
		return a;
	}
	default: {
		cJSON *o = cJSON_CreateObject();

		faas__json_begin_object(w);
		for (size_t i = 0; i < n % 4; i++) {
			char key[4] = {(char)('a' + i), str[0] ? str[0] : 'z', '\0', '\0'};

			faas__json_key_str(w, key);
			cJSON_AddItemToObject(o, key, random_doc(w, depth + 1));
		}
		faas__json_end_object(w);
		return o;
	}
	}
}

Test(json, same_text_as_cjson)
{
	for (int round = 0; round < 2000; round++) {
		faas__buf b = FAAS__BUF_INIT;
		faas__json w;
		cJSON *doc;
		char *ours, *theirs;

		faas__json_init(&w, &b);
		doc = random_doc(&w, 0);
		ours = finish(&w, &b);
		theirs = cJSON_PrintUnformatted(doc);
		cr_assert_str_eq(ours, theirs);
		free(ours);
		free(theirs);
		cJSON_Delete(doc);
	}
}

/* ================================ date =============================== */

typedef struct date_case {
	int64_t unix_s;
	const char *imf, *iso, *apigw;
} date_case;

Test(date, known_instants)
{
	static const date_case cases[] = {
	    {0, "Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z",
	     "01/Jan/1970:00:00:00 +0000"},
	    {784111777, "Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z",
	     "06/Nov/1994:08:49:37 +0000"},
	    {951827696, "Tue, 29 Feb 2000 12:34:56 GMT", "2000-02-29T12:34:56Z",
	     "29/Feb/2000:12:34:56 +0000"},
	    {1735689599, "Tue, 31 Dec 2024 23:59:59 GMT", "2024-12-31T23:59:59Z",
	     "31/Dec/2024:23:59:59 +0000"},
	    {1796409000, "Fri, 04 Dec 2026 18:30:00 GMT", "2026-12-04T18:30:00Z",
	     "04/Dec/2026:18:30:00 +0000"},
	    {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT", "2038-01-19T03:14:07Z",
	     "19/Jan/2038:03:14:07 +0000"},
	    {2147483648, "Tue, 19 Jan 2038 03:14:08 GMT", "2038-01-19T03:14:08Z",
	     "19/Jan/2038:03:14:08 +0000"},
	    {-1, "Wed, 31 Dec 1969 23:59:59 GMT", "1969-12-31T23:59:59Z",
	     "31/Dec/1969:23:59:59 +0000"},
	    {-62135596800, "Mon, 01 Jan 0001 00:00:00 GMT", "0001-01-01T00:00:00Z",
	     "01/Jan/0001:00:00:00 +0000"},
	    {-62167219200, "Sat, 01 Jan 0000 00:00:00 GMT", "0000-01-01T00:00:00Z",
	     "01/Jan/0000:00:00:00 +0000"},
	    {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT", "9999-12-31T23:59:59Z",
	     "31/Dec/9999:23:59:59 +0000"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char imf[FAAS__DATE_IMF_SIZE], iso[FAAS__DATE_ISO_SIZE];
		char apigw[FAAS__DATE_APIGW_SIZE];

		cr_assert_eq(faas__date_imf(imf, cases[i].unix_s), FAAS__DATE_IMF_SIZE - 1);
		cr_assert_str_eq(imf, cases[i].imf);
		cr_assert_eq(faas__date_iso(iso, cases[i].unix_s), FAAS__DATE_ISO_SIZE - 1);
		cr_assert_str_eq(iso, cases[i].iso);
		cr_assert_eq(faas__date_apigw(apigw, cases[i].unix_s), FAAS__DATE_APIGW_SIZE - 1);
		cr_assert_str_eq(apigw, cases[i].apigw);
	}
}

Test(date, milliseconds)
{
	char out[FAAS__DATE_ISO_MS_SIZE];

	cr_assert_eq(faas__date_iso_ms(out, 0), FAAS__DATE_ISO_MS_SIZE - 1);
	cr_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
	faas__date_iso_ms(out, 1796409000123);
	cr_assert_str_eq(out, "2026-12-04T18:30:00.123Z");
	faas__date_iso_ms(out, 951827696009);
	cr_assert_str_eq(out, "2000-02-29T12:34:56.009Z");
	faas__date_iso_ms(out, 2147483648999);
	cr_assert_str_eq(out, "2038-01-19T03:14:08.999Z");
	faas__date_iso_ms(out, -1);
	cr_assert_str_eq(out, "1969-12-31T23:59:59.999Z");
	faas__date_iso_ms(out, 253402300799999);
	cr_assert_str_eq(out, "9999-12-31T23:59:59.999Z");
	faas__date_iso_ms(out, 1050);
	cr_assert_str_eq(out, "1970-01-01T00:00:01.050Z");
}

Test(date, out_of_range_years)
{
	static const int64_t bad[] = {253402300800, -62167219201, INT64_MAX, INT64_MIN};
	char imf[FAAS__DATE_IMF_SIZE], iso[FAAS__DATE_ISO_SIZE], ms[FAAS__DATE_ISO_MS_SIZE];
	char apigw[FAAS__DATE_APIGW_SIZE];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(imf, 'x', sizeof(imf));
		cr_assert_eq(faas__date_imf(imf, bad[i]), 0);
		cr_assert_str_eq(imf, "");
		cr_assert_eq(faas__date_iso(iso, bad[i]), 0);
		cr_assert_str_eq(iso, "");
		cr_assert_eq(faas__date_apigw(apigw, bad[i]), 0);
		cr_assert_str_eq(apigw, "");
	}
	cr_assert_eq(faas__date_iso_ms(ms, 253402300800000), 0);
	cr_assert_str_eq(ms, "");
	cr_assert_eq(faas__date_iso_ms(ms, -62167219200001), 0);
	cr_assert_eq(faas__date_iso_ms(ms, INT64_MIN), 0);
	cr_assert_eq(faas__date_iso_ms(ms, INT64_MAX), 0);
	cr_assert_eq(faas__date_iso_ms(ms, -62167219200000), FAAS__DATE_ISO_MS_SIZE - 1);
	cr_assert_str_eq(ms, "0000-01-01T00:00:00.000Z");
}

Test(date, leap_years_and_month_lengths)
{
	cr_assert(faas__is_leap(2000));
	cr_assert(faas__is_leap(2024));
	cr_assert(faas__is_leap(0));
	cr_assert(faas__is_leap(-4));
	cr_assert_not(faas__is_leap(1900));
	cr_assert_not(faas__is_leap(2100));
	cr_assert_not(faas__is_leap(2023));
	cr_assert_eq(faas__days_in_month(2000, 2), 29);
	cr_assert_eq(faas__days_in_month(1900, 2), 28);
	cr_assert_eq(faas__days_in_month(2023, 1), 31);
	cr_assert_eq(faas__days_in_month(2023, 4), 30);
	cr_assert_eq(faas__days_in_month(2023, 12), 31);
	cr_assert_eq(faas__days_in_month(2023, 0), 0);
	cr_assert_eq(faas__days_in_month(2023, 13), 0);
}

Test(date, days_from_civil_anchors)
{
	int64_t y;
	int m, d;

	cr_assert_eq(faas__days_from_civil(1970, 1, 1), 0);
	cr_assert_eq(faas__days_from_civil(1969, 12, 31), -1);
	cr_assert_eq(faas__days_from_civil(2000, 3, 1), 11017);
	cr_assert_eq(faas__days_from_civil(0, 1, 1), -719528);
	cr_assert_eq(faas__days_from_civil(10000, 1, 1), 2932897);
	cr_assert_eq(faas__days_from_civil(2023, 2, 29), faas__days_from_civil(2023, 3, 1));
	faas__civil_from_days(-719528, &y, &m, &d);
	cr_assert(y == 0 && m == 1 && d == 1);
	faas__civil_from_days(-719529, &y, &m, &d);
	cr_assert(y == -1 && m == 12 && d == 31);
	cr_assert_eq(faas__weekday_from_days(0), 4);
	cr_assert_eq(faas__weekday_from_days(-1), 3);
	cr_assert_eq(faas__weekday_from_days(3), 0);
	cr_assert_eq(faas__weekday_from_days(-719528), 6);
}

/* Every day of years 0..9999, against gmtime_r and back. */
Test(date, every_day_against_gmtime, .timeout = 60)
{
	int64_t first = faas__days_from_civil(0, 1, 1), end = faas__days_from_civil(10000, 1, 1);

	for (int64_t days = first; days < end; days++) {
		int64_t secs = (int64_t)(rng() % 86400);
		time_t t = (time_t)(days * 86400 + secs);
		struct tm tm;
		faas__civil c;
		int64_t y;
		int m, d;

		cr_assert_not_null(gmtime_r(&t, &tm));
		faas__civil_from_days(days, &y, &m, &d);
		cr_assert(y == tm.tm_year + 1900 && m == tm.tm_mon + 1 && d == tm.tm_mday,
		          "day %lld", (long long)days);
		cr_assert_eq(faas__weekday_from_days(days), tm.tm_wday);
		cr_assert_eq(faas__days_from_civil(y, m, d), days);
		faas__civil_from_unix(&c, (int64_t)t);
		cr_assert(c.year == y && c.month == m && c.day == d && c.hour == tm.tm_hour &&
		          c.minute == tm.tm_min && c.second == tm.tm_sec &&
		          c.weekday == tm.tm_wday);
		cr_assert_eq(faas__unix_from_civil(&c), (int64_t)t);
	}
}

Test(date, far_days_round_trip)
{
	for (int64_t days = -400000000; days < 400000000; days += 9973) {
		int64_t y;
		int m, d;

		faas__civil_from_days(days, &y, &m, &d);
		cr_assert(m >= 1 && m <= 12 && d >= 1 && d <= faas__days_in_month(y, m));
		cr_assert_eq(faas__days_from_civil(y, m, d), days);
	}
}

/* The texts against strftime in the C locale, at random instants of years
 * 1000..9999 (glibc's %Y does not pad smaller years to four digits). */
Test(date, texts_against_strftime)
{
	int64_t first = faas__days_from_civil(1000, 1, 1) * 86400;
	int64_t span =
	    (faas__days_from_civil(10000, 1, 1) - faas__days_from_civil(1000, 1, 1)) * 86400;

	for (int i = 0; i < 100000; i++) {
		int64_t s = first + (int64_t)(rng() % (uint64_t)span);
		unsigned int ms = (unsigned int)(rng() % 1000);
		time_t t = (time_t)s;
		struct tm tm;
		char want[64], got[FAAS__DATE_IMF_SIZE], iso[FAAS__DATE_ISO_SIZE];
		char ims[FAAS__DATE_ISO_MS_SIZE], api[FAAS__DATE_APIGW_SIZE];

		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		faas__date_imf(got, s);
		cr_assert_str_eq(got, want);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		faas__date_iso(iso, s);
		cr_assert_str_eq(iso, want);
		snprintf(want + 19, sizeof(want) - 19, ".%03uZ", ms);
		faas__date_iso_ms(ims, s * 1000 + ms);
		cr_assert_str_eq(ims, want);
		strftime(want, sizeof(want), "%d/%b/%Y:%H:%M:%S +0000", &tm);
		faas__date_apigw(api, s);
		cr_assert_str_eq(api, want);
	}
}

/* ================================ pct ================================ */

typedef struct pct_case {
	const char *in;
	unsigned int flags;
	const char *out; /* NULL: an error */
	size_t out_len;
} pct_case;

#define OK(in, flags, out)                                                                         \
	{                                                                                          \
		(in), (flags), (out), sizeof(out) - 1                                              \
	}
#define ERR(in, flags)                                                                             \
	{                                                                                          \
		(in), (flags), NULL, 0                                                             \
	}

Test(pct, variants)
{
	const unsigned int plus = FAAS__PCT_PLUS_SPACE, nul = FAAS__PCT_REJECT_NUL,
	                   strict = FAAS__PCT_STRICT;
	const pct_case cases[] = {
	    OK("", 0, ""),
	    OK("plain", 0, "plain"),
	    OK("a%20b", 0, "a b"),
	    OK("%41%42%43", 0, "ABC"),
	    OK("%e9%E9%eA", 0, "\xe9\xe9\xea"),
	    OK("%2F", 0, "/"),
	    /* '+': kept in paths, a space in queries; %2B is always '+' */
	    OK("a+b", 0, "a+b"),
	    OK("a+b", plus, "a b"),
	    OK("%2B+", plus, "+ "),
	    OK("++", plus | nul | strict, "  "),
	    /* invalid escapes stay as sent */
	    OK("%zz", 0, "%zz"),
	    OK("%4", 0, "%4"),
	    OK("%", 0, "%"),
	    OK("100%", 0, "100%"),
	    OK("%4g", 0, "%4g"),
	    OK("%g4", 0, "%g4"),
	    OK("%%41", 0, "%A"),
	    OK("a%2", plus, "a%2"),
	    OK("%+1", plus, "% 1"),
	    /* ... or are errors when strict */
	    ERR("%zz", strict),
	    ERR("%4", strict),
	    ERR("%", strict),
	    ERR("100%", strict),
	    ERR("%%41", strict),
	    ERR("ok%4g", strict | plus),
	    OK("%41", strict, "A"),
	    /* NUL */
	    OK("a%00b", 0, "a\0b"),
	    OK("a%00b", plus | strict, "a\0b"),
	    ERR("a%00b", nul),
	    ERR("%00", nul | plus),
	    ERR("%00", nul | strict),
	    OK("%01", nul, "\x01"),
	    OK("%0", nul, "%0"),
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const pct_case *c = &cases[i];
		size_t n = strlen(c->in), got;
		char dst[32];

		memset(dst, '#', sizeof(dst));
		got = faas__pct_decode(dst, c->in, n, c->flags);
		if (!c->out) {
			cr_assert_eq(got, FAAS__PCT_ERROR, "case %zu: %s", i, c->in);
			continue;
		}
		cr_assert_eq(got, c->out_len, "case %zu: %s gave %zu", i, c->in, got);
		cr_assert_eq(memcmp(dst, c->out, got), 0, "case %zu: %s", i, c->in);
		cr_assert_eq(dst[got], '#', "no NUL is appended");
	}
}

Test(pct, literal_nul_and_length)
{
	char dst[8];

	cr_assert_eq(faas__pct_decode(dst, "a\0b", 3, 0), 3);
	cr_assert_eq(memcmp(dst, "a\0b", 3), 0);
	cr_assert_eq(faas__pct_decode(dst, "a\0b", 3, FAAS__PCT_REJECT_NUL), FAAS__PCT_ERROR);
	/* n bounds the input: an escape cut by it is not read past n. */
	cr_assert_eq(faas__pct_decode(dst, "x%41", 3, 0), 3);
	cr_assert_eq(memcmp(dst, "x%4", 3), 0);
	cr_assert_eq(faas__pct_decode(dst, "x%41", 3, FAAS__PCT_STRICT), FAAS__PCT_ERROR);
}

Test(pct, in_place)
{
	char s[] = "%2Fa%20b+c%zz";
	size_t n = faas__pct_decode(s, s, strlen(s), FAAS__PCT_PLUS_SPACE);

	cr_assert_eq(n, 9);
	cr_assert_eq(memcmp(s, "/a b c%zz", 9), 0);
}

Test(pct, every_escape)
{
	static const char digits[] = "0123456789abcdefABCDEF";

	for (size_t i = 0; i < sizeof(digits) - 1; i++) {
		for (size_t j = 0; j < sizeof(digits) - 1; j++) {
			char in[3] = {'%', digits[i], digits[j]}, out[3];
			int want = faas__hexval(digits[i]) * 16 + faas__hexval(digits[j]);
			size_t n = faas__pct_decode(out, in, 3, FAAS__PCT_STRICT);

			cr_assert_eq(n, 1);
			cr_assert_eq((unsigned char)out[0], want);
		}
	}
}

/* ================================ hex ================================ */

Test(hex, hexval_every_byte)
{
	for (int c = -1; c < 256; c++) {
		int want = -1;

		if (c >= '0' && c <= '9')
			want = c - '0';
		else if (c >= 'a' && c <= 'f')
			want = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			want = c - 'A' + 10;
		cr_assert_eq(faas__hexval(c), want, "0x%x", (unsigned int)c);
	}
	cr_assert_eq(faas__hexval((char)0xe9), -1);
	cr_assert_eq(faas__hexval(EOF), -1);
}

Test(hex, encode)
{
	static const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof(bytes) + 1];
	char u[17] = {0};

	cr_assert_eq(faas__hex_encode(out, bytes, sizeof(bytes)), 12);
	cr_assert_str_eq(out, "00017f80abff");
	cr_assert_eq(faas__hex_encode(out, bytes, 0), 0);
	cr_assert_str_eq(out, "");
	faas__hex_u64(u, 0);
	cr_assert_str_eq(u, "0000000000000000");
	faas__hex_u64(u, UINT64_MAX);
	cr_assert_str_eq(u, "ffffffffffffffff");
	faas__hex_u64(u, 0x0123456789abcdefu);
	cr_assert_str_eq(u, "0123456789abcdef");
	for (int i = 0; i < 1000; i++) {
		uint64_t v = rng();
		char want[17];

		snprintf(want, sizeof(want), "%016llx", (unsigned long long)v);
		faas__hex_u64(u, v);
		cr_assert_str_eq(u, want);
	}
}

/* ================================ heap =============================== */

typedef struct item {
	uint64_t key;
	size_t id;
	faas__heap_node node;
} item;

#define ITEM(n) ((item *)((char *)(n)-offsetof(item, node)))

static bool item_less(const faas__heap_node *a, const faas__heap_node *b)
{
	return ITEM(a)->key < ITEM(b)->key;
}

/* The heap property and every node's recorded slot. */
static void check_heap(const faas__heap *h)
{
	for (size_t i = 0; i < h->len; i++) {
		cr_assert_eq(h->items[i]->index, i);
		if (i > 0)
			cr_assert_not(item_less(h->items[i], h->items[(i - 1) / 2]));
	}
}

static item *new_items(size_t n, uint64_t key_mod)
{
	item *items = calloc(n, sizeof(*items));

	for (size_t i = 0; i < n; i++) {
		items[i].key = key_mod ? rng() % key_mod : rng();
		items[i].id = i;
		faas__heap_node_init(&items[i].node);
	}
	return items;
}

Test(heap, empty)
{
	faas__heap h;
	faas__heap_node n = FAAS__HEAP_NODE_INIT;

	faas__heap_init(&h, item_less);
	cr_assert_eq(faas__heap_len(&h), 0);
	cr_assert_null(faas__heap_peek(&h));
	cr_assert_null(faas__heap_pop(&h));
	cr_assert_not(faas__heap_node_queued(&n));
	faas__heap_remove(&h, &n); /* in no heap: left alone */
	cr_assert_eq(faas__heap_len(&h), 0);
	faas__heap_free(&h);
	faas__heap_free(&h);
	faas__heap_free(NULL);
}

Test(heap, push_then_pop_sorted)
{
	const size_t n = 10000;
	item *items = new_items(n, 0);
	faas__heap h;
	uint64_t last = 0;

	faas__heap_init(&h, item_less);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(faas__heap_push(&h, &items[i].node), 0);
		cr_assert(faas__heap_node_queued(&items[i].node));
	}
	check_heap(&h);
	cr_assert_eq(faas__heap_len(&h), n);
	for (size_t i = 0; i < n; i++) {
		faas__heap_node *min = faas__heap_peek(&h), *got = faas__heap_pop(&h);

		cr_assert_eq(min, got);
		cr_assert(ITEM(got)->key >= last);
		cr_assert_not(faas__heap_node_queued(got));
		last = ITEM(got)->key;
	}
	cr_assert_eq(faas__heap_len(&h), 0);
	faas__heap_free(&h);
	free(items);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Random pushes, removes and pops against a plain list kept on the side. */
Test(heap, random_against_reference)
{
	const size_t n = 10000;
	item *items = new_items(n, 5000);                /* with duplicate keys */
	size_t *in = calloc(n, sizeof(*in)), in_len = 0; /* ids in the heap */
	faas__heap h;

	faas__heap_init(&h, item_less);
	for (int op = 0; op < 60000; op++) {
		unsigned int what = (unsigned int)(rng() % 10);

		if (what < 5 && in_len < n) {
			size_t id;

			do
				id = (size_t)(rng() % n);
			while (faas__heap_node_queued(&items[id].node));
			cr_assert_eq(faas__heap_push(&h, &items[id].node), 0);
			in[in_len++] = id;
		} else if (what < 8 && in_len > 0) {
			size_t at = (size_t)(rng() % in_len), id = in[at];

			faas__heap_remove(&h, &items[id].node);
			cr_assert_not(faas__heap_node_queued(&items[id].node));
			in[at] = in[--in_len];
		} else if (in_len > 0) {
			uint64_t min = UINT64_MAX;
			faas__heap_node *got;
			size_t at = SIZE_MAX;

			for (size_t i = 0; i < in_len; i++)
				if (items[in[i]].key < min)
					min = items[in[i]].key;
			got = faas__heap_pop(&h);
			cr_assert_eq(ITEM(got)->key, min);
			for (size_t i = 0; i < in_len; i++)
				if (in[i] == ITEM(got)->id)
					at = i;
			cr_assert_neq(at, SIZE_MAX);
			in[at] = in[--in_len];
		}
		cr_assert_eq(faas__heap_len(&h), in_len);
		if (op % 97 == 0)
			check_heap(&h);
	}
	check_heap(&h);

	/* What is left comes out in the reference's order. */
	{
		uint64_t *keys = calloc(in_len + 1, sizeof(*keys));
		size_t left = in_len;

		for (size_t i = 0; i < in_len; i++)
			keys[i] = items[in[i]].key;
		qsort(keys, in_len, sizeof(*keys), cmp_u64);
		for (size_t i = 0; i < left; i++)
			cr_assert_eq(ITEM(faas__heap_pop(&h))->key, keys[i]);
		cr_assert_null(faas__heap_pop(&h));
		free(keys);
	}
	faas__heap_free(&h);
	free(in);
	free(items);
}

/* Remove the node in a given slot from a heap of 0..99 pushed in a random
 * order; the rest still pops in order, without the removed key. */
static void remove_slot(size_t (*slot)(size_t len))
{
	item items[100];
	size_t order[100];
	faas__heap h;
	faas__heap_node *victim;
	uint64_t gone, expect = 0;

	for (size_t i = 0; i < 100; i++)
		order[i] = i;
	for (size_t i = 99; i > 0; i--) {
		size_t j = (size_t)(rng() % (i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	faas__heap_init(&h, item_less);
	for (size_t i = 0; i < 100; i++) {
		items[i].key = order[i];
		items[i].id = i;
		faas__heap_node_init(&items[i].node);
		cr_assert_eq(faas__heap_push(&h, &items[i].node), 0);
	}
	victim = h.items[slot(h.len)];
	gone = ITEM(victim)->key;
	faas__heap_remove(&h, victim);
	faas__heap_remove(&h, victim); /* twice: harmless */
	cr_assert_eq(faas__heap_len(&h), 99);
	check_heap(&h);
	for (size_t i = 0; i < 99; i++, expect++) {
		if (expect == gone)
			expect++;
		cr_assert_eq(ITEM(faas__heap_pop(&h))->key, expect);
	}
	faas__heap_free(&h);
}

static size_t slot_min(size_t len)
{
	(void)len;
	return 0;
}

static size_t slot_last(size_t len)
{
	return len - 1;
}

static size_t slot_middle(size_t len)
{
	return len / 2;
}

static size_t slot_random(size_t len)
{
	return (size_t)(rng() % len);
}

Test(heap, remove_min_last_middle)
{
	for (int round = 0; round < 50; round++) {
		remove_slot(slot_min);
		remove_slot(slot_last);
		remove_slot(slot_middle);
		remove_slot(slot_random);
	}
}

/* A removed node whose replacement must move up, not down. */
Test(heap, remove_moves_the_last_up)
{
	static const uint64_t keys[] = {0, 100, 1, 101, 102, 2, 3};
	item items[7];
	faas__heap h;

	faas__heap_init(&h, item_less);
	for (size_t i = 0; i < 7; i++) {
		items[i].key = keys[i];
		faas__heap_node_init(&items[i].node);
		faas__heap_push(&h, &items[i].node);
	}
	/* Slots: 0 | 100 1 | 101 102 2 3. Removing 101 puts 3 under 100. */
	cr_assert_eq(items[3].node.index, 3);
	faas__heap_remove(&h, &items[3].node);
	check_heap(&h);
	cr_assert_eq(items[6].node.index, 1);
	faas__heap_free(&h);
}

Test(heap, reuse_after_free)
{
	item a = {.key = 2}, b = {.key = 1};
	faas__heap h;

	faas__heap_init(&h, item_less);
	faas__heap_node_init(&a.node);
	faas__heap_node_init(&b.node);
	faas__heap_push(&h, &a.node);
	faas__heap_free(&h);
	faas__heap_node_init(&a.node);
	cr_assert_eq(faas__heap_push(&h, &a.node), 0);
	cr_assert_eq(faas__heap_push(&h, &b.node), 0);
	cr_assert_eq(faas__heap_peek(&h), &b.node);
	faas__heap_free(&h);
}

/* ================================ sig ================================ */

static void host_handler(int sig)
{
	(void)sig;
}

static void host_action(int sig, siginfo_t *info, void *uctx)
{
	(void)sig;
	(void)info;
	(void)uctx;
}

static struct sigaction current_sigpipe(void)
{
	struct sigaction sa;

	cr_assert_eq(sigaction(SIGPIPE, NULL, &sa), 0);
	return sa;
}

/* Criterion runs each test in a process of its own, so each sees the
 * process-wide state (and the pthread_once) fresh. */
Test(sig, default_becomes_ignored)
{
	signal(SIGPIPE, SIG_DFL);
	faas__ignore_sigpipe();
	cr_assert_eq(current_sigpipe().sa_handler, SIG_IGN);
	/* Ignored indeed: the process survives one. */
	cr_assert_eq(raise(SIGPIPE), 0);
}

Test(sig, host_handler_is_kept)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = host_handler;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGPIPE, &sa, NULL), 0);
	faas__ignore_sigpipe();
	cr_assert_eq(current_sigpipe().sa_handler, host_handler);
}

Test(sig, host_siginfo_handler_is_kept)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = host_action;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGPIPE, &sa, NULL), 0);
	faas__ignore_sigpipe();
	sa = current_sigpipe();
	cr_assert(sa.sa_flags & SA_SIGINFO);
	cr_assert_eq(sa.sa_sigaction, host_action);
}

Test(sig, once_per_process)
{
	signal(SIGPIPE, SIG_DFL);
	faas__ignore_sigpipe();
	cr_assert_eq(current_sigpipe().sa_handler, SIG_IGN);
	/* The host restores the default later: its choice, not undone. */
	signal(SIGPIPE, SIG_DFL);
	faas__ignore_sigpipe();
	cr_assert_eq(current_sigpipe().sa_handler, SIG_DFL);
}

static void *call_ignore(void *arg)
{
	(void)arg;
	faas__ignore_sigpipe();
	return NULL;
}

Test(sig, from_many_threads)
{
	pthread_t t[8];

	signal(SIGPIPE, SIG_DFL);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, call_ignore, NULL), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(current_sigpipe().sa_handler, SIG_IGN);
}

/* =============================== clock =============================== */

Test(clock, monotonic)
{
	struct timespec ts;
	uint64_t before, now, after, prev = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	before = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	now = faas__now_ns();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	after = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	cr_assert(before <= now && now <= after);
	for (int i = 0; i < 10000; i++) {
		now = faas__now_ns();
		cr_assert(now >= prev);
		prev = now;
	}
}

Test(clock, wall)
{
	struct timespec ts;
	uint64_t before, now, after;

	clock_gettime(CLOCK_REALTIME, &ts);
	before = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	now = faas__wall_us();
	clock_gettime(CLOCK_REALTIME, &ts);
	after = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	/* The wall clock may be stepped between the reads; it rarely is. */
	cr_assert(before <= now && now <= after, "%llu %llu %llu", (unsigned long long)before,
	          (unsigned long long)now, (unsigned long long)after);
	cr_assert(now > UINT64_C(1600000000) * 1000000u);
}

/* ---- format: log lines ---- */

static char *line_of(char *stack, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	line = faas__vformat_line(stack, size, len, fmt, ap);
	va_end(ap);
	return line;
}

Test(format, line_fits_on_the_stack_with_newlines_as_spaces)
{
	char stack[32], *line;
	size_t n = 0;

	line = line_of(stack, sizeof(stack), &n, "a\nb%dc\n", 7);
	cr_assert_eq(line, stack);
	cr_assert_eq(n, 6);
	cr_assert_eq(memcmp(line, "a b7c ", 6), 0);
}

Test(format, line_longer_than_the_stack_is_on_the_heap_with_a_spare_byte)
{
	char stack[8], *line, big[100];
	size_t n = 0;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[50] = '\n';
	line = line_of(stack, sizeof(stack), &n, "%s", big);
	cr_assert_neq(line, stack);
	cr_assert_eq(n, 99);
	cr_assert_eq(line[50], ' ');
	line[n] = '\n'; /* the spare byte the worker writes its newline into */
	free(line);
	/* Exactly the stack's size less the spare byte goes to the heap too. */
	line = line_of(stack, sizeof(stack), &n, "%s", "1234567");
	cr_assert_neq(line, stack);
	cr_assert_eq(n, 7);
	free(line);
	line = line_of(stack, sizeof(stack), &n, "%s", "123456");
	cr_assert_eq(line, stack);
	cr_assert_eq(n, 6);
}
