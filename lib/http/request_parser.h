/*
 * libfaas — a feedable HTTP/1.1 request parser: the strictness layer
 * (strict.c) and http-parser on one stream of bytes, without a socket or a
 * loop. Feed it bytes, get requests: it stops after each head and after each
 * message, and reports the error answer a request earned (400, 413, 417,
 * 431, 503). A connection (conn.c) drives one per client; a test or a fuzzer
 * can drive one alone.
 *
 * The caller owns the messages: the reader asks for one when a message
 * begins and parses into it; the message stays the caller's (its buffers
 * are kept for reuse by faas__http_message_reset).
 */
#ifndef FAAS_HTTP_REQUEST_PARSER_H
#define FAAS_HTTP_REQUEST_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "http_server.h"

/* One request as parsed: the head's pieces (method, target, path, header
 * names and values) NUL-separated in one buffer, the body in another. */
typedef struct faas__http_message {
	faas__http_request req; /* points into head and body once the head is done */
	char *head;
	size_t head_len, head_cap;
	faas__http_header *hdrs; /* offsets into head until the head is done */
	size_t nhdrs, hdrs_cap;
	size_t url_off;
	bool url_done, in_value, trailer;
	char *body;
	size_t body_len, body_cap;
	bool keep_alive;    /* the client keeps the connection after this one */
	bool head_only;     /* HEAD: the answer has no body */
	bool want_continue; /* "Expect: 100-continue" not answered yet */
} faas__http_message;

/* Forget the last request, keep the buffers. */
void faas__http_message_reset(faas__http_message *m);
/* Free the buffers grown past reuse (one large request must not pin them). */
void faas__http_message_trim(faas__http_message *m);
/* Free the buffers (not m itself). */
void faas__http_message_free(faas__http_message *m);

typedef struct faas__http_reader_cbs {
	/* A message begins: where to parse it; NULL answers 503. */
	faas__http_message *(*begin)(void *arg);
	/* Its head is in and a body follows: the most the body may carry (413
	 * past it). NULL: FAAS__HTTP_DEFAULT_BODY_LIMIT. */
	uint64_t (*body_limit)(void *arg, const faas__http_request *req);
} faas__http_reader_cbs;

typedef struct faas__http_reader {
	http_parser hp;
	faas__http_strict strict;
	faas__http_reader_cbs cbs;
	void *arg;
	faas__http_message *cur;  /* being parsed */
	faas__http_message *done; /* completed by http-parser in this feed */
	const char *client_ip;    /* copied into each request; the caller's */
	bool client_loopback;
	int status; /* the error answer, once one was earned: nothing more is read */
	const char *why;
} faas__http_reader;

/* What one faas__http_reader_feed() call did. */
typedef struct faas__http_read {
	size_t n;                    /* bytes used */
	int status;                  /* 0, or the error answer: stop feeding */
	const char *why;             /* for 400 and 503: what was wrong */
	faas__http_message *head;    /* its head ended here (the body, if any, follows) */
	faas__http_message *message; /* it is complete */
} faas__http_read;

/* max_head: the most bytes a head may have (431 past it). cbs is copied;
 * client_ip must outlive the reader. */
void faas__http_reader_init(faas__http_reader *r, size_t max_head, const faas__http_reader_cbs *cbs,
                            void *arg, const char *client_ip, bool client_loopback);
/* Parse from data up to the next head end, message end or error, or to the
 * end of data. After an error every call returns it again with n = 0. */
faas__http_read faas__http_reader_feed(faas__http_reader *r, const char *data, size_t len);
/* Whether nothing of a message has been seen since the last one ended. */
bool faas__http_reader_between(const faas__http_reader *r);
/* Whether the current message's head is complete (its body is being read). */
bool faas__http_reader_in_body(const faas__http_reader *r);

/* Byte buffers that grow by doubling: *buf has room for need bytes after. */
int faas__http_grow(char **buf, size_t *cap, size_t need);
/* Whether a (alen bytes) equals the NUL-terminated b, ASCII case-insensitive. */
bool faas__http_name_eq(const char *a, size_t alen, const char *b);

#endif /* FAAS_HTTP_REQUEST_PARSER_H */
