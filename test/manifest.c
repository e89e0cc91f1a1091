/*
 * Manifests: every error names its JSON path, unknown keys are errors,
 * relative paths resolve against the manifest's folder, runtime options come
 * from it, and applying is all or nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define ERRLEN 512

static int noop(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	(void)result;
	return 0;
}

/* Parse text and return the error code; the message lands in err. */
static int parse(const char *json, char *err)
{
	faas_manifest *m = NULL;
	int rc = faas_manifest_parse(&m, json, strlen(json), FIXTURES_DIR, err, ERRLEN);

	faas_manifest_free(m);
	return rc;
}

static void expect_error(const char *json, const char *needle)
{
	char err[ERRLEN];

	cr_assert_eq(parse(json, err), FAAS_EINVAL, "%s should be refused", json);
	cr_assert(strstr(err, needle) != NULL, "message \"%s\" lacks \"%s\"", err, needle);
}

Test(manifest, empty_object_is_valid)
{
	char err[ERRLEN];

	cr_assert_eq(parse("{}", err), 0);
	cr_assert_str_empty(err);
}

Test(manifest, errors_name_the_json_path)
{
	expect_error("{\"functions\":{\"hello\":{\"library\":\"libfx_ok.so\",\"timeout_ms\":0}}}",
	             "functions.hello.timeout_ms: expected 1..900000, got 0");
	expect_error("{\"functions\":{\"hello\":{\"library\":\"libfx_ok.so\",\"memory_mb\":64}}}",
	             "functions.hello.memory_mb: expected 128..10240, got 64");
	expect_error(
	    "{\"functions\":{\"hello\":{\"library\":\"libfx_ok.so\",\"timeout_ms\":\"3\"}}}",
	    "functions.hello.timeout_ms: expected an integer");
	expect_error(
	    "{\"functions\":{\"hello\":{\"library\":\"libfx_ok.so\",\"isolation\":\"vm\"}}}",
	    "functions.hello.isolation: expected \"thread\" or \"inline\"");
	expect_error("{\"functions\":{\"hello\":{\"symbol\":\"ok\"}}}",
	             "functions.hello.library: required");
	expect_error("{\"functions\":{\"hello\":{\"library\":\"x.so\",\"prewarm\":1}}}",
	             "functions.hello.prewarm: expected true or false");
	expect_error("{\"functions\":{\"hello\":{\"library\":\"x.so\",\"budget_usd\":-1}}}",
	             "functions.hello.budget_usd: expected a number");
	expect_error("{\"functions\":{\"hello\":7}}", "functions.hello: expected an object");
	expect_error("{\"defaults\":{\"timeout_ms\":900001}}", "defaults.timeout_ms: expected");
	expect_error("{\"triggers\":{\"t\":{\"type\":\"timer\"}}}",
	             "triggers.t: expected exactly one of interval_ms, once_after_ms, cron");
	expect_error(
	    "{\"triggers\":{\"t\":{\"type\":\"timer\",\"interval_ms\":5,\"cron\":\"* * * * *\"}}}",
	    "triggers.t: expected exactly one");
	expect_error("{\"triggers\":{\"t\":{\"type\":\"ftp\"}}}",
	             "triggers.t.type: expected \"timer\", \"file\" or \"http\", got \"ftp\"");
	expect_error("{\"triggers\":{\"t\":{}}}", "triggers.t.type: required");
	expect_error("{\"triggers\":{\"t\":{\"type\":\"http\",\"port\":70000}}}",
	             "triggers.t.port: expected 0..65535, got 70000");
	expect_error("{\"triggers\":{\"t\":{\"type\":\"file\"}}}", "triggers.t.path: required");
	expect_error(
	    "{\"triggers\":{\"t\":{\"type\":\"file\",\"path\":\"x\",\"events\":[\"eaten\"]}}}",
	    "triggers.t.events: expected");
	expect_error("{\"rules\":{}}", "rules: expected an array");
	expect_error("{\"rules\":[{\"trigger\":\"t\"}]}", "rules[0].function: required");
	expect_error("{\"rules\":[{\"function\":\"f\"}]}", "rules[0].trigger: required");
	expect_error("[]", "(top): expected an object");
	expect_error("{\"runtime\":{\"threads\":5000}}",
	             "runtime.threads: expected 0..1024, got 5000");
	expect_error("{\"runtime\":{\"log\":\"syslog\"}}",
	             "runtime.log: expected \"stderr\" or \"none\"");
	expect_error("{\"pricing\":{\"granularity_ms\":0}}",
	             "pricing.granularity_ms: expected 1..60000");
	expect_error("{\"pricing\":{\"request_usd\":\"free\"}}",
	             "pricing.request_usd: expected a number");
}

