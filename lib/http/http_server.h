/*
 * libfaas — how an owner (the HTTP trigger, the fuzz target) runs an
 * HTTP/1.1 server: the server's options, callbacks and lifetime, its
 * connections without a socket, and the strictness layer (strict.c). The
 * server knows nothing of what answers requests: it hands each one to its
 * owner's dispatch callback with the owner's arg. http.h is the exchange
 * interface that answers requests.
 *
 * Lifetime. The server is reference counted: by its owner (until
 * faas__http_server_release) and by every connection still in memory, and a
 * connection by its handles (until their close callbacks ran) and by every
 * exchange not yet answered and written. So an exchange whose client went
 * away, or whose owner let go, can still be answered: the answer goes
 * nowhere. Everything runs on the loop thread.
 */
#ifndef FAAS_HTTP_SERVER_H
#define FAAS_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* Limits that are not options. */
#define FAAS__HTTP_MAX_PIPELINE 16u       /* requests queued per connection before reading pauses */
#define FAAS__HTTP_BACKLOG 511            /* listen(2) backlog */
#define FAAS__HTTP_READ_BUF (64u * 1024u) /* the server's one read buffer */
#define FAAS__HTTP_LINGER_MS 1000u        /* reading (and dropping) after a closing answer */
/* Bytes dropped while lingering before a hard close. */
#define FAAS__HTTP_LINGER_MAX (256u * 1024u)
#define FAAS__HTTP_KEEP_BUF (64u * 1024u) /* exchange buffers larger than this are not reused */
#define FAAS__HTTP_SPARE 2u               /* exchanges kept per connection for reuse */
#define FAAS__HTTP_MAX_CHUNK_LINE 4096u   /* a chunk-size line with its extensions */
#define FAAS__HTTP_MIN_HEADER_BYTES 256u  /* floor of max_header_bytes */
/* http-parser 2.9 refuses heads past its own 80 KB; stay below it. */
#define FAAS__HTTP_MAX_HEADER_BYTES (64u * 1024u)
/* The body limit when the owner gives none (no body_limit callback, or released). */
#define FAAS__HTTP_DEFAULT_BODY_LIMIT (6u * 1024u * 1024u)

/* ---- the strictness layer (strict.c) ---- */

/* A byte-level checker run ahead of http-parser on the same bytes: it
 * enforces what http-parser 2.9 lets through (bare LF, obs-fold, control
 * characters, the request-line shape, chunk-size and chunk-extension
 * syntax) and the head and body size limits, and it delimits messages, so
 * the server hands http-parser one head or one message at a time. */
typedef struct faas__http_strict {
	int state;
	size_t head_bytes; /* of the current head or trailer section */
	size_t max_head;   /* 431 past this */
	size_t line_bytes; /* of the current chunk-size line */
	unsigned field;    /* request line: 0 method, 1 target, 2 version */
	size_t field_len;
	uint64_t remaining;  /* body or chunk bytes still to come */
	uint64_t body_total; /* chunked: data bytes so far */
	uint64_t body_limit; /* 413 past this */
	unsigned hex_digits;
	bool trailer; /* the header states read a chunked trailer */
} faas__http_strict;

typedef struct faas__http_scan {
	size_t n;          /* bytes that may go to http-parser */
	int status;        /* 0, or the error answer: 400, 413, 431 */
	const char *why;   /* for 400: what was wrong (tests, logs) */
	bool head_done;    /* n ends a head: set the framing before scanning on */
	bool message_done; /* n ends a message */
} faas__http_scan;

void faas__http_strict_init(faas__http_strict *s, size_t max_head);
/* Scan from the current state; stops after a head, after a message, at an
 * error or at the end of data. */
