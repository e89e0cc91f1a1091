/* The runtime's counters in the Prometheus text exposition format (0.0.4),
 * served at GET /_faas/metrics. Built only from the public stats getters, so
 * what a scrape shows is what a host could read itself. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"

/* A scrape larger than this fails rather than grow without bound; at about
 * 5 KB per function it leaves room for over ten thousand functions. */
#define FAAS__METRICS_MAX_BYTES (64u * 1024u * 1024u)
#define FAAS__METRICS_START_BYTES 4096u

/* A label value, escaped as the format wants: backslash, quote, newline. */
static void mb_label(faas__buf *b, const char *value)
{
	for (const char *p = value; *p && !b->failed; p++) {
		if (*p == '\\')
			faas__buf_append(b, "\\\\", 2);
		else if (*p == '"')
			faas__buf_append(b, "\\\"", 2);
		else if (*p == '\n')
			faas__buf_append(b, "\\n", 2);
		else
			faas__buf_append_char(b, *p);
	}
}

static void mb_family(faas__buf *b, const char *name, const char *type, const char *help)
{
	faas__buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The start of a sample with a function label: `name{function="x"` (the
 * caller closes the brace). */
static void mb_sample_fn(faas__buf *b, const char *name, const char *function)
{
	faas__buf_appendf(b, "%s{function=\"", name);
	mb_label(b, function);
	faas__buf_appendf(b, "\"");
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

static void render_outcomes(faas__buf *b, const snaps *s)
{
	mb_family(b, "faas_invocations_total", "counter",
		  "Completed invocations by function and status.");
	for (size_t i = 0; i < s->len; i++) {
		for (int st = 0; st < FAAS_STATUS_COUNT; st++) {
			mb_sample_fn(b, "faas_invocations_total", s->items[i].name);
			faas__buf_appendf(b, ",status=\"%s\"} %llu\n", faas_status_name((faas_status)st),
				  (unsigned long long)s->items[i].stats.activations[st]);
		}
	}

	mb_family(b, "faas_errors_total", "counter",
		  "Invocations that ended in an error other than a throttle or a rejection.");
	for (size_t i = 0; i < s->len; i++) {
		const uint64_t *a = s->items[i].stats.activations;

		mb_sample_fn(b, "faas_errors_total", s->items[i].name);
		faas__buf_appendf(b, "} %llu\n",
			  (unsigned long long)(a[FAAS_STATUS_APPLICATION_ERROR] +
					       a[FAAS_STATUS_DEVELOPER_ERROR] +
					       a[FAAS_STATUS_TIMEOUT] + a[FAAS_STATUS_OOM] +
					       a[FAAS_STATUS_INTERNAL_ERROR]));
	}

}

static void render_function_gauges(faas__buf *b, const snaps *s)
{
	mb_family(b, "faas_throttles_total", "counter",
		  "Invocations refused at a concurrency cap.");
	for (size_t i = 0; i < s->len; i++) {
		mb_sample_fn(b, "faas_throttles_total", s->items[i].name);
		faas__buf_appendf(b, "} %llu\n",
			  (unsigned long long)s->items[i].stats.activations[FAAS_STATUS_THROTTLED]);
	}

	mb_family(b, "faas_cold_starts_total", "counter",
		  "Invocations that ran the module's init first.");
	for (size_t i = 0; i < s->len; i++) {
		mb_sample_fn(b, "faas_cold_starts_total", s->items[i].name);
		faas__buf_appendf(b, "} %llu\n", (unsigned long long)s->items[i].stats.cold_starts);
	}

	mb_family(b, "faas_concurrent_executions", "gauge",
		  "Invocations of the function in flight now.");
	for (size_t i = 0; i < s->len; i++) {
		mb_sample_fn(b, "faas_concurrent_executions", s->items[i].name);
		faas__buf_appendf(b, "} %u\n", s->items[i].stats.in_flight);
	}

	mb_family(b, "faas_function_unhealthy", "gauge",
		  "1 while the function's calls fail fast because its module init keeps "
		  "failing.");
	for (size_t i = 0; i < s->len; i++) {
		mb_sample_fn(b, "faas_function_unhealthy", s->items[i].name);
		faas__buf_appendf(b, "} %u\n", s->items[i].stats.unhealthy);
	}
}

static void render_durations(faas__buf *b, const snaps *s)
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
			faas__buf_appendf(b, ",le=\"%g\"} %llu\n", (double)bounds_ms[k] / 1000.0,
				  (unsigned long long)cumulative);
		}
		for (size_t k = nbounds; k < FAAS_DURATION_BUCKET_COUNT; k++)
			cumulative += st->duration_buckets[k];
		mb_sample_fn(b, "faas_duration_seconds_bucket", s->items[i].name);
		faas__buf_appendf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
		mb_sample_fn(b, "faas_duration_seconds_sum", s->items[i].name);
		faas__buf_appendf(b, "} %.6f\n", (double)st->duration_us_sum / 1e6);
		mb_sample_fn(b, "faas_duration_seconds_count", s->items[i].name);
		faas__buf_appendf(b, "} %llu\n", (unsigned long long)cumulative);
	}

}

