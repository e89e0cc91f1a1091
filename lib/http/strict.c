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

faas__http_scan faas__http_strict_scan(faas__http_strict *s, const char *data, size_t len)
{
	faas__http_scan r = {0, 0, NULL, false, false};
	const unsigned char *p = (const unsigned char *)data;
	size_t i = 0;

#define FAIL(status_, why_)                                                                        \
	do {                                                                                       \
		r.n = i;                                                                           \
		r.status = (status_);                                                              \
		r.why = (why_);                                                                    \
		return r;                                                                          \
	} while (0)

	while (i < len) {
		unsigned char c = p[i];

		/* Body bytes are skipped in bulk: they are the hot path. */
		if (s->state == S_BODY || s->state == S_CD) {
			uint64_t take = len - i < s->remaining ? len - i : s->remaining;

			i += (size_t)take;
			s->remaining -= take;
			if (s->remaining == 0) {
				if (s->state == S_CD) {
					s->state = S_CD_CR;
				} else {
					s->state = S_PRE;
					r.n = i;
					r.message_done = true;
					return r;
				}
			}
			continue;
		}
		if (s->state == S_FRAMING)
			FAIL(400, "no framing for the body"); /* the server's bug, fail closed */
		if (s->state <= S_HE_LF && ++s->head_bytes > s->max_head)
			FAIL(431, "header section too large");
		if (s->state >= S_CS && s->state <= S_CS_LF &&
		    ++s->line_bytes > FAAS__HTTP_MAX_CHUNK_LINE)
			FAIL(400, "chunk-size line too long");

		switch (s->state) {
		case S_PRE:
			if (c == '\r') {
				s->state = S_PRE_LF;
			} else if (c == '\n') {
				FAIL(400, "bare LF");
			} else if (tchar[c]) {
				s->state = S_RL;
				s->field = 0;
				s->field_len = 1;
			} else {
				FAIL(400, "malformed request line");
			}
			break;
		case S_PRE_LF:
			if (c != '\n')
				FAIL(400, "bare CR");
			s->state = S_PRE;
			break;
		case S_RL:
			if (c == '\r') {
				if (s->field != 2 || s->field_len != sizeof(version_prefix))
					FAIL(400, s->field == 2 ? "invalid HTTP version"
					                        : "malformed request line");
				s->state = S_RL_LF;
			} else if (c == '\n') {
				FAIL(400, "bare LF");
			} else if (c == ' ') {
				if (s->field == 2 || s->field_len == 0)
					FAIL(400, "malformed request line");
				s->field++;
				s->field_len = 0;
			} else if (is_ctl(c) || c >= 0x80) {
				FAIL(400, "control character in the request line");
			} else if (s->field == 0) {
				if (!tchar[c])
					FAIL(400, "malformed method");
				s->field_len++;
			} else if (s->field == 1) {
				s->field_len++;
			} else {
				size_t at = s->field_len++;
				bool ok;

				if (at < sizeof(version_prefix) - 1)
					ok = c == (unsigned char)version_prefix[at];
				else if (at == sizeof(version_prefix) - 1)
					ok = c == '0' || c == '1';
				else
					ok = false;
				if (!ok)
					FAIL(400, "invalid HTTP version");
			}
			break;
		case S_RL_LF:
			if (c != '\n')
				FAIL(400, "bare CR");
			s->state = S_HS;
			break;
		case S_HS:
			if (c == '\r') {
				s->state = S_HE_LF;
			} else if (c == '\n') {
				FAIL(400, "bare LF");
			} else if (c == ' ' || c == '\t') {
				FAIL(400, "obs-fold (line folding)");
			} else if (tchar[c]) {
				s->state = S_HN;
			} else {
				FAIL(400, "invalid header name");
			}
			break;
		case S_HN:
			if (c == ':')
				s->state = S_HV;
			else if (c == ' ' || c == '\t')
				FAIL(400, "whitespace before the colon");
			else if (c == '\n')
				FAIL(400, "bare LF");
			else if (!tchar[c])
				FAIL(400, "invalid header name");
			break;
		case S_HV:
			if (c == '\r')
				s->state = S_HV_LF;
			else if (c == '\n')
				FAIL(400, "bare LF");
			else if (is_ctl(c) && c != '\t')
				FAIL(400, "control character in a header value");
			break;
		case S_HV_LF:
			if (c != '\n')
				FAIL(400, "bare CR");
			s->state = S_HS;
			break;
		case S_HE_LF:
			if (c != '\n')
				FAIL(400, "bare CR");
			i++;
			r.n = i;
			if (s->trailer) {
				s->trailer = false;
				s->head_bytes = 0;
				s->state = S_PRE;
				r.message_done = true;
			} else {
				s->state = S_FRAMING;
				r.head_done = true;
			}
			return r;
		case S_CS:
		case S_CS_MORE: {
			int v = faas__hexval(c);

			if (v >= 0) {
				if (++s->hex_digits > 16)
					FAIL(400, "malformed chunk size");
				s->remaining = (s->remaining << 4) | (uint64_t)v;
				s->state = S_CS_MORE;
				break;
			}
			if (s->state == S_CS)
				FAIL(400, "malformed chunk size");
			if (s->remaining > s->body_limit - s->body_total)
				FAIL(413, "chunked body too large");
			s->body_total += s->remaining;
			if (c == '\r')
				s->state = S_CS_LF;
			else if (c == ';')
				s->state = S_CX_NAME_BWS;
			else if (c == ' ' || c == '\t')
				s->state = S_CX_PRE;
			else if (c == '\n')
				FAIL(400, "bare LF");
			else
				FAIL(400, "malformed chunk size");
			break;
		}
		case S_CX_PRE:
			if (c == ';')
				s->state = S_CX_NAME_BWS;
			else if (c == '\r')
				s->state = S_CS_LF;
			else if (c != ' ' && c != '\t')
				FAIL(400, "malformed chunk extension");
			break;
		case S_CX_NAME_BWS:
			if (tchar[c])
				s->state = S_CX_NAME;
			else if (c != ' ' && c != '\t')
				FAIL(400, "malformed chunk extension");
			break;
		case S_CX_NAME:
		case S_CX_AFTER_NAME:
			if (c == '=')
				s->state = S_CX_VAL_BWS;
			else if (c == ';')
				s->state = S_CX_NAME_BWS;
			else if (c == '\r')
				s->state = S_CS_LF;
			else if (c == ' ' || c == '\t')
				s->state = S_CX_AFTER_NAME;
			else if (!(tchar[c] && s->state == S_CX_NAME))
				FAIL(400, "malformed chunk extension");
			break;
		case S_CX_VAL_BWS:
			if (c == '"')
				s->state = S_CX_QS;
			else if (tchar[c])
				s->state = S_CX_TOK;
			else if (c != ' ' && c != '\t')
				FAIL(400, "malformed chunk extension");
			break;
		case S_CX_TOK:
			if (c == ';')
				s->state = S_CX_NAME_BWS;
			else if (c == '\r')
				s->state = S_CS_LF;
			else if (c == ' ' || c == '\t')
				s->state = S_CX_PRE;
			else if (!tchar[c])
				FAIL(400, "malformed chunk extension");
			break;
		case S_CX_QS:
			if (c == '"')
				s->state = S_CX_PRE;
			else if (c == '\\')
				s->state = S_CX_QP;
			else if (is_ctl(c) && c != '\t')
				FAIL(400, "malformed chunk extension");
			break;
		case S_CX_QP:
			if (is_ctl(c) && c != '\t')
				FAIL(400, "malformed chunk extension");
			s->state = S_CX_QS;
			break;
		case S_CS_LF:
			if (c != '\n')
				FAIL(400, "bare CR");
			chunk_line_done(s);
			break;
		case S_CD_CR:
			if (c != '\r')
				FAIL(400, "chunk data not followed by CRLF");
			s->state = S_CD_LF;
			break;
		case S_CD_LF:
			if (c != '\n')
				FAIL(400, "chunk data not followed by CRLF");
			s->state = S_CS;
			break;
		default:
			FAIL(400, "internal state");
		}
		i++;
	}
	r.n = i;
	return r;
#undef FAIL
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

int faas__http_strict_head(const faas__http_header *h, size_t n, int major, int minor,
                           bool *chunked, uint64_t *length, const char **why)
{
	unsigned hosts = 0, lengths = 0, encodings = 0;

	*chunked = false;
	*length = 0;
	if (major != 1 || (minor != 0 && minor != 1)) {
		*why = "invalid HTTP version";
		return 400;
	}
	for (size_t i = 0; i < n; i++) {
		if (NAME_IS(&h[i], "host")) {
			if (++hosts > 1) {
				*why = "duplicate Host";
				return 400;
			}
		} else if (NAME_IS(&h[i], "content-length")) {
			uint64_t v = 0;

			if (++lengths > 1) {
				*why = "duplicate Content-Length";
				return 400;
			}
			if (h[i].value_len == 0 || h[i].value_len > 18) {
				*why = "invalid Content-Length";
				return 400;
			}
			for (size_t k = 0; k < h[i].value_len; k++) {
				char c = h[i].value[k];

				if (c < '0' || c > '9') {
					*why = "invalid Content-Length";
					return 400;
				}
				v = v * 10 + (uint64_t)(c - '0');
			}
			*length = v;
		} else if (NAME_IS(&h[i], "transfer-encoding")) {
			static const char chunked_lit[] = "chunked";
			bool ok = h[i].value_len == sizeof(chunked_lit) - 1;

			if (++encodings > 1) {
				*why = "repeated Transfer-Encoding";
				return 400;
			}
			for (size_t k = 0; ok && k < h[i].value_len; k++) {
				char c = h[i].value[k];

				if (c >= 'A' && c <= 'Z')
					c = (char)(c - 'A' + 'a');
				ok = c == chunked_lit[k];
			}
			if (!ok) {
				*why = "unsupported Transfer-Encoding";
				return 400;
			}
			*chunked = true;
		}
	}
	if (encodings && minor == 0) {
		*why = "Transfer-Encoding on HTTP/1.0";
		return 400;
	}
	if (encodings && lengths) {
		*why = "Content-Length with Transfer-Encoding";
		return 400;
	}
	if (minor == 1 && hosts == 0) {
		*why = "missing Host";
		return 400;
	}
	return 0;
}
