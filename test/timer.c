/* Timer triggers on a real loop: interval without drift, one-shot, cron,
 * the event's shape, overlap skipping, rules that are disabled or point
 * nowhere, freeing and stopping, and every bad option. */
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(timer, .timeout = 60);

static uv_loop_t loop;
static faas_runtime *rt;

/* What the handlers saw. */
#define MAX_FIRES 256
static atomic_int fires;
static uint64_t fire_ns[MAX_FIRES];    /* uv_hrtime() in the inline handler */
static uint64_t fire_wall_us[MAX_FIRES];
static pthread_mutex_t events_mu = PTHREAD_MUTEX_INITIALIZER;
static char *events[MAX_FIRES];        /* the events, as JSON text */
static atomic_int running, max_running, entered, finished, other_fires;
static atomic_int slow_ms;

static void setup(void)
{
	faas_runtime_options o = th_ropts();

	o.threads = 4;
	th_loop_init(&loop);
	rt = th_rt_new(&loop, &o);
}

static void teardown(void)
{
	th_rt_free(rt, &loop);
	for (int i = 0; i < MAX_FIRES; i++) {
		free(events[i]);
		events[i] = NULL;
	}
}

static void record(const cJSON *event)
{
	int i = atomic_fetch_add(&fires, 1);

	if (i >= MAX_FIRES)
		return;
	fire_ns[i] = uv_hrtime();
	fire_wall_us[i] = th_wall_us();
	pthread_mutex_lock(&events_mu);
	events[i] = event ? cJSON_PrintUnformatted(event) : NULL;
	pthread_mutex_unlock(&events_mu);
}

static int tick(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)result;
	record(event);
	return 0;
}

static int slow(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	int now = atomic_fetch_add(&running, 1) + 1, max = atomic_load(&max_running);

	(void)ctx;
	(void)result;
	while (now > max && !atomic_compare_exchange_weak(&max_running, &max, now))
		;
	atomic_fetch_add(&entered, 1);
	record(event);
	th_sleep_ms((unsigned int)atomic_load(&slow_ms));
	atomic_fetch_sub(&running, 1);
	atomic_fetch_add(&finished, 1);
	return 0;
}

static int other(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	(void)result;
	atomic_fetch_add(&other_fires, 1);
	return 0;
}

static void register_fn(const char *name, faas_handler_fn fn, faas_isolation iso)
{
	faas_fn_options fo = th_fopts_static(fn);

	fo.isolation = iso;
	th_register(rt, name, &fo);
}

static faas_trigger *timer_with(const char *name, const faas_timer_options *o)
{
	faas_trigger *t = NULL;
	int rc = faas_trigger_timer_new(&t, rt, name, o);

	cr_assert_eq(rc, 0, "timer %s: %s (%s)", name, faas_err_name(rc),
		     faas_runtime_last_error(rt));
	cr_assert_not_null(t);
	return t;
}

static faas_trigger *timer(const char *name, faas_timer_kind kind, uint64_t ms, const char *cron)
{
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;

	o.kind = kind;
	o.interval_ms = ms;
	o.cron = cron;
	return timer_with(name, &o);
}

static void rule(faas_trigger *t, const char *fn)
{
	int rc = faas_rule_new(NULL, t, NULL, fn);

	cr_assert_eq(rc, 0, "rule: %s (%s)", faas_err_name(rc), faas_runtime_last_error(rt));
}

static faas_trigger_stats stats(const faas_trigger *t)
{
	faas_trigger_stats s;

	cr_assert_eq(faas_trigger_stats_get(&s, t), 0);
	return s;
}

