/* The _init() functions of the hook tables (faas/sys/): a host fills its own
 * state backend, billing hook or log sink starting from one of these. */
#include <string.h>

#include "hooks.h"

/* Each template is static so its padding is zero: memcpy then gives the same
 * bytes as the _INIT macro in static storage, as the option structs do. */

int faas_state_backend_init(faas_state_backend *backend, unsigned int version)
{
	static const faas_state_backend tmpl = FAAS_STATE_BACKEND_INIT;

	if (!backend || version != FAAS_STATE_BACKEND_VERSION)
		return FAAS_EINVAL;
	memcpy(backend, &tmpl, sizeof(tmpl));
	return 0;
}

int faas_billing_hook_init(faas_billing_hook *hook, unsigned int version)
{
	static const faas_billing_hook tmpl = FAAS_BILLING_HOOK_INIT;

	if (!hook || version != FAAS_BILLING_HOOK_VERSION)
		return FAAS_EINVAL;
	memcpy(hook, &tmpl, sizeof(tmpl));
	return 0;
}

int faas_log_sink_init(faas_log_sink *sink, unsigned int version)
{
	static const faas_log_sink tmpl = FAAS_LOG_SINK_INIT;

	if (!sink || version != FAAS_LOG_SINK_VERSION)
		return FAAS_EINVAL;
	memcpy(sink, &tmpl, sizeof(tmpl));
	return 0;
}
