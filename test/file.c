/* The file trigger: records for each kind of change, debounce, batches,
 * queue bounds, globs and masks, recursive and single-file watches, the
 * loss and return of the watched directory, loop prevention, rules, stop,
 * free, and option checks. Real files in a mkdtemp folder, a real loop. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

/* Mirrors of lib/trigger/file*.c's constants that the tests observe. */
#define CHAIN_MAX 16
#define REARM_MS 200
#define WATCH_MAX 8192

#define MAX_EVENTS 256

static char dir[PATH_MAX];
static uv_loop_t loop;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cJSON *events[MAX_EVENTS];
static atomic_int n_events;
static atomic_int started, finished;
static atomic_int loop_writes;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/faas-file-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	th_loop_init(&loop);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_lock(&mu);
	for (int i = 0; i < atomic_load(&n_events) && i < MAX_EVENTS; i++)
		cJSON_Delete(events[i]);
	atomic_store(&n_events, 0);
	pthread_mutex_unlock(&mu);
}

TestSuite(file, .init = setup, .fini = teardown, .timeout = 60);

/* ---- handlers ---- */

static void keep(const cJSON *event)
{
	pthread_mutex_lock(&mu);
	int i = atomic_load(&n_events);

	if (i < MAX_EVENTS)
		events[i] = cJSON_Duplicate(event, 1);
	atomic_store(&n_events, i + 1);
	pthread_mutex_unlock(&mu);
}

static int recorder(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	keep(event);
	*result = cJSON_CreateTrue();
	return 0;
}

/* Writes one new file into the watched folder for every batch: a loop. */
static int writer(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	char path[PATH_MAX + 32];
	int n = atomic_fetch_add(&loop_writes, 1);
	FILE *f;

	(void)ctx;
	keep(event);
	snprintf(path, sizeof(path), "%s/loop-%d.txt", dir, n);
	f = fopen(path, "w");
	if (f) {
		fputs("again\n", f);
		fclose(f);
	}
	*result = cJSON_CreateTrue();
	return 0;
}

static int slow(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	keep(event);
	atomic_fetch_add(&started, 1);
	th_sleep_ms(300);
	atomic_fetch_add(&finished, 1);
	*result = cJSON_CreateTrue();
	return 0;
}

/* ---- helpers ---- */

static const char *at(const char *rel)
{
	static char buf[4][2 * PATH_MAX];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, 2 * PATH_MAX, "%s/%s", dir, rel);
	return p;
}

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "w");

	cr_assert_not_null(f, "fopen %s: %s", rel, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static void append(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "a");

	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static void mkdir_at(const char *rel)
{
	cr_assert_eq(mkdir(at(rel), 0755), 0, "mkdir %s: %s", rel, strerror(errno));
}

/* A runtime on the test's loop with a recording function "rec" (inline). */
static faas_runtime *rt_new(void)
{
	faas_runtime *rt = th_rt_new(&loop, NULL);
	faas_fn_options fo = th_fopts_static(recorder);

	fo.isolation = FAAS_ISOLATION_INLINE;
	th_register(rt, "rec", &fo);
	return rt;
}

static faas_file_options fopts(const char *rel)
{
	faas_file_options o;

	static char path[PATH_MAX];

	cr_assert_eq(faas_file_options_init(&o, FAAS_FILE_OPTIONS_VERSION), 0);
	/* Its own buffer: at()'s are reused. */
	snprintf(path, sizeof(path), "%s", rel ? at(rel) : dir);
	o.path = path;
	o.debounce_ms = 50;
	return o;
}

static faas_trigger *watch(faas_runtime *rt, const char *name, const faas_file_options *o,
			   const char *fn)
{
	faas_trigger *t = NULL;
	int rc = faas_trigger_file_new(&t, rt, name, o);

	cr_assert_eq(rc, 0, "file_new: %s (%s)", faas_err_name(rc), faas_runtime_last_error(rt));
	cr_assert_not_null(t);
	cr_assert_eq(faas_rule_new(NULL, t, NULL, fn ? fn : "rec"), 0);
	return t;
}

static bool wait_events(faas_runtime *rt, int n)
{
	return th_wait(rt, &n_events, n, TH_WAIT_MS);
}

static const cJSON *records_of(int i)
{
	cr_assert_lt(i, atomic_load(&n_events));
	return cJSON_GetObjectItemCaseSensitive(events[i], "Records");
}

static int nrecords(int i)
{
	return cJSON_GetArraySize(records_of(i));
}

static const char *str(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* How many records, over every invocation so far, have this name and key. */
static int count(const char *name, const char *key)
{
	int total = 0;

	for (int i = 0; i < atomic_load(&n_events) && i < MAX_EVENTS; i++) {
		const cJSON *r;

		cJSON_ArrayForEach(r, records_of(i))
		{
			const char *n = str(r, "eventName", NULL);
			const char *k = str(r, "file", "key");

			if (n && k && strcmp(n, name) == 0 && strcmp(k, key) == 0)
				total++;
		}
	}
	return total;
}

static int total_records(void)
{
	int total = 0;

	for (int i = 0; i < atomic_load(&n_events) && i < MAX_EVENTS; i++)
		total += nrecords(i);
	return total;
}

/* The only record of invocation 0, after the changes have settled. */
static const cJSON *only_record(faas_runtime *rt)
{
	cr_assert(wait_events(rt, 1), "no invocation");
	th_spin(rt, 200);
	cr_assert_eq(atomic_load(&n_events), 1);
	cr_assert_eq(nrecords(0), 1, "records: %d", nrecords(0));
	return cJSON_GetArrayItem(records_of(0), 0);
}

static double size_of(const cJSON *r, const char *where)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(r, where);
	const cJSON *s;

	if (strcmp(where, "s3") == 0)
		o = cJSON_GetObjectItemCaseSensitive(o, "object");
	s = cJSON_GetObjectItemCaseSensitive(o, "size");
	return cJSON_IsNumber(s) ? s->valuedouble : -1;
}

/* ---- each kind of change ---- */

Test(file, created_record_has_the_s3_shape)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	const cJSON *r;
	const char *when;

	watch(rt, "uploads", &o, NULL);
	put("a.txt", "hello");
	r = only_record(rt);
	cr_assert_str_eq(str(r, "eventVersion", NULL), "2.1");
	cr_assert_str_eq(str(r, "eventSource", NULL), "libfaas:file");
	cr_assert_str_eq(str(r, "eventName", NULL), "ObjectCreated:Put");
	cr_assert_str_eq(str(r, "file", "root"), dir);
	cr_assert_str_eq(str(r, "file", "key"), "a.txt");
	cr_assert_null(str(r, "file", "oldKey"));
	cr_assert_eq(size_of(r, "file"), 5);
	cr_assert_eq(size_of(r, "s3"), 5);
	cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(r, "s3"), "bucket", "name"),
			 "uploads");
	cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(r, "s3"), "object", "key"), "a.txt");
	when = str(r, "eventTime", NULL);
	cr_assert_not_null(when);
	cr_assert_eq(strlen(when), 24, "%s", when);
	cr_assert(when[4] == '-' && when[10] == 'T' && when[19] == '.' && when[23] == 'Z', "%s",
		  when);
	th_rt_free(rt, &loop);
}

