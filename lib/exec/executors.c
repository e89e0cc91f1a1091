/* The table of executors, indexed by isolation mode, and the calls that go
 * to every executor at once (start, shutdown, counts). */
#include "exec.h"

static const faas__exec_ops *const builtin[FAAS__ISOLATION_COUNT] = {
	[FAAS_ISOLATION_THREAD] = &faas__exec_thread,
	[FAAS_ISOLATION_INLINE] = &faas__exec_inline,
	[FAAS_ISOLATION_PROCESS] = &faas__exec_process,
};

static const faas__exec_ops *table[FAAS__ISOLATION_COUNT] = {
	[FAAS_ISOLATION_THREAD] = &faas__exec_thread,
	[FAAS_ISOLATION_INLINE] = &faas__exec_inline,
	[FAAS_ISOLATION_PROCESS] = &faas__exec_process,
};

const faas__exec_ops *faas__exec_of(faas_isolation isolation)
{
	return table[isolation];
}

int faas__exec_set(faas_isolation isolation, const faas__exec_ops *ops)
{
	if ((unsigned int)isolation >= FAAS__ISOLATION_COUNT)
		return FAAS_EINVAL;
	if (!ops) {
		table[isolation] = builtin[isolation];
		return 0;
	}
	/* What invoke/ calls without checking. */
	if (!ops->submit || !ops->abandon)
		return FAAS_EINVAL;
	table[isolation] = ops;
	return 0;
}

int faas__exec_start(faas_runtime *rt, faas__exec_done_fn done)
{
	rt->exec_done = done;
	for (size_t i = 0; i < FAAS__ISOLATION_COUNT; i++) {
		if (table[i]->start) {
			int rc = table[i]->start(rt);

			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

void faas__exec_shutdown(faas_runtime *rt)
{
	for (size_t i = 0; i < FAAS__ISOLATION_COUNT; i++)
		if (table[i]->shutdown)
			table[i]->shutdown(rt);
}

void faas__exec_counts_get(faas_runtime *rt, faas__exec_counts *out)
{
	out->threads = out->stuck_threads = 0;
	for (size_t i = 0; i < FAAS__ISOLATION_COUNT; i++)
		if (table[i]->counts)
			table[i]->counts(rt, out);
}
