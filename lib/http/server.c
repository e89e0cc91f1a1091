/* The HTTP/1.1 server under the HTTP trigger: a libuv listener, its
 * connections, parsing with http-parser behind the strictness layer
 * (http_strict.c), timeouts, keep-alive and pipelining, and writing answers.
 *
 * Memory. Each connection parses into exchanges: one per request, holding
 * the head (method, target, path, header names and values, NUL-separated in
 * one buffer), the body and, once answered, the response bytes. Exchanges
 * are queued per connection in request order and answers leave in that
 * order, whatever order they are made in. A connection keeps a couple of
 * spent exchanges with their buffers for its next requests, so a keep-alive
 * connection in steady state allocates nothing here. All connections of a
 * server read into one buffer: reads are consumed before the next one, and
 * only bytes left unprocessed when reading pauses are copied.
 *
 * Lifetimes are in http_server.h. The rule that keeps it safe: a connection
 * is freed only once its handles' close callbacks ran and no exchange,
 * write or shutdown refers to it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <http_parser.h>

#include "http_server.h"

enum xstate {
	X_PARSING = 0, /* request being read */
	X_WAITING,     /* complete, handed to the trigger, no answer yet */
	X_READY,       /* answered, waiting for the answers before it */
	X_WRITING      /* handed to uv_write (or the detached written list) */
};

struct faas__http_exchange {
	faas__http_conn *c;
	faas__http_exchange *next; /* the connection's queue, or its spares */
	int state;
	faas__http_request req;

	char *head; /* the parsed head, NUL-separated pieces */
	size_t head_len, head_cap;
	faas__http_header *hdrs; /* offsets into head until the head is done */
	size_t nhdrs, hdrs_cap;
	size_t url_off;
	bool url_done, in_value, value_seen, trailer;
	char *body;
	size_t body_len, body_cap;

	faas__http_abort_fn abort; /* called if the client goes before the answer */
	void *abort_arg;
	bool keep_alive, head_only, want_continue;

	char *out; /* the response: head and body */
	size_t out_len, out_cap;
	uv_write_t wr;
};

struct faas__http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	faas__http_server *srv;
	unsigned int refs; /* handles (until closed) + exchanges + requests */
	unsigned int handles_open;
	http_parser parser;
	faas__http_strict strict;
	faas__http_exchange *cur;  /* being parsed; also in the queue */
	faas__http_exchange *done; /* completed by the parser, to dispatch */
	faas__http_exchange *qhead, *qtail;
	faas__http_exchange *spare;
	unsigned int nspare;
	unsigned int nx;                             /* exchanges alive (queued or being written) */
	faas__http_exchange *written, *written_tail; /* detached: awaiting completion */

	char *left; /* unprocessed input kept while paused */
	size_t left_len, left_off;

	uint64_t accepted_ms, msg_start_ms, body_start_ms, last_active_ms, timer_due;
	size_t linger_bytes;
	uv_shutdown_t shut;

	unsigned int in_process; /* conn_process frames on the stack */
	bool detached, reading, closing, lingering, stop_parsing, served;
	bool client_loopback;
	char client_ip[48];
	struct faas__http_conn *prev, *next;
};

struct faas__http_server {
	uv_loop_t *loop;
	uv_tcp_t *listener;     /* NULL when detached */
	faas_http_options opts; /* host and token point at copies */
	faas_trigger *trigger;  /* NULL once the owner let go */
	faas__http_server_cbs cbs;
	void *arg;
	unsigned int refs;         /* owner + listener + connections in memory */
	unsigned int open_handles; /* listener + connections not yet closed */
	unsigned int nconns;
	faas__http_conn *conns;
	bool stopping, closing, closed_reported;
	uint16_t port;
	char *rbuf;
	time_t date_sec;
	char date[40];
};

static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void conn_close(faas__http_conn *c);
static void conn_error(faas__http_conn *c, int status, const char *why);
static void conn_resume(faas__http_conn *c);
static void conn_timer_update(faas__http_conn *c);
static void flush(faas__http_conn *c);

/* ---- small helpers ---- */

static uint64_t wall_ms(void)
{
	return faas__wall_us() / 1000u;
}

static int grow(char **buf, size_t *cap, size_t need)
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

static int append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (grow(buf, cap, *len + n) != 0)
		return FAAS_ENOMEM;
	if (n)
		memcpy(*buf + *len, data, n);
	*len += n;
	return 0;
}

static int xappend(faas__http_exchange *x, const char *data, size_t n)
{
	return append(&x->head, &x->head_len, &x->head_cap, data, n);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (!b[i] || lower(a[i]) != lower(b[i]))
			return false;
	return b[i] == '\0';
}

/* ---- server references ---- */

static void server_free(faas__http_server *srv)
{
	free((char *)srv->opts.host);
	free((char *)srv->opts.bearer_token);
	free(srv->rbuf);
	free(srv);
}

static void server_unref(faas__http_server *srv)
{
	if (--srv->refs == 0)
		server_free(srv);
}

static void server_handle_closed(faas__http_server *srv)
{
	srv->open_handles--;
	if (srv->closing && srv->open_handles == 0 && !srv->closed_reported) {
		srv->closed_reported = true;
		if (srv->cbs.closed)
			srv->cbs.closed(srv->arg);
	}
}

/* ---- exchanges ---- */

