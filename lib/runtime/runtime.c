/* The runtime: creation, the loop handles, run, stop/drain, close and free.
 * The options and their check are options.c's. */
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "gateway.h"
#include "hooks.h"
#include "invoke.h"
#include "options.h"

/* The fewest executor threads a runtime starts by default. */
#define FAAS__MIN_DEFAULT_THREADS 4u

static unsigned int default_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int n = cpus > 0 ? (unsigned int)cpus * 2 : FAAS__MIN_DEFAULT_THREADS;

	return n < FAAS__MIN_DEFAULT_THREADS ? FAAS__MIN_DEFAULT_THREADS : n;
}

static void release_memory(faas_runtime *rt)
{
	faas__store_free(&rt->store);
	faas__heap_free(&rt->deadlines);
	free(rt->print_buf);
	if (rt->owns_billing && rt->billing && rt->billing->free)
		rt->billing->free(rt->billing);
	if (rt->owns_state && rt->state && rt->state->free)
		rt->state->free(rt->state);
	/* After the state: it may be the store's. */
	if (rt->db)
		rt->db->free(rt->db);
}

static void on_keepalive(uv_async_t *h)
{
	(void)h;
}

/* ---- close ---- */

static void run_on_closed(faas_runtime *rt)
{
	void (*cb)(faas_runtime *rt, void *userdata) = rt->on_closed;

	/* Cleared before the call: the callback may free the runtime, and a
	 * free already under way must not call it a second time. */
	rt->on_closed = NULL;
	if (cb)
		cb(rt, rt->closed_userdata);
}

static void on_closed_deferred(faas__deferred *d)
{
	run_on_closed((faas_runtime *)((char *)d - offsetof(faas_runtime, closed_deferred)));
}

/* invoke/ calls this once the last call of a stop was delivered. The close
 * callback waits for a clean loop turn: it may free the runtime, which it
 * could not do under the delivery that ended the drain. */
static void on_stopped(faas_runtime *rt)
{
	if (rt->on_closed)
		faas__defer(rt, &rt->closed_deferred, on_closed_deferred);
}

/* Every layer opens its own handles, counted in core's loop helpers. */
static int init_handles(faas_runtime *rt)
{
	if (uv_async_init(rt->loop, &rt->keepalive, on_keepalive) != 0)
		return FAAS_ESYSTEM;
	rt->keepalive.data = rt;
	faas__handles_add(rt, 1);
	/* Only faas_runtime_run holds the loop through it. */
	uv_unref((uv_handle_t *)&rt->keepalive);
	if (faas__defer_init(rt) != 0)
		return FAAS_ESYSTEM;
	faas__reaper_init(rt);
	return faas__invoke_init(rt);
}

static void close_handles(faas_runtime *rt)
{
	faas__handle_close((uv_handle_t *)&rt->keepalive);
	faas__defer_close(rt);
	faas__reaper_close(rt);
	faas__invoke_close(rt);
}

/* The store (store_path) and the state backend: the store's, unless the
 * host gave its own. On failure the message is already set. */
static int open_store(faas_runtime *rt, const faas_runtime_options *opts)
{
	int rc = 0;

	if (opts->store_path) {
		rc = faas_store_sqlite_open(&rt->db, opts->store_path, NULL);
		if (rc != 0)
			return rc;
	}
	if (opts->state)
		rt->state = opts->state;
	else if (rt->db)
		rt->state = rt->db->state(rt->db);
	else if ((rc = faas_state_memory_new(&rt->state)) == 0)
		rt->owns_state = true;
	else
		return faas__fail(NULL, rc, "out of memory");
	rt->state_may_block = !rt->owns_state;
	return 0;
}

int faas_runtime_new(faas_runtime **out, const faas_runtime_options *in)
{
	faas_runtime_options defaults = FAAS_RUNTIME_OPTIONS_INIT, upgraded;
	const faas_runtime_options *opts = &upgraded;
	faas_runtime *rt;
	int rc;

	if (!out)
		return faas__fail(NULL, FAAS_EINVAL, "out is NULL");
	*out = NULL;
	if ((rc = faas__runtime_options_upgrade(&upgraded, in ? in : &defaults)) != 0)
		return rc;
	rc = faas__runtime_options_check(opts);
	if (rc != 0)
		return rc;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return faas__fail(NULL, FAAS_ENOMEM, "out of memory");
	rt->opts = *opts;
	if (rt->opts.threads == 0)
		rt->opts.threads = default_threads();
	faas__alloc_hooks_install();
	faas__idgen_init(&rt->ids);
	rt->on_stopped = on_stopped;

	if (opts->loop) {
		rt->loop = opts->loop;
	} else {
		if (uv_loop_init(&rt->own_loop) != 0) {
			free(rt);
			return faas__fail(NULL, FAAS_ESYSTEM, "uv_loop_init failed");
		}
		rt->loop = &rt->own_loop;
		rt->owns_loop = true;
	}
	rc = faas__store_init(&rt->store, rt->opts.activation_capacity);
	if (rc == 0 && !opts->billing) {
		rc = faas__billing_default_new(&rt->billing, &rt->opts.pricing);
		rt->owns_billing = rc == 0;
	} else {
		rt->billing = opts->billing;
	}
	if (rc != 0)
		rc = faas__fail(NULL, rc, "out of memory");
	else
		rc = open_store(rt, opts);
	if (rc != 0) {
		release_memory(rt);
		if (rt->owns_loop)
			uv_loop_close(&rt->own_loop);
		free(rt);
		return rc;
	}
	rc = init_handles(rt);
	if (rc != 0) {
		/* Handles were initialised: tear down the way free does. */
		rt->freeing = true;
		faas_runtime_free(rt);
		return faas__fail(NULL, rc, "cannot start executor threads");
	}
	*out = rt;
	return 0;
}

