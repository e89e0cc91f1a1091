/* Manifests: one walk over the JSON serves both checking (no runtime) and
 * applying (with a runtime), so the two can never disagree about what a key
 * means. Applying records what it registered and undoes it on failure. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "faas/manifest.h"
#include "gateway.h"
#include "hooks.h"
#include "manifest_read.h"
#include "options.h"

struct faas_manifest {
	cJSON *root;
	char *base_dir;
	bool store_set;   /* it has a "store" */
	char *store_path; /* its SQLite file, resolved; NULL for "memory" */
};

static const char *const top_keys[] = {"runtime", "defaults", "pricing", "functions",
				       "triggers", "rules", "store", NULL};
static const char *const store_keys[] = {"sqlite", NULL};
static const char *const runtime_keys[] = {"threads", "max_concurrency", "max_stuck_threads",
					   "activation_capacity", "log_limit_bytes",
					   "drain_timeout_ms", "log", "max_stuck_per_function",
					   NULL};
static const char *const defaults_keys[] = {"timeout_ms", "memory_mb", NULL};
static const char *const pricing_keys[] = {"gb_second_usd", "request_usd", "granularity_ms",
					   NULL};
static const char *const fn_keys[] = {"library", "symbol", "version", "timeout_ms",
				      "memory_mb", "max_concurrency", "isolation",
				      "payload_limit", "result_limit", "prewarm",
				      "keep_warm_ms", "state_namespace", "budget_usd",
				      "enabled", "process_min_workers", "process_max_workers",
				      "process_prewarm", "process_idle_ms", "process_seccomp",
				      "process_queue", "process_max_processes",
				      NULL};
static const char *const timer_keys[] = {"type", "interval_ms", "once_after_ms", "cron",
					 "local_time", "allow_overlap", "detail", NULL};
static const char *const file_keys[] = {"type", "path", "recursive", "events", "glob",
					"debounce_ms", "batch_max", "queue_max", "create", NULL};
static const char *const http_keys[] = {"type", "host", "port", "max_header_bytes",
					"max_connections", "header_timeout_ms",
					"body_timeout_ms", "idle_timeout_ms", "management_api",
					"bearer_token", NULL};
static const char *const rule_keys[] = {"trigger", "function", "route", "enabled", NULL};

/* Bounds for manifest values that have no tighter library bound. */
#define FAAS__MANIFEST_MAX_BYTES_OPTION ((uint64_t)1 << 32)
#define FAAS__MANIFEST_MAX_MS ((uint64_t)365 * 24 * 3600 * 1000)
#define FAAS__MANIFEST_MAX_COUNT FAAS__OPTION_MAX_COUNT
#define FAAS__MANIFEST_MAX_STRING 4096u

/* What one walk did, so that a failed apply can undo it. */
typedef struct walk {
	faas__jread r;
	faas_runtime *rt; /* NULL: check only */
	const faas_manifest *m;
	char **fns;
	size_t nfns;
	faas_trigger **triggers;
	size_t ntriggers;
	faas_rule **rules;
	size_t nrules;
} walk;

/* ---- paths ---- */

/* Resolve a relative path against the manifest's folder into out[PATH_MAX]. */
static int resolve(walk *w, const char *jpath, const char *rel, char *out)
{
	int n = rel[0] == '/' ? snprintf(out, PATH_MAX, "%s", rel)
			      : snprintf(out, PATH_MAX, "%s/%s", w->m->base_dir, rel);

	if (n < 0 || n >= PATH_MAX)
		return faas__jread_fail(&w->r, jpath, "path too long");
	return 0;
}

static int remember(void ***list, size_t *n, void *item)
{
	void **grown = realloc(*list, (*n + 1) * sizeof(**list));

	if (!grown)
		return FAAS_ENOMEM;
	grown[(*n)++] = item;
	*list = grown;
	return 0;
}

/* A failure of the runtime itself, reported with the JSON path in front. */
static int runtime_fail(walk *w, const char *jpath, int rc)
{
	char why[FAAS__ERRMSG_SIZE];

	/* The walk writes its message into the runtime's own buffer: copy the
	 * runtime's message out first. */
	snprintf(why, sizeof(why), "%s", faas_runtime_last_error(w->rt));
	faas__jread_fail(&w->r, jpath, "%s", why);
	w->r.rc = rc;
	return rc;
}

