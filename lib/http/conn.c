/* A connection's reading, above respond.c: accepting it, reading and
 * feeding its request parser, dispatching requests, pausing when too many
 * requests wait and resuming, the header, body and idle timeouts, the
 * answers the server makes by itself (400, 408, 413, 417, 431, 503), and
 * lingering after a closing answer. Also connections without a socket, fed
 * by hand (fuzzing). Its references, exchange queue and closing are
 * conn_life.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

static void conn_error(faas__http_conn *c, int status, const char *why);
static void conn_timer_update(faas__http_conn *c);

/* ---- the request parser's callbacks ---- */

static faas__http_message *conn_begin(void *arg)
{
	faas__http_conn *c = arg;

	c->cur = faas__http_exchange_new(c);
	return c->cur ? &c->cur->msg : NULL;
}

static uint64_t conn_body_limit(void *arg, const faas__http_request *req)
{
	faas__http_server *srv = ((faas__http_conn *)arg)->srv;

	return srv->cbs.body_limit ? srv->cbs.body_limit(srv->arg, req)
	                           : FAAS__HTTP_DEFAULT_BODY_LIMIT;
}

static const faas__http_reader_cbs reader_cbs = {conn_begin, conn_body_limit};

/* ---- processing input ---- */

static void dispatch(faas__http_conn *c, faas__http_exchange *x)
{
	faas__http_server *srv = c->srv;

	x->state = X_WAITING;
	c->served = true;
	if (srv->stopping || !srv->cbs.dispatch) {
		faas__http_respond_error(x, 503, "Service Unavailable");
		return;
	}
	srv->cbs.dispatch(srv->arg, x);
}

/* A head with a body to come: the body's clock starts, and a client that
 * waits for "100 Continue" gets it once its request is next in line. */
static void head_done(faas__http_conn *c)
{
	faas__http_exchange *x = c->cur;

	c->body_start_ms = faas__http_conn_now(c);
	if (x && x->msg.want_continue && c->qhead == x)
		faas__http_send_continue(c, x);
}

/* Feed bytes to the request parser; dispatch each complete request.
 * Returns how many bytes were used: fewer than len only when reading must
 * pause (too many requests waiting). */