static void exchange_trim(faas__http_exchange *x)
{
	/* One large request must not pin its buffers for the connection's life. */
	if (x->head_cap > FAAS__HTTP_KEEP_BUF) {
		free(x->head);
		x->head = NULL;
		x->head_cap = 0;
	}
	if (x->body_cap > FAAS__HTTP_KEEP_BUF) {
		free(x->body);
		x->body = NULL;
		x->body_cap = 0;
	}
	if (x->out_cap > FAAS__HTTP_KEEP_BUF) {
		free(x->out);
		x->out = NULL;
		x->out_cap = 0;
	}
	if (x->hdrs_cap > FAAS__HTTP_KEEP_BUF / sizeof(*x->hdrs)) {
		free(x->hdrs);
		x->hdrs = NULL;
		x->hdrs_cap = 0;
	}
}

static void exchange_free(faas__http_exchange *x)
{
	free(x->head);
	free(x->hdrs);
	free(x->body);
	free(x->out);
	free(x);
}

static void conn_unref(faas__http_conn *c)
{
	faas__http_server *srv;

	if (--c->refs > 0)
		return;
	srv = c->srv;
	while (c->spare) {
		faas__http_exchange *x = c->spare;

		c->spare = x->next;
		exchange_free(x);
	}
	free(c->left);
	free(c);
	server_unref(srv);
}

static faas__http_exchange *exchange_new(faas__http_conn *c)
{
	faas__http_exchange *x = c->spare;

	if (x) {
		c->spare = x->next;
		c->nspare--;
	} else {
		x = calloc(1, sizeof(*x));
		if (!x)
			return NULL;
	}
	x->c = c;
	x->next = NULL;
	x->state = X_PARSING;
	memset(&x->req, 0, sizeof(x->req));
	x->head_len = x->nhdrs = x->body_len = x->out_len = 0;
	x->url_off = 0;
	x->url_done = x->in_value = x->value_seen = x->trailer = false;
	x->abort = NULL;
	x->keep_alive = true;
	x->head_only = x->want_continue = false;
	if (c->qtail)
		c->qtail->next = x;
	else
		c->qhead = x;
	c->qtail = x;
	c->nx++;
	c->refs++;
	return x;
}

static void queue_remove(faas__http_conn *c, faas__http_exchange *x)
{
	faas__http_exchange *prev = NULL;

	for (faas__http_exchange *q = c->qhead; q; prev = q, q = q->next) {
		if (q != x)
			continue;
		if (prev)
			prev->next = x->next;
		else
			c->qhead = x->next;
		if (c->qtail == x)
			c->qtail = prev;
		x->next = NULL;
		return;
	}
}

/* The exchange is out of every list: give it back. */
static void exchange_release(faas__http_exchange *x)
{
	faas__http_conn *c = x->c;

	c->nx--;
	x->abort = NULL;
	if (c->nspare < FAAS__HTTP_SPARE && !c->closing) {
		exchange_trim(x);
		x->next = c->spare;
		c->spare = x;
		c->nspare++;
	} else {
		exchange_free(x);
	}
	conn_unref(c);
}

/* ---- parsing callbacks ---- */

static int on_message_begin(http_parser *p)
{
	faas__http_conn *c = p->data;

	c->cur = exchange_new(c);
	if (!c->cur) {
		conn_error(c, 503, "out of memory");
		return -1;
	}
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	faas__http_conn *c = p->data;

	if (xappend(c->cur, at, len) != 0) {
		conn_error(c, 503, "out of memory");
		return -1;
	}
	return 0;
}

/* Close the piece being built: the target, or the last header's value. */
static int end_piece(faas__http_exchange *x)
{
	if (!x->url_done) {
		x->url_done = true;
		return xappend(x, "", 1);
	}
	if (x->nhdrs > 0 && !x->in_value) {
		/* A header without a value callback: its value is empty. */
		if (xappend(x, "", 1) != 0)
			return FAAS_ENOMEM;
		x->hdrs[x->nhdrs - 1].value = (const char *)(uintptr_t)x->head_len;
		x->hdrs[x->nhdrs - 1].value_len = 0;
		x->in_value = true;
	}
	if (x->nhdrs > 0)
		return xappend(x, "", 1);
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	faas__http_conn *c = p->data;
	faas__http_exchange *x = c->cur;

	if (x->trailer)
		return 0; /* trailers are checked, not kept */
	if (x->nhdrs == 0 || x->in_value) {
		if (end_piece(x) != 0)
			goto oom;
		if (x->nhdrs == x->hdrs_cap) {
			size_t cap = x->hdrs_cap ? x->hdrs_cap * 2 : 16;
			faas__http_header *h = realloc(x->hdrs, cap * sizeof(*h));

			if (!h)
				goto oom;
			x->hdrs = h;
			x->hdrs_cap = cap;
		}
		x->hdrs[x->nhdrs].name = (const char *)(uintptr_t)x->head_len;
		x->hdrs[x->nhdrs].name_len = 0;
		x->hdrs[x->nhdrs].value = NULL;
		x->hdrs[x->nhdrs].value_len = 0;
		x->nhdrs++;
		x->in_value = false;
	}
	if (xappend(x, at, len) != 0)
		goto oom;
	x->hdrs[x->nhdrs - 1].name_len += len;
	return 0;
oom:
	conn_error(c, 503, "out of memory");
	return -1;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	faas__http_conn *c = p->data;
	faas__http_exchange *x = c->cur;

	if (x->trailer)
		return 0;
	if (!x->in_value) {
		if (xappend(x, "", 1) != 0)
			goto oom;
		x->hdrs[x->nhdrs - 1].value = (const char *)(uintptr_t)x->head_len;
		x->in_value = true;
	}
	if (xappend(x, at, len) != 0)
		goto oom;
	x->hdrs[x->nhdrs - 1].value_len += len;
	return 0;
oom:
	conn_error(c, 503, "out of memory");
	return -1;
}