/* ---- functions ---- */

static int read_isolation(walk *w, const cJSON *spec, const char *path, faas_isolation *out)
{
	const char *iso = NULL;
	char buf[FAAS__JSON_PATH_MAX];

	if (faas__jread_string(&w->r, spec, path, "isolation", 16, &iso) != 0 || !iso)
		return w->r.rc;
	if (strcmp(iso, "thread") == 0)
		*out = FAAS_ISOLATION_THREAD;
	else if (strcmp(iso, "inline") == 0)
		*out = FAAS_ISOLATION_INLINE;
	else if (strcmp(iso, "process") == 0)
		*out = FAAS_ISOLATION_PROCESS;
	else
		return faas__jread_fail(&w->r, faas__jpath(buf, path, "isolation"),
					"expected \"thread\" or \"inline\" or \"process\", got \"%s\"",
					iso);
	return 0;
}

static int read_seccomp(walk *w, const cJSON *spec, const char *path, faas_seccomp *out)
{
	const char *v = NULL;
	char buf[FAAS__JSON_PATH_MAX];

	if (faas__jread_string(&w->r, spec, path, "process_seccomp", 16, &v) != 0 || !v)
		return w->r.rc;
	if (strcmp(v, "off") == 0)
		*out = FAAS_SECCOMP_OFF;
	else if (strcmp(v, "error") == 0)
		*out = FAAS_SECCOMP_ERROR;
	else if (strcmp(v, "kill") == 0)
		*out = FAAS_SECCOMP_KILL;
	else
		return faas__jread_fail(&w->r, faas__jpath(buf, path, "process_seccomp"),
					"expected \"off\", \"error\" or \"kill\", got \"%s\"", v);
	return 0;
}

