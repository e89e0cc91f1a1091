/*
 * bench/invoke — what an invocation costs over the least the same work could
 * cost, measured in one run:
 *
 *   invoke_inline_warm_p50/p99  faas_invoke_sync() of an inline hello, against
 *                               a direct call of the dlsym'd handler plus
 *                               cJSON_Delete() of its result plus one libuv
 *                               timer start/stop (the deadline guard);
 *   invoke_thread_warm_p50/p99  the same in thread isolation, against one
 *                               mutex+condvar round trip to another thread;
 *   cold_start_p50              register + first call + unregister, against
 *                               dlopen + two dlsym + module init + dlclose.
 *
 * Usage: invoke [--quick] [--only inline|thread|cold] [path/to/libhello.so]
 *   --quick  a tenth of the samples, for CI smoke runs
 *   --only   one phase, for profiling it alone
 *
 * Each figure and its floor are sampled in alternating rounds so that drift in
 * the machine (frequency, other tenants) falls on both alike.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#include <faas.h>

#include "bench.h"

#ifndef HELLO_SO
#define HELLO_SO "build/examples/handlers/libhello.so"
#endif

#define HELLO_SYMBOL "hello"
#define HELLO_EVENT_NAME "bench"
#define HELLO_EXPECTED "Hello, bench!"

#define FN_INLINE "hello_inline"
#define FN_THREAD "hello_thread"
#define FN_COLD "hello_cold"

/* Sample counts of a full run; --quick divides them all by BENCH_QUICK_DIVISOR. */
#define BENCH_WARM_SAMPLES 20000u
#define BENCH_WARM_WARMUP 2000u
#define BENCH_COLD_SAMPLES 300u
#define BENCH_COLD_WARMUP 20u
#define BENCH_QUICK_DIVISOR 10u
/* Rounds alternate the measured thing and its floor (and which goes first). */
#define BENCH_ROUNDS 5u

/* The floor's timer is started and stopped at once; it never fires. */
#define BENCH_GUARD_TIMEOUT_MS 3000u

#define GOAL_INLINE 2.0
#define GOAL_THREAD 1.5
#define GOAL_COLD 1.2

#define PCT_MEDIAN 50.0
#define PCT_TAIL 99.0
#define PCT_LOW 10.0
#define PCT_HIGH 90.0

typedef void (*bench_op)(void *arg);

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench/invoke: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void die_faas(const char *what, faas_runtime *rt, int rc)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s (%s) %s", faas_err_name(rc), faas_strerror(rc),
		 faas_runtime_last_error(rt));
	die(what, msg);
}

/* ---- the measured operations ---- */

typedef struct invoke_arg {
	faas_runtime *rt;
	const char *function;
	const cJSON *event;
} invoke_arg;

static void check_activation(faas_activation *act)
{
	const cJSON *result;

	if (faas_activation_status(act) != FAAS_STATUS_SUCCESS) {
		fprintf(stderr, "bench/invoke: %s ended %s: %s: %s\n",
			faas_activation_function(act),
			faas_status_name(faas_activation_status(act)),
			faas_activation_error_type(act) ? faas_activation_error_type(act) : "-",
			faas_activation_error_message(act) ? faas_activation_error_message(act)
							   : "-");
		exit(1);
	}
	result = faas_activation_result(act);
	if (!cJSON_IsString(result) || strcmp(result->valuestring, HELLO_EXPECTED) != 0)
		die("unexpected result from hello", NULL);
}

static void op_invoke(void *arg)
{
	invoke_arg *a = arg;
	faas_activation *act = NULL;
	int rc = faas_invoke_sync(&act, a->rt, a->function, a->event);

	if (rc != 0)
		die_faas("faas_invoke_sync", a->rt, rc);
	/* A getter, a few nanoseconds: cheap enough to keep every sample honest. */
	if (faas_activation_status(act) != FAAS_STATUS_SUCCESS)
		check_activation(act);
	faas_activation_free(act);
}

typedef struct direct_arg {
	faas_handler_fn handler;
	const cJSON *event;
	uv_timer_t *guard;
} direct_arg;

static void guard_fired(uv_timer_t *t)
{
	(void)t;
}

/* The inline floor: the handler itself, disposing of its result, and arming
 * and disarming the deadline timer every call needs. faas_log() and the other
 * ctx functions do nothing for a NULL ctx. */
static void op_direct(void *arg)
{
	direct_arg *a = arg;
	cJSON *result = NULL;

	if (a->handler(NULL, a->event, &result) != 0)
		die("direct call of hello failed", NULL);
	cJSON_Delete(result);
	uv_timer_start(a->guard, guard_fired, BENCH_GUARD_TIMEOUT_MS, 0);
	uv_timer_stop(a->guard);
}

