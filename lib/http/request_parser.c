/* The feedable request parser (request_parser.h): http-parser's callbacks
 * that build a message, the target split into path and query, the checks
 * of a finished head, and the loop that keeps the strictness layer and
 * http-parser on the same bytes. No socket and no loop here.
 *
 * The strictness scanner runs first and says how many bytes may go to
 * http-parser: up to the end of a head, of a message, or of the data. So
 * http-parser is handed one head or one message at a time, and the reader
 * can insist that both end the message at the same byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pct.h"
#include "request_parser.h"

/* ---- buffers ---- */

int faas__http_grow(char **buf, size_t *cap, size_t need)
{
	size_t n;
	char *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 256;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	p = realloc(*buf, n);
	if (!p)
		return FAAS_ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static int happend(faas__http_message *m, const char *data, size_t n)
{
	if (faas__http_grow(&m->head, &m->head_cap, m->head_len + n) != 0)
		return FAAS_ENOMEM;
	if (n)
		memcpy(m->head + m->head_len, data, n);
	m->head_len += n;
	return 0;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool faas__http_name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (!b[i] || lower(a[i]) != lower(b[i]))
			return false;
	return b[i] == '\0';
}

const char *faas__http_header_get(const faas__http_request *r, const char *name, size_t *len)
{
	if (!r || !name)
		return NULL;
	for (size_t i = 0; i < r->nheaders; i++) {
		if (faas__http_name_eq(r->headers[i].name, r->headers[i].name_len, name)) {
			if (len)
				*len = r->headers[i].value_len;
			return r->headers[i].value;
		}
	}
	return NULL;
}

/* ---- messages ---- */

void faas__http_message_reset(faas__http_message *m)
{
	memset(&m->req, 0, sizeof(m->req));
	m->head_len = m->nhdrs = m->body_len = 0;
	m->url_off = 0;
	m->url_done = m->in_value = m->trailer = false;
	m->keep_alive = true;
	m->head_only = m->want_continue = false;
}

void faas__http_message_trim(faas__http_message *m)
{
	if (m->head_cap > FAAS__HTTP_KEEP_BUF) {
		free(m->head);
		m->head = NULL;
		m->head_cap = 0;
	}
	if (m->body_cap > FAAS__HTTP_KEEP_BUF) {
		free(m->body);
		m->body = NULL;
		m->body_cap = 0;
	}
	if (m->hdrs_cap > FAAS__HTTP_KEEP_BUF / sizeof(*m->hdrs)) {
		free(m->hdrs);
		m->hdrs = NULL;
		m->hdrs_cap = 0;
	}
}

void faas__http_message_free(faas__http_message *m)
{
	free(m->head);
	free(m->hdrs);
	free(m->body);
}

/* ---- http-parser callbacks ---- */

/* A callback refuses the request: the feed reports status and why. */
static int refuse(faas__http_reader *r, int status, const char *why)
{
	r->status = status;
	r->why = why;
	return -1;
}

#define OOM(r) refuse((r), 503, "out of memory")

static int on_message_begin(http_parser *p)
{
	faas__http_reader *r = p->data;

	r->cur = r->cbs.begin(r->arg);
	return r->cur ? 0 : OOM(r);
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	faas__http_reader *r = p->data;

	return happend(r->cur, at, len) == 0 ? 0 : OOM(r);
}

/* Close the piece being built: the target, or the last header's value. */
static int end_piece(faas__http_message *m)
{
	if (!m->url_done) {
		m->url_done = true;
		return happend(m, "", 1);
	}
	if (m->nhdrs > 0 && !m->in_value) {
		/* A header without a value callback: its value is empty. */
		if (happend(m, "", 1) != 0)
			return FAAS_ENOMEM;
		m->hdrs[m->nhdrs - 1].value = (const char *)(uintptr_t)m->head_len;
		m->hdrs[m->nhdrs - 1].value_len = 0;
		m->in_value = true;
	}
	if (m->nhdrs > 0)
		return happend(m, "", 1);
	return 0;
}

static int header_begin(faas__http_message *m)
{
	if (end_piece(m) != 0)
		return FAAS_ENOMEM;
	if (m->nhdrs == m->hdrs_cap) {
		size_t cap = m->hdrs_cap ? m->hdrs_cap * 2 : 16;
		faas__http_header *h = realloc(m->hdrs, cap * sizeof(*h));

		if (!h)
			return FAAS_ENOMEM;
		m->hdrs = h;
		m->hdrs_cap = cap;
	}
	m->hdrs[m->nhdrs].name = (const char *)(uintptr_t)m->head_len;
	m->hdrs[m->nhdrs].name_len = 0;
	m->hdrs[m->nhdrs].value = NULL;
	m->hdrs[m->nhdrs].value_len = 0;
	m->nhdrs++;
	m->in_value = false;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	faas__http_reader *r = p->data;
	faas__http_message *m = r->cur;

	if (m->trailer)
		return 0; /* trailers are checked, not kept */
	if ((m->nhdrs == 0 || m->in_value) && header_begin(m) != 0)
		return OOM(r);
	if (happend(m, at, len) != 0)
		return OOM(r);
	m->hdrs[m->nhdrs - 1].name_len += len;
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	faas__http_reader *r = p->data;
	faas__http_message *m = r->cur;

	if (m->trailer)
		return 0;
	if (!m->in_value) {
		if (happend(m, "", 1) != 0)
			return OOM(r);
		m->hdrs[m->nhdrs - 1].value = (const char *)(uintptr_t)m->head_len;
		m->in_value = true;
	}
	if (happend(m, at, len) != 0)
		return OOM(r);
	m->hdrs[m->nhdrs - 1].value_len += len;
	return 0;
}

/* ---- the finished head ---- */

/* Where the path and the query are in the target (offsets into the head). */
typedef struct target_split {
	size_t path_off, path_len, query_off, query_len;
} target_split;

static int split_target(const faas__http_message *m, target_split *t, const char **why)
{
	const char *target = m->head + m->url_off;
	size_t tlen = strlen(target);
	struct http_parser_url u;

	memset(t, 0, sizeof(*t));
	if (tlen > 0 && target[0] == '/') {
		size_t end = strcspn(target, "?#");

		t->path_off = m->url_off;
		t->path_len = end;
		if (target[end] == '?') {
			t->query_off = m->url_off + end + 1;
			t->query_len = strcspn(target + end + 1, "#");
		}
		return 0;
	}
	if (tlen == 1 && target[0] == '*') {
		t->path_off = m->url_off;
		t->path_len = 1;
		return 0;
	}
	http_parser_url_init(&u);
	if (http_parser_parse_url(target, tlen, 0, &u) != 0) {
		*why = "malformed request target";
		return 400;
	}
	if (u.field_set & (1u << UF_PATH)) {
		t->path_off = m->url_off + u.field_data[UF_PATH].off;
		t->path_len = u.field_data[UF_PATH].len;
	}
	if (u.field_set & (1u << UF_QUERY)) {
		t->query_off = m->url_off + u.field_data[UF_QUERY].off;
		t->query_len = u.field_data[UF_QUERY].len;
	}
	return 0;
}

/* Lay out the raw path, the decoded path and the query after the head's
 * pieces, each NUL-terminated. An absolute-form target without a path
 * means "/". */
static int lay_out_target(faas__http_message *m, const target_split *t, const char **why)
{
	size_t plen = t->path_len ? t->path_len : 1;
	size_t raw_at, dec_at, q_at, dlen;

	if (faas__http_grow(&m->head, &m->head_cap,
	                    m->head_len + 2 * (plen + 1) + t->query_len + 1) != 0)
		return 503;
	raw_at = m->head_len;
	if (t->path_len)
		memcpy(m->head + raw_at, m->head + t->path_off, t->path_len);
	else
		m->head[raw_at] = '/';
	m->head_len += plen;
	m->head[m->head_len++] = '\0';
	dec_at = m->head_len;
	dlen = faas__pct_decode(m->head + dec_at, m->head + raw_at, plen, FAAS__PCT_REJECT_NUL);
	if (dlen == FAAS__PCT_ERROR) {
		*why = "NUL byte in the path";
		return 400;
	}
	m->head_len += dlen;
	m->head[m->head_len++] = '\0';
	q_at = m->head_len;
	if (t->query_len)
		memcpy(m->head + q_at, m->head + t->query_off, t->query_len);
	m->head_len += t->query_len;
	m->head[m->head_len++] = '\0';
	/* Offsets for now: the head buffer does not move from here on. */
	m->req.raw_path = (const char *)(uintptr_t)raw_at;
	m->req.path = (const char *)(uintptr_t)dec_at;
	m->req.query = (const char *)(uintptr_t)q_at;
	return 0;
}

/* Turn the headers' offsets into pointers. */
static void fix_headers(faas__http_message *m)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		faas__http_header *h = &m->hdrs[i];
		char *v = m->head + (uintptr_t)h->value;

		h->name = m->head + (uintptr_t)h->name;
		/* A field value has no trailing whitespace (RFC 9110 §5.5);
		 * http-parser drops only the leading one. */
		while (h->value_len > 0 &&
		       (v[h->value_len - 1] == ' ' || v[h->value_len - 1] == '\t'))
			v[--h->value_len] = '\0';
		h->value = v;
	}
}

