/* The state backend conformance suite: the contract of include/faas/sys/state.h,
 * checked through the faas_state_backend table alone, against every backend
 * in the factory table below. A new backend (SQLite, Redis) passes it by
 * adding one line to that table and its factory; nothing else here names a
 * backend. test/state.c tests the handler-side calls through a runtime. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <faas.h>
#include <faas/sys/store.h>

/* ---- the backends under test ---- */

typedef struct backend_factory {
	const char *name;
	/* A new, empty backend, or NULL when it cannot be had here (a server
	 * that is not running): the tests then fail, they do not skip. */
	faas_state_backend *(*make)(void);
	/* Release what make() returned. */
	void (*destroy)(faas_state_backend *b);
} backend_factory;

static faas_state_backend *make_memory(void)
{
	faas_state_backend *b = NULL;

	return faas_state_memory_new(&b) == 0 ? b : NULL;
}

static void destroy_by_table(faas_state_backend *b)
{
	b->free(b);
}

/* The SQLite store's backend, on a new database in a folder of its own. Each
 * test runs in a process of its own, so one store at a time is enough. */
static faas_store_backend *sqlite_store;
static char sqlite_dir[64];

static faas_state_backend *make_sqlite(void)
{
	char path[128];

	snprintf(sqlite_dir, sizeof(sqlite_dir), "/tmp/faas-conformance-XXXXXX");
	if (!mkdtemp(sqlite_dir))
		return NULL;
	snprintf(path, sizeof(path), "%s/state.db", sqlite_dir);
	if (faas_store_sqlite_open(&sqlite_store, path, NULL) != 0)
		return NULL;
	return sqlite_store->state(sqlite_store);
}

static void destroy_sqlite(faas_state_backend *b)
{
	char cmd[160];

	(void)b;
	sqlite_store->free(sqlite_store);
	sqlite_store = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sqlite_dir);
	(void)!system(cmd);
}

static const backend_factory factories[] = {
    {"memory", make_memory, destroy_by_table},
    {"sqlite", make_sqlite, destroy_sqlite},
};

#define NFACTORIES (sizeof(factories) / sizeof(factories[0]))

/* Tests run in another process, where the table's pointers may not hold
 * (address randomisation): the parameter is an index into the table, in
 * memory criterion shares with that process. */
static void free_indices(struct criterion_test_params *p)
{
	cr_free(p->params);
}

static struct criterion_test_params factory_indices(void)
{
	size_t *idx = cr_malloc(NFACTORIES * sizeof(*idx));

	for (size_t i = 0; idx && i < NFACTORIES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, idx ? NFACTORIES : 0, free_indices);
}

/* ---- fixture ---- */

TestSuite(state_conformance, .timeout = 120);

static faas_state_backend *be;
static const backend_factory *bf;

static void open_backend(size_t index)
{
	cr_assert_lt(index, NFACTORIES);
	bf = &factories[index];
	be = bf->make();
	cr_assert_not_null(be, "%s: the factory made no backend", bf->name);
	cr_log_info("backend %s", bf->name);
}

static void close_backend(void)
{
	if (be)
		bf->destroy(be);
	be = NULL;
}

/* One test, run once per factory; bf is the factory, be its new backend. */
#define CONFORMANCE(test)                                                                          \
	ParameterizedTestParameters(state_conformance, test)                                       \
	{                                                                                          \
		return factory_indices();                                                          \
	}                                                                                          \
	static void test##_body(void);                                                             \
	ParameterizedTest(size_t *index, state_conformance, test, .fini = close_backend)           \
	{                                                                                          \
		open_backend(*index);                                                              \
		test##_body();                                                                     \
	}                                                                                          \
	static void test##_body(void)

/* ---- helpers ---- */

static uint64_t put_ok(const char *key, const void *value, size_t len, uint64_t expected)
{
	uint64_t v = 0;
	int rc = be->put(be, key, value, len, expected, &v);

	cr_assert_eq(rc, 0, "%s: put %s: %s", bf->name, key, faas_err_name(rc));
	cr_assert_neq(v, FAAS_STATE_ABSENT, "%s: put gave the ABSENT version", bf->name);
	cr_assert_neq(v, FAAS_STATE_ANY, "%s: put gave the ANY version", bf->name);
	return v;
}

static uint64_t put_str(const char *key, const char *value)
{
	return put_ok(key, value, strlen(value), FAAS_STATE_ANY);
}

