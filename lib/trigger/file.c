/* The file trigger: changes under a directory (or to one file) become S3-like
 * "Records" events, debounced, batched and bounded, fired at every enabled
 * rule. The inotify side lives in file_watch.c; the pending queue, batching
 * and the event's text in file_events.c.
 *
 * Records. Each change is queued as one record: created, modified, deleted,
 * renamed (old and new key, when both halves of a move happened inside the
 * watched tree), or libfaas:WatchLost when the watched path itself went away.
 * While a record waits, a later "modified" of the same key is folded into a
 * pending "created" or "modified" of that key, and a duplicate "created" (an
 * event and the scan of a new directory both seeing a file) is folded too, so
 * a file written in one go gives one record. The debounce window is fixed
 * from the first record of a batch, not restarted by later ones, so a busy
 * directory cannot postpone delivery forever. With debounce_ms 0 there is no
 * window: what one wake-up read is delivered from that same callback. At most
 * batch_max records go in one invocation; the rest go in the next, on the
 * next loop iteration.
 * Records beyond queue_max, and kernel queue overflows, count in
 * stats.dropped.
 *
 * Masks and globs. A rename whose kind is masked out, or whose old or new key
 * fails the glob, is reported as the halves that pass: a deletion of the old
 * key and a creation of the new one. WatchLost ignores both: it is always
 * delivered. The glob is fnmatch(3) without FNM_PATHNAME, so '*' also
 * matches '/' ("*.txt" matches "sub/a.txt").
 *
 * Loss and re-arming. If the watched path disappears (deleted or moved
 * away), one WatchLost record is queued and the path is polled every
 * FAAS__FILE_REARM_MS until it exists again; the same polling arms a trigger
 * whose path did not exist at creation. Arming reports nothing for what is
 * already there: the host sees the WatchLost and can rescan if it cares.
 *
 * Loop prevention: chain depth, as AWS does for Lambda recursion. A function
 * that writes into its own watched directory would otherwise fire itself
 * forever. Every record carries a generation. A record that arrives while an
 * invocation fired by this trigger is in flight, or within
 * FAAS__FILE_CHAIN_QUIET_MS after the last one finished, is attributed to
 * that chain: its generation is the chain's plus one; any other record starts
 * at 0. A batch's generation is the highest of its records'. Records whose
 * generation reaches FAAS__FILE_CHAIN_MAX are not delivered; they count in
 * stats.skipped. So a self-feeding chain stops after FAAS__FILE_CHAIN_MAX
 * generations, and the next external change, once the chain has been quiet
 * for the quiet period, starts a new chain at 0. The price: an external
 * change that happens to arrive while a chain is running is counted as part
 * of it, so under constant traffic with invocations always in flight some
 * records are skipped every FAAS__FILE_CHAIN_MAX batches. Writes a handler
 * leaves to another thread, to finish after the quiet period, escape the
 * detection. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "file_internal.h"

/* Option ranges. */
#define FAAS__FILE_DEBOUNCE_MAX_MS 60000u
#define FAAS__FILE_BATCH_LIMIT 10000u
#define FAAS__FILE_QUEUE_LIMIT 1000000u
#define FAAS__FILE_GLOB_MAX 1024u
/* How often a missing path is looked for. */
#define FAAS__FILE_REARM_MS 200u
int faas_file_options_init(faas_file_options *opts, unsigned int version)
{
	/* Static, so that its padding is zero like the macro's in static storage. */
	static const faas_file_options tmpl = FAAS_FILE_OPTIONS_INIT;

	if (!opts || version != FAAS_FILE_OPTIONS_VERSION)
		return FAAS_EINVAL;
	memcpy(opts, &tmpl, sizeof(tmpl));
	return 0;
}

static bool attributed(const faas__file_trigger *ft, uint64_t now_ns)
{
	return ft->inflight > 0 || now_ns < ft->quiet_until_ns;
}

/* ---- from inotify to records ---- */

static bool wanted(const faas__file_trigger *ft, unsigned int kind, const char *key)
{
	return (ft->events & kind) && (!ft->glob || fnmatch(ft->glob, key, 0) == 0);
}

