/* Functions: option checks, the function object, loading its handler into
 * the host, lookup and stats. Registering one with its executor is
 * invoke/registry.c's. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"

#define FAAS__DEFAULT_FN_VERSION "$LATEST"

int faas_fn_options_init(faas_fn_options *opts, unsigned int version)
{
	static const faas_fn_options tmpl = FAAS_FN_OPTIONS_INIT;

	if (!opts || version != FAAS_FN_OPTIONS_VERSION)
		return FAAS_EINVAL;
	memcpy(opts, &tmpl, sizeof(tmpl));
	return 0;
}

static int check_options(faas_runtime *rt, const char *name, const faas_fn_options *o,
			 uint32_t timeout_ms, uint32_t memory_mb)
{
	if (o->version != FAAS_FN_OPTIONS_VERSION)
		return faas__fail(rt, FAAS_EINVAL, "%s: options version %u, expected %u", name,
				  o->version, FAAS_FN_OPTIONS_VERSION);
	if (timeout_ms < FAAS_MIN_TIMEOUT_MS || timeout_ms > FAAS_MAX_TIMEOUT_MS)
		return faas__fail(rt, FAAS_EINVAL, "%s: timeout_ms: expected %u..%u, got %u",
				  name, FAAS_MIN_TIMEOUT_MS, FAAS_MAX_TIMEOUT_MS, timeout_ms);
	if (memory_mb < FAAS_MIN_MEMORY_MB || memory_mb > FAAS_MAX_MEMORY_MB)
		return faas__fail(rt, FAAS_EINVAL, "%s: memory_mb: expected %u..%u, got %u",
				  name, FAAS_MIN_MEMORY_MB, FAAS_MAX_MEMORY_MB, memory_mb);
	if ((unsigned int)o->isolation >= FAAS__ISOLATION_COUNT)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: isolation: expected FAAS_ISOLATION_THREAD, "
				  "FAAS_ISOLATION_INLINE or FAAS_ISOLATION_PROCESS, got %d",
				  name, (int)o->isolation);
	if (!o->handler && !o->library)
		return faas__fail(rt, FAAS_EINVAL, "%s: set either handler or library", name);
	if (o->handler && o->library)
		return faas__fail(rt, FAAS_EINVAL, "%s: set handler or library, not both", name);
	if (o->max_concurrency > rt->opts.max_concurrency)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: max_concurrency: expected 0..%u (the runtime's cap), got %u",
				  name, rt->opts.max_concurrency, o->max_concurrency);
	if (o->fn_version && (o->fn_version[0] == '\0' || strlen(o->fn_version) > FAAS__NAME_MAX))
		return faas__fail(rt, FAAS_EINVAL, "%s: fn_version: expected 1..%d characters",
				  name, FAAS__NAME_MAX);
	if (o->state_namespace && strlen(o->state_namespace) > FAAS__NAME_MAX)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: state_namespace: expected at most %d characters", name,
				  FAAS__NAME_MAX);
	return 0;
}

static void fn_destroy(faas_fn *fn)
{
	faas__lib_release(fn->lib);
	free(fn->name);
	free(fn->fn_version);
	free(fn->state_ns);
	free(fn);
}

void faas__fn_release(faas_fn *fn)
{
	if (fn && atomic_fetch_sub(&fn->refs, 1) == 1)
		fn_destroy(fn);
}

static char *make_state_ns(const char *name, const char *ns)
{
	const char *base = ns ? ns : name;
	size_t n = strlen(base);
	char *s;

	if (n == 0)
		return faas__strdup("");
	s = malloc(n + 2);
	if (s) {
		memcpy(s, base, n);
		s[n] = '/';
		s[n + 1] = '\0';
	}
	return s;
}

static int load_handler(faas_fn *fn, faas_runtime *rt, const faas_fn_options *o)
{
	const char *symbol = o->symbol ? o->symbol : fn->name;
	int rc = faas__lib_acquire(&fn->lib, rt, o->library);

	if (rc != 0)
		return rc;
	dlerror();
	*(void **)&fn->handler = dlsym(fn->lib->dl, symbol);
	if (!fn->handler) {
		const char *why = dlerror();

		return faas__fail(rt, FAAS_ESYMBOL, "%s: no handler symbol '%s' in %s: %s",
				  fn->name, symbol, o->library, why ? why : "symbol is NULL");
	}
	return 0;
}

int faas__fn_check(faas_runtime *rt, const char *name, const faas_fn_options *o)
{
	if (!name || !faas__valid_name(name))
		return faas__fail(rt, FAAS_EINVAL,
				  "function name: expected 1..%d characters of [A-Za-z0-9_.-]",
				  FAAS__NAME_MAX);
	if (rt->stopping)
		return faas__fail(rt, FAAS_ESTOPPED, "%s: the runtime is stopping", name);
	return check_options(rt, name, o, o->timeout_ms ? o->timeout_ms : rt->opts.default_timeout_ms,
			     o->memory_mb ? o->memory_mb : rt->opts.default_memory_mb);
}

int faas__fn_new(faas_fn **out, faas_runtime *rt, const char *name, const faas_fn_options *o)
{
	faas_fn *fn = calloc(1, sizeof(*fn));

	*out = NULL;
	if (!fn)
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", name);
	atomic_init(&fn->refs, 1);
	fn->rt = rt;
	fn->name = faas__strdup(name);
	fn->fn_version = faas__strdup(o->fn_version ? o->fn_version : FAAS__DEFAULT_FN_VERSION);
	fn->state_ns = make_state_ns(name, o->state_namespace);
	fn->timeout_ms = o->timeout_ms ? o->timeout_ms : rt->opts.default_timeout_ms;
	fn->memory_mb = o->memory_mb ? o->memory_mb : rt->opts.default_memory_mb;
	fn->max_concurrency = o->max_concurrency;
	fn->isolation = o->isolation;
	fn->payload_limit = o->payload_limit ? o->payload_limit : FAAS_DEFAULT_PAYLOAD_LIMIT;
	fn->result_limit = o->result_limit ? o->result_limit : FAAS_DEFAULT_RESULT_LIMIT;
	fn->keep_warm_ms = o->keep_warm_ms;
	fn->enabled = true;
	fn->handler = o->handler;
	if (!fn->name || !fn->fn_version || !fn->state_ns) {
		fn_destroy(fn);
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", name);
	}
	*out = fn;
	return 0;
}

int faas__fn_load(faas_fn *fn, const faas_fn_options *o)
{
	faas_runtime *rt = fn->rt;
	uint64_t init_us;
	bool cold;
	int rc;

	if (fn->handler)
		return 0; /* static: nothing to load */
	rc = load_handler(fn, rt, o);
	if (rc != 0)
		return rc;
	if (fn->lib->nfns == 1 || fn->keep_warm_ms == 0 ||
	    (fn->lib->keep_warm_ms != 0 && fn->keep_warm_ms > fn->lib->keep_warm_ms))
		fn->lib->keep_warm_ms = fn->keep_warm_ms;
	if (!o->prewarm)
		return 0;
	rc = faas__lib_warm_up(fn->lib, &init_us, &cold);
	if (rc != 0)
		return faas__fail(rt, FAAS_EINIT, "%s: module init of %s returned %d", fn->name,
				  o->library, rc);
	fn->lib->last_used_ns = faas__now_ns();
	faas__reaper_schedule(rt, fn->lib);
	return 0;
}

