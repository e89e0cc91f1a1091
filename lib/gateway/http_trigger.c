/* The HTTP trigger kind: its options, creating it on a listener, its rules'
 * routes (routes.c), and each request's way through it: the management API
 * first when it is on (manage.c), then the matching rule, the proxy event
 * (proxy_event.c: a cJSON tree for an inline function, read in place, JSON
 * text for the other isolations), the firing, and the answer
 * (proxy_response.c). */
#include <stdlib.h>
#include <string.h>

#include "http_server.h"
#include "manage.h"
#include "proxy_event.h"
#include "proxy_response.h"
#include "routes.h"

#define FAAS__HTTP_API_INVOKE_PREFIX "/2015-03-31/functions/"
/* Event texts up to this size keep their buffer. */
#define FAAS__HTTP_EVENT_KEEP (64u * 1024u)
/* Event tree arenas up to this size are kept between requests. */
#define FAAS__HTTP_TREE_KEEP (256u * 1024u)

typedef struct http_trigger {
	faas_trigger base; /* first: the core casts back */
	faas__http_server *srv;
	bool management_api;
	faas_http_options opts; /* for the management routes; bearer_token is a copy */
	/* Per-request scratch, reused: the loop runs one request at a time. */
	faas__scratch scratch;
	faas__buf event;    /* the event's text; between requests, printed results */
	faas__arena nodes;   /* the event's tree */
	faas__proxy_out out; /* the answer's headers and decoded body */
	faas__proxy_clock clock;
	char id[FAAS__ID_LEN + 1];
} http_trigger;

static const faas__trigger_ops http_ops;

/* ---- options ---- */

int faas_http_options_init(faas_http_options *opts, unsigned int version)
{
	faas_http_options init = FAAS_HTTP_OPTIONS_INIT;

	if (!opts || version != FAAS_HTTP_OPTIONS_VERSION)
		return FAAS_EINVAL;
	*opts = init;
	return 0;
}

static int check_token(faas_runtime *rt, const char *name, const char *token)
{
	size_t n = strlen(token);

	if (n == 0)
		return faas__fail(rt, FAAS_EINVAL, "%s: bearer_token: empty", name);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)token[i];

		if (c <= 0x20 || c >= 0x7f)
			return faas__fail(rt, FAAS_EINVAL,
			                  "%s: bearer_token: only visible ASCII characters", name);
	}
	return 0;
}

static int check_options(faas_runtime *rt, const char *name, const faas_http_options *o)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;

	if (o->version != FAAS_HTTP_OPTIONS_VERSION)
		return faas__fail(rt, FAAS_EINVAL, "%s: version: expected %u, got %u", name,
		                  FAAS_HTTP_OPTIONS_VERSION, o->version);
	if (o->host && uv_ip4_addr(o->host, 0, &a4) != 0 && uv_ip6_addr(o->host, 0, &a6) != 0)
		return faas__fail(rt, FAAS_EINVAL,
		                  "%s: host: \"%s\" is not an IPv4 or IPv6 address", name, o->host);
	if (o->max_header_bytes < FAAS__HTTP_MIN_HEADER_BYTES ||
	    o->max_header_bytes > FAAS__HTTP_MAX_HEADER_BYTES)
		return faas__fail(rt, FAAS_EINVAL, "%s: max_header_bytes: expected %u..%u, got %zu",
		                  name, FAAS__HTTP_MIN_HEADER_BYTES, FAAS__HTTP_MAX_HEADER_BYTES,
		                  o->max_header_bytes);
	if (o->max_connections == 0)
		return faas__fail(rt, FAAS_EINVAL, "%s: max_connections: expected at least 1",
		                  name);
	if (o->header_timeout_ms == 0)
		return faas__fail(rt, FAAS_EINVAL, "%s: header_timeout_ms: expected at least 1",
		                  name);
	if (o->body_timeout_ms == 0)
		return faas__fail(rt, FAAS_EINVAL, "%s: body_timeout_ms: expected at least 1",
		                  name);
	if (o->idle_timeout_ms == 0)
		return faas__fail(rt, FAAS_EINVAL, "%s: idle_timeout_ms: expected at least 1",
		                  name);
	if (o->bearer_token)
		return check_token(rt, name, o->bearer_token);
	return 0;
}

/* ---- requests ---- */

static void on_fired(faas_rule *rule, const faas_activation *act, int err, void *arg)
{
	http_trigger *h = (http_trigger *)rule->trigger;

	faas__proxy_answer(&h->out, arg, act, err);
}

