/* The management API over real TCP on 127.0.0.1: Lambda's Invoke API (types,
 * errors, log tail, ARNs, SDK-shaped requests) and the /_faas/ routes
 * (activations, health, metrics, access control). The client is a plain
 * blocking socket on its own thread while the test thread runs the loop. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(http_api, .timeout = 60);

/* Lambda's log tail is at most 4 KB. */
#define LOG_TAIL_MAX 4096u
#define CLIENT_WAIT_MS 10000u

static uv_loop_t loop;
static faas_runtime *rt;
static faas_trigger *trig;
static uint16_t port;

static atomic_int gate_open;
static atomic_int gate_entered;
static atomic_int gate_cancelled;

/* ---- handlers ---- */

static int echo(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	faas_log(ctx, "echo saw an event");
	*result = event ? cJSON_Duplicate(event, true) : NULL;
	return 0;
}

static int boom(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	(void)result;
	faas_log(ctx, "about to fail");
	return faas_ctx_error(ctx, "BadThing", "it broke");
}

static int chatty(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	for (int i = 0; i < 300; i++)
		faas_log(ctx, "line %03d of a chatty handler, padded to be long enough", i);
	*result = cJSON_CreateString("done");
	return 0;
}

static int gate(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	atomic_fetch_add(&gate_entered, 1);
	for (int i = 0; i < 10000 && !atomic_load(&gate_open); i++) {
		if (faas_ctx_cancelled(ctx)) {
			atomic_fetch_add(&gate_cancelled, 1);
			return faas_ctx_error(ctx, "Cancelled", "cancelled at the gate");
		}
		th_sleep_ms(1);
	}
	*result = cJSON_CreateString("through");
	return 0;
}

/* ---- runtime + listener ---- */

static void start(const faas_http_options *ho)
{
	faas_runtime_options o = th_ropts();
	faas_http_options h = FAAS_HTTP_OPTIONS_INIT;
	faas_fn_options fo;
	int rc;

	atomic_store(&gate_open, 0);
	atomic_store(&gate_entered, 0);
	atomic_store(&gate_cancelled, 0);
	o.threads = 4;
	th_loop_init(&loop);
	rt = th_rt_new(&loop, &o);

	th_register_static(rt, "echo", echo);
	fo = th_fopts_static(echo);
	fo.isolation = FAAS_ISOLATION_INLINE;
	th_register(rt, "echo-inline", &fo);
	fo = th_fopts_static(echo);
	fo.fn_version = "7";
	th_register(rt, "echo7", &fo);
	th_register_static(rt, "boom", boom);
	th_register_static(rt, "chatty", chatty);
	fo = th_fopts_static(gate);
	fo.max_concurrency = 1;
	th_register(rt, "gate", &fo);
	fo = th_fopts_static(echo);
	fo.payload_limit = 16;
	th_register(rt, "small", &fo);

	if (ho)
		h = *ho;
	h.port = 0;
	rc = faas_trigger_http_new(&trig, rt, "api", &h);
	cr_assert_eq(rc, 0, "http trigger: %s (%s)", faas_err_name(rc),
		     faas_runtime_last_error(rt));
	port = faas_trigger_http_port(trig);
	cr_assert_gt(port, 0);
}

static void setup(void)
{
	start(NULL);
}

static void teardown(void)
{
	atomic_store(&gate_open, 1);
	th_rt_free(rt, &loop);
}

/* ---- a blocking client on its own thread ---- */

typedef struct resp {
	int status;
	char *head; /* status line and headers, NUL-terminated */
	char *body; /* NUL-terminated too, for convenience */
	size_t body_len;
} resp;

typedef struct job {
	char *req;
	size_t req_len;
	bool close_early; /* send, then hang up without reading */
	resp r;
	bool ok;
	atomic_int done;
} job;

static int connect_local(void)
{
	struct sockaddr_in sa;
	struct timeval tv = {10, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool parse_resp(char *buf, size_t len, resp *r)
{
	char *end = NULL;
	size_t head_len;

	for (size_t i = 0; i + 3 < len; i++) {
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i;
			break;
		}
	}
	if (!end || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1)
		return false;
	head_len = (size_t)(end - buf);
	r->head = malloc(head_len + 1);
	r->body_len = len - head_len - 4;
	r->body = malloc(r->body_len + 1);
	memcpy(r->head, buf, head_len);
	r->head[head_len] = '\0';
	memcpy(r->body, end + 4, r->body_len);
	r->body[r->body_len] = '\0';
	return true;
}

static void *client_main(void *arg)
{
	job *j = arg;
	size_t cap = 64 * 1024, len = 0, sent = 0;
	char *buf = malloc(cap);
	int fd = connect_local();

	if (fd >= 0) {
		while (sent < j->req_len) {
			ssize_t n = send(fd, j->req + sent, j->req_len - sent, MSG_NOSIGNAL);

			if (n <= 0)
				break;
			sent += (size_t)n;
		}
		if (!j->close_early) {
			/* Connection: close was sent, so the answer ends at EOF. */
			for (;;) {
				ssize_t n;

				if (len == cap)
					buf = realloc(buf, cap *= 2);
				n = recv(fd, buf + len, cap - len, 0);
				if (n <= 0)
					break;
				len += (size_t)n;
			}
			j->ok = parse_resp(buf, len, &j->r);
		} else {
			j->ok = sent == j->req_len;
		}
		close(fd);
	}
	free(buf);
	atomic_store(&j->done, 1);
	return NULL;
}

static bool job_done(void *arg)
{
	return atomic_load(&((job *)arg)->done) != 0;
}

static void run_job(job *j)
{
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, client_main, j), 0);
	cr_assert(th_wait_for(rt, job_done, j, CLIENT_WAIT_MS), "the client did not finish");
	pthread_join(th, NULL);
}

