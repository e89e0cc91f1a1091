/* The strictness layer of the HTTP server. http-parser 2.9 is lenient in
 * ways that let two parsers disagree about where a request ends (request
 * smuggling): bare LF line ends, obs-fold, Content-Length beside
 * Transfer-Encoding, loose chunk sizes. This file refuses all of that, with
 * RFC 9112 as the reference, in two places: a byte scanner that runs over
 * the raw bytes before http-parser sees them, and checks of the parsed head.
 *
 * The scanner also delimits messages. It stops after each head, so the
 * server can hand it the framing the head decided before the body is
 * scanned, and after each message, so the server can decide whether to read
 * the next one. Everything the scanner accepts, http-parser accepts too, so
 * the two always agree on message boundaries. */
#include <string.h>

#include "http_server.h"

enum {
	S_PRE = 0,       /* between messages: empty lines are allowed */
	S_PRE_LF,        /* CR of an empty line seen */
	S_RL,            /* request line */
	S_RL_LF,         /* CR ending the request line seen */
	S_HS,            /* start of a header (or trailer) line */
	S_HN,            /* field name */
	S_HV,            /* field value */
	S_HV_LF,         /* CR ending a field line seen */
	S_HE_LF,         /* CR of the empty line ending the section seen */
	S_FRAMING,       /* head done: waiting for faas__http_strict_body */
	S_BODY,          /* Content-Length body */
	S_CS,            /* chunk size: first digit */
	S_CS_MORE,       /* chunk size: more digits */
	S_CX_PRE,        /* BWS before ";" or the CR */
	S_CX_NAME_BWS,   /* BWS after ";" */
	S_CX_NAME,       /* chunk-ext-name */
	S_CX_AFTER_NAME, /* BWS after a name */
	S_CX_VAL_BWS,    /* BWS after "=" */
	S_CX_TOK,        /* token value */
	S_CX_QS,         /* quoted-string value */
	S_CX_QP,         /* after a backslash in a quoted string */
	S_CS_LF,         /* CR ending the chunk-size line seen */
	S_CD,            /* chunk data */
	S_CD_CR,         /* CR after chunk data expected */
	S_CD_LF,         /* LF after chunk data expected */
};

/* tchar from RFC 9110 §5.6.2. */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,  ['~'] = 1, ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,  ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,  ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,  ['N'] = 1, ['O'] = 1,
    ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,  ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,  ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,  ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,  ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static const char version_prefix[] = "HTTP/1.";

void faas__http_strict_init(faas__http_strict *s, size_t max_head)
{
	memset(s, 0, sizeof(*s));
	s->state = S_PRE;
	s->max_head = max_head;
}

bool faas__http_strict_between(const faas__http_strict *s)
{
	return s->state == S_PRE && s->head_bytes == 0;
}

bool faas__http_strict_in_body(const faas__http_strict *s)
{
	return s->state >= S_FRAMING || s->trailer;
}

