/*
 * libfaas store — what the SQLite store's files share: the store record
 * and its statements. The store is one connection, used by one thread at a
 * time under the record's mutex; the database file is held exclusively
 * (SQLite's locking_mode EXCLUSIVE), so no other process writes it.
 */
#ifndef FAAS_LIB_STORE_SQLITE_STORE_H
#define FAAS_LIB_STORE_SQLITE_STORE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include <faas/sys/store.h>

#include "core.h"

/* The schema this library writes; user_version in the database. */
#define FAAS__STORE_SCHEMA_VERSION 1
/* Pages copied per step of a backup, between which other users go on. */
#define FAAS__STORE_BACKUP_PAGES 256

typedef struct faas__sqlite {
	faas_store_backend table; /* first: the table pointer is the record */
	faas_state_backend state; /* the state backend it hands out */
	pthread_mutex_t mu;
	sqlite3 *db;
	char *path;
	/* The state versions' counter (faas_meta), so a key deleted and
	 * written again never gets a version it had before, across restarts. */
	uint64_t last_version;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *get, *upsert, *remove, *set_last_version;
} faas__sqlite;

/* A FAAS_E* code for an SQLite result code (0 for OK, ROW and DONE). */
static inline int faas__sqlite_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return FAAS_EBUSY;
	case SQLITE_NOMEM:
		return FAAS_ENOMEM;
	case SQLITE_TOOBIG:
		return FAAS_ETOOBIG;
	default:
		return FAAS_ESYSTEM;
	}
}

/* Fill s->state with the state backend's table (sqlite_state.c). */
void faas__sqlite_state_init(faas__sqlite *s);

#endif /* FAAS_LIB_STORE_SQLITE_STORE_H */