uv_loop_t *faas_runtime_loop(faas_runtime *rt)
{
	return rt ? rt->loop : NULL;
}

int faas_runtime_backup(faas_runtime *rt, const char *path)
{
	if (!rt || !path || !path[0])
		return faas__fail(NULL, FAAS_EINVAL, "backup: no runtime or no path");
	if (!rt->db)
		return faas__fail(NULL, FAAS_ENOTSUP, "backup: the runtime has no store (store_path)");
	return rt->db->backup(rt->db, path);
}

int faas_runtime_run(faas_runtime *rt)
{
	if (!rt)
		return FAAS_EINVAL;
	if (rt->stopped)
		return faas__fail(rt, FAAS_ESTOPPED, "the runtime is stopped");
	/* Keep the loop alive while idle: a server waits for its stop. */
	uv_ref((uv_handle_t *)&rt->keepalive);
	rt->running = true;
	while (!rt->stopped)
		uv_run(rt->loop, UV_RUN_ONCE);
	rt->running = false;
	uv_unref((uv_handle_t *)&rt->keepalive);
	return 0;
}

static void begin_stop(faas_runtime *rt)
{
	rt->stopping = true;
	faas__triggers_stop(rt);
	faas__drain_start(rt);
}

int faas_runtime_stop(faas_runtime *rt)
{
	if (!rt)
		return FAAS_EINVAL;
	if (rt->stopping) {
		/* A second stop while draining: do not wait any longer. */
		if (!rt->stopped)
			faas__cancel_all(rt);
		return 0;
	}
	begin_stop(rt);
	return 0;
}

int faas_runtime_close(faas_runtime *rt, void (*on_closed)(faas_runtime *rt, void *userdata),
		       void *userdata)
{
	if (!rt)
		return faas__fail(NULL, FAAS_EINVAL, "faas_runtime_close: rt is NULL");
	if (!on_closed)
		return faas__fail(rt, FAAS_EINVAL, "faas_runtime_close: on_closed is NULL");
	/* The callback may free the runtime, and freeing runs an owned loop:
	 * from inside that loop's callback it cannot. faas_runtime_run already
	 * returns when draining is over. */
	if (rt->owns_loop)
		return faas__fail(rt, FAAS_EINVAL,
				  "faas_runtime_close needs a host loop; with the runtime's own "
				  "loop, faas_runtime_run returns once it is stopped");
	if (rt->closing || rt->in_free)
		return faas__fail(rt, FAAS_EBUSY, "the runtime is already %s",
				  rt->in_free ? "being freed" : "closing");
	rt->closing = true;
	rt->on_closed = on_closed;
	rt->closed_userdata = userdata;
	if (rt->stopped)
		faas__defer(rt, &rt->closed_deferred, on_closed_deferred);
	else if (!rt->stopping)
		begin_stop(rt); /* on_stopped queues the callback once drained */
	return 0;
}

bool faas_runtime_stopped(const faas_runtime *rt)
{
	return rt ? rt->stopped : false;
}

void faas_runtime_free(faas_runtime *rt)
{
	/* A close callback run from inside this free may call it again. */
	if (!rt || rt->in_free)
		return;
	rt->in_free = true;
	if (!rt->stopping) {
		rt->stopping = true;
		faas__triggers_stop(rt);
	}
	/* Cancel what is running (callbacks run now, status internal_error),
	 * then let the threads that are not stuck finish and exit: what they
	 * completed meanwhile is delivered normally. */
	faas__cancel_all(rt);
	faas__defer_run(rt);
	rt->freeing = true;
	faas__exec_shutdown(rt);
	faas__defer_run(rt);
	rt->stopped = true;
	/* A close still waiting is answered here, after every call's callback:
	 * exactly once, as if the drain had ended. */
	run_on_closed(rt);
	faas__triggers_close(rt);
	faas__fn_unregister_all(rt);
	release_memory(rt);
	if (rt->open_handles == 0) {
		/* Creation failed before any handle existed. */
		if (rt->owns_loop)
			uv_loop_close(&rt->own_loop);
		free(rt);
		return;
	}
	close_handles(rt);
	if (rt->owns_loop) {
		/* Runs every close callback, the triggers' included. */
		uv_run(&rt->own_loop, UV_RUN_DEFAULT);
		uv_loop_close(&rt->own_loop);
		free(rt);
	}
}
