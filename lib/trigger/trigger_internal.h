/*
 * libfaas trigger — the trigger and rule core shared by the trigger kinds.
 */
#ifndef FAAS_LIB_TRIGGER_TRIGGER_INTERNAL_H
#define FAAS_LIB_TRIGGER_TRIGGER_INTERNAL_H

#include "invoke.h"

/* ---- triggers and rules (trigger.c); kinds in trigger_<kind>.c ---- */
typedef struct faas__trigger_ops {
	const char *kind;
	/* The runtime is stopping: stop producing events (HTTP answers 503). May be NULL. */
	void (*stop)(faas_trigger *t);
	/* Close every handle; once the last close callback ran, call
	 * faas__trigger_closed(t). */
	void (*close)(faas_trigger *t);
	/* Free the kind's own memory (t itself included) once nothing refers to it. */
	void (*destroy)(faas_trigger *t);
	/* Check a rule's route and parse it into *data (NULL route for kinds
	 * without routes). May be NULL: then a route is refused. */
	int (*route_parse)(faas_trigger *t, const char *route, void **data);
	void (*route_free)(void *data);
} faas__trigger_ops;

struct faas_trigger {
	const faas__trigger_ops *ops;
	faas_runtime *rt;
	char *name;
	unsigned int refs;       /* the runtime until closed, + one per rule */
	faas_rule *rules;        /* in creation order */
	faas_trigger_stats stats;
	bool closing;
	struct faas_trigger *next;
};

struct faas_rule {
	faas_trigger *trigger;
	char *function;
	char *route;             /* as given, or NULL */
	void *route_data;        /* the kind's parse of it */
	bool enabled;
	bool linked;             /* still in its trigger's list */
	unsigned int refs;       /* the trigger's list + one per invocation in flight */
	unsigned int in_flight;
	struct faas_rule *next;
};

/* Kind constructors call this first: checks the name, links t into the runtime. */
int faas__trigger_init(faas_trigger *t, const faas__trigger_ops *ops, faas_runtime *rt,
		       const char *name);
/* Undo faas__trigger_init for a trigger whose kind failed to start (no handle open). */
void faas__trigger_abort(faas_trigger *t);
void faas__trigger_closed(faas_trigger *t);
void faas__triggers_stop(faas_runtime *rt);
void faas__triggers_close(faas_runtime *rt);

/* Fire one rule: invoke its function with event (or JSON text). On success
 * done runs later on the loop with the activation (err 0), exactly once, and
 * the rule stays alive until it returns. If the invocation cannot even be
 * accepted, the error is returned (and counted) and done is never called. */
typedef void (*faas__rule_done_fn)(faas_rule *rule, const faas_activation *act, int err,
				   void *arg);
int faas__rule_fire(faas_rule *rule, const cJSON *event, const char *json, size_t json_len,
		    faas__rule_done_fn done, void *arg, faas_ctx **ctx_out);

#endif /* FAAS_LIB_TRIGGER_TRIGGER_INTERNAL_H */
