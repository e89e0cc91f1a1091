/* Timer triggers: every interval, once, or on a cron schedule.
 *
 * Each kind drives one uv_timer that is armed for a single shot at a time.
 * Interval ticks are due at start + n * period on the monotonic clock and
 * every re-arm aims at the next of those instants, so the callback's own
 * latency never accumulates into drift. A loop that was blocked past several
 * ticks gets one fire, for the latest tick due; the others are counted as
 * skipped rather than delivered in a burst. Cron ticks aim at the next fire
 * time on the wall clock, and a tick that arrives before it (the wall clock
 * was set back, or the monotonic timer ran a little fast) re-arms instead of
 * firing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "trigger_internal.h"
#include "faas/cron.h"

/* Longest interval or one-shot delay: a year. */
#define TIMER_INTERVAL_MAX_MS (365ull * 24 * 3600 * 1000)
/* Longest accepted detail text; every event carries a copy of it. */
#define TIMER_DETAIL_MAX (256u * 1024u)
/* A cron timer never sleeps longer than this without looking at the wall
 * clock again, so it follows the clock being set or stepped by NTP. */
#define TIMER_CRON_RECHECK_MS 60000u
/* At most this many missed cron fire times are counted per tick (a loop
 * blocked for hours under a per-second schedule need not count them all). */
#define TIMER_MISSED_COUNT_MAX 10000u

#define RESOURCE_PREFIX "libfaas:timer/"
/* Room for "YYYY-MM-DDTHH:MM:SSZ" with any 64-bit year. */

typedef struct timer_trigger {
	faas_trigger base; /* first: the core casts between the two */
	uv_timer_t timer;
	faas_timer_kind kind;
	bool local_time;
	bool allow_overlap;
	bool stopped;
	uint64_t period_ns;
	uint64_t start_ns;      /* uv_hrtime() at creation: tick n is due at start + n * period */
	uint64_t start_wall_us; /* the wall clock at the same moment, for the events' "time" */
	uint64_t tick;          /* the tick the timer is armed for */
	faas_cron *cron;
	int64_t cron_at;        /* the fire time the timer is armed for */
	cJSON *detail;
	faas__idgen ids;
	char resource[sizeof(RESOURCE_PREFIX) + FAAS__NAME_MAX];
	/* The event, built once: a fire only rewrites its id and time, in place
	 * (see prepare_event). NULL if building it failed; fires retry. */
	cJSON *ev;
	char *ev_id;       /* the "id" string's buffer: 36 characters */
	char *ev_time;     /* the "time" string's buffer: FAAS__DATE_ISO_SIZE bytes */
	int64_t ev_at;     /* the second ev_time shows; INT64_MIN for none yet */
	bool ev_ready;     /* ev_id is fresh: no fire has used it */
	bool ev_busy;      /* rules are being fired with ev (a handler may be reading it) */
} timer_trigger;

int faas_timer_options_init(faas_timer_options *opts, unsigned int version)
{
	/* Static, so its padding is zero too and the bytes match the macro's. */
	static const faas_timer_options tmpl = FAAS_TIMER_OPTIONS_INIT;

	if (!opts || version != FAAS_TIMER_OPTIONS_VERSION)
		return FAAS_EINVAL;
	memcpy(opts, &tmpl, sizeof(tmpl));
	return 0;
}

/* ---- events ---- */

/* A random-looking id in the UUID layout EventBridge uses (version 4). */
static void event_id(timer_trigger *tt, char out[37])
{
	char hex[FAAS__ID_LEN + 1];
	int j = 0;

	faas__idgen_next(&tt->ids, hex);
	hex[12] = '4';
	hex[16] = "89ab"[hex[16] % 4];
	for (int i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[j++] = '-';
		out[j++] = hex[i];
	}
	out[j] = '\0';
}

/* A string item whose buffer holds size bytes, so that it can be rewritten
 * in place; *buf receives the buffer. */
#define PLACEHOLDER_MAX 40u /* the id (37) and the time (21) */

static bool add_buffer_string(cJSON *obj, const char *key, size_t size, char **buf)
{
	cJSON *item;

	/* A placeholder of the full size, so that cJSON allocates that much. */
	char fill[PLACEHOLDER_MAX];

	memset(fill, 'x', size - 1);
	fill[size - 1] = '\0';
	item = cJSON_AddStringToObject(obj, key, fill);
	if (!item)
		return false;
	*buf = item->valuestring;
	return true;
}

/* A new event for tt; with id and time set only if id_out and time_out are
 * NULL (else their buffers are returned, to be filled). */