Test(file, modified_once_per_batch)
{
	faas_runtime *rt;
	faas_file_options o = fopts(NULL);
	const cJSON *r;

	put("m.txt", "1");
	rt = rt_new();
	o.debounce_ms = 200;
	watch(rt, "t", &o, NULL);
	append("m.txt", "2");
	append("m.txt", "3");
	append("m.txt", "4");
	r = only_record(rt);
	cr_assert_str_eq(str(r, "eventName", NULL), "ObjectModified:Write");
	cr_assert_str_eq(str(r, "file", "key"), "m.txt");
	cr_assert_eq(size_of(r, "file"), 4);
	th_rt_free(rt, &loop);
}

Test(file, deleted_record_has_no_size)
{
	faas_runtime *rt;
	faas_file_options o = fopts(NULL);
	const cJSON *r;

	put("d.txt", "bye");
	rt = rt_new();
	watch(rt, "t", &o, NULL);
	cr_assert_eq(unlink(at("d.txt")), 0);
	r = only_record(rt);
	cr_assert_str_eq(str(r, "eventName", NULL), "ObjectRemoved:Delete");
	cr_assert_str_eq(str(r, "file", "key"), "d.txt");
	cr_assert_eq(size_of(r, "file"), -1);
	cr_assert_eq(size_of(r, "s3"), -1);
	th_rt_free(rt, &loop);
}

Test(file, rename_inside_is_one_record_with_both_keys)
{
	faas_runtime *rt;
	faas_file_options o = fopts(NULL);
	const cJSON *r;

	put("old.txt", "abc");
	rt = rt_new();
	watch(rt, "t", &o, NULL);
	cr_assert_eq(rename(at("old.txt"), at("new.txt")), 0);
	r = only_record(rt);
	cr_assert_str_eq(str(r, "eventName", NULL), "ObjectRenamed");
	cr_assert_str_eq(str(r, "file", "key"), "new.txt");
	cr_assert_str_eq(str(r, "file", "oldKey"), "old.txt");
	cr_assert_eq(size_of(r, "file"), 3);
	th_rt_free(rt, &loop);
}

Test(file, moves_across_the_boundary_are_create_and_delete)
{
	faas_runtime *rt;
	faas_file_options o = fopts("w");
	char outside[PATH_MAX];

	mkdir_at("w");
	put("w/leaving.txt", "x");
	put("arriving.txt", "y");
	snprintf(outside, sizeof(outside), "%s", at("outside.txt"));
	rt = rt_new();
	watch(rt, "t", &o, NULL);
	cr_assert_eq(rename(at("w/leaving.txt"), outside), 0);
	cr_assert_eq(rename(at("arriving.txt"), at("w/arriving.txt")), 0);
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 200);
	cr_assert_eq(count("ObjectRemoved:Delete", "leaving.txt"), 1);
	cr_assert_eq(count("ObjectCreated:Put", "arriving.txt"), 1);
	cr_assert_eq(total_records(), 2);
	th_rt_free(rt, &loop);
}

/* ---- debounce, batches, bounds ---- */

