/*
 * faas-invoke — run one handler of a shared object once, the local
 * equivalent of `aws lambda invoke`:
 *
 *     faas-invoke LIB.so SYMBOL [--event FILE|-] [--timeout-ms N]
 *                 [--memory-mb N] [--name NAME] [--isolation thread|inline]
 *
 * START, the handler's lines, END and REPORT go to stderr; the response
 * payload (the result, or {"errorType", "errorMessage"}) goes to stdout as
 * one line of JSON. The exit status tells how the call ended (see
 * invoke_exit below).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faas.h>

/* Exit statuses: one per activation status, then sysexits-style codes for
 * failures before the call. Scripts branch on these, so they are stable. */
typedef enum invoke_exit {
	INVOKE_EXIT_OK = 0,
	INVOKE_EXIT_APPLICATION_ERROR = 1,
	INVOKE_EXIT_DEVELOPER_ERROR = 2,
	INVOKE_EXIT_TIMEOUT = 3,
	INVOKE_EXIT_OOM = 4,
	INVOKE_EXIT_THROTTLED = 5,
	INVOKE_EXIT_REJECTED = 6,
	INVOKE_EXIT_INTERNAL_ERROR = 7,
	INVOKE_EXIT_USAGE = 64,          /* bad command line (sysexits EX_USAGE) */
	INVOKE_EXIT_BAD_EVENT = 65,      /* event unreadable, too large or not JSON (EX_DATAERR) */
	INVOKE_EXIT_REGISTER_FAILED = 66 /* the library or symbol could not be registered */
} invoke_exit;

/* The largest event file accepted: Lambda's synchronous payload limit, the
 * runtime's default too. Bounding the read keeps a mistaken path (a disk
 * image, /dev/zero) from filling memory before the runtime could refuse it. */
#define INVOKE_EVENT_MAX ((size_t)FAAS_DEFAULT_PAYLOAD_LIMIT)
#define INVOKE_READ_CHUNK ((size_t)64 * 1024)
#define INVOKE_STDIN_NAME "-"

static const char usage_line[] =
    "usage: faas-invoke LIB.so SYMBOL [--event FILE|-] [--timeout-ms N] "
    "[--memory-mb N] [--name NAME] [--isolation thread|inline]\n";

typedef struct invoke_args {
	const char *library;
	const char *symbol;
	const char *event_path; /* NULL: a JSON null event */
	const char *name;       /* defaults to symbol */
	uint32_t timeout_ms;    /* 0: the runtime default */
	uint32_t memory_mb;     /* 0: the runtime default */
	faas_isolation isolation;
} invoke_args;

static int usage_error(const char *fmt, ...) FAAS_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("faas-invoke: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_line, stderr);
	return INVOKE_EXIT_USAGE;
}

/* Parse a decimal in [min, max]; strtoul alone would accept "-1", "12abc"
 * and leading blanks. */
static int parse_u32(uint32_t *out, const char *s, uint32_t min, uint32_t max)
{
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Every option takes a value; knowing them up front keeps a typo from
 * swallowing the next argument. */
static bool takes_value(const char *opt)
{
	static const char *const options[] = {"--event", "--name", "--timeout-ms", "--memory-mb",
	                                      "--isolation"};

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(opt, options[i]) == 0)
			return true;
	return false;
}

/* parse_args() result for --help: not an error, but nothing to run. */
#define PARSE_HELP (-1)

