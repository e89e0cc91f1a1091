/*
 * Shared helpers of the libfaas test suites: fixture paths, a loop driver,
 * a collecting completion callback, a counting billing hook and a capturing
 * log sink.
 */
#ifndef FAAS_TEST_HELPERS_H
#define FAAS_TEST_HELPERS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include <faas.h>

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR must name the directory of the built fixtures"
#endif

/* The path of a fixture shared object: FX("ok") is ".../libfx_ok.so". */
#define FX(name) FIXTURES_DIR "/libfx_" name ".so"

/* Upper bound for any wait in a test, so that a bug fails instead of hanging. */
#define TH_WAIT_MS 5000

#define TH_MAX_CALLS 1024

/* ---- time ---- */
uint64_t th_now_ms(void);
uint64_t th_now_us(void);
uint64_t th_wall_us(void);
void th_sleep_ms(unsigned int ms);

/* ---- fixtures loaded by the runtime ---- */

/* Whether the shared object is loaded in this process, probed without
 * keeping a reference (RTLD_NOLOAD, then dlclose at once). */
bool th_loaded(const char *path);
/* The address of a symbol of a loaded fixture, or NULL if the object is not
 * loaded. The pointer stays valid only while the runtime keeps the object. */
void *th_sym(const char *path, const char *symbol);
/* The int a fixture exports (fx_ok_init_count...), or -1 when not loaded. */
int th_int(const char *path, const char *symbol);

/* ---- runtimes ---- */

/* Runtime options with every field at its default. */
faas_runtime_options th_ropts(void);
/* Function options for a static handler or a fixture symbol. */
faas_fn_options th_fopts_static(faas_handler_fn fn);
faas_fn_options th_fopts_lib(const char *path, const char *symbol);

/* Create a runtime (asserting success) on loop, or on its own loop if NULL. */
faas_runtime *th_rt_new(uv_loop_t *loop, const faas_runtime_options *opts);
/* Free the runtime; with a host loop run it once more and assert it closes. */
void th_rt_free(faas_runtime *rt, uv_loop_t *loop);
/* Initialise a host loop, asserting success. */
void th_loop_init(uv_loop_t *loop);

/* Register, asserting success. */
void th_register(faas_runtime *rt, const char *name, const faas_fn_options *fo);
void th_register_static(faas_runtime *rt, const char *name, faas_handler_fn fn);
void th_register_lib(faas_runtime *rt, const char *name, const char *path, const char *symbol);

/* Parse JSON text, asserting it parses (NULL text gives NULL). */
cJSON *th_json(const char *text);
/* faas_invoke_sync with the event given as JSON text, asserting it returns 0. */
faas_activation *th_call(faas_runtime *rt, const char *function, const char *json);
/* Compare a cJSON value with JSON text. */
bool th_json_eq(const cJSON *value, const char *json);

/* Run the runtime's loop until *counter >= target or timeout_ms passed.
 * Returns whether the target was reached. */
bool th_wait(faas_runtime *rt, atomic_int *counter, int target, unsigned int timeout_ms);
/* Run the runtime's loop for about ms milliseconds. */
void th_spin(faas_runtime *rt, unsigned int ms);
/* Run the runtime's loop until pred(arg) is true or timeout_ms passed. */
bool th_wait_for(faas_runtime *rt, bool (*pred)(void *arg), void *arg, unsigned int timeout_ms);

/* ---- completion callbacks ---- */

typedef struct th_calls {
	atomic_int n;
	faas_activation *acts[TH_MAX_CALLS]; /* dup'd, in completion order */
	uint64_t at_ms[TH_MAX_CALLS];        /* th_now_ms() at the callback */
	int sync_calls;                      /* callbacks run inside faas_invoke */
	pthread_t thread;                    /* thread of the last callback */
} th_calls;

void th_calls_init(th_calls *c);
void th_calls_clear(th_calls *c);
void th_collect(const faas_activation *act, void *userdata);
/* faas_invoke with th_collect, flagging callbacks run from inside the call. */
int th_invoke(faas_runtime *rt, const char *function, const char *json, th_calls *c);

/* ---- billing hook that counts ---- */

typedef struct th_billing {
	faas_billing_hook hook; /* first, so self casts back */
	pthread_mutex_t mu;
	int admits;
	int records;
	int by_status[FAAS_STATUS_COUNT];
	int admit_rc; /* what admit returns */
	int frees;
	bool on_loop_thread; /* every call came from the thread that created it */
	pthread_t thread;
	char last_function[160];
	char last_admit_function[160];
	size_t last_admit_payload;
	char last_id[40];
	faas_usage last_usage;
	char ids[TH_MAX_CALLS][40];
} th_billing;

void th_billing_init(th_billing *b);
/* Whether id was recorded, and how many times. */
int th_billing_count_id(th_billing *b, const char *id);

/* ---- log sink that captures ---- */

typedef struct th_sink {
	faas_log_sink sink; /* first, so self casts back */
	pthread_mutex_t mu;
	int n;
	char *lines[8192];
	char *ids[8192];
	char *functions[8192];
} th_sink;

void th_sink_init(th_sink *s);
void th_sink_clear(th_sink *s);

/* ---- misc ---- */
bool th_is_hex_id(const char *id);

#endif /* FAAS_TEST_HELPERS_H */