static char *build_req(const char *method, const char *target, const char *headers,
		       const char *body, size_t body_len, size_t *len)
{
	size_t cap = strlen(method) + strlen(target) + (headers ? strlen(headers) : 0) +
		     body_len + 256;
	char *req = malloc(cap);
	int n = snprintf(req, cap,
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%sContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 method, target, (unsigned int)port, headers ? headers : "", body_len);

	memcpy(req + n, body, body_len);
	*len = (size_t)n + body_len;
	return req;
}

/* Send one request and wait for its answer, running the loop meanwhile. */
static resp http_raw(const char *method, const char *target, const char *headers,
		     const char *body, size_t body_len)
{
	job j;

	memset(&j, 0, sizeof(j));
	j.req = build_req(method, target, headers, body ? body : "", body ? body_len : 0,
			  &j.req_len);
	run_job(&j);
	free(j.req);
	cr_assert(j.ok, "no valid HTTP answer to %s %s", method, target);
	return j.r;
}

static resp http(const char *method, const char *target, const char *headers, const char *body)
{
	return http_raw(method, target, headers, body, body ? strlen(body) : 0);
}

static void resp_free(resp *r)
{
	free(r->head);
	free(r->body);
	r->head = r->body = NULL;
}

/* A header's value (case-insensitive name) into out; false if absent. */
static bool hget(const resp *r, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;

		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1, *e = strstr(v, "\r\n");
			size_t vlen;

			while (*v == ' ' || *v == '\t')
				v++;
			vlen = e ? (size_t)(e - v) : strlen(v);
			while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= size)
				return false;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
	}
	return false;
}

static void expect_header(const resp *r, const char *name, const char *value)
{
	char got[512];

	cr_assert(hget(r, name, got, sizeof(got)), "no %s header in:\n%s", name, r->head);
	cr_expect_str_eq(got, value, "%s", name);
}

static cJSON *body_json(const resp *r)
{
	cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);

	cr_assert_not_null(j, "body is not JSON: %s", r->body);
	return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An AWS-shaped error: the status, X-Amzn-ErrorType and {"Type", "message"}. */
static void expect_aws_error(resp *r, int status, const char *type)
{
	char id[64];
	cJSON *j;

	cr_assert_eq(r->status, status, "status %d, body %s", r->status, r->body);
	expect_header(r, "X-Amzn-ErrorType", type);
	expect_header(r, "Content-Type", "application/json");
	cr_assert(hget(r, "X-Amzn-RequestId", id, sizeof(id)));
	cr_expect(th_is_hex_id(id));
	j = body_json(r);
	cr_expect_str_eq(jstr(j, "Type"), status >= 500 ? "Service" : "User");
	cr_expect_not_null(jstr(j, "message"));
	cJSON_Delete(j);
	resp_free(r);
}