Test(timer, stats_get_writes_version_and_zero_reserved, .init = setup, .fini = teardown)
{
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
	faas_trigger *t;
	faas_trigger_stats s;

	_Static_assert(offsetof(faas_trigger_stats, version) == 0, "version comes first");
	o.interval_ms = 60000;
	cr_assert_eq(faas_trigger_timer_new(&t, rt, "versioned", &o), 0);
	memset(&s, 0xa5, sizeof(s));
	cr_assert_eq(faas_trigger_stats_get(&s, t), 0);
	cr_assert_eq(s.version, FAAS_TRIGGER_STATS_VERSION);
	for (size_t i = 0; i < sizeof(s.reserved) / sizeof(s.reserved[0]); i++)
		cr_assert_eq(s.reserved[i], 0, "reserved[%zu]", i);
	cr_assert_eq(s.fired, 0);
	cr_assert_eq(s.errors, 0);
}

static uint64_t completed(const char *fn)
{
	faas_fn_stats s;
	uint64_t n = 0;

	cr_assert_eq(faas_fn_stats_get(&s, faas_fn_lookup(rt, fn)), 0);
	for (int i = 0; i < FAAS_STATUS_COUNT; i++)
		n += s.activations[i];
	return n;
}

/* ---- options ---- */

Test(timer, options_init_same_bytes_as_macro)
{
	static const faas_timer_options init = FAAS_TIMER_OPTIONS_INIT;
	faas_timer_options a, b;

	memset(&a, 0, sizeof(a));
	memcpy(&a, &init, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(faas_timer_options_init(&b, FAAS_TIMER_OPTIONS_VERSION), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	/* every field is set, whatever was there */
	memset(&b, 0xa5, sizeof(b));
	cr_assert_eq(faas_timer_options_init(&b, FAAS_TIMER_OPTIONS_VERSION), 0);
	cr_assert_eq(b.version, FAAS_TIMER_OPTIONS_VERSION);
	cr_assert_eq(b.kind, FAAS_TIMER_INTERVAL);
	cr_assert_eq(b.interval_ms, 0);
	cr_assert_null(b.cron);
	cr_assert_not(b.local_time);
	cr_assert_not(b.allow_overlap);
	cr_assert_null(b.detail);
}

Test(timer, options_init_bad_version)
{
	faas_timer_options o;

	cr_assert_eq(faas_timer_options_init(&o, 0), FAAS_EINVAL);
	cr_assert_eq(faas_timer_options_init(&o, FAAS_TIMER_OPTIONS_VERSION + 1), FAAS_EINVAL);
	cr_assert_eq(faas_timer_options_init(NULL, FAAS_TIMER_OPTIONS_VERSION), FAAS_EINVAL);
}

typedef struct bad_opts {
	faas_timer_kind kind;
	uint64_t interval_ms;
	const char *cron;
	const char *detail;
	unsigned int version;
	const char *msg;
} bad_opts;

Test(timer, bad_options, .init = setup, .fini = teardown)
{
	static const bad_opts cases[] = {
		{FAAS_TIMER_INTERVAL, 10, NULL, NULL, 0, "version 0, expected 1"},
		{FAAS_TIMER_INTERVAL, 10, NULL, NULL, 2, "version 2, expected 1"},
		{(faas_timer_kind)7, 10, NULL, NULL, 1, "kind: expected"},
		{(faas_timer_kind)-1, 10, NULL, NULL, 1, "kind: expected"},
		{FAAS_TIMER_INTERVAL, 0, NULL, NULL, 1, "interval_ms: expected 1..31536000000, got 0"},
		{FAAS_TIMER_INTERVAL, 31536000001ull, NULL, NULL, 1,
		 "interval_ms: expected 1..31536000000, got 31536000001"},
		{FAAS_TIMER_ONESHOT, 0, NULL, NULL, 1, "interval_ms: expected 1.."},
		{FAAS_TIMER_ONESHOT, UINT64_MAX, NULL, NULL, 1, "interval_ms: expected 1.."},
		{FAAS_TIMER_INTERVAL, 10, "* * * * *", NULL, 1, "cron: only used by the cron kind"},
		{FAAS_TIMER_CRON, 0, NULL, NULL, 1, "cron: an expression is required"},
		{FAAS_TIMER_CRON, 10, "* * * * *", NULL, 1, "interval_ms: not used by the cron kind"},
		{FAAS_TIMER_CRON, 0, "61 * * * *", NULL, 1, "cron: minute: 61 out of range 0..59"},
		{FAAS_TIMER_CRON, 0, "* * 32 * *", NULL, 1, "cron: day-of-month: 32 out of range"},
		{FAAS_TIMER_CRON, 0, "0 0 30 2 *", NULL, 1, "never fires"},
		{FAAS_TIMER_CRON, 0, "* * *", NULL, 1, "cron: expected 5 or 6 fields, got 3"},
		{FAAS_TIMER_CRON, 0, "@reboot", NULL, 1, "cron: unknown macro"},
		{FAAS_TIMER_INTERVAL, 10, NULL, "{", 1, "detail: not valid JSON"},
		{FAAS_TIMER_INTERVAL, 10, NULL, "{} x", 1, "detail: not valid JSON"},
		{FAAS_TIMER_INTERVAL, 10, NULL, "", 1, "detail: not valid JSON"},
		{FAAS_TIMER_INTERVAL, 10, NULL, "[1]", 1, "detail: expected a JSON object"},
		{FAAS_TIMER_INTERVAL, 10, NULL, "\"x\"", 1, "detail: expected a JSON object"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
		faas_trigger *t = (faas_trigger *)&o; /* must be reset */
		int rc;

		o.version = cases[i].version;
		o.kind = cases[i].kind;
		o.interval_ms = cases[i].interval_ms;
		o.cron = cases[i].cron;
		o.detail = cases[i].detail;
		rc = faas_trigger_timer_new(&t, rt, "bad", &o);
		cr_expect_eq(rc, FAAS_EINVAL, "case %zu accepted", i);
		cr_expect_null(t, "case %zu: *out not reset", i);
		cr_expect_not_null(strstr(faas_runtime_last_error(rt), cases[i].msg),
				   "case %zu: message \"%s\", want \"%s\"", i,
				   faas_runtime_last_error(rt), cases[i].msg);
		cr_expect_not_null(strstr(faas_runtime_last_error(rt), "bad"),
				   "case %zu: the trigger is named", i);
		/* nothing was left behind: the name is free */
		cr_expect_null(faas_trigger_lookup(rt, "bad"));
	}
}

Test(timer, bad_arguments, .init = setup, .fini = teardown)
{
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
	faas_trigger *t = NULL;
	char *big;

	o.interval_ms = 10;
	/* A NULL out is allowed (trigger.h "Constructors"); see out_may_be_null. */
	cr_assert_eq(faas_trigger_timer_new(NULL, rt, "x-no-out", &o), 0);
	cr_assert_eq(faas_trigger_timer_new(&t, NULL, "x", &o), FAAS_EINVAL);
	cr_assert_eq(faas_trigger_timer_new(&t, rt, "x", NULL), FAAS_EINVAL);
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "options are NULL"));
	cr_assert_eq(faas_trigger_timer_new(&t, rt, NULL, &o), FAAS_EINVAL);
	cr_assert_eq(faas_trigger_timer_new(&t, rt, "a b", &o), FAAS_EINVAL);
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "trigger name"));
	cr_assert_eq(faas_trigger_timer_new(&t, rt, "", &o), FAAS_EINVAL);
	/* a detail over the cap */
	big = malloc(300 * 1024);
	cr_assert_not_null(big);
	memset(big, ' ', 300 * 1024);
	memcpy(big, "{}", 2);
	big[300 * 1024 - 1] = '\0';
	o.detail = big;
	cr_assert_eq(faas_trigger_timer_new(&t, rt, "big", &o), FAAS_EINVAL);
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "detail: longer than"));
	free(big);
	o.detail = NULL;
	/* names are unique among triggers */
	timer("dup", FAAS_TIMER_INTERVAL, 1000, NULL);
	cr_assert_eq(faas_trigger_timer_new(&t, rt, "dup", &o), FAAS_EEXIST);
	cr_assert_null(t);
	/* timer rules take no route */
	t = faas_trigger_lookup(rt, "dup");
	cr_assert_eq(faas_rule_new(NULL, t, "GET /x", "f"), FAAS_EINVAL);
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "take no route"));
}

