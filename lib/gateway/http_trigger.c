/* The HTTP trigger: routes ("GET /users/{id}"), API Gateway REST (v1.0)
 * proxy events, and proxy responses mapped back to HTTP.
 *
 * Choices where API Gateway leaves room, in one place:
 * - Matching: the most specific route wins, segment by segment (a literal
 *   beats {param}, which beats {proxy+}); on the same path a route with the
 *   request's method beats ANY; then the rule created first. HEAD matches
 *   only HEAD or ANY routes. A trailing slash is ignored ("/a/" is "/a").
 *   {proxy+} needs at least one segment.
 * - Decoding: path segments are matched and passed percent-decoded, '+'
 *   staying '+'; query keys and values are percent-decoded with '+' as a
 *   space (what API Gateway hands to Lambda). Invalid escapes stay as sent.
 * - Headers in the event: names keep the case of their first occurrence;
 *   "headers" has the last value, "multiValueHeaders" all of them in order.
 * - Bodies: text that is valid UTF-8 without NUL bytes is passed as is;
 *   anything else as base64 with isBase64Encoded true. No body is null.
 * - Results: an object with "statusCode" is a proxy response. An invalid one
 *   (statusCode not an integer in 200..599 — 1xx cannot end an exchange —,
 *   header values not strings or holding control characters, a body that is
 *   not a string, bad base64) is answered 502 {"message": "Internal server
 *   error"}, as API Gateway does. Any other result, null included, is
 *   answered 200 with its JSON text (API Gateway would answer 502 for a
 *   non-proxy result; returning plain JSON is too useful to refuse).
 *   Without a Content-Type the answer says application/json.
 * - Events: an inline function gets the event as a cJSON tree built in place
 *   (build_tree), not as JSON text parsed back on the loop; other isolations
 *   get the text. Both carry the same values: a request whose strings are
 *   not UTF-8 (Latin-1 header bytes, %e9, %00) takes the text path, whose
 *   escapes define them. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway.h"
#include "http_server.h"

/* Limits that are not options. */
#define FAAS__HTTP_ROUTE_MAX 1024u /* characters of a route string */
#define FAAS__HTTP_ACCOUNT_ID "000000000000"
#define FAAS__HTTP_STAGE "$default"
#define FAAS__HTTP_API_INVOKE_PREFIX "/2015-03-31/functions/"
/* Printed results up to this size reuse the trigger's buffer. */
#define FAAS__HTTP_PRINT_KEEP (64u * 1024u)
/* Event tree nodes that are not per header, query pair or path parameter. */
#define FAAS__HTTP_TREE_FIXED 32u
/* Node arrays larger than this are not kept between requests. */
#define FAAS__HTTP_TREE_KEEP 4096u

enum seg_kind { SEG_LITERAL = 0, SEG_PARAM = 1, SEG_PROXY = 2 };

typedef struct route_seg {
	int kind;
	const char *text; /* decoded literal, or the parameter's name */
	size_t len;
} route_seg;

typedef struct route {
	char method[8];   /* "GET"..., or "ANY" */
	const char *path; /* the template as written: the event's "resource" */
	size_t nseg;
	route_seg seg[];
} route;

/* A piece of the request: a path segment, a query pair or a header. */
typedef struct piece {
	size_t key, key_len; /* offsets into the trigger's decode buffer, or pointers */
	size_t value, value_len;
	size_t raw;          /* path segments: offset in the raw path */
	size_t index;        /* original order */
	const char *kp, *vp; /* resolved pointers */
} piece;

typedef struct jw {
	char *buf;
	size_t len, cap;
	bool oom;
} jw;

typedef struct http_trigger {
	faas_trigger base; /* first: the core casts back */
	faas__http_server *srv;
	bool management_api;
	faas_http_options opts; /* for the management routes; bearer_token is a copy */
	/* Per-request scratch, reused: the loop runs one request at a time. */
	jw event;
	char *dec; /* decoded path segments and query pairs */
	size_t dec_len, dec_cap;
	piece *segs, *pairs;
	size_t nsegs, segs_cap, npairs, pairs_cap;
	faas__http_header *out_hdrs;
	size_t out_hdrs_cap;
	char *bin; /* decoded base64 response bodies */
	size_t bin_cap;
	uint64_t when_sec; /* requestTime of this second, formatted once */
	char when[32];
	/* The event as a tree, for inline functions: nodes from one reused
	 * array, strings referenced where they already are (see build_tree). */
	cJSON *nodes;
	size_t nnodes, nodes_cap;
	piece *hdrs; /* the headers, sorted, while the query uses pairs */
	size_t nhdrs, hdrs_cap;
	char id[FAAS__ID_LEN + 1];
} http_trigger;

static const char *const methods[] = {"GET",    "POST", "PUT",     "PATCH",
                                      "DELETE", "HEAD", "OPTIONS", "ANY"};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const faas__trigger_ops http_ops;

/* ---- options ---- */

int faas_http_options_init(faas_http_options *opts, unsigned int version)
{
	faas_http_options init = FAAS_HTTP_OPTIONS_INIT;

	if (!opts || version != FAAS_HTTP_OPTIONS_VERSION)
		return FAAS_EINVAL;
	*opts = init;
	return 0;
}

static int check_options(faas_runtime *rt, const char *name, const faas_http_options *o)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;

	if (o->version != FAAS_HTTP_OPTIONS_VERSION)
		return faas__fail(rt, FAAS_EINVAL, "%s: version: expected %u, got %u", name,
		                  FAAS_HTTP_OPTIONS_VERSION, o->version);
	if (o->host && uv_ip4_addr(o->host, 0, &a4) != 0 && uv_ip6_addr(o->host, 0, &a6) != 0)
		return faas__fail(rt, FAAS_EINVAL,
		                  "%s: host: \"%s\" is not an IPv4 or IPv6 address", name, o->host);
	if (o->max_header_bytes < FAAS__HTTP_MIN_HEADER_BYTES ||
	    o->max_header_bytes > FAAS__HTTP_MAX_HEADER_BYTES)
		return faas__fail(rt, FAAS_EINVAL, "%s: max_header_bytes: expected %u..%u, got %zu",
		                  name, FAAS__HTTP_MIN_HEADER_BYTES, FAAS__HTTP_MAX_HEADER_BYTES,
		                  o->max_header_bytes);
	if (o->max_connections == 0)
		return faas__fail(rt, FAAS_EINVAL, "%s: max_connections: expected at least 1",
		                  name);
	if (o->header_timeout_ms == 0)
		return faas__fail(rt, FAAS_EINVAL, "%s: header_timeout_ms: expected at least 1",
		                  name);
	if (o->body_timeout_ms == 0)
		return faas__fail(rt, FAAS_EINVAL, "%s: body_timeout_ms: expected at least 1",
		                  name);
	if (o->idle_timeout_ms == 0)
		return faas__fail(rt, FAAS_EINVAL, "%s: idle_timeout_ms: expected at least 1",
		                  name);
	if (o->bearer_token) {
		size_t n = strlen(o->bearer_token);

		if (n == 0)
			return faas__fail(rt, FAAS_EINVAL, "%s: bearer_token: empty", name);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)o->bearer_token[i];

			if (c <= 0x20 || c >= 0x7f)
				return faas__fail(rt, FAAS_EINVAL,
				                  "%s: bearer_token: only visible ASCII characters",
				                  name);
		}
	}
	return 0;
}