static void on_rearm(uv_timer_t *h);
static void on_debounce(uv_timer_t *h);
static void deliver(faas__file_trigger *ft);

/* Queue a change as a record, of the generation loop prevention gives it,
 * and start the debounce window if the record is the batch's first. */
static void queue_change(faas__file_trigger *ft, unsigned int kind, const char *key,
			 const char *old_key)
{
	unsigned int gen = 0;

	if (kind != FAAS__FILE_KIND_LOST && attributed(ft, faas__now_ns()))
		gen = ft->chain_gen + 1;
	if (!faas__file_enqueue(ft, kind, key, old_key, gen))
		return;
	/* Without a debounce window, on_readable delivers as soon as it has
	 * read everything: no timer, no extra loop turn. */
	if (ft->debounce_ms == 0 && ft->reading)
		return;
	if (!uv_is_active((uv_handle_t *)&ft->debounce))
		uv_timer_start(&ft->debounce, on_debounce, ft->debounce_ms, 0);
}

static void on_change(void *arg, unsigned int kind, const char *key, const char *old_key)
{
	faas__file_trigger *ft = arg;

	switch (kind) {
	case FAAS__FW_ERROR:
		ft->base.stats.errors++;
		break;
	case FAAS__FW_OVERFLOW:
		ft->base.stats.dropped++;
		break;
	case FAAS__FW_LOST:
		queue_change(ft, FAAS__FILE_KIND_LOST, "", NULL);
		if (!ft->stopped)
			uv_timer_start(&ft->rearm, on_rearm, FAAS__FILE_REARM_MS,
				       FAAS__FILE_REARM_MS);
		break;
	case FAAS_FILE_RENAMED:
		if (wanted(ft, FAAS_FILE_RENAMED, key) && wanted(ft, FAAS_FILE_RENAMED, old_key)) {
			queue_change(ft, FAAS_FILE_RENAMED, key, old_key);
		} else {
			if (wanted(ft, FAAS_FILE_DELETED, old_key))
				queue_change(ft, FAAS_FILE_DELETED, old_key, NULL);
			if (wanted(ft, FAAS_FILE_CREATED, key))
				queue_change(ft, FAAS_FILE_CREATED, key, NULL);
		}
		break;
	default:
		if (wanted(ft, kind, key))
			queue_change(ft, kind, key, NULL);
		break;
	}
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	faas__file_trigger *ft = h->data;

	(void)events;
	if (status < 0) {
		ft->base.stats.errors++;
		uv_poll_stop(h);
		return;
	}
	if (ft->stopped)
		return;
	ft->reading = true;
	faas__fw_read(&ft->fw);
	ft->reading = false;
	if (ft->head && !uv_is_active((uv_handle_t *)&ft->debounce))
		deliver(ft);
}

static void on_rearm(uv_timer_t *h)
{
	faas__file_trigger *ft = h->data;
	int rc = faas__fw_arm(&ft->fw);

	if (rc == 0) {
		uv_timer_stop(h);
		ft->arm_error_counted = false;
	} else if (rc != -ENOENT && !ft->arm_error_counted) {
		/* Once per outage: the poll would count it every tick. */
		ft->base.stats.errors++;
		ft->arm_error_counted = true;
	}
}

static void on_done(faas_rule *rule, const faas_activation *act, int err, void *arg)
{
	faas__file_trigger *ft = arg;

	(void)rule;
	(void)act;
	(void)err;
	/* The trigger is alive (the rule holds it) even if it is closing. */
	if (--ft->inflight == 0)
		ft->quiet_until_ns =
			faas__now_ns() + (uint64_t)FAAS__FILE_CHAIN_QUIET_MS * 1000000u;
}

