/*
 * libfaas gateway — what the HTTP trigger's files share: metrics, the
 * management routes, and the trigger without a listener (fuzzing).
 */
#ifndef FAAS_LIB_GATEWAY_GATEWAY_H
#define FAAS_LIB_GATEWAY_GATEWAY_H

#include "http_server.h"
#include "trigger_internal.h"

/* ---- metrics (http_metrics.c), served by http_api.c ---- */
#define FAAS__METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* The runtime's counters in the Prometheus text format; *out is malloc'd and
 * the caller's. Returns 0, FAAS_EINVAL or FAAS_ENOMEM (also past the size cap). */
int faas__metrics_render(char **out, size_t *len, faas_runtime *rt);

/* ---- management routes (api.c) ---- */
/* Returns true if the request is for a management route and was (or will
 * be) answered; false to let the trigger's own routes have it. t is the
 * trigger that received x, o its options (management switch, bearer token). */
bool faas__http_api_handle(faas__http_exchange *x, faas_trigger *t, const faas_http_options *o);

/* ---- the HTTP trigger (http_trigger.c) ---- */
/* An HTTP trigger whose server has no listener: the fuzz target feeds its
 * connections by hand. */
int faas__http_trigger_new_detached(faas_trigger **out, faas_runtime *rt, const char *name,
                                    const faas_http_options *opts, faas__http_server **srv);

#endif /* FAAS_LIB_GATEWAY_GATEWAY_H */
