/* The API Gateway REST (v1.0) proxy event: the request read once (headers,
 * query, path parameters, request context, body) and written through a sink,
 * so the text for thread and process functions and the tree for inline ones
 * cannot drift apart. proxy_event.h says what the values are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy_event.h"

/* ---- preparing: everything decoded before any pointer into it is taken ---- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int cmp_header(const void *a, const void *b)
{
	const faas__piece *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;

	for (size_t i = 0; i < n; i++) {
		char cx = lower(x->kp[i]), cy = lower(y->kp[i]);

		if (cx != cy)
			return (unsigned char)cx < (unsigned char)cy ? -1 : 1;
	}
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_query(const void *a, const void *b)
{
	const faas__piece *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->kp, y->kp, n);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The headers as pieces in s->hdrs, sorted by name (case-insensitively),
 * then by order. */
static bool prepare_headers(faas__scratch *s, const faas__http_request *req)
{
	bool oom = false;

	s->nhdrs = 0;
	for (size_t i = 0; i < req->nheaders; i++) {
		const faas__http_header *hd = &req->headers[i];
		faas__piece *p = faas__scratch_piece_push(&s->hdrs, &s->nhdrs, &s->hdrs_cap, &oom);

		if (!p)
			return false;
		p->kp = hd->name;
		p->key_len = hd->name_len;
		p->vp = hd->value;
		p->value_len = hd->value_len;
		p->index = i;
	}
	if (s->nhdrs > 1)
		qsort(s->hdrs, s->nhdrs, sizeof(faas__piece), cmp_header);
	return true;
}

/* Replace the query key at *key (offset in s->dec) by its valid UTF-8 form,
 * appended to the decode buffer, so that keys the sinks would write alike
 * (with U+FFFD) are grouped as one key instead of repeating it. */
static void sanitize_key(faas__scratch *s, size_t *key, size_t *len, bool *oom)
{
	size_t at;

	if (*oom || faas__utf8_valid(s->dec + *key, *len))
		return;
	if (faas__grow((void **)&s->dec, &s->dec_cap, s->dec_len + 3 * *len + 1, 1) != 0) {
		*oom = true;
		return;
	}
	at = s->dec_len;
	*len = faas__utf8_sanitize(s->dec + at, s->dec + *key, *len);
	s->dec[at + *len] = '\0';
	s->dec_len += *len + 1;
	*key = at;
}

/* Split a raw query string into decoded key/value pieces in s->pairs (the
 * decoded bytes are appended to the decode buffer, the pieces hold offsets
 * until prepare resolves them). */
static void split_query(faas__scratch *s, const char *query, bool *oom)
{
	s->npairs = 0;
	for (const char *q = query; *q && !*oom;) {
		const char *amp = strchr(q, '&'), *eq;
		size_t len = amp ? (size_t)(amp - q) : strlen(q);

		if (len > 0) {
			faas__piece *p =
			    faas__scratch_piece_push(&s->pairs, &s->npairs, &s->pairs_cap, oom);

			if (!p)
				break;
			eq = memchr(q, '=', len);
			p->index = s->npairs;
			p->key = faas__scratch_dec_push(s, q, eq ? (size_t)(eq - q) : len, true,
			                                &p->key_len, oom);
			p->value =
			    eq ? faas__scratch_dec_push(s, eq + 1, len - (size_t)(eq - q) - 1, true,
			                                &p->value_len, oom)
			       : faas__scratch_dec_push(s, "", 0, true, &p->value_len, oom);
			sanitize_key(s, &p->key, &p->key_len, oom);
		}
		q += len + (amp ? 1 : 0);
	}
}

/* The {proxy+} value: the rest of the raw path from its segment on, decoded
 * as a whole (a trailing slash dropped). *at is its offset in s->dec. */
static bool prepare_proxy(faas__scratch *s, const faas__http_request *req, const faas__route *r,
                          size_t *at, size_t *len)
{
	bool oom = false;

	*at = *len = 0;
	for (size_t i = 0; i < r->nseg; i++) {
		const char *rest;
		size_t rlen;

		if (r->seg[i].kind != FAAS__SEG_PROXY)
			continue;
		rest = req->raw_path + s->segs[i].raw;
		rlen = strlen(rest);
		if (rlen > 1 && rest[rlen - 1] == '/')
			rlen--;
		*at = faas__scratch_dec_push(s, rest, rlen, false, len, &oom);
	}
	return !oom;
}

static bool prepare(faas__scratch *s, const faas__proxy_request *in, size_t *proxy_at,
                    size_t *proxy_len)
{
	bool oom = false;

	if (!prepare_headers(s, in->req) ||
	    !prepare_proxy(s, in->req, in->route, proxy_at, proxy_len))
		return false;
	split_query(s, in->req->query, &oom);
	if (oom)
		return false;
	for (size_t i = 0; i < s->npairs; i++) {
		s->pairs[i].kp = s->dec + s->pairs[i].key;
		s->pairs[i].vp = s->dec + s->pairs[i].value;
	}
	if (s->npairs > 1)
		qsort(s->pairs, s->npairs, sizeof(faas__piece), cmp_query);
	return true;
}

/* ---- writing ---- */

/* A member name that is a C string. */
static void key(faas__event_sink *k, const char *name)
{
	k->ops->key_literal(k, name);
}