static int base64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode standard base64 with padding; asserts it is well formed. */
static char *b64_decode(const char *in, size_t *out_len)
{
	size_t len = strlen(in), n = 0;
	char *out = malloc(len / 4 * 3 + 1);
	unsigned int acc = 0;
	int bits = 0;

	cr_assert_eq(len % 4, 0, "base64 length %zu", len);
	for (size_t i = 0; i < len; i++) {
		int v;

		if (in[i] == '=') {
			cr_assert(i >= len - 2);
			break;
		}
		v = base64_val(in[i]);
		cr_assert_geq(v, 0, "bad base64 character %c", in[i]);
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xffu);
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

#define INVOKE(name) "/2015-03-31/functions/" name "/invocations"

/* ---- RequestResponse ---- */

Test(http_api, request_response_success, .init = setup, .fini = teardown)
{
	resp r = http("POST", INVOKE("echo"), NULL, "{\"a\":1,\"b\":[true,null]}");
	char id[64];
	faas_activation *act;

	cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
	cr_expect_str_eq(r.body, "{\"a\":1,\"b\":[true,null]}");
	expect_header(&r, "Content-Type", "application/json");
	expect_header(&r, "X-Amz-Executed-Version", "$LATEST");
	cr_expect_not(hget(&r, "X-Amz-Function-Error", id, sizeof(id)));
	cr_expect_not(hget(&r, "X-Amz-Log-Result", id, sizeof(id)), "no tail unless asked");
	cr_assert(hget(&r, "X-Amzn-RequestId", id, sizeof(id)));
	cr_assert(th_is_hex_id(id));
	/* The request id is the activation's id. */
	cr_assert_eq(faas_activation_lookup(&act, rt, id), 0);
	cr_expect_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_expect_str_eq(faas_activation_function(act), "echo");
	faas_activation_free(act);
	resp_free(&r);

	/* Explicit RequestResponse, an inline function, a non-default version. */
	r = http("POST", INVOKE("echo-inline"), "X-Amz-Invocation-Type: RequestResponse\r\n",
		 "\"hi\"");
	cr_assert_eq(r.status, 200);
	cr_expect_str_eq(r.body, "\"hi\"");
	resp_free(&r);
	r = http("POST", INVOKE("echo7"), NULL, "[1,2]");
	cr_assert_eq(r.status, 200);
	expect_header(&r, "X-Amz-Executed-Version", "7");
	resp_free(&r);
}

Test(http_api, empty_body_is_a_null_event, .init = setup, .fini = teardown)
{
	resp r = http("POST", INVOKE("echo"), NULL, NULL);

	cr_assert_eq(r.status, 200);
	cr_expect_str_eq(r.body, "null");
	resp_free(&r);
}

Test(http_api, function_error_is_200_unhandled, .init = setup, .fini = teardown)
{
	resp r = http("POST", INVOKE("boom"), NULL, "{}");
	char id[64];
	faas_activation *act;
	cJSON *j;

	cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
	expect_header(&r, "X-Amz-Function-Error", "Unhandled");
	expect_header(&r, "Content-Type", "application/json");
	expect_header(&r, "X-Amz-Executed-Version", "$LATEST");
	j = body_json(&r);
	cr_expect_str_eq(jstr(j, "errorMessage"), "it broke");
	cr_expect_str_eq(jstr(j, "errorType"), "BadThing");
	cJSON_Delete(j);
	cr_assert(hget(&r, "X-Amzn-RequestId", id, sizeof(id)));
	cr_assert_eq(faas_activation_lookup(&act, rt, id), 0);
	cr_expect_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	faas_activation_free(act);
	resp_free(&r);
}

/* ---- invocation types ---- */

typedef struct lookup_arg {
	const char *id;
} lookup_arg;

static bool activation_kept(void *arg)
{
	faas_activation *act = NULL;
	bool ok = faas_activation_lookup(&act, rt, ((lookup_arg *)arg)->id) == 0;

	faas_activation_free(act);
	return ok;
}

Test(http_api, event_is_202_and_recorded, .init = setup, .fini = teardown)
{
	resp r = http("POST", INVOKE("echo"), "X-Amz-Invocation-Type: Event\r\n", "{\"x\":1}");
	char id[64], path[128];
	lookup_arg la = {id};
	const cJSON *arr, *first;
	cJSON *j;

	cr_assert_eq(r.status, 202, "%d %s", r.status, r.body);
	cr_expect_eq(r.body_len, 0);
	cr_assert(hget(&r, "X-Amzn-RequestId", id, sizeof(id)));
	cr_assert(th_is_hex_id(id));
	resp_free(&r);
	cr_assert(th_wait_for(rt, activation_kept, &la, TH_WAIT_MS));

	r = http("GET", "/_faas/activations?function=echo", NULL, NULL);
	cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
	j = body_json(&r);
	arr = cJSON_GetObjectItemCaseSensitive(j, "activations");
	cr_assert(cJSON_IsArray(arr));
	cr_assert_eq(cJSON_GetArraySize(arr), 1);
	first = cJSON_GetArrayItem(arr, 0);
	cr_expect_str_eq(jstr(first, "id"), id);
	cr_expect_str_eq(jstr(first, "status"), "success");
	cJSON_Delete(j);
	resp_free(&r);

	/* Its result was kept though nobody waited for it. */
	snprintf(path, sizeof(path), "/_faas/activations/%s", id);
	r = http("GET", path, NULL, NULL);
	cr_assert_eq(r.status, 200);
	j = body_json(&r);
	cr_expect(th_json_eq(cJSON_GetObjectItemCaseSensitive(j, "result"), "{\"x\":1}"));
	cJSON_Delete(j);
	resp_free(&r);
}

Test(http_api, dry_run_is_204_without_activation, .init = setup, .fini = teardown)
{
	const faas_activation *acts[4];
	resp r = http("POST", INVOKE("echo"), "X-Amz-Invocation-Type: DryRun\r\n", "{}");
	char id[64];

	cr_assert_eq(r.status, 204, "%d %s", r.status, r.body);
	cr_expect_eq(r.body_len, 0);
	cr_expect(hget(&r, "X-Amzn-RequestId", id, sizeof(id)));
	resp_free(&r);
	th_spin(rt, 20);
	cr_expect_eq(faas_activation_list(acts, 4, rt, NULL), 0, "DryRun invoked the function");

	r = http("POST", INVOKE("nope"), "X-Amz-Invocation-Type: DryRun\r\n", "{}");
	expect_aws_error(&r, 404, "ResourceNotFoundException");
}

Test(http_api, bad_invocation_or_log_type_is_400, .init = setup, .fini = teardown)
{
	const faas_activation *acts[4];
	int n;
	resp r = http("POST", INVOKE("echo"), "X-Amz-Invocation-Type: Sometimes\r\n", "{}");

	expect_aws_error(&r, 400, "InvalidParameterValueException");
	r = http("POST", INVOKE("echo"), "X-Amz-Invocation-Type: event\r\n", "{}");
	expect_aws_error(&r, 400, "InvalidParameterValueException");
	r = http("POST", INVOKE("echo"), "X-Amz-Log-Type: Everything\r\n", "{}");
	expect_aws_error(&r, 400, "InvalidParameterValueException");
	r = http("POST", INVOKE("echo"), "X-Amz-Log-Type: None\r\n", "{}");
	cr_expect_eq(r.status, 200);
	resp_free(&r);
	n = faas_activation_list(acts, 4, rt, NULL);
	cr_expect_eq(n, 1);
	faas_activation_list_free(acts, n > 0 ? (size_t)n : 0);
}

/* ---- log tail ---- */

Test(http_api, log_tail_has_start_lines_end_report, .init = setup, .fini = teardown)
{
	resp r = http("POST", INVOKE("echo"), "X-Amz-Log-Type: Tail\r\n", "{}");
	char id[64], tail[8192], expect[512];
	size_t len;
	char *log;

	cr_assert_eq(r.status, 200);
	cr_assert(hget(&r, "X-Amzn-RequestId", id, sizeof(id)));
	cr_assert(hget(&r, "X-Amz-Log-Result", tail, sizeof(tail)));
	log = b64_decode(tail, &len);
	snprintf(expect, sizeof(expect), "START RequestId: %s Version: $LATEST\necho saw an event\n"
					 "END RequestId: %s\nREPORT RequestId: %s\tDuration: ",
		 id, id, id);
	cr_expect_eq(strncmp(log, expect, strlen(expect)), 0, "log tail:\n%s", log);
	cr_expect(strstr(log, "\tBilled Duration: ") && strstr(log, "\tMemory Size: 128 MB\t"));
	cr_expect_eq(log[len - 1], '\n');
	free(log);
	resp_free(&r);

	/* A function error carries its tail too. */
	r = http("POST", INVOKE("boom"), "X-Amz-Log-Type: Tail\r\n", "{}");
	cr_assert_eq(r.status, 200);
	cr_assert(hget(&r, "X-Amz-Log-Result", tail, sizeof(tail)));
	log = b64_decode(tail, &len);
	cr_expect(strstr(log, "about to fail\n"));
	free(log);
	resp_free(&r);

	/* Event ignores LogType, as Lambda does. */
	r = http("POST", INVOKE("echo"), "X-Amz-Invocation-Type: Event\r\nX-Amz-Log-Type: Tail\r\n",
		 "{}");
	cr_assert_eq(r.status, 202);
	cr_expect_not(hget(&r, "X-Amz-Log-Result", tail, sizeof(tail)));
	resp_free(&r);
}

Test(http_api, log_tail_is_the_last_4kb, .init = setup, .fini = teardown)
{
	resp r = http("POST", INVOKE("chatty"), "X-Amz-Log-Type: Tail\r\n", "{}");
	char id[64], tail[8192], end[256];
	size_t len;
	char *log;

	cr_assert_eq(r.status, 200);
	cr_assert(hget(&r, "X-Amzn-RequestId", id, sizeof(id)));
	cr_assert(hget(&r, "X-Amz-Log-Result", tail, sizeof(tail)));
	log = b64_decode(tail, &len);
	cr_expect_leq(len, LOG_TAIL_MAX);
	cr_expect_gt(len, LOG_TAIL_MAX - 100, "the tail is not the last 4 KB: %zu bytes", len);
	cr_expect_null(strstr(log, "START RequestId"), "the start was cut off");
	cr_expect(strstr(log, "line 299 of a chatty handler"));
	snprintf(end, sizeof(end), "\nEND RequestId: %s\nREPORT RequestId: %s\t", id, id);
	cr_expect(strstr(log, end), "tail:\n%s", log);
	free(log);
	resp_free(&r);
}

/* ---- function names ---- */

Test(http_api, arn_and_qualified_names, .init = setup, .fini = teardown)
{
	static const char *const ok_targets[] = {
		INVOKE("arn:aws:lambda:us-east-1:123456789012:function:echo"),
		/* What SDKs send: the label percent-encoded. */
		INVOKE("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aecho"),
		INVOKE("arn:aws:lambda:eu-west-1:123456789012:function:echo:$LATEST"),
		INVOKE("123456789012:function:echo"),
		INVOKE("123456789012:function:echo:%24LATEST"),
		INVOKE("echo:$LATEST"),
		INVOKE("echo") "?Qualifier=%24LATEST",
		INVOKE("echo") "?Qualifier=$LATEST",
		INVOKE("echo7:7"),
		INVOKE("echo7") "?Qualifier=7",
		INVOKE("echo:$LATEST") "?Qualifier=$LATEST",
	};
	resp r;

	for (size_t i = 0; i < sizeof(ok_targets) / sizeof(ok_targets[0]); i++) {
		r = http("POST", ok_targets[i], NULL, "{\"n\":1}");
		cr_expect_eq(r.status, 200, "%s: %d %s", ok_targets[i], r.status, r.body);
		cr_expect_str_eq(r.body, "{\"n\":1}");
		resp_free(&r);
	}
	/* A version that does not exist, a name that does not, a mismatch. */
	r = http("POST", INVOKE("echo:v9"), NULL, "{}");
	expect_aws_error(&r, 404, "ResourceNotFoundException");
	r = http("POST", INVOKE("arn:aws:lambda:us-east-1:123456789012:function:nope"), NULL, "{}");
	expect_aws_error(&r, 404, "ResourceNotFoundException");
	r = http("POST", INVOKE("echo:$LATEST") "?Qualifier=7", NULL, "{}");
	expect_aws_error(&r, 400, "InvalidParameterValueException");
	/* Not a name, not an ARN. */
	r = http("POST", INVOKE("arn:aws:s3:::bucket"), NULL, "{}");
	expect_aws_error(&r, 400, "InvalidParameterValueException");
	r = http("POST", INVOKE("a:b:c:d:e:f:g:h:i"), NULL, "{}");
	expect_aws_error(&r, 400, "InvalidParameterValueException");
	r = http("POST", INVOKE("echo:bad%20qualifier"), NULL, "{}");
	expect_aws_error(&r, 400, "InvalidParameterValueException");
	r = http("POST", INVOKE("echo") "?Qualifier=%zz", NULL, "{}");
	expect_aws_error(&r, 400, "InvalidParameterValueException");
	r = http("POST", INVOKE(":x"), NULL, "{}");
	expect_aws_error(&r, 400, "InvalidParameterValueException");
}

Test(http_api, unknown_function_is_404, .init = setup, .fini = teardown)
{
	char big[400];
	char target[512];
	resp r = http("POST", INVOKE("nope"), NULL, "{}");
	cJSON *j;

	cr_assert_eq(r.status, 404);
	j = body_json(&r);
	cr_expect(strstr(jstr(j, "message"), "nope"));
	cJSON_Delete(j);
	expect_aws_error(&r, 404, "ResourceNotFoundException");

	/* Longer than any function name can be. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(target, sizeof(target), "/2015-03-31/functions/%s/invocations", big);
	r = http("POST", target, NULL, "{}");
	expect_aws_error(&r, 404, "ResourceNotFoundException");
}

Test(http_api, wrong_method_is_405, .init = setup, .fini = teardown)
{
	resp r = http("GET", INVOKE("echo"), NULL, NULL);

	cr_assert_eq(r.status, 405);
	expect_header(&r, "Allow", "POST");
	expect_aws_error(&r, 405, "MethodNotAllowedException");
	r = http("PUT", INVOKE("echo"), NULL, "{}");
	cr_expect_eq(r.status, 405);
	resp_free(&r);
}

Test(http_api, bad_json_is_400, .init = setup, .fini = teardown)
{
	const faas_activation *acts[4];
	resp r = http("POST", INVOKE("echo"), NULL, "{\"a\":");

	expect_aws_error(&r, 400, "InvalidRequestContentException");
	r = http("POST", INVOKE("echo"), NULL, "not json");
	expect_aws_error(&r, 400, "InvalidRequestContentException");
	r = http("POST", INVOKE("echo"), "X-Amz-Invocation-Type: Event\r\n", "{");
	expect_aws_error(&r, 400, "InvalidRequestContentException");
	cr_expect_eq(faas_activation_list(acts, 4, rt, NULL), 0);
}

#define SMALL_ARN "arn:aws:lambda:us-east-1:123456789012:function:small"

Test(http_api, too_large_is_413, .init = setup, .fini = teardown)
{
	const char *big = "{\"padding\":\"0123456789abcdef\"}";
	const faas_activation *acts[4];
	resp r;

	/* Past the function's payload limit. With the plain name the listener
	 * already refuses the body while reading it (no activation); with an
	 * ARN the admission refuses it and the activation is kept. Either
	 * way a 413. */
	r = http("POST", INVOKE("small"), NULL, big);
	cr_expect_eq(r.status, 413);
	resp_free(&r);
	r = http("POST", INVOKE(SMALL_ARN), NULL, big);
	expect_aws_error(&r, 413, "RequestEntityTooLargeException");
	r = http("POST", INVOKE(SMALL_ARN), "X-Amz-Invocation-Type: Event\r\n", big);
	expect_aws_error(&r, 413, "RequestEntityTooLargeException");
	cr_assert_eq(faas_activation_list(acts, 4, rt, "small"), 2);
	cr_expect_eq(faas_activation_status(acts[0]), FAAS_STATUS_REJECTED);
	cr_expect_eq(faas_activation_status(acts[1]), FAAS_STATUS_REJECTED);
	faas_activation_list_free(acts, 2);
	r = http("POST", INVOKE("small"), NULL, "{}");
	cr_expect_eq(r.status, 200);
	resp_free(&r);
}

Test(http_api, throttled_is_429, .init = setup, .fini = teardown)
{
	resp r = http("POST", INVOKE("gate"), "X-Amz-Invocation-Type: Event\r\n", "{}");
	cJSON *j;

	cr_assert_eq(r.status, 202, "%d %s", r.status, r.body);
	resp_free(&r);
	cr_assert(th_wait(rt, &gate_entered, 1, TH_WAIT_MS));
	r = http("POST", INVOKE("gate"), NULL, "{}");
	cr_assert_eq(r.status, 429, "%d %s", r.status, r.body);
	j = body_json(&r);
	cr_expect_str_eq(jstr(j, "Reason"), "ReservedFunctionConcurrentInvocationLimitExceeded");
	cJSON_Delete(j);
	expect_aws_error(&r, 429, "TooManyRequestsException");
	r = http("POST", INVOKE("gate"), "X-Amz-Invocation-Type: Event\r\n", "{}");
	expect_aws_error(&r, 429, "TooManyRequestsException");
	atomic_store(&gate_open, 1);
}

Test(http_api, disabled_function_is_403, .init = setup, .fini = teardown)
{
	resp r;

	cr_assert_eq(faas_fn_set_enabled(faas_fn_lookup(rt, "echo"), false), 0);
	r = http("POST", INVOKE("echo"), NULL, "{}");
	expect_aws_error(&r, 403, "Function.Disabled");
}

Test(http_api, client_gone_cancels_the_call, .init = setup, .fini = teardown)
{
	job j;

	memset(&j, 0, sizeof(j));
	j.close_early = true;
	j.req = build_req("POST", INVOKE("gate"), NULL, "{}", 2, &j.req_len);
	run_job(&j);
	free(j.req);
	cr_assert(j.ok);
	cr_assert(th_wait(rt, &gate_entered, 1, TH_WAIT_MS));
	cr_expect(th_wait(rt, &gate_cancelled, 1, TH_WAIT_MS),
		  "the handler was not cancelled when its client left");
}

/* The runtime goes while a RequestResponse call waits: the call is cancelled,
 * the client gets an answer or a closed connection, nothing leaks. */
Test(http_api, runtime_freed_with_a_call_waiting, .init = setup)
{
	pthread_t th;
	job j;

	memset(&j, 0, sizeof(j));
	j.req = build_req("POST", INVOKE("gate"), NULL, "{}", 2, &j.req_len);
	cr_assert_eq(pthread_create(&th, NULL, client_main, &j), 0);
	cr_assert(th_wait(rt, &gate_entered, 1, TH_WAIT_MS));
	th_rt_free(rt, &loop);
	pthread_join(th, NULL);
	free(j.req);
	if (j.ok) {
		cr_expect_geq(j.r.status, 500, "%d %s", j.r.status, j.r.body);
		resp_free(&j.r);
	}
}

/* ---- what an AWS SDK sends ---- */

Test(http_api, sdk_shaped_request, .init = setup, .fini = teardown)
{
	/* The headers botocore (aws cli v2) sends for
	 * `aws lambda invoke --function-name <arn> --log-type Tail --payload ...`:
	 * a SigV4 Authorization the service does not check on loopback, a blob
	 * payload with a binary content type, the ARN percent-encoded. */
	static const char headers[] =
		"Accept-Encoding: identity\r\n"
		"X-Amz-Invocation-Type: RequestResponse\r\n"
		"X-Amz-Log-Type: Tail\r\n"
		"Content-Type: binary/octet-stream\r\n"
		"User-Agent: aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.debian.12 "
		"prompt/off command/lambda.invoke\r\n"
		"X-Amz-Date: 20240101T000000Z\r\n"
		"X-Amz-Content-SHA256: 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\r\n"
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/lambda/"
		"aws4_request, SignedHeaders=host;x-amz-date;x-amz-invocation-type;x-amz-log-type, "
		"Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n"
		"amz-sdk-invocation-id: 3f1f2a8e-0000-4000-8000-000000000000\r\n"
		"amz-sdk-request: attempt=1; max=3\r\n";
	resp r = http("POST",
		      "/2015-03-31/functions/"
		      "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aecho/invocations",
		      headers, "{\"key\": \"value\"}");
	char tail[8192];

	cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
	cr_expect_str_eq(r.body, "{\"key\":\"value\"}");
	expect_header(&r, "X-Amz-Executed-Version", "$LATEST");
	cr_expect(hget(&r, "X-Amz-Log-Result", tail, sizeof(tail)));
	resp_free(&r);

	/* The JavaScript SDK v3 and the Go SDK send the name plain and
	 * application/octet-stream or no type at all. */
	r = http("POST", INVOKE("echo") "?Qualifier=%24LATEST",
		 "Content-Type: application/octet-stream\r\n", "[1]");
	cr_expect_eq(r.status, 200);
	cr_expect_str_eq(r.body, "[1]");
	resp_free(&r);
}

/* ---- /_faas/activations ---- */

Test(http_api, activation_by_id, .init = setup, .fini = teardown)
{
	resp r = http("POST", INVOKE("boom"), NULL, "{\"x\":1}");
	char id[64], path[128];
	const cJSON *err, *usage;
	cJSON *j;

	cr_assert(hget(&r, "X-Amzn-RequestId", id, sizeof(id)));
	resp_free(&r);
	snprintf(path, sizeof(path), "/_faas/activations/%s", id);
	r = http("GET", path, NULL, NULL);
	cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
	expect_header(&r, "Content-Type", "application/json");
	j = body_json(&r);
	cr_expect_str_eq(jstr(j, "id"), id);
	cr_expect_str_eq(jstr(j, "function"), "boom");
	cr_expect_str_eq(jstr(j, "status"), "application_error");
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "started")));
	err = cJSON_GetObjectItemCaseSensitive(j, "error");
	cr_expect_str_eq(jstr(err, "type"), "BadThing");
	cr_expect_str_eq(jstr(err, "message"), "it broke");
	cr_expect_str_eq(jstr(j, "logs"), "about to fail\n");
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(j, "result"));
	cr_expect(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "startMs")));
	cr_expect(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "endMs")));
	cr_expect_geq(cJSON_GetObjectItemCaseSensitive(j, "endMs")->valuedouble,
		      cJSON_GetObjectItemCaseSensitive(j, "startMs")->valuedouble);
	cr_expect_eq(strlen(jstr(j, "start")), strlen("2024-01-01T00:00:00.000Z"));
	cr_expect_eq(jstr(j, "end")[23], 'Z');
	usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
	cr_assert(cJSON_IsObject(usage));
	cr_expect_eq(cJSON_GetObjectItemCaseSensitive(usage, "memorySizeMb")->valuedouble, 128);
	cr_expect_geq(cJSON_GetObjectItemCaseSensitive(usage, "billedDurationMs")->valuedouble, 1);
	cr_expect_geq(cJSON_GetObjectItemCaseSensitive(usage, "maxMemoryUsedMb")->valuedouble, 1);
	cr_expect_eq(cJSON_GetObjectItemCaseSensitive(usage, "bytesIn")->valuedouble, 7);
	cr_expect(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(usage, "cold")));
	static const char *const fields[] = {"durationMs", "initDurationMs", "cpuMs", "bytesOut"};
	for (size_t i = 0; i < 4; i++)
		cr_expect(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(usage, fields[i])), "%s",
			  fields[i]);
	cJSON_Delete(j);
	resp_free(&r);

	r = http("GET", "/_faas/activations/0123456789abcdef0123456789abcdef", NULL, NULL);
	cr_expect_eq(r.status, 404);
	j = body_json(&r);
	cr_expect_not_null(jstr(j, "message"));
	cJSON_Delete(j);
	resp_free(&r);
	r = http("GET", "/_faas/activations/not-an-id", NULL, NULL);
	cr_expect_eq(r.status, 404);
	resp_free(&r);
}