Test(timer, refused_once_stopping, .init = setup, .fini = teardown)
{
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
	faas_trigger *t = NULL;

	o.interval_ms = 10;
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert_eq(faas_trigger_timer_new(&t, rt, "late", &o), FAAS_ESTOPPED);
	cr_assert_null(t);
}

/* ---- firing ---- */

Test(timer, interval_fires_about_once_per_period, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	faas_trigger_stats s;
	int n;

	register_fn("tick", tick, FAAS_ISOLATION_THREAD);
	t = timer("every20", FAAS_TIMER_INTERVAL, 20, NULL);
	rule(t, "tick");
	th_spin(rt, 230);
	s = stats(t);
	/* Ticks are due at 20, 40, ... 220 ms: 11. Generous either side. */
	cr_assert_geq(s.fired, 7, "fired %llu", (unsigned long long)s.fired);
	cr_assert_leq(s.fired, 12, "fired %llu", (unsigned long long)s.fired);
	/* Each tick started a run or was skipped (overlap); ticks missed while
	 * the loop was busy count as skipped too. */
	cr_assert_geq(s.invoked + s.skipped, s.fired);
	cr_assert_eq(s.errors, 0);
	/* every invocation reaches the handler */
	cr_assert(th_wait(rt, &fires, (int)s.invoked, TH_WAIT_MS));
	n = atomic_load(&fires);
	cr_assert_eq((uint64_t)n, s.invoked);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

Test(timer, interval_does_not_drift, .init = setup, .fini = teardown)
{
	const int64_t period = 20 * 1000000;
	int attempts = 0;

	/* Inline, so the handler runs inside the tick: its clock reading is the
	 * tick's. */
	register_fn("tick", tick, FAAS_ISOLATION_INLINE);
	/* An attempt in which the loop was held up for a whole period (a busy
	 * machine: ticks were skipped) says nothing about drift; try again. A
	 * timer that drifts by re-arming relative to its callbacks never skips,
	 * so this cannot hide that drift. */
	for (;;) {
		char name[32];
		uint64_t ref;
		faas_trigger *t;
		faas_trigger_stats s;
		int64_t late[10];

		cr_assert_lt(attempts++, 3, "the loop was held up in every attempt");
		atomic_store(&fires, 0);
		snprintf(name, sizeof(name), "steady-%d", attempts);
		ref = uv_hrtime();
		t = timer(name, FAAS_TIMER_INTERVAL, 20, NULL);
		rule(t, "tick");
		cr_assert(th_wait(rt, &fires, 50, 50 * 20 + TH_WAIT_MS));
		s = stats(t);
		faas_trigger_free(t);
		if (s.skipped > 0)
			continue;
		/* Without skips, fire i is tick i + 1, due at ref + (i + 1) * period
		 * (ref is read just before the trigger starts). None is early by
		 * more than the millisecond uv timers round to. */
		for (int i = 0; i < 50; i++) {
			int64_t off = (int64_t)(fire_ns[i] - ref) - (i + 1) * period;

			cr_assert_geq(off, -2000000, "fire %d is %lld us early", i,
				      (long long)(-off / 1000));
			if (i >= 40)
				late[i - 40] = off;
		}
		/* Typically late by well under a millisecond. A timer re-armed
		 * relative to its callback gathers ~0.5 ms per period: 20 ms or
		 * more by the last ten. The median shrugs off a few late ticks. */
		qsort(late, 10, sizeof(late[0]), cmp_i64);
		cr_assert_leq(late[5], 6000000, "the last ten fires are late by %lld us (median)",
			      (long long)(late[5] / 1000));
		break;
	}
}

Test(timer, blocked_loop_fires_once_and_counts_skipped, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	faas_trigger_stats s;
	uint64_t start = th_now_ms(), elapsed;

	register_fn("tick", tick, FAAS_ISOLATION_INLINE);
	t = timer("blocked", FAAS_TIMER_INTERVAL, 10, NULL);
	rule(t, "tick");
	/* Ticks 1..6 fall due while the loop does not run... */
	th_sleep_ms(65);
	/* ...and the first pass of the loop fires once, not six times. */
	cr_assert(th_wait(rt, &fires, 1, TH_WAIT_MS));
	elapsed = th_now_ms() - start;
	s = stats(t);
	cr_assert_eq(s.fired, 1, "fired %llu", (unsigned long long)s.fired);
	cr_assert_eq(atomic_load(&fires), 1);
	cr_assert_geq(s.skipped, 5, "skipped %llu", (unsigned long long)s.skipped);
	cr_assert_leq(s.skipped, elapsed / 10, "skipped %llu in %llu ms",
		      (unsigned long long)s.skipped, (unsigned long long)elapsed);
	/* and then it carries on, on schedule */
	cr_assert(th_wait(rt, &fires, 3, TH_WAIT_MS));
}

Test(timer, oneshot_fires_once, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	uint64_t start = th_now_ms();

	register_fn("tick", tick, FAAS_ISOLATION_THREAD);
	t = timer("once", FAAS_TIMER_ONESHOT, 30, NULL);
	rule(t, "tick");
	cr_assert(th_wait(rt, &fires, 1, TH_WAIT_MS));
	cr_assert_geq(th_now_ms() - start, 29);
	th_spin(rt, 150);
	cr_assert_eq(atomic_load(&fires), 1);
	cr_assert_eq(stats(t).fired, 1);
	cr_assert_eq(stats(t).invoked, 1);
}

Test(timer, late_oneshot_skips_nothing, .init = setup, .fini = teardown)
{
	faas_trigger *t;

	register_fn("tick", tick, FAAS_ISOLATION_INLINE);
	t = timer("late", FAAS_TIMER_ONESHOT, 5, NULL);
	rule(t, "tick");
	th_sleep_ms(40);
	cr_assert(th_wait(rt, &fires, 1, TH_WAIT_MS));
	th_spin(rt, 20);
	cr_assert_eq(stats(t).fired, 1);
	cr_assert_eq(stats(t).skipped, 0);
}

Test(timer, cron_with_seconds_fires_every_second, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	int n;

	register_fn("tick", tick, FAAS_ISOLATION_THREAD);
	t = timer("secs", FAAS_TIMER_CRON, 0, "* * * * * *");
	rule(t, "tick");
	th_spin(rt, 2500);
	th_wait(rt, &fires, (int)stats(t).invoked, TH_WAIT_MS);
	n = atomic_load(&fires);
	cr_assert_geq(n, 2, "fired %d times in 2.5 s", n);
	cr_assert_leq(n, 3, "fired %d times in 2.5 s", n);
	cr_assert_eq(stats(t).fired, (uint64_t)n);
	for (int i = 0; i < n; i++) {
		cJSON *ev = th_json(events[i]);
		const char *when = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "time"));
		struct tm tm = {0};
		int64_t at;

		cr_assert_not_null(when);
		cr_assert_not_null(strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm), "%s", when);
		at = (int64_t)timegm(&tm);
		/* it fired at, not before, the second it names, and soon after */
		cr_assert_geq((int64_t)fire_wall_us[i], at * 1000000, "fire %d at %s", i, when);
		cr_assert_lt((int64_t)fire_wall_us[i], at * 1000000 + 900000, "fire %d", i);
		if (i > 0) {
			struct tm prev = {0};
			cJSON *pe = th_json(events[i - 1]);

			strptime(cJSON_GetStringValue(cJSON_GetObjectItem(pe, "time")),
				 "%Y-%m-%dT%H:%M:%SZ", &prev);
			cr_assert_eq(at, (int64_t)timegm(&prev) + 1, "consecutive seconds");
			cJSON_Delete(pe);
		}
		cJSON_Delete(ev);
	}
}

