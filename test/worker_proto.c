/* The process-isolation framing (lib/worker_proto.c): every field type and
 * every message of worker_proto.h round trips; a frame cut at any byte, a
 * length that points past the end, a string without its NUL and random bytes
 * all end in rbuf.bad, never in a read outside the frame. Frames are copied
 * into buffers of their exact size, so that ASan sees any overread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "worker_proto.h"

TestSuite(worker_proto, .timeout = 60);

/* ---- helpers ---- */

/* The payload of a finished frame, in a heap block of exactly its size
 * (one byte for an empty payload, never read). */
static char *payload_copy(const faas__wbuf *b, size_t n)
{
	char *p = malloc(n ? n : 1);

	cr_assert_not_null(p);
	cr_assert_leq(n, b->len - FAAS__WP_HEADER);
	memcpy(p, b->data + FAAS__WP_HEADER, n);
	return p;
}

static size_t payload_len(const faas__wbuf *b)
{
	return b->len - FAAS__WP_HEADER;
}

static void finish_ok(faas__wbuf *b)
{
	cr_assert_eq(faas__wbuf_finish(b), 0);
	cr_assert_eq(faas__wp_get_u32(b->data), payload_len(b), "the header holds the length");
}

/* A string the reader handed out lies inside [base, base + size) with its
 * NUL, or is the empty string it returns for errors. */
static void assert_inside(const char *s, size_t len, const char *base, size_t size)
{
	if (s >= base && s < base + size) {
		cr_assert_leq((size_t)(s - base) + len + 1, size, "string runs past the frame");
		cr_assert_eq(s[len], '\0');
	} else {
		cr_assert_eq(len, 0, "a string outside the frame must be the empty error string");
		cr_assert_str_eq(s, "");
	}
}

/* ---- writing ---- */

Test(worker_proto, header_is_length_then_type)
{
	faas__wbuf b;

	faas__wbuf_begin(&b, FAAS__WP_STATE_RESP);
	faas__wbuf_u8(&b, 7);
	faas__wbuf_u32(&b, 0x01020304u);
	finish_ok(&b);
	cr_assert_eq(b.len, FAAS__WP_HEADER + 5);
	cr_assert_eq((unsigned char)b.data[0], 5);
	cr_assert_eq(b.data[1] | b.data[2] | b.data[3], 0);
	cr_assert_eq((unsigned char)b.data[4], FAAS__WP_STATE_RESP);
	cr_assert_eq((unsigned char)b.data[5], 7);
	/* Little-endian on the wire, whatever the host. */
	cr_assert_eq(memcmp(b.data + 6, "\x04\x03\x02\x01", 4), 0);
	faas__wbuf_free(&b);
	cr_assert_null(b.data);
	faas__wbuf_free(&b); /* twice is harmless */
}

Test(worker_proto, empty_frame)
{
	faas__wbuf b;
	faas__rbuf r;

	faas__wbuf_begin(&b, FAAS__WP_READY);
	finish_ok(&b);
	cr_assert_eq(b.len, FAAS__WP_HEADER);
	r = (faas__rbuf){b.data + FAAS__WP_HEADER, 0, false};
	cr_assert_eq(faas__rbuf_u8(&r), 0);
	cr_assert(r.bad);
	faas__wbuf_free(&b);
}

Test(worker_proto, u64_bytes_are_little_endian)
{
	faas__wbuf b;

	faas__wbuf_begin(&b, 1);
	faas__wbuf_u64(&b, 0x0102030405060708ull);
	finish_ok(&b);
	cr_assert_eq(memcmp(b.data + 5, "\x08\x07\x06\x05\x04\x03\x02\x01", 8), 0);
	faas__wbuf_free(&b);
}

Test(worker_proto, get_u32_reads_unaligned)
{
	unsigned char bytes[] = {0xaa, 0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff};

	cr_assert_eq(faas__wp_get_u32(bytes + 1), 0x12345678u);
	cr_assert_eq(faas__wp_get_u32(bytes + 5), UINT32_MAX);
}