Test(file, changes_within_the_window_make_one_invocation)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	char name[32];

	o.debounce_ms = 300;
	watch(rt, "t", &o, NULL);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "f%d.txt", i);
		put(name, "x");
	}
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 500);
	cr_assert_eq(atomic_load(&n_events), 1);
	cr_assert_eq(nrecords(0), 5);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "f%d.txt", i);
		cr_assert_eq(count("ObjectCreated:Put", name), 1, "%s", name);
	}
	th_rt_free(rt, &loop);
}

Test(file, batch_max_splits_into_invocations)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	faas_trigger *t;
	faas_trigger_stats st;
	char name[32];

	o.debounce_ms = 200;
	o.batch_max = 2;
	t = watch(rt, "t", &o, NULL);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "f%d.txt", i);
		put(name, "x");
	}
	cr_assert(wait_events(rt, 3));
	th_spin(rt, 300);
	cr_assert_eq(atomic_load(&n_events), 3);
	cr_assert_eq(nrecords(0), 2);
	cr_assert_eq(nrecords(1), 2);
	cr_assert_eq(nrecords(2), 1);
	/* In the order the changes happened. */
	cr_assert_str_eq(str(cJSON_GetArrayItem(records_of(0), 0), "file", "key"), "f0.txt");
	cr_assert_str_eq(str(cJSON_GetArrayItem(records_of(2), 0), "file", "key"), "f4.txt");
	cr_assert_eq(faas_trigger_stats_get(&st, t), 0);
	cr_assert_eq(st.fired, 3);
	cr_assert_eq(st.invoked, 3);
	th_rt_free(rt, &loop);
}

Test(file, queue_max_drops_and_counts)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	faas_trigger *t;
	faas_trigger_stats st;
	char name[32];

	o.debounce_ms = 300;
	o.queue_max = 3;
	t = watch(rt, "t", &o, NULL);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "f%d.txt", i);
		put(name, "x");
	}
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 400);
	cr_assert_eq(atomic_load(&n_events), 1);
	cr_assert_eq(nrecords(0), 3);
	cr_assert_eq(count("ObjectCreated:Put", "f0.txt"), 1);
	cr_assert_eq(count("ObjectCreated:Put", "f2.txt"), 1);
	cr_assert_eq(faas_trigger_stats_get(&st, t), 0);
	cr_assert_eq(st.dropped, 3);
	th_rt_free(rt, &loop);
}

/* ---- filters ---- */

Test(file, glob_filters_keys)
{
	faas_runtime *rt;
	faas_file_options o = fopts(NULL);

	put("r.log", "x");
	rt = rt_new();
	o.glob = "*.txt";
	watch(rt, "t", &o, NULL);
	put("a.txt", "x");
	put("b.log", "x");
	/* A rename out of the pattern's reach is a creation of the new key. */
	cr_assert_eq(rename(at("r.log"), at("r.txt")), 0);
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 200);
	cr_assert_eq(count("ObjectCreated:Put", "a.txt"), 1);
	cr_assert_eq(count("ObjectCreated:Put", "r.txt"), 1);
	cr_assert_eq(total_records(), 2);
	th_rt_free(rt, &loop);
}

Test(file, events_mask_selects_kinds)
{
	faas_runtime *rt;
	faas_file_options o = fopts(NULL);

	put("gone.txt", "x");
	put("kept.txt", "x");
	rt = rt_new();
	o.events = FAAS_FILE_DELETED;
	watch(rt, "t", &o, NULL);
	put("new.txt", "x");
	append("kept.txt", "y");
	cr_assert_eq(unlink(at("gone.txt")), 0);
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 200);
	cr_assert_eq(total_records(), 1);
	cr_assert_eq(count("ObjectRemoved:Delete", "gone.txt"), 1);
	th_rt_free(rt, &loop);
}

Test(file, masked_rename_becomes_its_halves)
{
	faas_runtime *rt;
	faas_file_options o = fopts(NULL);

	put("a.txt", "x");
	rt = rt_new();
	o.events = FAAS_FILE_CREATED | FAAS_FILE_DELETED;
	watch(rt, "t", &o, NULL);
	cr_assert_eq(rename(at("a.txt"), at("b.txt")), 0);
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 200);
	cr_assert_eq(total_records(), 2);
	cr_assert_eq(count("ObjectRemoved:Delete", "a.txt"), 1);
	cr_assert_eq(count("ObjectCreated:Put", "b.txt"), 1);
	th_rt_free(rt, &loop);
}

/* ---- recursion and single files ---- */

Test(file, recursive_picks_up_new_subdirectories)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);

	o.recursive = true;
	watch(rt, "t", &o, NULL);
	/* Made at once: the file may exist before the new directory is
	 * watched, and must be reported anyway. */
	mkdir_at("sub");
	mkdir_at("sub/deeper");
	put("sub/deeper/f.txt", "abc");
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 200);
	cr_assert_eq(count("ObjectCreated:Put", "sub/"), 1);
	cr_assert_eq(count("ObjectCreated:Put", "sub/deeper/"), 1);
	cr_assert_eq(count("ObjectCreated:Put", "sub/deeper/f.txt"), 1);
	cr_assert_eq(total_records(), 3);

	/* And later changes in them. */
	put("sub/deeper/g.txt", "x");
	cr_assert(wait_events(rt, 2));
	th_spin(rt, 100);
	cr_assert_eq(count("ObjectCreated:Put", "sub/deeper/g.txt"), 1);
	th_rt_free(rt, &loop);
}