Test(timer, cron_local_time_fires, .init = setup, .fini = teardown)
{
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
	faas_trigger *t;

	register_fn("tick", tick, FAAS_ISOLATION_THREAD);
	o.kind = FAAS_TIMER_CRON;
	o.cron = "*/1 * * * * *";
	o.local_time = true;
	t = timer_with("local", &o);
	rule(t, "tick");
	cr_assert(th_wait(rt, &fires, 1, 2500));
}

static bool is_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			return false;
	}
	return s[14] == '4';
}

Test(timer, event_shape, .init = setup, .fini = teardown)
{
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
	faas_trigger *t;
	cJSON *ev, *res, *ev2;
	const char *when;
	struct tm tm = {0};
	int64_t at, now = (int64_t)(th_wall_us() / 1000000);
	const char *keys[] = {"version", "id",   "detail-type", "source",    "account",
			      "time",    "region", "resources", "detail"};

	register_fn("tick", tick, FAAS_ISOLATION_THREAD);
	o.interval_ms = 10;
	o.detail = "{\"job\":\"nightly\",\"n\":[1,2,{\"x\":null}]}";
	t = timer_with("shape.timer-1", &o);
	rule(t, "tick");
	cr_assert(th_wait(rt, &fires, 2, TH_WAIT_MS));
	faas_trigger_free(t);
	ev = th_json(events[0]);
	cr_assert_eq(cJSON_GetArraySize(ev), 9, "%s", events[0]);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(ev, keys[i]), "no %s", keys[i]);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "version")), "0");
	cr_assert(is_uuid(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "id"))), "%s", events[0]);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "detail-type")),
			 "Scheduled Event");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "source")), "libfaas.timer");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "account")), "000000000000");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "region")), "local");
	when = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "time"));
	cr_assert_not_null(when);
	cr_assert_eq(strlen(when), 20, "%s", when);
	cr_assert_not_null(strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm), "%s", when);
	at = (int64_t)timegm(&tm);
	cr_assert(at >= now - 1 && at <= now + 5, "time %s", when);
	res = cJSON_GetObjectItem(ev, "resources");
	cr_assert(th_json_eq(res, "[\"libfaas:timer/shape.timer-1\"]"));
	cr_assert(th_json_eq(cJSON_GetObjectItem(ev, "detail"),
			     "{\"job\":\"nightly\",\"n\":[1,2,{\"x\":null}]}"));
	/* ids differ from event to event */
	ev2 = th_json(events[1]);
	cr_assert_str_neq(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "id")),
			  cJSON_GetStringValue(cJSON_GetObjectItem(ev2, "id")));
	cJSON_Delete(ev);
	cJSON_Delete(ev2);
}