Test(worker_proto, string_too_long_for_the_frame_fails_the_buffer)
{
	faas__wbuf b;

	faas__wbuf_begin(&b, 1);
	faas__wbuf_u8(&b, 1);
	/* Refused on its length alone: the bytes are never read. */
	faas__wbuf_str(&b, "x", (size_t)UINT32_MAX);
	cr_assert(b.failed);
	/* Failure is sticky: later fields are dropped, finish frees. */
	faas__wbuf_u32(&b, 5);
	cr_assert_eq(faas__wbuf_finish(&b), -1);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	faas__wbuf_free(&b);
}

Test(worker_proto, buffer_grows_past_its_first_block)
{
	faas__wbuf b;
	faas__rbuf r;
	size_t n = 3u << 20, len;
	char *big = malloc(n);
	const char *s;

	cr_assert_not_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	faas__wbuf_begin(&b, FAAS__WP_INVOKE);
	for (uint32_t i = 0; i < 1000; i++)
		faas__wbuf_u32(&b, i);
	faas__wbuf_str(&b, big, n);
	finish_ok(&b);
	cr_assert_eq(payload_len(&b), 4000 + 4 + n + 1);
	r = (faas__rbuf){b.data + FAAS__WP_HEADER, payload_len(&b), false};
	for (uint32_t i = 0; i < 1000; i++)
		cr_assert_eq(faas__rbuf_u32(&r), i);
	s = faas__rbuf_str(&r, &len);
	cr_assert_not(r.bad);
	cr_assert_eq(len, n);
	cr_assert_eq(memcmp(s, big, n), 0);
	cr_assert_eq(r.left, 0);
	faas__wbuf_free(&b);
	free(big);
}

/* ---- round trips ---- */

Test(worker_proto, every_field_type_round_trips)
{
	static const uint8_t u8s[] = {0, 1, 0x7f, 0x80, 0xff};
	static const uint32_t u32s[] = {0, 1, 0xff, 0x100, 0x7fffffffu, 0x80000000u, UINT32_MAX};
	static const uint64_t u64s[] = {
	    0, 1, 0xffffffffull, 0x100000000ull, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX};
	const char nuls[] = {'a', '\0', '\0', 'b'};
	faas__wbuf b;
	faas__rbuf r;
	char *p;
	size_t len;
	const char *s;

	faas__wbuf_begin(&b, FAAS__WP_RESULT);
	for (size_t i = 0; i < sizeof(u8s); i++)
		faas__wbuf_u8(&b, u8s[i]);
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		faas__wbuf_u32(&b, u32s[i]);
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		faas__wbuf_u64(&b, u64s[i]);
	faas__wbuf_u32(&b, (uint32_t)(int32_t)-11);       /* an i32 (rc) */
	faas__wbuf_u64(&b, (uint64_t)(int64_t)INT64_MIN); /* an i64 (delta) */
	faas__wbuf_str(&b, "hello", 5);
	faas__wbuf_str(&b, "", 0);
	faas__wbuf_str(&b, NULL, 0);
	faas__wbuf_str(&b, nuls, sizeof(nuls));
	faas__wbuf_cstr(&b, "c string");
	faas__wbuf_cstr(&b, NULL);
	finish_ok(&b);

	p = payload_copy(&b, payload_len(&b));
	r = (faas__rbuf){p, payload_len(&b), false};
	for (size_t i = 0; i < sizeof(u8s); i++)
		cr_assert_eq(faas__rbuf_u8(&r), u8s[i]);
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		cr_assert_eq(faas__rbuf_u32(&r), u32s[i]);
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		cr_assert_eq(faas__rbuf_u64(&r), u64s[i]);
	cr_assert_eq((int32_t)faas__rbuf_u32(&r), -11);
	cr_assert_eq((int64_t)faas__rbuf_u64(&r), INT64_MIN);
	s = faas__rbuf_str(&r, &len);
	cr_assert_eq(len, 5);
	cr_assert_str_eq(s, "hello");
	s = faas__rbuf_str(&r, &len);
	cr_assert_eq(len, 0);
	cr_assert_str_eq(s, "");
	s = faas__rbuf_str(&r, NULL); /* len is optional */
	cr_assert_str_eq(s, "");
	s = faas__rbuf_str(&r, &len);
	cr_assert_eq(len, sizeof(nuls));
	cr_assert_eq(memcmp(s, nuls, sizeof(nuls)), 0);
	cr_assert_eq(s[len], '\0');
	s = faas__rbuf_str(&r, &len);
	cr_assert_str_eq(s, "c string");
	cr_assert_eq(len, 8);
	s = faas__rbuf_str(&r, &len);
	cr_assert_str_eq(s, "");
	cr_assert_not(r.bad);
	cr_assert_eq(r.left, 0, "%zu bytes left over", r.left);
	free(p);
	faas__wbuf_free(&b);
}

