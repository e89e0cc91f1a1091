/*
 * libfaas gateway — what the HTTP trigger's files share: metrics.
 */
#ifndef FAAS_LIB_GATEWAY_GATEWAY_H
#define FAAS_LIB_GATEWAY_GATEWAY_H

#include "trigger_internal.h"

/* ---- metrics (http_metrics.c), served by http_api.c ---- */
#define FAAS__METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* The runtime's counters in the Prometheus text format; *out is malloc'd and
 * the caller's. Returns 0, FAAS_EINVAL or FAAS_ENOMEM (also past the size cap). */
int faas__metrics_render(char **out, size_t *len, faas_runtime *rt);

#endif /* FAAS_LIB_GATEWAY_GATEWAY_H */