static int count_listed(const char *target, const char *function_expected, char ids[][64])
{
	resp r = http("GET", target, NULL, NULL);
	const cJSON *arr, *item;
	cJSON *j;
	int n = 0;

	cr_assert_eq(r.status, 200, "%s: %d %s", target, r.status, r.body);
	j = body_json(&r);
	arr = cJSON_GetObjectItemCaseSensitive(j, "activations");
	cr_assert(cJSON_IsArray(arr));
	cJSON_ArrayForEach(item, arr)
	{
		if (function_expected)
			cr_expect_str_eq(jstr(item, "function"), function_expected);
		if (ids)
			snprintf(ids[n], 64, "%s", jstr(item, "id"));
		n++;
	}
	cJSON_Delete(j);
	resp_free(&r);
	return n;
}

Test(http_api, activation_listing, .init = setup, .fini = teardown)
{
	char made[3][64], listed[8][64];
	resp r;

	for (int i = 0; i < 3; i++) {
		r = http("POST", INVOKE("echo"), NULL, "{}");
		cr_assert(hget(&r, "X-Amzn-RequestId", made[i], sizeof(made[i])));
		resp_free(&r);
		r = http("POST", INVOKE("boom"), NULL, "{}");
		resp_free(&r);
	}
	cr_expect_eq(count_listed("/_faas/activations", NULL, NULL), 6);
	cr_assert_eq(count_listed("/_faas/activations?function=echo", "echo", listed), 3);
	/* Newest first. */
	cr_expect_str_eq(listed[0], made[2]);
	cr_expect_str_eq(listed[2], made[0]);
	cr_expect_eq(count_listed("/_faas/activations?function=echo&limit=2", "echo", listed), 2);
	cr_expect_str_eq(listed[0], made[2]);
	cr_expect_eq(count_listed("/_faas/activations?limit=1000", NULL, NULL), 6);
	cr_expect_eq(count_listed("/_faas/activations?other=1&limit=1", NULL, NULL), 1);
	cr_expect_eq(count_listed("/_faas/activations?function=nope", NULL, NULL), 0);

	static const char *const bad[] = {
		"/_faas/activations?limit=0",     "/_faas/activations?limit=1001",
		"/_faas/activations?limit=abc",   "/_faas/activations?limit=-1",
		"/_faas/activations?limit=",      "/_faas/activations?limit=5x",
		"/_faas/activations?limit=+5",    "/_faas/activations?limit=99999999999999999999",
		"/_faas/activations?function=",   "/_faas/activations?function=%zz",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *j;

		r = http("GET", bad[i], NULL, NULL);
		cr_expect_eq(r.status, 400, "%s: %d", bad[i], r.status);
		j = body_json(&r);
		cr_expect_not_null(jstr(j, "message"));
		cJSON_Delete(j);
		resp_free(&r);
	}
}