Test(timer, event_detail_defaults_to_empty_object, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	cJSON *ev;

	register_fn("tick", tick, FAAS_ISOLATION_INLINE);
	t = timer("plain", FAAS_TIMER_ONESHOT, 1, NULL);
	rule(t, "tick");
	cr_assert(th_wait(rt, &fires, 1, TH_WAIT_MS));
	ev = th_json(events[0]);
	cr_assert(th_json_eq(cJSON_GetObjectItem(ev, "detail"), "{}"));
	cr_assert(th_json_eq(cJSON_GetObjectItem(ev, "resources"), "[\"libfaas:timer/plain\"]"));
	cJSON_Delete(ev);
}

Test(timer, overlap_is_skipped_by_default, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	faas_trigger_stats s;

	atomic_store(&slow_ms, 60);
	register_fn("slow", slow, FAAS_ISOLATION_THREAD);
	t = timer("busy", FAAS_TIMER_INTERVAL, 10, NULL);
	rule(t, "slow");
	th_spin(rt, 300);
	s = stats(t);
	cr_assert_gt(s.skipped, 0);
	cr_assert_gt(s.invoked, 0);
	cr_assert_eq(atomic_load(&max_running), 1, "two runs of one rule overlapped");
	/* Every tick either started a run or was skipped (ticks missed while the
	 * loop was busy are skipped too). */
	cr_assert_geq(s.invoked + s.skipped, s.fired, "fired %llu invoked %llu skipped %llu",
		     (unsigned long long)s.fired, (unsigned long long)s.invoked,
		     (unsigned long long)s.skipped);
}