/* Assert key holds exactly want[0..len) at version (0: any version). */
static void expect_value(const char *key, const void *want, size_t len, uint64_t version)
{
	char *value = NULL;
	size_t got_len = 0;
	uint64_t got_version = 0;
	int rc = be->get(be, key, &value, &got_len, &got_version);

	cr_assert_eq(rc, 0, "%s: get %s: %s", bf->name, key, faas_err_name(rc));
	cr_assert_not_null(value);
	cr_assert_eq(got_len, len, "%s: %s: length %zu, want %zu", bf->name, key, got_len, len);
	cr_assert_eq(memcmp(value, want, len), 0, "%s: %s: bytes differ", bf->name, key);
	cr_assert_eq(value[len], '\0', "%s: values are NUL-terminated", bf->name);
	if (version)
		cr_assert_eq(got_version, version, "%s: %s: version %llu, want %llu", bf->name, key,
		             (unsigned long long)got_version, (unsigned long long)version);
	free(value);
}

static void expect_str(const char *key, const char *want, uint64_t version)
{
	expect_value(key, want, strlen(want), version);
}

static uint64_t version_of(const char *key)
{
	char *value = NULL;
	uint64_t v = 0;

	cr_assert_eq(be->get(be, key, &value, NULL, &v), 0, "%s: get %s", bf->name, key);
	free(value);
	return v;
}

static void expect_absent(const char *key)
{
	char *value = (char *)"stale";
	size_t len = 99;
	uint64_t v = 99;

	cr_assert_eq(be->get(be, key, &value, &len, &v), FAAS_ENOTFOUND, "%s: %s exists", bf->name,
	             key);
	cr_assert_null(value);
	cr_assert_eq(len, 0);
	cr_assert_eq(v, FAAS_STATE_ABSENT);
}

/* ---- the table ---- */

CONFORMANCE(table_is_complete)
{
	cr_assert_eq(be->version, FAAS_STATE_BACKEND_VERSION);
	cr_assert_not_null(be->get);
	cr_assert_not_null(be->put);
	cr_assert_not_null(be->del);
	cr_assert_not_null(be->incr);
}

/* ---- get ---- */

CONFORMANCE(get_of_an_absent_key_is_notfound_with_the_absent_version)
{
	char *value = NULL;

	expect_absent("nothing");
	/* len_out and version_out are optional. */
	cr_assert_eq(be->get(be, "nothing", &value, NULL, NULL), FAAS_ENOTFOUND);
	cr_assert_null(value);
}

CONFORMANCE(the_absent_version_from_get_creates_the_key)
{
	char *value = NULL;
	uint64_t v = 99;

	cr_assert_eq(be->get(be, "k", &value, NULL, &v), FAAS_ENOTFOUND);
	put_ok("k", "first", 5, v);
	cr_assert_eq(be->put(be, "k", "second", 6, v, NULL), FAAS_ECONFLICT,
	             "a second create with the same absent version must lose");
	expect_str("k", "first", 0);
}

/* ---- put ---- */

CONFORMANCE(put_then_get_gives_the_exact_bytes_and_version)
{
	char buf[] = "hello";
	char *value = NULL;
	uint64_t v = put_ok("k", buf, 5, FAAS_STATE_ANY);

	expect_str("k", "hello", v);
	/* The backend copied the value: the caller's buffer is the caller's. */
	buf[0] = 'j';
	expect_str("k", "hello", v);
	/* And get hands out a copy each time. */
	cr_assert_eq(be->get(be, "k", &value, NULL, NULL), 0);
	value[0] = 'x';
	free(value);
	expect_str("k", "hello", v);
	/* version_out is optional. */
	cr_assert_eq(be->put(be, "k", "bye", 3, FAAS_STATE_ANY, NULL), 0);
	expect_str("k", "bye", 0);
}

CONFORMANCE(binary_values_keep_every_byte)
{
	const char nuls[] = {'a', '\0', 'b', '\0', '\0', 'c', '\0'};
	unsigned char all[256];

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	put_ok("nuls", nuls, sizeof(nuls), FAAS_STATE_ANY);
	put_ok("all", all, sizeof(all), FAAS_STATE_ANY);
	put_ok("lead", "\0x", 2, FAAS_STATE_ANY);
	expect_value("nuls", nuls, sizeof(nuls), 0);
	expect_value("all", all, sizeof(all), 0);
	expect_value("lead", "\0x", 2, 0);
}