Test(file, recursive_follows_a_renamed_subdirectory)
{
	faas_runtime *rt;
	faas_file_options o = fopts(NULL);

	mkdir_at("one");
	put("one/x.txt", "x");
	rt = rt_new();
	o.recursive = true;
	watch(rt, "t", &o, NULL);
	cr_assert_eq(rename(at("one"), at("two")), 0);
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 100);
	cr_assert_eq(count("ObjectRenamed", "two/"), 1);
	put("two/y.txt", "y");
	append("two/x.txt", "z");
	cr_assert(wait_events(rt, 2));
	th_spin(rt, 200);
	cr_assert_eq(count("ObjectCreated:Put", "two/y.txt"), 1);
	cr_assert_eq(count("ObjectModified:Write", "two/x.txt"), 1);
	th_rt_free(rt, &loop);
}

Test(file, not_recursive_ignores_subdirectory_contents)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);

	watch(rt, "t", &o, NULL);
	mkdir_at("sub");
	cr_assert(wait_events(rt, 1));
	put("sub/f.txt", "x");
	th_spin(rt, 300);
	cr_assert_eq(total_records(), 1);
	cr_assert_eq(count("ObjectCreated:Put", "sub/"), 1);
	th_rt_free(rt, &loop);
}

Test(file, single_file_watch)
{
	faas_runtime *rt;
	faas_file_options o = fopts("one.txt");
	const cJSON *r;

	put("one.txt", "1");
	put("other.txt", "1");
	rt = rt_new();
	watch(rt, "t", &o, NULL);
	append("other.txt", "2");
	append("one.txt", "2");
	r = only_record(rt);
	cr_assert_str_eq(str(r, "eventName", NULL), "ObjectModified:Write");
	cr_assert_str_eq(str(r, "file", "root"), at("one.txt"));
	cr_assert_str_eq(str(r, "file", "key"), "one.txt");
	cr_assert_eq(size_of(r, "file"), 2);

	/* Deleted and made again: still watched. */
	cr_assert_eq(unlink(at("one.txt")), 0);
	cr_assert(wait_events(rt, 2));
	put("one.txt", "again");
	cr_assert(wait_events(rt, 3));
	th_spin(rt, 200);
	cr_assert_eq(count("ObjectRemoved:Delete", "one.txt"), 1);
	cr_assert_eq(count("ObjectCreated:Put", "one.txt"), 1);
	cr_assert_eq(total_records(), 3);
	th_rt_free(rt, &loop);
}

/* ---- the watched path going and coming ---- */

/* Put a directory holding pre.txt at rel in one step, so that no poll can
 * arm the watch between the directory and its file. */
static void appear_with_file(const char *rel)
{
	char staging[PATH_MAX];

	snprintf(staging, sizeof(staging), "%s", at("staging"));
	mkdir_at("staging");
	put("staging/pre.txt", "old");
	cr_assert_eq(rename(staging, at(rel)), 0);
}

/* Write probe files until one is reported: the watch was re-armed. */
static bool probe(faas_runtime *rt, int n_before)
{
	char name[64];

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "w/probe-%d.txt", i);
		put(name, "p");
		if (th_wait(rt, &n_events, n_before + 1, 150))
			return true;
	}
	return false;
}

Test(file, lost_once_then_rearmed)
{
	faas_runtime *rt;
	faas_file_options o = fopts("w");
	faas_trigger *t;
	faas_trigger_stats st;
	const cJSON *r;
	int n;

	mkdir_at("w");
	put("w/f.txt", "x");
	rt = rt_new();
	t = watch(rt, "t", &o, NULL);
	cr_assert_eq(unlink(at("w/f.txt")), 0);
	cr_assert_eq(rmdir(at("w")), 0);
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 300);
	cr_assert_eq(count("libfaas:WatchLost", ""), 1);
	cr_assert_eq(count("ObjectRemoved:Delete", "f.txt"), 1);
	r = cJSON_GetArrayItem(records_of(atomic_load(&n_events) - 1),
			       nrecords(atomic_load(&n_events) - 1) - 1);
	cr_assert_str_eq(str(r, "eventName", NULL), "libfaas:WatchLost");
	cr_assert_str_eq(str(r, "file", "root"), at("w"));

	/* It comes back: nothing for what it holds, then new files fire. */
	appear_with_file("w");
	th_spin(rt, 3 * REARM_MS);
	n = atomic_load(&n_events);
	cr_assert(probe(rt, n), "not re-armed");
	th_spin(rt, 100);
	cr_assert_eq(count("ObjectCreated:Put", "pre.txt"), 0);
	cr_assert_eq(count("libfaas:WatchLost", ""), 1);
	cr_assert_eq(faas_trigger_stats_get(&st, t), 0);
	cr_assert_eq(st.errors, 0);
	th_rt_free(rt, &loop);
}

Test(file, missing_path_arms_when_it_appears)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts("w");

	watch(rt, "t", &o, NULL);
	th_spin(rt, REARM_MS + 50);
	cr_assert_eq(atomic_load(&n_events), 0);
	appear_with_file("w");
	th_spin(rt, 3 * REARM_MS);
	cr_assert(probe(rt, 0), "never armed");
	th_spin(rt, 100);
	cr_assert_eq(count("ObjectCreated:Put", "pre.txt"), 0);
	cr_assert_eq(count("libfaas:WatchLost", ""), 0);
	th_rt_free(rt, &loop);
}

