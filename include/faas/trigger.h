/*
 * libfaas — triggers and rules: events that fire functions.
 *
 * A trigger is a source of events on the runtime's loop: a timer (interval,
 * one-shot, cron), a file watch, or an HTTP listener. A rule binds a trigger
 * to a function (an HTTP rule also carries a route, "GET /users/{id}").
 * Every fired rule goes through the same admission, executor and completion
 * path as faas_invoke(), so it gets an activation, usage and billing like any
 * other call.
 *
 * Ownership. Triggers and rules belong to the runtime: faas_runtime_free()
 * closes and frees them. faas_trigger_free() closes one earlier (its rules go
 * with it). Handles returned are borrowed until then. All functions here are
 * called on the loop thread.
 *
 * Constructors. Every faas_trigger_*_new() follows one rule:
 *  - `out` may be NULL: the trigger is created all the same and owned by the
 *    runtime (find it with faas_trigger_lookup()); otherwise it receives a
 *    borrowed handle, or NULL on failure.
 *  - `opts` NULL means the defaults (the _INIT macro) where the defaults
 *    describe a working trigger: HTTP (127.0.0.1, a free port). A timer
 *    (needs interval_ms or cron) and a file trigger (needs path) have none:
 *    NULL opts is FAAS_EINVAL, with a message saying what is missing.
 *  - A NULL `rt` is FAAS_EINVAL, its message in faas_runtime_last_error(NULL);
 *    every other failure's message is in faas_runtime_last_error(rt).
 */
#ifndef FAAS_TRIGGER_H
#define FAAS_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "runtime.h"

/** A trigger. Opaque; owned by the runtime. */
typedef struct faas_trigger faas_trigger;
/** A rule. Opaque; owned by its trigger. */
typedef struct faas_rule faas_rule;

/* ---- timer triggers ---- */

/** What a timer trigger does. */
typedef enum faas_timer_kind {
	FAAS_TIMER_INTERVAL = 0, /**< every interval_ms, without drift */
	FAAS_TIMER_ONESHOT = 1,  /**< once, interval_ms after creation */
	FAAS_TIMER_CRON = 2      /**< on a cron schedule (see faas/cron.h) */
} faas_timer_kind;

#define FAAS_TIMER_OPTIONS_VERSION 1

/** Timer options. Initialise with FAAS_TIMER_OPTIONS_INIT or faas_timer_options_init(). */
typedef struct faas_timer_options {
	unsigned int version;
	faas_timer_kind kind;
	/** Period (interval) or delay (one-shot), >= 1 ms. */
	uint64_t interval_ms;
	/** The cron expression (cron kind). Copied. */
	const char *cron;
	/** Evaluate cron in the process's local time zone instead of UTC. */
	bool local_time;
	/** Let a rule's run start while its previous run is still going. Off by
	 *  default: the tick is skipped and counted. */
	bool allow_overlap;
	/** JSON text for the event's "detail"; NULL means {}. Copied. */
	const char *detail;
} faas_timer_options;

#define FAAS_TIMER_OPTIONS_INIT {FAAS_TIMER_OPTIONS_VERSION, FAAS_TIMER_INTERVAL, 0, NULL, false, false, NULL}

/* ---- file triggers ---- */

/** File event kinds, for faas_file_options.events. */
#define FAAS_FILE_CREATED 0x1u
#define FAAS_FILE_MODIFIED 0x2u
#define FAAS_FILE_DELETED 0x4u
#define FAAS_FILE_RENAMED 0x8u
#define FAAS_FILE_ALL 0xfu

#define FAAS_FILE_DEFAULT_DEBOUNCE_MS 100u
#define FAAS_FILE_DEFAULT_BATCH_MAX 100u
#define FAAS_FILE_DEFAULT_QUEUE_MAX 10000u

#define FAAS_FILE_OPTIONS_VERSION 1

/** File-watch options. Initialise with FAAS_FILE_OPTIONS_INIT or faas_file_options_init(). */
typedef struct faas_file_options {
	unsigned int version;
	/** A directory, or a single file. Copied. */
	const char *path;
	/** Watch subdirectories too, including ones created later. */
	bool recursive;
	/** FAAS_FILE_* mask; 0 means all. */
	unsigned int events;
	/** fnmatch(3) pattern on the path relative to the watched one; NULL = all. Copied. */
	const char *glob;
	/** Events within this window are coalesced into one invocation. */
	uint32_t debounce_ms;
	/** At most this many records per invocation; the rest go to the next. */
	unsigned int batch_max;
	/** Pending records beyond this are dropped and counted. */
	unsigned int queue_max;
} faas_file_options;