static cJSON *new_event(timer_trigger *tt, int64_t at_s, char **id_out, char **time_out)
{
	cJSON *ev = cJSON_CreateObject(), *res, *detail;
	char id[37], when[FAAS__DATE_ISO_SIZE];
	bool ok;

	if (!ev)
		return NULL;
	if (!id_out) {
		event_id(tt, id);
		faas__date_iso(when, at_s);
	}
	detail = tt->detail ? cJSON_Duplicate(tt->detail, true) : cJSON_CreateObject();
	res = cJSON_CreateArray();
	ok = detail && res && cJSON_AddItemToArray(res, cJSON_CreateString(tt->resource)) &&
	     cJSON_AddStringToObject(ev, "version", "0") &&
	     (id_out ? add_buffer_string(ev, "id", 37, id_out)
		     : cJSON_AddStringToObject(ev, "id", id) != NULL) &&
	     cJSON_AddStringToObject(ev, "detail-type", "Scheduled Event") &&
	     cJSON_AddStringToObject(ev, "source", "libfaas.timer") &&
	     cJSON_AddStringToObject(ev, "account", "000000000000") &&
	     (time_out ? add_buffer_string(ev, "time", FAAS__DATE_ISO_SIZE, time_out)
		       : cJSON_AddStringToObject(ev, "time", when) != NULL) &&
	     cJSON_AddStringToObject(ev, "region", "local");
	if (!ok) {
		cJSON_Delete(detail);
		cJSON_Delete(res);
		cJSON_Delete(ev);
		return NULL;
	}
	cJSON_AddItemToObject(ev, "resources", res);
	cJSON_AddItemToObject(ev, "detail", detail);
	return ev;
}

/* Make tt->ev ready for a fire at at_s: a fresh id, and the time. Called
 * after each fire, on a warm cache, for the next tick, so that the fire
 * itself only checks. Never while a handler may be reading the event. */
static bool prepare_event(timer_trigger *tt, int64_t at_s)
{
	if (tt->ev_busy)
		return false;
	if (!tt->ev) {
		tt->ev = new_event(tt, at_s, &tt->ev_id, &tt->ev_time);
		if (!tt->ev)
			return false;
		tt->ev_at = INT64_MIN;
		tt->ev_ready = false;
	}
	if (!tt->ev_ready) {
		event_id(tt, tt->ev_id);
		tt->ev_ready = true;
	}
	if (at_s != tt->ev_at) {
		faas__date_iso(tt->ev_time, at_s);
		tt->ev_at = at_s;
	}
	return true;
}

/* Timer invocations answer nobody: their outcome lives in the activation
 * store, the logs and the function's stats. */
static void on_rule_done(faas_rule *rule, const faas_activation *act, int err, void *arg)
{
	(void)rule;
	(void)act;
	(void)err;
	(void)arg;
}

static void fire(timer_trigger *tt, int64_t at_s)
{
	faas_trigger *t = &tt->base;
	cJSON *ev = NULL, *own = NULL;
	bool shared = false;

	t->stats.fired++;
	for (faas_rule *r = t->rules; r && !t->closing; r = r->next) {
		if (!r->enabled)
			continue;
		if (r->in_flight > 0 && !tt->allow_overlap) {
			t->stats.skipped++;
			continue;
		}
		if (!ev) {
			/* The shared event, unless a handler is reading it. That
			 * cannot happen today (the timer is re-armed only after
			 * this returns, so no fire nests in a handler), but an
			 * event must never change under a handler: a copy then. */
			if (prepare_event(tt, at_s)) {
				ev = tt->ev;
				shared = true;
				tt->ev_busy = true;
				tt->ev_ready = false;
			} else if (!(ev = own = new_event(tt, at_s, NULL, NULL))) {
				t->stats.errors++;
				faas__fail(t->rt, FAAS_ENOMEM, "%s: out of memory building an event",
					   t->name);
				return;
			}
		}
		/* Errors (no such function, ...) are counted by the core. */
		faas__rule_fire(r, ev, NULL, 0, on_rule_done, NULL, NULL);
		/* An inline handler may have removed this rule (and others) from
		 * the list; its next pointer is not to be trusted then. */
		if (!r->linked)
			break;
	}
	/* The trigger outlives its handlers' calls: its memory goes only after
	 * its handle's close callback, on a later loop turn. */
	if (shared)
		tt->ev_busy = false;
	cJSON_Delete(own);
}

/* Ready the event for the tick the timer is now armed for, while the caches
 * are warm; only when a rule could use it. */
static void prepare_next(timer_trigger *tt, int64_t at_s)
{
	if (tt->base.rules && !tt->stopped && !tt->base.closing)
		prepare_event(tt, at_s);
}

/* ---- interval and one-shot ---- */

static void on_interval(uv_timer_t *h);

