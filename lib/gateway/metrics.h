/*
 * libfaas gateway — the runtime's counters in the Prometheus text format
 * (metrics.c), served by manage.c at GET /_faas/metrics.
 */
#ifndef FAAS_LIB_GATEWAY_METRICS_H
#define FAAS_LIB_GATEWAY_METRICS_H

#include <stddef.h>

#include "core.h"

#define FAAS__METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The runtime's counters; *out is malloc'd and the caller's. Returns 0,
 * FAAS_EINVAL or FAAS_ENOMEM (also past the size cap). */
int faas__metrics_render(char **out, size_t *len, faas_runtime *rt);

/* Whether the runtime is degraded: a function unhealthy (its init keeps
 * failing), or the thread pool with no live thread, or calls stuck past
 * their deadlines. If so, and reason is not NULL, a sentence saying why. The
 * health route and the faas_runtime_degraded gauge share this rule. */
bool faas__runtime_degraded(const faas_runtime_stats *rs, char *reason, size_t size);

#endif /* FAAS_LIB_GATEWAY_METRICS_H */
