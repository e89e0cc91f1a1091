/*
 * libfaas gateway — the layer's header for the layers above it (runtime,
 * manifest): the trigger core it builds on, and the metrics text. The
 * gateway's own files include the headers of the parts they use instead.
 */
#ifndef FAAS_LIB_GATEWAY_GATEWAY_H
#define FAAS_LIB_GATEWAY_GATEWAY_H

#include "http_server.h"
#include "metrics.h"
#include "trigger_internal.h"

/* An HTTP trigger whose server has no listener: the fuzz target feeds its
 * connections by hand (http_trigger.c). */
int faas__http_trigger_new_detached(faas_trigger **out, faas_runtime *rt, const char *name,
                                    const faas_http_options *opts, faas__http_server **srv);

#endif /* FAAS_LIB_GATEWAY_GATEWAY_H */
