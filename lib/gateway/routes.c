/* The HTTP trigger's routes: route specs parsed and checked, request paths
 * split into decoded segments, and the matching rule chosen (the rules are
 * in routes.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes.h"

static const char *const methods[] = {"GET",    "POST", "PUT",     "PATCH",
                                      "DELETE", "HEAD", "OPTIONS", "ANY"};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

/* ---- parsing ---- */

static bool param_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static bool literal_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '{' && c != '}' && c != '?' && c != '#';
}

/* The index in methods[] of the method that spec starts with, or NMETHODS. */
static size_t parse_method(const char *spec, size_t mlen)
{
	size_t m;

	for (m = 0; m < NMETHODS; m++)
		if (strlen(methods[m]) == mlen && memcmp(methods[m], spec, mlen) == 0)
			break;
	return m;
}

/* Check one segment of len bytes at s; NULL if fine, else why not. */
static const char *check_segment(const char *s, size_t len, bool *proxy_seen)
{
	size_t nlen;

	if (len == 0)
		return "empty path segment";
	if (*proxy_seen)
		return "{name+} must be the last segment";
	if (s[0] != '{') {
		for (size_t i = 0; i < len; i++)
			if (!literal_char((unsigned char)s[i]))
				return "invalid character in a path segment";
		return NULL;
	}
	if (len < 3 || s[len - 1] != '}')
		return "a parameter is a whole segment, {name}";
	nlen = len - 2;
	if (s[len - 2] == '+') {
		*proxy_seen = true;
		nlen--;
	}
	if (nlen == 0)
		return "empty parameter name";
	for (size_t i = 0; i < nlen; i++)
		if (!param_char(s[1 + i]))
			return "parameter names use [A-Za-z0-9_.-]";
	return NULL;
}

/* Count and check the segments of path (after its leading '/'), before
 * anything is allocated. */
static const char *count_segments(const char *path, size_t *nseg)
{
	const char *s = path + 1, *why;
	bool proxy_seen = false;

	*nseg = 0;
	if (path[1] == '\0')
		return NULL;
	for (;;) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		why = check_segment(s, len, &proxy_seen);
		if (why)
			return why;
		(*nseg)++;
		if (!e)
			return NULL;
		s = e + 1;
	}
}

static bool same_param(const faas__route_seg *a, const faas__route_seg *b)
{
	return a->kind != FAAS__SEG_LITERAL && b->kind != FAAS__SEG_LITERAL && a->len == b->len &&
	       memcmp(a->text, b->text, a->len) == 0;
}

/* Fill r's segments from the checked path; their texts go to text. */
static const char *fill_segments(faas__route *r, const char *path, char *text)
{
	const char *s = path + 1;

	for (size_t k = 0; k < r->nseg; k++) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		faas__route_seg *g = &r->seg[k];

		if (s[0] == '{') {
			g->kind = s[len - 2] == '+' ? FAAS__SEG_PROXY : FAAS__SEG_PARAM;
			g->len = len - 2 - (g->kind == FAAS__SEG_PROXY);
			memcpy(text, s + 1, g->len);
		} else {
			g->kind = FAAS__SEG_LITERAL;
			g->len = faas__pct_decode(text, s, len, 0);
		}
		g->text = text;
		text[g->len] = '\0';
		text += g->len + 1;
		for (size_t j = 0; j < k; j++)
			if (same_param(&r->seg[j], g))
				return "a parameter name appears twice";
		s = e ? e + 1 : s + len;
	}
	return NULL;
}

static int refuse(const char **why, const char *text)
{
	*why = text;
	return FAAS_EINVAL;
}

int faas__route_new(faas__route **out, const char *spec, const char **why)
{
	const char *sp, *path;
	size_t plen, nseg, m;
	faas__route *r;
	char *text;

	*out = NULL;
	*why = NULL;
	if (strlen(spec) > FAAS__ROUTE_MAX)
		return refuse(why, "longer than 1024 characters");
	sp = strchr(spec, ' ');
	if (!sp)
		return refuse(why, "expected \"METHOD /path\"");
	m = parse_method(spec, (size_t)(sp - spec));
	if (m == NMETHODS)
		return refuse(why, "the method must be one of GET, POST, PUT, PATCH, DELETE, "
		                   "HEAD, OPTIONS, ANY");
	path = sp + 1;
	plen = strlen(path);
	if (plen == 0 || path[0] != '/')
		return refuse(why, "the path must start with '/'");
	*why = count_segments(path, &nseg);
	if (*why)
		return FAAS_EINVAL;
	r = calloc(1, sizeof(*r) + nseg * sizeof(faas__route_seg) + 2 * plen + 2);
	if (!r)
		return FAAS_ENOMEM;
	memcpy(r->method, methods[m], strlen(methods[m]) + 1);
	text = (char *)&r->seg[nseg];
	memcpy(text, path, plen + 1);
	r->path = text;
	r->nseg = nseg;
	*why = fill_segments(r, path, text + plen + 1);
	if (*why) {
		free(r);
		return FAAS_EINVAL;
	}
	*out = r;
	return 0;
}

