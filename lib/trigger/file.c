/* The file trigger: changes under a directory (or to one file) become S3-like
 * "Records" events, debounced, batched and bounded, fired at every enabled
 * rule. The inotify side lives in file_watch.c.
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
#include <sys/stat.h>
#include <time.h>

#include "file_watch.h"
#include "trigger_internal.h"

/* Option ranges. */
#define FAAS__FILE_DEBOUNCE_MAX_MS 60000u
#define FAAS__FILE_BATCH_LIMIT 10000u
#define FAAS__FILE_QUEUE_LIMIT 1000000u
#define FAAS__FILE_GLOB_MAX 1024u
/* How often a missing path is looked for. */
#define FAAS__FILE_REARM_MS 200u
/* Loop prevention (see above). */
#define FAAS__FILE_CHAIN_MAX 16u
#define FAAS__FILE_CHAIN_QUIET_MS 100u
/* First size of the pending records' index; it doubles with the queue. */
#define FAAS__FILE_BUCKETS_MIN 64u

/* "YYYY-MM-DDTHH:MM:SS" and its NUL, with room for odd years. */
#define FAAS__FILE_TIME_SIZE 40u
/* The event text's buffer starts at this size and, once a large batch made
 * it grow past FAAS__FILE_TEXT_KEEP, is given back after the delivery. */
#define FAAS__FILE_TEXT_START 4096u
#define FAAS__FILE_TEXT_KEEP (64u * 1024u)

#define KIND_LOST FAAS__FW_LOST

typedef struct frec {
	struct frec *next;  /* queue order */
	struct frec *hnext; /* index chain, newest first */
	unsigned int kind;
	unsigned int gen;
	uint64_t wall_us;
	size_t hash;
	char *old_key;
	char key[];
} frec;

typedef struct file_trigger {
	faas_trigger base; /* first: the core casts */
	/* The fields an event goes through come first and the big buffers
	 * (dropped_key, fw) last: a trigger that has been quiet is cold, and
	 * fewer pages touched means fewer misses on the way to the handler. */
	char *glob;
	unsigned int events;
	uint32_t debounce_ms;
	unsigned int batch_max;
	unsigned int queue_max;

	uv_poll_t poll;
	uv_timer_t debounce;
	uv_timer_t rearm;
	int open; /* handles not yet closed */
	bool stopped;
	bool arm_error_counted;

	frec *head, *tail;
	size_t count;
	frec **buckets; /* pending records by key */
	size_t nbuckets;
	bool reading;   /* inside on_readable: with no debounce, it delivers */

	/* The last second formatted into an eventTime, and its text. */
	int64_t when_s;
	char when_text[FAAS__FILE_TIME_SIZE];
	size_t when_len;

	/* The event being written (see deliver). */
	char *text;
	size_t text_len, text_cap;
	bool text_failed; /* out of memory since the last mark */

	unsigned int inflight;   /* invocations fired and not yet done */
	unsigned int chain_gen;  /* generation of the chain they belong to */
	uint64_t quiet_until_ns; /* records before this still belong to it */

	/* The last key dropped at a full queue, so that one change is counted once. */
	bool dropped_valid;
	size_t dropped_hash;
	char dropped_key[PATH_MAX];

	faas__fw fw; /* last: it ends in its read buffer */
} file_trigger;

int faas_file_options_init(faas_file_options *opts, unsigned int version)
{
	/* Static, so that its padding is zero like the macro's in static storage. */
	static const faas_file_options tmpl = FAAS_FILE_OPTIONS_INIT;

	if (!opts || version != FAAS_FILE_OPTIONS_VERSION)
		return FAAS_EINVAL;
	memcpy(opts, &tmpl, sizeof(tmpl));
	return 0;
}

/* ---- the pending queue and its index ---- */