static int walk_function(walk *w, const char *name, const cJSON *spec, const cJSON *defaults)
{
	faas__jread *r = &w->r;
	faas_fn_options o = FAAS_FN_OPTIONS_INIT;
	char path[FAAS__JSON_PATH_MAX], buf[FAAS__JSON_PATH_MAX], lib[PATH_MAX];
	uint64_t timeout = 0, memory = 0, conc = 0, payload = 0, result = 0, keep = 0;
	uint64_t pmin = 0, pmax = 0, pwarm = 0, pidle = 0, pqueue = 0, pprocs = 0;
	const char *library = NULL;
	double budget = 0;
	bool enabled = true;
	int rc;
	char *copy;

	faas__jpath(path, "functions", name);
	if (!cJSON_IsObject(spec))
		return faas__jread_fail(r, path, "expected an object");
	faas__jread_keys(r, spec, path, fn_keys);
	faas__jread_uint(r, defaults, "defaults", "timeout_ms", FAAS_MIN_TIMEOUT_MS,
			 FAAS_MAX_TIMEOUT_MS, &timeout);
	faas__jread_uint(r, defaults, "defaults", "memory_mb", FAAS_MIN_MEMORY_MB,
			 FAAS_MAX_MEMORY_MB, &memory);
	faas__jread_string(r, spec, path, "library", PATH_MAX, &library);
	faas__jread_string(r, spec, path, "symbol", FAAS__NAME_MAX * 2, &o.symbol);
	faas__jread_string(r, spec, path, "version", FAAS__NAME_MAX, &o.fn_version);
	faas__jread_uint(r, spec, path, "timeout_ms", FAAS_MIN_TIMEOUT_MS, FAAS_MAX_TIMEOUT_MS,
			 &timeout);
	faas__jread_uint(r, spec, path, "memory_mb", FAAS_MIN_MEMORY_MB, FAAS_MAX_MEMORY_MB,
			 &memory);
	faas__jread_uint(r, spec, path, "max_concurrency", 0, FAAS__MANIFEST_MAX_COUNT, &conc);
	read_isolation(w, spec, path, &o.isolation);
	faas__jread_uint(r, spec, path, "payload_limit", 1, FAAS__MANIFEST_MAX_BYTES_OPTION,
			 &payload);
	faas__jread_uint(r, spec, path, "result_limit", 1, FAAS__MANIFEST_MAX_BYTES_OPTION,
			 &result);
	faas__jread_bool(r, spec, path, "prewarm", &o.prewarm);
	faas__jread_uint(r, spec, path, "keep_warm_ms", 0, FAAS__MANIFEST_MAX_MS, &keep);
	faas__jread_string(r, spec, path, "state_namespace", FAAS__NAME_MAX, &o.state_namespace);
	faas__jread_uint(r, spec, path, "process_min_workers", 0, FAAS_MAX_PROCESS_WORKERS, &pmin);
	faas__jread_uint(r, spec, path, "process_max_workers", 0, FAAS_MAX_PROCESS_WORKERS, &pmax);
	faas__jread_uint(r, spec, path, "process_prewarm", 0, FAAS_MAX_PROCESS_WORKERS, &pwarm);
	faas__jread_uint(r, spec, path, "process_idle_ms", 0, UINT32_MAX, &pidle);
	faas__jread_uint(r, spec, path, "process_queue", 0, FAAS_MAX_PROCESS_QUEUE, &pqueue);
	faas__jread_uint(r, spec, path, "process_max_processes", 0, FAAS_MAX_PROCESS_MAX_PROCESSES,
			 &pprocs);
	read_seccomp(w, spec, path, &o.process_seccomp);
	faas__jread_double(r, spec, path, "budget_usd", 0, 1e12, &budget);
	/* Checked here, applied by finish_function() once nothing can fail. */
	faas__jread_bool(r, spec, path, "enabled", &enabled);
	if (r->rc)
		return r->rc;
	if (!library)
		return faas__jread_fail(r, faas__jpath(buf, path, "library"),
					"required: the handler's shared object");
	if (resolve(w, faas__jpath(buf, path, "library"), library, lib) != 0)
		return r->rc;
	if (!w->rt)
		return 0;

	o.library = lib;
	o.timeout_ms = (uint32_t)timeout;
	o.memory_mb = (uint32_t)memory;
	o.max_concurrency = (unsigned int)conc;
	o.payload_limit = (size_t)payload;
	o.result_limit = (size_t)result;
	o.keep_warm_ms = (uint32_t)keep;
	o.process_min_workers = (unsigned int)pmin;
	o.process_max_workers = (unsigned int)pmax;
	o.process_prewarm = (unsigned int)pwarm;
	o.process_idle_ms = (uint32_t)pidle;
	o.process_queue = (unsigned int)pqueue;
	o.process_max_processes = (unsigned int)pprocs;
	rc = faas_fn_register(NULL, w->rt, name, &o);
	if (rc != 0)
		return runtime_fail(w, path, rc);
	copy = faas__strdup(name);
	if (!copy || remember((void ***)&w->fns, &w->nfns, copy) != 0) {
		free(copy);
		faas_fn_unregister(w->rt, name);
		return faas__jread_fail(r, path, "out of memory");
	}
	return 0;
}

/* Budgets and the enabled flag go last, once nothing can fail any more. */
static void finish_function(walk *w, const char *name, const cJSON *spec)
{
	const cJSON *budget = cJSON_GetObjectItemCaseSensitive(spec, "budget_usd");
	const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(spec, "enabled");

	if (budget)
		faas_billing_budget_set(w->rt, name, budget->valuedouble);
	if (enabled && cJSON_IsFalse(enabled))
		faas_fn_set_enabled(faas_fn_lookup(w->rt, name), false);
}

/* ---- triggers ---- */

/* After a trigger constructor: report its failure, or remember it for undo. */
static int keep_trigger(walk *w, const char *path, int rc, faas_trigger *t)
{
	if (rc != 0)
		return runtime_fail(w, path, rc);
	if (remember((void ***)&w->triggers, &w->ntriggers, t) != 0) {
		faas_trigger_free(t);
		return faas__jread_fail(&w->r, path, "out of memory");
	}
	return 0;
}

