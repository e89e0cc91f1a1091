/* The JSON writer: comma and nesting bookkeeping, string escaping with
 * U+FFFD for invalid UTF-8, and number text. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* What a byte needs in a string: pass as it is, a two-character escape,
 * \u00xx, or a look at the UTF-8 sequence it starts. */
enum { PASS, SHORT, CONTROL, MULTI };

static const char hexdigits[] = "0123456789abcdef";

static unsigned char byte_class(unsigned char c)
{
	if (c >= 0x80)
		return MULTI;
	if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
		return SHORT;
	return c < 0x20 ? CONTROL : PASS;
}

/* The length of the sequence starting at p (n > 0 bytes left): of a valid
 * character with *ok set, else of the maximal subpart of an invalid one
 * (at least 1), the bytes that begin some valid sequence but do not finish
 * it. The second byte's range is narrowed for E0 (no overlongs), ED (no
 * surrogates), F0 (no overlongs) and F4 (nothing past U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t n, bool *ok)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need;

	*ok = false;
	if (c < 0x80) {
		*ok = true;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 1; /* 80..BF alone, C0, C1, F5..FF: never part of a character */
	}
	for (size_t i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}
	*ok = true;
	return need + 1;
}

bool faas__utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		uint64_t word;
		bool ok;

		/* Most text is ASCII: eight bytes at a time while no high bit is set
		 * (every string of an HTTP event passes here). */
		if (n - i >= 8) {
			memcpy(&word, p + i, 8);
			if ((word & UINT64_C(0x8080808080808080)) == 0) {
				i += 8;
				continue;
			}
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		i += utf8_seq(p + i, n - i, &ok);
		if (!ok)
			return false;
	}
	return true;
}

bool faas__utf8_text(const char *s, size_t n)
{
	return !memchr(s, '\0', n) && faas__utf8_valid(s, n);
}

size_t faas__utf8_sanitize(char *dst, const char *src, size_t n)
{
	const unsigned char *p = (const unsigned char *)src;
	char *o = dst;

	for (size_t i = 0; i < n;) {
		bool ok;
		size_t k = utf8_seq(p + i, n - i, &ok);

		if (ok) {
			memcpy(o, p + i, k);
			o += k;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
		}
		i += k;
	}
	return (size_t)(o - dst);
}