static void answer_no_route(faas__http_exchange *x, const faas__route_match *m)
{
	static const faas__http_header ct = {"Content-Type", 12, "application/json", 16};
	static const char body[] = "{\"message\":\"Method Not Allowed\"}";
	faas__http_header hs[2];
	char allow[80];
	size_t n;

	if (!m->path_matched)
		return faas__http_respond_error(x, 404, "Not Found");
	n = faas__route_allow_text(allow, sizeof(allow), m->allow);
	hs[0] = ct;
	hs[1].name = "Allow";
	hs[1].name_len = 5;
	hs[1].value = allow;
	hs[1].value_len = n;
	faas__http_respond(x, 405, hs, 2, body, sizeof(body) - 1);
}

static uint64_t body_limit(void *arg, const faas__http_request *req)
{
	http_trigger *h = arg;
	faas_runtime *rt = h->base.rt;
	size_t pre = sizeof(FAAS__HTTP_API_INVOKE_PREFIX) - 1;
	faas_fn *fn = NULL;
	faas__route_match m;

	if (h->management_api && strncmp(req->path, FAAS__HTTP_API_INVOKE_PREFIX, pre) == 0) {
		char name[FAAS__NAME_MAX + 1];
		size_t len = strcspn(req->path + pre, "/");

		if (len <= FAAS__NAME_MAX) {
			memcpy(name, req->path + pre, len);
			name[len] = '\0';
			fn = faas_fn_lookup(rt, name);
		}
	} else if (faas__route_split_path(&h->scratch, req->raw_path)) {
		faas__route_find(&m, &h->base, &h->scratch, req->method);
		if (m.rule)
			fn = faas_fn_lookup(rt, m.rule->function);
	}
	return fn ? fn->payload_limit : FAAS__HTTP_DEFAULT_BODY_LIMIT;
}

/* Build the event of req for rule (a tree when tree, else text) and fire
 * the rule with it. Returns what faas__rule_fire returns, or 1 when the
 * event could not be built (out of memory). */
static int fire(http_trigger *h, faas_rule *rule, const faas__http_request *req, bool tree,
                faas__http_exchange *x, faas_ctx **ctx)
{
	faas__proxy_request in;
	faas__tree_sink ts;
	faas__text_sink xs;
	int rc;

	faas__idgen_next(&h->base.rt->ids, h->id);
	in.req = req;
	in.route = rule->route_data;
	in.request_id = h->id;
	in.request_time = faas__proxy_request_time(&h->clock, req->received_ms);
	if (tree) {
		/* The tree points into the request, the scratch and the arena:
		 * an inline function runs within faas__rule_fire, and the
		 * invocation drops the event before returning. */
		faas__tree_sink_init(&ts, &h->nodes, FAAS__HTTP_TREE_KEEP);
		if (faas__proxy_event(&ts.base, &h->scratch, &in) != 0)
			return 1;
		rc = faas__rule_fire(rule, ts.root, NULL, 0, on_fired, x, ctx);
		faas__arena_reset(&h->nodes, FAAS__HTTP_TREE_KEEP);
		return rc;
	}
	faas__text_sink_init(&xs, &h->event);
	if (faas__proxy_event(&xs.base, &h->scratch, &in) != 0)
		return 1;
	return faas__rule_fire(rule, NULL, h->event.data, h->event.len, on_fired, x, ctx);
}

static void dispatch(void *arg, faas__http_exchange *x)
{
	http_trigger *h = arg;
	const faas__http_request *req = faas__http_request_of(x);
	faas_ctx *ctx = NULL;
	faas__route_match m;
	faas_fn *fn;
	int rc;

	h->base.stats.fired++;
	if (h->management_api && faas__http_api_handle(x, &h->base, &h->opts))
		return;
	if (!faas__route_split_path(&h->scratch, req->raw_path))
		return faas__http_respond_error(x, 503, "Service Unavailable");
	faas__route_find(&m, &h->base, &h->scratch, req->method);
	if (!m.rule)
		return answer_no_route(x, &m);
	fn = faas_fn_lookup(h->base.rt, m.rule->function);
	rc = fire(h, m.rule, req, fn && faas__invoke_on_loop(fn), x, &ctx);
	faas__buf_shrink(&h->event, FAAS__HTTP_EVENT_KEEP);
	if (rc == 1 || rc == FAAS_ESTOPPED)
		return faas__http_respond_error(x, 503, "Service Unavailable");
	if (rc != 0)
		return faas__http_respond_error(x, 500, "Internal server error");
	faas__http_exchange_on_abort(x, faas__ctx_cancel_cb, ctx);
}

static void on_server_closed(void *arg)
{
	http_trigger *h = arg;

	faas__trigger_closed(&h->base);
}