static int walk_timer(walk *w, const char *name, const cJSON *spec, const char *path)
{
	faas__jread *r = &w->r;
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
	uint64_t interval = 0, once = 0;
	const cJSON *detail = NULL;
	char buf[FAAS__JSON_PATH_MAX];
	char *detail_text = NULL;
	faas_trigger *t;
	int kinds, rc;

	faas__jread_keys(r, spec, path, timer_keys);
	faas__jread_uint(r, spec, path, "interval_ms", 1, FAAS__MANIFEST_MAX_MS, &interval);
	faas__jread_uint(r, spec, path, "once_after_ms", 1, FAAS__MANIFEST_MAX_MS, &once);
	faas__jread_string(r, spec, path, "cron", FAAS__MANIFEST_MAX_STRING, &o.cron);
	faas__jread_bool(r, spec, path, "local_time", &o.local_time);
	faas__jread_bool(r, spec, path, "allow_overlap", &o.allow_overlap);
	faas__jread_object(r, spec, path, "detail", &detail);
	if (r->rc)
		return r->rc;
	kinds = (interval != 0) + (once != 0) + (o.cron != NULL);
	if (kinds != 1)
		return faas__jread_fail(r, path,
					"expected exactly one of interval_ms, once_after_ms, cron");
	o.kind = o.cron ? FAAS_TIMER_CRON : once ? FAAS_TIMER_ONESHOT : FAAS_TIMER_INTERVAL;
	o.interval_ms = once ? once : interval;
	if (!w->rt)
		return 0;
	if (detail && !(detail_text = cJSON_PrintUnformatted(detail)))
		return faas__jread_fail(r, faas__jpath(buf, path, "detail"), "out of memory");
	o.detail = detail_text;
	rc = faas_trigger_timer_new(&t, w->rt, name, &o);
	cJSON_free(detail_text);
	return keep_trigger(w, path, rc, t);
}

