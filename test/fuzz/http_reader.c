/* libFuzzer target: the feedable request parser alone (request_parser.h),
 * without a connection, a socket or a loop. The input is fed twice: all at
 * once, and in pieces of 1 to 17 bytes (the first byte picks the size).
 * Both feeds write a transcript of what came out: each head and message
 * with its method, target, path, query, headers and body, and the error
 * answer that ended it.
 *
 * What must hold: no crash, leak or sanitizer report; every feed call makes
 * progress or ends the input with an error; the two transcripts are the
 * same byte for byte: where the input is cut never changes what it means. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request_parser.h"

/* A small body limit, so that 413 is reached too. */
#define BODY_LIMIT 300u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

typedef struct transcript {
	char *buf;
	size_t len, cap;
} transcript;

static void put(transcript *t, const void *data, size_t n)
{
	check(faas__http_grow(&t->buf, &t->cap, t->len + n) == 0, "transcript memory");
	if (n)
		memcpy(t->buf + t->len, data, n);
	t->len += n;
}

static void put_str(transcript *t, const char *s, size_t n)
{
	put(t, &n, sizeof(n));
	put(t, s, n);
}

static void put_request(transcript *t, char tag, const faas__http_request *r)
{
	put(t, &tag, 1);
	put_str(t, r->method, strlen(r->method));
	put_str(t, r->target, strlen(r->target));
	put_str(t, r->path, strlen(r->path));
	put_str(t, r->raw_path, strlen(r->raw_path));
	put_str(t, r->query, strlen(r->query));
	for (size_t i = 0; i < r->nheaders; i++) {
		put_str(t, r->headers[i].name, r->headers[i].name_len);
		put_str(t, r->headers[i].value, r->headers[i].value_len);
	}
	put_str(t, r->body, r->body_len);
}

typedef struct feed {
	faas__http_message msg;
	bool in_use; /* begun and not complete yet */
} feed;

static faas__http_message *begin(void *arg)
{
	feed *f = arg;

	check(!f->in_use, "a message began before the last one ended");
	f->in_use = true;
	faas__http_message_reset(&f->msg);
	return &f->msg;
}

static uint64_t body_limit(void *arg, const faas__http_request *req)
{
	(void)arg;
	(void)req;
	return BODY_LIMIT;
}

/* Feed data in pieces of at most step bytes (0: all of it at once). */
static void run(transcript *t, const uint8_t *data, size_t size, size_t step)
{
	static const faas__http_reader_cbs cbs = {begin, body_limit};
	faas__http_reader r;
	feed f;
	size_t pos = 0;

	memset(&f, 0, sizeof(f));
	faas__http_reader_init(&r, 1024, &cbs, &f, "127.0.0.1", true);
	while (pos < size) {
		size_t len = step && size - pos > step ? step : size - pos;
		faas__http_read rd = faas__http_reader_feed(&r, (const char *)data + pos, len);

		check(rd.n <= len, "used more than it was given");
		pos += rd.n;
		if (rd.status) {
			put(t, "E", 1);
			put(t, &rd.status, sizeof(rd.status));
			put_str(t, rd.why ? rd.why : "", rd.why ? strlen(rd.why) : 0);
			check(faas__http_reader_feed(&r, "x", 1).status == rd.status,
			      "an error does not stick");
			break;
		}
		check(rd.n > 0 || rd.head || rd.message, "no progress");
		if (rd.head && !rd.message)
			put_request(t, 'H', &rd.head->req);
		if (rd.message) {
			put_request(t, 'M', &rd.message->req);
			f.in_use = false;
		}
	}
	faas__http_message_free(&f.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	transcript whole = {NULL, 0, 0}, pieces = {NULL, 0, 0};
	size_t step = size ? (size_t)data[0] % 17 + 1 : 1;

	run(&whole, data, size, 0);
	run(&pieces, data, size, step);
	check(whole.len == pieces.len &&
	          (whole.len == 0 || memcmp(whole.buf, pieces.buf, whole.len) == 0),
	      "cutting the input changed what it means");
	free(whole.buf);
	free(pieces.buf);
	return 0;
}
