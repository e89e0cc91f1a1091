/* The SQLite store: opening a database (WAL, held exclusively, the schema
 * created or migrated), its statements, online backup, closing. The state
 * backend on it is sqlite_state.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_store.h"

/* migrations[v] takes a database from schema version v to v + 1. */
static const char *const migrations[FAAS__STORE_SCHEMA_VERSION] = {
    "CREATE TABLE faas_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO faas_meta VALUES ('state_last_version', 0);"
    "CREATE TABLE faas_state (key BLOB PRIMARY KEY, value BLOB NOT NULL,"
    " version INTEGER NOT NULL) WITHOUT ROWID;",
};

/* The open's failure, with the file's name and what SQLite said. */
static int fail_open(faas__sqlite *s, int rc, const char *what)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return faas__fail(NULL, FAAS_EBUSY,
		                  "store %s: the database is held by another process (%s)", s->path,
		                  msg);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return faas__fail(NULL, FAAS_ESYSTEM,
		                  "store %s: not a libfaas database, or corrupt (%s: %s)", s->path,
		                  what, msg);
	default:
		return faas__fail(NULL, faas__sqlite_err(rc) ? faas__sqlite_err(rc) : FAAS_ESYSTEM,
		                  "store %s: %s: %s", s->path, what, msg);
	}
}

/* Run a pragma that answers one text row, and check the answer. */
static int pragma(faas__sqlite *s, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	const unsigned char *got;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return fail_open(s, rc, sql);
	}
	got = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (want && (!got || strcmp((const char *)got, want) != 0)) {
		rc = faas__fail(NULL, FAAS_ESYSTEM, "store %s: %s answered '%s', not '%s'", s->path,
		                sql, got ? (const char *)got : "", want);
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return 0;
}

static int exec(faas__sqlite *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail_open(s, rc, sql);
}

/* One integer a query answers (0 if no row); -1 on failure, reported. */
static int query_u64(faas__sqlite *s, const char *sql, uint64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	*out = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail_open(s, rc, sql);
}

/* Create or migrate the schema inside one transaction, and read the
 * counters. The BEGIN IMMEDIATE also takes the file's lock, kept from here
 * on in exclusive locking mode. */
static int migrate(faas__sqlite *s)
{
	uint64_t v;
	char sql[64];
	int rc = exec(s, "BEGIN IMMEDIATE");

	if (rc != 0)
		return rc;
	if ((rc = query_u64(s, "PRAGMA user_version", &v)) != 0)
		goto out;
	if (v > FAAS__STORE_SCHEMA_VERSION) {
		rc = faas__fail(NULL, FAAS_ESYSTEM,
		                "store %s: schema version %llu is newer than this libfaas's (%d)",
		                s->path, (unsigned long long)v, FAAS__STORE_SCHEMA_VERSION);
		goto out;
	}
	for (; v < FAAS__STORE_SCHEMA_VERSION; v++)
		if ((rc = exec(s, migrations[v])) != 0)
			goto out;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", FAAS__STORE_SCHEMA_VERSION);
	if ((rc = exec(s, sql)) != 0 ||
	    (rc = query_u64(s, "SELECT value FROM faas_meta WHERE name = 'state_last_version'",
	                    &s->last_version)) != 0)
		goto out;
	return exec(s, "COMMIT");
out:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int prepare(faas__sqlite *s, sqlite3_stmt **st, const char *sql)
{
	int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

	return rc == SQLITE_OK ? 0 : fail_open(s, rc, sql);
}

static int prepare_all(faas__sqlite *s)
{
	int rc;

	if ((rc = prepare(s, &s->begin, "BEGIN IMMEDIATE")) != 0 ||
	    (rc = prepare(s, &s->commit, "COMMIT")) != 0 ||
	    (rc = prepare(s, &s->rollback, "ROLLBACK")) != 0 ||
	    (rc = prepare(s, &s->get, "SELECT value, version FROM faas_state WHERE key = ?1")) !=
	        0 ||
	    (rc = prepare(s, &s->upsert,
	                  "INSERT INTO faas_state (key, value, version) VALUES (?1, ?2, ?3)"
	                  " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
	                  " version = excluded.version")) != 0 ||
	    (rc = prepare(s, &s->remove, "DELETE FROM faas_state WHERE key = ?1")) != 0)
		return rc;
	return prepare(s, &s->set_last_version,
	               "UPDATE faas_meta SET value = ?1 WHERE name = 'state_last_version'");
}

static void store_free(faas_store_backend *self)
{
	faas__sqlite *s = (faas__sqlite *)self;
	sqlite3_stmt *sts[] = {s->begin,  s->commit, s->rollback,        s->get,
	                       s->upsert, s->remove, s->set_last_version};

	if (!s)
		return;
	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++)
		sqlite3_finalize(sts[i]);
	/* Closing the last connection checkpoints the log into the file. */
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->mu);
	free(s->path);
	free(s);
}

static faas_state_backend *store_state(faas_store_backend *self)
{
	return self ? &((faas__sqlite *)self)->state : NULL;
}