/* ---- decoding ---- */

/* Decode into dst (room for n). plus: '+' means a space (query strings). */
static size_t pct_decode(char *dst, const char *src, size_t n, bool plus)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (src[i] == '%' && i + 2 < n && (hi = faas__hexval(src[i + 1])) >= 0 &&
		    (lo = faas__hexval(src[i + 2])) >= 0) {
			dst[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (plus && src[i] == '+') {
			dst[o++] = ' ';
		} else {
			dst[o++] = src[i];
		}
	}
	return o;
}

static int grow(void **buf, size_t *cap, size_t need, size_t size)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n * size);
	if (!p)
		return FAAS_ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

/* Append the decoded form of src to the decode buffer; returns its offset. */
static size_t dec_push(http_trigger *h, const char *src, size_t n, bool plus, size_t *len,
                       bool *oom)
{
	size_t at = h->dec_len;

	if (grow((void **)&h->dec, &h->dec_cap, h->dec_len + n + 1, 1) != 0) {
		*oom = true;
		*len = 0;
		return 0;
	}
	*len = pct_decode(h->dec + at, src, n, plus);
	h->dec_len += *len;
	h->dec[h->dec_len++] = '\0';
	return at;
}

static piece *piece_push(piece **arr, size_t *n, size_t *cap, bool *oom)
{
	if (grow((void **)arr, cap, *n + 1, sizeof(piece)) != 0) {
		*oom = true;
		return NULL;
	}
	memset(&(*arr)[*n], 0, sizeof(piece));
	return &(*arr)[(*n)++];
}

/* Split the raw path into decoded segments (a trailing slash dropped). */
static bool split_path(http_trigger *h, const char *raw)
{
	bool oom = false;
	size_t n = strlen(raw), i = 1;

	h->dec_len = 0;
	h->nsegs = 0;
	if (n == 0 || raw[0] != '/')
		return true; /* "*": no segments, matches only "/" routes... none */
	if (n > 1 && raw[n - 1] == '/')
		n--;
	while (i < n && !oom) {
		size_t end = i;
		piece *p;

		while (end < n && raw[end] != '/')
			end++;
		p = piece_push(&h->segs, &h->nsegs, &h->segs_cap, &oom);
		if (p) {
			p->raw = i;
			p->key = dec_push(h, raw + i, end - i, false, &p->key_len, &oom);
		}
		i = end + 1;
	}
	for (size_t k = 0; k < h->nsegs && !oom; k++)
		h->segs[k].kp = h->dec + h->segs[k].key;
	return !oom;
}

/* ---- routes ---- */

static bool param_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static bool literal_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '{' && c != '}' && c != '?' && c != '#';
}

static bool same_shape(const route *a, const route *b)
{
	if (strcmp(a->method, b->method) != 0 || a->nseg != b->nseg)
		return false;
	for (size_t i = 0; i < a->nseg; i++) {
		if (a->seg[i].kind != b->seg[i].kind)
			return false;
		if (a->seg[i].kind == SEG_LITERAL &&
		    (a->seg[i].len != b->seg[i].len ||
		     memcmp(a->seg[i].text, b->seg[i].text, a->seg[i].len) != 0))
			return false;
	}
	return true;
}

static int route_fail(faas_trigger *t, const char *spec, const char *why)
{
	return faas__fail(t->rt, FAAS_EINVAL, "%s: route \"%.200s\": %s", t->name, spec, why);
}

static int route_parse(faas_trigger *t, const char *spec, void **data)
{
	const char *sp, *path;
	size_t mlen, plen, nseg = 0, m;
	route *r;
	char *text;

	*data = NULL;
	if (!spec)
		return faas__fail(t->rt, FAAS_EINVAL,
		                  "%s: an HTTP rule needs a route, \"METHOD /path\"", t->name);
	if (strlen(spec) > FAAS__HTTP_ROUTE_MAX)
		return route_fail(t, spec, "longer than 1024 characters");
	sp = strchr(spec, ' ');
	if (!sp)
		return route_fail(t, spec, "expected \"METHOD /path\"");
	mlen = (size_t)(sp - spec);
	for (m = 0; m < NMETHODS; m++)
		if (strlen(methods[m]) == mlen && memcmp(methods[m], spec, mlen) == 0)
			break;
	if (m == NMETHODS)
		return route_fail(t, spec,
		                  "the method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, "
		                  "OPTIONS, ANY");
	path = sp + 1;
	plen = strlen(path);
	if (plen == 0 || path[0] != '/')
		return route_fail(t, spec, "the path must start with '/'");
	/* Count and check the segments before allocating. */
	if (plen > 1) {
		const char *s = path + 1;
		bool proxy_seen = false;

		for (;;) {
			const char *e = strchr(s, '/');
			size_t len = e ? (size_t)(e - s) : strlen(s);

			if (len == 0)
				return route_fail(t, spec, "empty path segment");
			if (proxy_seen)
				return route_fail(t, spec, "{name+} must be the last segment");
			if (s[0] == '{') {
				size_t nlen = len - 2;

				if (len < 3 || s[len - 1] != '}')
					return route_fail(t, spec,
					                  "a parameter is a whole segment, {name}");
				if (s[len - 2] == '+') {
					proxy_seen = true;
					nlen--;
				}
				if (nlen == 0)
					return route_fail(t, spec, "empty parameter name");
				for (size_t i = 0; i < nlen; i++)
					if (!param_char(s[1 + i]))
						return route_fail(
						    t, spec, "parameter names use [A-Za-z0-9_.-]");
			} else {
				for (size_t i = 0; i < len; i++)
					if (!literal_char((unsigned char)s[i]))
						return route_fail(
						    t, spec, "invalid character in a path segment");
			}
			nseg++;
			if (!e)
				break;
			s = e + 1;
		}
	}
	r = calloc(1, sizeof(*r) + nseg * sizeof(route_seg) + 2 * plen + 2);
	if (!r)
		return faas__fail(t->rt, FAAS_ENOMEM, "%s: out of memory", t->name);
	memcpy(r->method, methods[m], strlen(methods[m]) + 1);
	text = (char *)&r->seg[nseg];
	memcpy(text, path, plen + 1);
	r->path = text;
	text += plen + 1;
	if (plen > 1) {
		const char *s = path + 1;

		for (size_t k = 0; k < nseg; k++) {
			const char *e = strchr(s, '/');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			route_seg *g = &r->seg[k];

			if (s[0] == '{') {
				g->kind = s[len - 2] == '+' ? SEG_PROXY : SEG_PARAM;
				g->len = len - 2 - (g->kind == SEG_PROXY);
				memcpy(text, s + 1, g->len);
			} else {
				g->kind = SEG_LITERAL;
				g->len = pct_decode(text, s, len, false);
			}
			g->text = text;
			text[g->len] = '\0';
			text += g->len + 1;
			for (size_t j = 0; j < k; j++) {
				if (g->kind != SEG_LITERAL && r->seg[j].kind != SEG_LITERAL &&
				    r->seg[j].len == g->len &&
				    memcmp(r->seg[j].text, g->text, g->len) == 0) {
					free(r);
					return route_fail(t, spec,
					                  "a parameter name appears twice");
				}
			}
			s = e ? e + 1 : s + len;
		}
	}
	r->nseg = nseg;
	for (faas_rule *o = t->rules; o; o = o->next) {
		if (o->route_data && same_shape(o->route_data, r)) {
			free(r);
			return faas__fail(t->rt, FAAS_EEXIST,
			                  "%s: route \"%.200s\" exists as \"%s\"", t->name, spec,
			                  o->route);
		}
	}
	*data = r;
	return 0;
}

