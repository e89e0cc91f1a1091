/*
 * libfaas trigger — what the file trigger's two halves share: the pending
 * record and the trigger record, and what file.c (the trigger kind:
 * options, inotify changes, delivery, loop prevention, lifetime) calls in
 * file_events.c (the pending queue, batches and the event's text).
 * Loop thread only.
 */
#ifndef FAAS_LIB_TRIGGER_FILE_INTERNAL_H
#define FAAS_LIB_TRIGGER_FILE_INTERNAL_H

#include "buf.h"
#include "file_watch.h"
#include "trigger_internal.h"

/* Loop prevention (see file.c). */
#define FAAS__FILE_CHAIN_MAX 16u
#define FAAS__FILE_CHAIN_QUIET_MS 100u
/* First size of the pending records' index; it doubles with the queue. */
#define FAAS__FILE_BUCKETS_MIN 64u

/* The event text's buffer, once a large batch made it grow past this, is
 * given back after the delivery. */
#define FAAS__FILE_TEXT_KEEP (64u * 1024u)

/* The kind of a WatchLost record. */
#define FAAS__FILE_KIND_LOST FAAS__FW_LOST

typedef struct faas__frec {
	struct faas__frec *next;  /* queue order */
	struct faas__frec *hnext; /* index chain, newest first */
	unsigned int kind;
	unsigned int gen;
	uint64_t wall_us;
	size_t hash;
	char *old_key;
	char key[];
} faas__frec;

typedef struct faas__file_trigger {
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

	faas__frec *head, *tail;
	size_t count;
	faas__frec **buckets; /* pending records by key */
	size_t nbuckets;
	bool reading;   /* inside on_readable: with no debounce, it delivers */

	/* The event being written (see faas__file_batch_text). */
	faas__buf text;

	unsigned int inflight;   /* invocations fired and not yet done */
	unsigned int chain_gen;  /* generation of the chain they belong to */
	uint64_t quiet_until_ns; /* records before this still belong to it */

	/* The last key dropped at a full queue, so that one change is counted once. */
	bool dropped_valid;
	size_t dropped_hash;
	char dropped_key[PATH_MAX];

	faas__fw fw; /* last: it ends in its read buffer */
} faas__file_trigger;

/* ---- file_events.c (file.c calls it; it never calls file.c) ---- */

/* Queue a record of generation gen, or fold it into a pending record of the
 * same key. Returns whether a new record was queued. */
bool faas__file_enqueue(faas__file_trigger *ft, unsigned int kind, const char *key,
			const char *old_key, unsigned int gen);
/* Take up to batch_max pending records into ft->text as one "Records" event.
 * Returns how many it holds (0: nothing to fire: skipped, dropped or out of
 * memory, all counted), and in *gen the batch's generation. */
unsigned int faas__file_batch_text(faas__file_trigger *ft, unsigned int *gen);
/* Free the pending records, the index and the text buffer. */
void faas__file_queue_free(faas__file_trigger *ft);

#endif /* FAAS_LIB_TRIGGER_FILE_INTERNAL_H */