/* Copy page by page, letting the store's other users in between: SQLite
 * carries their writes (through this same connection) into the copy, so it
 * is consistent as of its end. Written beside path, then renamed over it:
 * a failed backup never leaves half a file under that name. */
static int store_backup(faas_store_backend *self, const char *path)
{
	faas__sqlite *s = (faas__sqlite *)self;
	size_t n = path ? strlen(path) : 0;
	char *tmp = n ? malloc(n + 8) : NULL;
	sqlite3 *dest = NULL;
	sqlite3_backup *b = NULL;
	int step = SQLITE_ERROR, rc;

	if (!s || !n) {
		free(tmp);
		return faas__fail(NULL, FAAS_EINVAL, "store backup: no store or no path");
	}
	if (!tmp)
		return faas__fail(NULL, FAAS_ENOMEM, "store backup: out of memory");
	snprintf(tmp, n + 8, "%s.tmp", path);
	rc = sqlite3_open_v2(tmp, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK) {
		pthread_mutex_lock(&s->mu);
		b = sqlite3_backup_init(dest, "main", s->db, "main");
		pthread_mutex_unlock(&s->mu);
	}
	if (b) {
		do {
			pthread_mutex_lock(&s->mu);
			step = sqlite3_backup_step(b, FAAS__STORE_BACKUP_PAGES);
			pthread_mutex_unlock(&s->mu);
		} while (step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED);
		pthread_mutex_lock(&s->mu);
		rc = sqlite3_backup_finish(b);
		pthread_mutex_unlock(&s->mu);
	}
	if (b && step == SQLITE_DONE && rc == SQLITE_OK) {
		rc = sqlite3_close(dest);
		dest = NULL;
		if (rc == SQLITE_OK && rename(tmp, path) == 0) {
			free(tmp);
			return 0;
		}
	}
	rc = faas__fail(NULL, FAAS_ESYSTEM, "store %s: backup to %s failed: %s", s->path, path,
	                dest ? sqlite3_errmsg(dest) : "cannot write or rename the copy");
	sqlite3_close(dest);
	unlink(tmp);
	free(tmp);
	return rc;
}

static int check_options(const faas_store_sqlite_options *o)
{
	if (o->version != FAAS_STORE_SQLITE_OPTIONS_VERSION)
		return faas__fail(NULL, FAAS_EINVAL,
		                  "store: options version %u, this libfaas has %d", o->version,
		                  FAAS_STORE_SQLITE_OPTIONS_VERSION);
	if (o->sync != FAAS_STORE_SYNC_FULL && o->sync != FAAS_STORE_SYNC_NORMAL)
		return faas__fail(NULL, FAAS_EINVAL, "store: sync %d is not full (0) or normal (1)",
		                  (int)o->sync);
	if (o->busy_timeout_ms > FAAS_MAX_STORE_BUSY_TIMEOUT_MS)
		return faas__fail(NULL, FAAS_EINVAL, "store: busy_timeout_ms %u is over %u",
		                  o->busy_timeout_ms, FAAS_MAX_STORE_BUSY_TIMEOUT_MS);
	return 0;
}

static int open_db(faas__sqlite *s, const faas_store_sqlite_options *o)
{
	int rc =
	    sqlite3_open_v2(s->path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK)
		return fail_open(s, rc, "cannot open");
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, (int)(o->busy_timeout_ms ? o->busy_timeout_ms
	                                                     : FAAS_DEFAULT_STORE_BUSY_TIMEOUT_MS));
	/* Exclusive: the runtime is the database's only user, and WAL then
	 * needs no shared-memory file. */
	if ((rc = pragma(s, "PRAGMA locking_mode = EXCLUSIVE", "exclusive")) != 0 ||
	    (rc = pragma(s, "PRAGMA journal_mode = WAL", "wal")) != 0 ||
	    (rc = exec(s, o->sync == FAAS_STORE_SYNC_FULL ? "PRAGMA synchronous = FULL"
	                                                  : "PRAGMA synchronous = NORMAL")) != 0 ||
	    (rc = migrate(s)) != 0)
		return rc;
	return prepare_all(s);
}

int faas_store_sqlite_open(faas_store_backend **out, const char *path,
                           const faas_store_sqlite_options *opts)
{
	faas_store_sqlite_options defaults = FAAS_STORE_SQLITE_OPTIONS_INIT;
	faas__sqlite *s;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !path || !path[0])
		return faas__fail(NULL, FAAS_EINVAL, "store: no %s", out ? "path" : "out pointer");
	if ((rc = check_options(opts ? opts : &defaults)) != 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = faas__strdup(path))) {
		free(s);
		return faas__fail(NULL, FAAS_ENOMEM, "store %s: out of memory", path);
	}
	pthread_mutex_init(&s->mu, NULL);
	s->table = (faas_store_backend){FAAS_STORE_BACKEND_VERSION, "sqlite", store_state,
	                                store_backup, store_free};
	faas__sqlite_state_init(s);
	if ((rc = open_db(s, opts ? opts : &defaults)) != 0) {
		store_free(&s->table);
		return rc;
	}
	*out = &s->table;
	return 0;
}
