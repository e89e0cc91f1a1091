/* Civil (proleptic Gregorian, UTC) dates from Unix time and back, and the
 * four timestamp texts the events and HTTP answers use, without libc's time
 * functions: gmtime_r takes glibc's time zone lock and strftime the locale
 * machinery, and these run on the invocation path. Libc only. */
#ifndef FAAS_UTIL_DATE_H
#define FAAS_UTIL_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Output sizes, the terminating NUL included. */
#define FAAS__DATE_IMF_SIZE 30u    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define FAAS__DATE_ISO_SIZE 21u    /* "2026-12-04T18:30:00Z" */
#define FAAS__DATE_ISO_MS_SIZE 25u /* "2026-12-04T18:30:00.123Z" */
#define FAAS__DATE_APIGW_SIZE 27u  /* "04/Dec/2026:18:30:00 +0000" */

/* Years the texts can show: four digits. */
#define FAAS__DATE_YEAR_MIN 0
#define FAAS__DATE_YEAR_MAX 9999

/* A UTC civil time. month 1..12, day 1..31, weekday 0 (Sunday)..6. */
typedef struct faas__civil {
	int64_t year;
	int month, day, hour, minute, second, weekday;
} faas__civil;

bool faas__is_leap(int64_t year);
/* Days in month (1..12) of year. */
int faas__days_in_month(int64_t year, int month);

/* Days since 1970-01-01 of year-month-day (month 1..12, day 1..31; out of
 * range days count on: Feb 30 is Mar 1 or 2). Exact for |year| < 2^40. */
int64_t faas__days_from_civil(int64_t year, int month, int day);
/* The date days after 1970-01-01 (negative: before). */
void faas__civil_from_days(int64_t days, int64_t *year, int *month, int *day);
/* 0 (Sunday)..6 of the day days after 1970-01-01 (a Thursday). */
int faas__weekday_from_days(int64_t days);

/* The civil time of a Unix time (seconds; negative is before 1970). */
void faas__civil_from_unix(faas__civil *out, int64_t unix_s);
/* The Unix time of a civil time (weekday ignored). */
int64_t faas__unix_from_civil(const faas__civil *c);

/* The texts. Each returns the length written (one less than its size), or
 * 0 with out set to "" if the year is outside FAAS__DATE_YEAR_MIN..MAX. */

/* IMF-fixdate (RFC 9110 §5.6.7), the HTTP Date header. */
size_t faas__date_imf(char out[FAAS__DATE_IMF_SIZE], int64_t unix_s);
/* ISO 8601 / RFC 3339 to the second, EventBridge's "time". */
size_t faas__date_iso(char out[FAAS__DATE_ISO_SIZE], int64_t unix_s);
/* ISO 8601 with milliseconds, S3's "eventTime"; unix_ms in milliseconds. */
size_t faas__date_iso_ms(char out[FAAS__DATE_ISO_MS_SIZE], int64_t unix_ms);
/* API Gateway's requestTime (a CLF date). */
size_t faas__date_apigw(char out[FAAS__DATE_APIGW_SIZE], int64_t unix_s);

#endif /* FAAS_UTIL_DATE_H */
