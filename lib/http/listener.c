/* The server's listener, at the top of the server's files: binding and
 * listening, accepting clients up to the connection cap (each accepted one
 * goes to conn.c), and closing the listener and every connection. The
 * server's memory and state are server.c's. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"
#include "sig.h"

/* ---- accepting ---- */

static void on_refused_closed(uv_handle_t *h)
{
	free(h);
}

static void on_connection(uv_stream_t *listener, int status)
{
	faas__http_server *srv = listener->data;

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
	faas__http_conn_accept(srv, listener);
}

/* ---- listening ---- */

static void on_listener_closed(uv_handle_t *h)
{
	faas__http_server *srv = h->data;

	free(h);
	if (srv) {
		faas__http_server_handle_closed(srv);
		faas__http_server_unref(srv);
	}
}

/* Bind and listen; srv->port gets the port bound. On error, err says why. */
static int server_listen(faas__http_server *srv, const struct sockaddr_storage *addr, char *err,
                         size_t err_size)
{
	struct sockaddr_storage bound;
	int len = (int)sizeof(bound);
	int rc = uv_tcp_bind(srv->listener, (const struct sockaddr *)addr, 0);

	if (rc == 0)
		rc = uv_listen((uv_stream_t *)srv->listener, FAAS__HTTP_BACKLOG, on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(srv->listener, (struct sockaddr *)&bound, &len);
	if (rc != 0) {
		snprintf(err, err_size, "cannot listen on %s:%u: %s", srv->opts.host,
		         (unsigned)srv->opts.port, uv_strerror(rc));
		return rc;
	}
	srv->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
	                                        : ntohs(((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}

int faas__http_server_new(faas__http_server **out, uv_loop_t *loop,
                          const faas__http_server_options *opts, const faas__http_server_cbs *cbs,
                          void *arg, char *err, size_t err_size)
{
	const char *host = opts->host ? opts->host : "";
	struct sockaddr_storage addr;
	faas__http_server *srv;
	int rc;

	*out = NULL;
	if (uv_ip4_addr(host, opts->port, (struct sockaddr_in *)&addr) != 0 &&
	    uv_ip6_addr(host, opts->port, (struct sockaddr_in6 *)&addr) != 0) {
		snprintf(err, err_size, "host: %s is not an IPv4 or IPv6 address", host);
		return FAAS_EINVAL;
	}
	srv = faas__http_server_alloc(opts, cbs, arg);
	if (!srv || !(srv->listener = malloc(sizeof(*srv->listener)))) {
		if (srv)
			faas__http_server_free(srv);
		snprintf(err, err_size, "out of memory");
		return FAAS_ENOMEM;
	}
	srv->loop = loop;
	rc = uv_tcp_init(loop, srv->listener);
	if (rc != 0) {
		free(srv->listener);
		faas__http_server_free(srv);
		snprintf(err, err_size, "uv_tcp_init: %s", uv_strerror(rc));
		return FAAS_ESYSTEM;
	}
	srv->listener->data = NULL;
	if (server_listen(srv, &addr, err, err_size) != 0) {
		/* The handle's memory goes in its close callback, which needs
		 * nothing else: the server can go now. */
		uv_close((uv_handle_t *)srv->listener, on_listener_closed);
		srv->listener = NULL;
		faas__http_server_free(srv);
		return FAAS_ESYSTEM;
	}
	faas__ignore_sigpipe(); /* a peer gone must not kill the host */
	srv->listener->data = srv;
	srv->refs++;
	srv->open_handles = 1;
	*out = srv;
	return 0;
}

/* ---- closing ---- */

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
		faas__http_conn_close_now(srv->conns);
	/* Nothing to wait for (a detached server): report at once. */
	if (srv->open_handles == 0 && !srv->closed_reported)
		faas__http_server_report_closed(srv);
}