CONFORMANCE(empty_values_exist_and_may_be_null)
{
	put_ok("empty", "", 0, FAAS_STATE_ABSENT);
	put_ok("null", NULL, 0, FAAS_STATE_ABSENT);
	expect_value("empty", "", 0, 0);
	expect_value("null", "", 0, 0);
	/* An empty value is a value, not an absent key. */
	cr_assert_eq(be->put(be, "null", "x", 1, FAAS_STATE_ABSENT, NULL), FAAS_ECONFLICT);
}

CONFORMANCE(shorter_value_replaces_a_longer_one)
{
	put_str("k", "a long first value");
	put_str("k", "ab");
	expect_str("k", "ab", 0);
	put_str("k", "");
	expect_str("k", "", 0);
}

/* ---- versions ---- */

CONFORMANCE(versions_grow_on_every_write)
{
	uint64_t last = 0, v;
	int64_t n;

	for (int i = 0; i < 50; i++) {
		v = put_ok("k", "x", 1, i % 2 ? FAAS_STATE_ANY : (i ? last : FAAS_STATE_ABSENT));
		cr_assert_gt(v, last, "%s: write %d: version %llu after %llu", bf->name, i,
		             (unsigned long long)v, (unsigned long long)last);
		cr_assert_eq(version_of("k"), v);
		last = v;
	}
	put_str("n", "1");
	last = version_of("n");
	for (int i = 0; i < 10; i++) {
		/* incr is a write too, even of 0. */
		cr_assert_eq(be->incr(be, "n", i % 2, &n), 0);
		v = version_of("n");
		cr_assert_gt(v, last, "%s: incr %d did not bump the version", bf->name, i);
		last = v;
	}
}

CONFORMANCE(a_recreated_key_never_reuses_a_version)
{
	uint64_t seen[20];

	for (int i = 0; i < 20; i++) {
		seen[i] = put_ok("k", "x", 1, FAAS_STATE_ABSENT);
		for (int j = 0; j < i; j++)
			cr_assert_neq(seen[i], seen[j], "%s: version %llu came back", bf->name,
			              (unsigned long long)seen[i]);
		cr_assert_eq(be->del(be, "k", seen[i]), 0);
	}
	/* A version held from before the delete matches nothing now. */
	cr_assert_eq(be->put(be, "k", "y", 1, seen[19], NULL), FAAS_ECONFLICT);
	expect_absent("k");
}

/* ---- compare-and-set ---- */

CONFORMANCE(cas_put_with_the_current_version_wins)
{
	uint64_t v1 = put_ok("k", "one", 3, FAAS_STATE_ABSENT);
	uint64_t v2 = put_ok("k", "two", 3, v1);

	cr_assert_gt(v2, v1);
	expect_str("k", "two", v2);
}

CONFORMANCE(cas_put_with_a_stale_version_conflicts_and_changes_nothing)
{
	uint64_t v1 = put_ok("k", "one", 3, FAAS_STATE_ABSENT);
	uint64_t v2 = put_ok("k", "two", 3, v1);

	cr_assert_eq(be->put(be, "k", "three", 5, v1, NULL), FAAS_ECONFLICT);
	expect_str("k", "two", v2);
	/* A version from the future is as wrong as one from the past. */
	cr_assert_eq(be->put(be, "k", "three", 5, v2 + 1, NULL), FAAS_ECONFLICT);
	expect_str("k", "two", v2);
	/* So is ABSENT on a key that exists. */
	cr_assert_eq(be->put(be, "k", "three", 5, FAAS_STATE_ABSENT, NULL), FAAS_ECONFLICT);
	expect_str("k", "two", v2);
}

CONFORMANCE(cas_put_of_a_missing_key_with_a_version_conflicts_and_creates_nothing)
{
	cr_assert_eq(be->put(be, "k", "x", 1, 1, NULL), FAAS_ECONFLICT);
	cr_assert_eq(be->put(be, "k", "x", 1, 12345, NULL), FAAS_ECONFLICT);
	expect_absent("k");
}

