/*
 * libfaas gateway — the HTTP trigger's answers (proxy_response.c): an
 * activation's outcome mapped to an HTTP status, headers and body.
 *
 * A result that is an object with "statusCode" is an API Gateway proxy
 * response. An invalid one (statusCode not an integer in 200..599 — 1xx
 * cannot end an exchange —, header values not strings or holding control
 * characters, a body that is not a string, bad base64) is answered 502
 * {"message": "Internal server error"}, as API Gateway does. Any other
 * result, null included, is answered 200 with its JSON text (API Gateway
 * would answer 502 for a non-proxy result; returning plain JSON is too
 * useful to refuse). Without a Content-Type the answer says
 * application/json. Failed activations get API Gateway's statuses (502,
 * 504, 429, 413, 403, 503).
 */
#ifndef FAAS_LIB_GATEWAY_PROXY_RESPONSE_H
#define FAAS_LIB_GATEWAY_PROXY_RESPONSE_H

#include "event_sink.h"
#include "http.h"

/* Printed results and decoded bodies up to this size keep their buffers. */
#define FAAS__PROXY_KEEP (64u * 1024u)

typedef struct faas__proxy_out {
	faas__http_header *hdrs; /* the answer's headers, reused */
	size_t hdrs_cap;
	char *bin; /* decoded base64 bodies */
	size_t bin_cap;
	faas__buf *print; /* borrowed: a buffer free between requests, for printing results */
} faas__proxy_out;

/* Answer x for the activation a rule fired (act NULL: it could not start,
 * err says why). */
void faas__proxy_answer(faas__proxy_out *o, faas__http_exchange *x, const faas_activation *act,
                        int err);

void faas__proxy_out_free(faas__proxy_out *o);

#endif /* FAAS_LIB_GATEWAY_PROXY_RESPONSE_H */
