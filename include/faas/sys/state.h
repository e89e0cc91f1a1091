/*
 * libfaas — the state backend table.
 *
 * A host plugs its own store (SQLite, Redis, ...) into a runtime by filling
 * this table and passing it in faas_runtime_options.state. Every function
 * must be thread-safe: handlers call them from worker threads concurrently.
 * Keys arrive already namespaced ("<namespace>/<key>").
 *
 * Versions are per key, start at 1 and grow by at least one on every write
 * (put and incr, incr of 0 included); a key deleted and written again gets a
 * version it never had before. FAAS_STATE_ABSENT (0) and FAAS_STATE_ANY
 * (UINT64_MAX) are defined in faas/handler.h and are never real versions.
 *
 * The contract every backend keeps (test/state_conformance.c checks it):
 * - A key is a non-empty NUL-terminated string of any bytes but NUL. A NULL
 *   self, a NULL or empty key, or a NULL required pointer is FAAS_EINVAL, and
 *   nothing is changed.
 * - Values are bytes: any length (0 included), NUL bytes included.
 * - A failed call leaves the stored value and its version as they were.
 * - Out parameters not marked "on success" are written on every return,
 *   failures included.
 *
 * The expected_version of put and del (compare-and-set):
 * - FAAS_STATE_ANY: whatever the key holds, if anything.
 * - FAAS_STATE_ABSENT: put only if the key is missing (create); for del this
 *   can never match an existing key, so it gives FAAS_ECONFLICT.
 * - any other number: only if the key exists with exactly that version; a
 *   missing key is then FAAS_ECONFLICT for put.
 * For del, a missing key is FAAS_ENOTFOUND whatever expected_version says.
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

	/** Read key.
	 *  @param value_out required; receives a malloc()ed copy, NUL-terminated
	 *         (the NUL not counted in the length), freed with free(); NULL on
	 *         any failure
	 *  @param len_out may be NULL; the value's length, 0 on any failure
	 *  @param version_out may be NULL; the value's version, FAAS_STATE_ABSENT
	 *         on any failure, so that a missing key's version can be passed to
	 *         put to create it
	 *  @return 0, FAAS_ENOTFOUND, FAAS_EINVAL, FAAS_ENOMEM (or another FAAS_E*
	 *          code of the backend's store) */
	int (*get)(faas_state_backend *self, const char *key, char **value_out,
		   size_t *len_out, uint64_t *version_out);

	/** Write key if expected_version matches (see above); the value is copied.
	 *  @param value may be NULL only when len is 0
	 *  @param version_out may be NULL; on success, the new version
	 *  @return 0, FAAS_ECONFLICT, FAAS_EINVAL, FAAS_ENOMEM */
	int (*put)(faas_state_backend *self, const char *key, const void *value,
		   size_t len, uint64_t expected_version, uint64_t *version_out);

	/** Delete key if expected_version matches (see above).
	 *  @return 0, FAAS_ENOTFOUND, FAAS_ECONFLICT, FAAS_EINVAL */
	int (*del)(faas_state_backend *self, const char *key, uint64_t expected_version);

	/** Atomically add delta to a decimal integer value and store the sum as
	 *  decimal text ("-42"); a missing key counts as 0 and is created. The value
	 *  must be an optional '-' and one or more ASCII digits, nothing else (no
	 *  spaces, no '+'), within int64_t.
	 *  @param value_out may be NULL; on success, the new number
	 *  @return 0, FAAS_EINVAL (NULL self or key, empty key, the value is not
	 *          such an integer, or the sum would leave int64_t: it is refused,
	 *          never wrapped or clamped), FAAS_ENOMEM */
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