Test(http_api, listing_default_limit_is_50, .init = setup, .fini = teardown)
{
	for (int i = 0; i < 55; i++) {
		faas_activation *act = th_call(rt, "echo-inline", "{}");

		faas_activation_free(act);
	}
	cr_expect_eq(count_listed("/_faas/activations", NULL, NULL), 50);
	cr_expect_eq(count_listed("/_faas/activations?limit=55", NULL, NULL), 55);
}

/* ---- health ---- */

Test(http_api, health_ok_then_stopping, .init = setup, .fini = teardown)
{
	resp r = http("GET", "/_faas/health", NULL, NULL);
	cJSON *j;

	cr_assert_eq(r.status, 200);
	expect_header(&r, "Content-Type", "application/json");
	j = body_json(&r);
	cr_expect_str_eq(jstr(j, "status"), "ok");
	cJSON_Delete(j);
	resp_free(&r);

	/* A call in flight keeps the runtime draining while we ask. */
	r = http("POST", INVOKE("gate"), "X-Amz-Invocation-Type: Event\r\n", "{}");
	cr_assert_eq(r.status, 202);
	resp_free(&r);
	cr_assert(th_wait(rt, &gate_entered, 1, TH_WAIT_MS));
	cr_assert_eq(faas_runtime_stop(rt), 0);
	r = http("GET", "/_faas/health", NULL, NULL);
	cr_assert_eq(r.status, 503, "%d %s", r.status, r.body);
	j = body_json(&r);
	/* The listener itself may answer 503 to everything once the runtime
	 * stops; when the request reaches the API, it says why. */
	if (jstr(j, "status"))
		cr_expect_str_eq(jstr(j, "status"), "stopping");
	cJSON_Delete(j);
	resp_free(&r);
	r = http("POST", INVOKE("echo"), NULL, "{}");
	cr_expect_eq(r.status, 503);
	resp_free(&r);
	atomic_store(&gate_open, 1);
}

