/*
 * libfaas — the store backend table: where a runtime keeps what must
 * outlive its process.
 *
 * A store is one database per runtime. This version holds the functions'
 * state (a state backend that lives as long as the store) and can be backed
 * up while it is in use; later versions of the table add the async queue,
 * activation records and checkpoints. One implementation ships: SQLite
 * (faas_store_sqlite_open). Every function of the table is thread-safe.
 *
 * Durability: a write that returned 0 survives a crash of the process. With
 * FAAS_STORE_SYNC_FULL (the default) it also survives a crash of the machine
 * (SQLite syncs the write-ahead log at every commit); with
 * FAAS_STORE_SYNC_NORMAL the last commits before a power loss may be lost,
 * never corrupted.
 */
#ifndef FAAS_SYS_STORE_H
#define FAAS_SYS_STORE_H

#include <stdint.h>

#include "../common.h"
#include "state.h"

/** The version of this table's layout. */
#define FAAS_STORE_BACKEND_VERSION 1

typedef struct faas_store_backend faas_store_backend;

/** A store backend: a versioned table of function pointers. */
struct faas_store_backend {
	/** FAAS_STORE_BACKEND_VERSION. */
	unsigned int version;
	/** The implementation's name ("sqlite"). */
	const char *name;

	/** The store's state backend; borrowed, it lives as long as the store
	 *  (its free is NULL: the store owns it). Never NULL. */
	faas_state_backend *(*state)(faas_store_backend *self);

	/** Write a consistent copy of the whole store to path (a new file, or
	 *  one it replaces), while other threads keep using the store.
	 *  @return 0, FAAS_EINVAL (NULL or empty path), FAAS_ESYSTEM (the copy
	 *          failed: the message says why), FAAS_ENOMEM */
	int (*backup)(faas_store_backend *self, const char *path);

	/** Close the store and release it. */
	void (*free)(faas_store_backend *self);
};

/** When a commit is synced to disk; see the file comment. */
typedef enum faas_store_sync {
	FAAS_STORE_SYNC_FULL = 0,
	FAAS_STORE_SYNC_NORMAL = 1
} faas_store_sync;

/** Waiting for a database another process holds, by default. */
#define FAAS_DEFAULT_STORE_BUSY_TIMEOUT_MS 1000u
#define FAAS_MAX_STORE_BUSY_TIMEOUT_MS 600000u

/** The version of faas_store_sqlite_options. */
#define FAAS_STORE_SQLITE_OPTIONS_VERSION 1

/** SQLite store options. Initialise with FAAS_STORE_SQLITE_OPTIONS_INIT. */
typedef struct faas_store_sqlite_options {
	unsigned int version;
	faas_store_sync sync;
	/** How long to wait for a database another process has open (the
	 *  store holds its database exclusively); 0 =
	 *  FAAS_DEFAULT_STORE_BUSY_TIMEOUT_MS, at most
	 *  FAAS_MAX_STORE_BUSY_TIMEOUT_MS. */
	uint32_t busy_timeout_ms;
} faas_store_sqlite_options;

#define FAAS_STORE_SQLITE_OPTIONS_INIT                                                             \
	{                                                                                          \
		FAAS_STORE_SQLITE_OPTIONS_VERSION, FAAS_STORE_SYNC_FULL, 0                         \
	}

FAAS_BEGIN_DECLS

/**
 * Open (or create) the SQLite store at path: WAL journal, the schema
 * created or migrated to this library's version, the file held exclusively
 * by this process until the store is freed.
 *
 * @param out receives the store; free it with out->free(out)
 * @param path the database file; its folder must exist
 * @param opts NULL for the defaults
 * @return 0, FAAS_EINVAL (NULL out or path, bad options), FAAS_EBUSY (another
 *         process holds the database), FAAS_ESYSTEM (it cannot be opened or
 *         created, is not a database or is corrupt, or has a schema newer
 *         than this library's), FAAS_ENOMEM; the message, naming the file, is
 *         faas_runtime_last_error(NULL) on this thread
 */
FAAS_EXTERN int faas_store_sqlite_open(faas_store_backend **out, const char *path,
                                       const faas_store_sqlite_options *opts);

FAAS_END_DECLS

#endif /* FAAS_SYS_STORE_H */