/* The thread floor: one request to another thread and its answer, through a
 * mutex and two condition variables. */
typedef struct pingpong {
	pthread_mutex_t mu;
	pthread_cond_t req_cv;
	pthread_cond_t resp_cv;
	uint64_t req;
	uint64_t resp;
	bool quit;
	pthread_t thread;
} pingpong;

static void *pingpong_worker(void *arg)
{
	pingpong *pp = arg;

	pthread_mutex_lock(&pp->mu);
	for (;;) {
		while (pp->req == pp->resp && !pp->quit)
			pthread_cond_wait(&pp->req_cv, &pp->mu);
		if (pp->quit)
			break;
		pp->resp = pp->req;
		/* Signalling after the unlock spares the woken thread from
		 * waking only to block on the mutex still held here. */
		pthread_mutex_unlock(&pp->mu);
		pthread_cond_signal(&pp->resp_cv);
		pthread_mutex_lock(&pp->mu);
	}
	pthread_mutex_unlock(&pp->mu);
	return NULL;
}

static void pingpong_start(pingpong *pp)
{
	memset(pp, 0, sizeof(*pp));
	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->req_cv, NULL);
	pthread_cond_init(&pp->resp_cv, NULL);
	if (pthread_create(&pp->thread, NULL, pingpong_worker, pp) != 0)
		die("pthread_create", NULL);
}

static void pingpong_stop(pingpong *pp)
{
	pthread_mutex_lock(&pp->mu);
	pp->quit = true;
	pthread_cond_signal(&pp->req_cv);
	pthread_mutex_unlock(&pp->mu);
	pthread_join(pp->thread, NULL);
	pthread_cond_destroy(&pp->req_cv);
	pthread_cond_destroy(&pp->resp_cv);
	pthread_mutex_destroy(&pp->mu);
}

static void op_pingpong(void *arg)
{
	pingpong *pp = arg;

	pthread_mutex_lock(&pp->mu);
	pp->req++;
	pthread_mutex_unlock(&pp->mu);
	pthread_cond_signal(&pp->req_cv);
	pthread_mutex_lock(&pp->mu);
	while (pp->resp != pp->req)
		pthread_cond_wait(&pp->resp_cv, &pp->mu);
	pthread_mutex_unlock(&pp->mu);
}

typedef struct cold_arg {
	faas_runtime *rt;
	const char *library;
	const cJSON *event;
	unsigned int not_cold; /* calls that did not run the module's init */
} cold_arg;

static void op_cold(void *arg)
{
	cold_arg *a = arg;
	faas_fn_options opts = FAAS_FN_OPTIONS_INIT;
	faas_activation *act = NULL;
	int rc;

	opts.library = a->library;
	opts.symbol = HELLO_SYMBOL;
	opts.isolation = FAAS_ISOLATION_INLINE;
	rc = faas_fn_register(NULL, a->rt, FN_COLD, &opts);
	if (rc != 0)
		die_faas("faas_fn_register (cold)", a->rt, rc);
	rc = faas_invoke_sync(&act, a->rt, FN_COLD, a->event);
	if (rc != 0)
		die_faas("faas_invoke_sync (cold)", a->rt, rc);
	if (faas_activation_status(act) != FAAS_STATUS_SUCCESS)
		check_activation(act);
	if (!faas_activation_usage(act)->cold)
		a->not_cold++;
	faas_activation_free(act);
	rc = faas_fn_unregister(a->rt, FN_COLD);
	if (rc != 0)
		die_faas("faas_fn_unregister (cold)", a->rt, rc);
}

/* The cold floor: what loading a module needs at the least. */
static void op_dlopen(void *arg)
{
	const char *path = arg;
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const faas_module *mod;

	if (!dl)
		die("dlopen", dlerror());
	if (!dlsym(dl, HELLO_SYMBOL))
		die("dlsym " HELLO_SYMBOL, dlerror());
	mod = dlsym(dl, FAAS_MODULE_SYMBOL);
	if (!mod)
		die("dlsym " FAAS_MODULE_SYMBOL, dlerror());
	if (mod->init && mod->init() != 0)
		die("module init failed", NULL);
	dlclose(dl);
}

/* ---- sampling ---- */

/* One side of a comparison: the measured thing or its floor. */
typedef struct side {
	bench_op op;
	void *arg;
	bench_samples samples;
	/* Voluntary and involuntary context switches of the whole process
	 * while this side was sampled: where thread figures spend their time. */
	uint64_t switches;
} side;

static uint64_t process_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
}