Test(file, path_under_a_file_is_accepted_and_waits)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts("plain/below");
	faas_trigger *t;
	faas_trigger_stats st;

	put("plain", "x");
	t = watch(rt, "t", &o, NULL);
	th_spin(rt, 2 * REARM_MS + 50);
	cr_assert_eq(faas_trigger_stats_get(&st, t), 0);
	cr_assert_eq(st.errors, 0);
	cr_assert_eq(atomic_load(&n_events), 0);
	th_rt_free(rt, &loop);
}

Test(file, recursive_tree_removed_is_lost_once)
{
	faas_runtime *rt;
	faas_file_options o = fopts("w");

	mkdir_at("w");
	mkdir_at("w/a");
	mkdir_at("w/a/b");
	put("w/a/b/f.txt", "x");
	rt = rt_new();
	o.recursive = true;
	watch(rt, "t", &o, NULL);
	cr_assert_eq(unlink(at("w/a/b/f.txt")), 0);
	cr_assert_eq(rmdir(at("w/a/b")), 0);
	cr_assert_eq(rmdir(at("w/a")), 0);
	cr_assert_eq(rmdir(at("w")), 0);
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 300);
	cr_assert_eq(count("ObjectRemoved:Delete", "a/b/f.txt"), 1);
	cr_assert_eq(count("ObjectRemoved:Delete", "a/b/"), 1);
	cr_assert_eq(count("ObjectRemoved:Delete", "a/"), 1);
	cr_assert_eq(count("libfaas:WatchLost", ""), 1);
	th_rt_free(rt, &loop);
}

Test(file, subdirectory_moved_out_is_no_longer_watched)
{
	faas_runtime *rt;
	faas_file_options o = fopts("w");
	char away[PATH_MAX];

	mkdir_at("w");
	mkdir_at("w/sub");
	rt = rt_new();
	o.recursive = true;
	watch(rt, "t", &o, NULL);
	snprintf(away, sizeof(away), "%s", at("away"));
	cr_assert_eq(rename(at("w/sub"), away), 0);
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 100);
	cr_assert_eq(count("ObjectRemoved:Delete", "sub/"), 1);
	put("away/f.txt", "x");
	th_spin(rt, 300);
	cr_assert_eq(total_records(), 1);
	th_rt_free(rt, &loop);
}

/* Tests that make thousands of entries move to tmpfs when there is one:
 * on a disk they take seconds of journal work that tests nothing. */
static void use_tmpfs(void)
{
	char shm[PATH_MAX];

	snprintf(shm, sizeof(shm), "/dev/shm/faas-file-XXXXXX");
	if (mkdtemp(shm) == NULL)
		return;
	cr_assert_eq(rmdir(dir), 0);
	snprintf(dir, sizeof(dir), "%s", shm);
}

static bool seen_created(void *key)
{
	return count("ObjectCreated:Put", key) > 0;
}

static unsigned long proc_value(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long v = 0;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

Test(file, kernel_queue_overflow_is_counted)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	unsigned long max = proc_value("/proc/sys/fs/inotify/max_queued_events");
	faas_trigger *t;
	faas_trigger_stats st;
	char name[32];
	int files;

	if (max == 0 || max > 50000)
		cr_skip_test("max_queued_events is %lu", max);
	use_tmpfs();
	o = fopts(NULL);
	o.queue_max = 1000000;
	o.batch_max = 10000;
	t = watch(rt, "t", &o, NULL);
	/* Two events a file (create, close-write), none read meanwhile. */
	files = (int)(max / 2 + 200);
	for (int i = 0; i < files; i++) {
		int fd;

		snprintf(name, sizeof(name), "f%d", i);
		fd = open(at(name), O_CREAT | O_WRONLY, 0644);
		cr_assert_geq(fd, 0);
		close(fd);
	}
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 300);
	cr_assert_eq(faas_trigger_stats_get(&st, t), 0);
	cr_assert_geq(st.dropped, 1);
	cr_assert_lt(total_records(), files);
	/* Still working afterwards. */
	put("after.txt", "x");
	cr_assert(th_wait_for(rt, seen_created, "after.txt", TH_WAIT_MS));
	th_rt_free(rt, &loop);
}

Test(file, directories_past_the_watch_limit_are_counted)
{
	faas_runtime *rt;
	faas_file_options o = fopts(NULL);
	unsigned long max = proc_value("/proc/sys/fs/inotify/max_user_watches");
	faas_trigger *t;
	faas_trigger_stats st;
	char name[32];

	if (max < 3 * WATCH_MAX)
		cr_skip_test("max_user_watches is %lu", max);
	use_tmpfs();
	o = fopts(NULL);
	for (int i = 0; i < WATCH_MAX + 8; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		mkdir_at(name);
	}
	rt = rt_new();
	o.recursive = true;
	t = watch(rt, "t", &o, NULL);
	/* The root is one of the watches: nine directories are left out. */
	cr_assert_eq(faas_trigger_stats_get(&st, t), 0);
	cr_assert_eq(st.errors, 9);
	put("top.txt", "x");
	cr_assert(th_wait_for(rt, seen_created, "top.txt", TH_WAIT_MS));
	th_rt_free(rt, &loop);
}