static void escape_byte(faas__buf *b, unsigned char c)
{
	char e[6] = {'\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 15]};

	switch (c) {
	case '"':
	case '\\':
		e[1] = (char)c;
		break;
	case '\b':
		e[1] = 'b';
		break;
	case '\f':
		e[1] = 'f';
		break;
	case '\n':
		e[1] = 'n';
		break;
	case '\r':
		e[1] = 'r';
		break;
	case '\t':
		e[1] = 't';
		break;
	default:
		faas__buf_append(b, e, 6);
		return;
	}
	faas__buf_append(b, e, 2);
}

void faas__json_escape(faas__buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	/* Most strings need no escape: room for them at once, and runs of
	 * plain bytes copied whole. A bounded buffer gets no worst-case
	 * reservation, which could fail where the real text fits. */
	if (n < SIZE_MAX - 2)
		faas__buf_reserve(b, n + 2);
	faas__buf_append_char(b, '"');
	while (i < n && !b->failed) {
		size_t run = i;
		bool ok;

		while (run < n && byte_class(p[run]) == PASS)
			run++;
		if (run > i) {
			faas__buf_append(b, p + i, run - i);
			i = run;
			continue;
		}
		if (byte_class(p[i]) != MULTI) {
			escape_byte(b, p[i++]);
			continue;
		}
		run = utf8_seq(p + i, n - i, &ok);
		if (ok)
			faas__buf_append(b, p + i, run);
		else
			faas__buf_append(b, "\xef\xbf\xbd", 3);
		i += run;
	}
	faas__buf_append_char(b, '"');
}

/* ---- the writer ---- */

void faas__json_init(faas__json *w, faas__buf *buf)
{
	w->buf = buf;
	w->objects = 0;
	w->depth = 0;
	w->comma = false;
	w->want_value = false;
}

bool faas__json_done(const faas__json *w)
{
	return !w->buf->failed && w->depth == 0 && w->comma;
}

static bool in_object(const faas__json *w)
{
	return w->depth > 0 && (w->objects >> (w->depth - 1) & 1u);
}

/* Before any value: checks its place and writes the comma. */
static bool value_start(faas__json *w)
{
	if (w->buf->failed)
		return false;
	if (in_object(w) ? !w->want_value : w->comma && w->depth == 0) {
		w->buf->failed = true;
		return false;
	}
	if (w->comma && !w->want_value)
		faas__buf_append_char(w->buf, ',');
	w->want_value = false;
	return true;
}

static void value_end(faas__json *w)
{
	w->comma = true;
}

static void begin(faas__json *w, bool object)
{
	if (!value_start(w))
		return;
	if (w->depth >= FAAS__JSON_DEPTH_MAX) {
		w->buf->failed = true;
		return;
	}
	if (object)
		w->objects |= (uint64_t)1 << w->depth;
	else
		w->objects &= ~((uint64_t)1 << w->depth);
	w->depth++;
	w->comma = false;
	faas__buf_append_char(w->buf, object ? '{' : '[');
}

static void end(faas__json *w, bool object)
{
	if (w->buf->failed)
		return;
	if (w->depth == 0 || in_object(w) != object || w->want_value) {
		w->buf->failed = true;
		return;
	}
	w->depth--;
	faas__buf_append_char(w->buf, object ? '}' : ']');
	value_end(w);
}

void faas__json_begin_object(faas__json *w)
{
	begin(w, true);
}

void faas__json_end_object(faas__json *w)
{
	end(w, true);
}

void faas__json_begin_array(faas__json *w)
{
	begin(w, false);
}

void faas__json_end_array(faas__json *w)
{
	end(w, false);
}

void faas__json_key(faas__json *w, const char *k, size_t n)
{
	if (w->buf->failed)
		return;
	if (!in_object(w) || w->want_value) {
		w->buf->failed = true;
		return;
	}
	if (w->comma)
		faas__buf_append_char(w->buf, ',');
	faas__json_escape(w->buf, k, n);
	faas__buf_append_char(w->buf, ':');
	w->want_value = true;
}

void faas__json_key_str(faas__json *w, const char *k)
{
	faas__json_key(w, k, strlen(k));
}

void faas__json_string(faas__json *w, const char *s, size_t n)
{
	if (!value_start(w))
		return;
	faas__json_escape(w->buf, s, n);
	value_end(w);
}

void faas__json_cstring(faas__json *w, const char *s)
{
	if (s)
		faas__json_string(w, s, strlen(s));
	else
		faas__json_null(w);
}

void faas__json_raw(faas__json *w, const char *json, size_t n)
{
	if (!value_start(w))
		return;
	faas__buf_append(w->buf, json, n);
	value_end(w);
}

/* The decimal digits of v, written backwards ending at end; returns the
 * first. */
static char *digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void faas__json_uint64(faas__json *w, uint64_t v)
{
	char tmp[24], *p = digits(tmp + sizeof(tmp), v);

	faas__json_raw(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

void faas__json_int64(faas__json *w, int64_t v)
{
	/* The magnitude in unsigned arithmetic: -INT64_MIN does not fit. */
	uint64_t mag = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
	char tmp[24], *p = digits(tmp + sizeof(tmp), mag);

	if (v < 0)
		*--p = '-';
	faas__json_raw(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* snprintf's text with the locale's decimal point (which setlocale() in the
 * host may have made "," or longer) turned back into '.'. */
static size_t c_locale_number(char *out, const char *in)
{
	size_t o = 0;
	bool in_point = false;

	for (; *in; in++) {
		bool number_char = (*in >= '0' && *in <= '9') || *in == '-' || *in == '+' ||
		                   *in == 'e' || *in == 'E';

		if (number_char) {
			out[o++] = *in;
			in_point = false;
		} else if (!in_point) {
			out[o++] = '.';
			in_point = true;
		}
	}
	out[o] = '\0';
	return o;
}

void faas__json_double(faas__json *w, double v)
{
	char text[64], clean[64];

	if (!isfinite(v)) {
		faas__json_null(w);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*g", prec, v);
		/* strtod reads the locale's decimal point, as snprintf wrote it. */
		if (prec == 17 || strtod(text, NULL) == v)
			break;
	}
	faas__json_raw(w, clean, c_locale_number(clean, text));
}

void faas__json_bool(faas__json *w, bool v)
{
	if (v)
		faas__json_raw(w, "true", 4);
	else
		faas__json_raw(w, "false", 5);
}

void faas__json_null(faas__json *w)
{
	faas__json_raw(w, "null", 4);
}