/* ---- the messages of worker_proto.h, written and read field by field ---- */

enum field { F_U8, F_U32, F_U64, F_STR, F_END };

typedef struct message {
	const char *name;
	uint8_t type;
	enum field fields[16];
} message;

static const message messages[] = {
    {"LOAD", FAAS__WP_LOAD,
     {F_U32, F_U32, F_U8, F_STR, F_STR, F_STR, F_STR, F_U8, F_U32, F_END}},
    {"READY", FAAS__WP_READY, {F_U8, F_STR, F_STR, F_END}},
    {"INVOKE", FAAS__WP_INVOKE, {F_U64, F_STR, F_U64, F_STR, F_END}},
    {"RESULT", FAAS__WP_RESULT, {F_U64, F_U8, F_U32, F_U64, F_STR, F_STR, F_END}},
    {"STATE_REQ", FAAS__WP_STATE_REQ, {F_U64, F_U8, F_STR, F_STR, F_U64, F_U64, F_END}},
    {"STATE_RESP", FAAS__WP_STATE_RESP, {F_U64, F_U32, F_STR, F_U64, F_U64, F_END}},
};

#define NMESSAGES (sizeof(messages) / sizeof(messages[0]))

/* The value of field i of a test message: distinct per field, strings of
 * several lengths, one with a NUL inside. */
static uint64_t number_of(size_t i)
{
	return 0x0101010101010101ull * (i + 1) ^ (i << 60);
}

static const char *text_of(size_t i, size_t *len)
{
	static const char *const texts[] = {"libfx_ok.so", "", "{\"a\":[1,2,3]}", "x\0y",
	                                    "ünïcødé"};
	static const size_t lens[] = {11, 0, 13, 3, sizeof("ünïcødé") - 1};

	*len = lens[i % 5];
	return texts[i % 5];
}

static void write_message(faas__wbuf *b, const message *m)
{
	faas__wbuf_begin(b, m->type);
	for (size_t i = 0; m->fields[i] != F_END; i++) {
		size_t len;
		const char *t;

		switch (m->fields[i]) {
		case F_U8:
			faas__wbuf_u8(b, (uint8_t)number_of(i));
			break;
		case F_U32:
			faas__wbuf_u32(b, (uint32_t)number_of(i));
			break;
		case F_U64:
			faas__wbuf_u64(b, number_of(i));
			break;
		case F_STR:
			t = text_of(i, &len);
			faas__wbuf_str(b, t, len);
			break;
		case F_END:
			break;
		}
	}
	finish_ok(b);
	cr_assert_eq((uint8_t)b->data[4], m->type);
}

/* Read m's fields from p[0..n); returns whether the reader flagged the
 * frame bad. With check, a good read must give the written values. */
static bool read_message(const message *m, const char *p, size_t n, bool check)
{
	faas__rbuf r = {p, n, false};

	for (size_t i = 0; m->fields[i] != F_END; i++) {
		size_t len = 99, want_len;
		const char *s, *want;
		uint64_t v = 0;

		switch (m->fields[i]) {
		case F_U8:
			v = faas__rbuf_u8(&r);
			break;
		case F_U32:
			v = faas__rbuf_u32(&r);
			break;
		case F_U64:
			v = faas__rbuf_u64(&r);
			break;
		case F_STR:
			s = faas__rbuf_str(&r, &len);
			assert_inside(s, len, p, n);
			if (check && !r.bad) {
				want = text_of(i, &want_len);
				cr_assert_eq(len, want_len, "%s field %zu", m->name, i);
				cr_assert_eq(memcmp(s, want, len), 0, "%s field %zu", m->name, i);
			}
			break;
		case F_END:
			break;
		}
		if (r.bad)
			cr_assert_eq(v, 0, "a bad read reads as 0");
		else if (check && m->fields[i] != F_STR)
			cr_assert_eq(v,
			             m->fields[i] == F_U8    ? (uint8_t)number_of(i)
			             : m->fields[i] == F_U32 ? (uint32_t)number_of(i)
			                                     : number_of(i),
			             "%s field %zu", m->name, i);
		cr_assert_leq(r.left, n);
		cr_assert_eq(r.p + r.left, p + n, "the reader lost track of the end");
	}
	if (check && !r.bad)
		cr_assert_eq(r.left, 0, "%s: %zu bytes left over", m->name, r.left);
	return r.bad;
}