/* A C string value, or null. */
static void cstr(faas__event_sink *k, const char *v)
{
	k->ops->string(k, v, v ? strlen(v) : 0, true);
}

static void member(faas__event_sink *k, const char *name, const char *v)
{
	key(k, name);
	cstr(k, v);
}

/* The end of the run of pieces that share p[i]'s key. */
static size_t run_end(const faas__piece *p, size_t n, size_t i,
                      int (*same)(const void *, const void *))
{
	size_t j = i + 1;

	while (j < n) {
		faas__piece a = p[i], b = p[j];

		a.index = b.index = 0;
		if (same(&a, &b) != 0)
			break;
		j++;
	}
	return j;
}

/* "single":{k:last},"multi":{k:[all]} for sorted pieces, or nulls. The
 * pieces' strings are NUL-terminated: the request's head, the decode buffer. */
static void groups(faas__event_sink *k, const char *single, const char *multi, const faas__piece *p,
                   size_t n, int (*same)(const void *, const void *))
{
	for (int pass = 0; pass < 2; pass++) {
		key(k, pass ? multi : single);
		if (n == 0) {
			k->ops->null(k);
			continue;
		}
		k->ops->begin(k, false);
		for (size_t i = 0, j; i < n; i = j) {
			j = run_end(p, n, i, same);
			k->ops->key(k, p[i].kp, p[i].key_len, true);
			if (pass == 0) {
				k->ops->string(k, p[j - 1].vp, p[j - 1].value_len, true);
				continue;
			}
			k->ops->begin(k, true);
			for (size_t m = i; m < j; m++)
				k->ops->string(k, p[m].vp, p[m].value_len, true);
			k->ops->end(k);
		}
		k->ops->end(k);
	}
}

/* "pathParameters": the route's {param} and {proxy+} values, or null. */
static void path_parameters(faas__event_sink *k, const faas__scratch *s, const faas__route *r,
                            size_t proxy_at, size_t proxy_len)
{
	size_t nparams = 0;

	key(k, "pathParameters");
	for (size_t i = 0; i < r->nseg; i++) {
		const faas__route_seg *g = &r->seg[i];

		if (g->kind == FAAS__SEG_LITERAL)
			continue;
		if (nparams++ == 0)
			k->ops->begin(k, false);
		k->ops->key(k, g->text, g->len, true);
		if (g->kind == FAAS__SEG_PARAM)
			k->ops->string(k, s->dec + s->segs[i].key, s->segs[i].key_len, true);
		else
			k->ops->string(k, s->dec + proxy_at, proxy_len, true);
	}
	if (nparams)
		k->ops->end(k);
	else
		k->ops->null(k);
}

static void request_context(faas__event_sink *k, const faas__proxy_request *in)
{
	const faas__http_request *req = in->req;
	size_t ua_len = 0;
	const char *ua;

	key(k, "requestContext");
	k->ops->begin(k, false);
	member(k, "accountId", FAAS__PROXY_ACCOUNT_ID);
	member(k, "resourcePath", in->route->path);
	member(k, "httpMethod", req->method);
	member(k, "path", req->path);
	member(k, "protocol", req->version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
	member(k, "stage", FAAS__PROXY_STAGE);
	member(k, "requestId", in->request_id);
	member(k, "requestTime", in->request_time);
	key(k, "requestTimeEpoch");
	k->ops->number(k, req->received_ms);
	key(k, "identity");
	k->ops->begin(k, false);
	member(k, "sourceIp", req->client_ip);
	/* The first User-Agent. */
	ua = faas__http_header_get(req, "User-Agent", &ua_len);
	key(k, "userAgent");
	k->ops->string(k, ua, ua_len, true);
	k->ops->end(k);
	k->ops->end(k);
}

static void body(faas__event_sink *k, const faas__http_request *req)
{
	bool b64 = req->body_len > 0 && !faas__utf8_text(req->body, req->body_len);

	key(k, "body");
	if (req->body_len == 0)
		k->ops->null(k);
	else if (b64)
		k->ops->base64(k, req->body, req->body_len);
	else
		k->ops->string(k, req->body, req->body_len, false);
	key(k, "isBase64Encoded");
	k->ops->boolean(k, b64);
}

int faas__proxy_event(faas__event_sink *k, faas__scratch *s, const faas__proxy_request *in)
{
	size_t proxy_at, proxy_len;

	if (!prepare(s, in, &proxy_at, &proxy_len))
		return FAAS_ENOMEM;
	k->ops->begin(k, false);
	member(k, "resource", in->route->path);
	member(k, "path", in->req->path);
	member(k, "httpMethod", in->req->method);
	groups(k, "headers", "multiValueHeaders", s->hdrs, s->nhdrs, cmp_header);
	groups(k, "queryStringParameters", "multiValueQueryStringParameters", s->pairs, s->npairs,
	       cmp_query);
	path_parameters(k, s, in->route, proxy_at, proxy_len);
	key(k, "stageVariables");
	k->ops->null(k);
	request_context(k, in);
	body(k, in->req);
	k->ops->end(k);
	return k->failed ? FAAS_ENOMEM : 0;
}

const char *faas__proxy_request_time(faas__proxy_clock *c, uint64_t ms)
{
	uint64_t sec = ms / 1000u;

	if (c->text[0] && c->sec == sec)
		return c->text;
	faas__date_apigw(c->text, (int64_t)sec);
	c->sec = sec;
	return c->text;
}
