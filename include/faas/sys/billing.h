/*
 * libfaas — the billing hook table.
 *
 * The runtime asks the hook to admit every invocation before it starts (a
 * budget may refuse it: status `rejected`) and hands it exactly one usage
 * record for every invocation that started, whatever its status — success,
 * errors, timeout, oom, cancellation — and none for throttled or rejected
 * ones. Both calls happen on the loop thread.
 */
#ifndef FAAS_SYS_BILLING_H
#define FAAS_SYS_BILLING_H

#include <stddef.h>

#include "../activation.h"
#include "../common.h"

/** The version of this table's layout. */
#define FAAS_BILLING_HOOK_VERSION 1

typedef struct faas_billing_hook faas_billing_hook;

/** A billing hook: a versioned table of function pointers. Start from
 *  FAAS_BILLING_HOOK_INIT or faas_billing_hook_init(), then fill the
 *  functions. */
struct faas_billing_hook {
	/** FAAS_BILLING_HOOK_VERSION. */
	unsigned int version;

	/** May the function start one more invocation? Return 0 to admit, or a
	 *  negative FAAS_E* code to refuse (the activation ends `rejected`).
	 *  May be NULL (admit everything). */
	int (*admit)(faas_billing_hook *self, const char *function,
		     size_t payload_bytes);

	/** One usage record for a started invocation. May be NULL. */
	void (*record)(faas_billing_hook *self, const char *function,
		       const char *request_id, const faas_usage *usage);

	/** Release the hook; called by faas_runtime_free() only for the hook the
	 *  runtime created itself. May be NULL. */
	void (*free)(faas_billing_hook *self);
};

/** A table with the current version and every function NULL. */
#define FAAS_BILLING_HOOK_INIT {FAAS_BILLING_HOOK_VERSION, NULL, NULL, NULL}

FAAS_BEGIN_DECLS

/**
 * Fill hook with the current version and every function NULL (the same bytes
 * as FAAS_BILLING_HOOK_INIT). The table stays the caller's.
 * @param version FAAS_BILLING_HOOK_VERSION
 * @return 0 or FAAS_EINVAL (NULL hook or unknown version). Any thread.
 */
FAAS_EXTERN int faas_billing_hook_init(faas_billing_hook *hook, unsigned int version);

FAAS_END_DECLS

#endif /* FAAS_SYS_BILLING_H */