static void arm_interval(timer_trigger *tt)
{
	uint64_t due = tt->start_ns + tt->tick * tt->period_ns, now, delay_ms = 0;

	/* The loop's cached time may be stale by this callback's own work; the
	 * timer counts from it. */
	uv_update_time(tt->timer.loop);
	now = uv_hrtime();
	if (due > now)
		delay_ms = (due - now + 999999) / 1000000;
	uv_timer_start(&tt->timer, on_interval, delay_ms, 0);
}

/* The wall-clock second of interval tick n, for the events' "time". */
static int64_t tick_time(const timer_trigger *tt, uint64_t tick)
{
	return (int64_t)((tt->start_wall_us + tick * (tt->period_ns / 1000)) / 1000000);
}

static void on_interval(uv_timer_t *h)
{
	timer_trigger *tt = h->data;
	uint64_t now = uv_hrtime(), latest;

	if (tt->stopped || tt->base.closing)
		return;
	/* The latest tick due; the timer may run up to a millisecond early. A
	 * one-shot has a single tick, however late it comes. */
	latest = now > tt->start_ns ? (now - tt->start_ns) / tt->period_ns : 0;
	if (latest < tt->tick || tt->kind == FAAS_TIMER_ONESHOT)
		latest = tt->tick;
	tt->base.stats.skipped += latest - tt->tick;
	fire(tt, tick_time(tt, latest));
	if (tt->kind == FAAS_TIMER_ONESHOT || tt->stopped || tt->base.closing)
		return;
	tt->tick = latest + 1;
	arm_interval(tt);
	prepare_next(tt, tick_time(tt, tt->tick));
}

/* ---- cron ---- */

static void on_cron(uv_timer_t *h);

static uint64_t wall_ms(void)
{
	return faas__wall_us() / 1000;
}

/* Arm for the first fire time after after_s; a schedule with none left stays
 * silent. */
static void arm_cron(timer_trigger *tt, int64_t after_s)
{
	int64_t next;
	uint64_t now = wall_ms(), delay = 0;

	if (faas_cron_next(tt->cron, after_s, tt->local_time, &next) != 0) {
		tt->cron_at = -1;
		return;
	}
	tt->cron_at = next;
	uv_update_time(tt->timer.loop);
	if ((uint64_t)next * 1000 > now)
		delay = (uint64_t)next * 1000 - now;
	if (delay > TIMER_CRON_RECHECK_MS)
		delay = TIMER_CRON_RECHECK_MS;
	uv_timer_start(&tt->timer, on_cron, delay, 0);
}

static void on_cron(uv_timer_t *h)
{
	timer_trigger *tt = h->data;
	uint64_t now = wall_ms();
	int64_t now_s = (int64_t)(now / 1000), at = tt->cron_at, next;
	unsigned int missed = 0;

	if (tt->stopped || tt->base.closing)
		return;
	if (now < (uint64_t)at * 1000) {
		/* Early: a recheck, or the clock moved back. Aim again from now. */
		arm_cron(tt, now_s);
		return;
	}
	while (missed < TIMER_MISSED_COUNT_MAX &&
	       faas_cron_next(tt->cron, at, tt->local_time, &next) == 0 && next <= now_s) {
		at = next;
		missed++;
	}
	tt->base.stats.skipped += missed;
	fire(tt, at);
	if (tt->stopped || tt->base.closing)
		return;
	arm_cron(tt, now_s > at ? now_s : at);
	if (tt->cron_at >= 0)
		prepare_next(tt, tt->cron_at);
}

/* ---- the kind ---- */

static void timer_stop(faas_trigger *t)
{
	timer_trigger *tt = (timer_trigger *)t;

	tt->stopped = true;
	uv_timer_stop(&tt->timer);
}

static void on_timer_closed(uv_handle_t *h)
{
	timer_trigger *tt = h->data;

	faas__trigger_closed(&tt->base);
}

static void timer_close(faas_trigger *t)
{
	timer_trigger *tt = (timer_trigger *)t;

	tt->stopped = true;
	uv_close((uv_handle_t *)&tt->timer, on_timer_closed);
}

static void timer_destroy(faas_trigger *t)
{
	timer_trigger *tt = (timer_trigger *)t;

	faas_cron_free(tt->cron);
	cJSON_Delete(tt->detail);
	cJSON_Delete(tt->ev);
	free(tt);
}

static const faas__trigger_ops timer_ops = {
	.kind = "timer",
	.stop = timer_stop,
	.close = timer_close,
	.destroy = timer_destroy,
	.route_parse = NULL,
	.route_free = NULL,
};