/* Percent-decode src into dst (which has room for n bytes). '+' stays '+':
 * it means a space only in query strings. Invalid escapes are kept as they
 * are. Returns the decoded length, or SIZE_MAX if a NUL byte came out. */
static size_t path_decode(char *dst, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (src[i] == '%' && i + 2 < n && (hi = faas__hexval(src[i + 1])) >= 0 &&
		    (lo = faas__hexval(src[i + 2])) >= 0) {
			char ch = (char)(hi * 16 + lo);

			if (ch == '\0')
				return SIZE_MAX;
			dst[o++] = ch;
			i += 2;
		} else {
			dst[o++] = src[i];
		}
	}
	return o;
}

/* Split the target into path and query and lay the request's strings out
 * in the head buffer; then turn offsets into pointers. */
static int finish_head(faas__http_conn *c, faas__http_exchange *x, const char **why)
{
	const char *target;
	size_t tlen, path_off, path_len, query_off = 0, query_len = 0;
	size_t raw_at, dec_at, q_at, dlen;
	struct http_parser_url u;

	if (end_piece(x) != 0)
		return 503;
	target = x->head + x->url_off;
	tlen = strlen(target);
	if (tlen > 0 && target[0] == '/') {
		size_t end = strcspn(target, "?#");

		path_off = x->url_off;
		path_len = end;
		if (target[end] == '?') {
			query_off = x->url_off + end + 1;
			query_len = strcspn(target + end + 1, "#");
		}
	} else if (tlen == 1 && target[0] == '*') {
		path_off = x->url_off;
		path_len = 1;
	} else {
		http_parser_url_init(&u);
		if (http_parser_parse_url(target, tlen, 0, &u) != 0) {
			*why = "malformed request target";
			return 400;
		}
		if (u.field_set & (1u << UF_PATH)) {
			path_off = x->url_off + u.field_data[UF_PATH].off;
			path_len = u.field_data[UF_PATH].len;
		} else {
			path_off = 0;
			path_len = 0;
		}
		if (u.field_set & (1u << UF_QUERY)) {
			query_off = x->url_off + u.field_data[UF_QUERY].off;
			query_len = u.field_data[UF_QUERY].len;
		}
	}
	/* raw path, decoded path, query: each NUL-terminated. An absolute-form
	 * target without a path means "/". */
	if (grow(&x->head, &x->head_cap, x->head_len + 2 * (path_len + 2) + query_len + 1) != 0)
		return 503;
	raw_at = x->head_len;
	if (path_len)
		memcpy(x->head + raw_at, x->head + path_off, path_len);
	else
		x->head[raw_at] = '/';
	x->head_len += (path_len ? path_len : 1);
	x->head[x->head_len++] = '\0';
	dec_at = x->head_len;
	dlen = path_decode(x->head + dec_at, x->head + raw_at, path_len ? path_len : 1);
	if (dlen == SIZE_MAX) {
		*why = "NUL byte in the path";
		return 400;
	}
	x->head_len += dlen;
	x->head[x->head_len++] = '\0';
	q_at = x->head_len;
	if (query_len)
		memcpy(x->head + q_at, x->head + query_off, query_len);
	x->head_len += query_len;
	x->head[x->head_len++] = '\0';

	for (size_t i = 0; i < x->nhdrs; i++) {
		faas__http_header *h = &x->hdrs[i];
		char *v = x->head + (uintptr_t)h->value;

		h->name = x->head + (uintptr_t)h->name;
		/* A field value has no trailing whitespace (RFC 9110 §5.5);
		 * http-parser drops only the leading one. */
		while (h->value_len > 0 &&
		       (v[h->value_len - 1] == ' ' || v[h->value_len - 1] == '\t'))
			v[--h->value_len] = '\0';
		h->value = v;
	}
	x->req.method = http_method_str((enum http_method)c->parser.method);
	x->req.target = x->head + x->url_off;
	x->req.raw_path = x->head + raw_at;
	x->req.path = x->head + dec_at;
	x->req.query = x->head + q_at;
	x->req.version_minor = c->parser.http_minor;
	x->req.headers = x->hdrs;
	x->req.nheaders = x->nhdrs;
	x->req.body = "";
	x->req.body_len = 0;
	x->req.client_ip = c->client_ip;
	x->req.client_loopback = c->client_loopback;
	x->req.received_ms = wall_ms();
	return 0;
}

static uint64_t now_ms(faas__http_conn *c)
{
	return c->detached ? 0 : uv_now(c->srv->loop);
}

static void on_continue_written(uv_write_t *req, int status)
{
	faas__http_conn *c = req->data;

	(void)status;
	free(req);
	conn_unref(c);
}

static void send_continue(faas__http_conn *c, faas__http_exchange *x)
{
	uv_write_t *req;
	uv_buf_t buf;

	x->want_continue = false;
	if (c->detached || c->closing)
		return;
	req = malloc(sizeof(*req));
	if (!req)
		return; /* the client sends its body after a while anyway */
	req->data = c;
	buf = uv_buf_init((char *)CONTINUE, sizeof(CONTINUE) - 1);
	c->refs++;
	if (uv_write(req, (uv_stream_t *)&c->tcp, &buf, 1, on_continue_written) != 0) {
		free(req);
		conn_unref(c);
	}
}