/* ---- loop prevention ---- */

static int invocations_settled(faas_runtime *rt)
{
	int before;

	do {
		before = atomic_load(&n_events);
		th_spin(rt, 400);
	} while (atomic_load(&n_events) != before);
	return before;
}

Test(file, a_function_writing_into_its_folder_stops_after_the_chain_bound)
{
	faas_runtime *rt = th_rt_new(&loop, NULL);
	faas_file_options o = fopts(NULL);
	faas_trigger *t;
	faas_trigger_stats st;
	int n;

	/* Thread isolation: the write happens off the loop, as in real use. */
	th_register_static(rt, "writer", writer);
	/* A window wide enough that one write's events never straddle two
	 * batches, so each generation is exactly one invocation. */
	o.debounce_ms = 100;
	t = watch(rt, "t", &o, "writer");
	put("start.txt", "go");
	cr_assert(wait_events(rt, CHAIN_MAX));
	n = invocations_settled(rt);
	cr_assert_eq(n, CHAIN_MAX, "invocations: %d", n);
	th_spin(rt, 500);
	cr_assert_eq(atomic_load(&n_events), n, "still growing");
	cr_assert_eq(faas_trigger_stats_get(&st, t), 0);
	cr_assert_geq(st.skipped, 1);
	cr_assert_eq(st.invoked, (uint64_t)CHAIN_MAX);

	/* An outside change still fires (and starts a new, bounded chain). */
	put("external.txt", "hi");
	cr_assert(wait_events(rt, n + 1));
	cr_assert_eq(count("ObjectCreated:Put", "external.txt"), 1);
	n = invocations_settled(rt);
	cr_assert_eq(n, 2 * CHAIN_MAX, "invocations: %d", n);
	th_rt_free(rt, &loop);
}

Test(file, an_inline_function_writing_into_its_folder_is_bounded_too)
{
	faas_runtime *rt = th_rt_new(&loop, NULL);
	faas_file_options o = fopts(NULL);
	faas_fn_options fo = th_fopts_static(writer);
	int n;

	/* Inline: the write happens inside the firing, on the loop thread. */
	fo.isolation = FAAS_ISOLATION_INLINE;
	th_register(rt, "writer", &fo);
	o.debounce_ms = 0;
	watch(rt, "t", &o, "writer");
	put("start.txt", "go");
	cr_assert(wait_events(rt, CHAIN_MAX));
	n = invocations_settled(rt);
	cr_assert_eq(n, CHAIN_MAX, "invocations: %d", n);
	th_rt_free(rt, &loop);
}

/* ---- rules, stop, free ---- */

Test(file, disabled_rule_does_not_fire)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	faas_trigger *t;
	faas_rule *rule;
	faas_trigger_stats st;

	cr_assert_eq(faas_trigger_file_new(&t, rt, "t", &o), 0);
	cr_assert_eq(faas_rule_new(&rule, t, NULL, "rec"), 0);
	cr_assert_eq(faas_rule_set_enabled(rule, false), 0);
	put("a.txt", "x");
	th_spin(rt, 300);
	cr_assert_eq(atomic_load(&n_events), 0);
	cr_assert_eq(faas_trigger_stats_get(&st, t), 0);
	cr_assert_eq(st.fired, 1);
	cr_assert_eq(st.invoked, 0);

	cr_assert_eq(faas_rule_set_enabled(rule, true), 0);
	put("b.txt", "x");
	cr_assert(wait_events(rt, 1));
	th_spin(rt, 100);
	cr_assert_eq(total_records(), 1);
	cr_assert_eq(count("ObjectCreated:Put", "b.txt"), 1);
	th_rt_free(rt, &loop);
}

Test(file, every_rule_gets_the_same_event)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	faas_trigger *t = watch(rt, "t", &o, NULL);

	cr_assert_eq(faas_rule_new(NULL, t, NULL, "rec"), 0);
	put("a.txt", "x");
	cr_assert(wait_events(rt, 2));
	th_spin(rt, 200);
	cr_assert_eq(atomic_load(&n_events), 2);
	cr_assert(cJSON_Compare(events[0], events[1], true));
	th_rt_free(rt, &loop);
}

Test(file, freed_while_an_invocation_runs)
{
	faas_runtime *rt = th_rt_new(&loop, NULL);
	faas_file_options o = fopts(NULL);
	faas_trigger *t;

	th_register_static(rt, "slow", slow);
	t = watch(rt, "t", &o, "slow");
	put("a.txt", "x");
	cr_assert(th_wait(rt, &started, 1, TH_WAIT_MS));
	faas_trigger_free(t);
	cr_assert_null(faas_trigger_lookup(rt, "t"));
	put("b.txt", "x");
	cr_assert(th_wait(rt, &finished, 1, TH_WAIT_MS));
	th_spin(rt, 200);
	cr_assert_eq(atomic_load(&started), 1);
	/* The name is free again. */
	t = watch(rt, "t", &o, "rec");
	th_rt_free(rt, &loop);
}