static void route_free(void *data)
{
	free(data);
}

/* Whether the route matches the split path. */
static bool path_matches(const http_trigger *h, const route *r)
{
	size_t i;

	for (i = 0; i < r->nseg; i++) {
		const route_seg *g = &r->seg[i];

		if (g->kind == SEG_PROXY)
			return i < h->nsegs;
		if (i >= h->nsegs)
			return false;
		if (g->kind == SEG_LITERAL) {
			if (g->len != h->segs[i].key_len ||
			    memcmp(g->text, h->segs[i].kp, g->len) != 0)
				return false;
		} else if (h->segs[i].key_len == 0) {
			return false;
		}
	}
	return i == h->nsegs;
}

/* <0: a is more specific than b. */
static int specificity(const route *a, const route *b)
{
	size_t n = a->nseg < b->nseg ? a->nseg : b->nseg;

	for (size_t i = 0; i < n; i++)
		if (a->seg[i].kind != b->seg[i].kind)
			return a->seg[i].kind - b->seg[i].kind;
	return 0;
}

typedef struct match {
	faas_rule *rule;
	bool path_matched;
	unsigned allow; /* bit per methods[] entry */
} match;

static void route_match(http_trigger *h, const faas__http_request *req, match *m)
{
	const route *best = NULL;

	m->rule = NULL;
	m->path_matched = false;
	m->allow = 0;
	for (faas_rule *rule = h->base.rules; rule; rule = rule->next) {
		const route *r = rule->route_data;
		bool exact;
		int cmp;

		if (!r || !rule->enabled || !path_matches(h, r))
			continue;
		m->path_matched = true;
		for (size_t k = 0; k < NMETHODS; k++)
			if (strcmp(methods[k], r->method) == 0)
				m->allow |= 1u << k;
		exact = strcmp(r->method, req->method) == 0;
		if (!exact && strcmp(r->method, "ANY") != 0)
			continue;
		if (best) {
			cmp = specificity(r, best);
			if (cmp > 0 || (cmp == 0 && (!exact || strcmp(best->method, "ANY") != 0)))
				continue;
		}
		best = r;
		m->rule = rule;
	}
}

/* ---- the JSON writer ---- */

static void jw_reserve(jw *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->oom || w->len + n <= w->cap)
		return;
	cap = w->cap ? w->cap : 1024;
	while (cap < w->len + n)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p) {
		w->oom = true;
		return;
	}
	w->buf = p;
	w->cap = cap;
}