static int on_headers_complete(http_parser *p)
{
	faas__http_conn *c = p->data;
	faas__http_exchange *x = c->cur;
	faas__http_server *srv = c->srv;
	const char *why = NULL;
	bool chunked;
	uint64_t length, limit;
	int status;

	status = finish_head(c, x, &why);
	if (status == 0)
		status = faas__http_strict_head(x->hdrs, x->nhdrs, p->http_major, p->http_minor,
		                                &chunked, &length, &why);
	if (status == 0 && p->method == HTTP_CONNECT) {
		status = 400;
		why = "CONNECT is not served";
	}
	if (status != 0) {
		conn_error(c, status, why);
		return -1;
	}
	x->trailer = true; /* header callbacks from now on are trailers */
	x->keep_alive = http_should_keep_alive(p) != 0;
	x->head_only = p->method == HTTP_HEAD;
	if (!chunked && length == 0) {
		faas__http_strict_body(&c->strict, false, 0, 0);
		return 0;
	}
	limit = srv->trigger && srv->cbs.body_limit ? srv->cbs.body_limit(srv->arg, &x->req)
	                                            : FAAS__HTTP_DEFAULT_BODY_LIMIT;
	if (!chunked && length > limit) {
		conn_error(c, 413, NULL);
		return -1;
	}
	{
		size_t elen;
		const char *e = faas__http_header_get(&x->req, "Expect", &elen);

		if (e && !ieq(e, elen, "100-continue")) {
			conn_error(c, 417, NULL);
			return -1;
		}
		x->want_continue = e && p->http_minor == 1;
	}
	if (!chunked && grow(&x->body, &x->body_cap, (size_t)length + 1) != 0) {
		conn_error(c, 503, "out of memory");
		return -1;
	}
	faas__http_strict_body(&c->strict, chunked, length, limit);
	c->body_start_ms = now_ms(c);
	if (x->want_continue && c->qhead == x)
		send_continue(c, x);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	faas__http_conn *c = p->data;
	faas__http_exchange *x = c->cur;

	if (grow(&x->body, &x->body_cap, x->body_len + len + 1) != 0) {
		conn_error(c, 503, "out of memory");
		return -1;
	}
	memcpy(x->body + x->body_len, at, len);
	x->body_len += len;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	faas__http_conn *c = p->data;
	faas__http_exchange *x = c->cur;

	if (x->body_len) {
		x->body[x->body_len] = '\0';
		x->req.body = x->body;
		x->req.body_len = x->body_len;
	}
	x->want_continue = false;
	c->cur = NULL;
	c->done = x;
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

/* ---- processing input ---- */

static void dispatch(faas__http_conn *c, faas__http_exchange *x)
{
	faas__http_server *srv = c->srv;

	x->state = X_WAITING;
	c->served = true;
	if (srv->stopping || !srv->trigger || !srv->cbs.dispatch) {
		faas__http_respond_error(x, 503, "Service Unavailable");
		return;
	}
	srv->cbs.dispatch(srv->arg, x);
}

/* Feed bytes through the strictness layer and the parser; dispatch each
 * complete request. Returns how many bytes were used: fewer than len only
 * when reading must pause (too many requests waiting). */
static size_t conn_process(faas__http_conn *c, const char *data, size_t len)
{
	size_t used = 0;

	c->in_process++;
	while (used < len && !c->stop_parsing && !c->closing) {
		faas__http_scan r;

		if (faas__http_strict_between(&c->strict)) {
			if (c->nx >= FAAS__HTTP_MAX_PIPELINE)
				break;
			c->msg_start_ms = now_ms(c);
		}
		r = faas__http_strict_scan(&c->strict, data + used, len - used);
		if (r.n > 0) {
			size_t n = http_parser_execute(&c->parser, &settings, data + used, r.n);
			enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);

			if (c->stop_parsing || c->closing)
				break; /* a callback refused the request */
			if (e == HPE_PAUSED)
				http_parser_init(&c->parser, HTTP_REQUEST);
			/* The parser must end the message where the scanner did;
			 * anything else means they disagree about the framing. */
			if ((e != HPE_OK && e != HPE_PAUSED) || n != r.n) {
				if (c->done) {
					c->cur = c->done;
					c->done = NULL;
				}
				conn_error(c, 400, http_errno_description(e));
				break;
			}
		}
		if (r.status) {
			conn_error(c, r.status, r.why);
			break;
		}
		used += r.n;
		if (c->done) {
			faas__http_exchange *x = c->done;

			c->done = NULL;
			if (!x->keep_alive || c->srv->stopping) {
				/* Nothing after this request is read. */
				x->keep_alive = false;
				c->stop_parsing = true;
			}
			dispatch(c, x);
		}
	}
	c->in_process--;
	return c->stop_parsing || c->closing ? len : used;
}

static void conn_read_stop(faas__http_conn *c)
{
	if (c->reading && !c->detached)
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = false;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	faas__http_conn *c = h->data;

	(void)suggested;
	/* One buffer for the whole server: a read is consumed (or its rest
	 * copied) before the loop reads from anything else. */
	*buf = uv_buf_init(c->srv->rbuf, FAAS__HTTP_READ_BUF);
}