Test(timer, allow_overlap_runs_concurrently, .init = setup, .fini = teardown)
{
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
	faas_trigger *t;

	atomic_store(&slow_ms, 60);
	register_fn("slow", slow, FAAS_ISOLATION_THREAD);
	o.interval_ms = 10;
	o.allow_overlap = true;
	t = timer_with("overlapping", &o);
	rule(t, "slow");
	th_spin(rt, 200);
	cr_assert_geq(atomic_load(&max_running), 2);
	cr_assert_geq(stats(t).invoked + stats(t).skipped, stats(t).fired);
}

Test(timer, disabled_rule_is_not_fired, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	faas_rule *off = NULL;

	register_fn("tick", tick, FAAS_ISOLATION_THREAD);
	register_fn("other", other, FAAS_ISOLATION_THREAD);
	t = timer("mixed", FAAS_TIMER_INTERVAL, 10, NULL);
	rule(t, "tick");
	cr_assert_eq(faas_rule_new(&off, t, NULL, "other"), 0);
	cr_assert_eq(faas_rule_set_enabled(off, false), 0);
	cr_assert(th_wait(rt, &fires, 3, TH_WAIT_MS));
	cr_assert_eq(atomic_load(&other_fires), 0);
	cr_assert_eq(completed("other"), 0);
	/* enabled again, it fires */
	cr_assert_eq(faas_rule_set_enabled(off, true), 0);
	cr_assert(th_wait(rt, &other_fires, 1, TH_WAIT_MS));
}