static void fire_rules(faas__file_trigger *ft, const char *text, size_t len, unsigned int gen)
{
	faas_trigger *t = &ft->base;
	bool chained = attributed(ft, faas__now_ns());
	unsigned int prev = ft->chain_gen;

	ft->chain_gen = chained && prev > gen ? prev : gen;
	for (faas_rule *r = t->rules, *next; r && !t->closing; r = next) {
		next = r->next;
		if (!r->enabled)
			continue;
		/* Counted first: an inline handler runs inside the call. */
		ft->inflight++;
		if (faas__rule_fire(r, NULL, text, len, on_done, ft, NULL) != 0)
			ft->inflight--;
	}
}

/* Fire one batch of pending records; more go on the next loop turn. */
static void deliver(faas__file_trigger *ft)
{
	unsigned int n, gen;
	faas__buf text;

	if (ft->stopped)
		return;
	n = faas__file_batch_text(ft, &gen);
	if (ft->head)
		uv_timer_start(&ft->debounce, on_debounce, 0, 0);
	/* Taken from the trigger for the call: a handler running the loop may
	 * deliver again, into a buffer of its own. */
	text = ft->text;
	faas__buf_init(&ft->text, 0);
	if (n > 0) {
		ft->base.stats.fired++;
		fire_rules(ft, text.data, text.len, gen);
	}
	/* The trigger's memory outlives this call even if a handler freed the
	 * trigger: it goes after the handles' close callbacks. */
	if (!ft->text.data && text.cap <= FAAS__FILE_TEXT_KEEP)
		ft->text = text;
	else
		faas__buf_free(&text);
}

static void on_debounce(uv_timer_t *h)
{
	deliver(h->data);
}

/* ---- lifetime ---- */

static void release(faas__file_trigger *ft)
{
	faas__file_queue_free(ft);
	faas__fw_free(&ft->fw);
}

static void file_stop(faas_trigger *t)
{
	faas__file_trigger *ft = (faas__file_trigger *)t;

	ft->stopped = true;
	uv_poll_stop(&ft->poll);
	uv_timer_stop(&ft->debounce);
	uv_timer_stop(&ft->rearm);
}

static void on_closed(uv_handle_t *h)
{
	faas__file_trigger *ft = h->data;

	if (--ft->open > 0)
		return;
	/* The descriptor goes only now: libuv may use it until the poll handle's
	 * close callback. */
	release(ft);
	faas__trigger_closed(&ft->base);
}

static void file_close(faas_trigger *t)
{
	faas__file_trigger *ft = (faas__file_trigger *)t;

	file_stop(t);
	uv_close((uv_handle_t *)&ft->poll, on_closed);
	uv_close((uv_handle_t *)&ft->debounce, on_closed);
	uv_close((uv_handle_t *)&ft->rearm, on_closed);
}

static void file_destroy(faas_trigger *t)
{
	faas__file_trigger *ft = (faas__file_trigger *)t;

	release(ft);
	free(ft->glob);
	free(ft);
}

static const faas__trigger_ops file_ops = {
	.kind = "file",
	.stop = file_stop,
	.close = file_close,
	.destroy = file_destroy,
};

static int check_options(faas_runtime *rt, const char *name, const faas_file_options *o)
{
	/* No default describes a file trigger: it needs a path. */
	if (!o)
		return faas__fail(rt, FAAS_EINVAL, "%s: options: NULL (a file trigger needs a path)",
				  name);
	if (o->version != FAAS_FILE_OPTIONS_VERSION)
		return faas__fail(rt, FAAS_EINVAL, "%s: version: expected %d, got %u", name,
				  FAAS_FILE_OPTIONS_VERSION, o->version);
	if (!o->path || !o->path[0])
		return faas__fail(rt, FAAS_EINVAL, "%s: path: expected a non-empty path", name);
	if (strlen(o->path) >= PATH_MAX)
		return faas__fail(rt, FAAS_EINVAL, "%s: path: expected fewer than %d bytes", name,
				  PATH_MAX);
	if (o->events & ~FAAS_FILE_ALL)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: events: expected a mask of FAAS_FILE_* bits, got 0x%x", name,
				  o->events);
	if (o->glob && (!o->glob[0] || strlen(o->glob) > FAAS__FILE_GLOB_MAX))
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: glob: expected NULL or 1..%u bytes of fnmatch pattern", name,
				  FAAS__FILE_GLOB_MAX);
	if (o->debounce_ms > FAAS__FILE_DEBOUNCE_MAX_MS)
		return faas__fail(rt, FAAS_EINVAL, "%s: debounce_ms: expected 0..%u, got %u",
				  name, FAAS__FILE_DEBOUNCE_MAX_MS, (unsigned int)o->debounce_ms);
	if (o->batch_max < 1 || o->batch_max > FAAS__FILE_BATCH_LIMIT)
		return faas__fail(rt, FAAS_EINVAL, "%s: batch_max: expected 1..%u, got %u", name,
				  FAAS__FILE_BATCH_LIMIT, o->batch_max);
	if (o->queue_max < 1 || o->queue_max > FAAS__FILE_QUEUE_LIMIT)
		return faas__fail(rt, FAAS_EINVAL, "%s: queue_max: expected 1..%u, got %u", name,
				  FAAS__FILE_QUEUE_LIMIT, o->queue_max);
	return 0;
}