/* @return 0, PARSE_HELP, or INVOKE_EXIT_USAGE with the reason printed */
static int parse_args(invoke_args *a, int argc, char **argv)
{
	bool options_done = false;
	int positional = 0;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		const char *val;

		if (!options_done && strcmp(opt, "--") == 0) {
			options_done = true;
			continue;
		}
		if (options_done || opt[0] != '-') {
			if (positional == 0)
				a->library = opt;
			else if (positional == 1)
				a->symbol = opt;
			else
				return usage_error("unexpected argument '%s'", opt);
			positional++;
			continue;
		}
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			fputs(usage_line, stdout);
			return PARSE_HELP;
		}
		if (!takes_value(opt))
			return usage_error("unknown option '%s'", opt);
		if (i + 1 >= argc)
			return usage_error("option '%s' needs a value", opt);
		val = argv[++i];

		if (strcmp(opt, "--event") == 0) {
			a->event_path = val;
		} else if (strcmp(opt, "--name") == 0) {
			a->name = val;
		} else if (strcmp(opt, "--timeout-ms") == 0) {
			if (parse_u32(&a->timeout_ms, val, FAAS_MIN_TIMEOUT_MS,
			              FAAS_MAX_TIMEOUT_MS) != 0)
				return usage_error("--timeout-ms: '%s' is not in %u..%u", val,
				                   FAAS_MIN_TIMEOUT_MS, FAAS_MAX_TIMEOUT_MS);
		} else if (strcmp(opt, "--memory-mb") == 0) {
			if (parse_u32(&a->memory_mb, val, FAAS_MIN_MEMORY_MB, FAAS_MAX_MEMORY_MB) !=
			    0)
				return usage_error("--memory-mb: '%s' is not in %u..%u", val,
				                   FAAS_MIN_MEMORY_MB, FAAS_MAX_MEMORY_MB);
		} else { /* --isolation, the last of takes_value()'s options */
			if (strcmp(val, "thread") == 0)
				a->isolation = FAAS_ISOLATION_THREAD;
			else if (strcmp(val, "inline") == 0)
				a->isolation = FAAS_ISOLATION_INLINE;
			else
				return usage_error("--isolation: '%s' is not thread or inline",
				                   val);
		}
	}
	if (positional < 2)
		return usage_error("LIB.so and SYMBOL are required");
	if (a->name == NULL)
		a->name = a->symbol;
	return 0;
}

/* Read the whole stream, refusing more than INVOKE_EVENT_MAX bytes.
 * @return a NUL-terminated malloc()ed buffer, or NULL with a message printed */