CONFORMANCE(create_only_if_absent)
{
	uint64_t v = put_ok("k", "mine", 4, FAAS_STATE_ABSENT);

	cr_assert_eq(be->put(be, "k", "yours", 5, FAAS_STATE_ABSENT, NULL), FAAS_ECONFLICT);
	expect_str("k", "mine", v);
	cr_assert_eq(be->del(be, "k", FAAS_STATE_ANY), 0);
	put_ok("k", "again", 5, FAAS_STATE_ABSENT);
	expect_str("k", "again", 0);
}

CONFORMANCE(put_any_writes_whatever_the_key_holds)
{
	put_ok("k", "a", 1, FAAS_STATE_ANY); /* creates */
	put_ok("k", "b", 1, FAAS_STATE_ANY); /* replaces */
	expect_str("k", "b", 0);
}

/* ---- delete ---- */

CONFORMANCE(delete_with_any_or_the_current_version)
{
	uint64_t v = put_ok("a", "1", 1, FAAS_STATE_ANY);

	put_str("b", "2");
	cr_assert_eq(be->del(be, "a", v), 0);
	cr_assert_eq(be->del(be, "b", FAAS_STATE_ANY), 0);
	expect_absent("a");
	expect_absent("b");
}

CONFORMANCE(delete_with_a_stale_version_conflicts_and_keeps_the_value)
{
	uint64_t v1 = put_ok("k", "one", 3, FAAS_STATE_ANY);
	uint64_t v2 = put_ok("k", "two", 3, v1);

	cr_assert_eq(be->del(be, "k", v1), FAAS_ECONFLICT);
	cr_assert_eq(be->del(be, "k", v2 + 1), FAAS_ECONFLICT);
	cr_assert_eq(be->del(be, "k", FAAS_STATE_ABSENT), FAAS_ECONFLICT,
	             "ABSENT never matches an existing key");
	expect_str("k", "two", v2);
	cr_assert_eq(be->del(be, "k", v2), 0);
}

CONFORMANCE(delete_of_an_absent_key_is_notfound_whatever_the_version)
{
	cr_assert_eq(be->del(be, "k", FAAS_STATE_ANY), FAAS_ENOTFOUND);
	cr_assert_eq(be->del(be, "k", FAAS_STATE_ABSENT), FAAS_ENOTFOUND);
	cr_assert_eq(be->del(be, "k", 7), FAAS_ENOTFOUND);
	put_str("k", "x");
	cr_assert_eq(be->del(be, "k", FAAS_STATE_ANY), 0);
	cr_assert_eq(be->del(be, "k", FAAS_STATE_ANY), FAAS_ENOTFOUND, "deleted twice");
}

CONFORMANCE(delete_touches_only_its_key)
{
	put_str("k", "x");
	put_str("k2", "y");
	put_str("k/", "z");
	cr_assert_eq(be->del(be, "k", FAAS_STATE_ANY), 0);
	expect_str("k2", "y", 0);
	expect_str("k/", "z", 0);
}

/* ---- incr ---- */

CONFORMANCE(incr_of_an_absent_key_starts_at_zero)
{
	int64_t n = 99;

	cr_assert_eq(be->incr(be, "a", 5, &n), 0);
	cr_assert_eq(n, 5);
	expect_str("a", "5", 0);
	cr_assert_eq(be->incr(be, "b", -3, &n), 0);
	cr_assert_eq(n, -3);
	expect_str("b", "-3", 0);
	/* An increment of 0 creates the key too. */
	cr_assert_eq(be->incr(be, "c", 0, &n), 0);
	cr_assert_eq(n, 0);
	expect_str("c", "0", 0);
	/* value_out is optional. */
	cr_assert_eq(be->incr(be, "d", 2, NULL), 0);
	expect_str("d", "2", 0);
}

CONFORMANCE(incr_of_a_number_stores_the_decimal_sum)
{
	static const struct {
		const char *before;
		int64_t delta, after;
		const char *text;
	} cases[] = {
	    {"41", 1, 42, "42"}, {"-7", 10, 3, "3"},     {"0", -1, -1, "-1"},
	    {"-0", 0, 0, "0"},   {"007", 1, 8, "8"},     {"10", -10, 0, "0"},
	    {"1", 0, 1, "1"},    {"-5", -5, -10, "-10"}, {"123456789", 1, 123456790, "123456790"},
	};
	int64_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_str("n", cases[i].before);
		cr_assert_eq(be->incr(be, "n", cases[i].delta, &n), 0, "%s: \"%s\"", bf->name,
		             cases[i].before);
		cr_assert_eq(n, cases[i].after, "\"%s\" + %lld = %lld", cases[i].before,
		             (long long)cases[i].delta, (long long)n);
		expect_str("n", cases[i].text, 0);
	}
}