Test(timer, rule_to_missing_function_counts_errors, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	faas_trigger_stats s;

	register_fn("tick", tick, FAAS_ISOLATION_THREAD);
	t = timer("dangling", FAAS_TIMER_INTERVAL, 10, NULL);
	rule(t, "nope");
	rule(t, "tick");
	cr_assert(th_wait(rt, &fires, 3, TH_WAIT_MS));
	s = stats(t);
	cr_assert_geq(s.errors, 3);
	cr_assert_geq(s.invoked, 6);
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "nope"));
	/* registered later, the same rule works */
	register_fn("nope", other, FAAS_ISOLATION_THREAD);
	cr_assert(th_wait(rt, &other_fires, 1, TH_WAIT_MS));
}

Test(timer, freed_while_invocation_in_flight, .init = setup, .fini = teardown)
{
	faas_trigger *t;

	atomic_store(&slow_ms, 100);
	register_fn("slow", slow, FAAS_ISOLATION_THREAD);
	t = timer("gone", FAAS_TIMER_INTERVAL, 5, NULL);
	rule(t, "slow");
	cr_assert(th_wait(rt, &entered, 1, TH_WAIT_MS));
	faas_trigger_free(t);
	cr_assert_null(faas_trigger_lookup(rt, "gone"));
	/* The run completes normally, and nothing fires any more. */
	cr_assert(th_wait(rt, &finished, 1, TH_WAIT_MS));
	th_spin(rt, 50);
	cr_assert_eq(completed("slow"), 1);
	cr_assert_eq(atomic_load(&entered), 1);
}