/* Take input: process it, and keep what could not be used yet. */
static void conn_input(faas__http_conn *c, const char *data, size_t len)
{
	size_t used;

	if (c->closing)
		return;
	if (c->lingering) {
		c->linger_bytes += len;
		if (c->linger_bytes > FAAS__HTTP_LINGER_MAX)
			conn_close(c);
		return;
	}
	if (c->left) {
		/* Paused with input kept: new input can only follow it. */
		char *p = realloc(c->left, c->left_len + len);

		if (!p) {
			conn_close(c);
			return;
		}
		memcpy(p + c->left_len, data, len);
		c->left = p;
		c->left_len += len;
		conn_read_stop(c);
		return;
	}
	used = conn_process(c, data, len);
	if (used < len && !c->closing) {
		c->left = malloc(len - used);
		if (!c->left) {
			conn_close(c);
			return;
		}
		memcpy(c->left, data + used, len - used);
		c->left_len = len - used;
		c->left_off = 0;
		conn_read_stop(c);
	} else if (c->nx >= FAAS__HTTP_MAX_PIPELINE) {
		conn_read_stop(c);
	}
	conn_timer_update(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	faas__http_conn *c = stream->data;

	if (nread == 0)
		return;
	if (nread < 0) {
		/* EOF or an error: the client is gone (a half-close included),
		 * so whatever it was waiting for is cancelled. */
		conn_close(c);
		return;
	}
	conn_input(c, buf->base, (size_t)nread);
}

static void conn_read_start(faas__http_conn *c)
{
	if (c->reading || c->closing || c->detached)
		return;
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
		c->reading = true;
	else
		conn_close(c);
}

/* Reading may go on: fewer requests wait, or an answer was written. */
static void conn_resume(faas__http_conn *c)
{
	if (c->closing || c->lingering)
		return;
	if (c->left && !c->stop_parsing && c->nx < FAAS__HTTP_MAX_PIPELINE) {
		size_t n = conn_process(c, c->left + c->left_off, c->left_len - c->left_off);

		c->left_off += n;
		if (c->left_off == c->left_len || c->stop_parsing || c->closing) {
			free(c->left);
			c->left = NULL;
			c->left_len = c->left_off = 0;
		}
	}
	if (!c->left && c->nx < FAAS__HTTP_MAX_PIPELINE)
		conn_read_start(c);
	conn_timer_update(c);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t)
{
	faas__http_conn *c = t->data;

	c->timer_due = 0;
	if (c->lingering) {
		conn_close(c);
	} else if (!faas__http_strict_between(&c->strict) && !c->stop_parsing) {
		conn_error(c, 408, NULL);
	} else if (c->nx == 0) {
		/* Idle keep-alive, or a connection that never sent a byte. */
		conn_close(c);
	}
}

static void conn_timer_update(faas__http_conn *c)
{
	const faas_http_options *o = &c->srv->opts;
	uint64_t now, due;

	if (c->detached || c->closing || c->lingering)
		return;
	if (c->stop_parsing) {
		due = 0;
	} else if (!faas__http_strict_between(&c->strict)) {
		due = faas__http_strict_in_body(&c->strict)
		          ? c->body_start_ms + o->body_timeout_ms
		          : c->msg_start_ms + o->header_timeout_ms;
	} else if (c->nx > 0) {
		due = 0; /* the handlers' own deadlines apply */
	} else if (c->served) {
		due = c->last_active_ms + o->idle_timeout_ms;
	} else {
		due = c->accepted_ms + o->header_timeout_ms;
	}
	if (due == c->timer_due)
		return;
	c->timer_due = due;
	if (due == 0) {
		uv_timer_stop(&c->timer);
		return;
	}
	now = uv_now(c->srv->loop);
	uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

/* ---- closing ---- */

static void on_conn_handle_closed(uv_handle_t *h)
{
	faas__http_conn *c = h->data;

	if (--c->handles_open > 0)
		return;
	server_handle_closed(c->srv);
	conn_unref(c);
}

static void conn_unlink(faas__http_conn *c)
{
	faas__http_server *srv = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else if (srv->conns == c)
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	srv->nconns--;
}

/* Close at once: the client is gone, or must go. Invocations waiting for
 * an answer are cancelled; their answers will go nowhere. */
static void conn_close(faas__http_conn *c)
{
	faas__http_exchange *x, *next;

	if (c->closing)
		return;
	c->closing = true;
	c->reading = false;
	free(c->left);
	c->left = NULL;
	c->left_len = c->left_off = 0;
	c->cur = NULL;
	c->done = NULL;
	conn_unlink(c);
	for (x = c->qhead; x; x = next) {
		next = x->next;
		if (x->state == X_WAITING) {
			if (x->abort)
				x->abort(x->abort_arg);
			continue;
		}
		queue_remove(c, x);
		exchange_release(x);
	}
	if (c->detached) {
		conn_unref(c);
		return;
	}
	uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	faas__http_conn *c = req->data;

	(void)status;
	conn_unref(c);
}

/* The last answer is written: send FIN, then read and drop what the
 * client still sends for a while, so that closing does not reset the
 * connection under an answer the client has not read yet. */
static void conn_linger(faas__http_conn *c)
{
	if (c->closing || c->lingering)
		return;
	if (c->detached) {
		conn_close(c);
		return;
	}
	/* Input kept while paused goes with the connection (conn_process may
	 * be reading it right now). */
	c->lingering = true;
	c->shut.data = c;
	c->refs++;
	if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
		conn_unref(c);
		conn_close(c);
		return;
	}
	conn_read_start(c);
	c->timer_due = 0;
	uv_timer_start(&c->timer, on_timer, FAAS__HTTP_LINGER_MS, 0);
}

/* A request the server refuses by itself (400, 408, 413, 417, 431): the
 * answer goes after those before it, and then the connection closes. */
static void conn_error(faas__http_conn *c, int status, const char *why)
{
	faas__http_exchange *x;
	char msg[160];
	const char *text;

	if (c->stop_parsing || c->closing)
		return;
	c->stop_parsing = true;
	x = c->cur ? c->cur : exchange_new(c);
	c->cur = NULL;
	if (!x) {
		conn_close(c);
		return;
	}
	x->state = X_WAITING;
	x->keep_alive = false;
	x->head_only = false;
	x->want_continue = false;
	switch (status) {
	case 400:
		snprintf(msg, sizeof(msg), "Bad Request%s%s", why ? ": " : "", why ? why : "");
		text = msg;
		break;
	case 408:
		text = "Request Timeout";
		break;
	case 413:
		text = "Request Too Long";
		break;
	case 417:
		text = "Expectation Failed";
		break;
	case 431:
		text = "Request Header Fields Too Large";
		break;
	default:
		text = why ? why : "Service Unavailable";
		break;
	}
	faas__http_respond_error(x, status, text);
	conn_timer_update(c);
}

/* ---- writing ---- */

/* An answer left, or failed to. The caller holds a reference to c. */
static void answer_sent(faas__http_conn *c, faas__http_exchange *x, int status)
{
	bool keep = x->keep_alive;

	exchange_release(x);
	if (status < 0) {
		conn_close(c);
	} else if (!c->closing) {
		c->last_active_ms = now_ms(c);
		if (!keep)
			conn_linger(c);
	}
}

static void write_done(faas__http_exchange *x, int status)
{
	faas__http_conn *c = x->c;

	c->refs++;
	answer_sent(c, x, status);
	conn_resume(c);
	conn_unref(c);
}

static void on_write(uv_write_t *req, int status)
{
	write_done(req->data, status);
}

/* Write the answers that are next in order. Most answers fit the socket's
 * buffer: uv_try_write sends them at once, without a write request, whose
 * completion would cost libuv an epoll_ctl per answer. */
static void flush(faas__http_conn *c)
{
	faas__http_exchange *x;
	bool sent = false;

	c->refs++;
	while ((x = c->qhead) && x->state == X_READY) {
		c->qhead = x->next;
		if (!c->qhead)
			c->qtail = NULL;
		x->next = NULL;
		x->state = X_WRITING;
		if (c->detached) {
			if (c->written_tail)
				c->written_tail->next = x;
			else
				c->written = x;
			c->written_tail = x;
			continue;
		}
		uv_buf_t buf = uv_buf_init(x->out, (unsigned int)x->out_len);
		int n = uv_try_write((uv_stream_t *)&c->tcp, &buf, 1);

		if (n == (int)x->out_len) {
			answer_sent(c, x, 0);
			sent = true;
			if (c->closing || c->lingering)
				break;
			continue;
		}
		if (n < 0 && n != UV_EAGAIN) {
			answer_sent(c, x, n);
			break;
		}
		if (n > 0)
			buf = uv_buf_init(x->out + n, (unsigned int)(x->out_len - (size_t)n));
		x->wr.data = x;
		if (uv_write(&x->wr, (uv_stream_t *)&c->tcp, &buf, 1, on_write) != 0) {
			answer_sent(c, x, UV_EIO);
			break;
		}
	}
	x = c->qhead;
	if (!c->closing && x && x->state == X_PARSING && x->want_continue)
		send_continue(c, x);
	/* Inside conn_process the loop there reads on by itself. */
	if (sent && !c->in_process)
		conn_resume(c);
	conn_unref(c);
}

/* ---- answering (http.h) ---- */

const faas__http_request *faas__http_request_of(faas__http_exchange *x)
{
	return x ? &x->req : NULL;
}

faas_trigger *faas__http_exchange_trigger(faas__http_exchange *x)
{
	return x ? x->c->srv->trigger : NULL;
}

const faas_http_options *faas__http_exchange_options(faas__http_exchange *x)
{
	return x ? &x->c->srv->opts : NULL;
}

const char *faas__http_header_get(const faas__http_request *r, const char *name, size_t *len)
{
	if (!r || !name)
		return NULL;
	for (size_t i = 0; i < r->nheaders; i++) {
		if (ieq(r->headers[i].name, r->headers[i].name_len, name)) {
			if (len)
				*len = r->headers[i].value_len;
			return r->headers[i].value;
		}
	}
	return NULL;
}

bool faas__http_exchange_alive(faas__http_exchange *x)
{
	return x && !x->c->closing;
}

void faas__http_exchange_on_abort(faas__http_exchange *x, faas__http_abort_fn fn, void *arg)
{
	if (!x)
		return;
	x->abort = fn;
	x->abort_arg = arg;
	if (fn && x->c->closing)
		fn(arg);
}

static const char *http_date(faas__http_server *srv)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;

	if (now == srv->date_sec)
		return srv->date;
	gmtime_r(&now, &tm);
	snprintf(srv->date, sizeof(srv->date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
	         days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
	         tm.tm_hour, tm.tm_min, tm.tm_sec);
	srv->date_sec = now;
	return srv->date;
}

/* Headers the server writes itself, and ones that would break framing. */
static bool reserved_header(const char *name, size_t len)
{
	return ieq(name, len, "content-length") || ieq(name, len, "date") ||
	       ieq(name, len, "connection") || ieq(name, len, "server") ||
	       ieq(name, len, "transfer-encoding") || ieq(name, len, "keep-alive");
}

static bool header_ok(const faas__http_header *h)
{
	static const char tspecial[] = "!#$%&'*+-.^_`|~";

	if (!h->name || h->name_len == 0 || (!h->value && h->value_len))
		return false;
	for (size_t i = 0; i < h->name_len; i++) {
		unsigned char c = (unsigned char)h->name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr(tspecial, c))))
			return false;
	}
	for (size_t i = 0; i < h->value_len; i++) {
		unsigned char c = (unsigned char)h->value[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit) put((p), "" lit, sizeof(lit) - 1)

static char *put_uint(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

void faas__http_respond(faas__http_exchange *x, int status, const faas__http_header *headers,
                        size_t nheaders, const char *body, size_t body_len)
{
	faas__http_conn *c;
	const char *reason, *date;
	size_t need;
	bool no_body, no_length;
	char *p;

	if (!x || x->state != X_WAITING)
		return;
	c = x->c;
	x->abort = NULL;
	if (c->closing) {
		queue_remove(c, x);
		exchange_release(x);
		return;
	}
	if (status < 100 || status > 599)
		status = 500;
	if (!body)
		body_len = 0;
	reason = http_status_str((enum http_status)status);
	if (reason[0] == '<')
		reason = "Unknown";
	no_length = status < 200 || status == 204 || status == 304;
	no_body = no_length || x->head_only;
	date = http_date(c->srv);
	need = 160 + strlen(reason) + strlen(date) + (no_body ? 0 : body_len);
	for (size_t i = 0; i < nheaders; i++)
		need += headers[i].name_len + headers[i].value_len + 4;
	if (grow(&x->out, &x->out_cap, need) != 0) {
		/* No room even for the answer: the client can only be dropped. */
		queue_remove(c, x);
		exchange_release(x);
		conn_close(c);
		return;
	}
	p = x->out;
	p = PUT_LIT(p, "HTTP/1.1 ");
	p = put_uint(p, (uint64_t)status);
	*p++ = ' ';
	p = put(p, reason, strlen(reason));
	p = PUT_LIT(p, "\r\nServer: libfaas\r\nDate: ");
	p = put(p, date, strlen(date));
	if (!no_length) {
		p = PUT_LIT(p, "\r\nContent-Length: ");
		p = put_uint(p, body_len);
	}
	p = x->keep_alive ? PUT_LIT(p, "\r\nConnection: keep-alive\r\n")
	                  : PUT_LIT(p, "\r\nConnection: close\r\n");
	for (size_t i = 0; i < nheaders; i++) {
		const faas__http_header *h = &headers[i];

		if (!header_ok(h) || reserved_header(h->name, h->name_len))
			continue;
		p = put(p, h->name, h->name_len);
		*p++ = ':';
		*p++ = ' ';
		if (h->value_len)
			p = put(p, h->value, h->value_len);
		*p++ = '\r';
		*p++ = '\n';
	}
	*p++ = '\r';
	*p++ = '\n';
	if (!no_body && body_len)
		p = put(p, body, body_len);
	x->out_len = (size_t)(p - x->out);
	x->state = X_READY;
	flush(c);
}

void faas__http_respond_error(faas__http_exchange *x, int status, const char *message)
{
	static const faas__http_header ct = {"Content-Type", 12, "application/json", 16};
	char body[600];
	size_t n = 0;
	const char *m = message ? message : "";

	n += (size_t)snprintf(body, sizeof(body), "{\"message\":\"");
	for (; *m && n < sizeof(body) - 16; m++) {
		unsigned char ch = (unsigned char)*m;

		if (ch == '"' || ch == '\\') {
			body[n++] = '\\';
			body[n++] = (char)ch;
		} else if (ch < 0x20) {
			n += (size_t)snprintf(body + n, sizeof(body) - n, "\\u%04x", ch);
		} else {
			body[n++] = (char)ch;
		}
	}
	body[n++] = '"';
	body[n++] = '}';
	faas__http_respond(x, status, &ct, 1, body, n);
}

/* ---- connections ---- */

static void conn_init(faas__http_conn *c, faas__http_server *srv)
{
	c->srv = srv;
	c->refs = 1;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	faas__http_strict_init(&c->strict, srv->opts.max_header_bytes);
	srv->refs++;
	srv->nconns++;
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
}

static void peer_name(faas__http_conn *c)
{
	struct sockaddr_storage ss;
	int len = (int)sizeof(ss);

	snprintf(c->client_ip, sizeof(c->client_ip), "0.0.0.0");
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		uv_ip4_name(a, c->client_ip, sizeof(c->client_ip));
		c->client_loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
		const unsigned char *b = a->sin6_addr.s6_addr;

		uv_ip6_name(a, c->client_ip, sizeof(c->client_ip));
		c->client_loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
		                     (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && b[12] == 127);
	}
}

static void on_refused_closed(uv_handle_t *h)
{
	free(h);
}

static void on_connection(uv_stream_t *listener, int status)
{
	faas__http_server *srv = listener->data;
	faas__http_conn *c;

	if (status < 0 || srv->closing)
		return;
	if (srv->nconns >= srv->opts.max_connections) {
		/* Over the cap: accept only to close at once. */
		uv_tcp_t *t = malloc(sizeof(*t));

		if (!t)
			return;
		uv_tcp_init(srv->loop, t);
		uv_accept(listener, (uv_stream_t *)t);
		uv_close((uv_handle_t *)t, on_refused_closed);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	uv_tcp_init(srv->loop, &c->tcp);
	uv_timer_init(srv->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->handles_open = 2;
	conn_init(c, srv);
	srv->open_handles++;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	peer_name(c);
	c->accepted_ms = uv_now(srv->loop);
	conn_read_start(c);
	conn_timer_update(c);
}

/* ---- the server ---- */

static faas__http_server *server_alloc(const faas_http_options *opts, faas_trigger *trigger,
                                       const faas__http_server_cbs *cbs, void *arg)
{
	faas__http_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->opts = *opts;
	srv->opts.host = NULL;
	srv->opts.bearer_token = NULL;
	srv->rbuf = malloc(FAAS__HTTP_READ_BUF);
	if (!srv->rbuf || (opts->host && !(srv->opts.host = faas__strdup(opts->host))) ||
	    (opts->bearer_token && !(srv->opts.bearer_token = faas__strdup(opts->bearer_token)))) {
		server_free(srv);
		return NULL;
	}
	srv->trigger = trigger;
	srv->cbs = *cbs;
	srv->arg = arg;
	srv->refs = 1;
	srv->date_sec = (time_t)-1;
	return srv;
}

static void on_listener_closed(uv_handle_t *h)
{
	faas__http_server *srv = h->data;

	free(h);
	if (srv) {
		server_handle_closed(srv);
		server_unref(srv);
	}
}

/* A client that goes away while its answer is written makes write(2) raise
 * SIGPIPE, whose default action kills the process: a server cannot allow
 * that. libuv leaves it to the application; a host that chose a handler of
 * its own keeps it. */
static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
	    !(sa.sa_flags & SA_SIGINFO)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL);
	}
}