static void run_n(side *s, unsigned int n, bool record)
{
	uint64_t sw0 = process_switches();

	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();

		s->op(s->arg);
		if (record)
			bench_samples_add(&s->samples, bench_now_ns() - t0);
	}
	if (record)
		s->switches += process_switches() - sw0;
}

/* Warm both up, then sample them in BENCH_ROUNDS alternating rounds. */
static void run_pair(side *value, side *floor, unsigned int samples, unsigned int warmup)
{
	unsigned int per_round = samples / BENCH_ROUNDS ? samples / BENCH_ROUNDS : 1;

	bench_samples_init(&value->samples, samples);
	bench_samples_init(&floor->samples, samples);
	value->switches = floor->switches = 0;
	run_n(value, warmup, false);
	run_n(floor, warmup, false);
	for (unsigned int r = 0; r < BENCH_ROUNDS; r++) {
		if (r % 2 == 0) {
			run_n(value, per_round, true);
			run_n(floor, per_round, true);
		} else {
			run_n(floor, per_round, true);
			run_n(value, per_round, true);
		}
	}
}

/* Print the figures of a pair and release its samples. */
static void print_pair(const char *name_p50, const char *name_p99, side *value, side *floor,
		       double goal)
{
	double v50 = bench_percentile_us(&value->samples, PCT_MEDIAN);
	double f50 = bench_percentile_us(&floor->samples, PCT_MEDIAN);

	bench_print_figure(name_p50, v50, f50, "us", goal);
	if (name_p99)
		bench_print_figure(name_p99, bench_percentile_us(&value->samples, PCT_TAIL),
				   bench_percentile_us(&floor->samples, PCT_TAIL), "us", goal);
	/* Thread figures can be bimodal (a wake-up on the same CPU or another):
	 * the spread tells which mode the median fell in. */
	printf("# %s p10 value %.3f floor %.3f p90 value %.3f floor %.3f\n", name_p50,
	       bench_percentile_us(&value->samples, PCT_LOW),
	       bench_percentile_us(&floor->samples, PCT_LOW),
	       bench_percentile_us(&value->samples, PCT_HIGH),
	       bench_percentile_us(&floor->samples, PCT_HIGH));
	printf("# %s context switches per call: value %.2f floor %.2f\n", name_p50,
	       (double)value->switches / (double)value->samples.len,
	       (double)floor->switches / (double)floor->samples.len);
	bench_samples_free(&value->samples);
	bench_samples_free(&floor->samples);
}

/* ---- setup ---- */

static faas_runtime *runtime_new(void)
{
	faas_runtime_options ro = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt = NULL;
	int rc;

	ro.loop = NULL;
	ro.log_sink = NULL;
	rc = faas_runtime_new(&rt, &ro);
	if (rc != 0)
		die_faas("faas_runtime_new", NULL, rc);
	return rt;
}

static void register_hello(faas_runtime *rt, const char *name, const char *library,
			   faas_isolation isolation)
{
	faas_fn_options opts = FAAS_FN_OPTIONS_INIT;
	int rc;

	opts.library = library;
	opts.symbol = HELLO_SYMBOL;
	opts.isolation = isolation;
	rc = faas_fn_register(NULL, rt, name, &opts);
	if (rc != 0)
		die_faas("faas_fn_register", rt, rc);
}

/* Whether the shared object is still mapped in the process. */
static bool still_loaded(const char *path)
{
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);

	if (!dl)
		return false;
	dlclose(dl);
	return true;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--only inline|thread|cold] [path/to/libhello.so]\n",
		argv0);
	exit(2);
}

typedef struct bench_config {
	const char *library;
	const cJSON *event;
	unsigned int warm_n, warm_up, cold_n, cold_up;
} bench_config;

static void first_call(faas_runtime *rt, const char *function, const cJSON *event)
{
	faas_activation *act = NULL;
	int rc = faas_invoke_sync(&act, rt, function, event);

	if (rc != 0)
		die_faas("first call", rt, rc);
	check_activation(act);
	faas_activation_free(act);
}