faas__http_scan faas__http_strict_scan(faas__http_strict *s, const char *data, size_t len);
/* Whether nothing of a message has been seen since the last one ended. */
bool faas__http_strict_between(const faas__http_strict *s);
/* Whether the current message's head is complete (its body is being read). */
bool faas__http_strict_in_body(const faas__http_strict *s);
/* The framing of the message whose head just ended (after head_done). */
void faas__http_strict_body(faas__http_strict *s, bool chunked, uint64_t length, uint64_t limit);
/* The header checks done on the parsed head: version, Host, Content-Length,
 * Transfer-Encoding. Returns 0, or 400 with *why set. *chunked and *length
 * get the framing. */
int faas__http_strict_head(const faas__http_header *h, size_t n, int major, int minor,
                           bool *chunked, uint64_t *length, const char **why);

/* ---- the server (server.c, conn_life.c, respond.c, conn.c, listener.c) ---- */

typedef struct faas__http_server faas__http_server;
typedef struct faas__http_conn faas__http_conn;

/* What the server needs to know; the owner checked the values. */
typedef struct faas__http_server_options {
	const char *host;             /* an IPv4 or IPv6 address to listen on; copied */
	uint16_t port;                /* 0 picks a free one */
	size_t max_header_bytes;      /* request line + headers: 431 past this */
	unsigned int max_connections; /* connections past this are closed at once */
	uint32_t header_timeout_ms;   /* the head must arrive within this (408) */
	uint32_t body_timeout_ms;     /* the body must arrive within this once the head is in */
	uint32_t idle_timeout_ms;     /* an idle keep-alive connection closes after this */
} faas__http_server_options;

/* The owner's side. Each callback gets the arg given with them. */
typedef struct faas__http_server_cbs {
	/* The head is in and the request has a body: the most it may carry (413
	 * past it). The body is not there yet. NULL: FAAS__HTTP_DEFAULT_BODY_LIMIT. */
	uint64_t (*body_limit)(void *arg, const faas__http_request *req);
	/* The request is complete: answer it now or later, exactly once. */
	void (*dispatch)(void *arg, faas__http_exchange *x);
	/* Every handle of the server closed after faas__http_server_close. */
	void (*closed)(void *arg);
} faas__http_server_cbs;

/* Listen on opts->host:opts->port (a listener owned by the server); opts
 * are copied, cbs too. On error, err gets the reason and nothing is left
 * open. */
int faas__http_server_new(faas__http_server **out, uv_loop_t *loop,
                          const faas__http_server_options *opts, const faas__http_server_cbs *cbs,
                          void *arg, char *err, size_t err_size);
/* A server without a listener, for driving connections by hand (fuzzing). */
int faas__http_server_new_detached(faas__http_server **out, const faas__http_server_options *opts,
                                   const faas__http_server_cbs *cbs, void *arg);
uint16_t faas__http_server_port(const faas__http_server *srv);
/* Answer 503 to requests from now on; the ones in flight finish. */
void faas__http_server_stop(faas__http_server *srv);
bool faas__http_server_stopping(const faas__http_server *srv);
/* Close the listener and every connection; cbs->closed runs after the last
 * close callback (never from inside this call). */
void faas__http_server_close(faas__http_server *srv);
/* The owner lets go: no more callbacks; the memory goes with the last
 * connection. */
void faas__http_server_release(faas__http_server *srv);

/* A connection without a socket: bytes are fed by hand, answers are
 * counted and dropped. For the fuzz target. */
faas__http_conn *faas__http_conn_new_detached(faas__http_server *srv);
/* Process received bytes exactly as a socket's read callback would. */
void faas__http_conn_feed(faas__http_conn *c, const char *data, size_t len);
/* Complete the answers "written" since the last call (as uv_write callbacks
 * would); returns how many bytes they held. */
size_t faas__http_conn_complete_writes(faas__http_conn *c);
/* Whether the connection waits for an answer from the owner. */
bool faas__http_conn_waiting(const faas__http_conn *c);
/* The client goes away; the connection is the caller's until this call
 * (it stays in memory even if the server closed it first). */
void faas__http_conn_close(faas__http_conn *c);

#endif /* FAAS_HTTP_SERVER_H */
