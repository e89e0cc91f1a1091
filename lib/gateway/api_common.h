/*
 * libfaas gateway — what the management API's two parts share
 * (api_common.c): answers with a JSON body, the two error shapes (Lambda's
 * for the Invoke API, {"message"} for the /_faas/ routes), the access check
 * (a bearer token, else loopback clients only) and reading a query value.
 * Everything runs on the loop thread.
 */
#ifndef FAAS_LIB_GATEWAY_API_COMMON_H
#define FAAS_LIB_GATEWAY_API_COMMON_H

#include "http.h"

/* The most headers one answer carries. */
#define FAAS__API_MAX_HEADERS 8u
#define FAAS__API_CT_JSON "application/json"
/* Query values we read are short: a qualifier, a function name, a number. */
#define FAAS__API_QUERY_VALUE_MAX 256u

typedef struct faas__api_hdrs {
	faas__http_header h[FAAS__API_MAX_HEADERS];
	size_t n;
} faas__api_hdrs;

/* Add a header (borrowed strings); a NULL value or a full set adds nothing. */
void faas__api_hdr_add(faas__api_hdrs *hs, const char *name, const char *value);

/* Answer with a cJSON body, which this frees. A body that cannot be printed
 * (out of memory) still gets an answer: a bare 500. */
void faas__api_respond_json(faas__http_exchange *x, int status, faas__api_hdrs *hs, cJSON *body);

/* An error of the /_faas/ routes: {"message": ...}, with one optional header. */
void faas__api_mgmt_error(faas__http_exchange *x, int status, const char *message,
                          const char *hname, const char *hvalue);

/* A request id for answers that have no activation (service errors, DryRun). */
void faas__api_request_id(faas_runtime *rt, char out[FAAS__ID_LEN + 1]);

/* An error of the Lambda service itself, shaped like the real one:
 * X-Amzn-ErrorType names the exception, the body is {"Type", "message"}
 * (and "Reason", when not NULL, for throttles). */
void faas__api_aws_error(faas__http_exchange *x, faas_runtime *rt, int status, const char *type,
                         const char *message, const char *reason);

/* Returns true if the client may use the management routes; otherwise the
 * exchange has been answered (403 or 401), in Lambda's shape when aws. */
bool faas__api_access_check(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
                            const faas_http_options *o, bool aws);

/* Find key in a raw query string and percent-decode its value into out.
 * Returns 1 if found, 0 if absent, -1 if the value is malformed, contains a
 * NUL or does not fit. The first occurrence wins. */
int faas__api_query_get(const char *query, const char *key, char *out, size_t size);

#endif /* FAAS_LIB_GATEWAY_API_COMMON_H */
