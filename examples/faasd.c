/*
 * faasd — a local Lambda/OpenWhisk: loads a manifest (functions, triggers,
 * rules) and serves it until SIGINT or SIGTERM.
 *
 *     faasd [--store FILE | --memory] MANIFEST
 *
 * State lives in an SQLite store: the manifest's "store", else --store FILE,
 * else faasd.db in the manifest's folder; --memory (or "store": "memory")
 * keeps it in memory, gone at exit. The command line wins over the manifest.
 *
 * The first signal stops admitting (HTTP answers 503), lets calls in flight
 * finish up to the manifest's drain_timeout_ms, and exits 0. A second signal
 * cancels what is still running and exits 130 at once.
 */
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include <faas.h>

#define FAASD_EXIT_OK 0
#define FAASD_EXIT_FAILURE 1
#define FAASD_EXIT_USAGE 64
#define FAASD_EXIT_FORCED 130
/* The store's file in the manifest's folder when nothing names one. */
#define FAASD_DEFAULT_STORE "faasd.db"

typedef struct faasd {
	const char *store; /* --store FILE */
	bool memory;       /* --memory */
	char default_store[PATH_MAX];
	faas_runtime *rt;
	uv_signal_t sigint, sigterm;
	int signals;
} faasd;

static void on_signal(uv_signal_t *h, int signum)
{
	faasd *d = h->data;

	d->signals++;
	fprintf(stderr, "faasd: %s: %s\n", strsignal(signum),
		d->signals == 1 ? "draining calls in flight (again to stop at once)"
				: "cancelling calls in flight");
	faas_runtime_stop(d->rt);
}

static int announce(faas_trigger *t, void *userdata)
{
	(void)userdata;
	if (strcmp(faas_trigger_kind(t), "http") == 0)
		fprintf(stderr, "faasd: trigger %s: listening on http://127.0.0.1:%u\n",
			faas_trigger_name(t), (unsigned int)faas_trigger_http_port(t));
	else
		fprintf(stderr, "faasd: trigger %s: %s\n", faas_trigger_name(t),
			faas_trigger_kind(t));
	return 0;
}

static int announce_fn(faas_fn *fn, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "faasd: function %s\n", faas_fn_name(fn));
	return 0;
}

/* The store: the command line's, else the manifest's, else the default. */
static int choose_store(faasd *d, const faas_manifest *m, const char *path,
                        faas_runtime_options *opts)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (d->memory) {
		opts->store_path = NULL;
	} else if (d->store) {
		opts->store_path = d->store;
	} else if (faas_manifest_store(m, &opts->store_path) == FAAS_ENOTFOUND) {
		n = slash ? snprintf(d->default_store, sizeof(d->default_store), "%.*s/%s",
		                     (int)(slash - path), path, FAASD_DEFAULT_STORE)
		          : snprintf(d->default_store, sizeof(d->default_store), "%s",
		                     FAASD_DEFAULT_STORE);
		if (n < 0 || (size_t)n >= sizeof(d->default_store)) {
			fprintf(stderr, "faasd: %s: path too long for the store beside it\n", path);
			return FAAS_EINVAL;
		}
		opts->store_path = d->default_store;
	}
	fprintf(stderr, "faasd: store %s\n", opts->store_path ? opts->store_path : "in memory");
	return 0;
}

static int start(faasd *d, const char *path)
{
	faas_runtime_options opts = FAAS_RUNTIME_OPTIONS_INIT;
	char err[512];
	faas_manifest *m;
	int rc;

	opts.log_sink = faas_log_sink_stderr();
	rc = faas_manifest_load(&m, path, err, sizeof(err));
	if (rc == 0)
		rc = faas_manifest_runtime_options(m, &opts);
	if (rc == 0 && (rc = choose_store(d, m, path, &opts)) != 0) {
		faas_manifest_free(m);
		return rc;
	}
	if (rc != 0) {
		fprintf(stderr, "faasd: %s\n", rc == FAAS_EINVAL || err[0] ? err : faas_strerror(rc));
		faas_manifest_free(m);
		return rc;
	}
	rc = faas_runtime_new(&d->rt, &opts);
	if (rc != 0) {
		fprintf(stderr, "faasd: %s\n", faas_runtime_last_error(NULL));
		faas_manifest_free(m);
		return rc;
	}
	rc = faas_manifest_apply(d->rt, m);
	faas_manifest_free(m);
	if (rc != 0)
		fprintf(stderr, "faasd: %s: %s\n", path, faas_runtime_last_error(d->rt));
	return rc;
}

static int usage(int status)
{
	fprintf(stderr, "usage: faasd [--store FILE | --memory] MANIFEST\n");
	return status;
}

int main(int argc, char **argv)
{
	faasd d = {0};
	int status, i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0)
			return usage(FAASD_EXIT_OK);
		if (strcmp(argv[i], "--memory") == 0)
			d.memory = true;
		else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc && argv[i + 1][0])
			d.store = argv[++i];
		else
			return usage(FAASD_EXIT_USAGE);
	}
	if (i != argc - 1 || (d.memory && d.store))
		return usage(FAASD_EXIT_USAGE);
	if (start(&d, argv[i]) != 0) {
		faas_runtime_free(d.rt);
		return FAASD_EXIT_FAILURE;
	}
	faas_fn_foreach(d.rt, announce_fn, NULL);
	faas_trigger_foreach(d.rt, announce, NULL);

	uv_signal_init(faas_runtime_loop(d.rt), &d.sigint);
	uv_signal_init(faas_runtime_loop(d.rt), &d.sigterm);
	d.sigint.data = d.sigterm.data = &d;
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	/* Signals alone must not keep the loop alive once the runtime is stopped. */
	uv_unref((uv_handle_t *)&d.sigint);
	uv_unref((uv_handle_t *)&d.sigterm);

	faas_runtime_run(d.rt);
	status = d.signals > 1 ? FAASD_EXIT_FORCED : FAASD_EXIT_OK;
	fprintf(stderr, "faasd: stopped\n");
	uv_close((uv_handle_t *)&d.sigint, NULL);
	uv_close((uv_handle_t *)&d.sigterm, NULL);
	/* Frees the runtime and runs its loop until every handle, ours too, is closed. */
	faas_runtime_free(d.rt);
	fflush(stdout);
	return status;
}