static int read_file_events(walk *w, const cJSON *spec, const char *path, unsigned int *mask)
{
	static const char *const names[] = {"created", "modified", "deleted", "renamed"};
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(spec, "events");
	const cJSON *e;
	char buf[FAAS__JSON_PATH_MAX];

	if (!events)
		return 0;
	faas__jpath(buf, path, "events");
	if (!cJSON_IsArray(events) || cJSON_GetArraySize(events) == 0)
		return faas__jread_fail(&w->r, buf,
					"expected a non-empty array of \"created\", \"modified\", "
					"\"deleted\", \"renamed\"");
	cJSON_ArrayForEach(e, events) {
		unsigned int i = 0;

		while (i < 4 && !(cJSON_IsString(e) && strcmp(e->valuestring, names[i]) == 0))
			i++;
		if (i == 4)
			return faas__jread_fail(&w->r, buf,
						"expected \"created\", \"modified\", \"deleted\" "
						"or \"renamed\"");
		*mask |= 1u << i;
	}
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static int walk_file(walk *w, const char *name, const cJSON *spec, const char *path)
{
	faas__jread *r = &w->r;
	faas_file_options o = FAAS_FILE_OPTIONS_INIT;
	uint64_t debounce = o.debounce_ms, batch = o.batch_max, queue = o.queue_max;
	const char *rel = NULL;
	char buf[FAAS__JSON_PATH_MAX], dir[PATH_MAX];
	bool create = false;
	faas_trigger *t;
	int rc;

	faas__jread_keys(r, spec, path, file_keys);
	faas__jread_string(r, spec, path, "path", PATH_MAX, &rel);
	faas__jread_bool(r, spec, path, "recursive", &o.recursive);
	read_file_events(w, spec, path, &o.events);
	faas__jread_string(r, spec, path, "glob", FAAS__MANIFEST_MAX_STRING, &o.glob);
	faas__jread_uint(r, spec, path, "debounce_ms", 0, 60000, &debounce);
	faas__jread_uint(r, spec, path, "batch_max", 1, 10000, &batch);
	faas__jread_uint(r, spec, path, "queue_max", 1, 1000000, &queue);
	faas__jread_bool(r, spec, path, "create", &create);
	if (r->rc)
		return r->rc;
	if (!rel)
		return faas__jread_fail(r, faas__jpath(buf, path, "path"),
					"required: the directory or file to watch");
	if (resolve(w, faas__jpath(buf, path, "path"), rel, dir) != 0 || !w->rt)
		return r->rc;
	if (create && mkdir_p(dir) != 0)
		return faas__jread_fail(r, faas__jpath(buf, path, "path"), "cannot create %s: %s",
					dir, strerror(errno));
	o.path = dir;
	o.debounce_ms = (uint32_t)debounce;
	o.batch_max = (unsigned int)batch;
	o.queue_max = (unsigned int)queue;
	rc = faas_trigger_file_new(&t, w->rt, name, &o);
	return keep_trigger(w, path, rc, t);
}

static int walk_http(walk *w, const char *name, const cJSON *spec, const char *path)
{
	faas__jread *r = &w->r;
	faas_http_options o = FAAS_HTTP_OPTIONS_INIT;
	uint64_t port = 0, hdr = o.max_header_bytes, conns = o.max_connections;
	uint64_t hto = o.header_timeout_ms, bto = o.body_timeout_ms, ito = o.idle_timeout_ms;
	faas_trigger *t;
	int rc;

	faas__jread_keys(r, spec, path, http_keys);
	faas__jread_string(r, spec, path, "host", 255, &o.host);
	faas__jread_uint(r, spec, path, "port", 0, 65535, &port);
	faas__jread_uint(r, spec, path, "max_header_bytes", 256, 1024 * 1024, &hdr);
	faas__jread_uint(r, spec, path, "max_connections", 1, 1000000, &conns);
	faas__jread_uint(r, spec, path, "header_timeout_ms", 1, FAAS__MANIFEST_MAX_MS, &hto);
	faas__jread_uint(r, spec, path, "body_timeout_ms", 1, FAAS__MANIFEST_MAX_MS, &bto);
	faas__jread_uint(r, spec, path, "idle_timeout_ms", 1, FAAS__MANIFEST_MAX_MS, &ito);
	faas__jread_bool(r, spec, path, "management_api", &o.management_api);
	faas__jread_string(r, spec, path, "bearer_token", FAAS__MANIFEST_MAX_STRING,
			   &o.bearer_token);
	if (r->rc || !w->rt)
		return r->rc;
	o.port = (uint16_t)port;
	o.max_header_bytes = (size_t)hdr;
	o.max_connections = (unsigned int)conns;
	o.header_timeout_ms = (uint32_t)hto;
	o.body_timeout_ms = (uint32_t)bto;
	o.idle_timeout_ms = (uint32_t)ito;
	rc = faas_trigger_http_new(&t, w->rt, name, &o);
	return keep_trigger(w, path, rc, t);
}

static int walk_trigger(walk *w, const char *name, const cJSON *spec)
{
	char path[FAAS__JSON_PATH_MAX], buf[FAAS__JSON_PATH_MAX];
	const char *type = NULL;

	faas__jpath(path, "triggers", name);
	if (!cJSON_IsObject(spec))
		return faas__jread_fail(&w->r, path, "expected an object");
	if (faas__jread_string(&w->r, spec, path, "type", 16, &type) != 0)
		return w->r.rc;
	if (!type)
		return faas__jread_fail(&w->r, faas__jpath(buf, path, "type"),
					"required: \"timer\", \"file\" or \"http\"");
	if (strcmp(type, "timer") == 0)
		return walk_timer(w, name, spec, path);
	if (strcmp(type, "file") == 0)
		return walk_file(w, name, spec, path);
	if (strcmp(type, "http") == 0)
		return walk_http(w, name, spec, path);
	return faas__jread_fail(&w->r, faas__jpath(buf, path, "type"),
				"expected \"timer\", \"file\" or \"http\", got \"%s\"", type);
}

/* ---- rules ---- */

static bool manifest_has(const cJSON *root, const char *section, const char *name)
{
	return cJSON_HasObjectItem(cJSON_GetObjectItemCaseSensitive(root, section), name);
}

static int walk_rule(walk *w, int index, const cJSON *spec)
{
	faas__jread *r = &w->r;
	char path[FAAS__JSON_PATH_MAX], buf[FAAS__JSON_PATH_MAX];
	const char *trigger = NULL, *function = NULL, *route = NULL;
	bool enabled = true;
	faas_trigger *t;
	faas_rule *rule;
	int rc;

	snprintf(path, sizeof(path), "rules[%d]", index);
	if (!cJSON_IsObject(spec))
		return faas__jread_fail(r, path, "expected an object");
	faas__jread_keys(r, spec, path, rule_keys);
	faas__jread_string(r, spec, path, "trigger", FAAS__NAME_MAX, &trigger);
	faas__jread_string(r, spec, path, "function", FAAS__NAME_MAX, &function);
	faas__jread_string(r, spec, path, "route", FAAS__MANIFEST_MAX_STRING, &route);
	faas__jread_bool(r, spec, path, "enabled", &enabled);
	if (r->rc)
		return r->rc;
	if (!trigger || !function)
		return faas__jread_fail(r, faas__jpath(buf, path, trigger ? "function" : "trigger"),
					"required");
	/* Without a runtime only the manifest itself can be checked; names it
	 * does not define may still exist in the runtime it is applied to. */
	if (!w->rt)
		return 0;
	t = faas_trigger_lookup(w->rt, trigger);
	if (!t)
		return faas__jread_fail(r, faas__jpath(buf, path, "trigger"),
					"no trigger \"%s\" in the manifest or the runtime",
					trigger);
	if (!manifest_has(w->m->root, "functions", function) && !faas_fn_lookup(w->rt, function))
		return faas__jread_fail(r, faas__jpath(buf, path, "function"),
					"no function \"%s\" in the manifest or the runtime",
					function);
	rc = faas_rule_new(&rule, t, route, function);
	if (rc != 0)
		return runtime_fail(w, path, rc);
	faas_rule_set_enabled(rule, enabled);
	if (remember((void ***)&w->rules, &w->nrules, rule) != 0) {
		faas_rule_free(rule);
		return faas__jread_fail(r, path, "out of memory");
	}
	return 0;
}

/* The numeric options of one section, with the runtime's own ranges; an
 * option without a bound is capped at a count. */
static void read_ranges(faas__jread *r, const cJSON *obj, const char *section,
			faas_runtime_options *opts)
{
	for (size_t i = 0; i < faas__option_nranges; i++) {
		const faas__option_range *o = &faas__option_ranges[i];
		uint64_t max = o->max == FAAS__OPTION_NO_MAX ? FAAS__OPTION_MAX_COUNT : o->max;
		uint64_t v = faas__option_get(opts, o);

		if (strcmp(o->section, section) == 0 &&
		    faas__jread_uint(r, obj, section, o->key, o->min, max, &v) == 0)
			faas__option_set(opts, o, v);
	}
}

/* The "runtime", "defaults" and "pricing" sections onto opts; also how the
 * walk checks them, on a scratch copy. */
static int read_runtime_options(faas__jread *jr, const cJSON *root, faas_runtime_options *opts)
{
	faas__jread r = *jr;
	const cJSON *rtj, *pricing, *defaults;
	const char *log = NULL;

	rtj = cJSON_GetObjectItemCaseSensitive(root, "runtime");
	pricing = cJSON_GetObjectItemCaseSensitive(root, "pricing");
	defaults = cJSON_GetObjectItemCaseSensitive(root, "defaults");
	read_ranges(&r, rtj, "runtime", opts);
	read_ranges(&r, defaults, "defaults", opts);
	read_ranges(&r, pricing, "pricing", opts);
	faas__jread_double(&r, pricing, "pricing", "gb_second_usd", 0, 1e6,
			   &opts->pricing.gb_second_usd);
	faas__jread_double(&r, pricing, "pricing", "request_usd", 0, 1e6,
			   &opts->pricing.request_usd);
	faas__jread_string(&r, rtj, "runtime", "log", 16, &log);
	if (log && strcmp(log, "stderr") == 0)
		opts->log_sink = faas_log_sink_stderr();
	else if (log && strcmp(log, "none") == 0)
		opts->log_sink = NULL;
	else if (log)
		faas__jread_fail(&r, "runtime.log", "expected \"stderr\" or \"none\"");
	jr->rc = r.rc;
	return r.rc;
}

int faas_manifest_runtime_options(const faas_manifest *m, faas_runtime_options *opts)
{
	faas__jread r = {NULL, 0, 0};

	if (!m || !opts)
		return FAAS_EINVAL;
	if (read_runtime_options(&r, m->root, opts) != 0)
		return r.rc;
	if (m->store_set)
		opts->store_path = m->store_path;
	return 0;
}

int faas_manifest_store(const faas_manifest *m, const char **path)
{
	if (path)
		*path = NULL;
	if (!m || !path)
		return FAAS_EINVAL;
	if (!m->store_set)
		return FAAS_ENOTFOUND;
	*path = m->store_path;
	return 0;
}

/* "store": "memory", or {"sqlite": PATH} relative to the manifest's folder. */
static int read_store(walk *w, faas_manifest *m)
{
	const cJSON *store = cJSON_GetObjectItemCaseSensitive(m->root, "store");
	const char *path = NULL;
	char resolved[PATH_MAX];

	if (!store)
		return 0;
	m->store_set = true;
	if (cJSON_IsString(store) && strcmp(store->valuestring, "memory") == 0)
		return 0;
	if (!cJSON_IsObject(store))
		return faas__jread_fail(&w->r, "store", "expected \"memory\" or {\"sqlite\": FILE}");
	if (faas__jread_keys(&w->r, store, "store", store_keys) != 0 ||
	    faas__jread_string(&w->r, store, "store", "sqlite", FAAS__MANIFEST_MAX_STRING, &path) !=
	        0)
		return w->r.rc;
	if (!path)
		return faas__jread_fail(&w->r, "store.sqlite", "expected a file name");
	if (resolve(w, "store.sqlite", path, resolved) != 0)
		return w->r.rc;
	if (!(m->store_path = faas__strdup(resolved)))
		return faas__jread_fail(&w->r, "store.sqlite", "out of memory");
	return 0;
}


/* ---- the walk ---- */

static int walk_section(walk *w, const char *section, const char *const *keys)
{
	const cJSON *obj = NULL;

	if (faas__jread_object(&w->r, w->m->root, "", section, &obj) != 0 || !obj)
		return w->r.rc;
	return faas__jread_keys(&w->r, obj, section, keys);
}

static int walk_all(walk *w)
{
	const cJSON *root = w->m->root, *item, *defaults = NULL, *section = NULL;
	int i = 0;

	if (!cJSON_IsObject(root))
		return faas__jread_fail(&w->r, "(top)", "expected an object");
	if (faas__jread_keys(&w->r, root, "", top_keys) != 0 ||
	    walk_section(w, "runtime", runtime_keys) != 0 ||
	    walk_section(w, "defaults", defaults_keys) != 0 ||
	    walk_section(w, "pricing", pricing_keys) != 0 ||
	    faas__jread_object(&w->r, root, "", "defaults", &defaults) != 0)
		return w->r.rc;
	if (read_runtime_options(&w->r, root, &(faas_runtime_options)FAAS_RUNTIME_OPTIONS_INIT) != 0 ||
	    faas__jread_object(&w->r, root, "", "functions", &section) != 0)
		return w->r.rc;
	cJSON_ArrayForEach(item, section)
		if (walk_function(w, item->string, item, defaults) != 0)
			return w->r.rc;
	if (faas__jread_object(&w->r, root, "", "triggers", &section) != 0)
		return w->r.rc;
	cJSON_ArrayForEach(item, section)
		if (walk_trigger(w, item->string, item) != 0)
			return w->r.rc;
	section = cJSON_GetObjectItemCaseSensitive(root, "rules");
	if (section && !cJSON_IsArray(section))
		return faas__jread_fail(&w->r, "rules", "expected an array");
	cJSON_ArrayForEach(item, section)
		if (walk_rule(w, i++, item) != 0)
			return w->r.rc;
	return 0;
}

static void walk_undo(walk *w)
{
	for (size_t i = w->nrules; i-- > 0;)
		faas_rule_free(w->rules[i]);
	for (size_t i = w->ntriggers; i-- > 0;)
		faas_trigger_free(w->triggers[i]);
	for (size_t i = w->nfns; i-- > 0;)
		faas_fn_unregister(w->rt, w->fns[i]);
}

static void walk_free(walk *w)
{
	for (size_t i = 0; i < w->nfns; i++)
		free(w->fns[i]);
	free(w->fns);
	free(w->triggers);
	free(w->rules);
}

/* ---- public ---- */

int faas_manifest_parse(faas_manifest **out, const char *json, size_t len, const char *base_dir,
			char *err, size_t errlen)
{
	walk w = {{err, errlen, 0}, NULL, NULL, NULL, 0, NULL, 0, NULL, 0};
	faas_manifest *m;
	const char *end = NULL;

	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return FAAS_EINVAL;
	*out = NULL;
	if (!json)
		return faas__jread_fail(&w.r, "(manifest)", "no text");
	if (len > FAAS_MANIFEST_MAX_BYTES) {
		faas__jread_fail(&w.r, "(manifest)", "larger than %u bytes",
				 FAAS_MANIFEST_MAX_BYTES);
		return FAAS_ETOOBIG;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return FAAS_ENOMEM;
	m->base_dir = faas__strdup(base_dir ? base_dir : ".");
	m->root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!m->base_dir || !m->root) {
		if (m->base_dir && !m->root) {
			size_t line = 1;

			for (const char *p = json; end && p < end; p++)
				line += *p == '\n';
			faas__jread_fail(&w.r, "(manifest)", "invalid JSON near line %zu", line);
		}
		faas_manifest_free(m);
		return w.r.rc ? w.r.rc : FAAS_ENOMEM;
	}
	w.m = m;
	if (walk_all(&w) != 0 || read_store(&w, m) != 0) {
		faas_manifest_free(m);
		return w.r.rc;
	}
	*out = m;
	return 0;
}

int faas_manifest_load(faas_manifest **out, const char *path, char *err, size_t errlen)
{
	faas__jread r = {err, errlen, 0};
	char dir[PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!out || !path)
		return FAAS_EINVAL;
	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		rc = errno == ENOENT ? FAAS_ENOTFOUND : FAAS_ESYSTEM;
		faas__jread_fail(&r, path, "%s", strerror(errno));
		return rc;
	}
	text = malloc(FAAS_MANIFEST_MAX_BYTES + 1);
	if (text)
		len = fread(text, 1, FAAS_MANIFEST_MAX_BYTES + 1, f);
	rc = !text ? FAAS_ENOMEM : ferror(f) ? FAAS_ESYSTEM : 0;
	fclose(f);
	if (rc == 0 && len > FAAS_MANIFEST_MAX_BYTES) {
		faas__jread_fail(&r, path, "larger than %u bytes", FAAS_MANIFEST_MAX_BYTES);
		rc = FAAS_ETOOBIG;
	} else if (rc == FAAS_ESYSTEM) {
		faas__jread_fail(&r, path, "read error");
	}
	if (rc == 0) {
		const char *slash = strrchr(path, '/');
		size_t dlen = slash ? (size_t)(slash - path) : 1;

		if (!slash)
			memcpy(dir, ".", 2);
		else if (dlen == 0)
			memcpy(dir, "/", 2);
		else if (dlen < sizeof(dir)) {
			memcpy(dir, path, dlen);
			dir[dlen] = '\0';
		} else
			rc = faas__jread_fail(&r, path, "path too long");
	}
	if (rc == 0)
		rc = faas_manifest_parse(out, text, len, dir, err, errlen);
	free(text);
	return rc;
}