/* Split the target into path and query and lay the request's strings out
 * in the head buffer; then turn offsets into pointers. */
static int finish_head(faas__http_reader *r, faas__http_message *m, const char **why)
{
	faas__http_request *q = &m->req;
	target_split t;
	int status;

	if (end_piece(m) != 0)
		return 503;
	status = split_target(m, &t, why);
	if (status == 0)
		status = lay_out_target(m, &t, why);
	if (status != 0)
		return status;
	fix_headers(m);
	q->method = http_method_str((enum http_method)r->hp.method);
	q->target = m->head + m->url_off;
	q->raw_path = m->head + (uintptr_t)q->raw_path;
	q->path = m->head + (uintptr_t)q->path;
	q->query = m->head + (uintptr_t)q->query;
	q->version_minor = r->hp.http_minor;
	q->headers = m->hdrs;
	q->nheaders = m->nhdrs;
	q->body = "";
	q->body_len = 0;
	q->client_ip = r->client_ip;
	q->client_loopback = r->client_loopback;
	q->received_ms = faas__wall_us() / 1000u;
	return 0;
}

/* The head's framing and expectations; 0 or the error answer. */
static int check_head(faas__http_reader *r, faas__http_message *m, bool *chunked, uint64_t *length,
                      const char **why)
{
	http_parser *p = &r->hp;
	int status = finish_head(r, m, why);

	if (status == 0)
		status = faas__http_strict_head(m->hdrs, m->nhdrs, p->http_major, p->http_minor,
		                                chunked, length, why);
	if (status == 0 && p->method == HTTP_CONNECT) {
		status = 400;
		*why = "CONNECT is not served";
	}
	return status;
}

