/*
 * libfaas — cron expressions: parse one, ask when it fires next.
 *
 * Dialect (Vixie cron, with an optional seconds field):
 *
 *   [second] minute hour day-of-month month day-of-week
 *
 *   field          values
 *   second         0-59           (only in the 6-field form; 5 fields mean second 0)
 *   minute         0-59
 *   hour           0-23
 *   day-of-month   1-31
 *   month          1-12 or JAN-DEC
 *   day-of-week    0-7 or SUN-SAT (0 and 7 are both Sunday)
 *
 * Each field is a comma-separated list of items; an item is `*`, a value
 * `5`, a range `1-5`, and any of these with a step: `*`/15 (every 15th),
 * `10-50/5`, or `5/15` (which means 5-max/15). Names are case-insensitive and work in
 * ranges (`MON-FRI`); a range ending with the name SUN ends on Sunday, so
 * `MON-SUN` is every day. Steps run from 1 to the field's span (60 for
 * minutes). Fields are separated by spaces or tabs; leading and trailing
 * blanks are ignored.
 *
 * Macros: @yearly and @annually (0 0 1 1 *), @monthly (0 0 1 * *), @weekly
 * (0 0 * * 0), @daily and @midnight (0 0 * * *), @hourly (0 * * * *).
 *
 * Day matching follows Vixie cron: when both day-of-month and day-of-week
 * are restricted, a day matches if EITHER does ("0 0 13 * FRI" fires on
 * every 13th and on every Friday); otherwise both must. A field counts as
 * restricted unless its text starts with `*` (so `*`/2 counts as `*`).
 *
 * A schedule that can never fire ("0 0 30 2 *", "0 0 31 4,6 *") is refused
 * by faas_cron_parse() with the message "never fires".
 *
 * Time zones. faas_cron_next() evaluates the schedule in UTC, or with
 * local_time in the process's local time zone (TZ, /etc/localtime), read
 * through localtime_r() and mktime(); libfaas never changes TZ. Around
 * daylight-saving changes:
 *   - spring forward: a local time that does not exist (02:30 on the day
 *     clocks jump from 02:00 to 03:00) fires at the first instant after the
 *     gap (03:00 local), once, however many skipped times matched;
 *   - fall back: a local time that occurs twice (01:30 on the day clocks go
 *     from 02:00 back to 01:00) fires once, at its first occurrence. So a
 *     schedule that matches every hour, or every 15 minutes, fires through
 *     the first pass of the repeated hour and is silent during the second.
 * A time already past its first occurrence does not fire again either when
 * faas_cron_next() is asked from inside the second pass.
 *
 * Limits: an expression is at most FAAS_CRON_EXPR_MAX bytes; the search for
 * the next fire time looks FAAS_CRON_SEARCH_YEARS years ahead (enough for a
 * 29 February on a given weekday) and covers times up to the end of year
 * 9999.
 *
 * A parsed faas_cron is immutable: any thread may use it, several at once.
 */
#ifndef FAAS_CRON_H
#define FAAS_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/** Longest accepted expression, in bytes (the terminating NUL excluded). */
#define FAAS_CRON_EXPR_MAX 1024
/** faas_cron_next() gives up after looking this many years ahead. */
#define FAAS_CRON_SEARCH_YEARS 28
/** The latest time faas_cron_next() works with: 9999-12-31T23:59:59Z. */
#define FAAS_CRON_MAX_EPOCH INT64_C(253402300799)

/** A parsed cron expression. Opaque. */
typedef struct faas_cron faas_cron;

FAAS_BEGIN_DECLS

/**
 * Parse a cron expression.
 *
 * @param out receives the schedule, the caller's; free it with
 *        faas_cron_free(). Set to NULL on error.
 * @param expr the expression (see the dialect above)
 * @param errbuf on error, receives a message naming the field, e.g.
 *        "day-of-month: 32 out of range 1..31"; may be NULL
 * @param errlen size of errbuf (the message is truncated to fit)
 * @return 0; FAAS_EINVAL (bad expression, or one that never fires);
 *         FAAS_ENOMEM. Any thread may call it.
 */
FAAS_EXTERN int faas_cron_parse(faas_cron **out, const char *expr, char *errbuf, size_t errlen);

/**
 * The first time the schedule fires strictly after a given time.
 *
 * @param c a parsed schedule
 * @param after_epoch_s seconds since the epoch, 0..FAAS_CRON_MAX_EPOCH
 * @param local_time evaluate in the process's local time zone (see above)
 *        instead of UTC
 * @param next_out receives the fire time, in seconds since the epoch
 * @return 0; FAAS_EINVAL (NULL argument, after_epoch_s out of range);
 *         FAAS_ENOTFOUND (no fire time within FAAS_CRON_SEARCH_YEARS years,
 *         or none before the end of year 9999; *next_out is untouched).
 *         Any thread may call it.
 */
FAAS_EXTERN int faas_cron_next(const faas_cron *c, int64_t after_epoch_s, bool local_time,
			       int64_t *next_out);

/** Free a schedule. NULL is a no-op. */
FAAS_EXTERN void faas_cron_free(faas_cron *c);

FAAS_END_DECLS

#endif /* FAAS_CRON_H */
