/* The trigger and rule core shared by every kind: names, the runtime's list,
 * lifetimes, and firing a rule through the ordinary invocation path.
 *
 * Lifetimes. A trigger is referenced by the runtime until its handles are
 * closed and by each of its rules; a rule by its trigger's list and by each
 * invocation it started. So a rule removed, or a trigger freed, while its
 * invocations run stays in memory until they complete, and their completion
 * code can always look at rule->linked / trigger->closing to know that nobody
 * wants the answer any more. */
#include <stdlib.h>
#include <string.h>

#include "trigger_internal.h"

faas_trigger *faas_trigger_lookup(faas_runtime *rt, const char *name)
{
	if (!rt || !name)
		return NULL;
	for (faas_trigger *t = rt->triggers; t; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

int faas__trigger_init(faas_trigger *t, const faas__trigger_ops *ops, faas_runtime *rt,
		       const char *name)
{
	if (!name || !faas__valid_name(name))
		return faas__fail(rt, FAAS_EINVAL,
				  "trigger name: expected 1..%d characters of [A-Za-z0-9_.-]",
				  FAAS__NAME_MAX);
	if (rt->stopping)
		return faas__fail(rt, FAAS_ESTOPPED, "%s: the runtime is stopping", name);
	if (faas_trigger_lookup(rt, name))
		return faas__fail(rt, FAAS_EEXIST, "%s: a trigger with this name exists", name);
	t->name = faas__strdup(name);
	if (!t->name)
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", name);
	t->ops = ops;
	t->rt = rt;
	t->refs = 1;
	t->next = rt->triggers;
	rt->triggers = t;
	/* The runtime may not go before this trigger's handles are closed. */
	faas__handles_add(rt, 1);
	return 0;
}

static void unlink_trigger(faas_trigger *t)
{
	for (faas_trigger **p = &t->rt->triggers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
}

static void trigger_unref(faas_trigger *t)
{
	if (--t->refs > 0)
		return;
	free(t->name);
	t->ops->destroy(t);
}

void faas__trigger_abort(faas_trigger *t)
{
	unlink_trigger(t);
	t->rt->open_handles--; /* never opened: no close callback will come */
	trigger_unref(t);
}

static void rule_unref(faas_rule *r)
{
	faas_trigger *t;

	if (--r->refs > 0)
		return;
	t = r->trigger;
	if (r->route_data && t->ops->route_free)
		t->ops->route_free(r->route_data);
	free(r->route);
	free(r->function);
	free(r);
	trigger_unref(t);
}

static void rule_unlink(faas_rule *r)
{
	if (!r->linked)
		return;
	for (faas_rule **p = &r->trigger->rules; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	r->linked = false;
	rule_unref(r);
}

void faas__trigger_closed(faas_trigger *t)
{
	faas_runtime *rt = t->rt;

	trigger_unref(t);
	faas__handles_closed(rt);
}

static void trigger_close(faas_trigger *t)
{
	if (t->closing)
		return;
	t->closing = true;
	unlink_trigger(t);
	while (t->rules)
		rule_unlink(t->rules);
	t->ops->close(t);
}

void faas_trigger_free(faas_trigger *trigger)
{
	if (trigger)
		trigger_close(trigger);
}

void faas__triggers_stop(faas_runtime *rt)
{
	for (faas_trigger *t = rt->triggers; t; t = t->next)
		if (t->ops->stop)
			t->ops->stop(t);
}

void faas__triggers_close(faas_runtime *rt)
{
	while (rt->triggers)
		trigger_close(rt->triggers);
}

const char *faas_trigger_name(const faas_trigger *trigger)
{
	return trigger ? trigger->name : NULL;
}

const char *faas_trigger_kind(const faas_trigger *trigger)
{
	return trigger ? trigger->ops->kind : NULL;
}

int faas_trigger_foreach(faas_runtime *rt, int (*visit)(faas_trigger *trigger, void *userdata),
			 void *userdata)
{
	if (!rt || !visit)
		return FAAS_EINVAL;
	for (faas_trigger *t = rt->triggers; t; t = t->next) {
		int rc = visit(t, userdata);

		if (rc != 0)
			return rc;
	}
	return 0;
}

int faas_trigger_stats_get(faas_trigger_stats *out, const faas_trigger *trigger)
{
	if (!out || !trigger)
		return FAAS_EINVAL;
	*out = trigger->stats;
	out->version = FAAS_TRIGGER_STATS_VERSION;
	memset(out->reserved, 0, sizeof(out->reserved));
	return 0;
}

int faas_rule_new(faas_rule **out, faas_trigger *trigger, const char *route, const char *function)
{
	faas_runtime *rt;
	faas_rule *r, **tail;
	void *data = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!trigger || trigger->closing)
		return FAAS_EINVAL;
	rt = trigger->rt;
	if (!function || !faas__valid_name(function))
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: rule function: expected 1..%d characters of [A-Za-z0-9_.-]",
				  trigger->name, FAAS__NAME_MAX);
	if (route && !trigger->ops->route_parse)
		return faas__fail(rt, FAAS_EINVAL, "%s: %s triggers take no route", trigger->name,
				  trigger->ops->kind);
	if (trigger->ops->route_parse) {
		rc = trigger->ops->route_parse(trigger, route, &data);
		if (rc != 0)
			return rc;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->function = faas__strdup(function)) ||
	    (route && !(r->route = faas__strdup(route)))) {
		if (data && trigger->ops->route_free)
			trigger->ops->route_free(data);
		if (r)
			free(r->function);
		free(r);
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", trigger->name);
	}
	r->trigger = trigger;
	r->route_data = data;
	r->enabled = true;
	r->linked = true;
	r->refs = 1;
	trigger->refs++;
	/* Appended, so rules fire (and routes match) in the order they were made. */
	for (tail = &trigger->rules; *tail; tail = &(*tail)->next)
		;
	*tail = r;
	if (out)
		*out = r;
	return 0;
}

int faas_rule_set_enabled(faas_rule *rule, bool enabled)
{
	if (!rule)
		return FAAS_EINVAL;
	rule->enabled = enabled;
	return 0;
}

void faas_rule_free(faas_rule *rule)
{
	if (rule)
		rule_unlink(rule);
}

/* ---- firing ---- */

typedef struct fire {
	faas_rule *rule;
	faas__rule_done_fn done;
	void *arg;
} fire;

static void on_fired(const faas_activation *act, void *userdata)
{
	fire *f = userdata;
	faas_rule *r = f->rule;

	r->in_flight--;
	f->done(r, act, 0, f->arg);
	free(f);
	rule_unref(r);
}

int faas__rule_fire(faas_rule *rule, const cJSON *event, const char *json, size_t json_len,
		    faas__rule_done_fn done, void *arg, faas_ctx **ctx_out)
{
	faas_trigger *t = rule->trigger;
	fire *f = malloc(sizeof(*f));
	int rc;

	t->stats.invoked++;
	if (!f) {
		t->stats.errors++;
		return FAAS_ENOMEM;
	}
	f->rule = rule;
	f->done = done;
	f->arg = arg;
	rule->refs++;
	rule->in_flight++;
	/* Trigger events are written by libfaas itself. */
	rc = faas__invoke(t->rt, rule->function, event, json, json_len, FAAS__JSON_TRUSTED, on_fired,
			  f, ctx_out);
	if (rc != 0) {
		t->stats.errors++;
		rule->in_flight--;
		free(f);
		rule_unref(rule);
	}
	return rc;
}