int faas__http_server_new(faas__http_server **out, uv_loop_t *loop, const faas_http_options *opts,
                          faas_trigger *trigger, const faas__http_server_cbs *cbs, void *arg,
                          char *err, size_t err_size)
{
	const char *host = opts->host ? opts->host : FAAS_HTTP_DEFAULT_HOST;
	struct sockaddr_storage addr;
	faas__http_server *srv;
	int len = (int)sizeof(addr), rc;

	*out = NULL;
	if (uv_ip4_addr(host, opts->port, (struct sockaddr_in *)&addr) != 0 &&
	    uv_ip6_addr(host, opts->port, (struct sockaddr_in6 *)&addr) != 0) {
		snprintf(err, err_size, "host: %s is not an IPv4 or IPv6 address", host);
		return FAAS_EINVAL;
	}
	srv = server_alloc(opts, trigger, cbs, arg);
	if (!srv || !(srv->listener = malloc(sizeof(*srv->listener)))) {
		if (srv)
			server_free(srv);
		snprintf(err, err_size, "out of memory");
		return FAAS_ENOMEM;
	}
	srv->loop = loop;
	rc = uv_tcp_init(loop, srv->listener);
	if (rc != 0) {
		free(srv->listener);
		server_free(srv);
		snprintf(err, err_size, "uv_tcp_init: %s", uv_strerror(rc));
		return FAAS_ESYSTEM;
	}
	srv->listener->data = NULL;
	rc = uv_tcp_bind(srv->listener, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)srv->listener, FAAS__HTTP_BACKLOG, on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(srv->listener, (struct sockaddr *)&addr, &len);
	if (rc != 0) {
		snprintf(err, err_size, "cannot listen on %s:%u: %s", host, (unsigned)opts->port,
		         uv_strerror(rc));
		/* The handle's memory goes in its close callback, which needs
		 * nothing else: the server can go now. */
		uv_close((uv_handle_t *)srv->listener, on_listener_closed);
		srv->listener = NULL;
		server_free(srv);
		return FAAS_ESYSTEM;
	}
	srv->port = addr.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port)
	                                       : ntohs(((struct sockaddr_in *)&addr)->sin_port);
	ignore_sigpipe();
	srv->listener->data = srv;
	srv->refs++;
	srv->open_handles = 1;
	*out = srv;
	return 0;
}