void faas__http_strict_body(faas__http_strict *s, bool chunked, uint64_t length, uint64_t limit)
{
	s->head_bytes = 0;
	s->body_total = 0;
	s->body_limit = limit;
	s->trailer = false;
	if (chunked) {
		s->state = S_CS;
		s->line_bytes = 0;
		s->hex_digits = 0;
		s->remaining = 0;
	} else if (length > 0) {
		s->state = S_BODY;
		s->remaining = length;
	} else {
		/* http-parser ends a message without a body with its head. */
		s->state = S_PRE;
	}
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* A chunk line ended: enter its data, or the trailer after the last one. */
static void chunk_line_done(faas__http_strict *s)
{
	s->line_bytes = 0;
	s->hex_digits = 0;
	if (s->remaining == 0) {
		s->trailer = true;
		s->head_bytes = 0;
		s->state = S_HS;
	} else {
		s->state = S_CD;
	}
}

/* ---- the byte scanner ---- */

/* What a state's helper did with one byte. */
enum step { STEP_ON, STEP_STOP, STEP_FAIL };

static enum step fail(faas__http_scan *r, int status, const char *why)
{
	r->status = status;
	r->why = why;
	return STEP_FAIL;
}

/* The third field of the request line: "HTTP/1.0" or "HTTP/1.1". */
static bool version_byte_ok(size_t at, unsigned char c)
{
	if (at < sizeof(version_prefix) - 1)
		return c == (unsigned char)version_prefix[at];
	if (at == sizeof(version_prefix) - 1)
		return c == '0' || c == '1';
	return false;
}

/* A byte of the request line itself: method SP target SP version CR. */
static enum step request_line_byte(faas__http_strict *s, unsigned char c, faas__http_scan *r)
{
	if (c == '\r') {
		if (s->field != 2 || s->field_len != sizeof(version_prefix))
			return fail(r, 400,
			            s->field == 2 ? "invalid HTTP version"
			                          : "malformed request line");
		s->state = S_RL_LF;
	} else if (c == '\n') {
		return fail(r, 400, "bare LF");
	} else if (c == ' ') {
		if (s->field == 2 || s->field_len == 0)
			return fail(r, 400, "malformed request line");
		s->field++;
		s->field_len = 0;
	} else if (is_ctl(c) || c >= 0x80) {
		return fail(r, 400, "control character in the request line");
	} else if (s->field == 0) {
		if (!tchar[c])
			return fail(r, 400, "malformed method");
		s->field_len++;
	} else if (s->field == 1) {
		s->field_len++;
	} else if (!version_byte_ok(s->field_len++, c)) {
		return fail(r, 400, "invalid HTTP version");
	}
	return STEP_ON;
}

/* Empty lines before a message, and its request line. */
static enum step step_request_line(faas__http_strict *s, unsigned char c, faas__http_scan *r)
{
	switch (s->state) {
	case S_PRE:
		if (c == '\r') {
			s->state = S_PRE_LF;
		} else if (c == '\n') {
			return fail(r, 400, "bare LF");
		} else if (tchar[c]) {
			s->state = S_RL;
			s->field = 0;
			s->field_len = 1;
		} else {
			return fail(r, 400, "malformed request line");
		}
		return STEP_ON;
	case S_PRE_LF:
		if (c != '\n')
			return fail(r, 400, "bare CR");
		s->state = S_PRE;
		return STEP_ON;
	case S_RL:
		return request_line_byte(s, c, r);
	default: /* S_RL_LF */
		if (c != '\n')
			return fail(r, 400, "bare CR");
		s->state = S_HS;
		return STEP_ON;
	}
}

/* The empty line that ends a head or a trailer section. */
static enum step section_end(faas__http_strict *s, unsigned char c, faas__http_scan *r)
{
	if (c != '\n')
		return fail(r, 400, "bare CR");
	if (s->trailer) {
		s->trailer = false;
		s->head_bytes = 0;
		s->state = S_PRE;
		r->message_done = true;
	} else {
		s->state = S_FRAMING;
		r->head_done = true;
	}
	return STEP_STOP;
}

/* Header (or trailer) lines: name ":" value CRLF. */
static enum step step_header(faas__http_strict *s, unsigned char c, faas__http_scan *r)
{
	switch (s->state) {
	case S_HS:
		if (c == '\r')
			s->state = S_HE_LF;
		else if (c == '\n')
			return fail(r, 400, "bare LF");
		else if (c == ' ' || c == '\t')
			return fail(r, 400, "obs-fold (line folding)");
		else if (tchar[c])
			s->state = S_HN;
		else
			return fail(r, 400, "invalid header name");
		return STEP_ON;
	case S_HN:
		if (c == ':')
			s->state = S_HV;
		else if (c == ' ' || c == '\t')
			return fail(r, 400, "whitespace before the colon");
		else if (c == '\n')
			return fail(r, 400, "bare LF");
		else if (!tchar[c])
			return fail(r, 400, "invalid header name");
		return STEP_ON;
	case S_HV:
		if (c == '\r')
			s->state = S_HV_LF;
		else if (c == '\n')
			return fail(r, 400, "bare LF");
		else if (is_ctl(c) && c != '\t')
			return fail(r, 400, "control character in a header value");
		return STEP_ON;
	case S_HV_LF:
		if (c != '\n')
			return fail(r, 400, "bare CR");
		s->state = S_HS;
		return STEP_ON;
	default: /* S_HE_LF */
		return section_end(s, c, r);
	}
}

/* The chunk size's hex digits, and what may follow them. */
static enum step step_chunk_size(faas__http_strict *s, unsigned char c, faas__http_scan *r)
{
	int v = faas__hexval(c);

	if (v >= 0) {
		if (++s->hex_digits > 16)
			return fail(r, 400, "malformed chunk size");
		s->remaining = (s->remaining << 4) | (uint64_t)v;
		s->state = S_CS_MORE;
		return STEP_ON;
	}
	if (s->state == S_CS)
		return fail(r, 400, "malformed chunk size");
	if (s->remaining > s->body_limit - s->body_total)
		return fail(r, 413, "chunked body too large");
	s->body_total += s->remaining;
	if (c == '\r')
		s->state = S_CS_LF;
	else if (c == ';')
		s->state = S_CX_NAME_BWS;
	else if (c == ' ' || c == '\t')
		s->state = S_CX_PRE;
	else if (c == '\n')
		return fail(r, 400, "bare LF");
	else
		return fail(r, 400, "malformed chunk size");
	return STEP_ON;
}

/* Chunk extensions' names and the BWS around them. */
static bool chunk_ext_name(faas__http_strict *s, unsigned char c)
{
	bool ws = c == ' ' || c == '\t';

	switch (s->state) {
	case S_CX_PRE:
		if (c == ';')
			s->state = S_CX_NAME_BWS;
		else if (c == '\r')
			s->state = S_CS_LF;
		return c == ';' || c == '\r' || ws;
	case S_CX_NAME_BWS:
		if (tchar[c])
			s->state = S_CX_NAME;
		return tchar[c] || ws;
	default: /* S_CX_NAME, S_CX_AFTER_NAME */
		if (c == '=')
			s->state = S_CX_VAL_BWS;
		else if (c == ';')
			s->state = S_CX_NAME_BWS;
		else if (c == '\r')
			s->state = S_CS_LF;
		else if (ws)
			s->state = S_CX_AFTER_NAME;
		else
			return tchar[c] && s->state == S_CX_NAME;
		return true;
	}
}

/* Chunk extensions' values: a token or a quoted string. */
static bool chunk_ext_value(faas__http_strict *s, unsigned char c)
{
	bool ws = c == ' ' || c == '\t';

	switch (s->state) {
	case S_CX_VAL_BWS:
		if (c == '"')
			s->state = S_CX_QS;
		else if (tchar[c])
			s->state = S_CX_TOK;
		return c == '"' || tchar[c] || ws;
	case S_CX_TOK:
		if (c == ';')
			s->state = S_CX_NAME_BWS;
		else if (c == '\r')
			s->state = S_CS_LF;
		else if (ws)
			s->state = S_CX_PRE;
		return c == ';' || c == '\r' || ws || tchar[c];
	case S_CX_QS:
		if (c == '"')
			s->state = S_CX_PRE;
		else if (c == '\\')
			s->state = S_CX_QP;
		return !is_ctl(c) || c == '\t';
	default: /* S_CX_QP */
		if (is_ctl(c) && c != '\t')
			return false;
		s->state = S_CX_QS;
		return true;
	}
}

static enum step step_chunk_ext(faas__http_strict *s, unsigned char c, faas__http_scan *r)
{
	bool ok = s->state >= S_CX_VAL_BWS ? chunk_ext_value(s, c) : chunk_ext_name(s, c);

	return ok ? STEP_ON : fail(r, 400, "malformed chunk extension");
}

/* The CRLFs that end a chunk-size line and a chunk's data. */
static enum step step_chunk_crlf(faas__http_strict *s, unsigned char c, faas__http_scan *r)
{
	switch (s->state) {
	case S_CS_LF:
		if (c != '\n')
			return fail(r, 400, "bare CR");
		chunk_line_done(s);
		return STEP_ON;
	case S_CD_CR:
		if (c != '\r')
			return fail(r, 400, "chunk data not followed by CRLF");
		s->state = S_CD_LF;
		return STEP_ON;
	default: /* S_CD_LF */
		if (c != '\n')
			return fail(r, 400, "chunk data not followed by CRLF");
		s->state = S_CS;
		return STEP_ON;
	}
}

/* The limits every scanned byte counts against. */
static enum step count_byte(faas__http_strict *s, faas__http_scan *r)
{
	if (s->state == S_FRAMING)
		return fail(r, 400, "no framing for the body"); /* the server's bug, fail closed */
	if (s->state <= S_HE_LF && ++s->head_bytes > s->max_head)
		return fail(r, 431, "header section too large");
	if (s->state >= S_CS && s->state <= S_CS_LF && ++s->line_bytes > FAAS__HTTP_MAX_CHUNK_LINE)
		return fail(r, 400, "chunk-size line too long");
	return STEP_ON;
}

static enum step step_byte(faas__http_strict *s, unsigned char c, faas__http_scan *r)
{
	if (count_byte(s, r) == STEP_FAIL)
		return STEP_FAIL;
	switch (s->state) {
	case S_PRE:
	case S_PRE_LF:
	case S_RL:
	case S_RL_LF:
		return step_request_line(s, c, r);
	case S_HS:
	case S_HN:
	case S_HV:
	case S_HV_LF:
	case S_HE_LF:
		return step_header(s, c, r);
	case S_CS:
	case S_CS_MORE:
		return step_chunk_size(s, c, r);
	case S_CX_PRE:
	case S_CX_NAME_BWS:
	case S_CX_NAME:
	case S_CX_AFTER_NAME:
	case S_CX_VAL_BWS:
	case S_CX_TOK:
	case S_CX_QS:
	case S_CX_QP:
		return step_chunk_ext(s, c, r);
	case S_CS_LF:
	case S_CD_CR:
	case S_CD_LF:
		return step_chunk_crlf(s, c, r);
	default:
		return fail(r, 400, "internal state");
	}
}

/* Body bytes are skipped in bulk: they are the hot path. Returns how many
 * were taken; *done says whether a Content-Length body just ended. */
static size_t skip_body(faas__http_strict *s, size_t avail, bool *done)
{
	uint64_t take = avail < s->remaining ? avail : s->remaining;

	s->remaining -= take;
	*done = false;
	if (s->remaining == 0) {
		if (s->state == S_CD) {
			s->state = S_CD_CR;
		} else {
			s->state = S_PRE;
			*done = true;
		}
	}
	return (size_t)take;
}

faas__http_scan faas__http_strict_scan(faas__http_strict *s, const char *data, size_t len)
{
	faas__http_scan r = {0, 0, NULL, false, false};
	const unsigned char *p = (const unsigned char *)data;
	size_t i = 0;

	while (i < len) {
		enum step st;

		if (s->state == S_BODY || s->state == S_CD) {
			bool done;

			i += skip_body(s, len - i, &done);
			if (done) {
				r.message_done = true;
				break;
			}
			continue;
		}
		st = step_byte(s, p[i], &r);
		if (st == STEP_FAIL)
			break;
		i++;
		if (st == STEP_STOP)
			break;
	}
	r.n = i;
	return r;
}

/* ---- checks of the parsed head ---- */

static bool name_is(const faas__http_header *h, const char *lower, size_t len)
{
	if (h->name_len != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = h->name[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lower[i])
			return false;
	}
	return true;
}

#define NAME_IS(h, lit) name_is((h), lit, sizeof(lit) - 1)

/* Content-Length: 1 to 18 digits, nothing else (no list, no sign). */
static bool content_length(const faas__http_header *h, uint64_t *length)
{
	uint64_t v = 0;

	if (h->value_len == 0 || h->value_len > 18)
		return false;
	for (size_t k = 0; k < h->value_len; k++) {
		char c = h->value[k];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (uint64_t)(c - '0');
	}
	*length = v;
	return true;
}

/* Transfer-Encoding: exactly "chunked", any case. */
static bool only_chunked(const faas__http_header *h)
{
	static const char chunked_lit[] = "chunked";

	if (h->value_len != sizeof(chunked_lit) - 1)
		return false;
	for (size_t k = 0; k < h->value_len; k++) {
		char c = h->value[k];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != chunked_lit[k])
			return false;
	}
	return true;
}