bool faas__runtime_degraded(const faas_runtime_stats *rs, char *reason, size_t size)
{
	if (rs->threads == 0) {
		if (reason)
			snprintf(reason, size,
				 "no executor thread can take thread-mode calls: %u stuck past "
				 "a deadline",
				 rs->stuck_threads);
		return true;
	}
	if (rs->stuck_threads > 0) {
		if (reason)
			snprintf(reason, size, "%u thread-mode call%s stuck past %s deadline",
				 rs->stuck_threads, rs->stuck_threads == 1 ? " is" : "s are",
				 rs->stuck_threads == 1 ? "its" : "their");
		return true;
	}
	if (rs->unhealthy_functions > 0) {
		if (reason)
			snprintf(reason, size,
				 "%u function%s unhealthy: %s module init keeps failing",
				 rs->unhealthy_functions,
				 rs->unhealthy_functions == 1 ? " is" : "s are",
				 rs->unhealthy_functions == 1 ? "its" : "their");
		return true;
	}
	return false;
}

static void render_runtime(faas__buf *b, const faas_runtime_stats *rs)
{
	mb_family(b, "faas_runtime_concurrent_executions", "gauge",
		  "Invocations of all functions in flight now.");
	faas__buf_appendf(b, "faas_runtime_concurrent_executions %u\n", rs->in_flight);
	mb_family(b, "faas_runtime_threads", "gauge", "Executor threads able to take work.");
	faas__buf_appendf(b, "faas_runtime_threads %u\n", rs->threads);
	mb_family(b, "faas_runtime_stuck_threads", "gauge",
		  "Executor threads retired at a deadline and still inside a handler.");
	faas__buf_appendf(b, "faas_runtime_stuck_threads %u\n", rs->stuck_threads);
	mb_family(b, "faas_runtime_degraded", "gauge",
		  "1 while no executor thread is live, calls are stuck past their deadlines "
		  "or a function is unhealthy.");
	faas__buf_appendf(b, "faas_runtime_degraded %d\n",
			  faas__runtime_degraded(rs, NULL, 0) ? 1 : 0);
}

static void render(faas__buf *b, const snaps *s, const faas_runtime_stats *rs)
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
	faas__buf b;

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
	faas__buf_init(&b, FAAS__METRICS_MAX_BYTES);
	faas__buf_reserve(&b, FAAS__METRICS_START_BYTES);
	render(&b, &s, &rs);
	free(s.items);
	if (b.failed) {
		faas__buf_free(&b);
		return FAAS_ENOMEM;
	}
	*out = b.data;
	*len = b.len;
	return 0;
}
