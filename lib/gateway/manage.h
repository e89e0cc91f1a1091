/*
 * libfaas gateway — the management API (manage.c): on a listener with
 * management_api on, the HTTP trigger offers each request here first.
 */
#ifndef FAAS_LIB_GATEWAY_MANAGE_H
#define FAAS_LIB_GATEWAY_MANAGE_H

#include "http.h"

/* If x is a management request (Lambda's Invoke API, /_faas/...), answer it
 * (now or when its invocation completes) and return true; else false. t is
 * the trigger that received x, o its options (management switch, token). */
bool faas__http_api_handle(faas__http_exchange *x, faas_trigger *t, const faas_http_options *o);

#endif /* FAAS_LIB_GATEWAY_MANAGE_H */
