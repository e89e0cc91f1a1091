/* The file trigger's pending records and events: the queue of records with
 * its index by key (folding a change into a pending record of the same key),
 * and a batch of records written as the S3-like "Records" event's JSON text.
 * What the records mean, and when they are delivered, is file.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "date.h"
#include "file_internal.h"
#include "json.h"

/* ---- the pending queue and its index ---- */

static size_t hash_key(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static faas__frec *index_latest(faas__file_trigger *ft, const char *key, size_t h)
{
	if (!ft->buckets)
		return NULL;
	for (faas__frec *r = ft->buckets[h & (ft->nbuckets - 1)]; r; r = r->hnext)
		if (r->hash == h && strcmp(r->key, key) == 0)
			return r;
	return NULL;
}

static void index_grow(faas__file_trigger *ft)
{
	size_t n = ft->nbuckets ? ft->nbuckets * 2 : FAAS__FILE_BUCKETS_MIN;
	faas__frec **b = calloc(n, sizeof(*b));

	/* Without a bigger index, lookups only get slower: keep the old one. */
	if (!b)
		return;
	/* Rehash oldest first so that each chain stays newest first. */
	for (faas__frec *r = ft->head; r; r = r->next) {
		faas__frec **slot = &b[r->hash & (n - 1)];

		r->hnext = *slot;
		*slot = r;
	}
	free(ft->buckets);
	ft->buckets = b;
	ft->nbuckets = n;
}

static void index_remove(faas__file_trigger *ft, faas__frec *r)
{
	if (!ft->buckets)
		return;
	for (faas__frec **p = &ft->buckets[r->hash & (ft->nbuckets - 1)]; *p; p = &(*p)->hnext) {
		if (*p == r) {
			*p = r->hnext;
			return;
		}
	}
}

static faas__frec *queue_pop(faas__file_trigger *ft)
{
	faas__frec *r = ft->head;

	ft->head = r->next;
	if (!ft->head)
		ft->tail = NULL;
	ft->count--;
	index_remove(ft, r);
	return r;
}

static void rec_free(faas__frec *r)
{
	free(r->old_key);
	free(r);
}

void faas__file_queue_free(faas__file_trigger *ft)
{
	while (ft->head)
		rec_free(queue_pop(ft));
	free(ft->buckets);
	ft->buckets = NULL;
	ft->nbuckets = 0;
	faas__buf_free(&ft->text);
}

bool faas__file_enqueue(faas__file_trigger *ft, unsigned int kind, const char *key,
			const char *old_key, unsigned int gen)
{
	size_t h = hash_key(key), klen = strlen(key);
	faas__frec *r;

	if (ft->stopped)
		return false;
	if (kind == FAAS_FILE_CREATED || kind == FAAS_FILE_MODIFIED) {
		faas__frec *last = index_latest(ft, key, h);

		if (last && (last->kind == FAAS_FILE_CREATED || last->kind == kind)) {
			/* Folded; the higher generation wins so that folding can never
			 * hide a loop. */
			if (gen > last->gen)
				last->gen = gen;
			return false;
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
		return false;
	}
	ft->dropped_valid = false;
	r = malloc(sizeof(*r) + klen + 1);
	if (!r || (old_key && !(r->old_key = strdup(old_key)))) {
		free(r);
		ft->base.stats.dropped++;
		return false;
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
		faas__frec **slot = &ft->buckets[h & (ft->nbuckets - 1)];

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
	return true;
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
static double entry_size(const faas__file_trigger *ft, const faas__frec *r)
{
	char path[PATH_MAX];
	struct stat st;
	size_t klen = strlen(r->key);
	int n;

	if (r->kind == FAAS_FILE_DELETED || r->kind == FAAS__FILE_KIND_LOST || klen == 0 ||
	    r->key[klen - 1] == '/')
		return -1;
	n = snprintf(path, sizeof(path), "%s/%s", ft->fw.dir, r->key);
	if (n < 0 || n >= (int)sizeof(path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return -1;
	return (double)st.st_size;
}

/* ---- the event's text ----
 *
 * The event is written as JSON text, not built with cJSON: the invocation
 * path would print a cJSON event to size it, and cJSON prints every number
 * through "%1.15g" and a sscanf round trip, which on a cold cache costs more
 * than the whole dispatch. An inline handler gets the text parsed; a worker
 * gets the text as it is. Strings are escaped by util's JSON writer, the one
 * rule every event uses (the HTTP trigger's too): as cJSON prints valid
 * UTF-8, with each invalid sequence replaced by U+FFFD, so a file name that
 * is not UTF-8 still makes valid JSON. */

static void put_raw(faas__file_trigger *ft, const char *s, size_t len)
{
	faas__buf_append(&ft->text, s, len);
}

#define PUT_LIT(ft, lit) put_raw((ft), (lit), sizeof(lit) - 1)

/* s as a JSON string, by the one escaping rule (util/json.h). */
static void put_str(faas__file_trigger *ft, const char *s)
{
	faas__json_escape(&ft->text, s, strlen(s));
}

/* A size, in decimal: what cJSON prints for a whole number below 2^53. */
static void put_size(faas__file_trigger *ft, uint64_t v)
{
	char digits[24], *p = digits + sizeof(digits);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_raw(ft, p, (size_t)(digits + sizeof(digits) - p));
}

/* The record's eventTime, quoted: ISO 8601 with milliseconds, UTC. */
static void put_when(faas__file_trigger *ft, const faas__frec *r)
{
	char when[FAAS__DATE_ISO_MS_SIZE + 2];
	size_t n = faas__date_iso_ms(when + 1, (int64_t)(r->wall_us / 1000u));

	when[0] = '"';
	when[n + 1] = '"';
	put_raw(ft, when, n + 2);
}

/* One record, in the order and shape the file trigger has always had. */
static void put_record(faas__file_trigger *ft, const faas__frec *r)
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

unsigned int faas__file_batch_text(faas__file_trigger *ft, unsigned int *gen_out)
{
	unsigned int n = 0, gen = 0;

	faas__buf_reset(&ft->text);
	PUT_LIT(ft, "{\"Records\":[");
	while (ft->head && n < ft->batch_max) {
		faas__frec *r = queue_pop(ft);
		size_t mark = ft->text.len;

		if (r->gen >= FAAS__FILE_CHAIN_MAX) {
			ft->base.stats.skipped++;
		} else {
			if (n > 0)
				PUT_LIT(ft, ",");
			put_record(ft, r);
			if (ft->text.failed && mark > 0) {
				/* Out of memory: this record is dropped, the ones
				 * before it still go. */
				faas__buf_truncate(&ft->text, mark);
				ft->base.stats.dropped++;
			} else if (!ft->text.failed) {
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
	if (ft->text.failed) {
		ft->base.stats.dropped += n;
		n = 0;
	}
	*gen_out = gen;
	return n;
}