CONFORMANCE(incr_of_a_value_that_is_not_an_integer_is_einval_and_changes_nothing)
{
	static const char *bad[] = {
	    "",
	    "abc",
	    " 5",
	    "5 ",
	    "+5",
	    "-",
	    "--1",
	    "1.5",
	    "1e3",
	    "0x10",
	    "5\n",
	    "٣",
	    "1 2",
	    "9223372036854775808",
	    "-9223372036854775809",
	    "99999999999999999999999",
	};
	int64_t n = 77;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = put_str("s", bad[i]);

		cr_assert_eq(be->incr(be, "s", 1, &n), FAAS_EINVAL, "%s: \"%s\"", bf->name, bad[i]);
		cr_assert_eq(n, 77, "value_out is written only on success");
		expect_str("s", bad[i], v);
	}
	/* A NUL byte after the digits: the value is not the number "5". */
	put_ok("s", "5\0", 2, FAAS_STATE_ANY);
	cr_assert_eq(be->incr(be, "s", 1, &n), FAAS_EINVAL);
	expect_value("s", "5\0", 2, 0);
}

CONFORMANCE(incr_that_would_leave_int64_is_refused_not_wrapped)
{
	int64_t n = 0;
	uint64_t v;

	v = put_str("max", "9223372036854775807");
	cr_assert_eq(be->incr(be, "max", 0, &n), 0);
	cr_assert_eq(n, INT64_MAX);
	v = version_of("max");
	cr_assert_eq(be->incr(be, "max", 1, &n), FAAS_EINVAL);
	cr_assert_eq(be->incr(be, "max", INT64_MAX, &n), FAAS_EINVAL);
	expect_str("max", "9223372036854775807", v);

	put_str("min", "-9223372036854775808");
	cr_assert_eq(be->incr(be, "min", 0, &n), 0);
	cr_assert_eq(n, INT64_MIN);
	v = version_of("min");
	cr_assert_eq(be->incr(be, "min", -1, &n), FAAS_EINVAL);
	cr_assert_eq(be->incr(be, "min", INT64_MIN, &n), FAAS_EINVAL);
	expect_str("min", "-9223372036854775808", v);
	/* The whole range is reachable from either end. */
	cr_assert_eq(be->incr(be, "min", INT64_MAX, &n), 0);
	cr_assert_eq(n, -1);

	/* From an absent key, to both ends. */
	cr_assert_eq(be->incr(be, "lo", INT64_MIN, &n), 0);
	cr_assert_eq(n, INT64_MIN);
	expect_str("lo", "-9223372036854775808", 0);
	cr_assert_eq(be->incr(be, "hi", INT64_MAX, &n), 0);
	cr_assert_eq(n, INT64_MAX);
	cr_assert_eq(be->incr(be, "hi", 1, NULL), FAAS_EINVAL);
	expect_str("hi", "9223372036854775807", 0);
}

/* ---- sizes ---- */

CONFORMANCE(big_values_of_8_mib)
{
	size_t n = 8u << 20;
	unsigned char *big = malloc(n);

	cr_assert_not_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 2654435761u >> 13);
	put_ok("big", big, n, FAAS_STATE_ABSENT);
	expect_value("big", big, n, 0);
	/* Replaced by a bigger one, then a tiny one. */
	big = realloc(big, n + 1);
	cr_assert_not_null(big);
	big[n] = 0xee;
	put_ok("big", big, n + 1, FAAS_STATE_ANY);
	expect_value("big", big, n + 1, 0);
	put_str("big", "s");
	expect_str("big", "s", 0);
	free(big);
}