bool faas__fn_loaded_warm(const faas_fn *fn)
{
	return fn->lib ? atomic_load(&fn->lib->warm) : atomic_load(&fn->static_warm);
}

void faas__fn_link(faas_fn *fn)
{
	fn->next = fn->rt->fns;
	fn->rt->fns = fn;
}

void faas__fn_discard(faas_fn *fn)
{
	if (fn->lib) {
		faas__lib *lib = fn->lib;

		fn->lib = NULL;
		faas__lib_unregister_fn(fn->rt, lib);
		faas__lib_release(lib);
	}
	fn_destroy(fn);
}

faas_fn *faas_fn_lookup(faas_runtime *rt, const char *name)
{
	if (!rt || !name)
		return NULL;
	for (faas_fn *fn = rt->fns; fn; fn = fn->next)
		if (strcmp(fn->name, name) == 0)
			return fn;
	return NULL;
}

void faas__fn_unlink(faas_fn *fn)
{
	faas_runtime *rt = fn->rt;

	for (faas_fn **p = &rt->fns; *p; p = &(*p)->next) {
		if (*p == fn) {
			*p = fn->next;
			break;
		}
	}
	if (fn->lib)
		faas__lib_unregister_fn(rt, fn->lib);
	fn->rt = NULL;
	faas__fn_release(fn);
}

int faas_fn_set_enabled(faas_fn *fn, bool enabled)
{
	if (!fn)
		return FAAS_EINVAL;
	fn->enabled = enabled;
	return 0;
}

const char *faas_fn_name(const faas_fn *fn)
{
	return fn ? fn->name : NULL;
}

unsigned int faas_fn_in_flight(const faas_fn *fn)
{
	return fn ? fn->in_flight : 0;
}

int faas_fn_stats_get(faas_fn_stats *out, const faas_fn *fn)
{
	if (!out || !fn)
		return FAAS_EINVAL;
	*out = fn->stats;
	out->version = FAAS_FN_STATS_VERSION;
	memset(out->reserved, 0, sizeof(out->reserved));
	out->in_flight = fn->in_flight;
	out->unhealthy = fn->unhealthy != NULL;
	return 0;
}

int faas_fn_foreach(faas_runtime *rt, int (*visit)(faas_fn *fn, void *userdata), void *userdata)
{
	if (!rt || !visit)
		return FAAS_EINVAL;
	for (faas_fn *fn = rt->fns; fn; fn = fn->next) {
		int rc = visit(fn, userdata);

		if (rc != 0)
			return rc;
	}
	return 0;
}

void faas__fn_count(faas_fn *fn, const faas_usage *u, bool started)
{
	static const uint64_t bounds_ms[] = FAAS_DURATION_BUCKETS_MS;
	size_t i = 0;

	fn->stats.activations[u->status]++;
	if (!started)
		return;
	if (u->cold)
		fn->stats.cold_starts++;
	while (i < sizeof(bounds_ms) / sizeof(bounds_ms[0]) && u->duration_us > bounds_ms[i] * 1000u)
		i++;
	fn->stats.duration_buckets[i]++;
	fn->stats.duration_us_sum += u->duration_us;
}
