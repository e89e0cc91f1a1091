/* The default billing hook: prices every usage record with a pricing model,
 * keeps per-function totals, and refuses admission once a budget is spent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"

typedef struct account {
	char *function;
	faas_billing_totals totals;
	struct account *next;
} account;

typedef struct default_hook {
	faas_billing_hook hook; /* first, so the table pointer is the object */
	faas_pricing pricing;
	account *accounts;
	faas_billing_totals all;
} default_hook;

uint64_t faas__billed_ms(uint64_t duration_us, uint32_t granularity_ms)
{
	uint64_t gran_us = (uint64_t)(granularity_ms ? granularity_ms : 1) * 1000u;
	uint64_t units = (duration_us + gran_us - 1) / gran_us;

	/* Lambda bills at least one unit for any started call. */
	if (units == 0)
		units = 1;
	return units * (gran_us / 1000u);
}

static account *find_account(default_hook *d, const char *function, bool create)
{
	account *a;

	for (a = d->accounts; a; a = a->next)
		if (strcmp(a->function, function) == 0)
			return a;
	if (!create)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->function = faas__strdup(function);
	if (!a->function) {
		free(a);
		return NULL;
	}
	a->next = d->accounts;
	d->accounts = a;
	return a;
}

static int default_admit(faas_billing_hook *self, const char *function, size_t payload_bytes)
{
	default_hook *d = (default_hook *)self;
	account *a = find_account(d, function, false);

	(void)payload_bytes;
	if (a && a->totals.budget_usd > 0 && a->totals.cost_usd >= a->totals.budget_usd) {
		a->totals.refused++;
		d->all.refused++;
		return FAAS_EBUSY;
	}
	return 0;
}

static void add_usage(faas_billing_totals *t, const faas_pricing *p, const faas_usage *u)
{
	double gb_s;

	t->requests++;
	if (!faas_status_billed(u->status))
		return;
	gb_s = (double)u->memory_mb / 1024.0 * (double)u->billed_ms / 1000.0;
	t->billed_ms += u->billed_ms;
	t->gb_seconds += gb_s;
	t->cost_usd += p->request_usd + gb_s * p->gb_second_usd;
}

static void default_record(faas_billing_hook *self, const char *function, const char *request_id,
			   const faas_usage *usage)
{
	default_hook *d = (default_hook *)self;
	account *a = find_account(d, function, true);

	(void)request_id;
	if (a)
		add_usage(&a->totals, &d->pricing, usage);
	add_usage(&d->all, &d->pricing, usage);
}

static void default_free(faas_billing_hook *self)
{
	default_hook *d = (default_hook *)self;

	while (d->accounts) {
		account *next = d->accounts->next;

		free(d->accounts->function);
		free(d->accounts);
		d->accounts = next;
	}
	free(d);
}

int faas__billing_default_new(faas_billing_hook **out, const faas_pricing *pricing)
{
	default_hook *d = calloc(1, sizeof(*d));

	if (!d)
		return FAAS_ENOMEM;
	d->hook.version = FAAS_BILLING_HOOK_VERSION;
	d->hook.admit = default_admit;
	d->hook.record = default_record;
	d->hook.free = default_free;
	d->pricing = *pricing;
	*out = &d->hook;
	return 0;
}

bool faas__billing_is_default(const faas_billing_hook *hook)
{
	return hook && hook->record == default_record;
}

int faas_billing_totals_get(faas_billing_totals *out, faas_runtime *rt, const char *function)
{
	default_hook *d;
	account *a;

	if (!out || !rt)
		return FAAS_EINVAL;
	memset(out, 0, sizeof(*out));
	out->version = FAAS_BILLING_TOTALS_VERSION;
	if (!faas__billing_is_default(rt->billing))
		return faas__fail(rt, FAAS_ENOTSUP, "the runtime uses a host billing hook");
	d = (default_hook *)rt->billing;
	a = function ? find_account(d, function, false) : NULL;
	if (function && !a)
		return faas__fail(rt, FAAS_ENOTFOUND, "%s: no billing record yet", function);
	*out = function ? a->totals : d->all;
	out->version = FAAS_BILLING_TOTALS_VERSION;
	memset(out->reserved, 0, sizeof(out->reserved));
	return 0;
}

int faas_billing_budget_set(faas_runtime *rt, const char *function, double usd)
{
	account *a;

	if (!rt || !function || !isfinite(usd) || usd < 0)
		return FAAS_EINVAL;
	if (!faas__billing_is_default(rt->billing))
		return faas__fail(rt, FAAS_ENOTSUP, "the runtime uses a host billing hook");
	a = find_account((default_hook *)rt->billing, function, true);
	if (!a)
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", function);
	a->totals.budget_usd = usd;
	return 0;
}
