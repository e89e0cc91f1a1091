/* Lambda's Invoke API on the management listener:
 * POST /2015-03-31/functions/{name}/invocations with RequestResponse, Event
 * or DryRun, and the log tail (X-Amz-Log-Type: Tail), answered the way the
 * real service answers so AWS CLIs and SDKs work against it. A request is
 * either answered before faas__lambda_invoke returns, or its invocation
 * carries the exchange and answers it from its completion callback; either
 * way exactly one faas__http_respond() per exchange. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_common.h"
#include "invoke.h"
#include "lambda_api.h"

/* Lambda's X-Amz-Log-Result carries the last 4 KB of the log. */
#define FAAS__API_LOG_TAIL_MAX 4096u
/* Lambda's qualifier pattern allows 1..128 characters. */
#define FAAS__API_QUALIFIER_MAX 128u

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
	faas__api_aws_error(x, rt, status, type, msg ? msg : "", reason[0] ? reason : NULL);
}

static void on_invoke_done(const faas_activation *act, void *userdata)
{
	invoke_call *c = userdata;
	faas__http_exchange *x = c->x;
	faas__api_hdrs hs = {.n = 0};
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
		if (err &&
		    cJSON_AddStringToObject(err, "errorMessage",
		                            faas_activation_error_message(act)
		                                ? faas_activation_error_message(act)
		                                : "") &&
		    cJSON_AddStringToObject(err, "errorType",
		                            faas_activation_error_type(act)
		                                ? faas_activation_error_type(act)
		                                : FAAS__ERR_DEFAULT))
			body = cJSON_PrintUnformatted(err);
		cJSON_Delete(err);
		faas__api_hdr_add(&hs, "X-Amz-Function-Error", "Unhandled");
	}
	if (c->tail)
		tail = log_tail_b64(act, c->fn_version);
	if (!body || (c->tail && !tail)) {
		faas__http_respond(x, 500, NULL, 0, NULL, 0);
	} else {
		faas__api_hdr_add(&hs, "Content-Type", FAAS__API_CT_JSON);
		faas__api_hdr_add(&hs, "X-Amz-Executed-Version", c->fn_version);
		faas__api_hdr_add(&hs, "X-Amzn-RequestId", faas_activation_id(act));
		faas__api_hdr_add(&hs, "X-Amz-Log-Result", tail);
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

/* What an Invoke request asks for, read from its path, headers and query. */
typedef struct invoke_req {
	invocation_type type;
	bool tail;
	const char *ident; /* the FunctionName as given */
	size_t ident_len;
	const char *fname, *qual; /* qual may point at query_qual */
	size_t fname_len, qual_len;
	char query_qual[FAAS__API_QUERY_VALUE_MAX];
	char name[FAAS__NAME_MAX + 1];
} invoke_req;

static void bad_parameter(faas__http_exchange *x, faas_runtime *rt, const char *message)
{
	faas__api_aws_error(x, rt, 400, "InvalidParameterValueException", message, NULL);
}

/* X-Amz-Invocation-Type and X-Amz-Log-Type. Returns false when answered. */
static bool read_headers(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
                         invoke_req *q)
{
	bool present;

	q->type = INV_REQUEST_RESPONSE;
	q->tail = false;
	if (header_is(r, "X-Amz-Invocation-Type", "Event", &present))
		q->type = INV_EVENT;
	else if (header_is(r, "X-Amz-Invocation-Type", "DryRun", &present))
		q->type = INV_DRY_RUN;
	else if (present && !header_is(r, "X-Amz-Invocation-Type", "RequestResponse", &present)) {
		bad_parameter(x, rt,
		              "X-Amz-Invocation-Type: expected RequestResponse, Event or DryRun");
		return false;
	}
	if (header_is(r, "X-Amz-Log-Type", "Tail", &present)) {
		q->tail = q->type == INV_REQUEST_RESPONSE; /* Lambda ignores it for the others */
	} else if (present && !header_is(r, "X-Amz-Log-Type", "None", &present)) {
		bad_parameter(x, rt, "X-Amz-Log-Type: expected None or Tail");
		return false;
	}
	return true;
}

/* The Qualifier query value, which must agree with the name's own. Returns
 * false when answered. */
static bool read_qualifier(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
                           invoke_req *q)
{
	int has = faas__api_query_get(r->query, "Qualifier", q->query_qual, sizeof(q->query_qual));
	size_t len = strlen(q->query_qual);

	if (has < 0 || (has > 0 && !valid_qualifier(q->query_qual, len))) {
		bad_parameter(x, rt, "Qualifier: expected 1..128 characters of [a-zA-Z0-9$_-]");
		return false;
	}
	if (has == 0)
		return true;
	if (q->qual && (q->qual_len != len || memcmp(q->qual, q->query_qual, len) != 0)) {
		bad_parameter(x, rt,
		              "The derived qualifier from the function name does not match "
		              "the specified qualifier.");
		return false;
	}
	q->qual = q->query_qual;
	q->qual_len = len;
	return true;
}

/* The function the request names, or NULL after answering 404. */
static faas_fn *find_function(faas__http_exchange *x, faas_runtime *rt, invoke_req *q)
{
	char msg[384];
	faas_fn *fn = NULL;

	if (q->fname_len <= FAAS__NAME_MAX) {
		memcpy(q->name, q->fname, q->fname_len);
		q->name[q->fname_len] = '\0';
		fn = faas_fn_lookup(rt, q->name);
	}
	/* One version per function: $LATEST and the function's own version
	 * name it; any other qualifier names something that does not exist. */
	if (fn && q->qual && !(q->qual_len == 7 && memcmp(q->qual, "$LATEST", 7) == 0) &&
	    !(q->qual_len == strlen(fn->fn_version) &&
	      memcmp(q->qual, fn->fn_version, q->qual_len) == 0))
		fn = NULL;
	if (!fn) {
		snprintf(msg, sizeof(msg), "Function not found: %.*s",
		         (int)(q->ident_len > 300 ? 300 : q->ident_len), q->ident);
		faas__api_aws_error(x, rt, 404, "ResourceNotFoundException", msg, NULL);
	}
	return fn;
}

static void dry_run(faas__http_exchange *x, faas_runtime *rt, const faas_fn *fn)
{
	char id[FAAS__ID_LEN + 1];
	char *version = header_safe_dup(fn->fn_version);
	faas__api_hdrs hs = {.n = 0};

	faas__api_request_id(rt, id);
	faas__api_hdr_add(&hs, "X-Amzn-RequestId", id);
	faas__api_hdr_add(&hs, "X-Amz-Executed-Version", version);
	faas__http_respond(x, 204, hs.h, hs.n, NULL, 0);
	free(version);
}

/* The answer when faas__invoke refused the call (rc). */
static void invoke_refused(faas__http_exchange *x, faas_runtime *rt, int rc, const char *name)
{
	char msg[384];

	switch (rc) {
	case FAAS_EINVAL:
		faas__api_aws_error(x, rt, 400, "InvalidRequestContentException",
		                    "Could not parse request body into json: the body is not valid "
		                    "JSON",
		                    NULL);
		break;
	case FAAS_ENOTFOUND:
		snprintf(msg, sizeof(msg), "Function not found: %s", name);
		faas__api_aws_error(x, rt, 404, "ResourceNotFoundException", msg, NULL);
		break;
	case FAAS_ESTOPPED:
		faas__api_aws_error(x, rt, 503, "ServiceException", "the runtime is stopping",
		                    NULL);
		break;
	default:
		faas__api_aws_error(x, rt, 500, "ServiceException", faas_runtime_last_error(rt),
		                    NULL);
		break;
	}
}

/* An Event call is answered now. A call that admission refused (too large,
 * throttled, disabled) already carries its activation: answer with the
 * refusal, as Lambda does for async payloads over the limit, rather than a
 * 202 for work that will never run. */
static void event_accepted(faas__http_exchange *x, faas_runtime *rt, const faas_ctx *ctx)
{
	faas__api_hdrs hs = {.n = 0};

	if (ctx->act && !faas_activation_started(ctx->act) &&
	    service_failure(ctx->act, rt->stopping, &(const char *){NULL}) != 0) {
		answer_refused(x, rt, ctx->act);
		return;
	}
	faas__api_hdr_add(&hs, "X-Amzn-RequestId", ctx->id);
	faas__http_respond(x, 202, hs.h, hs.n, NULL, 0);
}

/* Invoke fn for a RequestResponse or Event request. */
static void start_call(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
                       const invoke_req *q, const faas_fn *fn)
{
	invoke_call *c = NULL;
	faas_ctx *ctx = NULL;
	int rc;

	if (q->type == INV_REQUEST_RESPONSE) {
		c = calloc(1, sizeof(*c));
		if (c)
			c->fn_version = header_safe_dup(fn->fn_version);
		if (!c || !c->fn_version) {
			invoke_call_free(c);
			faas__api_aws_error(x, rt, 500, "ServiceException", "out of memory", NULL);
			return;
		}
		c->x = x;
		c->rt = rt;
		c->tail = q->tail;
	}
	/* Lambda hands an empty payload to the function as is; the nearest
	 * JSON value to "nothing" is null. The client's body is not trusted:
	 * it is checked here, so bad JSON is a 400 rather than an activation. */
	rc = faas__invoke(rt, q->name, NULL, r->body_len ? r->body : NULL, r->body_len, 0,
	                  c ? on_invoke_done : on_event_done, c, &ctx);
	if (rc != 0) {
		invoke_call_free(c);
		invoke_refused(x, rt, rc, q->name);
		return;
	}
	if (q->type == INV_REQUEST_RESPONSE)
		faas__http_exchange_on_abort(x, faas__ctx_cancel_cb, ctx);
	else
		event_accepted(x, rt, ctx);
}

void faas__lambda_invoke(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
                         const char *ident, size_t ident_len)
{
	invoke_req q;
	faas_fn *fn;

	if (strcmp(r->method, "POST") != 0) {
		faas__api_aws_error(x, rt, 405, "MethodNotAllowedException",
		                    "the Invoke API takes POST", NULL);
		return;
	}
	q.ident = ident;
	q.ident_len = ident_len;
	if (!split_function_name(ident, ident_len, &q.fname, &q.fname_len, &q.qual, &q.qual_len)) {
		bad_parameter(
		    x, rt,
		    "FunctionName: expected a name, name:qualifier or a Lambda function ARN");
		return;
	}
	if (!read_headers(x, rt, r, &q) || !read_qualifier(x, rt, r, &q))
		return;
	if (rt->stopping) {
		faas__api_aws_error(x, rt, 503, "ServiceException", "the runtime is stopping",
		                    NULL);
		return;
	}
	fn = find_function(x, rt, &q);
	if (!fn)
		return;
	if (q.type == INV_DRY_RUN)
		dry_run(x, rt, fn);
	else
		start_call(x, rt, r, &q, fn);
}
