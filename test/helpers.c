#include "helpers.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

uint64_t th_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t th_now_ms(void)
{
	return th_now_us() / 1000u;
}

uint64_t th_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void th_sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

bool th_loaded(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);

	if (h == NULL)
		return false;
	dlclose(h);
	return true;
}

void *th_sym(const char *path, const char *symbol)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	void *p;

	if (h == NULL)
		return NULL;
	p = dlsym(h, symbol);
	dlclose(h);
	return p;
}

int th_int(const char *path, const char *symbol)
{
	int *p = th_sym(path, symbol);

	return p ? *p : -1;
}

faas_runtime_options th_ropts(void)
{
	faas_runtime_options o;

	cr_assert_eq(faas_runtime_options_init(&o, FAAS_RUNTIME_OPTIONS_VERSION), 0);
	return o;
}

faas_fn_options th_fopts_static(faas_handler_fn fn)
{
	faas_fn_options o;

	cr_assert_eq(faas_fn_options_init(&o, FAAS_FN_OPTIONS_VERSION), 0);
	o.handler = fn;
	return o;
}

faas_fn_options th_fopts_lib(const char *path, const char *symbol)
{
	faas_fn_options o;

	cr_assert_eq(faas_fn_options_init(&o, FAAS_FN_OPTIONS_VERSION), 0);
	o.library = path;
	o.symbol = symbol;
	return o;
}

void th_loop_init(uv_loop_t *loop)
{
	cr_assert_eq(uv_loop_init(loop), 0);
}

faas_runtime *th_rt_new(uv_loop_t *loop, const faas_runtime_options *opts)
{
	faas_runtime_options o = opts ? *opts : th_ropts();
	faas_runtime *rt = NULL;
	int rc;

	o.loop = loop;
	rc = faas_runtime_new(&rt, &o);
	cr_assert_eq(rc, 0, "faas_runtime_new: %s (%s)", faas_err_name(rc),
	             faas_runtime_last_error(NULL));
	cr_assert_not_null(rt);
	return rt;
}

void th_rt_free(faas_runtime *rt, uv_loop_t *loop)
{
	faas_runtime_free(rt);
	if (loop != NULL) {
		cr_assert_eq(uv_run(loop, UV_RUN_DEFAULT), 0);
		cr_assert_eq(uv_loop_close(loop), 0, "the runtime left handles on the host loop");
	}
}

void th_register(faas_runtime *rt, const char *name, const faas_fn_options *fo)
{
	int rc = faas_fn_register(NULL, rt, name, fo);

	cr_assert_eq(rc, 0, "register %s: %s (%s)", name, faas_err_name(rc),
	             faas_runtime_last_error(rt));
}

void th_register_static(faas_runtime *rt, const char *name, faas_handler_fn fn)
{
	faas_fn_options fo = th_fopts_static(fn);

	th_register(rt, name, &fo);
}

void th_register_lib(faas_runtime *rt, const char *name, const char *path, const char *symbol)
{
	faas_fn_options fo = th_fopts_lib(path, symbol);

	th_register(rt, name, &fo);
}

cJSON *th_json(const char *text)
{
	cJSON *v;

	if (text == NULL)
		return NULL;
	v = cJSON_Parse(text);
	cr_assert_not_null(v, "bad JSON in the test: %s", text);
	return v;
}

bool th_json_eq(const cJSON *value, const char *json)
{
	cJSON *want = cJSON_Parse(json);
	bool eq = want != NULL && value != NULL && cJSON_Compare(value, want, true);

	cJSON_Delete(want);
	return eq;
}

faas_activation *th_call(faas_runtime *rt, const char *function, const char *json)
{
	cJSON *event = th_json(json);
	faas_activation *act = NULL;
	int rc = faas_invoke_sync(&act, rt, function, event);

	cJSON_Delete(event);
	cr_assert_eq(rc, 0, "invoke_sync %s: %s (%s)", function, faas_err_name(rc),
	             faas_runtime_last_error(rt));
	cr_assert_not_null(act);
	return act;
}

/* A timer keeps UV_RUN_ONCE from blocking for longer than a tick, whatever
 * handles the runtime keeps referenced. */
typedef struct th_ticker {
	uv_timer_t timer;
	bool closed;
} th_ticker;

static void th_tick(uv_timer_t *t)
{
	(void)t;
}

static void th_ticker_closed(uv_handle_t *h)
{
	((th_ticker *)h->data)->closed = true;
}

static void th_ticker_start(th_ticker *tk, uv_loop_t *loop)
{
	tk->closed = false;
	cr_assert_eq(uv_timer_init(loop, &tk->timer), 0);
	tk->timer.data = tk;
	cr_assert_eq(uv_timer_start(&tk->timer, th_tick, 2, 2), 0);
}

static void th_ticker_stop(th_ticker *tk, uv_loop_t *loop)
{
	uv_timer_stop(&tk->timer);
	uv_close((uv_handle_t *)&tk->timer, th_ticker_closed);
	while (!tk->closed)
		uv_run(loop, UV_RUN_NOWAIT);
}

bool th_wait_for(faas_runtime *rt, bool (*pred)(void *arg), void *arg, unsigned int timeout_ms)
{
	uv_loop_t *loop = faas_runtime_loop(rt);
	uint64_t end = th_now_ms() + timeout_ms;
	th_ticker tk;
	bool ok;

	cr_assert_not_null(loop);
	th_ticker_start(&tk, loop);
	while (!(ok = pred(arg)) && th_now_ms() < end)
		uv_run(loop, UV_RUN_ONCE);
	th_ticker_stop(&tk, loop);
	return ok;
}