/* ---- metrics ---- */

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* The value of a sample line starting with prefix, or -1. */
static double sample(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; (p = strstr(p, prefix)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

Test(http_api, metrics_exposition, .init = setup, .fini = teardown)
{
	static const char *const les[] = {"0.001", "0.005", "0.01", "0.025", "0.05",
					  "0.1",   "0.25",  "0.5",  "1",     "2.5",
					  "5",     "10",    "30",   "+Inf"};
	char ct[128], line[256];
	double prev = 0;
	resp r;

	for (int i = 0; i < 3; i++) {
		r = http("POST", INVOKE("echo"), NULL, "{}");
		resp_free(&r);
	}
	r = http("POST", INVOKE("boom"), NULL, "{}");
	resp_free(&r);
	r = http("POST", INVOKE("gate"), "X-Amz-Invocation-Type: Event\r\n", "{}");
	resp_free(&r);
	cr_assert(th_wait(rt, &gate_entered, 1, TH_WAIT_MS));
	r = http("POST", INVOKE("gate"), NULL, "{}");
	cr_assert_eq(r.status, 429);
	resp_free(&r);

	r = http("GET", "/_faas/metrics", NULL, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert(hget(&r, "Content-Type", ct, sizeof(ct)));
	cr_expect_eq(strncmp(ct, "text/plain; version=0.0.4", 25), 0, "%s", ct);
	static const char *const families[][2] = {
		{"faas_invocations_total", "counter"},
		{"faas_errors_total", "counter"},
		{"faas_throttles_total", "counter"},
		{"faas_cold_starts_total", "counter"},
		{"faas_concurrent_executions", "gauge"},
		{"faas_duration_seconds", "histogram"},
		{"faas_runtime_concurrent_executions", "gauge"},
	};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(line, sizeof(line), "# TYPE %s %s", families[i][0], families[i][1]);
		cr_expect(has_line(r.body, line), "missing %s", line);
		snprintf(line, sizeof(line), "# HELP %s ", families[i][0]);
		cr_expect(strstr(r.body, line), "missing %s", line);
	}
	cr_expect(has_line(r.body, "faas_invocations_total{function=\"echo\",status=\"success\"} 3"),
		  "%s", r.body);
	cr_expect(has_line(r.body,
			   "faas_invocations_total{function=\"boom\",status=\"application_error\"} 1"));
	cr_expect(has_line(r.body, "faas_invocations_total{function=\"gate\",status=\"throttled\"} 1"));
	cr_expect(has_line(r.body, "faas_errors_total{function=\"boom\"} 1"));
	cr_expect(has_line(r.body, "faas_errors_total{function=\"echo\"} 0"));
	cr_expect(has_line(r.body, "faas_throttles_total{function=\"gate\"} 1"));
	cr_expect(has_line(r.body, "faas_cold_starts_total{function=\"echo\"} 1"));
	cr_expect(has_line(r.body, "faas_concurrent_executions{function=\"gate\"} 1"));
	cr_expect(has_line(r.body, "faas_concurrent_executions{function=\"echo\"} 0"));
	cr_expect(has_line(r.body, "faas_runtime_concurrent_executions 1"));

	/* Buckets are cumulative and end at +Inf == _count. */
	for (size_t i = 0; i < sizeof(les) / sizeof(les[0]); i++) {
		double v;

		snprintf(line, sizeof(line), "faas_duration_seconds_bucket{function=\"echo\",le=\"%s\"}",
			 les[i]);
		v = sample(r.body, line);
		cr_assert_geq(v, prev, "%s = %g after %g", line, v, prev);
		prev = v;
	}
	cr_expect_eq(prev, 3);
	cr_expect_eq(sample(r.body, "faas_duration_seconds_count{function=\"echo\"}"), 3);
	cr_expect_geq(sample(r.body, "faas_duration_seconds_sum{function=\"echo\"}"), 0);
	/* Every sample line has a value; every family's lines are together. */
	cr_expect_eq(r.body[r.body_len - 1], '\n');
	resp_free(&r);
	atomic_store(&gate_open, 1);
}

/* ---- routing and access ---- */

Test(http_api, wrong_method_and_unknown_paths, .init = setup, .fini = teardown)
{
	resp r = http("POST", "/_faas/health", NULL, "{}");

	cr_expect_eq(r.status, 405);
	expect_header(&r, "Allow", "GET");
	resp_free(&r);
	r = http("DELETE", "/_faas/activations", NULL, NULL);
	cr_expect_eq(r.status, 405);
	resp_free(&r);
	/* Not ours: the trigger's own routes (none here) answer 404. */
	r = http("GET", "/_faas/nothing", NULL, NULL);
	cr_expect_eq(r.status, 404);
	resp_free(&r);
	r = http("POST", "/2015-03-31/functions/echo", NULL, "{}");
	cr_expect_eq(r.status, 404);
	resp_free(&r);
	r = http("POST", "/2015-03-31/functions/echo/invocations/more", NULL, "{}");
	cr_expect_eq(r.status, 404);
	resp_free(&r);
	r = http("POST", "/2015-03-31/functions//invocations", NULL, "{}");
	cr_expect_eq(r.status, 404);
	resp_free(&r);
}

static void setup_token(void)
{
	faas_http_options h = FAAS_HTTP_OPTIONS_INIT;

	h.bearer_token = "s3cret-token";
	start(&h);
}

Test(http_api, bearer_token, .init = setup_token, .fini = teardown)
{
	static const char *const wrong[] = {
		NULL,
		"Authorization: Bearer wrong\r\n",
		"Authorization: Bearer s3cret-toke\r\n",
		"Authorization: Bearer s3cret-token-and-more\r\n",
		"Authorization: Basic czNjcmV0LXRva2Vu\r\n",
		"Authorization: Bearer\r\n",
		"Authorization: Bearers3cret-token\r\n",
	};
	char v[64];
	resp r;

	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		r = http("GET", "/_faas/health", wrong[i], NULL);
		cr_expect_eq(r.status, 401, "%s: %d", wrong[i] ? wrong[i] : "(none)", r.status);
		cr_expect(hget(&r, "WWW-Authenticate", v, sizeof(v)));
		cr_expect_eq(strncmp(v, "Bearer", 6), 0);
		resp_free(&r);
	}
	r = http("GET", "/_faas/health", "Authorization: Bearer s3cret-token\r\n", NULL);
	cr_expect_eq(r.status, 200);
	resp_free(&r);
	r = http("GET", "/_faas/metrics", "authorization:   bearer   s3cret-token  \r\n", NULL);
	cr_expect_eq(r.status, 200);
	resp_free(&r);

	r = http("POST", INVOKE("echo"), NULL, "{}");
	cr_expect(hget(&r, "WWW-Authenticate", v, sizeof(v)));
	expect_aws_error(&r, 401, "UnrecognizedClientException");
	r = http("POST", INVOKE("echo"), "Authorization: Bearer s3cret-token\r\n", "{}");
	cr_expect_eq(r.status, 200);
	cr_expect_str_eq(r.body, "{}");
	resp_free(&r);
	/* Paths that are not management routes need no token. */
	r = http("GET", "/elsewhere", NULL, NULL);
	cr_expect_eq(r.status, 404);
	resp_free(&r);
}

static void setup_off(void)
{
	faas_http_options h = FAAS_HTTP_OPTIONS_INIT;

	h.management_api = false;
	start(&h);
}

Test(http_api, management_api_off_falls_through, .init = setup_off, .fini = teardown)
{
	static const char *const paths[] = {"/_faas/health", "/_faas/metrics",
					    "/_faas/activations"};
	const faas_activation *acts[2];
	resp r;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = http("GET", paths[i], NULL, NULL);
		cr_expect_eq(r.status, 404, "%s: %d", paths[i], r.status);
		resp_free(&r);
	}
	r = http("POST", INVOKE("echo"), NULL, "{}");
	cr_expect_eq(r.status, 404);
	resp_free(&r);
	cr_expect_eq(faas_activation_list(acts, 2, rt, NULL), 0);
}
