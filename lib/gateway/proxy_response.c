/* The HTTP trigger's answers: proxy responses checked and mapped to HTTP,
 * plain results printed as JSON, failed activations given API Gateway's
 * statuses (proxy_response.h has the rules). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy_response.h"
#include "scratch.h"

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

static bool add_header(faas__proxy_out *o, size_t *n, const char *name, const char *value)
{
	if (!header_name_ok(name) || !header_value_ok(value))
		return false;
	if (faas__grow((void **)&o->hdrs, &o->hdrs_cap, *n + 1, sizeof(faas__http_header)) != 0)
		return false;
	o->hdrs[*n].name = name;
	o->hdrs[*n].name_len = strlen(name);
	o->hdrs[*n].value = value;
	o->hdrs[*n].value_len = strlen(value);
	(*n)++;
	return true;
}

static bool has_header(const faas__proxy_out *o, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(o->hdrs[i].name, name) == 0)
			return true;
	return false;
}

static void bad_gateway(faas__http_exchange *x)
{
	faas__http_respond_error(x, 502, "Internal server error");
}

/* statusCode: an integer in 200..599, or -1. */
static int proxy_status(const cJSON *sc)
{
	if (!cJSON_IsNumber(sc) || !(sc->valuedouble >= 200 && sc->valuedouble <= 599) ||
	    sc->valuedouble != (double)(int)sc->valuedouble)
		return -1;
	return (int)sc->valuedouble;
}

/* multiValueHeaders, then the headers not in it, then a default
 * Content-Type, into o->hdrs. Returns false for an invalid response. */
static bool proxy_headers(faas__proxy_out *o, const cJSON *res, size_t *n)
{
	const cJSON *hd = cJSON_GetObjectItemCaseSensitive(res, "headers");
	const cJSON *mv = cJSON_GetObjectItemCaseSensitive(res, "multiValueHeaders");
	const cJSON *it, *v;
	size_t multi;

	if (mv && !cJSON_IsNull(mv)) {
		if (!cJSON_IsObject(mv))
			return false;
		cJSON_ArrayForEach(it, mv)
		{
			if (!cJSON_IsArray(it))
				return false;
			cJSON_ArrayForEach(v, it)
			{
				if (!cJSON_IsString(v) ||
				    !add_header(o, n, it->string, v->valuestring))
					return false;
			}
		}
	}
	multi = *n;
	if (hd && !cJSON_IsNull(hd)) {
		if (!cJSON_IsObject(hd))
			return false;
		cJSON_ArrayForEach(it, hd)
		{
			if (!cJSON_IsString(it))
				return false;
			/* Like API Gateway: a header in both keeps the multi values. */
			if (has_header(o, multi, it->string))
				continue;
			if (!add_header(o, n, it->string, it->valuestring))
				return false;
		}
	}
	return has_header(o, *n, "Content-Type") ||
	       add_header(o, n, "Content-Type", "application/json");
}

/* An API Gateway proxy response. */
static void answer_proxy(faas__proxy_out *o, faas__http_exchange *x, const cJSON *res)
{
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(res, "body");
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(res, "isBase64Encoded");
	const char *text = "";
	size_t n = 0, len = 0;
	int status = proxy_status(cJSON_GetObjectItemCaseSensitive(res, "statusCode"));

	if (status < 0 || !proxy_headers(o, res, &n))
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

		if (faas__grow((void **)&o->bin, &o->bin_cap, need, 1) != 0)
			return faas__http_respond_error(x, 500, "Internal server error");
		got = faas__base64_decode(o->bin, text, len);
		if (got == SIZE_MAX)
			return bad_gateway(x);
		text = o->bin;
		len = got;
	}
	faas__http_respond(x, status, o->hdrs, n, text, len);
	if (o->bin_cap > FAAS__PROXY_KEEP) {
		free(o->bin);
		o->bin = NULL;
		o->bin_cap = 0;
	}
}

static void answer_result(faas__proxy_out *o, faas__http_exchange *x, const cJSON *res)
{
	static const faas__http_header ct = {"Content-Type", 12, "application/json", 16};
	faas__buf *w = o->print;
	char *text;

	if (cJSON_IsObject(res) && cJSON_GetObjectItemCaseSensitive(res, "statusCode"))
		return answer_proxy(o, x, res);
	if (!res) {
		faas__http_respond(x, 200, &ct, 1, "null", 4);
		return;
	}
	/* Print into the buffer when it fits (no allocation). */
	if (w->cap > 0 && cJSON_PrintPreallocated((cJSON *)res, w->data, (int)w->cap, 0)) {
		faas__http_respond(x, 200, &ct, 1, w->data, strlen(w->data));
		return;
	}
	text = cJSON_PrintUnformatted(res);
	if (!text)
		return faas__http_respond_error(x, 500, "Internal server error");
	faas__http_respond(x, 200, &ct, 1, text, strlen(text));
	if (strlen(text) < FAAS__PROXY_KEEP)
		faas__buf_reserve(w, strlen(text) * 2 + 64); /* fit next time */
	free(text);
}

/* A failed activation's answer. */
static void answer_failure(faas__http_exchange *x, const faas_activation *act)
{
	const char *type;

	switch (faas_activation_status(act)) {
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

void faas__proxy_answer(faas__proxy_out *o, faas__http_exchange *x, const faas_activation *act,
                        int err)
{
	if (!act) {
		faas__http_respond_error(x, err == FAAS_ESTOPPED ? 503 : 500,
		                         err == FAAS_ESTOPPED ? "Service Unavailable"
		                                              : "Internal server error");
		return;
	}
	if (faas_activation_status(act) != FAAS_STATUS_SUCCESS)
		return answer_failure(x, act);
	if (!faas__http_exchange_alive(x))
		faas__http_respond(x, 500, NULL, 0, NULL, 0); /* frees it */
	else
		answer_result(o, x, faas_activation_result(act));
}

void faas__proxy_out_free(faas__proxy_out *o)
{
	free(o->hdrs);
	free(o->bin);
	o->hdrs = NULL;
	o->bin = NULL;
	o->hdrs_cap = o->bin_cap = 0;
}
