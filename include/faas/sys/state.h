/*
 * libfaas — the state backend table.
 *
 * A host plugs its own store (SQLite, Redis, ...) into a runtime by filling
 * this table and passing it in faas_runtime_options.state. Every function
 * must be thread-safe: handlers call them from worker threads concurrently.
 * Keys arrive already namespaced ("<namespace>/<key>").
 *
 * Versions are per key, start at 1 and grow by at least one on every write.
 * FAAS_STATE_ABSENT (0) and FAAS_STATE_ANY (UINT64_MAX) are defined in
 * faas/handler.h.
 */
#ifndef FAAS_SYS_STATE_H
#define FAAS_SYS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "../common.h"

/** The version of this table's layout. */
#define FAAS_STATE_BACKEND_VERSION 1

typedef struct faas_state_backend faas_state_backend;

/** A state backend: a versioned table of function pointers. Start from
 *  FAAS_STATE_BACKEND_INIT or faas_state_backend_init(), then fill the
 *  functions. */
struct faas_state_backend {
	/** FAAS_STATE_BACKEND_VERSION. */
	unsigned int version;

	/** Read key: *value_out is malloc()ed, NUL-terminated, freed with free().
	 *  Returns 0 or FAAS_ENOTFOUND (or another FAAS_E* code). */
	int (*get)(faas_state_backend *self, const char *key, char **value_out,
		   size_t *len_out, uint64_t *version_out);

	/** Write key if its version equals expected_version (or FAAS_STATE_ANY;
	 *  FAAS_STATE_ABSENT: only if missing). Returns 0 or FAAS_ECONFLICT. */
	int (*put)(faas_state_backend *self, const char *key, const void *value,
		   size_t len, uint64_t expected_version, uint64_t *version_out);

	/** Delete key under the same compare-and-set rule.
	 *  Returns 0, FAAS_ENOTFOUND or FAAS_ECONFLICT. */
	int (*del)(faas_state_backend *self, const char *key, uint64_t expected_version);

	/** Atomically add delta to a decimal integer value (missing counts as 0).
	 *  Returns 0 or FAAS_EINVAL when the value is not an integer. */
	int (*incr)(faas_state_backend *self, const char *key, int64_t delta,
		    int64_t *value_out);

	/** Release the backend; called by faas_runtime_free() only for a backend
	 *  the runtime created itself. May be NULL. */
	void (*free)(faas_state_backend *self);
};

/** A table with the current version and every function NULL. */
#define FAAS_STATE_BACKEND_INIT {FAAS_STATE_BACKEND_VERSION, NULL, NULL, NULL, NULL, NULL}

FAAS_BEGIN_DECLS

/**
 * Fill backend with the current version and every function NULL (the same
 * bytes as FAAS_STATE_BACKEND_INIT). The table stays the caller's.
 * @param version FAAS_STATE_BACKEND_VERSION
 * @return 0 or FAAS_EINVAL (NULL backend or unknown version). Any thread.
 */
FAAS_EXTERN int faas_state_backend_init(faas_state_backend *backend, unsigned int version);

/**
 * Create the default in-memory backend (a mutex-protected hash table).
 *
 * @param out receives the backend; free it with out->free(out) when no runtime
 *        uses it any more
 * @return 0, FAAS_EINVAL, FAAS_ENOMEM. Any thread may call it.
 */
FAAS_EXTERN int faas_state_memory_new(faas_state_backend **out);

FAAS_END_DECLS

#endif /* FAAS_SYS_STATE_H */