/* ---- the trigger ---- */

static void http_stop(faas_trigger *t)
{
	faas__http_server_stop(((http_trigger *)t)->srv);
}

static void http_close(faas_trigger *t)
{
	faas__http_server_close(((http_trigger *)t)->srv);
}

static void http_destroy(faas_trigger *t)
{
	http_trigger *h = (http_trigger *)t;

	faas__http_server_release(h->srv);
	free((char *)h->opts.bearer_token);
	faas__scratch_free(&h->scratch);
	faas__buf_free(&h->event);
	faas__arena_free(&h->nodes);
	faas__proxy_out_free(&h->out);
	free(h);
}

static const faas__trigger_ops http_ops = {
    .kind = "http",
    .stop = http_stop,
    .close = http_close,
    .destroy = http_destroy,
    .route_parse = faas__route_parse,
    .route_free = faas__route_free,
};

static const faas__http_server_cbs server_cbs = {body_limit, dispatch, on_server_closed};

/* What the server needs of the trigger's options; the rest (management
 * routes, bearer token) stays here. */
static faas__http_server_options server_options(const faas_http_options *o)
{
	faas__http_server_options so;

	memset(&so, 0, sizeof(so));
	so.host = o->host ? o->host : FAAS_HTTP_DEFAULT_HOST;
	so.port = o->port;
	so.max_header_bytes = o->max_header_bytes;
	so.max_connections = o->max_connections;
	so.header_timeout_ms = o->header_timeout_ms;
	so.body_timeout_ms = o->body_timeout_ms;
	so.idle_timeout_ms = o->idle_timeout_ms;
	return so;
}

/* A trigger without its server yet. Returns 0, 1 when out of memory, or
 * what faas__trigger_init returned (its error is set). */
static int trigger_alloc(http_trigger **out, faas_runtime *rt, const char *name,
                         const faas_http_options *opts)
{
	http_trigger *h = calloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	if (!h)
		return 1;
	rc = faas__trigger_init(&h->base, &http_ops, rt, name);
	if (rc != 0) {
		free(h);
		return rc;
	}
	h->management_api = opts->management_api;
	h->out.print = &h->event;
	/* Keep the options the management routes read. */
	h->opts = *opts;
	h->opts.host = NULL;
	h->opts.bearer_token = NULL;
	if (opts->bearer_token && !(h->opts.bearer_token = faas__strdup(opts->bearer_token))) {
		faas__trigger_abort(&h->base);
		return 1;
	}
	*out = h;
	return 0;
}

int faas_trigger_http_new(faas_trigger **out, faas_runtime *rt, const char *name,
                          const faas_http_options *opts)
{
	faas_http_options defaults = FAAS_HTTP_OPTIONS_INIT;
	faas__http_server_options so;
	char err[FAAS__ERRMSG_SIZE];
	http_trigger *h;
	int rc;

	if (out)
		*out = NULL;
	if (!rt)
		return faas__fail(NULL, FAAS_EINVAL, "faas_trigger_http_new: rt is NULL");
	if (!opts)
		opts = &defaults;
	rc = check_options(rt, name ? name : "(null)", opts);
	if (rc != 0)
		return rc;
	rc = trigger_alloc(&h, rt, name, opts);
	if (rc == 1)
		return faas__fail(rt, FAAS_ENOMEM, "out of memory");
	if (rc != 0)
		return rc;
	so = server_options(opts);
	rc = faas__http_server_new(&h->srv, rt->loop, &so, &server_cbs, h, err, sizeof(err));
	if (rc != 0) {
		faas__fail(rt, rc, "%s: %s", name, err);
		faas__trigger_abort(&h->base);
		return rc;
	}
	if (out)
		*out = &h->base;
	return 0;
}

uint16_t faas_trigger_http_port(const faas_trigger *trigger)
{
	if (!trigger || trigger->ops != &http_ops)
		return 0;
	return faas__http_server_port(((const http_trigger *)trigger)->srv);
}

int faas__http_trigger_new_detached(faas_trigger **out, faas_runtime *rt, const char *name,
                                    const faas_http_options *opts, faas__http_server **srv)
{
	faas__http_server_options so = server_options(opts);
	http_trigger *h;
	int rc = trigger_alloc(&h, rt, name, opts);

	if (rc != 0)
		return rc == 1 ? FAAS_ENOMEM : rc;
	rc = faas__http_server_new_detached(&h->srv, &so, &server_cbs, h);
	if (rc != 0) {
		faas__trigger_abort(&h->base);
		return rc;
	}
	*out = &h->base;
	*srv = h->srv;
	return 0;
}