CONFORMANCE(ten_thousand_keys)
{
	enum { N = 10000 };
	static uint64_t versions[N];
	char key[32], val[32];

	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key/%d", i);
		snprintf(val, sizeof(val), "value-%d", i * 31);
		versions[i] = put_ok(key, val, strlen(val), FAAS_STATE_ABSENT);
		for (int j = i - 1; j >= 0 && j > i - 4; j--)
			cr_assert_gt(versions[i], versions[j]);
	}
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key/%d", i);
		snprintf(val, sizeof(val), "value-%d", i * 31);
		expect_str(key, val, versions[i]);
	}
	for (int i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "key/%d", i);
		cr_assert_eq(be->del(be, key, versions[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key/%d", i);
		snprintf(val, sizeof(val), "value-%d", i * 31);
		if (i % 2)
			expect_str(key, val, versions[i]);
		else
			expect_absent(key);
	}
}

CONFORMANCE(keys_with_odd_bytes_are_distinct_keys)
{
	char longkey[4097];
	const char *keys[] = {
	    "/",    "//",         "a/b/c",       " ",        "a b",  "a\tb", "line\nbreak",
	    "\x01", "\x7f",       "\xff",        "\xff\xfe", "ключ", "鍵",   "%00",
	    "a",    "A",          "ab",          "a\x01",    "b",    "*",    "{id}",
	    "..",   "\"quoted\"", "back\\slash", longkey,
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	char val[32];

	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	for (size_t i = 0; i < n; i++) {
		snprintf(val, sizeof(val), "v%zu", i);
		put_ok(keys[i], val, strlen(val), FAAS_STATE_ABSENT);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(val, sizeof(val), "v%zu", i);
		expect_str(keys[i], val, 0);
	}
	/* The longest key's prefix is another key. */
	longkey[4095] = '\0';
	expect_absent(longkey);
	longkey[4095] = 'k';
	for (size_t i = 0; i < n; i += 3)
		cr_assert_eq(be->del(be, keys[i], FAAS_STATE_ANY), 0, "%s: del #%zu", bf->name, i);
	for (size_t i = 0; i < n; i++) {
		snprintf(val, sizeof(val), "v%zu", i);
		if (i % 3)
			expect_str(keys[i], val, 0);
		else
			expect_absent(keys[i]);
	}
}

/* ---- threads ---- */

#define NTHREADS 8
#define PER_THREAD 1000

typedef struct worker {
	const char *key;
	int index;
	int conflicts;
	uint64_t *versions; /* this thread's successful CAS versions, PER_THREAD of them */
	atomic_int *gate;
	int failed_rc; /* the first unexpected return code, or 0 */
} worker;

static void *fail(worker *w, int rc)
{
	w->failed_rc = rc;
	return w;
}

static void wait_gate(worker *w)
{
	while (!atomic_load(w->gate))
		;
}

/* Increment the decimal value at w->key with get + CAS put, retrying on
 * conflict: a lost update shows as a wrong final count. */
static void *cas_worker(void *arg)
{
	worker *w = arg;
	char text[32];

	wait_gate(w);
	for (int i = 0; i < PER_THREAD;) {
		char *value = NULL;
		uint64_t v = 0, nv = 0;
		long long n = 0;
		int rc = be->get(be, w->key, &value, NULL, &v);

		if (rc == 0)
			n = strtoll(value, NULL, 10);
		else if (rc != FAAS_ENOTFOUND)
			return fail(w, rc);
		free(value);
		snprintf(text, sizeof(text), "%lld", n + 1);
		rc = be->put(be, w->key, text, strlen(text), v, &nv);
		if (rc == FAAS_ECONFLICT) {
			w->conflicts++;
			continue;
		}
		if (rc != 0)
			return fail(w, rc);
		if (w->versions)
			w->versions[i] = nv;
		i++;
	}
	return NULL;
}

static void *incr_worker(void *arg)
{
	worker *w = arg;

	wait_gate(w);
	for (int i = 0; i < PER_THREAD; i++) {
		int rc = be->incr(be, w->key, 1, NULL);

		if (rc != 0)
			return fail(w, rc);
	}
	return NULL;
}

/* Distinct keys, so that the table grows while other threads use it. */
static void *fill_worker(void *arg)
{
	worker *w = arg;
	char key[48], val[48];

	wait_gate(w);
	for (int i = 0; i < PER_THREAD; i++) {
		int rc;

		snprintf(key, sizeof(key), "fill/%d/%d", w->index, i);
		snprintf(val, sizeof(val), "%d", i);
		rc = be->put(be, key, val, strlen(val), FAAS_STATE_ABSENT, NULL);
		if (rc != 0)
			return fail(w, rc);
	}
	return NULL;
}

static void run_threads(void *(**fns)(void *), worker *w)
{
	pthread_t t[NTHREADS];
	atomic_int gate = 0;

	for (int i = 0; i < NTHREADS; i++) {
		w[i].gate = &gate;
		w[i].index = i;
		cr_assert_eq(pthread_create(&t[i], NULL, fns[i], &w[i]), 0);
	}
	atomic_store(&gate, 1);
	for (int i = 0; i < NTHREADS; i++) {
		void *ret;

		cr_assert_eq(pthread_join(t[i], &ret), 0);
		cr_assert_null(ret, "%s: thread %d got %s", bf->name, i,
		               faas_err_name(w[i].failed_rc));
	}
}

static int64_t number_at(const char *key)
{
	char *value = NULL;
	long long n;

	cr_assert_eq(be->get(be, key, &value, NULL, NULL), 0);
	n = strtoll(value, NULL, 10);
	free(value);
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

CONFORMANCE(concurrent_cas_increments_are_exact)
{
	static uint64_t versions[NTHREADS * PER_THREAD];
	void *(*fns[NTHREADS])(void *);
	worker w[NTHREADS] = {0};
	int conflicts = 0;

	for (int i = 0; i < NTHREADS; i++) {
		fns[i] = cas_worker;
		w[i].key = "counter";
		w[i].versions = &versions[i * PER_THREAD];
	}
	run_threads(fns, w);
	cr_assert_eq(number_at("counter"), NTHREADS * PER_THREAD);
	/* Each successful CAS wrote a version no other write got. */
	qsort(versions, NTHREADS * PER_THREAD, sizeof(versions[0]), cmp_u64);
	for (size_t i = 1; i < NTHREADS * PER_THREAD; i++)
		cr_assert_neq(versions[i], versions[i - 1], "%s: two CAS writes got version %llu",
		              bf->name, (unsigned long long)versions[i]);
	for (int i = 0; i < NTHREADS; i++)
		conflicts += w[i].conflicts;
	cr_log_info("%s: %d conflicts retried", bf->name, conflicts);
}

CONFORMANCE(concurrent_incr_is_exact)
{
	void *(*fns[NTHREADS])(void *);
	worker w[NTHREADS] = {0};

	for (int i = 0; i < NTHREADS; i++) {
		fns[i] = incr_worker;
		w[i].key = "counter";
	}
	run_threads(fns, w);
	cr_assert_eq(number_at("counter"), NTHREADS * PER_THREAD);
}

CONFORMANCE(concurrent_incr_and_cas_on_one_key_are_exact)
{
	void *(*fns[NTHREADS])(void *);
	worker w[NTHREADS] = {0};

	for (int i = 0; i < NTHREADS; i++) {
		fns[i] = i % 2 ? incr_worker : cas_worker;
		w[i].key = "counter";
	}
	run_threads(fns, w);
	cr_assert_eq(number_at("counter"), NTHREADS * PER_THREAD);
}

CONFORMANCE(concurrent_writers_of_distinct_keys_lose_none)
{
	void *(*fns[NTHREADS])(void *);
	worker w[NTHREADS] = {0};
	char key[48], val[48];

	for (int i = 0; i < NTHREADS; i++)
		fns[i] = fill_worker;
	run_threads(fns, w);
	for (int t = 0; t < NTHREADS; t++) {
		for (int i = 0; i < PER_THREAD; i++) {
			snprintf(key, sizeof(key), "fill/%d/%d", t, i);
			snprintf(val, sizeof(val), "%d", i);
			expect_str(key, val, 0);
		}
	}
}

typedef struct racer {
	atomic_int *gate;
	int rc;
	char name[8];
} racer;

static void *create_racer(void *arg)
{
	racer *r = arg;

	while (!atomic_load(r->gate))
		;
	r->rc = be->put(be, "race", r->name, strlen(r->name), FAAS_STATE_ABSENT, NULL);
	return NULL;
}

CONFORMANCE(concurrent_creates_have_one_winner)
{
	for (int round = 0; round < 50; round++) {
		pthread_t t[NTHREADS];
		racer r[NTHREADS];
		atomic_int gate = 0;
		int wins = 0, winner = -1;

		for (int i = 0; i < NTHREADS; i++) {
			r[i] = (racer){.gate = &gate};
			snprintf(r[i].name, sizeof(r[i].name), "t%d", i);
			cr_assert_eq(pthread_create(&t[i], NULL, create_racer, &r[i]), 0);
		}
		atomic_store(&gate, 1);
		for (int i = 0; i < NTHREADS; i++) {
			cr_assert_eq(pthread_join(t[i], NULL), 0);
			if (r[i].rc == 0) {
				wins++;
				winner = i;
			} else {
				cr_assert_eq(r[i].rc, FAAS_ECONFLICT, "%s: %s", bf->name,
				             faas_err_name(r[i].rc));
			}
		}
		cr_assert_eq(wins, 1, "%s: round %d: %d creates won", bf->name, round, wins);
		expect_str("race", r[winner].name, 0);
		cr_assert_eq(be->del(be, "race", FAAS_STATE_ANY), 0);
	}
}

/* ---- bad arguments ---- */

/* Nothing a refused call was given may have been stored. */
static void expect_untouched(void)
{
	expect_absent("new");
	expect_str("k", "keep", 0);
}

CONFORMANCE(bad_arguments_to_get_are_einval_and_reset_the_outs)
{
	char *value = (char *)"stale";
	size_t len = 9;
	uint64_t v = 9;

	put_str("k", "keep");
	cr_assert_eq(be->get(NULL, "k", &value, &len, &v), FAAS_EINVAL);
	cr_assert_null(value);
	cr_assert_eq(len, 0);
	cr_assert_eq(v, FAAS_STATE_ABSENT);
	value = (char *)"stale";
	len = v = 9;
	cr_assert_eq(be->get(be, NULL, &value, &len, &v), FAAS_EINVAL);
	cr_assert_null(value);
	cr_assert_eq(len, 0);
	cr_assert_eq(v, FAAS_STATE_ABSENT);
	value = (char *)"stale";
	cr_assert_eq(be->get(be, "", &value, &len, &v), FAAS_EINVAL);
	cr_assert_null(value);
	len = v = 9;
	cr_assert_eq(be->get(be, "k", NULL, &len, &v), FAAS_EINVAL, "value_out is required");
	cr_assert_eq(len, 0);
	cr_assert_eq(v, FAAS_STATE_ABSENT);
	cr_assert_eq(be->get(be, "k", NULL, NULL, NULL), FAAS_EINVAL);
	expect_untouched();
}

CONFORMANCE(bad_arguments_to_put_are_einval_and_store_nothing)
{
	uint64_t v = put_str("k", "keep");

	cr_assert_eq(be->put(NULL, "new", "x", 1, FAAS_STATE_ANY, NULL), FAAS_EINVAL);
	cr_assert_eq(be->put(be, NULL, "x", 1, FAAS_STATE_ANY, NULL), FAAS_EINVAL);
	cr_assert_eq(be->put(be, "", "x", 1, FAAS_STATE_ANY, NULL), FAAS_EINVAL);
	cr_assert_eq(be->put(be, "new", NULL, 1, FAAS_STATE_ANY, NULL), FAAS_EINVAL);
	cr_assert_eq(be->put(be, "k", NULL, 4, v, NULL), FAAS_EINVAL);
	cr_assert_eq(be->put(be, "new", NULL, SIZE_MAX, FAAS_STATE_ABSENT, NULL), FAAS_EINVAL);
	expect_untouched();
	cr_assert_eq(version_of("k"), v);
}

CONFORMANCE(bad_arguments_to_del_are_einval_and_delete_nothing)
{
	uint64_t v = put_str("k", "keep");

	cr_assert_eq(be->del(NULL, "k", FAAS_STATE_ANY), FAAS_EINVAL);
	cr_assert_eq(be->del(be, NULL, FAAS_STATE_ANY), FAAS_EINVAL);
	cr_assert_eq(be->del(be, "", FAAS_STATE_ANY), FAAS_EINVAL);
	cr_assert_eq(be->del(NULL, "k", v), FAAS_EINVAL);
	expect_untouched();
	cr_assert_eq(version_of("k"), v);
}

CONFORMANCE(bad_arguments_to_incr_are_einval_and_create_nothing)
{
	int64_t n = 5;

	put_str("k", "keep");
	cr_assert_eq(be->incr(NULL, "new", 1, &n), FAAS_EINVAL);
	cr_assert_eq(be->incr(be, NULL, 1, &n), FAAS_EINVAL);
	cr_assert_eq(be->incr(be, "", 1, &n), FAAS_EINVAL);
	cr_assert_eq(n, 5, "value_out is written only on success");
	expect_untouched();
}