static int check_options(timer_trigger *tt, const faas_timer_options *o)
{
	faas_runtime *rt = tt->base.rt;
	const char *name = tt->base.name;

	if (o->version != FAAS_TIMER_OPTIONS_VERSION)
		return faas__fail(rt, FAAS_EINVAL, "%s: timer options version %u, expected %u",
				  name, o->version, FAAS_TIMER_OPTIONS_VERSION);
	switch (o->kind) {
	case FAAS_TIMER_INTERVAL:
	case FAAS_TIMER_ONESHOT:
		if (o->interval_ms < 1 || o->interval_ms > TIMER_INTERVAL_MAX_MS)
			return faas__fail(rt, FAAS_EINVAL,
					  "%s: interval_ms: expected 1..%llu, got %llu", name,
					  (unsigned long long)TIMER_INTERVAL_MAX_MS,
					  (unsigned long long)o->interval_ms);
		if (o->cron)
			return faas__fail(rt, FAAS_EINVAL,
					  "%s: cron: only used by the cron kind", name);
		break;
	case FAAS_TIMER_CRON:
		if (!o->cron)
			return faas__fail(rt, FAAS_EINVAL,
					  "%s: cron: an expression is required for the cron kind",
					  name);
		if (o->interval_ms != 0)
			return faas__fail(rt, FAAS_EINVAL,
					  "%s: interval_ms: not used by the cron kind (leave it 0)",
					  name);
		break;
	default:
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: kind: expected interval (0), oneshot (1) or cron (2), got %d",
				  name, (int)o->kind);
	}
	if (o->detail && strnlen(o->detail, TIMER_DETAIL_MAX + 1) > TIMER_DETAIL_MAX)
		return faas__fail(rt, FAAS_EINVAL, "%s: detail: longer than %u bytes", name,
				  TIMER_DETAIL_MAX);
	return 0;
}

static int parse_options(timer_trigger *tt, const faas_timer_options *o)
{
	faas_runtime *rt = tt->base.rt;
	const char *name = tt->base.name;
	int rc = check_options(tt, o);

	if (rc != 0)
		return rc;
	tt->kind = o->kind;
	tt->local_time = o->local_time;
	tt->allow_overlap = o->allow_overlap;
	tt->period_ns = o->interval_ms * 1000000u;
	if (o->kind == FAAS_TIMER_CRON) {
		char err[FAAS__ERRMSG_SIZE - FAAS__NAME_MAX - 16];

		rc = faas_cron_parse(&tt->cron, o->cron, err, sizeof(err));
		if (rc == FAAS_ENOMEM)
			return faas__fail(rt, rc, "%s: out of memory", name);
		if (rc != 0)
			return faas__fail(rt, rc, "%s: cron: %s", name, err);
	}
	if (o->detail) {
		tt->detail = cJSON_ParseWithOpts(o->detail, NULL, true);
		if (!tt->detail)
			return faas__fail(rt, FAAS_EINVAL, "%s: detail: not valid JSON", name);
		if (!cJSON_IsObject(tt->detail))
			return faas__fail(rt, FAAS_EINVAL, "%s: detail: expected a JSON object",
					  name);
	}
	snprintf(tt->resource, sizeof(tt->resource), RESOURCE_PREFIX "%s", name);
	return faas__idgen_init(&tt->ids);
}

int faas_trigger_timer_new(faas_trigger **out, faas_runtime *rt, const char *name,
			   const faas_timer_options *opts)
{
	timer_trigger *tt;
	int rc;

	if (out)
		*out = NULL;
	if (!rt)
		return faas__fail(NULL, FAAS_EINVAL, "faas_trigger_timer_new: rt is NULL");
	/* No default describes a timer: it needs a period or a schedule. */
	if (!opts)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: timer options are NULL (a timer needs interval_ms or cron)",
				  name ? name : "timer");
	tt = calloc(1, sizeof(*tt));
	if (!tt)
		return faas__fail(rt, FAAS_ENOMEM, "out of memory");
	rc = faas__trigger_init(&tt->base, &timer_ops, rt, name);
	if (rc != 0) {
		free(tt);
		return rc;
	}
	rc = parse_options(tt, opts);
	if (rc == 0 && uv_timer_init(rt->loop, &tt->timer) != 0)
		rc = faas__fail(rt, FAAS_ESYSTEM, "%s: uv_timer_init failed", name);
	if (rc != 0) {
		faas__trigger_abort(&tt->base);
		return rc;
	}
	tt->timer.data = tt;
	if (tt->kind == FAAS_TIMER_CRON) {
		arm_cron(tt, (int64_t)(wall_ms() / 1000));
	} else {
		tt->start_ns = uv_hrtime();
		tt->start_wall_us = faas__wall_us();
		tt->tick = 1;
		arm_interval(tt);
	}
	/* Built now, not on the first tick's latency; without memory, the fire
	 * tries again. */
	prepare_event(tt, tt->kind == FAAS_TIMER_CRON ? tt->cron_at : tick_time(tt, 1));
	if (out)
		*out = &tt->base;
	return 0;
}