int faas__http_server_new_detached(faas__http_server **out, const faas_http_options *opts,
                                   faas_trigger *trigger, const faas__http_server_cbs *cbs,
                                   void *arg)
{
	*out = server_alloc(opts, trigger, cbs, arg);
	return *out ? 0 : FAAS_ENOMEM;
}

uint16_t faas__http_server_port(const faas__http_server *srv)
{
	return srv ? srv->port : 0;
}

void faas__http_server_stop(faas__http_server *srv)
{
	srv->stopping = true;
}

bool faas__http_server_stopping(const faas__http_server *srv)
{
	return srv->stopping;
}

void faas__http_server_close(faas__http_server *srv)
{
	if (srv->closing)
		return;
	srv->closing = true;
	srv->stopping = true;
	if (srv->listener) {
		uv_close((uv_handle_t *)srv->listener, on_listener_closed);
		srv->listener = NULL;
	}
	while (srv->conns)
		conn_close(srv->conns);
	if (srv->open_handles == 0 && !srv->closed_reported) {
		/* Nothing to wait for (a detached server): report at once. */
		srv->closed_reported = true;
		if (srv->cbs.closed)
			srv->cbs.closed(srv->arg);
	}
}

void faas__http_server_release(faas__http_server *srv)
{
	if (!srv)
		return;
	srv->trigger = NULL;
	memset(&srv->cbs, 0, sizeof(srv->cbs));
	srv->arg = NULL;
	server_unref(srv);
}

