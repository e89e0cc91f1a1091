/* The SQLite store: what survives a close and a crash, the errors for a
 * database it cannot use (each naming the file), exclusivity, and an online
 * backup that is a consistent snapshot while a writer runs. The state
 * contract itself is state_conformance's. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include <faas.h>

TestSuite(sqlite_store, .timeout = 60);

static char dir[64], db[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/faas-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/faas.db", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

static faas_store_backend *open_ok(const char *path)
{
	faas_store_backend *s = NULL;
	int rc = faas_store_sqlite_open(&s, path, NULL);

	cr_assert_eq(rc, 0, "%s: %s", faas_err_name(rc), faas_runtime_last_error(NULL));
	cr_assert_str_eq(s->name, "sqlite");
	return s;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(sqlite_store, state_and_versions_survive_a_reopen, .init = setup, .fini = teardown)
{
	faas_store_backend *s = open_ok(db);
	faas_state_backend *st = s->state(s);
	uint64_t v1, v2, v3;
	int64_t n;
	char *value;
	size_t len;

	cr_assert_eq(st->put(st, "ns/a", "one", 3, FAAS_STATE_ANY, &v1), 0);
	cr_assert_eq(st->incr(st, "ns/count", 41, &n), 0);
	cr_assert_eq(st->put(st, "ns/gone", "x", 1, FAAS_STATE_ANY, &v2), 0);
	cr_assert_eq(st->del(st, "ns/gone", FAAS_STATE_ANY), 0);
	s->free(s);

	s = open_ok(db);
	st = s->state(s);
	cr_assert_eq(st->get(st, "ns/a", &value, &len, &v3), 0);
	cr_assert_eq(len, 3);
	cr_assert_str_eq(value, "one");
	cr_assert_eq(v3, v1);
	free(value);
	cr_assert_eq(st->incr(st, "ns/count", 1, &n), 0);
	cr_assert_eq(n, 42, "the count goes on");
	/* A key deleted before the restart never gets its old version back. */
	cr_assert_eq(st->put(st, "ns/gone", "y", 1, FAAS_STATE_ABSENT, &v3), 0);
	cr_assert_gt(v3, v2);
	cr_assert_eq(st->get(st, "ns/missing", &value, &len, &v3), FAAS_ENOTFOUND);
	s->free(s);
}

/* Killed between commits: every write that returned 0 is there. */
Test(sqlite_store, committed_writes_survive_a_kill, .init = setup, .fini = teardown)
{
	int pipefd[2];
	pid_t pid;
	long done = 0;
	faas_store_backend *s;
	faas_state_backend *st;
	char *value;

	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		faas_store_backend *c = NULL;

		close(pipefd[0]);
		if (faas_store_sqlite_open(&c, db, NULL) != 0)
			_exit(1);
		for (long i = 1;; i++) {
			char key[32];

			snprintf(key, sizeof(key), "k/%ld", i);
			if (c->state(c)->put(c->state(c), key, "v", 1, FAAS_STATE_ANY, NULL) != 0)
				_exit(2);
			/* Acknowledged: the parent may count on it. */
			if (write(pipefd[1], &i, sizeof(i)) != sizeof(i))
				_exit(3);
		}
	}
	close(pipefd[1]);
	while (done < 200 && read(pipefd[0], &done, sizeof(done)) == sizeof(done))
		;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Whatever the child acknowledged after the last read counts too. */
	while (read(pipefd[0], &done, sizeof(done)) == sizeof(done))
		;
	close(pipefd[0]);
	cr_assert_geq(done, 200);
	s = open_ok(db);
	st = s->state(s);
	for (long i = 1; i <= done; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k/%ld", i);
		cr_assert_eq(st->get(st, key, &value, NULL, NULL), 0, "%s lost", key);
		free(value);
	}
	s->free(s);
}