Test(manifest, unknown_keys_are_errors)
{
	expect_error("{\"functoins\":{}}", "functoins: unknown key");
	expect_error("{\"functions\":{\"f\":{\"library\":\"x.so\",\"timeout\":3}}}",
	             "functions.f.timeout: unknown key");
	expect_error("{\"runtime\":{\"threadz\":3}}", "runtime.threadz: unknown key");
	expect_error("{\"triggers\":{\"t\":{\"type\":\"timer\",\"interval_ms\":5,\"every\":1}}}",
	             "triggers.t.every: unknown key");
	expect_error("{\"rules\":[{\"trigger\":\"t\",\"function\":\"f\",\"path\":\"/\"}]}",
	             "rules[0].path: unknown key");
}

Test(manifest, invalid_json_names_the_line)
{
	char err[ERRLEN];

	cr_assert_eq(parse("{\n\"functions\":\n{,}\n}", err), FAAS_EINVAL);
	cr_assert(strstr(err, "invalid JSON near line 3") != NULL, "%s", err);
}

Test(manifest, load_errors)
{
	char err[ERRLEN];
	faas_manifest *m = (faas_manifest *)1;

	cr_assert_eq(faas_manifest_load(&m, "/nonexistent/manifest.json", err, sizeof(err)),
	             FAAS_ENOTFOUND);
	cr_assert_null(m);
	cr_assert(strstr(err, "/nonexistent/manifest.json") != NULL);
	cr_assert_eq(faas_manifest_load(NULL, "x", err, sizeof(err)), FAAS_EINVAL);
	cr_assert_eq(faas_manifest_load(&m, NULL, err, sizeof(err)), FAAS_EINVAL);
	cr_assert_eq(faas_manifest_parse(&m, NULL, 0, NULL, err, sizeof(err)), FAAS_EINVAL);
	cr_assert_eq(faas_manifest_apply(NULL, NULL), FAAS_EINVAL);
	cr_assert_eq(faas_manifest_runtime_options(NULL, NULL), FAAS_EINVAL);
	faas_manifest_free(NULL);
}

Test(manifest, too_large_is_refused)
{
	char err[ERRLEN];
	faas_manifest *m = NULL;
	size_t n = FAAS_MANIFEST_MAX_BYTES + 1;
	char *big = malloc(n);

	cr_assert_not_null(big);
	memset(big, ' ', n);
	cr_assert_eq(faas_manifest_parse(&m, big, n, NULL, err, sizeof(err)), FAAS_ETOOBIG);
	cr_assert_null(m);
	free(big);
}

Test(manifest, runtime_options_come_from_the_manifest)
{
	const char *json = "{\"runtime\":{\"threads\":3,\"max_concurrency\":7,"
	                   "\"activation_capacity\":9,\"log\":\"stderr\",\"drain_timeout_ms\":11},"
	                   "\"defaults\":{\"timeout_ms\":1234,\"memory_mb\":256},"
	                   "\"pricing\":{\"gb_second_usd\":0.5,\"request_usd\":0.25,"
	                   "\"granularity_ms\":100}}";
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_manifest *m;
	char err[ERRLEN];

	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), NULL, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(faas_manifest_runtime_options(m, &o), 0);
	cr_assert_eq(o.threads, 3);
	cr_assert_eq(o.max_concurrency, 7);
	cr_assert_eq(o.activation_capacity, 9);
	cr_assert_eq(o.drain_timeout_ms, 11);
	cr_assert_eq(o.default_timeout_ms, 1234);
	cr_assert_eq(o.default_memory_mb, 256);
	cr_assert_eq(o.pricing.gb_second_usd, 0.5);
	cr_assert_eq(o.pricing.request_usd, 0.25);
	cr_assert_eq(o.pricing.granularity_ms, 100);
	cr_assert_eq(o.log_sink, faas_log_sink_stderr());
	faas_manifest_free(m);
}

