/*
 * libfaas hooks — the rules of include/faas/sys/state.h that every state
 * backend applies the same way, written once: which expected_version
 * matches, what an incr may add to, the argument checks, and the copy of a
 * value with its NUL. The memory backend and the store's SQLite backend use
 * them, so the conformance suite cannot pass one and fail the other on a
 * rule one of them spelled differently.
 */
#ifndef FAAS_LIB_HOOKS_STATE_RULES_H
#define FAAS_LIB_HOOKS_STATE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <faas/sys/state.h>

/* Whether a put may write a key that exists (with version) or not. */
bool faas__state_put_matches(bool exists, uint64_t version, uint64_t expected);

/* The answer of a del of a key that exists (with version) or not: 0 if it
 * may delete it, else FAAS_ENOTFOUND or FAAS_ECONFLICT. */
int faas__state_del_check(bool exists, uint64_t version, uint64_t expected);

/* The value incr stores: old (len bytes, absent if !exists: 0) plus delta.
 * FAAS_EINVAL if old is not strictly an optional '-' and digits within
 * int64_t, or the sum would leave int64_t; else 0 with *sum set. */
int faas__state_incr_sum(bool exists, const char *old, size_t len, int64_t delta, int64_t *sum);

/* Every op refuses these before touching its store. */
bool faas__state_valid_call(const faas_state_backend *self, const char *key);

/* A malloc'd copy of len bytes and a NUL; NULL without memory. */
char *faas__state_copy_value(const void *value, size_t len);

#endif /* FAAS_LIB_HOOKS_STATE_RULES_H */
