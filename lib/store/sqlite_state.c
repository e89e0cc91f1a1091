/* The state backend on the SQLite store: the contract of
 * include/faas/sys/state.h (its rules from hooks/state_rules.h, shared with
 * the memory backend) on the faas_state table. Each write is one
 * transaction that also stores the versions' counter, so a version is never
 * handed out twice, across restarts too. Keys are stored as blobs: they may
 * be any bytes but NUL, not necessarily UTF-8. */
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state_rules.h"
#include "sqlite_store.h"

static faas__sqlite *of(faas_state_backend *self)
{
	return (faas__sqlite *)((char *)self - offsetof(faas__sqlite, state));
}

/* Run a statement that returns no row to the end, and reset it. */
static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : faas__sqlite_err(rc) ? faas__sqlite_err(rc) : FAAS_ESYSTEM;
}

/* The key's row: *exists, its version, and (if value_out) a copy of its
 * value. The statement is reset before returning. */
static int read_row(faas__sqlite *s, const char *key, bool *exists, uint64_t *version,
                    char **value_out, size_t *len_out)
{
	sqlite3_stmt *st = s->get;
	int rc = sqlite3_bind_blob(st, 1, key, (int)strlen(key), SQLITE_STATIC);

	*exists = false;
	*version = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *v = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		*exists = true;
		*version = (uint64_t)sqlite3_column_int64(st, 1);
		rc = 0;
		if (value_out && !(*value_out = faas__state_copy_value(v, n)))
			rc = FAAS_ENOMEM;
		else if (len_out)
			*len_out = n;
	} else {
		rc = rc == SQLITE_DONE      ? 0
		     : faas__sqlite_err(rc) ? faas__sqlite_err(rc)
		                            : FAAS_ESYSTEM;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* Write key = value under the next version (inside a transaction). */
static int write_row(faas__sqlite *s, const char *key, const void *value, size_t len,
                     uint64_t *version_out)
{
	uint64_t version = s->last_version + 1;
	int rc;

	if (len > INT_MAX)
		return FAAS_ETOOBIG;
	if (sqlite3_bind_blob(s->upsert, 1, key, (int)strlen(key), SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(s->upsert, 2, value ? value : "", (int)len, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_bind_int64(s->upsert, 3, (sqlite3_int64)version) != SQLITE_OK) {
		sqlite3_clear_bindings(s->upsert);
		return FAAS_ESYSTEM;
	}
	if ((rc = run(s->upsert)) != 0)
		return rc;
	sqlite3_bind_int64(s->set_last_version, 1, (sqlite3_int64)version);
	if ((rc = run(s->set_last_version)) != 0)
		return rc;
	*version_out = version;
	return 0;
}

static int begin(faas__sqlite *s)
{
	pthread_mutex_lock(&s->mu);
	return run(s->begin);
}

/* Commit if rc is 0, else roll back; the counter moves only with a commit. */
static int end(faas__sqlite *s, int rc, uint64_t version)
{
	if (rc == 0)
		rc = run(s->commit);
	if (rc != 0)
		(void)run(s->rollback);
	else if (version)
		s->last_version = version;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int sq_get(faas_state_backend *self, const char *key, char **value_out, size_t *len_out,
                  uint64_t *version_out)
{
	faas__sqlite *s;
	bool exists;
	uint64_t version;
	int rc;

	if (value_out)
		*value_out = NULL;
	if (len_out)
		*len_out = 0;
	if (version_out)
		*version_out = FAAS_STATE_ABSENT;
	if (!faas__state_valid_call(self, key) || !value_out)
		return FAAS_EINVAL;
	s = of(self);
	pthread_mutex_lock(&s->mu);
	rc = read_row(s, key, &exists, &version, value_out, len_out);
	pthread_mutex_unlock(&s->mu);
	if (rc == 0 && !exists)
		rc = FAAS_ENOTFOUND;
	if (rc == 0 && version_out)
		*version_out = version;
	if (rc != 0 && len_out)
		*len_out = 0;
	return rc;
}

static int sq_put(faas_state_backend *self, const char *key, const void *value, size_t len,
                  uint64_t expected_version, uint64_t *version_out)
{
	faas__sqlite *s;
	bool exists;
	uint64_t version, written = 0;
	int rc;

	if (!faas__state_valid_call(self, key) || (!value && len > 0))
		return FAAS_EINVAL;
	s = of(self);
	if ((rc = begin(s)) != 0)
		return end(s, rc, 0);
	rc = read_row(s, key, &exists, &version, NULL, NULL);
	if (rc == 0 && !faas__state_put_matches(exists, version, expected_version))
		rc = FAAS_ECONFLICT;
	if (rc == 0)
		rc = write_row(s, key, value, len, &written);
	rc = end(s, rc, written);
	if (rc == 0 && version_out)
		*version_out = written;
	return rc;
}

static int sq_del(faas_state_backend *self, const char *key, uint64_t expected_version)
{
	faas__sqlite *s;
	bool exists;
	uint64_t version;
	int rc;

	if (!faas__state_valid_call(self, key))
		return FAAS_EINVAL;
	s = of(self);
	if ((rc = begin(s)) != 0)
		return end(s, rc, 0);
	rc = read_row(s, key, &exists, &version, NULL, NULL);
	if (rc == 0)
		rc = faas__state_del_check(exists, version, expected_version);
	if (rc == 0 &&
	    sqlite3_bind_blob(s->remove, 1, key, (int)strlen(key), SQLITE_STATIC) == SQLITE_OK)
		rc = run(s->remove);
	return end(s, rc, 0);
}

static int sq_incr(faas_state_backend *self, const char *key, int64_t delta, int64_t *value_out)
{
	faas__sqlite *s;
	char *old = NULL, text[32];
	size_t len = 0;
	bool exists;
	uint64_t version, written = 0;
	int64_t sum = 0;
	int rc, n;

	if (!faas__state_valid_call(self, key))
		return FAAS_EINVAL;
	s = of(self);
	if ((rc = begin(s)) != 0)
		return end(s, rc, 0);
	rc = read_row(s, key, &exists, &version, &old, &len);
	if (rc == 0)
		rc = faas__state_incr_sum(exists, old, len, delta, &sum);
	free(old);
	if (rc == 0) {
		n = snprintf(text, sizeof(text), "%" PRId64, sum);
		rc = write_row(s, key, text, (size_t)n, &written);
	}
	rc = end(s, rc, written);
	if (rc == 0 && value_out)
		*value_out = sum;
	return rc;
}

void faas__sqlite_state_init(faas__sqlite *s)
{
	s->state =
	    (faas_state_backend){FAAS_STATE_BACKEND_VERSION, sq_get, sq_put, sq_del, sq_incr, NULL};
}
