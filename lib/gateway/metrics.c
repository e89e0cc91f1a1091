/* The runtime's counters in the Prometheus text exposition format (0.0.4),
 * served at GET /_faas/metrics. Built only from the public stats getters, so
 * what a scrape shows is what a host could read itself. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* A scrape larger than this fails rather than grow without bound; at about
 * 5 KB per function it leaves room for over ten thousand functions. */
#define FAAS__METRICS_MAX_BYTES (64u * 1024u * 1024u)
#define FAAS__METRICS_START_BYTES 4096u

typedef struct mbuf {
	char *data;
	size_t len, cap;
	bool failed;
} mbuf;

static void mb_reserve(mbuf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : FAAS__METRICS_START_BYTES;
	char *grown;

	if (b->failed)
		return;
	if (extra > FAAS__METRICS_MAX_BYTES || b->len + extra + 1 > FAAS__METRICS_MAX_BYTES) {
		b->failed = true;
		return;
	}
	if (b->len + extra + 1 <= b->cap)
		return;
	while (cap < b->len + extra + 1)
		cap *= 2;
	if (cap > FAAS__METRICS_MAX_BYTES)
		cap = FAAS__METRICS_MAX_BYTES;
	grown = realloc(b->data, cap);
	if (!grown) {
		b->failed = true;
		return;
	}
	b->data = grown;
	b->cap = cap;
}

static void mb_printf(mbuf *b, const char *fmt, ...) FAAS_PRINTF(2, 3);

