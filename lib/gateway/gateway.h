/*
 * libfaas gateway — the layer's header for the layers above it (runtime,
 * manifest): the trigger core it builds on, and the metrics text. The
 * gateway's own files include the headers of the parts they use instead.
 */
#ifndef FAAS_LIB_GATEWAY_GATEWAY_H
#define FAAS_LIB_GATEWAY_GATEWAY_H

#include "metrics.h"
#include "trigger_internal.h"

#endif /* FAAS_LIB_GATEWAY_GATEWAY_H */
