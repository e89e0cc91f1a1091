/* Days to civil dates and back by H. Hinnant's algorithms (eras of 400
 * years, March-based years so the leap day is last), and the timestamp
 * texts written digit by digit. */
#include <string.h>

#include "date.h"

static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* Floor division, as C's truncates towards zero. */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

bool faas__is_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int faas__days_in_month(int64_t year, int month)
{
	static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && faas__is_leap(year))
		return 29;
	return month >= 1 && month <= 12 ? days[month - 1] : 0;
}

int64_t faas__days_from_civil(int64_t year, int month, int day)
{
	int64_t y = year - (month <= 2), era = floor_div(y, 400);
	int64_t yoe = y - era * 400;                                            /* 0..399 */
	int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1; /* 0..365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* 0..146096 */

	return era * 146097 + doe - 719468;
}

void faas__civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t z = days + 719468, era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;                                      /* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
	int64_t mp = (5 * doy + 2) / 153;                                    /* 0 is March */
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = yoe + era * 400 + (m <= 2);
}

int faas__weekday_from_days(int64_t days)
{
	/* 1970-01-01 was a Thursday (4). */
	return (int)((days % 7 + 11) % 7);
}

void faas__civil_from_unix(faas__civil *out, int64_t unix_s)
{
	int64_t days = floor_div(unix_s, 86400), secs = unix_s - days * 86400;

	faas__civil_from_days(days, &out->year, &out->month, &out->day);
	out->hour = (int)(secs / 3600);
	out->minute = (int)(secs / 60 % 60);
	out->second = (int)(secs % 60);
	out->weekday = faas__weekday_from_days(days);
}

int64_t faas__unix_from_civil(const faas__civil *c)
{
	return faas__days_from_civil(c->year, c->month, c->day) * 86400 + c->hour * 3600 +
	       c->minute * 60 + c->second;
}

/* ---- the texts ---- */

/* Unix seconds of 0000-01-01T00:00:00 and 10000-01-01T00:00:00. */
#define FIRST_S (-719528 * INT64_C(86400))
#define END_S (2932897 * INT64_C(86400))

static char *put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

static char *put4(char *p, int64_t y)
{
	p = put2(p, (int)(y / 100));
	return put2(p, (int)(y % 100));
}

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* "HH:MM:SS" */
static char *put_clock(char *p, const faas__civil *c)
{
	p = put2(p, c->hour);
	*p++ = ':';
	p = put2(p, c->minute);
	*p++ = ':';
	return put2(p, c->second);
}

/* "YYYY-MM-DDTHH:MM:SS" */
static char *put_iso(char *p, const faas__civil *c)
{
	p = put4(p, c->year);
	*p++ = '-';
	p = put2(p, c->month);
	*p++ = '-';
	p = put2(p, c->day);
	*p++ = 'T';
	return put_clock(p, c);
}

/* The civil time of unix_s if its year has four digits; else out is "". */
static bool civil_in_range(faas__civil *c, char *out, int64_t unix_s)
{
	if (unix_s < FIRST_S || unix_s >= END_S) {
		out[0] = '\0';
		return false;
	}
	faas__civil_from_unix(c, unix_s);
	return true;
}

static size_t finish(char *out, char *p)
{
	*p = '\0';
	return (size_t)(p - out);
}

size_t faas__date_imf(char out[FAAS__DATE_IMF_SIZE], int64_t unix_s)
{
	faas__civil c;
	char *p = out;

	if (!civil_in_range(&c, out, unix_s))
		return 0;
	p = put_str(p, day_names[c.weekday], 3);
	p = put_str(p, ", ", 2);
	p = put2(p, c.day);
	*p++ = ' ';
	p = put_str(p, month_names[c.month - 1], 3);
	*p++ = ' ';
	p = put4(p, c.year);
	*p++ = ' ';
	p = put_clock(p, &c);
	p = put_str(p, " GMT", 4);
	return finish(out, p);
}

size_t faas__date_iso(char out[FAAS__DATE_ISO_SIZE], int64_t unix_s)
{
	faas__civil c;
	char *p = out;

	if (!civil_in_range(&c, out, unix_s))
		return 0;
	p = put_iso(p, &c);
	*p++ = 'Z';
	return finish(out, p);
}

size_t faas__date_iso_ms(char out[FAAS__DATE_ISO_MS_SIZE], int64_t unix_ms)
{
	int64_t s = floor_div(unix_ms, 1000);
	int ms = (int)(unix_ms - s * 1000);
	faas__civil c;
	char *p = out;

	if (!civil_in_range(&c, out, s))
		return 0;
	p = put_iso(p, &c);
	*p++ = '.';
	*p++ = (char)('0' + ms / 100);
	p = put2(p, ms % 100);
	*p++ = 'Z';
	return finish(out, p);
}

size_t faas__date_apigw(char out[FAAS__DATE_APIGW_SIZE], int64_t unix_s)
{
	faas__civil c;
	char *p = out;

	if (!civil_in_range(&c, out, unix_s))
		return 0;
	p = put2(p, c.day);
	*p++ = '/';
	p = put_str(p, month_names[c.month - 1], 3);
	*p++ = '/';
	p = put4(p, c.year);
	*p++ = ':';
	p = put_clock(p, &c);
	p = put_str(p, " +0000", 6);
	return finish(out, p);
}
