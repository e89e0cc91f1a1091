/* Log lines: the stderr sink and the START / handler lines / END / REPORT
 * sequence every completed invocation hands to the runtime's sink. */
#include <stdio.h>
#include <string.h>

#include "hooks.h"

/* A REPORT line is about 200 bytes; this leaves room for long ids and numbers. */
#define FAAS__LINE_MAX 512

static void stderr_write(faas_log_sink *self, const char *request_id, const char *function,
			 const char *line, size_t len)
{
	(void)self;
	(void)request_id;
	(void)function;
	/* One fprintf per line so concurrent writers (other threads of the host)
	 * do not interleave inside a line. */
	fprintf(stderr, "%.*s\n", (int)len, line);
}

static faas_log_sink stderr_sink = {FAAS_LOG_SINK_VERSION, stderr_write};

faas_log_sink *faas_log_sink_stderr(void)
{
	return &stderr_sink;
}

void faas__log_emit(faas_runtime *rt, const faas_activation *act, const char *fn_version)
{
	faas_log_sink *sink = rt->opts.log_sink;
	char line[FAAS__LINE_MAX];
	const char *p;
	int n;

	if (!sink || !sink->write || !act->started)
		return;
	n = snprintf(line, sizeof(line), "START RequestId: %s Version: %s", act->id, fn_version);
	sink->write(sink, act->id, act->function, line, (size_t)n);
	for (p = act->logs; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		sink->write(sink, act->id, act->function, p, len);
		p += len + (nl ? 1 : 0);
	}
	n = snprintf(line, sizeof(line), "END RequestId: %s", act->id);
	sink->write(sink, act->id, act->function, line, (size_t)n);
	n = faas_activation_format_report(line, sizeof(line), act);
	if (n > 0)
		sink->write(sink, act->id, act->function, line,
			    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
