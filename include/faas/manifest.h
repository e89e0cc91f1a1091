/*
 * libfaas — manifests: functions, triggers, rules, defaults and pricing in
 * one JSON file, the way faasd is configured.
 *
 *     {
 *       "runtime":  {"threads": 8, "max_concurrency": 100, "log": "stderr", ...},
 *       "defaults": {"timeout_ms": 3000, "memory_mb": 128},
 *       "pricing":  {"gb_second_usd": 0.0000166667, "request_usd": 0.0000002, "granularity_ms": 1},
 *       "functions": {"hello": {"library": "handlers/libhello.so", "symbol": "hello", ...}},
 *       "triggers":  {"api": {"type": "http", "port": 8080}, "tick": {"type": "timer", "cron": "0 * * * *"}},
 *       "rules":     [{"trigger": "api", "route": "GET /hello/{name}", "function": "hello"}],
 *       "store":     {"sqlite": "faasd.db"}
 *     }
 *
 * The README lists every key. Unknown keys are errors, and every error names
 * the JSON path and what was expected ("functions.hello.timeout_ms: expected
 * 1..900000, got 0"). Relative paths resolve against the manifest's folder.
 * Applying a manifest is all or nothing: if any part fails, what was already
 * registered is removed again and the runtime is as it was.
 */
#ifndef FAAS_MANIFEST_H
#define FAAS_MANIFEST_H

#include <stddef.h>

#include "common.h"
#include "runtime.h"

/** A parsed and checked manifest. Opaque. */
typedef struct faas_manifest faas_manifest;

/** The largest manifest file read. */
#define FAAS_MANIFEST_MAX_BYTES (4u * 1024u * 1024u)

FAAS_BEGIN_DECLS

/**
 * Read, parse and check a manifest file. Nothing is registered.
 * @param out receives the manifest; free it with faas_manifest_free()
 * @param err receives the message on failure (may be NULL)
 * @return 0, FAAS_EINVAL (the message names the JSON path), FAAS_ENOTFOUND
 *         (no such file), FAAS_ETOOBIG, FAAS_ESYSTEM (unreadable), FAAS_ENOMEM.
 *         Any thread.
 */
FAAS_EXTERN int faas_manifest_load(faas_manifest **out, const char *path, char *err,
				   size_t errlen);

/**
 * The same from JSON text; relative paths resolve against base_dir ("." if NULL).
 */
FAAS_EXTERN int faas_manifest_parse(faas_manifest **out, const char *json, size_t len,
				    const char *base_dir, char *err, size_t errlen);

/**
 * Apply the manifest's "runtime" and "pricing" sections to runtime options,
 * for a host that creates its runtime from the manifest. Keys the manifest
 * leaves out keep opts' values.
 * @return 0 or FAAS_EINVAL. Any thread.
 */
FAAS_EXTERN int faas_manifest_runtime_options(const faas_manifest *m, faas_runtime_options *opts);

/**
 * The manifest's "store": `"memory"`, or `{"sqlite": FILE}` with FILE
 * relative to the manifest's folder. faas_manifest_runtime_options() sets
 * opts->store_path from it (pointing into m: keep m until faas_runtime_new()
 * returns).
 * @param path receives the resolved file, or NULL for "memory"; borrowed,
 *        it lives with m
 * @return 0, FAAS_ENOTFOUND (the manifest names no store), FAAS_EINVAL
 */
FAAS_EXTERN int faas_manifest_store(const faas_manifest *m, const char **path);

/**
 * Register the manifest's functions, triggers and rules on rt, all or nothing.
 * @return 0 or the first failure's code; faas_runtime_last_error(rt) names the
 *         JSON path and the reason, and rt is as it was before the call
 */
FAAS_EXTERN int faas_manifest_apply(faas_runtime *rt, const faas_manifest *m);

/** Free a manifest. NULL is a no-op. Any thread. */
FAAS_EXTERN void faas_manifest_free(faas_manifest *m);

/**
 * Load a manifest file and apply it: faas_manifest_load() then
 * faas_manifest_apply(); the message of a failure is in faas_runtime_last_error(rt).
 */
FAAS_EXTERN int faas_runtime_load_manifest(faas_runtime *rt, const char *path);

FAAS_END_DECLS

#endif /* FAAS_MANIFEST_H */