typedef struct th_counter_arg {
	atomic_int *counter;
	int target;
} th_counter_arg;

static bool th_counter_reached(void *arg)
{
	th_counter_arg *a = arg;

	return atomic_load(a->counter) >= a->target;
}

bool th_wait(faas_runtime *rt, atomic_int *counter, int target, unsigned int timeout_ms)
{
	th_counter_arg a = {counter, target};

	return th_wait_for(rt, th_counter_reached, &a, timeout_ms);
}

static bool th_never(void *arg)
{
	(void)arg;
	return false;
}

void th_spin(faas_runtime *rt, unsigned int ms)
{
	th_wait_for(rt, th_never, NULL, ms);
}

/* ---- completion callbacks ---- */

static _Thread_local int th_inside_invoke;

void th_calls_init(th_calls *c)
{
	memset(c, 0, sizeof(*c));
	atomic_init(&c->n, 0);
}

void th_calls_clear(th_calls *c)
{
	int n = atomic_load(&c->n);

	for (int i = 0; i < n && i < TH_MAX_CALLS; i++)
		faas_activation_free(c->acts[i]);
	th_calls_init(c);
}

void th_collect(const faas_activation *act, void *userdata)
{
	th_calls *c = userdata;
	int i = atomic_load(&c->n);

	if (th_inside_invoke)
		c->sync_calls++;
	c->thread = pthread_self();
	if (i < TH_MAX_CALLS) {
		c->acts[i] = faas_activation_dup(act);
		c->at_ms[i] = th_now_ms();
	}
	atomic_store(&c->n, i + 1);
}

int th_invoke(faas_runtime *rt, const char *function, const char *json, th_calls *c)
{
	cJSON *event = th_json(json);
	int rc;

	th_inside_invoke = 1;
	rc = faas_invoke(rt, function, event, th_collect, c);
	th_inside_invoke = 0;
	cJSON_Delete(event);
	return rc;
}

/* ---- billing ---- */

static void th_billing_note_thread(th_billing *b)
{
	if (!pthread_equal(b->thread, pthread_self()))
		b->on_loop_thread = false;
}

static int th_billing_admit(faas_billing_hook *self, const char *function, size_t payload_bytes)
{
	th_billing *b = (th_billing *)self;
	int rc;

	pthread_mutex_lock(&b->mu);
	th_billing_note_thread(b);
	b->admits++;
	snprintf(b->last_admit_function, sizeof(b->last_admit_function), "%s",
	         function ? function : "");
	b->last_admit_payload = payload_bytes;
	rc = b->admit_rc;
	pthread_mutex_unlock(&b->mu);
	return rc;
}

static void th_billing_record(faas_billing_hook *self, const char *function, const char *request_id,
                              const faas_usage *usage)
{
	th_billing *b = (th_billing *)self;

	pthread_mutex_lock(&b->mu);
	th_billing_note_thread(b);
	if (b->records < TH_MAX_CALLS)
		snprintf(b->ids[b->records], sizeof(b->ids[0]), "%s", request_id ? request_id : "");
	b->records++;
	if (usage != NULL) {
		if ((unsigned int)usage->status < FAAS_STATUS_COUNT)
			b->by_status[usage->status]++;
		b->last_usage = *usage;
	}
	snprintf(b->last_function, sizeof(b->last_function), "%s", function ? function : "");
	snprintf(b->last_id, sizeof(b->last_id), "%s", request_id ? request_id : "");
	pthread_mutex_unlock(&b->mu);
}

static void th_billing_free(faas_billing_hook *self)
{
	((th_billing *)self)->frees++;
}

void th_billing_init(th_billing *b)
{
	memset(b, 0, sizeof(*b));
	b->hook.version = FAAS_BILLING_HOOK_VERSION;
	b->hook.admit = th_billing_admit;
	b->hook.record = th_billing_record;
	b->hook.free = th_billing_free;
	pthread_mutex_init(&b->mu, NULL);
	b->thread = pthread_self();
	b->on_loop_thread = true;
}

int th_billing_count_id(th_billing *b, const char *id)
{
	int n = 0;

	pthread_mutex_lock(&b->mu);
	for (int i = 0; i < b->records && i < TH_MAX_CALLS; i++)
		if (strcmp(b->ids[i], id) == 0)
			n++;
	pthread_mutex_unlock(&b->mu);
	return n;
}

/* ---- log sink ---- */

static char *th_strndup(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	cr_assert_not_null(p);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void th_sink_write(faas_log_sink *self, const char *request_id, const char *function,
                          const char *line, size_t len)
{
	th_sink *s = (th_sink *)self;

	pthread_mutex_lock(&s->mu);
	if (s->n < (int)(sizeof(s->lines) / sizeof(s->lines[0]))) {
		s->lines[s->n] = th_strndup(line, len);
		s->ids[s->n] = th_strndup(request_id ? request_id : "(null)",
		                          request_id ? strlen(request_id) : 6);
		s->functions[s->n] =
		    th_strndup(function ? function : "(null)", function ? strlen(function) : 6);
		s->n++;
	}
	pthread_mutex_unlock(&s->mu);
}

void th_sink_init(th_sink *s)
{
	memset(s, 0, sizeof(*s));
	s->sink.version = FAAS_LOG_SINK_VERSION;
	s->sink.write = th_sink_write;
	pthread_mutex_init(&s->mu, NULL);
}

void th_sink_clear(th_sink *s)
{
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->n; i++) {
		free(s->lines[i]);
		free(s->ids[i]);
		free(s->functions[i]);
	}
	s->n = 0;
	pthread_mutex_unlock(&s->mu);
}

bool th_is_hex_id(const char *id)
{
	if (id == NULL || strlen(id) != 32)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}