Test(manifest, max_stuck_per_function_comes_from_the_manifest)
{
	const char *json = "{\"runtime\":{\"max_stuck_per_function\":3}}";
	const char *bad = "{\"runtime\":{\"max_stuck_per_function\":4097}}";
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_manifest *m;
	char err[ERRLEN];

	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), NULL, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(faas_manifest_runtime_options(m, &o), 0);
	cr_assert_eq(o.max_stuck_per_function, 3);
	faas_manifest_free(m);
	cr_assert_neq(faas_manifest_parse(&m, bad, strlen(bad), NULL, err, sizeof(err)), 0);
	cr_assert(strstr(err, "max_stuck_per_function"), "%s", err);
}

Test(manifest, apply_registers_everything_with_relative_paths)
{
	/* The base directory is the fixtures' folder, so "libfx_ok.so" resolves. */
	const char *json =
	    "{\"defaults\":{\"timeout_ms\":1500},"
	    "\"functions\":{\"ok\":{\"library\":\"libfx_ok.so\",\"symbol\":\"ok\","
	    "\"memory_mb\":256,\"isolation\":\"inline\",\"budget_usd\":1},"
	    "\"off\":{\"library\":\"libfx_ok.so\",\"symbol\":\"ok\",\"enabled\":false}},"
	    "\"triggers\":{\"tick\":{\"type\":\"timer\",\"interval_ms\":3600000},"
	    "\"api\":{\"type\":\"http\",\"port\":0}},"
	    "\"rules\":[{\"trigger\":\"tick\",\"function\":\"ok\"},"
	    "{\"trigger\":\"api\",\"route\":\"GET /ok\",\"function\":\"ok\"}]}";
	faas_runtime *rt = th_rt_new(NULL, NULL);
	faas_billing_totals totals;
	faas_activation *act;
	faas_manifest *m;
	char err[ERRLEN];

	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), FIXTURES_DIR, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(faas_manifest_apply(rt, m), 0, "%s", faas_runtime_last_error(rt));
	faas_manifest_free(m);
	cr_assert_not_null(faas_fn_lookup(rt, "ok"));
	cr_assert_not_null(faas_trigger_lookup(rt, "tick"));
	cr_assert_not_null(faas_trigger_lookup(rt, "api"));
	cr_assert_neq(faas_trigger_http_port(faas_trigger_lookup(rt, "api")), 0);

	act = th_call(rt, "ok", "{\"x\":1}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_eq(faas_activation_usage(act)->memory_mb, 256);
	faas_activation_free(act);
	act = th_call(rt, "off", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_REJECTED, "enabled: false applies");
	faas_activation_free(act);
	cr_assert_eq(faas_billing_totals_get(&totals, rt, "ok"), 0);
	cr_assert_eq(totals.budget_usd, 1.0);
	th_rt_free(rt, NULL);
}

Test(manifest, failed_apply_changes_nothing)
{
	/* A good function, a good trigger, then a library that does not exist:
	 * everything before it must be undone. */
	const char *json = "{\"functions\":{\"a\":{\"library\":\"libfx_ok.so\",\"symbol\":\"ok\"},"
	                   "\"b\":{\"library\":\"libfx_does_not_exist.so\"}},"
	                   "\"triggers\":{\"tick\":{\"type\":\"timer\",\"interval_ms\":10}}}";
	const char *json2 =
	    "{\"functions\":{\"a\":{\"library\":\"libfx_ok.so\",\"symbol\":\"ok\"}},"
	    "\"triggers\":{\"tick\":{\"type\":\"timer\",\"interval_ms\":10}},"
	    "\"rules\":[{\"trigger\":\"tick\",\"function\":\"nobody\"}]}";
	faas_runtime *rt = th_rt_new(NULL, NULL);
	faas_manifest *m;
	char err[ERRLEN];

	th_register_static(rt, "existing", noop);
	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), FIXTURES_DIR, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(faas_manifest_apply(rt, m), FAAS_ELOAD);
	cr_assert(strstr(faas_runtime_last_error(rt), "functions.b") != NULL, "%s",
	          faas_runtime_last_error(rt));
	cr_assert(strstr(faas_runtime_last_error(rt), "libfx_does_not_exist.so") != NULL);
	faas_manifest_free(m);
	cr_assert_null(faas_fn_lookup(rt, "a"), "a was unregistered again");
	cr_assert_null(faas_trigger_lookup(rt, "tick"));
	cr_assert_not_null(faas_fn_lookup(rt, "existing"), "what was there stays");
	cr_assert_not(th_loaded(FIXTURES_DIR "/libfx_ok.so"), "its library was unloaded");

	cr_assert_eq(faas_manifest_parse(&m, json2, strlen(json2), FIXTURES_DIR, err, sizeof(err)),
	             0, "%s", err);
	cr_assert_eq(faas_manifest_apply(rt, m), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(rt),
	                 "rules[0].function: no function \"nobody\"") != NULL,
	          "%s", faas_runtime_last_error(rt));
	faas_manifest_free(m);
	cr_assert_null(faas_fn_lookup(rt, "a"));
	cr_assert_null(faas_trigger_lookup(rt, "tick"));
	th_rt_free(rt, NULL);
}