static bool same_shape(const faas__route *a, const faas__route *b)
{
	if (strcmp(a->method, b->method) != 0 || a->nseg != b->nseg)
		return false;
	for (size_t i = 0; i < a->nseg; i++) {
		if (a->seg[i].kind != b->seg[i].kind)
			return false;
		if (a->seg[i].kind == FAAS__SEG_LITERAL &&
		    (a->seg[i].len != b->seg[i].len ||
		     memcmp(a->seg[i].text, b->seg[i].text, a->seg[i].len) != 0))
			return false;
	}
	return true;
}

int faas__route_parse(faas_trigger *t, const char *spec, void **data)
{
	const char *why;
	faas__route *r;
	int rc;

	*data = NULL;
	if (!spec)
		return faas__fail(t->rt, FAAS_EINVAL,
		                  "%s: an HTTP rule needs a route, \"METHOD /path\"", t->name);
	rc = faas__route_new(&r, spec, &why);
	if (rc == FAAS_ENOMEM)
		return faas__fail(t->rt, FAAS_ENOMEM, "%s: out of memory", t->name);
	if (rc != 0)
		return faas__fail(t->rt, FAAS_EINVAL, "%s: route \"%.200s\": %s", t->name, spec,
		                  why);
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

void faas__route_free(void *data)
{
	free(data);
}

/* ---- matching ---- */

bool faas__route_split_path(faas__scratch *s, const char *raw)
{
	bool oom = false;
	size_t n = strlen(raw), i = 1;

	s->dec_len = 0;
	s->nsegs = 0;
	if (n == 0 || raw[0] != '/')
		return true; /* "*": no segments, matches only "/" routes... none */
	if (n > 1 && raw[n - 1] == '/')
		n--;
	while (i < n && !oom) {
		size_t end = i;
		faas__piece *p;

		while (end < n && raw[end] != '/')
			end++;
		p = faas__scratch_piece_push(&s->segs, &s->nsegs, &s->segs_cap, &oom);
		if (p) {
			p->raw = i;
			p->key =
			    faas__scratch_dec_push(s, raw + i, end - i, false, &p->key_len, &oom);
		}
		i = end + 1;
	}
	for (size_t k = 0; k < s->nsegs && !oom; k++)
		s->segs[k].kp = s->dec + s->segs[k].key;
	return !oom;
}

/* Whether the route matches the split path. */
static bool path_matches(const faas__scratch *s, const faas__route *r)
{
	size_t i;

	for (i = 0; i < r->nseg; i++) {
		const faas__route_seg *g = &r->seg[i];

		if (g->kind == FAAS__SEG_PROXY)
			return i < s->nsegs;
		if (i >= s->nsegs)
			return false;
		if (g->kind == FAAS__SEG_LITERAL) {
			if (g->len != s->segs[i].key_len ||
			    memcmp(g->text, s->segs[i].kp, g->len) != 0)
				return false;
		} else if (s->segs[i].key_len == 0) {
			return false;
		}
	}
	return i == s->nsegs;
}

/* <0: a is more specific than b. */
static int specificity(const faas__route *a, const faas__route *b)
{
	size_t n = a->nseg < b->nseg ? a->nseg : b->nseg;

	for (size_t i = 0; i < n; i++)
		if (a->seg[i].kind != b->seg[i].kind)
			return a->seg[i].kind - b->seg[i].kind;
	return 0;
}

void faas__route_find(faas__route_match *m, const faas_trigger *t, const faas__scratch *s,
                      const char *method)
{
	const faas__route *best = NULL;

	m->rule = NULL;
	m->path_matched = false;
	m->allow = 0;
	for (faas_rule *rule = t->rules; rule; rule = rule->next) {
		const faas__route *r = rule->route_data;
		bool exact;
		int cmp;

		if (!r || !rule->enabled || !path_matches(s, r))
			continue;
		m->path_matched = true;
		for (size_t k = 0; k < NMETHODS; k++)
			if (strcmp(methods[k], r->method) == 0)
				m->allow |= 1u << k;
		exact = strcmp(r->method, method) == 0;
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

size_t faas__route_allow_text(char *out, size_t size, unsigned allow)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t k = 0; k < NMETHODS; k++) {
		if (!(allow & (1u << k)))
			continue;
		n += (size_t)snprintf(out + n, size - n, "%s%s", n ? ", " : "", methods[k]);
	}
	return n;
}
