/* Handler shared objects: loading once per runtime, the ABI check, init on the
 * first call (cold start) and fini after an idle period or at unload. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"

static faas__lib *registry_find(faas_runtime *rt, const char *path)
{
	for (faas__lib *lib = rt->libs; lib; lib = lib->next)
		if (strcmp(lib->path, path) == 0)
			return lib;
	return NULL;
}

static int lib_open(faas__lib *lib, faas_runtime *rt)
{
	const faas_module *mod;

	dlerror();
	lib->dl = dlopen(lib->path, RTLD_NOW | RTLD_LOCAL);
	if (!lib->dl)
		return faas__fail(rt, FAAS_ELOAD, "cannot load %s: %s", lib->path, dlerror());
	mod = dlsym(lib->dl, FAAS_MODULE_SYMBOL);
	if (!mod)
		return faas__fail(rt, FAAS_EMODULE,
				  "%s has no module descriptor (%s): build it with FAAS_MODULE()",
				  lib->path, FAAS_MODULE_SYMBOL);
	if (mod->abi_version != FAAS_ABI_VERSION)
		return faas__fail(rt, FAAS_EABI,
				  "%s was built for handler ABI version %u, this libfaas has %u",
				  lib->path, mod->abi_version, (unsigned int)FAAS_ABI_VERSION);
	lib->mod = mod;
	return 0;
}

static void lib_destroy(faas__lib *lib)
{
	if (lib->dl) {
		if (atomic_load(&lib->warm) && lib->mod && lib->mod->fini)
			lib->mod->fini();
		dlclose(lib->dl);
	}
	pthread_mutex_destroy(&lib->init_mu);
	free(lib->path);
	free(lib);
}

int faas__lib_acquire(faas__lib **out, faas_runtime *rt, const char *path)
{
	faas__lib *lib = registry_find(rt, path);
	int rc;

	if (lib) {
		atomic_fetch_add(&lib->refs, 1);
		lib->nfns++;
		*out = lib;
		return 0;
	}
	lib = calloc(1, sizeof(*lib));
	if (!lib)
		return faas__fail(rt, FAAS_ENOMEM, "out of memory loading %s", path);
	lib->path = faas__strdup(path);
	pthread_mutex_init(&lib->init_mu, NULL);
	if (!lib->path) {
		lib_destroy(lib);
		return faas__fail(rt, FAAS_ENOMEM, "out of memory loading %s", path);
	}
	rc = lib_open(lib, rt);
	if (rc != 0) {
		lib_destroy(lib);
		return rc;
	}
	/* One reference for the registry, one for the function acquiring it. */
	atomic_init(&lib->refs, 2);
	lib->nfns = 1;
	lib->next = rt->libs;
	rt->libs = lib;
	*out = lib;
	return 0;
}

void faas__lib_release(faas__lib *lib)
{
	if (lib && atomic_fetch_sub(&lib->refs, 1) == 1)
		lib_destroy(lib);
}

void faas__lib_unregister_fn(faas_runtime *rt, faas__lib *lib)
{
	if (--lib->nfns > 0)
		return;
	/* Its last function is gone: leave the registry, so that a new
	 * registration loads it afresh, and drop the registry's reference. Calls
	 * still running keep it loaded through their function's reference. */
	for (faas__lib **p = &rt->libs; *p; p = &(*p)->next) {
		if (*p == lib) {
			*p = lib->next;
			break;
		}
	}
	faas__lib_release(lib);
}

int faas__lib_warm_up(faas__lib *lib, uint64_t *init_us, bool *cold)
{
	int rc = 0;

	*cold = false;
	*init_us = 0;
	if (atomic_load_explicit(&lib->warm, memory_order_acquire))
		return 0;
	/* Concurrent first calls wait here for one init, as Lambda's first
	 * requests wait for one Init phase. */
	pthread_mutex_lock(&lib->init_mu);
	if (!atomic_load(&lib->warm)) {
		uint64_t t0 = faas__now_ns();

		rc = lib->mod->init ? lib->mod->init() : 0;
		/* Rounded up: a cold start always shows, however quick its init. */
		*init_us = (faas__now_ns() - t0 + 999u) / 1000u;
		*cold = true;
		if (rc == 0)
			atomic_store_explicit(&lib->warm, true, memory_order_release);
	}
	pthread_mutex_unlock(&lib->init_mu);
	return rc;
}

void faas__lib_cool_down(faas__lib *lib)
{
	pthread_mutex_lock(&lib->init_mu);
	if (atomic_load(&lib->warm) && atomic_load(&lib->running) == 0) {
		if (lib->mod->fini)
			lib->mod->fini();
		atomic_store(&lib->warm, false);
	}
	pthread_mutex_unlock(&lib->init_mu);
}

/* ---- idle reaping ---- */

static bool lib_idle_expired(const faas__lib *lib, uint64_t now, uint64_t *due_ns)
{
	uint64_t due;

	if (lib->keep_warm_ms == 0 || !atomic_load(&lib->warm) ||
	    atomic_load(&lib->running) != 0)
		return false;
	due = lib->last_used_ns + (uint64_t)lib->keep_warm_ms * 1000000u;
	if (now >= due)
		return true;
	if (*due_ns == 0 || due < *due_ns)
		*due_ns = due;
	return false;
}

static void reap(uv_timer_t *timer)
{
	faas_runtime *rt = timer->data;
	uint64_t now = faas__now_ns(), next_due = 0;

	for (faas__lib *lib = rt->libs; lib; lib = lib->next)
		if (lib_idle_expired(lib, now, &next_due))
			faas__lib_cool_down(lib);
	if (next_due)
		uv_timer_start(&rt->reaper, reap, (next_due - now) / 1000000u + 1, 0);
}

void faas__reaper_schedule(faas_runtime *rt, faas__lib *lib)
{
	uint64_t delay = (uint64_t)lib->keep_warm_ms + 1;

	if (lib->keep_warm_ms == 0 || rt->freeing)
		return;
	/* One timer serves every module: keep it at the earliest expiry. */
	if (uv_is_active((uv_handle_t *)&rt->reaper) &&
	    uv_timer_get_due_in(&rt->reaper) <= delay)
		return;
	rt->reaper.data = rt;
	uv_timer_start(&rt->reaper, reap, delay, 0);
}

bool faas__lib_expire_if_idle(faas__lib *lib)
{
	uint64_t ignored = 0;

	if (lib->keep_warm_ms == 0 || !lib_idle_expired(lib, faas__now_ns(), &ignored))
		return false;
	faas__lib_cool_down(lib);
	return true;
}

void faas__reaper_init(faas_runtime *rt)
{
	uv_timer_init(rt->loop, &rt->reaper);
	rt->reaper.data = rt;
	/* An idle runtime must not keep the host's loop alive for it. */
	uv_unref((uv_handle_t *)&rt->reaper);
	faas__handles_add(rt, 1);
}

void faas__reaper_close(faas_runtime *rt)
{
	faas__handle_close((uv_handle_t *)&rt->reaper);
}