static void bench_inline(const bench_config *cfg)
{
	faas_runtime *rt = runtime_new();
	invoke_arg inl;
	direct_arg direct;
	uv_loop_t guard_loop;
	uv_timer_t guard;
	side value, floor;
	void *dl;

	register_hello(rt, FN_INLINE, cfg->library, FAAS_ISOLATION_INLINE);
	first_call(rt, FN_INLINE, cfg->event);
	dl = dlopen(cfg->library, RTLD_NOW | RTLD_LOCAL);
	if (!dl)
		die("dlopen", dlerror());
	/* The object-to-function pointer cast dlsym() forces on C code. */
	direct.handler = (faas_handler_fn)(uintptr_t)dlsym(dl, HELLO_SYMBOL);
	if (!direct.handler)
		die("dlsym " HELLO_SYMBOL, dlerror());
	direct.event = cfg->event;
	direct.guard = &guard;
	if (uv_loop_init(&guard_loop) != 0 || uv_timer_init(&guard_loop, &guard) != 0)
		die("uv_loop_init/uv_timer_init", NULL);

	inl = (invoke_arg){rt, FN_INLINE, cfg->event};
	value = (side){.op = op_invoke, .arg = &inl};
	floor = (side){.op = op_direct, .arg = &direct};
	run_pair(&value, &floor, cfg->warm_n, cfg->warm_up);
	print_pair("invoke_inline_warm_p50", "invoke_inline_warm_p99", &value, &floor,
		   GOAL_INLINE);

	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(&guard_loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&guard_loop) != 0)
		die("uv_loop_close of the guard loop", NULL);
	dlclose(dl);
	faas_runtime_free(rt);
}

static void bench_thread(const bench_config *cfg)
{
	faas_runtime *rt = runtime_new();
	invoke_arg thr;
	pingpong pp;
	side value, floor;

	register_hello(rt, FN_THREAD, cfg->library, FAAS_ISOLATION_THREAD);
	first_call(rt, FN_THREAD, cfg->event);
	pingpong_start(&pp);
	thr = (invoke_arg){rt, FN_THREAD, cfg->event};
	value = (side){.op = op_invoke, .arg = &thr};
	floor = (side){.op = op_pingpong, .arg = &pp};
	run_pair(&value, &floor, cfg->warm_n, cfg->warm_up);
	pingpong_stop(&pp);
	print_pair("invoke_thread_warm_p50", "invoke_thread_warm_p99", &value, &floor,
		   GOAL_THREAD);
	faas_runtime_free(rt);
}

static void bench_cold(const bench_config *cfg)
{
	faas_runtime *rt;
	cold_arg cold;
	side value, floor;

	/* Nothing else may hold the module, or every "cold" dlopen would only
	 * bump a reference count. */
	if (still_loaded(cfg->library))
		printf("# warning: %s is loaded before the cold phase\n", cfg->library);
	rt = runtime_new();
	cold = (cold_arg){rt, cfg->library, cfg->event, 0};
	op_cold(&cold);
	if (still_loaded(cfg->library))
		printf("# warning: %s still loaded after faas_fn_unregister: "
		       "cold starts reuse the mapping\n",
		       cfg->library);
	cold.not_cold = 0;
	value = (side){.op = op_cold, .arg = &cold};
	floor = (side){.op = op_dlopen, .arg = (void *)cfg->library};
	run_pair(&value, &floor, cfg->cold_n, cfg->cold_up);
	if (cold.not_cold)
		printf("# warning: %u of %u cold calls did not run the module init\n",
		       cold.not_cold, cfg->cold_up + cfg->cold_n);
	print_pair("cold_start_p50", NULL, &value, &floor, GOAL_COLD);
	faas_runtime_free(rt);
}

int main(int argc, char **argv)
{
	bench_config cfg = {HELLO_SO, NULL, 0, 0, 0, 0};
	const char *only = NULL;
	unsigned int div = 1;
	cJSON *event;
	int quick = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (argv[i][0] == '-')
			usage(argv[0]);
		else
			cfg.library = argv[i];
	}
	if (only && strcmp(only, "inline") != 0 && strcmp(only, "thread") != 0 &&
	    strcmp(only, "cold") != 0)
		usage(argv[0]);
	if (quick)
		div = BENCH_QUICK_DIVISOR;
	cfg.warm_n = BENCH_WARM_SAMPLES / div;
	cfg.warm_up = BENCH_WARM_WARMUP / div;
	cfg.cold_n = BENCH_COLD_SAMPLES / div;
	cfg.cold_up = BENCH_COLD_WARMUP / div;

	bench_print_header("bench/invoke", quick);
	printf("# library %s warm %u cold %u rounds %u\n", cfg.library, cfg.warm_n, cfg.cold_n,
	       BENCH_ROUNDS);

	event = cJSON_CreateObject();
	if (!event || !cJSON_AddStringToObject(event, "name", HELLO_EVENT_NAME))
		die("cannot build the event", NULL);
	cfg.event = event;

	/* Each phase has its own runtime and frees it, so the cold phase finds
	 * the module unloaded. */
	if (!only || strcmp(only, "inline") == 0)
		bench_inline(&cfg);
	if (!only || strcmp(only, "thread") == 0)
		bench_thread(&cfg);
	if (!only || strcmp(only, "cold") == 0)
		bench_cold(&cfg);
	cJSON_Delete(event);
	return 0;
}