static size_t conn_process(faas__http_conn *c, const char *data, size_t len)
{
	size_t used = 0;

	c->in_process++;
	while (used < len && !c->stop_parsing && !c->closing) {
		faas__http_read r;

		if (faas__http_reader_between(&c->reader)) {
			if (c->nx >= FAAS__HTTP_MAX_PIPELINE)
				break;
			c->msg_start_ms = faas__http_conn_now(c);
		}
		r = faas__http_reader_feed(&c->reader, data + used, len - used);
		if (r.status) {
			conn_error(c, r.status, r.why);
			break;
		}
		used += r.n;
		if (r.head && !r.message)
			head_done(c);
		if (r.message) {
			faas__http_exchange *x = c->cur;

			c->cur = NULL;
			if (!x->msg.keep_alive || c->srv->stopping) {
				/* Nothing after this request is read. */
				x->msg.keep_alive = false;
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

/* Paused with input kept: new input can only follow it. */
static void conn_keep(faas__http_conn *c, const char *data, size_t len)
{
	char *p = realloc(c->left, c->left_len + len);

	if (!p) {
		faas__http_conn_close_now(c);
		return;
	}
	memcpy(p + c->left_len, data, len);
	c->left = p;
	c->left_len += len;
	conn_read_stop(c);
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
			faas__http_conn_close_now(c);
		return;
	}
	if (c->left) {
		conn_keep(c, data, len);
		return;
	}
	used = conn_process(c, data, len);
	if (used < len && !c->closing) {
		c->left_off = 0;
		conn_keep(c, data + used, len - used);
		if (c->closing)
			return;
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
		faas__http_conn_close_now(c);
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
		faas__http_conn_close_now(c);
}

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
		faas__http_conn_close_now(c);
	} else if (!faas__http_reader_between(&c->reader) && !c->stop_parsing) {
		conn_error(c, 408, NULL);
	} else if (c->nx == 0) {
		/* Idle keep-alive, or a connection that never sent a byte. */
		faas__http_conn_close_now(c);
	}
}

static void conn_timer_update(faas__http_conn *c)
{
	const faas__http_server_options *o = &c->srv->opts;
	uint64_t now, due;

	if (c->detached || c->closing || c->lingering)
		return;
	if (c->stop_parsing) {
		due = 0;
	} else if (!faas__http_reader_between(&c->reader)) {
		due = faas__http_reader_in_body(&c->reader)
		          ? c->body_start_ms + o->body_timeout_ms
		          : c->msg_start_ms + o->header_timeout_ms;
	} else if (c->nx > 0) {
		due = 0; /* the owner answers in its own time */
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

/* ---- lingering ---- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
	faas__http_conn *c = req->data;

	(void)status;
	faas__http_conn_unref(c);
}

/* Send FIN, then read and drop what the client still sends for a while, so
 * that closing does not reset the connection under an answer the client
 * has not read yet. */
static void conn_linger(faas__http_conn *c)
{
	if (c->closing || c->lingering)
		return;
	if (c->detached) {
		faas__http_conn_close_now(c);
		return;
	}
	/* Input kept while paused goes with the connection (conn_process may
	 * be reading it right now). */
	c->lingering = true;
	c->shut.data = c;
	c->refs++;
	if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
		faas__http_conn_unref(c);
		faas__http_conn_close_now(c);
		return;
	}
	conn_read_start(c);
	c->timer_due = 0;
	uv_timer_start(&c->timer, on_timer, FAAS__HTTP_LINGER_MS, 0);
}

/* What respond.c, below this file, has a connection do once an answer
 * left. */
static const faas__http_conn_ops conn_ops = {conn_resume, conn_linger};

/* ---- the answers the server makes by itself ---- */

static const char *error_text(int status, const char *why, char *msg, size_t size)
{
	switch (status) {
	case 400:
		snprintf(msg, size, "Bad Request%s%s", why ? ": " : "", why ? why : "");
		return msg;
	case 408:
		return "Request Timeout";
	case 413:
		return "Request Too Long";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return why ? why : "Service Unavailable";
	}
}

/* A request the server refuses by itself: the answer goes after those
 * before it, and then the connection closes. */
static void conn_error(faas__http_conn *c, int status, const char *why)
{
	faas__http_exchange *x;
	char msg[160];

	if (c->stop_parsing || c->closing)
		return;
	c->stop_parsing = true;
	x = c->cur ? c->cur : faas__http_exchange_new(c);
	c->cur = NULL;
	if (!x) {
		faas__http_conn_close_now(c);
		return;
	}
	x->state = X_WAITING;
	x->msg.keep_alive = false;
	x->msg.head_only = false;
	x->msg.want_continue = false;
	faas__http_respond_error(x, status, error_text(status, why, msg, sizeof(msg)));
	conn_timer_update(c);
}

/* ---- accepting ---- */

static void conn_init(faas__http_conn *c, faas__http_server *srv)
{
	c->srv = srv;
	c->ops = &conn_ops;
	c->refs = 1;
	faas__http_reader_init(&c->reader, srv->opts.max_header_bytes, &reader_cbs, c, c->client_ip,
	                       c->client_loopback);
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
	c->reader.client_loopback = c->client_loopback;
}

void faas__http_conn_accept(faas__http_server *srv, uv_stream_t *listener)
{
	faas__http_conn *c = calloc(1, sizeof(*c));

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
		faas__http_conn_close_now(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	peer_name(c);
	c->accepted_ms = uv_now(srv->loop);
	conn_read_start(c);
	conn_timer_update(c);
}

/* ---- detached connections (fuzzing) ---- */

faas__http_conn *faas__http_conn_new_detached(faas__http_server *srv)
{
	faas__http_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->detached = true;
	snprintf(c->client_ip, sizeof(c->client_ip), "127.0.0.1");
	c->client_loopback = true;
	conn_init(c, srv);
	c->refs++; /* the caller's, until faas__http_conn_close */
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
		faas__http_write_done(x, 0);
	}
	faas__http_conn_unref(c);
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
	faas__http_conn_close_now(c);
	/* Writes "in flight" complete as cancelled, as libuv would do. */
	while (c->written) {
		faas__http_exchange *x = c->written;

		c->written = x->next;
		if (!c->written)
			c->written_tail = NULL;
		x->next = NULL;
		faas__http_write_done(x, UV_ECANCELED);
	}
	faas__http_conn_unref(c);
}