static void mb_printf(mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	mb_reserve(b, (size_t)n);
	if (b->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A label value, escaped as the format wants: backslash, quote, newline. */
static void mb_label(mbuf *b, const char *value)
{
	for (const char *p = value; *p && !b->failed; p++) {
		if (*p == '\\')
			mb_printf(b, "\\\\");
		else if (*p == '"')
			mb_printf(b, "\\\"");
		else if (*p == '\n')
			mb_printf(b, "\\n");
		else
			mb_printf(b, "%c", *p);
	}
}

static void mb_family(mbuf *b, const char *name, const char *type, const char *help)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The start of a sample with a function label: `name{function="x"` (the
 * caller closes the brace). */
static void mb_sample_fn(mbuf *b, const char *name, const char *function)
{
	mb_printf(b, "%s{function=\"", name);
	mb_label(b, function);
	mb_printf(b, "\"");
}

/* ---- a snapshot of every function, sorted by name for a stable scrape ---- */

typedef struct fn_snap {
	const char *name; /* borrowed: the scrape is built before anything runs */
	faas_fn_stats stats;
} fn_snap;

typedef struct snaps {
	fn_snap *items;
	size_t len, cap;
	bool failed;
} snaps;

static int snap_visit(faas_fn *fn, void *userdata)
{
	snaps *s = userdata;

	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		fn_snap *grown = realloc(s->items, cap * sizeof(*grown));

		if (!grown) {
			s->failed = true;
			return 1;
		}
		s->items = grown;
		s->cap = cap;
	}
	s->items[s->len].name = faas_fn_name(fn);
	faas_fn_stats_get(&s->items[s->len].stats, fn);
	s->len++;
	return 0;
}

static int snap_cmp(const void *a, const void *b)
{
	return strcmp(((const fn_snap *)a)->name, ((const fn_snap *)b)->name);
}

/* ---- the families ---- */

static void render_outcomes(mbuf *b, const snaps *s)
{
	mb_family(b, "faas_invocations_total", "counter",
		  "Completed invocations by function and status.");
	for (size_t i = 0; i < s->len; i++) {
		for (int st = 0; st < FAAS_STATUS_COUNT; st++) {
			mb_sample_fn(b, "faas_invocations_total", s->items[i].name);
			mb_printf(b, ",status=\"%s\"} %llu\n", faas_status_name((faas_status)st),
				  (unsigned long long)s->items[i].stats.activations[st]);
		}
	}

	mb_family(b, "faas_errors_total", "counter",
		  "Invocations that ended in an error other than a throttle or a rejection.");
	for (size_t i = 0; i < s->len; i++) {
		const uint64_t *a = s->items[i].stats.activations;

		mb_sample_fn(b, "faas_errors_total", s->items[i].name);
		mb_printf(b, "} %llu\n",
			  (unsigned long long)(a[FAAS_STATUS_APPLICATION_ERROR] +
					       a[FAAS_STATUS_DEVELOPER_ERROR] +
					       a[FAAS_STATUS_TIMEOUT] + a[FAAS_STATUS_OOM] +
					       a[FAAS_STATUS_INTERNAL_ERROR]));
	}

}

static void render_function_gauges(mbuf *b, const snaps *s)
{
	mb_family(b, "faas_throttles_total", "counter",
		  "Invocations refused at a concurrency cap.");
	for (size_t i = 0; i < s->len; i++) {
		mb_sample_fn(b, "faas_throttles_total", s->items[i].name);
		mb_printf(b, "} %llu\n",
			  (unsigned long long)s->items[i].stats.activations[FAAS_STATUS_THROTTLED]);
	}

	mb_family(b, "faas_cold_starts_total", "counter",
		  "Invocations that ran the module's init first.");
	for (size_t i = 0; i < s->len; i++) {
		mb_sample_fn(b, "faas_cold_starts_total", s->items[i].name);
		mb_printf(b, "} %llu\n", (unsigned long long)s->items[i].stats.cold_starts);
	}

	mb_family(b, "faas_concurrent_executions", "gauge",
		  "Invocations of the function in flight now.");
	for (size_t i = 0; i < s->len; i++) {
		mb_sample_fn(b, "faas_concurrent_executions", s->items[i].name);
		mb_printf(b, "} %u\n", s->items[i].stats.in_flight);
	}

}

static void render_durations(mbuf *b, const snaps *s)
{
	static const uint64_t bounds_ms[] = FAAS_DURATION_BUCKETS_MS;
	const size_t nbounds = sizeof(bounds_ms) / sizeof(bounds_ms[0]);

	mb_family(b, "faas_duration_seconds", "histogram",
		  "Run time of started invocations (init excluded).");
	for (size_t i = 0; i < s->len; i++) {
		const faas_fn_stats *st = &s->items[i].stats;
		uint64_t cumulative = 0;

		/* The stats count each bucket alone; Prometheus wants each `le`
		 * to include everything below it. */
		for (size_t k = 0; k < nbounds && k < FAAS_DURATION_BUCKET_COUNT; k++) {
			cumulative += st->duration_buckets[k];
			mb_sample_fn(b, "faas_duration_seconds_bucket", s->items[i].name);
			mb_printf(b, ",le=\"%g\"} %llu\n", (double)bounds_ms[k] / 1000.0,
				  (unsigned long long)cumulative);
		}
		for (size_t k = nbounds; k < FAAS_DURATION_BUCKET_COUNT; k++)
			cumulative += st->duration_buckets[k];
		mb_sample_fn(b, "faas_duration_seconds_bucket", s->items[i].name);
		mb_printf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
		mb_sample_fn(b, "faas_duration_seconds_sum", s->items[i].name);
		mb_printf(b, "} %.6f\n", (double)st->duration_us_sum / 1e6);
		mb_sample_fn(b, "faas_duration_seconds_count", s->items[i].name);
		mb_printf(b, "} %llu\n", (unsigned long long)cumulative);
	}

}

static void render_runtime(mbuf *b, const faas_runtime_stats *rs)
{
	mb_family(b, "faas_runtime_concurrent_executions", "gauge",
		  "Invocations of all functions in flight now.");
	mb_printf(b, "faas_runtime_concurrent_executions %u\n", rs->in_flight);
	mb_family(b, "faas_runtime_threads", "gauge", "Executor threads able to take work.");
	mb_printf(b, "faas_runtime_threads %u\n", rs->threads);
	mb_family(b, "faas_runtime_stuck_threads", "gauge",
		  "Executor threads retired at a deadline and still inside a handler.");
	mb_printf(b, "faas_runtime_stuck_threads %u\n", rs->stuck_threads);
}

static void render(mbuf *b, const snaps *s, const faas_runtime_stats *rs)
{
	render_outcomes(b, s);
	render_function_gauges(b, s);
	render_durations(b, s);
	render_runtime(b, rs);
}

int faas__metrics_render(char **out, size_t *len, faas_runtime *rt)
{
	snaps s = {NULL, 0, 0, false};
	faas_runtime_stats rs;
	mbuf b = {NULL, 0, 0, false};

	if (!out || !len || !rt)
		return FAAS_EINVAL;
	*out = NULL;
	*len = 0;
	if (faas_runtime_stats_get(&rs, rt) != 0)
		return FAAS_EINVAL;
	faas_fn_foreach(rt, snap_visit, &s);
	if (s.failed) {
		free(s.items);
		return FAAS_ENOMEM;
	}
	if (s.len > 1)
		qsort(s.items, s.len, sizeof(*s.items), snap_cmp);
	mb_reserve(&b, 0);
	render(&b, &s, &rs);
	free(s.items);
	if (b.failed) {
		free(b.data);
		return FAAS_ENOMEM;
	}
	*out = b.data;
	*len = b.len;
	return 0;
}