/* ---- detached connections (fuzzing) ---- */

faas__http_conn *faas__http_conn_new_detached(faas__http_server *srv)
{
	faas__http_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->detached = true;
	conn_init(c, srv);
	c->refs++; /* the caller's, until faas__http_conn_close */
	snprintf(c->client_ip, sizeof(c->client_ip), "127.0.0.1");
	c->client_loopback = true;
	return c;
}

void faas__http_conn_feed(faas__http_conn *c, const char *data, size_t len)
{
	conn_input(c, data, len);
}

size_t faas__http_conn_complete_writes(faas__http_conn *c)
{
	size_t bytes = 0;

	c->refs++;
	while (c->written) {
		faas__http_exchange *x = c->written;

		c->written = x->next;
		if (!c->written)
			c->written_tail = NULL;
		x->next = NULL;
		bytes += x->out_len;
		write_done(x, 0);
	}
	conn_unref(c);
	return bytes;
}

bool faas__http_conn_waiting(const faas__http_conn *c)
{
	for (const faas__http_exchange *x = c->qhead; x; x = x->next)
		if (x->state == X_WAITING)
			return true;
	return false;
}

void faas__http_conn_close(faas__http_conn *c)
{
	if (!c)
		return;
	conn_close(c);
	/* Writes "in flight" complete as cancelled, as libuv would do. */
	while (c->written) {
		faas__http_exchange *x = c->written;

		c->written = x->next;
		if (!c->written)
			c->written_tail = NULL;
		x->next = NULL;
		write_done(x, UV_ECANCELED);
	}
	conn_unref(c);
}