static int on_headers_complete(http_parser *p)
{
	faas__http_reader *r = p->data;
	faas__http_message *m = r->cur;
	const char *why = NULL, *e;
	bool chunked;
	uint64_t length, limit;
	size_t elen;
	int status = check_head(r, m, &chunked, &length, &why);

	if (status != 0)
		return refuse(r, status, why);
	m->trailer = true; /* header callbacks from now on are trailers */
	m->keep_alive = http_should_keep_alive(p) != 0;
	m->head_only = p->method == HTTP_HEAD;
	if (!chunked && length == 0) {
		faas__http_strict_body(&r->strict, false, 0, 0);
		return 0;
	}
	limit =
	    r->cbs.body_limit ? r->cbs.body_limit(r->arg, &m->req) : FAAS__HTTP_DEFAULT_BODY_LIMIT;
	if (!chunked && length > limit)
		return refuse(r, 413, NULL);
	e = faas__http_header_get(&m->req, "Expect", &elen);
	if (e && !faas__http_name_eq(e, elen, "100-continue"))
		return refuse(r, 417, NULL);
	m->want_continue = e && p->http_minor == 1;
	if (!chunked && faas__http_grow(&m->body, &m->body_cap, (size_t)length + 1) != 0)
		return OOM(r);
	faas__http_strict_body(&r->strict, chunked, length, limit);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	faas__http_reader *r = p->data;
	faas__http_message *m = r->cur;

	if (faas__http_grow(&m->body, &m->body_cap, m->body_len + len + 1) != 0)
		return OOM(r);
	memcpy(m->body + m->body_len, at, len);
	m->body_len += len;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	faas__http_reader *r = p->data;
	faas__http_message *m = r->cur;

	if (m->body_len) {
		m->body[m->body_len] = '\0';
		m->req.body = m->body;
		m->req.body_len = m->body_len;
	}
	m->want_continue = false;
	r->cur = NULL;
	r->done = m;
	/* Stop here: the next message gets a fresh parser. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- the reader ---- */

void faas__http_reader_init(faas__http_reader *r, size_t max_head, const faas__http_reader_cbs *cbs,
                            void *arg, const char *client_ip, bool client_loopback)
{
	memset(r, 0, sizeof(*r));
	http_parser_init(&r->hp, HTTP_REQUEST);
	r->hp.data = r;
	faas__http_strict_init(&r->strict, max_head);
	r->cbs = *cbs;
	r->arg = arg;
	r->client_ip = client_ip;
	r->client_loopback = client_loopback;
}

bool faas__http_reader_between(const faas__http_reader *r)
{
	return faas__http_strict_between(&r->strict);
}

bool faas__http_reader_in_body(const faas__http_reader *r)
{
	return faas__http_strict_in_body(&r->strict);
}

static faas__http_read failed(faas__http_reader *r, int status, const char *why)
{
	faas__http_read out = {0, status, why, NULL, NULL};

	r->status = status;
	r->why = why;
	r->done = NULL;
	return out;
}

faas__http_read faas__http_reader_feed(faas__http_reader *r, const char *data, size_t len)
{
	faas__http_read out = {0, 0, NULL, NULL, NULL};
	faas__http_scan s;

	if (r->status)
		return failed(r, r->status, r->why);
	s = faas__http_strict_scan(&r->strict, data, len);
	if (s.n > 0) {
		size_t n = http_parser_execute(&r->hp, &settings, data, s.n);
		enum http_errno e = HTTP_PARSER_ERRNO(&r->hp);

		if (r->status)
			return failed(r, r->status, r->why); /* a callback refused it */
		if (e == HPE_PAUSED)
			http_parser_init(&r->hp, HTTP_REQUEST);
		/* The parser must end the message where the scanner did;
		 * anything else means they disagree about the framing. */
		if ((e != HPE_OK && e != HPE_PAUSED) || n != s.n) {
			if (r->done)
				r->cur = r->done;
			return failed(r, 400, http_errno_description(e));
		}
	}
	if (s.status)
		return failed(r, s.status, s.why);
	out.n = s.n;
	if (s.head_done)
		out.head = r->done ? r->done : r->cur;
	out.message = r->done;
	r->done = NULL;
	return out;
}
