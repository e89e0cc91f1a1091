/* The management API's entry and its /_faas/ routes: activations (one by
 * id, or a listing), health and metrics. faas__http_api_handle sends the
 * Invoke API's paths to lambda_api.c. Everything here runs on the loop
 * thread and answers before returning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "api_common.h"
#include "lambda_api.h"
#include "manage.h"
#include "metrics.h"
#include "trigger_internal.h"

#define FAAS__API_INVOKE_PREFIX "/2015-03-31/functions/"
#define FAAS__API_INVOKE_SUFFIX "/invocations"
#define FAAS__API_PREFIX "/_faas/"
#define FAAS__API_ACTIVATIONS "/_faas/activations"

/* Activation listings: the default page and the most one request may ask for. */
#define FAAS__API_LIST_DEFAULT 50u
#define FAAS__API_LIST_MAX 1000u

/* ---- activations as JSON ---- */

static bool add_time(cJSON *o, const char *ms_key, const char *iso_key, uint64_t us)
{
	char iso[FAAS__DATE_ISO_MS_SIZE];

	if (faas__date_iso_ms(iso, (int64_t)(us / 1000u)) == 0)
		return false;
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
	bool ok =
	    o && cJSON_AddStringToObject(o, "id", faas_activation_id(act)) &&
	    cJSON_AddStringToObject(o, "function", faas_activation_function(act)) &&
	    cJSON_AddStringToObject(o, "status", faas_status_name(faas_activation_status(act))) &&
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
		ok = part &&
		     cJSON_AddStringToObject(part, "type", faas_activation_error_type(act)) &&
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
	faas__api_hdrs hs = {.n = 0};

	if (faas_activation_lookup(&act, rt, id) != 0) {
		faas__api_mgmt_error(x, 404, "no such activation (never existed, or evicted)", NULL,
		                     NULL);
		return;
	}
	faas__api_respond_json(x, 200, &hs, activation_json(act, true));
	faas_activation_free(act);
}

static void list_activations(faas__http_exchange *x, faas_runtime *rt, const char *query)
{
	char function[FAAS__API_QUERY_VALUE_MAX], limit_text[FAAS__API_QUERY_VALUE_MAX];
	int has_fn = faas__api_query_get(query, "function", function, sizeof(function));
	int has_limit = faas__api_query_get(query, "limit", limit_text, sizeof(limit_text));
	unsigned long limit = FAAS__API_LIST_DEFAULT;
	const faas_activation **acts;
	cJSON *body, *arr;
	faas__api_hdrs hs = {.n = 0};
	int n;

	if (has_fn < 0 || (has_fn > 0 && function[0] == '\0')) {
		faas__api_mgmt_error(x, 400, "function: expected a function name", NULL, NULL);
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
			faas__api_mgmt_error(x, 400, msg, NULL, NULL);
			return;
		}
	}
	acts = malloc(limit * sizeof(*acts));
	if (!acts) {
		faas__api_mgmt_error(x, 500, "out of memory", NULL, NULL);
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
	faas_activation_list_free(acts, n > 0 ? (size_t)n : 0);
	free(acts);
	if (!arr) {
		cJSON_Delete(body);
		body = NULL;
	}
	faas__api_respond_json(x, 200, &hs, body);
}

/* The unhealthy functions, each with why: [{"name", "reason"}]. */
static cJSON *unhealthy_functions(faas_runtime *rt)
{
	cJSON *arr = cJSON_CreateArray();

	for (const faas_fn *fn = rt->fns; arr && fn; fn = fn->next) {
		cJSON *item;

		if (!fn->unhealthy)
			continue;
		item = cJSON_CreateObject();
		if (!item || !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			cJSON_Delete(arr);
			return NULL;
		}
		if (!cJSON_AddStringToObject(item, "name", fn->name) ||
		    !cJSON_AddStringToObject(item, "reason", fn->unhealthy)) {
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

/* 200 "ok"; 200 "degraded" with the reason while thread-mode calls are stuck,
 * no thread is live or a function is unhealthy (the host still answers,
 * other calls and isolation modes still run, stuck threads may return and a
 * failing init is retried: a probe should alert, not restart); 503
 * "stopping". */
static void get_health(faas__http_exchange *x, faas_runtime *rt)
{
	faas__api_hdrs hs = {.n = 0};
	cJSON *body = cJSON_CreateObject();
	faas_runtime_stats rs;
	char reason[160];
	bool degraded = !rt->stopping && faas_runtime_stats_get(&rs, rt) == 0 &&
			faas__runtime_degraded(&rs, reason, sizeof(reason));
	const char *status = rt->stopping ? "stopping" : degraded ? "degraded" : "ok";
	bool ok = body && cJSON_AddStringToObject(body, "status", status);

	if (ok && degraded)
		ok = cJSON_AddStringToObject(body, "reason", reason) &&
		     cJSON_AddNumberToObject(body, "threads", rs.threads) &&
		     cJSON_AddNumberToObject(body, "stuckThreads", rs.stuck_threads) &&
		     (rs.unhealthy_functions == 0 ||
		      cJSON_AddItemToObject(body, "unhealthyFunctions", unhealthy_functions(rt)));
	if (!ok) {
		cJSON_Delete(body);
		body = NULL;
	}
	faas__api_respond_json(x, rt->stopping ? 503 : 200, &hs, body);
}

static void get_metrics(faas__http_exchange *x, faas_runtime *rt)
{
	char *text = NULL;
	size_t len = 0;
	faas__http_header h = {"Content-Type", 12, FAAS__METRICS_CONTENT_TYPE,
	                       sizeof(FAAS__METRICS_CONTENT_TYPE) - 1};

	if (faas__metrics_render(&text, &len, rt) != 0) {
		faas__api_mgmt_error(
		    x, 500, "cannot render the metrics (out of memory or too large)", NULL, NULL);
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
	if (!faas__api_access_check(x, rt, r, o, false))
		return true;
	if (strcmp(r->method, "GET") != 0) {
		faas__api_mgmt_error(x, 405, "method not allowed: use GET", "Allow", "GET");
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
		if (faas__api_access_check(x, t->rt, r, o, true))
			faas__lambda_invoke(x, t->rt, r, path + pre, plen - pre - suf);
		return true;
	}
	if (strncmp(path, FAAS__API_PREFIX, sizeof(FAAS__API_PREFIX) - 1) == 0)
		return handle_mgmt(x, t->rt, r, o);
	return false;
}
