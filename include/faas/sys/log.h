/*
 * libfaas — the log sink table.
 *
 * Every line an invocation produces — START, the handler's own lines, END and
 * REPORT, in Lambda's format — is handed to the runtime's log sink when the
 * invocation completes, on the loop thread, one call per line.
 */
#ifndef FAAS_SYS_LOG_H
#define FAAS_SYS_LOG_H

#include <stddef.h>

#include "../common.h"

/** The version of this table's layout. */
#define FAAS_LOG_SINK_VERSION 1

typedef struct faas_log_sink faas_log_sink;

/** A log sink: a versioned table of function pointers. Start from
 *  FAAS_LOG_SINK_INIT or faas_log_sink_init(), then fill write. */
struct faas_log_sink {
	/** FAAS_LOG_SINK_VERSION. */
	unsigned int version;

	/** Receive one line (without its newline; not NUL-terminated: use len).
	 *  request_id and function are borrowed for the duration of the call.
	 *  Called on the loop thread. */
	void (*write)(faas_log_sink *self, const char *request_id,
		      const char *function, const char *line, size_t len);
};

/** A table with the current version and write NULL. */
#define FAAS_LOG_SINK_INIT {FAAS_LOG_SINK_VERSION, NULL}

FAAS_BEGIN_DECLS

/**
 * Fill sink with the current version and write NULL (the same bytes as
 * FAAS_LOG_SINK_INIT). The table stays the caller's.
 * @param version FAAS_LOG_SINK_VERSION
 * @return 0 or FAAS_EINVAL (NULL sink or unknown version). Any thread.
 */
FAAS_EXTERN int faas_log_sink_init(faas_log_sink *sink, unsigned int version);

/**
 * A sink that writes each line, newline-terminated, to standard error.
 *
 * @return a static sink; never NULL. Any thread may call it.
 */
FAAS_EXTERN faas_log_sink *faas_log_sink_stderr(void);

FAAS_END_DECLS

#endif /* FAAS_SYS_LOG_H */
