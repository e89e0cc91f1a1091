/*
 * libfaas gateway — the API Gateway REST (v1.0) proxy event (proxy_event.c):
 * one walk of a matched request that writes the event to a sink
 * (event_sink.h), as text or as a tree, the same members in the same order.
 *
 * Values, where API Gateway leaves room: query keys and values are
 * percent-decoded with '+' as a space, path parameters percent-decoded with
 * '+' staying '+' ({proxy+} gets the rest of the path, decoded as a whole);
 * header names keep the case of their first occurrence, "headers" has the
 * last value and "multiValueHeaders" all of them in order, and the same for
 * the query; a body that is UTF-8 text without NUL bytes is passed as is,
 * anything else as base64 with isBase64Encoded true; no body is null.
 */
#ifndef FAAS_LIB_GATEWAY_PROXY_EVENT_H
#define FAAS_LIB_GATEWAY_PROXY_EVENT_H

#include "date.h"
#include "event_sink.h"
#include "http.h"
#include "routes.h"

#define FAAS__PROXY_ACCOUNT_ID "000000000000"
#define FAAS__PROXY_STAGE "$default"

typedef struct faas__proxy_request {
	const faas__http_request *req;
	const faas__route *route; /* the matched route */
	const char *request_id;   /* requestContext.requestId */
	const char *request_time; /* requestContext.requestTime */
} faas__proxy_request;

/* Write the event of in to sink. s holds in->req's raw path split by
 * faas__route_split_path (the segments the route matched); the headers and
 * the query are added to it. Returns 0, or FAAS_ENOMEM (the scratch or the
 * sink ran out). */
int faas__proxy_event(faas__event_sink *sink, faas__scratch *s, const faas__proxy_request *in);

/* API Gateway's requestTime, "23/Nov/2026:08:00:00 +0000", formatted once a
 * second into the clock's text. */
typedef struct faas__proxy_clock {
	uint64_t sec;
	char text[FAAS__DATE_APIGW_SIZE];
} faas__proxy_clock;

const char *faas__proxy_request_time(faas__proxy_clock *c, uint64_t ms);

#endif /* FAAS_LIB_GATEWAY_PROXY_EVENT_H */