Test(worker_proto, every_message_round_trips)
{
	for (size_t k = 0; k < NMESSAGES; k++) {
		faas__wbuf b;
		char *p;

		write_message(&b, &messages[k]);
		p = payload_copy(&b, payload_len(&b));
		cr_assert_not(read_message(&messages[k], p, payload_len(&b), true), "%s",
		              messages[k].name);
		free(p);
		faas__wbuf_free(&b);
	}
}

Test(worker_proto, a_frame_cut_at_any_byte_is_bad_never_an_overread)
{
	for (size_t k = 0; k < NMESSAGES; k++) {
		faas__wbuf b;
		size_t n;

		write_message(&b, &messages[k]);
		n = payload_len(&b);
		for (size_t cut = 0; cut < n; cut++) {
			char *p = payload_copy(&b, cut);

			cr_assert(read_message(&messages[k], p, cut, true), "%s cut at %zu of %zu",
			          messages[k].name, cut, n);
			free(p);
		}
		faas__wbuf_free(&b);
	}
}

/* ---- malformed strings ---- */

/* A payload of one u32 length, then body[0..body_len). */
static char *length_then(uint32_t length, const char *body, size_t body_len, size_t *n)
{
	char *p = malloc(4 + body_len);

	cr_assert_not_null(p);
	for (int i = 0; i < 4; i++)
		p[i] = (char)(length >> (8 * i));
	memcpy(p + 4, body, body_len);
	*n = 4 + body_len;
	return p;
}

static void expect_bad_string(uint32_t length, const char *body, size_t body_len)
{
	size_t n, len = 99;
	char *p = length_then(length, body, body_len, &n);
	faas__rbuf r = {p, n, false};
	const char *s = faas__rbuf_str(&r, &len);

	cr_assert(r.bad, "length %u over %zu bytes was accepted", length, body_len);
	cr_assert_str_eq(s, "");
	cr_assert_eq(len, 0);
	/* Sticky: the bytes that remain are not read as fields. */
	cr_assert_eq(faas__rbuf_u8(&r), 0);
	cr_assert_eq(faas__rbuf_u32(&r), 0);
	cr_assert_eq(faas__rbuf_u64(&r), 0);
	cr_assert_str_eq(faas__rbuf_str(&r, NULL), "");
	cr_assert(r.bad);
	free(p);
}

Test(worker_proto, string_lengths_past_the_end_are_bad)
{
	expect_bad_string(UINT32_MAX, "abc", 4);
	expect_bad_string(UINT32_MAX - 1, "abc", 4);
	expect_bad_string(0x80000000u, "abc", 4);
	expect_bad_string(4, "abc", 4); /* no room for the NUL */
	expect_bad_string(5, "abc", 4);
	expect_bad_string(1, "", 0);
	expect_bad_string(0, "", 0); /* not even the NUL */
}

Test(worker_proto, string_without_its_nul_is_bad)
{
	expect_bad_string(3, "abcd", 4);
	expect_bad_string(0, "x", 1);
	expect_bad_string(2, "ab\x01zzzz", 8);
}

Test(worker_proto, string_of_exactly_the_frame_is_good)
{
	size_t n, len;
	char *p = length_then(3, "abc", 4, &n);
	faas__rbuf r = {p, n, false};
	const char *s = faas__rbuf_str(&r, &len);

	cr_assert_not(r.bad);
	cr_assert_eq(len, 3);
	cr_assert_str_eq(s, "abc");
	cr_assert_eq(r.left, 0);
	free(p);
}

