/* Activation records: creation, getters and the REPORT line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

static const char *const status_names[FAAS_STATUS_COUNT] = {
	"success", "application_error", "developer_error", "timeout",
	"oom",     "throttled",         "rejected",        "internal_error",
};

const char *faas_status_name(faas_status status)
{
	if ((unsigned int)status >= FAAS_STATUS_COUNT)
		return "unknown";
	return status_names[status];
}

bool faas_status_billed(faas_status status)
{
	switch (status) {
	case FAAS_STATUS_SUCCESS:
	case FAAS_STATUS_APPLICATION_ERROR:
	case FAAS_STATUS_DEVELOPER_ERROR:
	case FAAS_STATUS_TIMEOUT:
	case FAAS_STATUS_OOM:
		return true;
	default:
		return false;
	}
}

/* One allocation holds the record and its function name. */
faas_activation *faas__activation_new(const char *id, const char *function)
{
	size_t name_len = strlen(function) + 1;
	faas_activation *act = malloc(sizeof(*act) + name_len);

	if (!act)
		return NULL;
	memset(act, 0, sizeof(*act));
	atomic_init(&act->refs, 1);
	memcpy(act->id, id, FAAS__ID_LEN + 1);
	act->function = (char *)(act + 1);
	memcpy(act->function, function, name_len);
	return act;
}

void faas__activation_set_error(faas_activation *act, const char *type, const char *msg)
{
	free(act->error_type);
	free(act->error_message);
	act->error_type = faas__strdup(type ? type : FAAS__ERR_DEFAULT);
	act->error_message = faas__strdup(msg ? msg : "");
}

faas_activation *faas_activation_dup(const faas_activation *act)
{
	faas_activation *a = (faas_activation *)act;

	if (a)
		atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
	return a;
}

void faas_activation_free(faas_activation *act)
{
	if (!act || atomic_fetch_sub_explicit(&act->refs, 1, memory_order_acq_rel) != 1)
		return;
	cJSON_Delete(act->result);
	free(act->error_type);
	free(act->error_message);
	free(act->logs);
	free(act);
}

const char *faas_activation_id(const faas_activation *act)
{
	return act ? act->id : NULL;
}

const char *faas_activation_function(const faas_activation *act)
{
	return act ? act->function : NULL;
}

faas_status faas_activation_status(const faas_activation *act)
{
	return act ? act->status : FAAS_STATUS_INTERNAL_ERROR;
}

const cJSON *faas_activation_result(const faas_activation *act)
{
	return act ? act->result : NULL;
}

const char *faas_activation_error_type(const faas_activation *act)
{
	return act ? act->error_type : NULL;
}

const char *faas_activation_error_message(const faas_activation *act)
{
	return act ? act->error_message : NULL;
}

const char *faas_activation_logs(const faas_activation *act)
{
	if (!act)
		return NULL;
	return act->logs ? act->logs : "";
}

uint64_t faas_activation_start_us(const faas_activation *act)
{
	return act ? act->start_us : 0;
}

uint64_t faas_activation_end_us(const faas_activation *act)
{
	return act ? act->end_us : 0;
}

const faas_usage *faas_activation_usage(const faas_activation *act)
{
	return act ? &act->usage : NULL;
}

bool faas_activation_started(const faas_activation *act)
{
	return act ? act->started : false;
}

int faas_activation_format_report(char *buf, size_t size, const faas_activation *act)
{
	const faas_usage *u;
	uint64_t max_mb;
	int n;

	if (!act || (!buf && size > 0))
		return FAAS_EINVAL;
	u = &act->usage;
	/* Lambda never prints 0 MB; neither does a handler that allocated nothing
	 * through us, which still occupies its share of a real process. */
	max_mb = (u->max_memory_bytes + (1u << 20) - 1) >> 20;
	if (max_mb == 0)
		max_mb = 1;
	if (u->cold)
		n = snprintf(buf, size,
			     "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %llu ms\t"
			     "Memory Size: %u MB\tMax Memory Used: %llu MB\tInit Duration: %.2f ms",
			     act->id, (double)u->duration_us / 1000.0,
			     (unsigned long long)u->billed_ms, (unsigned int)u->memory_mb,
			     (unsigned long long)max_mb, (double)u->init_us / 1000.0);
	else
		n = snprintf(buf, size,
			     "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %llu ms\t"
			     "Memory Size: %u MB\tMax Memory Used: %llu MB",
			     act->id, (double)u->duration_us / 1000.0,
			     (unsigned long long)u->billed_ms, (unsigned int)u->memory_mb,
			     (unsigned long long)max_mb);
	return n < 0 ? FAAS_ESYSTEM : n;
}
