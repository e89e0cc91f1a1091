/* The runtime's counters: activations by status and cold starts (counted by
 * completion), calls in flight, and the executors' thread counts. */
#include <string.h>

#include "invoke.h"

int faas_runtime_stats_get(faas_runtime_stats *out, faas_runtime *rt)
{
	faas__exec_counts counts;

	if (!out || !rt)
		return FAAS_EINVAL;
	*out = rt->stats;
	/* The record's copy never carries a version: the getter writes it, so
	 * callers need not set one (and old callers do not). */
	out->version = FAAS_RUNTIME_STATS_VERSION;
	memset(out->reserved, 0, sizeof(out->reserved));
	out->in_flight = rt->n_inflight;
	faas__exec_counts_get(rt, &counts);
	out->threads = counts.threads;
	out->stuck_threads = counts.stuck_threads;
	out->unhealthy_functions = 0;
	for (const faas_fn *fn = rt->fns; fn; fn = fn->next)
		out->unhealthy_functions += fn->unhealthy != NULL;
	return 0;
}
