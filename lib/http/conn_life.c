/* The lifetime primitives of a connection, below respond.c and conn.c: its
 * references and freeing, its queue of exchanges in request order with the
 * spares kept for reuse, and closing it at once. Nothing here reads or
 * answers: what must go on afterwards (reading again, lingering) is
 * conn.c's, called through the connection's ops. */
#include <stdlib.h>

#include "server_internal.h"

uint64_t faas__http_conn_now(const faas__http_conn *c)
{
	return c->detached ? 0 : uv_now(c->srv->loop);
}

/* ---- exchanges ---- */

static void exchange_free(faas__http_exchange *x)
{
	faas__http_message_free(&x->msg);
	free(x->out);
	free(x);
}

void faas__http_conn_unref(faas__http_conn *c)
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
	faas__http_server_unref(srv);
}

faas__http_exchange *faas__http_exchange_new(faas__http_conn *c)
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
	faas__http_message_reset(&x->msg);
	x->out_len = 0;
	x->abort = NULL;
	if (c->qtail)
		c->qtail->next = x;
	else
		c->qhead = x;
	c->qtail = x;
	c->nx++;
	c->refs++;
	return x;
}

void faas__http_queue_remove(faas__http_conn *c, faas__http_exchange *x)
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

void faas__http_exchange_release(faas__http_exchange *x)
{
	faas__http_conn *c = x->c;

	c->nx--;
	x->abort = NULL;
	if (c->nspare < FAAS__HTTP_SPARE && !c->closing) {
		/* One large request must not pin its buffers for the
		 * connection's life. */
		faas__http_message_trim(&x->msg);
		if (x->out_cap > FAAS__HTTP_KEEP_BUF) {
			free(x->out);
			x->out = NULL;
			x->out_cap = 0;
		}
		x->next = c->spare;
		c->spare = x;
		c->nspare++;
	} else {
		exchange_free(x);
	}
	faas__http_conn_unref(c);
}

/* ---- closing ---- */

static void on_conn_handle_closed(uv_handle_t *h)
{
	faas__http_conn *c = h->data;

	if (--c->handles_open > 0)
		return;
	faas__http_server_handle_closed(c->srv);
	faas__http_conn_unref(c);
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

/* Invocations waiting for an answer are cancelled; their answers will go
 * nowhere. */
void faas__http_conn_close_now(faas__http_conn *c)
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
	conn_unlink(c);
	for (x = c->qhead; x; x = next) {
		next = x->next;
		if (x->state == X_WAITING) {
			if (x->abort)
				x->abort(x->abort_arg);
			continue;
		}
		faas__http_queue_remove(c, x);
		faas__http_exchange_release(x);
	}
	if (c->detached) {
		faas__http_conn_unref(c);
		return;
	}
	uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}