Test(worker_proto, numbers_short_of_their_width_are_bad)
{
	static const size_t widths[] = {1, 4, 8};
	char *p = malloc(8);

	cr_assert_not_null(p);
	memset(p, 0xff, 8);
	for (size_t w = 0; w < 3; w++) {
		for (size_t n = 0; n < widths[w]; n++) {
			faas__rbuf r = {p + 8 - n, n, false};
			uint64_t v = w == 0   ? faas__rbuf_u8(&r)
			             : w == 1 ? faas__rbuf_u32(&r)
			                      : faas__rbuf_u64(&r);

			cr_assert(r.bad, "%zu bytes read as a %zu-byte number", n, widths[w]);
			cr_assert_eq(v, 0);
			cr_assert_eq(r.left, n, "a failed read consumes nothing");
		}
	}
	free(p);
}

/* ---- garbage ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

Test(worker_proto, random_bytes_read_as_any_message_never_overread)
{
	int bad = 0;

	for (int round = 0; round < 20000; round++) {
		size_t n = rng() % 80;
		char *p = malloc(n ? n : 1);
		const message *m = &messages[rng() % NMESSAGES];

		cr_assert_not_null(p);
		for (size_t i = 0; i < n; i++) {
			uint64_t x = rng();

			/* Mostly zeros and small bytes, so that string lengths and
			 * their NULs sometimes fit. */
			p[i] = (char)(x % 2 ? 0 : x % 4 == 2 ? (x >> 8) % 4 : x >> 8);
		}
		bad += read_message(m, p, n, false);
		free(p);
	}
	/* Both outcomes happened, so the test reads real parses, not just errors. */
	cr_assert_gt(bad, 0);
	cr_assert_lt(bad, 20000);
}

Test(worker_proto, random_field_sequences_round_trip)
{
	for (int round = 0; round < 2000; round++) {
		enum field fields[12];
		uint64_t values[12];
		char text[12][40];
		size_t lens[12], nf = 1 + rng() % 12;
		faas__wbuf b;
		faas__rbuf r;
		char *p;

		faas__wbuf_begin(&b, (uint8_t)rng());
		for (size_t i = 0; i < nf; i++) {
			fields[i] = (enum field)(rng() % 4);
			values[i] = rng();
			lens[i] = rng() % sizeof(text[i]);
			for (size_t j = 0; j < lens[i]; j++)
				text[i][j] = (char)rng();
			switch (fields[i]) {
			case F_U8:
				faas__wbuf_u8(&b, (uint8_t)values[i]);
				break;
			case F_U32:
				faas__wbuf_u32(&b, (uint32_t)values[i]);
				break;
			case F_U64:
				faas__wbuf_u64(&b, values[i]);
				break;
			default:
				faas__wbuf_str(&b, text[i], lens[i]);
				break;
			}
		}
		finish_ok(&b);
		p = payload_copy(&b, payload_len(&b));
		r = (faas__rbuf){p, payload_len(&b), false};
		for (size_t i = 0; i < nf; i++) {
			size_t len;
			const char *s;

			switch (fields[i]) {
			case F_U8:
				cr_assert_eq(faas__rbuf_u8(&r), (uint8_t)values[i]);
				break;
			case F_U32:
				cr_assert_eq(faas__rbuf_u32(&r), (uint32_t)values[i]);
				break;
			case F_U64:
				cr_assert_eq(faas__rbuf_u64(&r), values[i]);
				break;
			default:
				s = faas__rbuf_str(&r, &len);
				cr_assert_eq(len, lens[i]);
				cr_assert_eq(memcmp(s, text[i], len), 0);
				break;
			}
		}
		cr_assert_not(r.bad);
		cr_assert_eq(r.left, 0);
		free(p);
		faas__wbuf_free(&b);
	}
}

Test(worker_proto, null_string_with_a_length_fails_the_frame)
{
	faas__wbuf b;

	/* A bug in a caller, not a read of len bytes from nowhere. */
	faas__wbuf_begin(&b, FAAS__WP_STATE_RESP);
	faas__wbuf_str(&b, NULL, 5);
	cr_assert(b.failed);
	cr_assert_eq(faas__wbuf_finish(&b), -1);
	cr_assert_null(b.data);
	/* NULL with no length is the empty string. */
	faas__wbuf_begin(&b, FAAS__WP_STATE_RESP);
	faas__wbuf_str(&b, NULL, 0);
	finish_ok(&b);
	cr_assert_eq(b.len, FAAS__WP_HEADER + 5);
	faas__wbuf_free(&b);
}
