/* libFuzzer target: the proxy event's two outputs on any request. The input
 * is cut at '\n' into the raw path, the query, header lines ("name:value")
 * and, after an empty line, the body; any byte may appear in any of them.
 * What must hold: both walks succeed, the JSON text parses, the parsed text
 * equals the cJSON tree (cJSON_Compare), and cJSON prints the tree as the
 * text byte for byte; both unless a NUL byte (\u0000) ended a tree string.
 * Header names are tokens, as the server lets through. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_event.h"

#define MAX_HEADERS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

/* The next line of the input, copied NUL-terminated into *out (malloc'd). */
static bool next_line(const char **p, const char *end, char **out, size_t *len)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*out = malloc(*len + 1);
	check(*out != NULL, "malloc");
	memcpy(*out, *p, *len);
	(*out)[*len] = '\0';
	*p += *len + (nl ? 1 : 0);
	return true;
}

/* Header names are tokens (RFC 9110 tchar): the server refuses others. */
static bool token(const char *s, size_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr(extra, c))))
			return false;
	}
	return true;
}

/* The route that fits the split path: literals are the matcher's concern. */
static const char *route_for(const faas__scratch *s)
{
	if (s->nsegs == 0)
		return "ANY /";
	if (s->nsegs == 1)
		return "ANY /{a}";
	return "ANY /{a}/{rest+}";
}

static void compare(const faas__http_request *req)
{
	faas__scratch s1 = {0}, s2 = {0};
	faas__buf text = FAAS__BUF_INIT;
	faas__arena arena = {0};
	faas__text_sink ts;
	faas__tree_sink tr;
	faas__proxy_request in;
	faas__route *route;
	const char *why;
	cJSON *parsed;
	char *printed;

	check(faas__route_split_path(&s1, req->raw_path), "split");
	check(faas__route_split_path(&s2, req->raw_path), "split");
	check(faas__route_new(&route, route_for(&s1), &why) == 0, "route");
	in.req = req;
	in.route = route;
	in.request_id = "0123456789abcdef0123456789abcdef";
	in.request_time = "04/Dec/2025:08:00:00 +0000";
	faas__text_sink_init(&ts, &text);
	check(faas__proxy_event(&ts.base, &s1, &in) == 0, "text walk");
	faas__tree_sink_init(&tr, &arena, 1u << 20);
	check(faas__proxy_event(&tr.base, &s2, &in) == 0, "tree walk");
	parsed = cJSON_ParseWithLength(text.data, text.len);
	check(parsed != NULL, "the text is JSON");
	printed = cJSON_PrintUnformatted(tr.root);
	check(printed != NULL, "print");
	/* A NUL byte ends a tree string as it ends the parsed one; two keys
	 * that differ after it only are then the same key twice, which
	 * cJSON_Compare cannot match up. */
	if (!strstr(text.data, "\\u0000")) {
		check(cJSON_Compare(parsed, tr.root, 1), "parsed text equals the tree");
		check(strcmp(printed, text.data) == 0, "the tree prints as the text");
	}
	cJSON_free(printed);
	cJSON_Delete(parsed);
	free(route);
	faas__buf_free(&text);
	faas__arena_free(&arena);
	faas__scratch_free(&s1);
	faas__scratch_free(&s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *raw = NULL, *query = NULL, *lines[MAX_HEADERS], *path;
	faas__http_header hs[MAX_HEADERS];
	faas__http_request req;
	size_t len, n = 0;

	memset(&req, 0, sizeof(req));
	if (!next_line(&p, end, &raw, &len) || raw[0] != '/' || strlen(raw) != len) {
		free(raw);
		return 0;
	}
	if (!next_line(&p, end, &query, &len))
		query = calloc(1, 1);
	check(query != NULL, "calloc");
	while (n < MAX_HEADERS && next_line(&p, end, &lines[n], &len)) {
		char *colon = memchr(lines[n], ':', len);

		if (len == 0) {
			free(lines[n]);
			break;
		}
		hs[n].name = lines[n];
		hs[n].name_len = colon ? (size_t)(colon - lines[n]) : len;
		if (!token(hs[n].name, hs[n].name_len)) {
			free(lines[n]);
			continue; /* the server refuses it */
		}
		if (colon)
			*colon = '\0';
		hs[n].value = colon ? colon + 1 : lines[n] + len;
		hs[n].value_len = colon ? len - hs[n].name_len - 1 : 0;
		n++;
	}
	/* The decoded path as the server makes it: a NUL in it is refused. */
	path = malloc(strlen(raw) + 1);
	check(path != NULL, "malloc");
	path[faas__pct_decode(path, raw, strlen(raw), false)] = '\0';
	req.method = "POST";
	req.target = req.raw_path = raw;
	req.path = path;
	req.query = query;
	req.version_minor = 1;
	req.headers = hs;
	req.nheaders = n;
	req.body = p;
	req.body_len = (size_t)(end - p);
	req.client_ip = "127.0.0.1";
	req.received_ms = 1764835200123u;
	compare(&req);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(path);
	free(query);
	free(raw);
	return 0;
}
