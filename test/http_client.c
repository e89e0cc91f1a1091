/* The test client: a scripted blocking socket on its own thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "http_client.h"

/* Criterion's asserts belong to the test's thread: the client's own
 * checks abort, which fails the test just as visibly. */
#define HC_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "http client: %s failed\n", #cond);                        \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

void hc_init(hc *c, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	c->port = port;
	c->fd = -1;
	atomic_init(&c->done, false);
	atomic_init(&c->nread, 0);
	atomic_init(&c->started, false);
}

static hc_step *step(hc *c, hc_op op)
{
	cr_assert_lt(c->nsteps, HC_MAX_STEPS, "too many client steps");
	c->steps[c->nsteps].op = op;
	return &c->steps[c->nsteps++];
}

void hc_send(hc *c, const char *data, size_t len)
{
	hc_step *s = step(c, HC_SEND);

	s->data = data;
	s->len = len;
}

void hc_send_str(hc *c, const char *text)
{
	hc_send(c, text, strlen(text));
}

void hc_read(hc *c, unsigned int n)
{
	step(c, HC_READ)->n = n;
}

void hc_sleep(hc *c, unsigned int ms)
{
	step(c, HC_SLEEP)->n = ms;
}

void hc_wait_flag(hc *c, atomic_int *flag)
{
	step(c, HC_WAIT_FLAG)->flag = flag;
}

void hc_expect_close(hc *c)
{
	step(c, HC_EXPECT_CLOSE);
}

void hc_close(hc *c)
{
	step(c, HC_CLOSE);
}

void hc_head(hc *c)
{
	step(c, HC_HEAD);
}

static void fail(hc *c, const char *fmt, const char *arg)
{
	if (!c->error[0])
		snprintf(c->error, sizeof(c->error), fmt, arg ? arg : "");
}

/* Read more bytes, waiting at most TH_WAIT_MS. Returns >0 bytes, 0 on EOF,
 * -1 on reset, -2 on timeout. */
static int fill(hc *c)
{
	struct pollfd p = {c->fd, POLLIN, 0};
	ssize_t n;

	if (poll(&p, 1, TH_WAIT_MS) <= 0)
		return -2;
	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 131072;
		char *b = realloc(c->buf, cap);

		HC_CHECK(b != NULL);
		c->buf = b;
		c->cap = cap;
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
	if (n < 0)
		return errno == ECONNRESET ? -1 : -2;
	if (n == 0)
		return 0;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return 1;
}

static void mark_closed(hc *c)
{
	if (!c->closed) {
		c->closed = true;
		c->closed_at_ms = th_now_ms();
	}
}

/* Take one whole response from the front of the buffer, if there is one. */
static bool take_response(hc *c)
{
	char *end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
	size_t head_len, body_len = 0, total;
	hc_response *r;
	char cl[32];

	if (!end)
		return false;
	head_len = (size_t)(end - c->buf) + 4;
	HC_CHECK(c->nresp < HC_MAX_RESPONSES);
	r = &c->resp[c->nresp];
	r->head = strndup(c->buf, head_len);
	HC_CHECK(r->head != NULL);
	r->status = atoi(r->head + 9);
	if (r->status >= 200 && r->status != 204 && r->status != 304 && !c->head_next &&
	    hc_header(r, "Content-Length", cl, sizeof(cl)))
		body_len = strtoul(cl, NULL, 10);
	total = head_len + body_len;
	if (c->len < total) {
		free(r->head);
		r->head = NULL;
		return false;
	}
	r->body = malloc(body_len + 1);
	HC_CHECK(r->body != NULL);
	memcpy(r->body, c->buf + head_len, body_len);
	r->body[body_len] = '\0';
	r->body_len = body_len;
	memmove(c->buf, c->buf + total, c->len - total);
	c->len -= total;
	c->buf[c->len] = '\0';
	if (r->status >= 200)
		c->head_next = false;
	c->nresp++;
	atomic_store(&c->nread, c->nresp);
	return true;
}

static bool run_step(hc *c, const hc_step *s)
{
	int rc;

	switch (s->op) {
	case HC_SEND:
		for (size_t off = 0; off < s->len;) {
			ssize_t n = send(c->fd, s->data + off, s->len - off, MSG_NOSIGNAL);

			if (n < 0) {
				fail(c, "send: %s", strerror(errno));
				return false;
			}
			off += (size_t)n;
		}
		return true;
	case HC_READ: {
		int want = c->nresp + (int)s->n;

		while (c->nresp < want) {
			if (take_response(c))
				continue;
			rc = fill(c);
			if (rc <= 0) {
				if (rc == 0 || rc == -1)
					mark_closed(c);
				fail(c, "read: %s before the response",
				     rc == 0    ? "EOF"
				     : rc == -1 ? "reset"
				                : "timeout");
				return false;
			}
		}
		return true;
	}
	case HC_SLEEP:
		th_sleep_ms(s->n);
		return true;
	case HC_WAIT_FLAG:
		for (int i = 0; i < TH_WAIT_MS && !atomic_load(s->flag); i++)
			th_sleep_ms(1);
		return true;
	case HC_EXPECT_CLOSE:
		for (;;) {
			rc = fill(c);
			if (rc == 0 || rc == -1) {
				mark_closed(c);
				return true;
			}
			if (rc == -2) {
				fail(c, "the server did not close the connection%s", NULL);
				return false;
			}
		}
	case HC_CLOSE:
		close(c->fd);
		c->fd = -1;
		return true;
	case HC_HEAD:
		c->head_next = true;
		return true;
	}
	return false;
}

static void *client_main(void *arg)
{
	hc *c = arg;
	struct sockaddr_in a;
	struct timeval tv = {TH_WAIT_MS / 1000, 0};
	int one = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(c->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0) {
		fail(c, "socket: %s", strerror(errno));
		goto out;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fail(c, "connect: %s", strerror(errno));
		goto out;
	}
	c->connected = true;
	for (size_t i = 0; i < c->nsteps; i++)
		if (!run_step(c, &c->steps[i]))
			break;
out:
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	atomic_store(&c->done, true);
	return NULL;
}

void hc_start(hc *c)
{
	cr_assert_eq(pthread_create(&c->thread, NULL, client_main, c), 0);
	atomic_store(&c->started, true);
}

bool hc_done(void *c)
{
	return atomic_load(&((hc *)c)->done);
}

void hc_join(hc *c)
{
	if (atomic_load(&c->started)) {
		pthread_join(c->thread, NULL);
		atomic_store(&c->started, false);
	}
}

void hc_run(hc *c, faas_runtime *rt)
{
	if (!atomic_load(&c->started))
		hc_start(c);
	cr_assert(th_wait_for(rt, hc_done, c, 2 * TH_WAIT_MS), "the client script did not finish");
	hc_join(c);
}

void hc_free(hc *c)
{
	hc_join(c);
	for (int i = 0; i < c->nresp; i++) {
		free(c->resp[i].head);
		free(c->resp[i].body);
	}
	free(c->buf);
	c->buf = NULL;
	c->nresp = 0;
}

const char *hc_header(const hc_response *r, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	const char *p = strstr(r->head, "\r\n");

	while (p && p[2] != '\r') {
		const char *line = p + 2, *eol = strstr(line, "\r\n");

		if (!eol)
			break;
		if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = (size_t)(eol - v);
			if (len >= size)
				len = size - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return out;
		}
		p = eol;
	}
	return NULL;
}