int faas_manifest_apply(faas_runtime *rt, const faas_manifest *m)
{
	walk w = {{NULL, 0, 0}, rt, m, NULL, 0, NULL, 0, NULL, 0};
	const cJSON *fns, *item;
	int rc;

	if (!rt || !m)
		return FAAS_EINVAL;
	w.r.err = rt->last_error;
	w.r.errlen = sizeof(rt->last_error);
	rc = walk_all(&w);
	if (rc != 0) {
		/* Undoing overwrites last_error through the calls it makes. */
		char saved[FAAS__ERRMSG_SIZE];

		memcpy(saved, rt->last_error, sizeof(saved));
		walk_undo(&w);
		memcpy(rt->last_error, saved, sizeof(saved));
	} else {
		fns = cJSON_GetObjectItemCaseSensitive(m->root, "functions");
		cJSON_ArrayForEach(item, fns)
			finish_function(&w, item->string, item);
	}
	walk_free(&w);
	return rc;
}

void faas_manifest_free(faas_manifest *m)
{
	if (!m)
		return;
	cJSON_Delete(m->root);
	free(m->base_dir);
	free(m->store_path);
	free(m);
}

int faas_runtime_load_manifest(faas_runtime *rt, const char *path)
{
	faas_manifest *m;
	int rc;

	if (!rt || !path)
		return FAAS_EINVAL;
	rc = faas_manifest_load(&m, path, rt->last_error, sizeof(rt->last_error));
	if (rc != 0)
		return rc;
	rc = faas_manifest_apply(rt, m);
	faas_manifest_free(m);
	return rc;
}