static int bad(const char **why, const char *what)
{
	*why = what;
	return 400;
}

int faas__http_strict_head(const faas__http_header *h, size_t n, int major, int minor,
                           bool *chunked, uint64_t *length, const char **why)
{
	unsigned hosts = 0, lengths = 0, encodings = 0;

	*chunked = false;
	*length = 0;
	if (major != 1 || (minor != 0 && minor != 1))
		return bad(why, "invalid HTTP version");
	for (size_t i = 0; i < n; i++) {
		if (NAME_IS(&h[i], "host")) {
			if (++hosts > 1)
				return bad(why, "duplicate Host");
		} else if (NAME_IS(&h[i], "content-length")) {
			if (++lengths > 1)
				return bad(why, "duplicate Content-Length");
			if (!content_length(&h[i], length))
				return bad(why, "invalid Content-Length");
		} else if (NAME_IS(&h[i], "transfer-encoding")) {
			if (++encodings > 1)
				return bad(why, "repeated Transfer-Encoding");
			if (!only_chunked(&h[i]))
				return bad(why, "unsupported Transfer-Encoding");
			*chunked = true;
		}
	}
	if (encodings && minor == 0)
		return bad(why, "Transfer-Encoding on HTTP/1.0");
	if (encodings && lengths)
		return bad(why, "Content-Length with Transfer-Encoding");
	if (minor == 1 && hosts == 0)
		return bad(why, "missing Host");
	return 0;
}
