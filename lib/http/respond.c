/* Answers (http.h), above conn_life.c and below conn.c: the exchange
 * accessors, the status line and headers, the Date header cached per
 * second, "100 Continue", and writing answers in request order
 * (pipelining) however late or early each is made. Reading on or lingering
 * once an answer left goes through the connection's ops (conn.c's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "server_internal.h"

static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* ---- the exchange ---- */

const faas__http_request *faas__http_request_of(faas__http_exchange *x)
{
	return x ? &x->msg.req : NULL;
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

/* ---- writing ---- */

static void on_continue_written(uv_write_t *req, int status)
{
	faas__http_conn *c = req->data;

	(void)status;
	free(req);
	faas__http_conn_unref(c);
}

void faas__http_send_continue(faas__http_conn *c, faas__http_exchange *x)
{
	uv_write_t *req;
	uv_buf_t buf;

	x->msg.want_continue = false;
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
		faas__http_conn_unref(c);
	}
}

/* An answer left, or failed to. The caller holds a reference to c. */
static void answer_sent(faas__http_conn *c, faas__http_exchange *x, int status)
{
	bool keep = x->msg.keep_alive;

	faas__http_exchange_release(x);
	if (status < 0) {
		faas__http_conn_close_now(c);
	} else if (!c->closing) {
		c->last_active_ms = faas__http_conn_now(c);
		if (!keep)
			c->ops->linger(c);
	}
}

void faas__http_write_done(faas__http_exchange *x, int status)
{
	faas__http_conn *c = x->c;

	c->refs++;
	answer_sent(c, x, status);
	c->ops->resume(c);
	faas__http_conn_unref(c);
}

static void on_write(uv_write_t *req, int status)
{
	faas__http_write_done(req->data, status);
}

/* Hand one answer to the socket. Returns true if it left at once; *stop
 * says whether the answers after it must wait. */
static bool write_one(faas__http_conn *c, faas__http_exchange *x, bool *stop)
{
	uv_buf_t buf = uv_buf_init(x->out, (unsigned int)x->out_len);
	int n = uv_try_write((uv_stream_t *)&c->tcp, &buf, 1);

	if (n == (int)x->out_len) {
		answer_sent(c, x, 0);
		*stop = c->closing || c->lingering;
		return true;
	}
	*stop = true;
	if (n < 0 && n != UV_EAGAIN) {
		answer_sent(c, x, n);
		return false;
	}
	if (n > 0)
		buf = uv_buf_init(x->out + n, (unsigned int)(x->out_len - (size_t)n));
	x->wr.data = x;
	if (uv_write(&x->wr, (uv_stream_t *)&c->tcp, &buf, 1, on_write) != 0)
		answer_sent(c, x, UV_EIO);
	else
		*stop = false; /* the answers after it queue behind it */
	return false;
}

/* Write the answers that are next in order. Most answers fit the socket's
 * buffer: uv_try_write sends them at once, without a write request, whose
 * completion would cost libuv an epoll_ctl per answer. */
static void flush(faas__http_conn *c)
{
	faas__http_exchange *x;
	bool sent = false, stop = false;

	c->refs++;
	while (!stop && (x = c->qhead) && x->state == X_READY) {
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
		if (write_one(c, x, &stop))
			sent = true;
	}
	x = c->qhead;
	if (!c->closing && x && x->state == X_PARSING && x->msg.want_continue)
		faas__http_send_continue(c, x);
	/* Inside conn_process the loop there reads on by itself. */
	if (sent && !c->in_process)
		c->ops->resume(c);
	faas__http_conn_unref(c);
}

/* ---- the answer's bytes ---- */

static const char *http_date(faas__http_server *srv)
{
	time_t now = time(NULL);

	if (now == srv->date_sec)
		return srv->date;
	faas__date_imf(srv->date, (int64_t)now);
	srv->date_sec = now;
	return srv->date;
}

/* Headers the server writes itself, and ones that would break framing. */
static bool reserved_header(const char *name, size_t len)
{
	return faas__http_name_eq(name, len, "content-length") ||
	       faas__http_name_eq(name, len, "date") ||
	       faas__http_name_eq(name, len, "connection") ||
	       faas__http_name_eq(name, len, "server") ||
	       faas__http_name_eq(name, len, "transfer-encoding") ||
	       faas__http_name_eq(name, len, "keep-alive");
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

/* What one answer's head says. */
typedef struct answer {
	int status;
	const char *reason, *date;
	bool no_length, no_body, keep_alive;
	const faas__http_header *headers;
	size_t nheaders;
} answer;

/* The status line and the headers, up to the empty line. p has room. */
static char *put_head(char *p, const answer *a, size_t body_len)
{
	p = PUT_LIT(p, "HTTP/1.1 ");
	p = put_uint(p, (uint64_t)a->status);
	*p++ = ' ';
	p = put(p, a->reason, strlen(a->reason));
	p = PUT_LIT(p, "\r\nServer: libfaas\r\nDate: ");
	p = put(p, a->date, strlen(a->date));
	if (!a->no_length) {
		p = PUT_LIT(p, "\r\nContent-Length: ");
		p = put_uint(p, body_len);
	}
	p = a->keep_alive ? PUT_LIT(p, "\r\nConnection: keep-alive\r\n")
	                  : PUT_LIT(p, "\r\nConnection: close\r\n");
	for (size_t i = 0; i < a->nheaders; i++) {
		const faas__http_header *h = &a->headers[i];

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
	return p;
}

void faas__http_respond(faas__http_exchange *x, int status, const faas__http_header *headers,
                        size_t nheaders, const char *body, size_t body_len)
{
	faas__http_conn *c;
	answer a;
	size_t need;
	char *p;

	if (!x || x->state != X_WAITING)
		return;
	c = x->c;
	x->abort = NULL;
	if (c->closing) {
		faas__http_queue_remove(c, x);
		faas__http_exchange_release(x);
		return;
	}
	a.status = status < 100 || status > 599 ? 500 : status;
	if (!body)
		body_len = 0;
	a.reason = http_status_str((enum http_status)a.status);
	if (a.reason[0] == '<')
		a.reason = "Unknown";
	a.no_length = a.status < 200 || a.status == 204 || a.status == 304;
	a.no_body = a.no_length || x->msg.head_only;
	a.keep_alive = x->msg.keep_alive;
	a.date = http_date(c->srv);
	a.headers = headers;
	a.nheaders = nheaders;
	need = 160 + strlen(a.reason) + strlen(a.date) + (a.no_body ? 0 : body_len);
	for (size_t i = 0; i < nheaders; i++)
		need += headers[i].name_len + headers[i].value_len + 4;
	if (faas__http_grow(&x->out, &x->out_cap, need) != 0) {
		/* No room even for the answer: the client can only be dropped. */
		faas__http_queue_remove(c, x);
		faas__http_exchange_release(x);
		faas__http_conn_close_now(c);
		return;
	}
	p = put_head(x->out, &a, body_len);
	if (!a.no_body && body_len)
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
