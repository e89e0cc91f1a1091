/* The management API on an HTTP listener: Lambda's Invoke API
 * (POST /2015-03-31/functions/{name}/invocations, answered the way the real
 * service answers so AWS CLIs and SDKs work against it) and the /_faas/
 * routes (activations, health, metrics).
 *
 * Everything here runs on the loop thread. A request either is answered
 * before faas__http_api_handle() returns, or an invocation carries the
 * exchange and answers it from its completion callback; either way exactly
 * one faas__http_respond() per exchange. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway.h"
#include "http.h"

#define FAAS__API_INVOKE_PREFIX "/2015-03-31/functions/"
#define FAAS__API_INVOKE_SUFFIX "/invocations"
#define FAAS__API_PREFIX "/_faas/"
#define FAAS__API_ACTIVATIONS "/_faas/activations"

/* Lambda's X-Amz-Log-Result carries the last 4 KB of the log. */
#define FAAS__API_LOG_TAIL_MAX 4096u
/* Activation listings: the default page and the most one request may ask for. */
#define FAAS__API_LIST_DEFAULT 50u
#define FAAS__API_LIST_MAX 1000u
/* Lambda's qualifier pattern allows 1..128 characters. */
#define FAAS__API_QUALIFIER_MAX 128u
/* Query values we read are short: a qualifier, a function name, a number. */
#define FAAS__API_QUERY_VALUE_MAX 256u
/* The most headers one answer carries. */
#define FAAS__API_MAX_HEADERS 8u

#define FAAS__API_CT_JSON "application/json"

/* ---- answering ---- */

typedef struct hdrs {
	faas__http_header h[FAAS__API_MAX_HEADERS];
	size_t n;
} hdrs;

static void hdr_add(hdrs *hs, const char *name, const char *value)
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
static void respond_json(faas__http_exchange *x, int status, hdrs *hs, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;

	cJSON_Delete(body);
	if (!text) {
		faas__http_respond(x, 500, NULL, 0, NULL, 0);
		return;
	}
	hdr_add(hs, "Content-Type", FAAS__API_CT_JSON);
	faas__http_respond(x, status, hs->h, hs->n, text, strlen(text));
	free(text);
}

/* An error of the /_faas/ routes: {"message": ...}. */
static void mgmt_error(faas__http_exchange *x, int status, const char *message, const char *hname,
		       const char *hvalue)
{
	hdrs hs = {.n = 0};
	cJSON *body = cJSON_CreateObject();

	if (hname)
		hdr_add(&hs, hname, hvalue);
	if (body && !cJSON_AddStringToObject(body, "message", message)) {
		cJSON_Delete(body);
		body = NULL;
	}
	respond_json(x, status, &hs, body);
}

/* A request id for answers that have no activation (service errors, DryRun). */
static void new_request_id(faas_runtime *rt, char out[FAAS__ID_LEN + 1])
{
	faas__idgen_next(&rt->ids, out);
}

/* An error of the Lambda service itself, shaped like the real one:
 * X-Amzn-ErrorType names the exception, the body is {"Type", "message"}
 * (and "Reason" for throttles, which SDKs surface). */
