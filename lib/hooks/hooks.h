/*
 * libfaas hooks — the default billing hook and the log sink's REPORT lines.
 */
#ifndef FAAS_LIB_HOOKS_HOOKS_H
#define FAAS_LIB_HOOKS_HOOKS_H

#include "core.h"

/* ---- billing (billing.c) ---- */
int faas__billing_default_new(faas_billing_hook **out, const faas_pricing *pricing);
bool faas__billing_is_default(const faas_billing_hook *hook);
uint64_t faas__billed_ms(uint64_t duration_us, uint32_t granularity_ms);

/* ---- logs (log.c) ---- */
void faas__log_emit(faas_runtime *rt, const faas_activation *act, const char *fn_version);

/* ---- logs (log.c) ---- */
void faas__log_emit(faas_runtime *rt, const faas_activation *act, const char *fn_version);

#endif /* FAAS_LIB_HOOKS_HOOKS_H */