static char *read_stream(FILE *f, const char *what, size_t *len_out)
{
	size_t cap = INVOKE_READ_CHUNK, len = 0;
	char *buf = malloc(cap + 1);

	if (buf == NULL) {
		fprintf(stderr, "faas-invoke: %s: out of memory\n", what);
		return NULL;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *grown;

			/* One byte past the limit is enough to know it is too large. */
			if (cap > INVOKE_EVENT_MAX) {
				fprintf(stderr, "faas-invoke: %s: larger than %zu bytes\n", what,
				        INVOKE_EVENT_MAX);
				free(buf);
				return NULL;
			}
			cap = cap * 2 > INVOKE_EVENT_MAX + 1 ? INVOKE_EVENT_MAX + 1 : cap * 2;
			grown = realloc(buf, cap + 1);
			if (grown == NULL) {
				fprintf(stderr, "faas-invoke: %s: out of memory\n", what);
				free(buf);
				return NULL;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "faas-invoke: %s: read error\n", what);
		free(buf);
		return NULL;
	}
	if (len > INVOKE_EVENT_MAX) {
		fprintf(stderr, "faas-invoke: %s: larger than %zu bytes\n", what, INVOKE_EVENT_MAX);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*len_out = len;
	return buf;
}

/* Load the event named on the command line; *out stays NULL for none.
 * @return INVOKE_EXIT_OK or INVOKE_EXIT_BAD_EVENT */
static int load_event(cJSON **out, const char *path)
{
	const char *what = path;
	const char *end = NULL;
	size_t len = 0;
	FILE *f;
	char *text;

	*out = NULL;
	if (path == NULL)
		return INVOKE_EXIT_OK;
	if (strcmp(path, INVOKE_STDIN_NAME) == 0) {
		f = stdin;
		what = "stdin";
	} else {
		f = fopen(path, "rb");
		if (f == NULL) {
			fprintf(stderr, "faas-invoke: %s: %s\n", path, strerror(errno));
			return INVOKE_EXIT_BAD_EVENT;
		}
	}
	text = read_stream(f, what, &len);
	if (f != stdin)
		fclose(f);
	if (text == NULL)
		return INVOKE_EXIT_BAD_EVENT;

	/* A NUL inside the text would hide whatever follows it from the parser. */
	if (memchr(text, '\0', len) != NULL) {
		fprintf(stderr, "faas-invoke: %s: contains a NUL byte\n", what);
		free(text);
		return INVOKE_EXIT_BAD_EVENT;
	}
	/* require_null_terminated refuses trailing garbage after the value. */
	*out = cJSON_ParseWithOpts(text, &end, 1);
	if (*out == NULL) {
		fprintf(stderr, "faas-invoke: %s: not JSON (at byte %td)\n", what,
		        end != NULL ? end - text : (ptrdiff_t)0);
		free(text);
		return INVOKE_EXIT_BAD_EVENT;
	}
	free(text);
	return INVOKE_EXIT_OK;
}

static int exit_for_status(faas_status status)
{
	switch (status) {
	case FAAS_STATUS_SUCCESS:
		return INVOKE_EXIT_OK;
	case FAAS_STATUS_APPLICATION_ERROR:
		return INVOKE_EXIT_APPLICATION_ERROR;
	case FAAS_STATUS_DEVELOPER_ERROR:
		return INVOKE_EXIT_DEVELOPER_ERROR;
	case FAAS_STATUS_TIMEOUT:
		return INVOKE_EXIT_TIMEOUT;
	case FAAS_STATUS_OOM:
		return INVOKE_EXIT_OOM;
	case FAAS_STATUS_THROTTLED:
		return INVOKE_EXIT_THROTTLED;
	case FAAS_STATUS_REJECTED:
		return INVOKE_EXIT_REJECTED;
	case FAAS_STATUS_INTERNAL_ERROR:
		return INVOKE_EXIT_INTERNAL_ERROR;
	}
	return INVOKE_EXIT_INTERNAL_ERROR;
}

/* Print the response payload the way Lambda returns it: the result, or an
 * error object. @return 0, or -1 if it could not be printed */
static int print_response(const faas_activation *act)
{
	cJSON *payload = NULL;
	const cJSON *body;
	char *text;

	if (faas_activation_status(act) == FAAS_STATUS_SUCCESS) {
		body = faas_activation_result(act);
	} else {
		const char *type = faas_activation_error_type(act);
		const char *msg = faas_activation_error_message(act);
		const char *status = faas_status_name(faas_activation_status(act));

		payload = cJSON_CreateObject();
		if (payload == NULL ||
		    cJSON_AddStringToObject(payload, "errorType", type ? type : status) == NULL ||
		    cJSON_AddStringToObject(payload, "errorMessage", msg ? msg : status) == NULL) {
			cJSON_Delete(payload);
			return -1;
		}
		body = payload;
	}
	/* A successful activation always has a result (a JSON null at least),
	 * but print "null" rather than nothing should that ever change. */
	text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(payload);
	if (body != NULL && text == NULL)
		return -1;
	printf("%s\n", text != NULL ? text : "null");
	cJSON_free(text);
	return fflush(stdout) == 0 ? 0 : -1;
}

static int run(faas_runtime *rt, const invoke_args *a, const cJSON *event)
{
	faas_fn_options fo = FAAS_FN_OPTIONS_INIT;
	faas_activation *act = NULL;
	int rc, code;

	fo.library = a->library;
	fo.symbol = a->symbol;
	fo.timeout_ms = a->timeout_ms;
	fo.memory_mb = a->memory_mb;
	fo.isolation = a->isolation;
	rc = faas_fn_register(NULL, rt, a->name, &fo);
	if (rc != 0) {
		fprintf(stderr, "faas-invoke: cannot register %s from %s: %s: %s\n", a->symbol,
		        a->library, faas_err_name(rc), faas_runtime_last_error(rt));
		return INVOKE_EXIT_REGISTER_FAILED;
	}

	rc = faas_invoke_sync(&act, rt, a->name, event);
	if (rc != 0) {
		fprintf(stderr, "faas-invoke: invoke failed: %s: %s\n", faas_err_name(rc),
		        faas_runtime_last_error(rt));
		return INVOKE_EXIT_INTERNAL_ERROR;
	}
	code = exit_for_status(faas_activation_status(act));
	if (print_response(act) != 0) {
		fprintf(stderr, "faas-invoke: cannot print the response\n");
		code = INVOKE_EXIT_INTERNAL_ERROR;
	}
	faas_activation_free(act);
	return code;
}

int main(int argc, char **argv)
{
	invoke_args args = {NULL, NULL, NULL, NULL, 0, 0, FAAS_ISOLATION_THREAD};
	faas_runtime_options ro = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt = NULL;
	cJSON *event = NULL;
	int rc, code;

	rc = parse_args(&args, argc, argv);
	if (rc == PARSE_HELP)
		return INVOKE_EXIT_OK;
	if (rc != 0)
		return rc;
	code = load_event(&event, args.event_path);
	if (code != INVOKE_EXIT_OK)
		return code;

	/* Our own loop: this program has nothing else to wait for. */
	ro.log_sink = faas_log_sink_stderr();
	rc = faas_runtime_new(&rt, &ro);
	if (rc != 0) {
		fprintf(stderr, "faas-invoke: cannot create the runtime: %s: %s\n",
		        faas_err_name(rc), faas_runtime_last_error(NULL));
		cJSON_Delete(event);
		return INVOKE_EXIT_INTERNAL_ERROR;
	}
	code = run(rt, &args, event);
	faas_runtime_free(rt);
	cJSON_Delete(event);
	return code;
}
