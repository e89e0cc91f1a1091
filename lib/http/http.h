/*
 * libfaas — the exchange interface: between the HTTP server (the files of
 * lib/http/, in the order server_internal.h gives) and whatever answers its
 * requests (the server's owner, through the dispatch callback of
 * http_server.h).
 *
 * One exchange is one request awaiting its response. The server owns it; it
 * stays valid until faas__http_respond() is called for it, exactly once, even
 * if the client disconnected meanwhile (then the response goes nowhere and
 * the call only frees it). Everything here runs on the loop thread.
 */
#ifndef FAAS_HTTP_H
#define FAAS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "base64.h"
#include "hex.h"
#include "core.h"

typedef struct faas__http_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
} faas__http_header;

typedef struct faas__http_request {
	const char *method;        /* "GET", NUL-terminated */
	const char *target;        /* the raw request target, "/a%20b?x=1" */
	const char *path;          /* the target's path, percent-decoded, no query */
	const char *raw_path;      /* the target's path as sent */
	const char *query;         /* the raw query string without '?', "" if none */
	int version_minor;         /* HTTP/1.0 or HTTP/1.1 */
	const faas__http_header *headers;
	size_t nheaders;
	const char *body;          /* de-chunked; may contain NULs */
	size_t body_len;
	const char *client_ip;     /* "127.0.0.1", "::1" */
	bool client_loopback;
	uint64_t received_ms;      /* wall clock, ms since the epoch */
} faas__http_request;

typedef struct faas__http_exchange faas__http_exchange;

/* The request of an exchange; valid until the exchange is answered. */
const faas__http_request *faas__http_request_of(faas__http_exchange *x);

/* The first header with this name (case-insensitive), or NULL; *len gets its length. */
const char *faas__http_header_get(const faas__http_request *r, const char *name, size_t *len);

/* Whether the client is still connected. */
bool faas__http_exchange_alive(faas__http_exchange *x);

/* Called when the client of a waiting exchange disconnects before the answer
 * (the answerer cancels its work); the exchange must still be answered. */
typedef void (*faas__http_abort_fn)(void *arg);

/* Set the exchange's abort callback (NULL to clear). If the client is
 * already gone, fn runs at once. */
void faas__http_exchange_on_abort(faas__http_exchange *x, faas__http_abort_fn fn, void *arg);

/* Answer the exchange. headers are extra headers (Content-Length, Date,
 * Connection and Server are the server's); the body is copied. Exactly once. */
void faas__http_respond(faas__http_exchange *x, int status, const faas__http_header *headers,
			size_t nheaders, const char *body, size_t body_len);

/* Answer with a small JSON error body {"message": ...} (API Gateway's shape). */
void faas__http_respond_error(faas__http_exchange *x, int status, const char *message);

#endif /* FAAS_HTTP_H */