static void jw_raw(jw *w, const char *s, size_t n)
{
	jw_reserve(w, n);
	if (w->oom)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* For string literals only (sizeof): jw_text for anything else. */
#define JW_LIT(w, lit) jw_raw((w), "" lit, sizeof(lit) - 1)

static void jw_text(jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at p, or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0; /* overlong, surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static bool is_text(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k;

		if (p[i] == 0)
			return false;
		k = utf8_seq(p + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

/* A JSON string. Bytes that are not UTF-8 are read as Latin-1 (what header
 * bytes are, historically), so the text stays valid JSON. */
static void jw_str(jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char *o;

	jw_reserve(w, n * 6 + 2);
	if (w->oom)
		return;
	o = w->buf + w->len;
	*o++ = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c < 0x20) {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (k) {
			memcpy(o, p + i, k);
			o += k;
			i += k;
		} else {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			i++;
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

static void jw_cstr(jw *w, const char *s)
{
	if (s)
		jw_str(w, s, strlen(s));
	else
		JW_LIT(w, "null");
}

static void jw_u64(jw *w, uint64_t v)
{
	char tmp[24];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jw_raw(w, tmp + n, sizeof(tmp) - n);
}

/* ---- the event ---- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int cmp_header(const void *a, const void *b)
{
	const piece *x = a, *y = b;
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
	const piece *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->kp, y->kp, n);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Write "single":{k:last},"multi":{k:[all]} for sorted pairs, or nulls. */
static void jw_groups(jw *w, const char *single, const char *multi, const piece *p, size_t n,
                      int (*same)(const void *, const void *))
{
	for (int pass = 0; pass < 2; pass++) {
		JW_LIT(w, ",\"");
		jw_raw(w, pass ? multi : single, strlen(pass ? multi : single));
		JW_LIT(w, "\":");
		if (n == 0) {
			JW_LIT(w, "null");
			continue;
		}
		JW_LIT(w, "{");
		for (size_t i = 0; i < n;) {
			size_t j = i + 1;

			while (j < n) {
				piece a = p[i], b = p[j];

				a.index = b.index = 0;
				if (same(&a, &b) != 0)
					break;
				j++;
			}
			if (i)
				JW_LIT(w, ",");
			jw_str(w, p[i].kp, p[i].key_len);
			JW_LIT(w, ":");
			if (pass == 0) {
				jw_str(w, p[j - 1].vp, p[j - 1].value_len);
			} else {
				JW_LIT(w, "[");
				for (size_t k = i; k < j; k++) {
					if (k > i)
						JW_LIT(w, ",");
					jw_str(w, p[k].vp, p[k].value_len);
				}
				JW_LIT(w, "]");
			}
			i = j;
		}
		JW_LIT(w, "}");
	}
}

/* API Gateway's requestTime, "23/Nov/2026:08:00:00 +0000", formatted once
 * a second. */
static const char *request_time(http_trigger *h, uint64_t ms)
{
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t s = (time_t)(ms / 1000u);
	struct tm tm;

	if (h->when[0] && h->when_sec == (uint64_t)s)
		return h->when;
	gmtime_r(&s, &tm);
	snprintf(h->when, sizeof(h->when), "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
	         months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	h->when_sec = (uint64_t)s;
	return h->when;
}

/* Build the proxy event for a matched route into h->event. */
/* Split a raw query string into decoded key/value pieces in h->pairs (the
 * decoded bytes are appended to h->dec; pieces hold offsets into it, as the
 * buffer may move). Both event builders use it. */
static void split_query(http_trigger *h, const char *query, bool *oom)
{
	for (const char *q = query; *q && !*oom;) {
		const char *amp = strchr(q, '&'), *eq;
		size_t len = amp ? (size_t)(amp - q) : strlen(q);

		if (len > 0) {
			piece *p = piece_push(&h->pairs, &h->npairs, &h->pairs_cap, oom);

			if (!p)
				break;
			eq = memchr(q, '=', len);
			p->index = h->npairs;
			p->key = dec_push(h, q, eq ? (size_t)(eq - q) : len, true, &p->key_len, oom);
			p->value = eq ? dec_push(h, eq + 1, len - (size_t)(eq - q) - 1, true,
			                         &p->value_len, oom)
			              : dec_push(h, "", 0, true, &p->value_len, oom);
		}
		q += len + (amp ? 1 : 0);
	}
}

static bool build_event(http_trigger *h, const faas__http_request *req, const route *r)
{
	jw *w = &h->event;
	bool oom = false;
	char id[FAAS__ID_LEN + 1];
	size_t ua_len = 0, nparams = 0;
	const char *ua;

	w->len = 0;
	w->oom = false;
	JW_LIT(w, "{\"resource\":");
	jw_cstr(w, r->path);
	JW_LIT(w, ",\"path\":");
	jw_cstr(w, req->path);
	JW_LIT(w, ",\"httpMethod\":");
	jw_cstr(w, req->method);

	/* Headers. */
	h->npairs = 0;
	for (size_t i = 0; i < req->nheaders && !oom; i++) {
		piece *p = piece_push(&h->pairs, &h->npairs, &h->pairs_cap, &oom);

		if (!p)
			break;
		p->kp = req->headers[i].name;
		p->key_len = req->headers[i].name_len;
		p->vp = req->headers[i].value;
		p->value_len = req->headers[i].value_len;
		p->index = i;
	}
	if (oom)
		return false;
	if (h->npairs > 1)
		qsort(h->pairs, h->npairs, sizeof(piece), cmp_header);
	jw_groups(w, "headers", "multiValueHeaders", h->pairs, h->npairs, cmp_header);

	/* Query: the decode buffer still holds the path segments; append. */
	h->npairs = 0;
	split_query(h, req->query, &oom);
	if (oom)
		return false;
	for (size_t i = 0; i < h->npairs; i++) {
		h->pairs[i].kp = h->dec + h->pairs[i].key;
		h->pairs[i].vp = h->dec + h->pairs[i].value;
	}
	if (h->npairs > 1)
		qsort(h->pairs, h->npairs, sizeof(piece), cmp_query);
	jw_groups(w, "queryStringParameters", "multiValueQueryStringParameters", h->pairs,
	          h->npairs, cmp_query);

	/* Path parameters, from the segments split for matching. */
	JW_LIT(w, ",\"pathParameters\":");
	for (size_t i = 0; i < r->nseg; i++) {
		const route_seg *g = &r->seg[i];

		if (g->kind == SEG_LITERAL)
			continue;
		jw_text(w, nparams++ ? "," : "{");
		jw_str(w, g->text, g->len);
		JW_LIT(w, ":");
		if (g->kind == SEG_PARAM) {
			/* By offset: decoding the query may have moved the buffer. */
			jw_str(w, h->dec + h->segs[i].key, h->segs[i].key_len);
		} else {
			/* The rest of the path, decoded as a whole. */
			const char *rest = req->raw_path + h->segs[i].raw;
			size_t rlen = strlen(rest), dlen;
			size_t at;

			if (rlen > 1 && rest[rlen - 1] == '/')
				rlen--;
			at = dec_push(h, rest, rlen, false, &dlen, &oom);
			if (oom)
				return false;
			jw_str(w, h->dec + at, dlen);
		}
	}
	jw_text(w, nparams ? "}" : "null");
	JW_LIT(w,
	       ",\"stageVariables\":null,\"requestContext\":{\"accountId\":\"" FAAS__HTTP_ACCOUNT_ID
	       "\",\"resourcePath\":");
	jw_cstr(w, r->path);
	JW_LIT(w, ",\"httpMethod\":");
	jw_cstr(w, req->method);
	JW_LIT(w, ",\"path\":");
	jw_cstr(w, req->path);
	jw_text(w, req->version_minor == 0 ? ",\"protocol\":\"HTTP/1.0\""
	                                   : ",\"protocol\":\"HTTP/1.1\"");
	JW_LIT(w, ",\"stage\":\"" FAAS__HTTP_STAGE "\",\"requestId\":");
	faas__idgen_next(&h->base.rt->ids, id);
	jw_cstr(w, id);
	JW_LIT(w, ",\"requestTime\":");
	jw_cstr(w, request_time(h, req->received_ms));
	JW_LIT(w, ",\"requestTimeEpoch\":");
	jw_u64(w, req->received_ms);
	JW_LIT(w, ",\"identity\":{\"sourceIp\":");
	jw_cstr(w, req->client_ip);
	JW_LIT(w, ",\"userAgent\":");
	ua = faas__http_header_get(req, "User-Agent", &ua_len);
	if (ua)
		jw_str(w, ua, ua_len);
	else
		JW_LIT(w, "null");
	JW_LIT(w, "}},\"body\":");
	if (req->body_len == 0) {
		JW_LIT(w, "null,\"isBase64Encoded\":false}");
	} else if (is_text(req->body, req->body_len)) {
		jw_str(w, req->body, req->body_len);
		JW_LIT(w, ",\"isBase64Encoded\":false}");
	} else {
		size_t n = faas__base64_encoded_len(req->body_len);

		jw_reserve(w, n + 3);
		if (w->oom)
			return false;
		w->buf[w->len++] = '"';
		w->len += faas__base64_encode(w->buf + w->len, req->body, req->body_len);
		JW_LIT(w, "\",\"isBase64Encoded\":true}");
	}
	return !w->oom;
}

/* ---- the event as a tree (inline functions) ---- */

/* A node from the trigger's array (build_tree reserved room for all). */
static cJSON *tnode(http_trigger *h, int type)
{
	cJSON *n = &h->nodes[h->nnodes++];

	memset(n, 0, sizeof(*n));
	n->type = type;
	return n;
}

static cJSON *tstr(http_trigger *h, const char *s)
{
	cJSON *n;

	if (!s)
		return tnode(h, cJSON_NULL);
	n = tnode(h, cJSON_String | cJSON_IsReference);
	n->valuestring = (char *)s;
	return n;
}

/* Append item to an object (with its key) or an array (key NULL), keeping
 * cJSON's links: the first child's prev is the last one. The key is not
 * marked cJSON_StringIsConst: cJSON_Duplicate would then share it, and a
 * handler's copy of the event (a result, kept in the store) would point
 * into this request's buffers. */
static cJSON *tadd(cJSON *parent, const char *key, cJSON *item)
{
	cJSON *first = parent->child;

	item->string = (char *)key;
	if (!first) {
		parent->child = item;
		item->prev = item;
	} else {
		first->prev->next = item;
		item->prev = first->prev;
		first->prev = item;
	}
	return item;
}

/* Whether s (n bytes, NUL at s[n]) can be a tree string as is: build_event
 * would write it without a Latin-1 escape, so parsing gives the same bytes. */
static bool tree_text(const char *s, size_t n)
{
	return s[n] == '\0' && is_text(s, n);
}

/* "single":{k:last},"multi":{k:[all]} for sorted pairs, or nulls. */
static void tree_groups(http_trigger *h, cJSON *root, const char *single, const char *multi,
                        const piece *p, size_t n, int (*same)(const void *, const void *))
{
	cJSON *one, *all;

	if (n == 0) {
		tadd(root, single, tnode(h, cJSON_NULL));
		tadd(root, multi, tnode(h, cJSON_NULL));
		return;
	}
	one = tadd(root, single, tnode(h, cJSON_Object));
	all = tadd(root, multi, tnode(h, cJSON_Object));
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		cJSON *arr;

		while (j < n) {
			piece a = p[i], b = p[j];

			a.index = b.index = 0;
			if (same(&a, &b) != 0)
				break;
			j++;
		}
		tadd(one, p[i].kp, tstr(h, p[j - 1].vp));
		arr = tadd(all, p[i].kp, tnode(h, cJSON_Array));
		for (size_t k = i; k < j; k++)
			tadd(arr, NULL, tstr(h, p[k].vp));
		i = j;
	}
}

/* The proxy event of build_event as a cJSON tree, for an inline function:
 * the invocation reads it in place instead of parsing text back, whose
 * allocations and frees were half of the loop's work per request. Nodes
 * come from one array kept by the trigger; strings are referenced where
 * they are (the request's head, the decode buffer, the route, the event
 * buffer for the body). So the tree is valid only until faas__rule_fire
 * returns: an inline function runs within it, and the invocation path drops
 * the event before returning. Returns 1 when built; 0 when a string is not
 * UTF-8 without NUL bytes (build_event's text then says with escapes what
 * the bytes are); FAAS_ENOMEM. */
static int build_tree(http_trigger *h, const faas__http_request *req, const route *r,
                      cJSON **out)
{
	jw *w = &h->event;
	bool oom = false, b64 = false, proxy = false;
	size_t proxy_at = 0, proxy_len = 0, nparams = 0, ua_len = 0, need;
	const char *ua, *body = NULL;
	cJSON *root, *params, *rc, *idn, *num;

	*out = NULL;
	if (!tree_text(req->path, strlen(req->path)))
		return 0;

	/* Headers, sorted as build_event sorts them, in their own pieces: the
	 * query needs h->pairs while these are still referenced. */
	h->nhdrs = 0;
	for (size_t i = 0; i < req->nheaders; i++) {
		const faas__http_header *hd = &req->headers[i];
		piece *p;

		if (!tree_text(hd->name, hd->name_len) || !tree_text(hd->value, hd->value_len))
			return 0;
		p = piece_push(&h->hdrs, &h->nhdrs, &h->hdrs_cap, &oom);
		if (!p)
			return FAAS_ENOMEM;
		p->kp = hd->name;
		p->key_len = hd->name_len;
		p->vp = hd->value;
		p->value_len = hd->value_len;
		p->index = i;
	}
	if (h->nhdrs > 1)
		qsort(h->hdrs, h->nhdrs, sizeof(piece), cmp_header);

	/* Everything decoded goes into the decode buffer before any pointer
	 * into it is taken: a push may move it. The segments are there. */
	for (size_t i = 0; i < r->nseg; i++) {
		const route_seg *g = &r->seg[i];

		if (g->kind == SEG_LITERAL)
			continue;
		nparams++;
		if (g->kind == SEG_PROXY) {
			const char *rest = req->raw_path + h->segs[i].raw;
			size_t rlen = strlen(rest);

			if (rlen > 1 && rest[rlen - 1] == '/')
				rlen--;
			proxy = true;
			proxy_at = dec_push(h, rest, rlen, false, &proxy_len, &oom);
			if (oom)
				return FAAS_ENOMEM;
		}
	}
	h->npairs = 0;
	split_query(h, req->query, &oom);
	if (oom)
		return FAAS_ENOMEM;
	for (size_t i = 0; i < h->npairs; i++) {
		h->pairs[i].kp = h->dec + h->pairs[i].key;
		h->pairs[i].vp = h->dec + h->pairs[i].value;
		if (!tree_text(h->pairs[i].kp, h->pairs[i].key_len) ||
		    !tree_text(h->pairs[i].vp, h->pairs[i].value_len))
			return 0;
	}
	if (h->npairs > 1)
		qsort(h->pairs, h->npairs, sizeof(piece), cmp_query);
	for (size_t i = 0; i < r->nseg; i++) {
		if (r->seg[i].kind == SEG_PARAM &&
		    !tree_text(h->dec + h->segs[i].key, h->segs[i].key_len))
			return 0;
	}
	if (proxy && !tree_text(h->dec + proxy_at, proxy_len))
		return 0;

	/* The body, NUL-terminated, in the event buffer (unused by a tree). */
	if (req->body_len > 0) {
		size_t n;

		b64 = !is_text(req->body, req->body_len);
		n = b64 ? faas__base64_encoded_len(req->body_len) : req->body_len;
		w->len = 0;
		w->oom = false;
		jw_reserve(w, n + 1);
		if (w->oom)
			return FAAS_ENOMEM;
		if (b64)
			n = faas__base64_encode(w->buf, req->body, req->body_len);
		else
			memcpy(w->buf, req->body, n);
		w->buf[n] = '\0';
		body = w->buf;
	}

	need = FAAS__HTTP_TREE_FIXED + 3 * (h->nhdrs + h->npairs) + nparams;
	if (grow((void **)&h->nodes, &h->nodes_cap, need, sizeof(cJSON)) != 0)
		return FAAS_ENOMEM;
	h->nnodes = 0;
	root = tnode(h, cJSON_Object);
	tadd(root, "resource", tstr(h, r->path));
	tadd(root, "path", tstr(h, req->path));
	tadd(root, "httpMethod", tstr(h, req->method));
	tree_groups(h, root, "headers", "multiValueHeaders", h->hdrs, h->nhdrs, cmp_header);
	tree_groups(h, root, "queryStringParameters", "multiValueQueryStringParameters",
	            h->pairs, h->npairs, cmp_query);
	params = tadd(root, "pathParameters", tnode(h, nparams ? cJSON_Object : cJSON_NULL));
	for (size_t i = 0; i < r->nseg; i++) {
		const route_seg *g = &r->seg[i];

		if (g->kind == SEG_PARAM)
			tadd(params, g->text, tstr(h, h->dec + h->segs[i].key));
		else if (g->kind == SEG_PROXY)
			tadd(params, g->text, tstr(h, h->dec + proxy_at));
	}
	tadd(root, "stageVariables", tnode(h, cJSON_NULL));
	rc = tadd(root, "requestContext", tnode(h, cJSON_Object));
	tadd(rc, "accountId", tstr(h, FAAS__HTTP_ACCOUNT_ID));
	tadd(rc, "resourcePath", tstr(h, r->path));
	tadd(rc, "httpMethod", tstr(h, req->method));
	tadd(rc, "path", tstr(h, req->path));
	tadd(rc, "protocol", tstr(h, req->version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1"));
	tadd(rc, "stage", tstr(h, FAAS__HTTP_STAGE));
	faas__idgen_next(&h->base.rt->ids, h->id);
	tadd(rc, "requestId", tstr(h, h->id));
	tadd(rc, "requestTime", tstr(h, request_time(h, req->received_ms)));
	num = tadd(rc, "requestTimeEpoch", tnode(h, cJSON_Number));
	num->valuedouble = (double)req->received_ms;
	num->valueint = req->received_ms >= (uint64_t)INT_MAX ? INT_MAX : (int)req->received_ms;
	idn = tadd(rc, "identity", tnode(h, cJSON_Object));
	tadd(idn, "sourceIp", tstr(h, req->client_ip));
	/* The first User-Agent: its bytes were checked with the headers. */
	ua = faas__http_header_get(req, "User-Agent", &ua_len);
	tadd(idn, "userAgent", tstr(h, ua));
	tadd(root, "body", tstr(h, body));
	tadd(root, "isBase64Encoded", tnode(h, b64 ? cJSON_True : cJSON_False));
	*out = root;
	return 1;
}

/* ---- answers ---- */

static bool header_value_ok(const char *v)
{
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static bool header_name_ok(const char *n)
{
	static const char tspecial[] = "!#$%&'*+-.^_`|~";

	if (!*n)
		return false;
	for (; *n; n++) {
		unsigned char c = (unsigned char)*n;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(tspecial, c)))
			return false;
	}
	return true;
}

static bool add_header(http_trigger *h, size_t *n, const char *name, const char *value)
{
	if (!header_name_ok(name) || !header_value_ok(value))
		return false;
	if (grow((void **)&h->out_hdrs, &h->out_hdrs_cap, *n + 1, sizeof(faas__http_header)) != 0)
		return false;
	h->out_hdrs[*n].name = name;
	h->out_hdrs[*n].name_len = strlen(name);
	h->out_hdrs[*n].value = value;
	h->out_hdrs[*n].value_len = strlen(value);
	(*n)++;
	return true;
}

static bool has_header(const http_trigger *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(h->out_hdrs[i].name, name) == 0)
			return true;
	return false;
}

static void bad_gateway(faas__http_exchange *x)
{
	faas__http_respond_error(x, 502, "Internal server error");
}

/* An API Gateway proxy response. */
static void answer_proxy(http_trigger *h, faas__http_exchange *x, const cJSON *res)
{
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(res, "statusCode");
	const cJSON *hd = cJSON_GetObjectItemCaseSensitive(res, "headers");
	const cJSON *mv = cJSON_GetObjectItemCaseSensitive(res, "multiValueHeaders");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(res, "body");
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(res, "isBase64Encoded");
	const cJSON *it;
	const char *text = "";
	size_t n = 0, len = 0;
	int status;

	if (!cJSON_IsNumber(sc) || !(sc->valuedouble >= 200 && sc->valuedouble <= 599) ||
	    sc->valuedouble != (double)(int)sc->valuedouble)
		return bad_gateway(x);
	status = (int)sc->valuedouble;
	if (mv && !cJSON_IsNull(mv)) {
		if (!cJSON_IsObject(mv))
			return bad_gateway(x);
		cJSON_ArrayForEach(it, mv)
		{
			const cJSON *v;

			if (!cJSON_IsArray(it))
				return bad_gateway(x);
			cJSON_ArrayForEach(v, it)
			{
				if (!cJSON_IsString(v) ||
				    !add_header(h, &n, it->string, v->valuestring))
					return bad_gateway(x);
			}
		}
	}
	if (hd && !cJSON_IsNull(hd)) {
		size_t multi = n;

		if (!cJSON_IsObject(hd))
			return bad_gateway(x);
		cJSON_ArrayForEach(it, hd)
		{
			if (!cJSON_IsString(it))
				return bad_gateway(x);
			/* Like API Gateway: a header in both keeps the multi values. */
			if (has_header(h, multi, it->string))
				continue;
			if (!add_header(h, &n, it->string, it->valuestring))
				return bad_gateway(x);
		}
	}
	if (!has_header(h, n, "Content-Type") &&
	    !add_header(h, &n, "Content-Type", "application/json"))
		return bad_gateway(x);
	if (body && !cJSON_IsNull(body)) {
		if (!cJSON_IsString(body))
			return bad_gateway(x);
		text = body->valuestring;
		len = strlen(text);
	}
	if (b64 && !cJSON_IsNull(b64) && !cJSON_IsBool(b64))
		return bad_gateway(x);
	if (cJSON_IsTrue(b64) && len > 0) {
		size_t need = len / 4 * 3 + 3, got;

		if (grow((void **)&h->bin, &h->bin_cap, need, 1) != 0)
			return faas__http_respond_error(x, 500, "Internal server error");
		got = faas__base64_decode(h->bin, text, len);
		if (got == SIZE_MAX)
			return bad_gateway(x);
		text = h->bin;
		len = got;
	}
	faas__http_respond(x, status, h->out_hdrs, n, text, len);
	if (h->bin_cap > FAAS__HTTP_PRINT_KEEP) {
		free(h->bin);
		h->bin = NULL;
		h->bin_cap = 0;
	}
}

static void answer_result(http_trigger *h, faas__http_exchange *x, const cJSON *res)
{
	static const faas__http_header ct = {"Content-Type", 12, "application/json", 16};
	jw *w = &h->event;
	char *text;

	if (cJSON_IsObject(res) && cJSON_GetObjectItemCaseSensitive(res, "statusCode"))
		return answer_proxy(h, x, res);
	if (!res) {
		faas__http_respond(x, 200, &ct, 1, "null", 4);
		return;
	}
	/* Print into the event buffer when it fits (no allocation); it is
	 * free between requests. */
	if (w->cap > 0 && cJSON_PrintPreallocated((cJSON *)res, w->buf, (int)w->cap, 0)) {
		faas__http_respond(x, 200, &ct, 1, w->buf, strlen(w->buf));
		return;
	}
	text = cJSON_PrintUnformatted(res);
	if (!text)
		return faas__http_respond_error(x, 500, "Internal server error");
	faas__http_respond(x, 200, &ct, 1, text, strlen(text));
	if (strlen(text) < FAAS__HTTP_PRINT_KEEP)
		jw_reserve(w, strlen(text) * 2 + 64); /* fit next time */
	free(text);
}

static void on_fired(faas_rule *rule, const faas_activation *act, int err, void *arg)
{
	http_trigger *h = (http_trigger *)rule->trigger;
	faas__http_exchange *x = arg;
	const char *type;

	if (!act) {
		faas__http_respond_error(x, err == FAAS_ESTOPPED ? 503 : 500,
		                         err == FAAS_ESTOPPED ? "Service Unavailable"
		                                              : "Internal server error");
		return;
	}
	switch (faas_activation_status(act)) {
	case FAAS_STATUS_SUCCESS:
		if (!faas__http_exchange_alive(x))
			faas__http_respond(x, 500, NULL, 0, NULL, 0); /* frees it */
		else
			answer_result(h, x, faas_activation_result(act));
		break;
	case FAAS_STATUS_APPLICATION_ERROR:
	case FAAS_STATUS_DEVELOPER_ERROR:
	case FAAS_STATUS_OOM:
		bad_gateway(x);
		break;
	case FAAS_STATUS_TIMEOUT:
		faas__http_respond_error(x, 504, "Endpoint request timed out");
		break;
	case FAAS_STATUS_THROTTLED:
		faas__http_respond_error(x, 429, "Too Many Requests");
		break;
	case FAAS_STATUS_REJECTED:
		type = faas_activation_error_type(act);
		if (type && strcmp(type, FAAS__ERR_PAYLOAD_SIZE) == 0)
			faas__http_respond_error(x, 413, "Request Too Long");
		else
			faas__http_respond_error(x, 403, "Forbidden");
		break;
	case FAAS_STATUS_INTERNAL_ERROR:
		faas__http_respond_error(x, 503, "Service Unavailable");
		break;
	default:
		faas__http_respond_error(x, 500, "Internal server error");
		break;
	}
}

static void answer_no_route(faas__http_exchange *x, const match *m)
{
	static const faas__http_header ct = {"Content-Type", 12, "application/json", 16};
	static const char body[] = "{\"message\":\"Method Not Allowed\"}";
	faas__http_header hs[2];
	char allow[80];
	size_t n = 0;

	if (!m->path_matched)
		return faas__http_respond_error(x, 404, "Not Found");
	allow[0] = '\0';
	for (size_t k = 0; k < NMETHODS; k++) {
		if (!(m->allow & (1u << k)))
			continue;
		n += (size_t)snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "",
		                      methods[k]);
	}
	hs[0] = ct;
	hs[1].name = "Allow";
	hs[1].name_len = 5;
	hs[1].value = allow;
	hs[1].value_len = n;
	faas__http_respond(x, 405, hs, 2, body, sizeof(body) - 1);
}

/* ---- server callbacks ---- */

static uint64_t body_limit(void *arg, const faas__http_request *req)
{
	http_trigger *h = arg;
	faas_runtime *rt = h->base.rt;
	size_t pre = sizeof(FAAS__HTTP_API_INVOKE_PREFIX) - 1;
	faas_fn *fn = NULL;
	match m;

	if (h->management_api && strncmp(req->path, FAAS__HTTP_API_INVOKE_PREFIX, pre) == 0) {
		char name[FAAS__NAME_MAX + 1];
		size_t len = strcspn(req->path + pre, "/");

		if (len <= FAAS__NAME_MAX) {
			memcpy(name, req->path + pre, len);
			name[len] = '\0';
			fn = faas_fn_lookup(rt, name);
		}
	} else if (split_path(h, req->raw_path)) {
		route_match(h, req, &m);
		if (m.rule)
			fn = faas_fn_lookup(rt, m.rule->function);
	}
	return fn ? fn->payload_limit : FAAS__HTTP_DEFAULT_BODY_LIMIT;
}

static void dispatch(void *arg, faas__http_exchange *x)
{
	http_trigger *h = arg;
	const faas__http_request *req = faas__http_request_of(x);
	faas_ctx *ctx = NULL;
	cJSON *event = NULL;
	faas_fn *fn;
	match m;
	int rc, tree = 0;

	h->base.stats.fired++;
	if (h->management_api && faas__http_api_handle(x, &h->base, &h->opts))
		return;
	if (!split_path(h, req->raw_path))
		return faas__http_respond_error(x, 503, "Service Unavailable");
	route_match(h, req, &m);
	if (!m.rule)
		return answer_no_route(x, &m);
	fn = faas_fn_lookup(h->base.rt, m.rule->function);
	if (fn && faas__invoke_on_loop(fn)) {
		tree = build_tree(h, req, m.rule->route_data, &event);
		if (tree < 0)
			return faas__http_respond_error(x, 503, "Service Unavailable");
	}
	if (!tree && !build_event(h, req, m.rule->route_data))
		return faas__http_respond_error(x, 503, "Service Unavailable");
	if (tree)
		rc = faas__rule_fire(m.rule, event, NULL, 0, on_fired, x, &ctx);
	else
		rc = faas__rule_fire(m.rule, NULL, h->event.buf, h->event.len, on_fired, x, &ctx);
	if (h->nodes_cap > FAAS__HTTP_TREE_KEEP) {
		free(h->nodes);
		h->nodes = NULL;
		h->nodes_cap = 0;
	}
	if (h->event.cap > FAAS__HTTP_PRINT_KEEP) {
		free(h->event.buf);
		h->event.buf = NULL;
		h->event.cap = h->event.len = 0;
	}
	if (rc == FAAS_ESTOPPED)
		return faas__http_respond_error(x, 503, "Service Unavailable");
	if (rc != 0)
		return faas__http_respond_error(x, 500, "Internal server error");
	faas__http_exchange_on_abort(x, faas__ctx_cancel_cb, ctx);
}

static void on_server_closed(void *arg)
{
	http_trigger *h = arg;

	faas__trigger_closed(&h->base);
}

/* ---- the trigger ---- */

static void http_stop(faas_trigger *t)
{
	faas__http_server_stop(((http_trigger *)t)->srv);
}

static void http_close(faas_trigger *t)
{
	faas__http_server_close(((http_trigger *)t)->srv);
}

static void http_destroy(faas_trigger *t)
{
	http_trigger *h = (http_trigger *)t;

	faas__http_server_release(h->srv);
	free((char *)h->opts.bearer_token);
	free(h->event.buf);
	free(h->dec);
	free(h->segs);
	free(h->pairs);
	free(h->hdrs);
	free(h->nodes);
	free(h->out_hdrs);
	free(h->bin);
	free(h);
}

static const faas__trigger_ops http_ops = {
    .kind = "http",
    .stop = http_stop,
    .close = http_close,
    .destroy = http_destroy,
    .route_parse = route_parse,
    .route_free = route_free,
};

/* What the server needs of the trigger's options; the rest (management
 * routes, bearer token) stays here. */
static faas__http_server_options server_options(const faas_http_options *o)
{
	faas__http_server_options so;

	memset(&so, 0, sizeof(so));
	so.host = o->host ? o->host : FAAS_HTTP_DEFAULT_HOST;
	so.port = o->port;
	so.max_header_bytes = o->max_header_bytes;
	so.max_connections = o->max_connections;
	so.header_timeout_ms = o->header_timeout_ms;
	so.body_timeout_ms = o->body_timeout_ms;
	so.idle_timeout_ms = o->idle_timeout_ms;
	return so;
}

/* Keep the options the management routes read. */
static int keep_options(http_trigger *h, const faas_http_options *o)
{
	h->management_api = o->management_api;
	h->opts = *o;
	h->opts.host = NULL;
	h->opts.bearer_token = NULL;
	if (o->bearer_token && !(h->opts.bearer_token = faas__strdup(o->bearer_token)))
		return FAAS_ENOMEM;
	return 0;
}

int faas_trigger_http_new(faas_trigger **out, faas_runtime *rt, const char *name,
                          const faas_http_options *opts)
{
	static const faas__http_server_cbs cbs = {body_limit, dispatch, on_server_closed};
	faas_http_options defaults = FAAS_HTTP_OPTIONS_INIT;
	faas__http_server_options so;
	char err[FAAS__ERRMSG_SIZE];
	http_trigger *h;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !rt)
		return faas__fail(rt, FAAS_EINVAL, "faas_trigger_http_new: %s is NULL",
		                  out ? "rt" : "out");
	if (!opts)
		opts = &defaults;
	rc = check_options(rt, name ? name : "(null)", opts);
	if (rc != 0)
		return rc;
	h = calloc(1, sizeof(*h));
	if (!h)
		return faas__fail(rt, FAAS_ENOMEM, "out of memory");
	rc = faas__trigger_init(&h->base, &http_ops, rt, name);
	if (rc != 0) {
		free(h);
		return rc;
	}
	so = server_options(opts);
	rc = keep_options(h, opts);
	if (rc != 0)
		snprintf(err, sizeof(err), "out of memory");
	else
		rc = faas__http_server_new(&h->srv, rt->loop, &so, &cbs, h, err, sizeof(err));
	if (rc != 0) {
		faas__fail(rt, rc, "%s: %s", name, err);
		faas__trigger_abort(&h->base);
		return rc;
	}
	*out = &h->base;
	return 0;
}

uint16_t faas_trigger_http_port(const faas_trigger *trigger)
{
	if (!trigger || trigger->ops != &http_ops)
		return 0;
	return faas__http_server_port(((const http_trigger *)trigger)->srv);
}

int faas__http_trigger_new_detached(faas_trigger **out, faas_runtime *rt, const char *name,
                                    const faas_http_options *opts, faas__http_server **srv)
{
	static const faas__http_server_cbs cbs = {body_limit, dispatch, on_server_closed};
	http_trigger *h = calloc(1, sizeof(*h));
	faas__http_server_options so;
	int rc;

	if (!h)
		return FAAS_ENOMEM;
	rc = faas__trigger_init(&h->base, &http_ops, rt, name);
	if (rc != 0) {
		free(h);
		return rc;
	}
	so = server_options(opts);
	rc = keep_options(h, opts);
	if (rc == 0)
		rc = faas__http_server_new_detached(&h->srv, &so, &cbs, h);
	if (rc != 0) {
		faas__trigger_abort(&h->base);
		return rc;
	}
	*out = &h->base;
	*srv = h->srv;
	return 0;
}