Test(file, freed_with_records_pending)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	faas_trigger *t;

	o.recursive = true;
	o.debounce_ms = 10000;
	t = watch(rt, "t", &o, NULL);
	mkdir_at("sub");
	put("sub/a.txt", "x");
	put("b.txt", "x");
	th_spin(rt, 100);
	faas_trigger_free(t);
	th_spin(rt, 50);
	cr_assert_eq(atomic_load(&n_events), 0);
	th_rt_free(rt, &loop);
}

Test(file, stop_ends_events)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);

	o.debounce_ms = 200;
	watch(rt, "t", &o, NULL);
	put("pending.txt", "x");
	th_spin(rt, 50);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	put("after.txt", "x");
	th_spin(rt, 400);
	cr_assert_eq(atomic_load(&n_events), 0);
	th_rt_free(rt, &loop);
}

Test(file, runtime_free_with_a_missing_path)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts("nowhere/deeper");

	watch(rt, "t", &o, NULL);
	th_spin(rt, 50);
	th_rt_free(rt, &loop);
}

/* ---- options ---- */

static void bad(faas_runtime *rt, const faas_file_options *o, const char *needle)
{
	faas_trigger *t = (faas_trigger *)&t;
	int rc = faas_trigger_file_new(&t, rt, "bad", o);

	cr_assert_eq(rc, FAAS_EINVAL, "%s: rc %s", needle, faas_err_name(rc));
	cr_assert_null(t);
	cr_assert(strstr(faas_runtime_last_error(rt), needle), "\"%s\" not in \"%s\"", needle,
		  faas_runtime_last_error(rt));
	cr_assert_null(faas_trigger_lookup(rt, "bad"));
}

Test(file, bad_options_name_the_option)
{
	faas_runtime *rt = rt_new();
	faas_file_options o;
	char *longpath = malloc(PATH_MAX + 16), *longglob = malloc(2048);

	cr_assert(longpath && longglob);
	memset(longpath, 'a', PATH_MAX + 15);
	longpath[0] = '/';
	longpath[PATH_MAX + 15] = '\0';
	memset(longglob, '*', 2047);
	longglob[2047] = '\0';

	bad(rt, NULL, "bad: options");
	o = fopts(NULL), o.version = 0, bad(rt, &o, "bad: version");
	o = fopts(NULL), o.version = FAAS_FILE_OPTIONS_VERSION + 1, bad(rt, &o, "version");
	o = fopts(NULL), o.path = NULL, bad(rt, &o, "bad: path");
	o = fopts(NULL), o.path = "", bad(rt, &o, "bad: path");
	o = fopts(NULL), o.path = longpath, bad(rt, &o, "bad: path");
	o = fopts(NULL), o.events = 0x10, bad(rt, &o, "bad: events");
	o = fopts(NULL), o.glob = "", bad(rt, &o, "bad: glob");
	o = fopts(NULL), o.glob = longglob, bad(rt, &o, "bad: glob");
	o = fopts(NULL), o.debounce_ms = 60001;
	bad(rt, &o, "bad: debounce_ms: expected 0..60000, got 60001");
	o = fopts(NULL), o.batch_max = 0, bad(rt, &o, "bad: batch_max: expected 1..10000, got 0");
	o = fopts(NULL), o.batch_max = 10001, bad(rt, &o, "bad: batch_max");
	o = fopts(NULL), o.queue_max = 0, bad(rt, &o, "bad: queue_max: expected 1..1000000, got 0");
	o = fopts(NULL), o.queue_max = 1000001, bad(rt, &o, "bad: queue_max");

	/* The limits themselves are fine. */
	o = fopts(NULL);
	o.debounce_ms = 60000;
	o.batch_max = 10000;
	o.queue_max = 1000000;
	o.events = FAAS_FILE_ALL;
	cr_assert_eq(faas_trigger_file_new(NULL, rt, "edges", &o), 0);
	cr_assert_not_null(faas_trigger_lookup(rt, "edges"));

	free(longpath);
	free(longglob);
	th_rt_free(rt, &loop);
}

Test(file, unwatchable_path_fails_with_the_reason)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts("loop");
	faas_trigger *t;

	cr_assert_eq(symlink(at("loop"), at("loop")), 0);
	cr_assert_eq(faas_trigger_file_new(&t, rt, "t", &o), FAAS_ESYSTEM);
	cr_assert_null(t);
	cr_assert(strstr(faas_runtime_last_error(rt), "t: path: cannot watch"), "%s",
		  faas_runtime_last_error(rt));
	cr_assert_null(faas_trigger_lookup(rt, "t"));
	th_rt_free(rt, &loop);
}

Test(file, no_descriptor_left_fails_cleanly)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	struct rlimit old, low;
	int fds[256], n = 0, rc;
	faas_trigger *t;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 128;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 256 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	rc = faas_trigger_file_new(&t, rt, "t", &o);
	while (n > 0)
		close(fds[--n]);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	cr_assert_eq(rc, FAAS_ESYSTEM);
	cr_assert(strstr(faas_runtime_last_error(rt), "t: inotify_init1"), "%s",
		  faas_runtime_last_error(rt));
	cr_assert_null(faas_trigger_lookup(rt, "t"));
	/* And works again once descriptors are back. */
	watch(rt, "t", &o, NULL);
	th_rt_free(rt, &loop);
}