Test(timer, freed_with_oneshot_pending, .init = setup, .fini = teardown)
{
	faas_trigger *t;

	register_fn("tick", tick, FAAS_ISOLATION_THREAD);
	t = timer("never", FAAS_TIMER_ONESHOT, 20, NULL);
	rule(t, "tick");
	faas_trigger_free(t);
	th_spin(rt, 60);
	cr_assert_eq(atomic_load(&fires), 0);
}

Test(timer, runtime_stop_stops_firing, .init = setup, .fini = teardown)
{
	faas_trigger *t;
	uint64_t fired;

	register_fn("tick", tick, FAAS_ISOLATION_INLINE);
	t = timer("stoppable", FAAS_TIMER_INTERVAL, 10, NULL);
	rule(t, "tick");
	cr_assert(th_wait(rt, &fires, 2, TH_WAIT_MS));
	cr_assert_eq(faas_runtime_stop(rt), 0);
	fired = stats(t).fired;
	th_spin(rt, 80);
	cr_assert_eq(stats(t).fired, fired);
	cr_assert_eq(atomic_load(&fires), (int)fired);
}

Test(timer, runtime_freed_with_timers_running, .init = setup, .fini = teardown)
{
	register_fn("slow", slow, FAAS_ISOLATION_THREAD);
	atomic_store(&slow_ms, 30);
	rule(timer("a", FAAS_TIMER_INTERVAL, 5, NULL), "slow");
	rule(timer("b", FAAS_TIMER_CRON, 0, "* * * * * *"), "slow");
	rule(timer("c", FAAS_TIMER_ONESHOT, 100000, NULL), "slow");
	cr_assert(th_wait(rt, &entered, 1, TH_WAIT_MS));
	/* teardown frees the runtime with a run in flight */
}

/* ---- the constructors' rule (trigger.h "Constructors") ---- */

Test(timer, out_may_be_null, .init = setup, .fini = teardown)
{
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
	faas_trigger *t;

	register_fn("tick", tick, FAAS_ISOLATION_INLINE);
	o.interval_ms = 10;
	cr_assert_eq(faas_trigger_timer_new(NULL, rt, "anon", &o), 0, "%s",
		     faas_runtime_last_error(rt));
	/* Owned by the runtime and reachable by name; it runs like any other. */
	t = faas_trigger_lookup(rt, "anon");
	cr_assert_not_null(t);
	cr_assert_str_eq(faas_trigger_kind(t), "timer");
	rule(t, "tick");
	cr_assert(th_wait(rt, &fires, 2, TH_WAIT_MS), "fired %d", atomic_load(&fires));
}

Test(timer, null_options_are_refused_with_a_message, .init = setup, .fini = teardown)
{
	faas_trigger *t = (faas_trigger *)&t;

	cr_assert_eq(faas_trigger_timer_new(&t, rt, "noopts", NULL), FAAS_EINVAL);
	cr_assert_null(t, "*out is reset on failure");
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "noopts"), "%s",
			   faas_runtime_last_error(rt));
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "interval_ms or cron"), "%s",
			   faas_runtime_last_error(rt));
	cr_assert_null(faas_trigger_lookup(rt, "noopts"));
	cr_assert_eq(faas_trigger_timer_new(NULL, rt, "noopts", NULL), FAAS_EINVAL);
	cr_assert_null(faas_trigger_lookup(rt, "noopts"));
}

Test(timer, null_runtime_message_goes_to_the_thread, .init = setup, .fini = teardown)
{
	faas_timer_options o = FAAS_TIMER_OPTIONS_INIT;
	faas_trigger *t = (faas_trigger *)&t;

	o.interval_ms = 10;
	cr_assert_eq(faas_trigger_timer_new(&t, NULL, "x", &o), FAAS_EINVAL);
	cr_assert_null(t);
	cr_assert_not_null(strstr(faas_runtime_last_error(NULL), "rt is NULL"), "%s",
			   faas_runtime_last_error(NULL));
	cr_assert_eq(faas_trigger_timer_new(NULL, NULL, "x", NULL), FAAS_EINVAL);
}
