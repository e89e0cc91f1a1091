/*
 * libfaas gateway — the HTTP trigger's routes (routes.c): parsing a route
 * spec ("GET /users/{id}", "ANY /{proxy+}"), splitting a request path into
 * segments, and choosing the rule whose route matches a request.
 *
 * Matching: the most specific route wins, segment by segment (a literal
 * beats {param}, which beats {proxy+}); on the same path a route with the
 * request's method beats ANY; then the rule created first. HEAD matches only
 * HEAD or ANY routes. A trailing slash is ignored ("/a/" is "/a"). {proxy+}
 * needs at least one segment. Path segments are matched percent-decoded,
 * '+' staying '+'; invalid escapes stay as sent.
 */
#ifndef FAAS_LIB_GATEWAY_ROUTES_H
#define FAAS_LIB_GATEWAY_ROUTES_H

#include "scratch.h"
#include "trigger_internal.h"

#define FAAS__ROUTE_MAX 1024u /* characters of a route string */

enum { FAAS__SEG_LITERAL = 0, FAAS__SEG_PARAM = 1, FAAS__SEG_PROXY = 2 };

typedef struct faas__route_seg {
	int kind;
	const char *text; /* decoded literal, or the parameter's name */
	size_t len;
} faas__route_seg;

typedef struct faas__route {
	char method[8];   /* "GET"..., or "ANY" */
	const char *path; /* the template as written: the event's "resource" */
	size_t nseg;
	faas__route_seg seg[];
} faas__route;

typedef struct faas__route_match {
	faas_rule *rule;   /* the best rule, or NULL */
	bool path_matched; /* some enabled rule's path matched (405 rather than 404) */
	unsigned allow;    /* the methods of the rules whose path matched, a bit each */
} faas__route_match;

/* Parse spec into a route (one malloc, freed with free()). Returns 0, or
 * FAAS_EINVAL with *why saying what is wrong, or FAAS_ENOMEM. */
int faas__route_new(faas__route **out, const char *spec, const char **why);

/* The trigger ops: faas__route_new, plus the rule's error message and the
 * refusal of a route that another rule of t already has. */
int faas__route_parse(faas_trigger *t, const char *spec, void **data);
void faas__route_free(void *data);

/* Split the raw path into decoded segments in s->segs (the decode buffer is
 * reset first; a trailing slash dropped). Returns false when out of memory. */
bool faas__route_split_path(faas__scratch *s, const char *raw);

/* Choose among t's enabled rules for the path split into s. */
void faas__route_find(faas__route_match *m, const faas_trigger *t, const faas__scratch *s,
                      const char *method);

/* "GET, POST" for m->allow, written into out (size bytes); returns its length. */
size_t faas__route_allow_text(char *out, size_t size, unsigned allow);

#endif /* FAAS_LIB_GATEWAY_ROUTES_H */