#define FAAS_FILE_OPTIONS_INIT                                                 \
	{                                                                      \
		FAAS_FILE_OPTIONS_VERSION, NULL, false, 0, NULL,               \
		FAAS_FILE_DEFAULT_DEBOUNCE_MS, FAAS_FILE_DEFAULT_BATCH_MAX,    \
		FAAS_FILE_DEFAULT_QUEUE_MAX                                    \
	}

/* ---- HTTP triggers ---- */

#define FAAS_HTTP_DEFAULT_HOST "127.0.0.1"
#define FAAS_HTTP_DEFAULT_MAX_HEADER_BYTES (16u * 1024u)
#define FAAS_HTTP_DEFAULT_MAX_CONNECTIONS 1024u
#define FAAS_HTTP_DEFAULT_HEADER_TIMEOUT_MS 10000u
#define FAAS_HTTP_DEFAULT_BODY_TIMEOUT_MS 30000u
#define FAAS_HTTP_DEFAULT_IDLE_TIMEOUT_MS 5000u

#define FAAS_HTTP_OPTIONS_VERSION 1

/** HTTP listener options. Initialise with FAAS_HTTP_OPTIONS_INIT or faas_http_options_init(). */
typedef struct faas_http_options {
	unsigned int version;
	/** Address to listen on; NULL = 127.0.0.1. Copied. */
	const char *host;
	/** Port; 0 picks a free one (see faas_trigger_http_port()). */
	uint16_t port;
	/** Request line + headers larger than this get 431. */
	size_t max_header_bytes;
	/** Connections beyond this are closed at once. */
	unsigned int max_connections;
	/** Headers must arrive within this (408). */
	uint32_t header_timeout_ms;
	/** A body must arrive within this once headers are in (408). */
	uint32_t body_timeout_ms;
	/** An idle keep-alive connection is closed after this. */
	uint32_t idle_timeout_ms;
	/** Serve the Lambda Invoke API and /_faas/ management routes. */
	bool management_api;
	/** If set, management routes require "Authorization: Bearer <token>"
	 *  and answer on any address; if NULL, they answer only to loopback
	 *  clients. Copied. */
	const char *bearer_token;
} faas_http_options;

#define FAAS_HTTP_OPTIONS_INIT                                                 \
	{                                                                      \
		FAAS_HTTP_OPTIONS_VERSION, NULL, 0,                            \
		FAAS_HTTP_DEFAULT_MAX_HEADER_BYTES,                            \
		FAAS_HTTP_DEFAULT_MAX_CONNECTIONS,                             \
		FAAS_HTTP_DEFAULT_HEADER_TIMEOUT_MS,                           \
		FAAS_HTTP_DEFAULT_BODY_TIMEOUT_MS,                             \
		FAAS_HTTP_DEFAULT_IDLE_TIMEOUT_MS, true, NULL                  \
	}

/** The version of faas_trigger_stats. */
#define FAAS_TRIGGER_STATS_VERSION 1

/**
 * Counters of a trigger. faas_trigger_stats_get() writes the whole struct,
 * version included: the caller need not set anything. Later versions add
 * fields by taking slots of `reserved`, so the size stays the same; `version`
 * says which fields the linked library filled.
 */
typedef struct faas_trigger_stats {
	unsigned int version; /**< FAAS_TRIGGER_STATS_VERSION of the library that wrote it */
	uint64_t fired;    /**< events the source produced (ticks, file batches, requests) */
	uint64_t invoked;  /**< invocations started or attempted through rules */
	uint64_t skipped;  /**< timer ticks skipped because the previous run was going;
				file changes held back by loop prevention */
	uint64_t dropped;  /**< file changes dropped past queue_max or by a kernel
				queue overflow */
	uint64_t errors;   /**< invocations refused synchronously (no such function, ...) */
	uint64_t reserved[8]; /**< zero; later versions use it */
} faas_trigger_stats;

FAAS_BEGIN_DECLS

/** Fill opts with the defaults (the same bytes as FAAS_TIMER_OPTIONS_INIT).
 *  @param version FAAS_TIMER_OPTIONS_VERSION @return 0 or FAAS_EINVAL. Any thread. */
FAAS_EXTERN int faas_timer_options_init(faas_timer_options *opts, unsigned int version);

/** Fill opts with the defaults (the same bytes as FAAS_FILE_OPTIONS_INIT).
 *  @param version FAAS_FILE_OPTIONS_VERSION @return 0 or FAAS_EINVAL. Any thread. */
FAAS_EXTERN int faas_file_options_init(faas_file_options *opts, unsigned int version);

/** Fill opts with the defaults (the same bytes as FAAS_HTTP_OPTIONS_INIT).
 *  @param version FAAS_HTTP_OPTIONS_VERSION @return 0 or FAAS_EINVAL. Any thread. */