static void open_fails(const char *path, int want, const char *msg_part)
{
	faas_store_backend *s = (faas_store_backend *)1;
	int rc = faas_store_sqlite_open(&s, path, NULL);

	cr_assert_eq(rc, want, "%s: %s", faas_err_name(rc), faas_runtime_last_error(NULL));
	cr_assert_null(s);
	cr_assert(strstr(faas_runtime_last_error(NULL), path), "names the file: %s",
	          faas_runtime_last_error(NULL));
	cr_assert(strstr(faas_runtime_last_error(NULL), msg_part), "%s",
	          faas_runtime_last_error(NULL));
}

Test(sqlite_store, a_file_that_is_not_a_database, .init = setup, .fini = teardown)
{
	char text[4096];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	write_file(db, text);
	open_fails(db, FAAS_ESYSTEM, "not a libfaas database, or corrupt");
}

Test(sqlite_store, a_corrupt_database, .init = setup, .fini = teardown)
{
	faas_store_backend *s = open_ok(db);
	char page[4096];
	int fd;

	for (int i = 0; i < 200; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k/%d", i);
		cr_assert_eq(s->state(s)->put(s->state(s), key, "value", 5, FAAS_STATE_ANY, NULL),
		             0);
	}
	s->free(s);
	/* Page 1's header survives; the schema's and the tables' pages do not. */
	memset(page, 0xa5, sizeof(page));
	fd = open(db, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, page + 100, sizeof(page) - 100, 100), (ssize_t)sizeof(page) - 100);
	cr_assert_eq(pwrite(fd, page, sizeof(page), 4096), (ssize_t)sizeof(page));
	close(fd);
	open_fails(db, FAAS_ESYSTEM, "corrupt");
}

Test(sqlite_store, a_newer_schema, .init = setup, .fini = teardown)
{
	sqlite3 *raw;

	faas_store_backend *s = open_ok(db);

	s->free(s);
	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	open_fails(db, FAAS_ESYSTEM, "schema version 99 is newer than this libfaas's");
}

Test(sqlite_store, a_folder_that_does_not_exist, .init = setup, .fini = teardown)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/no/such/faas.db", dir);
	open_fails(path, FAAS_ESYSTEM, "cannot open");
}

/* The store holds its file: a second opener, here another process, is told
 * who has it instead of sharing a queue it would run twice. */
Test(sqlite_store, held_by_another_process, .init = setup, .fini = teardown)
{
	faas_store_sqlite_options o = FAAS_STORE_SQLITE_OPTIONS_INIT;
	faas_store_backend *s = open_ok(db), *other = NULL;
	int status, rc;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		o.busy_timeout_ms = 50;
		rc = faas_store_sqlite_open(&other, db, &o);
		_exit(rc == FAAS_EBUSY &&
		              strstr(faas_runtime_last_error(NULL), "held by another process")
		          ? 0
		          : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the second opener was refused");
	s->free(s);
	/* Released with the store. */
	s = open_ok(db);
	s->free(s);
}

Test(sqlite_store, bad_arguments, .init = setup, .fini = teardown)
{
	faas_store_sqlite_options o = FAAS_STORE_SQLITE_OPTIONS_INIT;
	faas_store_backend *s;

	cr_assert_eq(faas_store_sqlite_open(NULL, db, NULL), FAAS_EINVAL);
	cr_assert_eq(faas_store_sqlite_open(&s, NULL, NULL), FAAS_EINVAL);
	cr_assert_eq(faas_store_sqlite_open(&s, "", NULL), FAAS_EINVAL);
	o.sync = (faas_store_sync)7;
	cr_assert_eq(faas_store_sqlite_open(&s, db, &o), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(NULL), "sync 7"));
	o = (faas_store_sqlite_options)FAAS_STORE_SQLITE_OPTIONS_INIT;
	o.busy_timeout_ms = FAAS_MAX_STORE_BUSY_TIMEOUT_MS + 1;
	cr_assert_eq(faas_store_sqlite_open(&s, db, &o), FAAS_EINVAL);
	o = (faas_store_sqlite_options)FAAS_STORE_SQLITE_OPTIONS_INIT;
	o.version = 99;
	cr_assert_eq(faas_store_sqlite_open(&s, db, &o), FAAS_EINVAL);
	cr_assert_eq(access(db, F_OK), -1, "nothing created for bad options");
	s = open_ok(db);
	cr_assert_eq(s->backup(s, NULL), FAAS_EINVAL);
	cr_assert_eq(s->backup(s, ""), FAAS_EINVAL);
	s->free(s);
}