static size_t hash_key(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static frec *index_latest(file_trigger *ft, const char *key, size_t h)
{
	if (!ft->buckets)
		return NULL;
	for (frec *r = ft->buckets[h & (ft->nbuckets - 1)]; r; r = r->hnext)
		if (r->hash == h && strcmp(r->key, key) == 0)
			return r;
	return NULL;
}

static void index_grow(file_trigger *ft)
{
	size_t n = ft->nbuckets ? ft->nbuckets * 2 : FAAS__FILE_BUCKETS_MIN;
	frec **b = calloc(n, sizeof(*b));

	/* Without a bigger index, lookups only get slower: keep the old one. */
	if (!b)
		return;
	/* Rehash oldest first so that each chain stays newest first. */
	for (frec *r = ft->head; r; r = r->next) {
		frec **slot = &b[r->hash & (n - 1)];

		r->hnext = *slot;
		*slot = r;
	}
	free(ft->buckets);
	ft->buckets = b;
	ft->nbuckets = n;
}

static void index_remove(file_trigger *ft, frec *r)
{
	if (!ft->buckets)
		return;
	for (frec **p = &ft->buckets[r->hash & (ft->nbuckets - 1)]; *p; p = &(*p)->hnext) {
		if (*p == r) {
			*p = r->hnext;
			return;
		}
	}
}

static frec *queue_pop(file_trigger *ft)
{
	frec *r = ft->head;

	ft->head = r->next;
	if (!ft->head)
		ft->tail = NULL;
	ft->count--;
	index_remove(ft, r);
	return r;
}

static void rec_free(frec *r)
{
	free(r->old_key);
	free(r);
}

static bool attributed(const file_trigger *ft, uint64_t now_ns)
{
	return ft->inflight > 0 || now_ns < ft->quiet_until_ns;
}

static void on_debounce(uv_timer_t *h);

static void enqueue(file_trigger *ft, unsigned int kind, const char *key, const char *old_key)
{
	size_t h = hash_key(key), klen = strlen(key);
	unsigned int gen = 0;
	frec *r;

	if (ft->stopped)
		return;
	if (kind != KIND_LOST && attributed(ft, faas__now_ns()))
		gen = ft->chain_gen + 1;
	if (kind == FAAS_FILE_CREATED || kind == FAAS_FILE_MODIFIED) {
		frec *last = index_latest(ft, key, h);

		if (last && (last->kind == FAAS_FILE_CREATED || last->kind == kind)) {
			/* Folded; the higher generation wins so that folding can never
			 * hide a loop. */
			if (gen > last->gen)
				last->gen = gen;
			return;
		}
	}
	if (ft->count >= ft->queue_max) {
		/* A file written while the queue is full raises several events;
		 * count it once, as a pending record would have folded them. */
		if (!ft->dropped_valid || ft->dropped_hash != h ||
		    strcmp(ft->dropped_key, key) != 0)
			ft->base.stats.dropped++;
		ft->dropped_valid = klen < sizeof(ft->dropped_key);
		ft->dropped_hash = h;
		if (ft->dropped_valid)
			memcpy(ft->dropped_key, key, klen + 1);
		return;
	}
	ft->dropped_valid = false;
	r = malloc(sizeof(*r) + klen + 1);
	if (!r || (old_key && !(r->old_key = strdup(old_key)))) {
		free(r);
		ft->base.stats.dropped++;
		return;
	}
	if (!old_key)
		r->old_key = NULL;
	memcpy(r->key, key, klen + 1);
	r->kind = kind;
	r->gen = gen;
	r->hash = h;
	r->wall_us = faas__wall_us();
	r->next = NULL;
	if (ft->count >= ft->nbuckets)
		index_grow(ft);
	if (ft->buckets) {
		frec **slot = &ft->buckets[h & (ft->nbuckets - 1)];

		r->hnext = *slot;
		*slot = r;
	} else {
		r->hnext = NULL;
	}
	if (ft->tail)
		ft->tail->next = r;
	else
		ft->head = r;
	ft->tail = r;
	ft->count++;
	/* Without a debounce window, on_readable delivers as soon as it has
	 * read everything: no timer, no extra loop turn. */
	if (ft->debounce_ms == 0 && ft->reading)
		return;
	if (!uv_is_active((uv_handle_t *)&ft->debounce))
		uv_timer_start(&ft->debounce, on_debounce, ft->debounce_ms, 0);
}

/* ---- from inotify to records ---- */

static bool wanted(const file_trigger *ft, unsigned int kind, const char *key)
{
	return (ft->events & kind) && (!ft->glob || fnmatch(ft->glob, key, 0) == 0);
}

static void on_rearm(uv_timer_t *h);
static void deliver(file_trigger *ft);

static void on_change(void *arg, unsigned int kind, const char *key, const char *old_key)
{
	file_trigger *ft = arg;

	switch (kind) {
	case FAAS__FW_ERROR:
		ft->base.stats.errors++;
		break;
	case FAAS__FW_OVERFLOW:
		ft->base.stats.dropped++;
		break;
	case FAAS__FW_LOST:
		enqueue(ft, KIND_LOST, "", NULL);
		if (!ft->stopped)
			uv_timer_start(&ft->rearm, on_rearm, FAAS__FILE_REARM_MS,
				       FAAS__FILE_REARM_MS);
		break;
	case FAAS_FILE_RENAMED:
		if (wanted(ft, FAAS_FILE_RENAMED, key) && wanted(ft, FAAS_FILE_RENAMED, old_key)) {
			enqueue(ft, FAAS_FILE_RENAMED, key, old_key);
		} else {
			if (wanted(ft, FAAS_FILE_DELETED, old_key))
				enqueue(ft, FAAS_FILE_DELETED, old_key, NULL);
			if (wanted(ft, FAAS_FILE_CREATED, key))
				enqueue(ft, FAAS_FILE_CREATED, key, NULL);
		}
		break;
	default:
		if (wanted(ft, kind, key))
			enqueue(ft, kind, key, NULL);
		break;
	}
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	file_trigger *ft = h->data;

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
	file_trigger *ft = h->data;
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

/* ---- records to events ---- */

static const char *event_name(unsigned int kind)
{
	switch (kind) {
	case FAAS_FILE_CREATED:
		return "ObjectCreated:Put";
	case FAAS_FILE_MODIFIED:
		return "ObjectModified:Write";
	case FAAS_FILE_DELETED:
		return "ObjectRemoved:Delete";
	case FAAS_FILE_RENAMED:
		return "ObjectRenamed";
	default:
		return "libfaas:WatchLost";
	}
}

/* The size of a regular file the record names, or -1. */
static double entry_size(const file_trigger *ft, const frec *r)
{
	char path[PATH_MAX];
	struct stat st;
	size_t klen = strlen(r->key);
	int n;

	if (r->kind == FAAS_FILE_DELETED || r->kind == KIND_LOST || klen == 0 ||
	    r->key[klen - 1] == '/')
		return -1;
	n = snprintf(path, sizeof(path), "%s/%s", ft->fw.dir, r->key);
	if (n < 0 || n >= (int)sizeof(path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return -1;
	return (double)st.st_size;
}

/* Two digits of v (< 100). */
static char *put2(char *p, unsigned int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* "YYYY-MM-DDTHH:MM:SS" (UTC) of at_s into out, without gmtime_r (glibc's
 * time zone lock) or snprintf: this runs on the way to a handler, on a cold
 * cache. Days to a civil date by H. Hinnant's algorithm. */
static void format_second(char out[FAAS__FILE_TIME_SIZE], int64_t at_s)
{
	int64_t days = at_s / 86400, secs = at_s % 86400, era, y;
	unsigned int doe, yoe, doy, mp, d, m;
	char *p = out;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = (unsigned int)(days - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999) {
		snprintf(out, FAAS__FILE_TIME_SIZE, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y,
			 m, d, (unsigned int)(secs / 3600), (unsigned int)(secs / 60 % 60),
			 (unsigned int)(secs % 60));
		return;
	}
	p = put2(p, (unsigned int)(y / 100));
	p = put2(p, (unsigned int)(y % 100));
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	p = put2(p, d);
	*p++ = 'T';
	p = put2(p, (unsigned int)(secs / 3600));
	*p++ = ':';
	p = put2(p, (unsigned int)(secs / 60 % 60));
	*p++ = ':';
	p = put2(p, (unsigned int)(secs % 60));
	*p = '\0';
}

/* ---- the event's text ----
 *
 * The event is written as JSON text, not built with cJSON: the invocation
 * path would print a cJSON event to size it, and cJSON prints every number
 * through "%1.15g" and a sscanf round trip, which on a cold cache costs more
 * than the whole dispatch. An inline handler gets the text parsed (the same
 * tree as before); a worker gets the text as it is. Strings are escaped as
 * cJSON prints them, so the text is the one cJSON_PrintUnformatted would give
 * and the event's size (bytes_in, the payload limit) is unchanged. */

static bool text_reserve(file_trigger *ft, size_t more)
{
	size_t cap = ft->text_cap ? ft->text_cap : FAAS__FILE_TEXT_START;
	char *grown;

	if (ft->text_failed)
		return false;
	if (ft->text && ft->text_len + more <= ft->text_cap)
		return true;
	while (cap < ft->text_len + more) {
		if (cap > SIZE_MAX / 2) {
			ft->text_failed = true;
			return false;
		}
		cap *= 2;
	}
	grown = realloc(ft->text, cap);
	if (!grown) {
		ft->text_failed = true;
		return false;
	}
	ft->text = grown;
	ft->text_cap = cap;
	return true;
}

static void put_raw(file_trigger *ft, const char *s, size_t len)
{
	if (!text_reserve(ft, len))
		return;
	memcpy(ft->text + ft->text_len, s, len);
	ft->text_len += len;
}

#define PUT_LIT(ft, lit) put_raw((ft), (lit), sizeof(lit) - 1)

/* s as a JSON string, escaped the way cJSON prints: \" \\ \b \f \n \r \t,
 * \u00xx for the other control characters, every other byte as it is. */
static void put_str(file_trigger *ft, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(s);
	char *p;

	/* At most six bytes per input byte, and the quotes. */
	if (len > (SIZE_MAX - 2) / 6 || !text_reserve(ft, len * 6 + 2))
		return;
	p = ft->text + ft->text_len;
	*p++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 32 && c != '"' && c != '\\') {
			*p++ = (char)c;
			continue;
		}
		*p++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*p++ = (char)c;
			break;
		case '\b':
			*p++ = 'b';
			break;
		case '\f':
			*p++ = 'f';
			break;
		case '\n':
			*p++ = 'n';
			break;
		case '\r':
			*p++ = 'r';
			break;
		case '\t':
			*p++ = 't';
			break;
		default:
			*p++ = 'u';
			*p++ = '0';
			*p++ = '0';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
			break;
		}
	}
	*p++ = '"';
	ft->text_len = (size_t)(p - ft->text);
}

/* A size, in decimal: what cJSON prints for a whole number below 2^53. */
static void put_size(file_trigger *ft, uint64_t v)
{
	char digits[24], *p = digits + sizeof(digits);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_raw(ft, p, (size_t)(digits + sizeof(digits) - p));
}

/* The record's eventTime, quoted; the second's text is cached, as records
 * come in bursts. */
static void put_when(file_trigger *ft, const frec *r)
{
	int64_t secs = (int64_t)(r->wall_us / 1000000u);
	unsigned int ms = (unsigned int)(r->wall_us / 1000u % 1000u);
	char tail[7];

	if (secs != ft->when_s || ft->when_len == 0) {
		format_second(ft->when_text, secs);
		ft->when_s = secs;
		ft->when_len = strlen(ft->when_text);
	}
	PUT_LIT(ft, "\"");
	put_raw(ft, ft->when_text, ft->when_len);
	tail[0] = '.';
	tail[1] = (char)('0' + ms / 100);
	put2(tail + 2, ms % 100);
	tail[4] = 'Z';
	tail[5] = '"';
	put_raw(ft, tail, 6);
}

/* One record, in the order and shape the file trigger has always had. */
static void put_record(file_trigger *ft, const frec *r)
{
	double size = entry_size(ft, r);

	PUT_LIT(ft, "{\"eventVersion\":\"2.1\",\"eventSource\":\"libfaas:file\",\"eventTime\":");
	put_when(ft, r);
	PUT_LIT(ft, ",\"eventName\":");
	put_str(ft, event_name(r->kind));
	PUT_LIT(ft, ",\"file\":{\"root\":");
	put_str(ft, ft->fw.path);
	PUT_LIT(ft, ",\"key\":");
	put_str(ft, r->key);
	if (r->old_key) {
		PUT_LIT(ft, ",\"oldKey\":");
		put_str(ft, r->old_key);
	}
	if (size >= 0) {
		PUT_LIT(ft, ",\"size\":");
		put_size(ft, (uint64_t)size);
	}
	PUT_LIT(ft, "},\"s3\":{\"bucket\":{\"name\":");
	put_str(ft, ft->base.name);
	PUT_LIT(ft, "},\"object\":{\"key\":");
	put_str(ft, r->key);
	if (size >= 0) {
		PUT_LIT(ft, ",\"size\":");
		put_size(ft, (uint64_t)size);
	}
	PUT_LIT(ft, "}}}");
}

static void on_done(faas_rule *rule, const faas_activation *act, int err, void *arg)
{
	file_trigger *ft = arg;

	(void)rule;
	(void)act;
	(void)err;
	/* The trigger is alive (the rule holds it) even if it is closing. */
	if (--ft->inflight == 0)
		ft->quiet_until_ns =
			faas__now_ns() + (uint64_t)FAAS__FILE_CHAIN_QUIET_MS * 1000000u;
}

static void fire_rules(file_trigger *ft, const char *text, size_t len, unsigned int gen)
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
static void deliver(file_trigger *ft)
{
	unsigned int n = 0, gen = 0;
	char *text;
	size_t len, cap;

	if (ft->stopped)
		return;
	ft->text_len = 0;
	ft->text_failed = false;
	PUT_LIT(ft, "{\"Records\":[");
	while (ft->head && n < ft->batch_max) {
		frec *r = queue_pop(ft);
		size_t mark = ft->text_len;

		if (r->gen >= FAAS__FILE_CHAIN_MAX) {
			ft->base.stats.skipped++;
		} else {
			if (n > 0)
				PUT_LIT(ft, ",");
			put_record(ft, r);
			if (ft->text_failed && mark > 0) {
				/* Out of memory: this record is dropped, the ones
				 * before it still go. */
				ft->text_len = mark;
				ft->text_failed = false;
				ft->base.stats.dropped++;
			} else if (!ft->text_failed) {
				if (r->gen > gen)
					gen = r->gen;
				n++;
			} else {
				ft->base.stats.dropped++;
			}
		}
		rec_free(r);
	}
	PUT_LIT(ft, "]}");
	if (ft->text_failed) {
		ft->base.stats.dropped += n;
		n = 0;
	}
	if (ft->head)
		uv_timer_start(&ft->debounce, on_debounce, 0, 0);
	/* Taken from the trigger for the call: a handler running the loop may
	 * deliver again, into a buffer of its own. */
	text = ft->text;
	len = ft->text_len;
	cap = ft->text_cap;
	ft->text = NULL;
	ft->text_len = ft->text_cap = 0;
	if (n > 0) {
		ft->base.stats.fired++;
		fire_rules(ft, text, len, gen);
	}
	/* The trigger's memory outlives this call even if a handler freed the
	 * trigger: it goes after the handles' close callbacks. */
	if (!ft->text && cap <= FAAS__FILE_TEXT_KEEP) {
		ft->text = text;
		ft->text_cap = cap;
	} else {
		free(text);
	}
}

static void on_debounce(uv_timer_t *h)
{
	deliver(h->data);
}

/* ---- lifetime ---- */

static void release(file_trigger *ft)
{
	while (ft->head)
		rec_free(queue_pop(ft));
	free(ft->buckets);
	ft->buckets = NULL;
	ft->nbuckets = 0;
	free(ft->text);
	ft->text = NULL;
	ft->text_len = ft->text_cap = 0;
	faas__fw_free(&ft->fw);
}

static void file_stop(faas_trigger *t)
{
	file_trigger *ft = (file_trigger *)t;

	ft->stopped = true;
	uv_poll_stop(&ft->poll);
	uv_timer_stop(&ft->debounce);
	uv_timer_stop(&ft->rearm);
}

static void on_closed(uv_handle_t *h)
{
	file_trigger *ft = h->data;

	if (--ft->open > 0)
		return;
	/* The descriptor goes only now: libuv may use it until the poll handle's
	 * close callback. */
	release(ft);
	faas__trigger_closed(&ft->base);
}

static void file_close(faas_trigger *t)
{
	file_trigger *ft = (file_trigger *)t;

	file_stop(t);
	uv_close((uv_handle_t *)&ft->poll, on_closed);
	uv_close((uv_handle_t *)&ft->debounce, on_closed);
	uv_close((uv_handle_t *)&ft->rearm, on_closed);
}

static void file_destroy(faas_trigger *t)
{
	file_trigger *ft = (file_trigger *)t;

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
	file_trigger *ft;
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