static void aws_error(faas__http_exchange *x, faas_runtime *rt, int status, const char *type,
		      const char *message, const char *reason)
{
	char id[FAAS__ID_LEN + 1];
	hdrs hs = {.n = 0};
	cJSON *body = cJSON_CreateObject();
	bool ok = body != NULL;

	new_request_id(rt, id);
	hdr_add(&hs, "X-Amzn-ErrorType", type);
	hdr_add(&hs, "X-Amzn-RequestId", id);
	if (status == 401)
		hdr_add(&hs, "WWW-Authenticate", "Bearer");
	if (status == 405)
		hdr_add(&hs, "Allow", "POST");
	if (ok && reason)
		ok = cJSON_AddStringToObject(body, "Reason", reason) != NULL;
	if (ok)
		ok = cJSON_AddStringToObject(body, "Type", status >= 500 ? "Service" : "User") &&
		     cJSON_AddStringToObject(body, "message", message);
	if (!ok) {
		cJSON_Delete(body);
		body = NULL;
	}
	respond_json(x, status, &hs, body);
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
static bool access_check(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
			 const faas_http_options *o, bool aws)
{
	const char *token = o->bearer_token;

	if (token && *token) {
		if (bearer_matches(r, token))
			return true;
		if (aws)
			aws_error(x, rt, 401, "UnrecognizedClientException",
				  "a valid Authorization: Bearer token is required", NULL);
		else
			mgmt_error(x, 401, "a valid Authorization: Bearer token is required",
				   "WWW-Authenticate", "Bearer");
		return false;
	}
	if (r->client_loopback)
		return true;
	if (aws)
		aws_error(x, rt, 403, "AccessDeniedException",
			  "the management API answers only loopback clients", NULL);
	else
		mgmt_error(x, 403, "the management API answers only loopback clients", NULL, NULL);
	return false;
}

/* ---- query strings ---- */

/* Find key in a raw query string and percent-decode its value into out.
 * Returns 1 if found, 0 if absent, -1 if the value is malformed, contains a
 * NUL or does not fit. The first occurrence wins. */
static int query_get(const char *query, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = query;

	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t plen = end ? (size_t)(end - p) : strlen(p);

		if (plen >= klen && strncmp(p, key, klen) == 0 && (plen == klen || p[klen] == '=')) {
			const char *v = plen == klen ? p + plen : p + klen + 1;
			size_t vlen = plen == klen ? 0 : plen - klen - 1, n = 0;

			for (size_t i = 0; i < vlen; i++) {
				int c = (unsigned char)v[i];

				if (c == '%') {
					if (i + 2 >= vlen || faas__hexval(v[i + 1]) < 0 ||
					    faas__hexval(v[i + 2]) < 0)
						return -1;
					c = faas__hexval(v[i + 1]) * 16 + faas__hexval(v[i + 2]);
					i += 2;
				}
				if (c == 0 || n + 1 >= size)
					return -1;
				out[n++] = (char)c;
			}
			out[n] = '\0';
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* ---- activations as JSON ---- */

static bool add_time(cJSON *o, const char *ms_key, const char *iso_key, uint64_t us)
{
	char iso[64];
	struct tm tm;
	time_t secs = (time_t)(us / 1000000u);

	if (!gmtime_r(&secs, &tm))
		return false;
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(us / 1000u % 1000u));
	return cJSON_AddNumberToObject(o, ms_key, (double)(us / 1000u)) &&
	       cJSON_AddStringToObject(o, iso_key, iso);
}

static cJSON *usage_json(const faas_activation *act)
{
	const faas_usage *u = faas_activation_usage(act);
	cJSON *o = cJSON_CreateObject();
	uint64_t max_mb = (u->max_memory_bytes + (1u << 20) - 1) >> 20;
	bool ok;

	/* The REPORT line's rule: a started call never used 0 MB. */
	if (max_mb == 0 && faas_activation_started(act))
		max_mb = 1;
	ok = o && cJSON_AddNumberToObject(o, "durationMs", (double)u->duration_us / 1000.0) &&
	     cJSON_AddNumberToObject(o, "billedDurationMs", (double)u->billed_ms) &&
	     cJSON_AddNumberToObject(o, "initDurationMs", (double)u->init_us / 1000.0) &&
	     cJSON_AddNumberToObject(o, "memorySizeMb", (double)u->memory_mb) &&
	     cJSON_AddNumberToObject(o, "maxMemoryUsedMb", (double)max_mb) &&
	     cJSON_AddNumberToObject(o, "cpuMs", (double)u->cpu_us / 1000.0) &&
	     cJSON_AddNumberToObject(o, "bytesIn", (double)u->bytes_in) &&
	     cJSON_AddNumberToObject(o, "bytesOut", (double)u->bytes_out) &&
	     cJSON_AddBoolToObject(o, "cold", u->cold);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* An activation's record; full adds the result and the logs, which listings
 * leave out so that a page of 1000 stays small. */
static cJSON *activation_json(const faas_activation *act, bool full)
{
	cJSON *o = cJSON_CreateObject(), *part;
	const cJSON *result = faas_activation_result(act);
	bool ok = o && cJSON_AddStringToObject(o, "id", faas_activation_id(act)) &&
		  cJSON_AddStringToObject(o, "function", faas_activation_function(act)) &&
		  cJSON_AddStringToObject(o, "status",
					  faas_status_name(faas_activation_status(act))) &&
		  cJSON_AddBoolToObject(o, "started", faas_activation_started(act)) &&
		  add_time(o, "startMs", "start", faas_activation_start_us(act)) &&
		  add_time(o, "endMs", "end", faas_activation_end_us(act));

	if (ok && full && result) {
		part = cJSON_Duplicate(result, 1);
		ok = part && cJSON_AddItemToObject(o, "result", part);
		if (!ok)
			cJSON_Delete(part);
	}
	if (ok && faas_activation_error_type(act)) {
		part = cJSON_CreateObject();
		ok = part && cJSON_AddStringToObject(part, "type", faas_activation_error_type(act)) &&
		     cJSON_AddStringToObject(part, "message",
					     faas_activation_error_message(act)
						     ? faas_activation_error_message(act)
						     : "") &&
		     cJSON_AddItemToObject(o, "error", part);
		if (!ok)
			cJSON_Delete(part);
	}
	if (ok && full)
		ok = cJSON_AddStringToObject(o, "logs", faas_activation_logs(act)) != NULL;
	if (ok) {
		part = usage_json(act);
		ok = part && cJSON_AddItemToObject(o, "usage", part);
		if (!ok)
			cJSON_Delete(part);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- /_faas/ routes ---- */

static void get_activation(faas__http_exchange *x, faas_runtime *rt, const char *id)
{
	faas_activation *act = NULL;
	hdrs hs = {.n = 0};

	if (faas_activation_lookup(&act, rt, id) != 0) {
		mgmt_error(x, 404, "no such activation (never existed, or evicted)", NULL, NULL);
		return;
	}
	respond_json(x, 200, &hs, activation_json(act, true));
	faas_activation_free(act);
}

static void list_activations(faas__http_exchange *x, faas_runtime *rt, const char *query)
{
	char function[FAAS__API_QUERY_VALUE_MAX], limit_text[FAAS__API_QUERY_VALUE_MAX];
	int has_fn = query_get(query, "function", function, sizeof(function));
	int has_limit = query_get(query, "limit", limit_text, sizeof(limit_text));
	unsigned long limit = FAAS__API_LIST_DEFAULT;
	const faas_activation **acts;
	cJSON *body, *arr;
	hdrs hs = {.n = 0};
	int n;

	if (has_fn < 0 || (has_fn > 0 && function[0] == '\0')) {
		mgmt_error(x, 400, "function: expected a function name", NULL, NULL);
		return;
	}
	if (has_limit != 0) {
		char *end = NULL;

		limit = 0;
		if (has_limit > 0 && limit_text[0] >= '0' && limit_text[0] <= '9')
			limit = strtoul(limit_text, &end, 10);
		if (!end || *end != '\0' || limit < 1 || limit > FAAS__API_LIST_MAX) {
			char msg[96];

			snprintf(msg, sizeof(msg), "limit: expected an integer in 1..%u",
				 FAAS__API_LIST_MAX);
			mgmt_error(x, 400, msg, NULL, NULL);
			return;
		}
	}
	acts = malloc(limit * sizeof(*acts));
	if (!acts) {
		mgmt_error(x, 500, "out of memory", NULL, NULL);
		return;
	}
	n = faas_activation_list(acts, limit, rt, has_fn > 0 ? function : NULL);
	body = cJSON_CreateObject();
	arr = body ? cJSON_AddArrayToObject(body, "activations") : NULL;
	for (int i = 0; arr && i < n; i++) {
		cJSON *item = activation_json(acts[i], false);

		if (!item || !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			arr = NULL;
		}
	}
	free(acts);
	if (!arr) {
		cJSON_Delete(body);
		body = NULL;
	}
	respond_json(x, 200, &hs, body);
}

static void get_health(faas__http_exchange *x, faas_runtime *rt)
{
	hdrs hs = {.n = 0};
	cJSON *body = cJSON_CreateObject();

	if (body && !cJSON_AddStringToObject(body, "status", rt->stopping ? "stopping" : "ok")) {
		cJSON_Delete(body);
		body = NULL;
	}
	respond_json(x, rt->stopping ? 503 : 200, &hs, body);
}

static void get_metrics(faas__http_exchange *x, faas_runtime *rt)
{
	char *text = NULL;
	size_t len = 0;
	faas__http_header h = {"Content-Type", 12, FAAS__METRICS_CONTENT_TYPE,
			       sizeof(FAAS__METRICS_CONTENT_TYPE) - 1};

	if (faas__metrics_render(&text, &len, rt) != 0) {
		mgmt_error(x, 500, "cannot render the metrics (out of memory or too large)", NULL,
			   NULL);
		return;
	}
	faas__http_respond(x, 200, &h, 1, text, len);
	free(text);
}

static bool handle_mgmt(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
			const faas_http_options *o)
{
	const char *path = r->path;
	const char *id = NULL;
	enum { R_ACT, R_LIST, R_HEALTH, R_METRICS } route;

	if (strcmp(path, FAAS__API_ACTIVATIONS) == 0) {
		route = R_LIST;
	} else if (strncmp(path, FAAS__API_ACTIVATIONS "/", sizeof(FAAS__API_ACTIVATIONS)) == 0) {
		id = path + sizeof(FAAS__API_ACTIVATIONS);
		if (*id == '\0' || strchr(id, '/'))
			return false;
		route = R_ACT;
	} else if (strcmp(path, FAAS__API_PREFIX "health") == 0) {
		route = R_HEALTH;
	} else if (strcmp(path, FAAS__API_PREFIX "metrics") == 0) {
		route = R_METRICS;
	} else {
		return false;
	}
	if (!access_check(x, rt, r, o, false))
		return true;
	if (strcmp(r->method, "GET") != 0) {
		mgmt_error(x, 405, "method not allowed: use GET", "Allow", "GET");
		return true;
	}
	switch (route) {
	case R_ACT:
		get_activation(x, rt, id);
		break;
	case R_LIST:
		list_activations(x, rt, r->query);
		break;
	case R_HEALTH:
		get_health(x, rt);
		break;
	case R_METRICS:
		get_metrics(x, rt);
		break;
	}
	return true;
}

/* ---- the Invoke API ---- */

typedef struct invoke_call {
	faas__http_exchange *x;
	faas_runtime *rt;
	bool tail;
	char *fn_version; /* the version the call runs, kept in case fn goes meanwhile */
} invoke_call;

/* A copy fit for a header value: a version string is the host's, but a
 * control character in it must not be able to end the header early. */
static char *header_safe_dup(const char *s)
{
	char *copy = faas__strdup(s);

	for (char *p = copy; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return copy;
}

static void invoke_call_free(invoke_call *c)
{
	if (!c)
		return;
	free(c->fn_version);
	free(c);
}

/* X-Amz-Log-Result: base64 of the last 4 KB of what Lambda's log shows for
 * the call (START, the handler's lines, END, REPORT). NULL if out of memory. */
static char *log_tail_b64(const faas_activation *act, const char *version)
{
	const char *logs = faas_activation_logs(act);
	const char *id = faas_activation_id(act);
	size_t logs_len = strlen(logs);
	int report_len = faas_activation_format_report(NULL, 0, act);
	size_t cap, len, from;
	char *text, *out;
	int n;

	if (report_len < 0)
		return NULL;
	cap = sizeof("START RequestId:  Version: \n") + strlen(id) + strlen(version) + logs_len +
	      1 + sizeof("END RequestId: \n") + strlen(id) + (size_t)report_len + 2;
	text = malloc(cap);
	if (!text)
		return NULL;
	n = snprintf(text, cap, "START RequestId: %s Version: %s\n", id, version);
	len = (size_t)n;
	memcpy(text + len, logs, logs_len);
	len += logs_len;
	if (logs_len > 0 && logs[logs_len - 1] != '\n')
		text[len++] = '\n';
	len += (size_t)snprintf(text + len, cap - len, "END RequestId: %s\n", id);
	faas_activation_format_report(text + len, cap - len, act);
	len += (size_t)report_len;
	text[len++] = '\n';

	from = len > FAAS__API_LOG_TAIL_MAX ? len - FAAS__API_LOG_TAIL_MAX : 0;
	/* Start the tail on a character, not inside a UTF-8 sequence. */
	while (from > 0 && from < len && ((unsigned char)text[from] & 0xC0u) == 0x80u)
		from++;
	out = malloc(faas__base64_encoded_len(len - from) + 1);
	if (out) {
		size_t w = faas__base64_encode(out, text + from, len - from);

		out[w] = '\0';
	}
	free(text);
	return out;
}

/* The HTTP status and exception type for an activation the service refused
 * or failed (as opposed to a function error, which is a 200). */
static int service_failure(const faas_activation *act, bool stopping, const char **type)
{
	const char *etype = faas_activation_error_type(act);

	switch (faas_activation_status(act)) {
	case FAAS_STATUS_THROTTLED:
		*type = "TooManyRequestsException";
		return 429;
	case FAAS_STATUS_REJECTED:
		if (etype && strcmp(etype, FAAS__ERR_PAYLOAD_SIZE) == 0) {
			*type = "RequestEntityTooLargeException";
			return 413;
		}
		*type = etype ? etype : "AccessDeniedException";
		return 403;
	case FAAS_STATUS_INTERNAL_ERROR:
		*type = "ServiceException";
		return stopping || (etype && strcmp(etype, FAAS__ERR_CANCELED) == 0) ? 503 : 500;
	default:
		return 0;
	}
}

/* The reason word of a throttle message, "Rate Exceeded. (Reason: n)". */
static void throttle_reason(const char *msg, char *out, size_t size)
{
	const char *open = msg ? strchr(msg, '(') : NULL;
	const char *colon = open ? strchr(open, ':') : NULL;
	size_t n = colon ? (size_t)(colon - open - 1) : 0;

	out[0] = '\0';
	if (n > 0 && n < size) {
		memcpy(out, open + 1, n);
		out[n] = '\0';
	}
}

static void answer_refused(faas__http_exchange *x, faas_runtime *rt, const faas_activation *act)
{
	const char *type = NULL;
	int status = service_failure(act, rt->stopping, &type);
	const char *msg = faas_activation_error_message(act);
	char reason[FAAS__NAME_MAX];

	throttle_reason(status == 429 ? msg : NULL, reason, sizeof(reason));
	aws_error(x, rt, status, type, msg ? msg : "", reason[0] ? reason : NULL);
}

static void on_invoke_done(const faas_activation *act, void *userdata)
{
	invoke_call *c = userdata;
	faas__http_exchange *x = c->x;
	hdrs hs = {.n = 0};
	char *body = NULL, *tail = NULL;
	cJSON *err;

	if (service_failure(act, c->rt->stopping, &(const char *){NULL}) != 0) {
		answer_refused(x, c->rt, act);
		invoke_call_free(c);
		return;
	}
	if (faas_activation_status(act) == FAAS_STATUS_SUCCESS) {
		body = cJSON_PrintUnformatted(faas_activation_result(act));
	} else {
		/* A function error is still a 200: Lambda's way of saying the
		 * service worked and the function did not. */
		err = cJSON_CreateObject();
		if (err && cJSON_AddStringToObject(err, "errorMessage",
						   faas_activation_error_message(act)
							   ? faas_activation_error_message(act)
							   : "") &&
		    cJSON_AddStringToObject(err, "errorType", faas_activation_error_type(act)
								      ? faas_activation_error_type(act)
								      : FAAS__ERR_DEFAULT))
			body = cJSON_PrintUnformatted(err);
		cJSON_Delete(err);
		hdr_add(&hs, "X-Amz-Function-Error", "Unhandled");
	}
	if (c->tail)
		tail = log_tail_b64(act, c->fn_version);
	if (!body || (c->tail && !tail)) {
		faas__http_respond(x, 500, NULL, 0, NULL, 0);
	} else {
		hdr_add(&hs, "Content-Type", FAAS__API_CT_JSON);
		hdr_add(&hs, "X-Amz-Executed-Version", c->fn_version);
		hdr_add(&hs, "X-Amzn-RequestId", faas_activation_id(act));
		hdr_add(&hs, "X-Amz-Log-Result", tail);
		faas__http_respond(x, 200, hs.h, hs.n, body, strlen(body));
	}
	free(body);
	free(tail);
	invoke_call_free(c);
}

/* An Event invocation's result goes nowhere; its activation is kept. */
static void on_event_done(const faas_activation *act, void *userdata)
{
	(void)act;
	(void)userdata;
}

typedef enum { INV_REQUEST_RESPONSE, INV_EVENT, INV_DRY_RUN } invocation_type;

static bool header_is(const faas__http_request *r, const char *name, const char *value,
		      bool *present)
{
	size_t len;
	const char *v = faas__http_header_get(r, name, &len);

	*present = v != NULL;
	return v && len == strlen(value) && memcmp(v, value, len) == 0;
}

static bool valid_qualifier(const char *q, size_t len)
{
	if (len == 0 || len > FAAS__API_QUALIFIER_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = q[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '$' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Split a FunctionName the way Lambda accepts it: "name", "name:qualifier",
 * "account:function:name[:qualifier]" or
 * "arn:partition:lambda:region:account:function:name[:qualifier]".
 * Returns false if it has none of these shapes. */
static bool split_function_name(const char *s, size_t len, const char **name, size_t *name_len,
				const char **qual, size_t *qual_len)
{
	const char *part[8];
	size_t plen[8], n = 0, first;
	const char *p = s, *end = s + len;

	for (;;) {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (n == 8)
			return false; /* more parts than any accepted shape */
		part[n] = p;
		plen[n] = colon ? (size_t)(colon - p) : (size_t)(end - p);
		n++;
		if (!colon)
			break;
		p = colon + 1;
	}
	if (n >= 3 && plen[0] == 3 && memcmp(part[0], "arn", 3) == 0) {
		if ((n != 7 && n != 8) || plen[2] != 6 || memcmp(part[2], "lambda", 6) != 0 ||
		    plen[5] != 8 || memcmp(part[5], "function", 8) != 0)
			return false;
		first = 6;
	} else if ((n == 3 || n == 4) && plen[1] == 8 && memcmp(part[1], "function", 8) == 0) {
		first = 2;
	} else if (n == 1 || n == 2) {
		first = 0;
	} else {
		return false;
	}
	*name = part[first];
	*name_len = plen[first];
	*qual = first + 1 < n ? part[first + 1] : NULL;
	*qual_len = first + 1 < n ? plen[first + 1] : 0;
	if (*name_len == 0 || (*qual && !valid_qualifier(*qual, *qual_len)))
		return false;
	return true;
}

static void invoke_route(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
			 const char *ident, size_t ident_len)
{
	char name[FAAS__NAME_MAX + 1], query_qual[FAAS__API_QUERY_VALUE_MAX], msg[384];
	const char *fname, *qual;
	size_t fname_len, qual_len;
	invocation_type type = INV_REQUEST_RESPONSE;
	bool present, tail = false;
	int has_qual, rc;
	faas_fn *fn;
	faas_ctx *ctx = NULL;
	invoke_call *c;

	if (strcmp(r->method, "POST") != 0) {
		aws_error(x, rt, 405, "MethodNotAllowedException",
			  "the Invoke API takes POST", NULL);
		return;
	}
	if (!split_function_name(ident, ident_len, &fname, &fname_len, &qual, &qual_len)) {
		aws_error(x, rt, 400, "InvalidParameterValueException",
			  "FunctionName: expected a name, name:qualifier or a Lambda function ARN",
			  NULL);
		return;
	}
	if (header_is(r, "X-Amz-Invocation-Type", "Event", &present))
		type = INV_EVENT;
	else if (header_is(r, "X-Amz-Invocation-Type", "DryRun", &present))
		type = INV_DRY_RUN;
	else if (present && !header_is(r, "X-Amz-Invocation-Type", "RequestResponse", &present)) {
		aws_error(x, rt, 400, "InvalidParameterValueException",
			  "X-Amz-Invocation-Type: expected RequestResponse, Event or DryRun", NULL);
		return;
	}
	if (header_is(r, "X-Amz-Log-Type", "Tail", &present))
		tail = type == INV_REQUEST_RESPONSE; /* Lambda ignores it for the others */
	else if (present && !header_is(r, "X-Amz-Log-Type", "None", &present)) {
		aws_error(x, rt, 400, "InvalidParameterValueException",
			  "X-Amz-Log-Type: expected None or Tail", NULL);
		return;
	}
	has_qual = query_get(r->query, "Qualifier", query_qual, sizeof(query_qual));
	if (has_qual < 0 || (has_qual > 0 && !valid_qualifier(query_qual, strlen(query_qual)))) {
		aws_error(x, rt, 400, "InvalidParameterValueException",
			  "Qualifier: expected 1..128 characters of [a-zA-Z0-9$_-]", NULL);
		return;
	}
	if (has_qual > 0) {
		if (qual && (qual_len != strlen(query_qual) || memcmp(qual, query_qual, qual_len) != 0)) {
			aws_error(x, rt, 400, "InvalidParameterValueException",
				  "The derived qualifier from the function name does not match "
				  "the specified qualifier.",
				  NULL);
			return;
		}
		qual = query_qual;
		qual_len = strlen(query_qual);
	}
	if (rt->stopping) {
		aws_error(x, rt, 503, "ServiceException", "the runtime is stopping", NULL);
		return;
	}
	fn = NULL;
	if (fname_len <= FAAS__NAME_MAX) {
		memcpy(name, fname, fname_len);
		name[fname_len] = '\0';
		fn = faas_fn_lookup(rt, name);
	}
	/* One version per function: $LATEST and the function's own version
	 * name it; any other qualifier names something that does not exist. */
	if (fn && qual && !(qual_len == 7 && memcmp(qual, "$LATEST", 7) == 0) &&
	    !(qual_len == strlen(fn->fn_version) && memcmp(qual, fn->fn_version, qual_len) == 0))
		fn = NULL;
	if (!fn) {
		snprintf(msg, sizeof(msg), "Function not found: %.*s", (int)(ident_len > 300 ? 300 : ident_len),
			 ident);
		aws_error(x, rt, 404, "ResourceNotFoundException", msg, NULL);
		return;
	}
	if (type == INV_DRY_RUN) {
		char id[FAAS__ID_LEN + 1];
		char *version = header_safe_dup(fn->fn_version);
		hdrs hs = {.n = 0};

		new_request_id(rt, id);
		hdr_add(&hs, "X-Amzn-RequestId", id);
		hdr_add(&hs, "X-Amz-Executed-Version", version);
		faas__http_respond(x, 204, hs.h, hs.n, NULL, 0);
		free(version);
		return;
	}

	c = NULL;
	if (type == INV_REQUEST_RESPONSE) {
		c = calloc(1, sizeof(*c));
		if (c)
			c->fn_version = header_safe_dup(fn->fn_version);
		if (!c || !c->fn_version) {
			invoke_call_free(c);
			aws_error(x, rt, 500, "ServiceException", "out of memory", NULL);
			return;
		}
		c->x = x;
		c->rt = rt;
		c->tail = tail;
	}
	/* Lambda hands an empty payload to the function as is; the nearest
	 * JSON value to "nothing" is null. */
	/* The client's body is not trusted: it is checked here, so bad JSON is a
	 * 400 rather than an activation. */
	rc = faas__invoke(rt, name, NULL, r->body_len ? r->body : NULL, r->body_len, 0,
			  c ? on_invoke_done : on_event_done, c, &ctx);
	if (rc != 0) {
		invoke_call_free(c);
		switch (rc) {
		case FAAS_EINVAL:
			aws_error(x, rt, 400, "InvalidRequestContentException",
				  "Could not parse request body into json: the body is not valid "
				  "JSON",
				  NULL);
			break;
		case FAAS_ENOTFOUND:
			snprintf(msg, sizeof(msg), "Function not found: %s", name);
			aws_error(x, rt, 404, "ResourceNotFoundException", msg, NULL);
			break;
		case FAAS_ESTOPPED:
			aws_error(x, rt, 503, "ServiceException", "the runtime is stopping", NULL);
			break;
		default:
			aws_error(x, rt, 500, "ServiceException", faas_runtime_last_error(rt),
				  NULL);
			break;
		}
		return;
	}
	if (type == INV_REQUEST_RESPONSE) {
		faas__http_exchange_on_abort(x, faas__ctx_cancel_cb, ctx);
		return;
	}
	/* Event: the exchange is answered now. A call that admission refused
	 * (too large, throttled, disabled) already carries its activation:
	 * answer with the refusal, as Lambda does for async payloads over the
	 * limit, rather than a 202 for work that will never run. */
	if (ctx->act && !faas_activation_started(ctx->act) &&
	    service_failure(ctx->act, rt->stopping, &(const char *){NULL}) != 0) {
		answer_refused(x, rt, ctx->act);
	} else {
		hdrs hs = {.n = 0};

		hdr_add(&hs, "X-Amzn-RequestId", ctx->id);
		faas__http_respond(x, 202, hs.h, hs.n, NULL, 0);
	}
}

bool faas__http_api_handle(faas__http_exchange *x, faas_trigger *t, const faas_http_options *o)
{
	const faas__http_request *r;
	const char *path;
	size_t plen, pre = sizeof(FAAS__API_INVOKE_PREFIX) - 1,
		     suf = sizeof(FAAS__API_INVOKE_SUFFIX) - 1;

	if (!x)
		return false;
	r = faas__http_request_of(x);
	if (!r || !o || !t || !o->management_api || !r->path)
		return false;
	path = r->path;
	plen = strlen(path);
	if (plen > pre + suf && strncmp(path, FAAS__API_INVOKE_PREFIX, pre) == 0 &&
	    strcmp(path + plen - suf, FAAS__API_INVOKE_SUFFIX) == 0 &&
	    !memchr(path + pre, '/', plen - pre - suf)) {
		if (access_check(x, t->rt, r, o, true))
			invoke_route(x, t->rt, r, path + pre, plen - pre - suf);
		return true;
	}
	if (strncmp(path, FAAS__API_PREFIX, sizeof(FAAS__API_PREFIX) - 1) == 0)
		return handle_mgmt(x, t->rt, r, o);
	return false;
}
