/*
 * libfaas — the default billing hook's totals and budgets.
 *
 * When a runtime uses its own billing hook (faas_runtime_options.billing left
 * NULL), the hook prices every usage record with the runtime's pricing, keeps
 * totals per function, and refuses admission once a function's budget is
 * spent. A host billing hook (faas/sys/billing.h) keeps its own books: these
 * calls then fail with FAAS_ENOTSUP. Loop thread only.
 */
#ifndef FAAS_BILLING_H
#define FAAS_BILLING_H

#include <stdint.h>

#include "common.h"

/** The version of faas_billing_totals. */
#define FAAS_BILLING_TOTALS_VERSION 1

/**
 * Per-function billing totals kept by the default billing hook.
 * faas_billing_totals_get() writes the whole struct, version included: the
 * caller need not set anything. Later versions add fields by taking slots of
 * `reserved`, so the size stays the same; `version` says which fields the
 * linked library filled.
 */
typedef struct faas_billing_totals {
	unsigned int version;    /**< FAAS_BILLING_TOTALS_VERSION of the library that wrote it */
	uint64_t requests;       /**< started invocations recorded */
	uint64_t billed_ms;      /**< sum of billed durations */
	double gb_seconds;       /**< sum of memory_mb/1024 × billed seconds */
	double cost_usd;         /**< requests and GB-seconds priced */
	double budget_usd;       /**< the cap, or 0 for none */
	uint64_t refused;        /**< admissions refused by the budget */
	uint64_t reserved[8];    /**< zero; later versions use it */
} faas_billing_totals;

FAAS_BEGIN_DECLS

/**
 * Totals of the default billing hook for one function (NULL: all functions).
 * @param out written whole on every return but FAAS_EINVAL (version =
 *        FAAS_BILLING_TOTALS_VERSION, the rest zero when there is no record);
 *        its input contents are ignored
 * @return 0, FAAS_ENOTFOUND (no record for it yet: *out is zeroed), FAAS_ENOTSUP
 *         (the runtime uses a host billing hook), FAAS_EINVAL
 */
FAAS_EXTERN int faas_billing_totals_get(faas_billing_totals *out, faas_runtime *rt,
					const char *function);

/**
 * Set a per-function budget for the default billing hook: once the function's
 * cost reaches usd, further invocations are `rejected`. 0 removes the cap.
 * @param function copied
 * @return 0, FAAS_EINVAL (negative or non-finite usd), FAAS_ENOTSUP, FAAS_ENOMEM
 */
FAAS_EXTERN int faas_billing_budget_set(faas_runtime *rt, const char *function, double usd);

FAAS_END_DECLS

#endif /* FAAS_BILLING_H */
