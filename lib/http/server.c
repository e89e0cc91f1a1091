/* The server record (http_server.h) at the bottom of the server's files:
 * its memory and references, the accounting of its open handles that
 * reports closed after the last one, and the calls on its state alone
 * (a detached server, the port, stopping, letting go). Binding, listening
 * and closing are listener.c's. */
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

/* ---- memory and references ---- */

void faas__http_server_free(faas__http_server *srv)
{
	free((char *)srv->opts.host);
	free(srv->rbuf);
	free(srv);
}

faas__http_server *faas__http_server_alloc(const faas__http_server_options *opts,
                                           const faas__http_server_cbs *cbs, void *arg)
{
	faas__http_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->opts = *opts;
	srv->opts.host = NULL;
	srv->rbuf = malloc(FAAS__HTTP_READ_BUF);
	if (!srv->rbuf || (opts->host && !(srv->opts.host = faas__strdup(opts->host)))) {
		faas__http_server_free(srv);
		return NULL;
	}
	srv->cbs = *cbs;
	srv->arg = arg;
	srv->refs = 1;
	srv->date_sec = (time_t)-1;
	return srv;
}

void faas__http_server_unref(faas__http_server *srv)
{
	if (--srv->refs == 0)
		faas__http_server_free(srv);
}

/* ---- open handles ---- */

void faas__http_server_report_closed(faas__http_server *srv)
{
	srv->closed_reported = true;
	if (srv->cbs.closed)
		srv->cbs.closed(srv->arg);
}

void faas__http_server_handle_closed(faas__http_server *srv)
{
	srv->open_handles--;
	if (srv->closing && srv->open_handles == 0 && !srv->closed_reported)
		faas__http_server_report_closed(srv);
}

/* ---- the owner's calls on the server's state ---- */

int faas__http_server_new_detached(faas__http_server **out, const faas__http_server_options *opts,
                                   const faas__http_server_cbs *cbs, void *arg)
{
	*out = faas__http_server_alloc(opts, cbs, arg);
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

void faas__http_server_release(faas__http_server *srv)
{
	if (!srv)
		return;
	memset(&srv->cbs, 0, sizeof(srv->cbs));
	srv->arg = NULL;
	faas__http_server_unref(srv);
}