Test(manifest, duplicate_names_fail_whole)
{
	const char *json =
	    "{\"functions\":{\"existing\":{\"library\":\"libfx_ok.so\",\"symbol\":\"ok\"}}}";
	faas_runtime *rt = th_rt_new(NULL, NULL);
	faas_manifest *m;
	char err[ERRLEN];

	th_register_lib(rt, "existing", FX("error"), "returns_error");
	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), FIXTURES_DIR, err, sizeof(err)),
	             0);
	cr_assert_eq(faas_manifest_apply(rt, m), FAAS_EEXIST);
	cr_assert(strstr(faas_runtime_last_error(rt), "functions.existing") != NULL);
	faas_manifest_free(m);
	th_rt_free(rt, NULL);
}

Test(manifest, load_file_resolves_against_its_folder)
{
	char dir[] = "/tmp/faas-manifest-XXXXXX";
	char path[512], lib[512];
	faas_runtime *rt;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(lib, sizeof(lib), "%s/handlers", dir);
	cr_assert_eq(symlink(FIXTURES_DIR, lib), 0);
	snprintf(path, sizeof(path), "%s/m.json", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"functions\":{\"ok\":{\"library\":\"handlers/libfx_ok.so\",\"symbol\":\"ok\"}}}",
	      f);
	fclose(f);
	rt = th_rt_new(NULL, NULL);
	cr_assert_eq(faas_runtime_load_manifest(rt, path), 0, "%s", faas_runtime_last_error(rt));
	cr_assert_not_null(faas_fn_lookup(rt, "ok"));
	th_rt_free(rt, NULL);
	unlink(lib);
	unlink(path);
	rmdir(dir);
}

Test(manifest, store_sqlite_or_memory)
{
	const char *json = "{\"store\": {\"sqlite\": \"data/faasd.db\"}}";
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_manifest *m = NULL;
	const char *path = (const char *)1;
	char err[256];

	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), "/srv/app", err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(faas_manifest_store(m, &path), 0);
	cr_assert_str_eq(path, "/srv/app/data/faasd.db", "relative to the manifest");
	cr_assert_eq(faas_manifest_runtime_options(m, &o), 0);
	cr_assert_eq(o.store_path, path);
	faas_manifest_free(m);

	json = "{\"store\": {\"sqlite\": \"/var/lib/faas.db\"}}";
	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), "/srv/app", err, sizeof(err)), 0);
	cr_assert_eq(faas_manifest_store(m, &path), 0);
	cr_assert_str_eq(path, "/var/lib/faas.db");
	faas_manifest_free(m);

	json = "{\"store\": \"memory\"}";
	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), NULL, err, sizeof(err)), 0);
	cr_assert_eq(faas_manifest_store(m, &path), 0);
	cr_assert_null(path);
	o.store_path = "x";
	cr_assert_eq(faas_manifest_runtime_options(m, &o), 0);
	cr_assert_null(o.store_path, "memory clears a store the host had set");
	faas_manifest_free(m);

	json = "{}";
	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), NULL, err, sizeof(err)), 0);
	cr_assert_eq(faas_manifest_store(m, &path), FAAS_ENOTFOUND);
	o.store_path = "kept";
	cr_assert_eq(faas_manifest_runtime_options(m, &o), 0);
	cr_assert_str_eq(o.store_path, "kept", "no store in the manifest: the host's stays");
	faas_manifest_free(m);
	cr_assert_eq(faas_manifest_store(NULL, &path), FAAS_EINVAL);
}

Test(manifest, bad_store)
{
	expect_error("{\"store\": \"disk\"}", "store: expected \"memory\" or {\"sqlite\": FILE}");
	expect_error("{\"store\": 3}", "store: expected");
	expect_error("{\"store\": {\"sqlite\": \"\"}}",
	             "store.sqlite: expected 1..4096 characters");
	expect_error("{\"store\": {}}", "store.sqlite: expected a file name");
	expect_error("{\"store\": {\"sqlite\": 7}}", "store.sqlite");
	expect_error("{\"store\": {\"redis\": \"x\"}}", "store");
}
