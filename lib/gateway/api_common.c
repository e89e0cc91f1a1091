/* What the Invoke API (lambda_api.c) and the /_faas/ routes (manage.c)
 * share: JSON answers, the two error shapes, the access check and query
 * values (api_common.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pct.h"
#include "api_common.h"

/* ---- answering ---- */

void faas__api_hdr_add(faas__api_hdrs *hs, const char *name, const char *value)
{
	if (!value || hs->n >= FAAS__API_MAX_HEADERS)
		return;
	hs->h[hs->n].name = name;
	hs->h[hs->n].name_len = strlen(name);
	hs->h[hs->n].value = value;
	hs->h[hs->n].value_len = strlen(value);
	hs->n++;
}

/* Answer with a cJSON body, which this frees. A body that cannot be printed
 * (out of memory) still gets an answer: a bare 500. */
void faas__api_respond_json(faas__http_exchange *x, int status, faas__api_hdrs *hs, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;

	cJSON_Delete(body);
	if (!text) {
		faas__http_respond(x, 500, NULL, 0, NULL, 0);
		return;
	}
	faas__api_hdr_add(hs, "Content-Type", FAAS__API_CT_JSON);
	faas__http_respond(x, status, hs->h, hs->n, text, strlen(text));
	free(text);
}

/* An error of the /_faas/ routes: {"message": ...}. */
void faas__api_mgmt_error(faas__http_exchange *x, int status, const char *message,
                          const char *hname, const char *hvalue)
{
	faas__api_hdrs hs = {.n = 0};
	cJSON *body = cJSON_CreateObject();

	if (hname)
		faas__api_hdr_add(&hs, hname, hvalue);
	if (body && !cJSON_AddStringToObject(body, "message", message)) {
		cJSON_Delete(body);
		body = NULL;
	}
	faas__api_respond_json(x, status, &hs, body);
}

/* A request id for answers that have no activation (service errors, DryRun). */
void faas__api_request_id(faas_runtime *rt, char out[FAAS__ID_LEN + 1])
{
	faas__idgen_next(&rt->ids, out);
}

/* An error of the Lambda service itself, shaped like the real one:
 * X-Amzn-ErrorType names the exception, the body is {"Type", "message"}
 * (and "Reason" for throttles, which SDKs surface). */
void faas__api_aws_error(faas__http_exchange *x, faas_runtime *rt, int status, const char *type,
                         const char *message, const char *reason)
{
	char id[FAAS__ID_LEN + 1];
	faas__api_hdrs hs = {.n = 0};
	cJSON *body = cJSON_CreateObject();
	bool ok = body != NULL;

	faas__api_request_id(rt, id);
	faas__api_hdr_add(&hs, "X-Amzn-ErrorType", type);
	faas__api_hdr_add(&hs, "X-Amzn-RequestId", id);
	if (status == 401)
		faas__api_hdr_add(&hs, "WWW-Authenticate", "Bearer");
	if (status == 405)
		faas__api_hdr_add(&hs, "Allow", "POST");
	if (ok && reason)
		ok = cJSON_AddStringToObject(body, "Reason", reason) != NULL;
	if (ok)
		ok = cJSON_AddStringToObject(body, "Type", status >= 500 ? "Service" : "User") &&
		     cJSON_AddStringToObject(body, "message", message);
	if (!ok) {
		cJSON_Delete(body);
		body = NULL;
	}
	faas__api_respond_json(x, status, &hs, body);
}

/* ---- access ---- */

/* Compare in time that depends only on the configured token's length, so a
 * client cannot find the token byte by byte by timing refusals. */
static bool token_equal(const char *given, size_t given_len, const char *token)
{
	size_t len = strlen(token);
	volatile unsigned char diff = given_len != len;

	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)token[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
	return diff == 0;
}

static bool ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ca = a[i], cb = b[i];

		if (ca >= 'A' && ca <= 'Z')
			ca = (char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (char)(cb - 'A' + 'a');
		if (ca != cb)
			return false;
	}
	return true;
}

static bool bearer_matches(const faas__http_request *r, const char *token)
{
	size_t len, i = 0;
	const char *v = faas__http_header_get(r, "Authorization", &len);

	if (!v)
		return false;
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (len - i < 7 || !ascii_ieq(v + i, "bearer", 6) || (v[i + 6] != ' ' && v[i + 6] != '\t'))
		return false;
	i += 6;
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	while (len > i && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return token_equal(v + i, len - i, token);
}

/* Returns true if the client may use the management routes; otherwise the
 * exchange has been answered (403 or 401). */
bool faas__api_access_check(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
                            const faas_http_options *o, bool aws)
{
	const char *token = o->bearer_token;

	if (token && *token) {
		if (bearer_matches(r, token))
			return true;
		if (aws)
			faas__api_aws_error(x, rt, 401, "UnrecognizedClientException",
			                    "a valid Authorization: Bearer token is required",
			                    NULL);
		else
			faas__api_mgmt_error(x, 401,
			                     "a valid Authorization: Bearer token is required",
			                     "WWW-Authenticate", "Bearer");
		return false;
	}
	if (r->client_loopback)
		return true;
	if (aws)
		faas__api_aws_error(x, rt, 403, "AccessDeniedException",
		                    "the management API answers only loopback clients", NULL);
	else
		faas__api_mgmt_error(x, 403, "the management API answers only loopback clients",
		                     NULL, NULL);
	return false;
}

/* ---- query strings ---- */

/* A query value percent-decoded into out (size bytes, NUL-terminated): 1, or
 * -1 if it is malformed, contains a NUL or does not fit. */
static int decode_value(char *out, size_t size, const char *v, size_t vlen)
{
	unsigned int flags = FAAS__PCT_STRICT | FAAS__PCT_REJECT_NUL;
	char *tmp;
	size_t n;

	if (size == 0)
		return -1;
	if (vlen < size) {
		/* Decoding never lengthens: it fits as it is. */
		n = faas__pct_decode(out, v, vlen, flags);
		if (n == FAAS__PCT_ERROR)
			return -1;
		out[n] = '\0';
		return 1;
	}
	tmp = malloc(vlen);
	if (!tmp)
		return -1;
	n = faas__pct_decode(tmp, v, vlen, flags);
	if (n != FAAS__PCT_ERROR && n < size) {
		memcpy(out, tmp, n);
		out[n] = '\0';
	}
	free(tmp);
	return n != FAAS__PCT_ERROR && n < size ? 1 : -1;
}

/* Find key in a raw query string and percent-decode its value into out.
 * Returns 1 if found, 0 if absent, -1 if the value is malformed, contains a
 * NUL or does not fit. The first occurrence wins. */
int faas__api_query_get(const char *query, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = query;

	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t plen = end ? (size_t)(end - p) : strlen(p);

		if (plen >= klen && strncmp(p, key, klen) == 0 &&
		    (plen == klen || p[klen] == '=')) {
			const char *v = plen == klen ? p + plen : p + klen + 1;
			size_t vlen = plen == klen ? 0 : plen - klen - 1;

			return decode_value(out, size, v, vlen);
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}