Test(file, bad_arguments)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	faas_trigger *t;

	cr_assert_eq(faas_trigger_file_new(&t, NULL, "x", &o), FAAS_EINVAL);
	cr_assert_null(t);
	cr_assert_eq(faas_trigger_file_new(&t, rt, NULL, &o), FAAS_EINVAL);
	cr_assert_eq(faas_trigger_file_new(&t, rt, "no spaces", &o), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(rt), "trigger name"));
	cr_assert_eq(faas_trigger_file_new(&t, rt, "dup", &o), 0);
	cr_assert_eq(faas_trigger_file_new(&t, rt, "dup", &o), FAAS_EEXIST);
	cr_assert_null(t);
	/* File triggers take no route. */
	cr_assert_eq(faas_rule_new(NULL, faas_trigger_lookup(rt, "dup"), "GET /x", "rec"),
		     FAAS_EINVAL);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert_eq(faas_trigger_file_new(&t, rt, "late", &o), FAAS_ESTOPPED);
	th_rt_free(rt, &loop);
}

Test(file, options_init_matches_the_macro)
{
	static const faas_file_options init = FAAS_FILE_OPTIONS_INIT;
	faas_file_options a, b;

	memset(&a, 0, sizeof(a));
	memcpy(&a, &init, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(faas_file_options_init(&b, FAAS_FILE_OPTIONS_VERSION), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	cr_assert_eq(b.debounce_ms, FAAS_FILE_DEFAULT_DEBOUNCE_MS);
	cr_assert_eq(b.batch_max, FAAS_FILE_DEFAULT_BATCH_MAX);
	cr_assert_eq(b.queue_max, FAAS_FILE_DEFAULT_QUEUE_MAX);
	cr_assert_eq(faas_file_options_init(&b, 0), FAAS_EINVAL);
	cr_assert_eq(faas_file_options_init(&b, FAAS_FILE_OPTIONS_VERSION + 1), FAAS_EINVAL);
	cr_assert_eq(faas_file_options_init(NULL, FAAS_FILE_OPTIONS_VERSION), FAAS_EINVAL);
}

/* ---- the constructors' rule (trigger.h "Constructors") ---- */

Test(file, out_may_be_null)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	faas_trigger *t;

	cr_assert_eq(faas_trigger_file_new(NULL, rt, "anon", &o), 0, "%s",
		     faas_runtime_last_error(rt));
	/* Owned by the runtime and reachable by name; it watches like any other. */
	t = faas_trigger_lookup(rt, "anon");
	cr_assert_not_null(t);
	cr_assert_str_eq(faas_trigger_kind(t), "file");
	cr_assert_eq(faas_rule_new(NULL, t, NULL, "rec"), 0);
	put("a.txt", "hello");
	cr_assert_str_eq(str(only_record(rt), "file", "key"), "a.txt");
	th_rt_free(rt, &loop);
}

Test(file, null_options_are_refused_with_a_message)
{
	faas_runtime *rt = rt_new();
	faas_trigger *t = (faas_trigger *)&t;

	cr_assert_eq(faas_trigger_file_new(&t, rt, "noopts", NULL), FAAS_EINVAL);
	cr_assert_null(t, "*out is reset on failure");
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "noopts: options"), "%s",
			   faas_runtime_last_error(rt));
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "needs a path"), "%s",
			   faas_runtime_last_error(rt));
	cr_assert_null(faas_trigger_lookup(rt, "noopts"));
	cr_assert_eq(faas_trigger_file_new(NULL, rt, "noopts", NULL), FAAS_EINVAL);
	cr_assert_null(faas_trigger_lookup(rt, "noopts"));
	th_rt_free(rt, &loop);
}

Test(file, null_runtime_message_goes_to_the_thread)
{
	faas_file_options o = fopts(NULL);
	faas_trigger *t = (faas_trigger *)&t;

	cr_assert_eq(faas_trigger_file_new(&t, NULL, "x", &o), FAAS_EINVAL);
	cr_assert_null(t);
	cr_assert_not_null(strstr(faas_runtime_last_error(NULL), "rt is NULL"), "%s",
			   faas_runtime_last_error(NULL));
	cr_assert_eq(faas_trigger_file_new(NULL, NULL, "x", NULL), FAAS_EINVAL);
}

/* A key that is not UTF-8 (Linux names are bytes) makes valid JSON by the one
 * escaping rule every event uses — test/proxy_event.c asserts the same bytes
 * as an HTTP header give the same string: each maximal invalid subpart is one
 * U+FFFD, control bytes are escaped and come back as they were. */
Test(file, key_that_is_not_utf8_gets_the_same_replacement_as_http)
{
	faas_runtime *rt = rt_new();
	faas_file_options o = fopts(NULL);
	const cJSON *r;

	watch(rt, "odd", &o, NULL);
	put("\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xff\x01", "x");
	r = only_record(rt);
	cr_assert_str_eq(str(r, "file", "key"),
			 "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
			 "\xef\xbf\xbd|\xef\xbf\xbd\x01");
	cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(r, "s3"), "object", "key"),
			 str(r, "file", "key"));
	th_rt_free(rt, &loop);
}