int faas_trigger_file_new(faas_trigger **out, faas_runtime *rt, const char *name,
			  const faas_file_options *opts)
{
	const char *label = name ? name : "file trigger";
	faas__file_trigger *ft;
	int rc;

	if (out)
		*out = NULL;
	if (!rt)
		return faas__fail(NULL, FAAS_EINVAL, "faas_trigger_file_new: rt is NULL");
	rc = check_options(rt, label, opts);
	if (rc != 0)
		return rc;
	ft = calloc(1, sizeof(*ft));
	if (!ft)
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", label);
	ft->fw.fd = -1;
	rc = faas__trigger_init(&ft->base, &file_ops, rt, name);
	if (rc != 0) {
		free(ft);
		return rc;
	}
	/* From here on the trigger is linked: failures go through abort, which
	 * ends in file_destroy. */
	ft->events = opts->events ? opts->events : FAAS_FILE_ALL;
	ft->debounce_ms = opts->debounce_ms;
	ft->batch_max = opts->batch_max;
	ft->queue_max = opts->queue_max;
	if (opts->glob && !(ft->glob = strdup(opts->glob))) {
		faas__trigger_abort(&ft->base);
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", name);
	}
	rc = faas__fw_init(&ft->fw, opts->path, opts->recursive, on_change, ft);
	if (rc != 0) {
		rc = rc == -ENOMEM ? faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", name)
				   : faas__fail(rt, FAAS_ESYSTEM, "%s: inotify_init1: %s", name,
						strerror(-rc));
		faas__trigger_abort(&ft->base);
		return rc;
	}
	/* A path that does not exist yet is fine (the poll arms it later); one
	 * that exists and cannot be watched is the caller's to know now. */
	rc = faas__fw_arm(&ft->fw);
	if (rc != 0 && rc != -ENOENT) {
		rc = faas__fail(rt, rc == -ENOMEM ? FAAS_ENOMEM : FAAS_ESYSTEM,
				"%s: path: cannot watch %s: %s", name, opts->path, strerror(-rc));
		faas__trigger_abort(&ft->base);
		return rc;
	}
	rc = uv_poll_init(rt->loop, &ft->poll, ft->fw.fd);
	if (rc != 0) {
		rc = faas__fail(rt, FAAS_ESYSTEM, "%s: uv_poll_init: %s", name, uv_strerror(rc));
		faas__trigger_abort(&ft->base);
		return rc;
	}
	uv_timer_init(rt->loop, &ft->debounce);
	uv_timer_init(rt->loop, &ft->rearm);
	ft->poll.data = ft->debounce.data = ft->rearm.data = ft;
	ft->open = 3;
	uv_poll_start(&ft->poll, UV_READABLE, on_readable);
	if (!ft->fw.armed)
		uv_timer_start(&ft->rearm, on_rearm, FAAS__FILE_REARM_MS, FAAS__FILE_REARM_MS);
	if (out)
		*out = &ft->base;
	return 0;
}