FAAS_EXTERN int faas_http_options_init(faas_http_options *opts, unsigned int version);

/**
 * Create a timer trigger. It starts at once.
 * @param out receives a borrowed handle, or NULL (see "Constructors" above)
 * @param name unique among the runtime's triggers ([A-Za-z0-9_.-], 1..128); copied
 * @param opts required (NULL is FAAS_EINVAL); its strings are copied
 * @return 0; FAAS_EINVAL (bad or NULL option, bad cron expression: the message
 *         names the field); FAAS_EEXIST; FAAS_ESTOPPED; FAAS_ENOMEM
 */
FAAS_EXTERN int faas_trigger_timer_new(faas_trigger **out, faas_runtime *rt, const char *name,
				       const faas_timer_options *opts);

/**
 * Create a file trigger watching opts->path. The path need not exist yet: the
 * watch arms when it appears.
 * @param out receives a borrowed handle, or NULL (see "Constructors" above)
 * @param opts required (NULL is FAAS_EINVAL); its strings are copied
 * @return 0; FAAS_EINVAL (bad or NULL option: the message names the field);
 *         FAAS_EEXIST; FAAS_ESTOPPED; FAAS_ESYSTEM (inotify failed); FAAS_ENOMEM
 */
FAAS_EXTERN int faas_trigger_file_new(faas_trigger **out, faas_runtime *rt, const char *name,
				      const faas_file_options *opts);

/**
 * Create an HTTP trigger listening on opts->host:opts->port.
 * @param out receives a borrowed handle, or NULL (see "Constructors" above)
 * @param opts NULL means FAAS_HTTP_OPTIONS_INIT (127.0.0.1, a free port);
 *        its strings are copied
 * @return 0; FAAS_EINVAL; FAAS_EEXIST; FAAS_ESTOPPED; FAAS_ESYSTEM
 *         (bind/listen failed: the message has the reason); FAAS_ENOMEM
 */
FAAS_EXTERN int faas_trigger_http_new(faas_trigger **out, faas_runtime *rt, const char *name,
				      const faas_http_options *opts);

/** The port an HTTP trigger listens on (useful with port 0), or 0 for other kinds. */
FAAS_EXTERN uint16_t faas_trigger_http_port(const faas_trigger *trigger);

/** Find a trigger by name. @return a borrowed handle or NULL */
FAAS_EXTERN faas_trigger *faas_trigger_lookup(faas_runtime *rt, const char *name);

/** The trigger's name. Borrowed. */
FAAS_EXTERN const char *faas_trigger_name(const faas_trigger *trigger);

/** The trigger's kind: "timer", "file" or "http". Static. */
FAAS_EXTERN const char *faas_trigger_kind(const faas_trigger *trigger);

/**
 * Visit every trigger of the runtime, newest first. Stops early if visit
 * returns non-zero; visit must not free triggers.
 * @return 0, FAAS_EINVAL, or visit's non-zero value
 */
FAAS_EXTERN int faas_trigger_foreach(faas_runtime *rt,
				     int (*visit)(faas_trigger *trigger, void *userdata),
				     void *userdata);

/**
 * Read a trigger's counters.
 * @param out written whole (version = FAAS_TRIGGER_STATS_VERSION, reserved
 *        zero); its input contents are ignored
 * @return 0 or FAAS_EINVAL
 */
FAAS_EXTERN int faas_trigger_stats_get(faas_trigger_stats *out, const faas_trigger *trigger);

/**
 * Close a trigger and free it with its rules. Invocations it started finish
 * normally; their results go nowhere (an HTTP client is disconnected).
 * NULL is a no-op.
 */
FAAS_EXTERN void faas_trigger_free(faas_trigger *trigger);

/**
 * Bind a trigger to a function. Several rules may share a trigger.
 * @param route for HTTP triggers: "METHOD /path/{param}/{proxy+}" (METHOD may
 *        be ANY); NULL for other kinds. Copied.
 * @param function looked up when the rule fires, so it may be registered
 *        later. Copied.
 * @return 0; FAAS_EINVAL (bad route: the message says why); FAAS_EEXIST (the
 *         same route twice on one trigger); FAAS_ENOMEM
 */
FAAS_EXTERN int faas_rule_new(faas_rule **out, faas_trigger *trigger, const char *route,
			      const char *function);

/** Enable or disable a rule at run time. @return 0 or FAAS_EINVAL */
FAAS_EXTERN int faas_rule_set_enabled(faas_rule *rule, bool enabled);

/** Remove a rule. NULL is a no-op. */
FAAS_EXTERN void faas_rule_free(faas_rule *rule);

FAAS_END_DECLS

#endif /* FAAS_TRIGGER_H */
