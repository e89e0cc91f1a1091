/* The runtime's counters: activations by status and cold starts (counted by
 * completion), calls in flight, and the executors' thread counts. */
#include "invoke.h"

int faas_runtime_stats_get(faas_runtime_stats *out, faas_runtime *rt)
{
	faas__exec_counts counts;

	if (!out || !rt)
		return FAAS_EINVAL;
	*out = rt->stats;
	out->in_flight = rt->n_inflight;
	faas__exec_counts_get(rt, &counts);
	out->threads = counts.threads;
	out->stuck_threads = counts.stuck_threads;
	return 0;
}