/* ---- online backup ---- */

typedef struct writer {
	faas_state_backend *st;
	atomic_int stop;
	atomic_long written;
} writer;

/* Keys k/1, k/2, ... one after another: any consistent snapshot holds
 * exactly k/1..k/n for some n. */
static void *write_keys(void *arg)
{
	writer *w = arg;

	for (long i = 1; !atomic_load(&w->stop); i++) {
		char key[32], value[64];

		snprintf(key, sizeof(key), "k/%ld", i);
		snprintf(value, sizeof(value), "value of %ld", i);
		if (w->st->put(w->st, key, value, strlen(value), FAAS_STATE_ABSENT, NULL) != 0)
			break;
		atomic_store(&w->written, i);
	}
	return NULL;
}

Test(sqlite_store, backup_while_writing_is_a_snapshot, .init = setup, .fini = teardown)
{
	faas_store_sqlite_options o = FAAS_STORE_SQLITE_OPTIONS_INIT;
	faas_store_backend *s, *copy;
	char path[192];
	writer w = {0};
	pthread_t t;
	long n = 0, before;
	char *value;

	/* NORMAL sync: the writer gets far enough for the copy to take steps. */
	o.sync = FAAS_STORE_SYNC_NORMAL;
	cr_assert_eq(faas_store_sqlite_open(&s, db, &o), 0, "%s", faas_runtime_last_error(NULL));
	w.st = s->state(s);
	for (int i = 0; i < 2000; i++) {
		char key[32];

		snprintf(key, sizeof(key), "bulk/%d", i);
		cr_assert_eq(w.st->put(w.st, key, "0123456789abcdef0123456789abcdef", 32,
		                       FAAS_STATE_ANY, NULL),
		             0);
	}
	cr_assert_eq(pthread_create(&t, NULL, write_keys, &w), 0);
	while (atomic_load(&w.written) < 100)
		usleep(1000);
	before = atomic_load(&w.written);
	snprintf(path, sizeof(path), "%s/backup.db", dir);
	cr_assert_eq(s->backup(s, path), 0, "%s", faas_runtime_last_error(NULL));
	atomic_store(&w.stop, 1);
	pthread_join(t, NULL);
	s->free(s);

	copy = open_ok(path);
	w.st = copy->state(copy);
	for (;; n++) {
		char key[32];

		snprintf(key, sizeof(key), "k/%ld", n + 1);
		if (w.st->get(w.st, key, &value, NULL, NULL) != 0)
			break;
		free(value);
	}
	cr_assert_geq(n, before, "the copy has what was written before it began");
	for (long i = n + 2; i < n + 200; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k/%ld", i);
		cr_assert_eq(w.st->get(w.st, key, &value, NULL, NULL), FAAS_ENOTFOUND,
		             "a gap before %s: not a snapshot", key);
	}
	cr_assert_eq(w.st->get(w.st, "bulk/1999", &value, NULL, NULL), 0);
	free(value);
	copy->free(copy);
	snprintf(path, sizeof(path), "%s/backup.db.tmp", dir);
	cr_assert_eq(access(path, F_OK), -1, "no temporary file left");
}

Test(sqlite_store, backup_to_a_folder_that_does_not_exist, .init = setup, .fini = teardown)
{
	faas_store_backend *s = open_ok(db);
	char path[192];

	snprintf(path, sizeof(path), "%s/no/such/backup.db", dir);
	cr_assert_eq(s->backup(s, path), FAAS_ESYSTEM);
	cr_assert(strstr(faas_runtime_last_error(NULL), "backup to"), "%s",
	          faas_runtime_last_error(NULL));
	s->free(s);
}
